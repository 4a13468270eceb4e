import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  decodeMessage,
  encodeCommand,
  PROTOCOL_VERSION,
  ProtocolError,
} from '../../frontend/lib/protocol.js';

const hello = { type: 'hello', protocol_version: 1, server: 'buddyscope 0.1.0', limits: { list_ends: 8 } };
const empty = { count: 0, head: [], tail: [] };
const snapshot = () => ({
  type: 'snapshot',
  seq: 1,
  scenario: 'small',
  step: 3,
  max_order: 2,
  pageblock_order: 1,
  migratetypes: ['Movable'],
  zones: [
    {
      name: 'Normal',
      start_pfn: 0,
      spanned_pages: 8,
      nr_free: [1, 1],
      free_pages: 3,
      free_lists: { Movable: [{ count: 1, head: [1], tail: [] }, { count: 1, head: [2], tail: [] }] },
    },
  ],
});

test('the page speaks protocol version 1', () => {
  assert.equal(PROTOCOL_VERSION, 1);
});

test('hello and snapshot decode', () => {
  assert.deepEqual(decodeMessage(JSON.stringify(hello)), hello);
  assert.equal(decodeMessage(JSON.stringify(snapshot())).zones[0].nr_free[1], 1);
  assert.deepEqual(decodeMessage('{"type":"ack","id":4}'), { type: 'ack', id: 4 });
});

test('another protocol version is refused with a reload hint', () => {
  assert.throws(
    () => decodeMessage(JSON.stringify({ ...hello, protocol_version: 2 })),
    (e) => e instanceof ProtocolError && /version 2/.test(e.message) && /reload/.test(e.message),
  );
});

test('garbage and unknown types are refused', () => {
  assert.throws(() => decodeMessage('not json'), ProtocolError);
  assert.throws(() => decodeMessage('[1,2]'), ProtocolError);
  assert.throws(() => decodeMessage('null'), ProtocolError);
  assert.throws(() => decodeMessage('{"type":"teapot"}'), /unknown message type "teapot"/);
});

test('a snapshot with the wrong number of orders is refused', () => {
  const bad = snapshot();
  bad.zones[0].nr_free = [1];
  assert.throws(() => decodeMessage(JSON.stringify(bad)), /nr_free has 1 orders, expected 2/);
  const bad2 = snapshot();
  bad2.zones[0].free_lists.Movable = [empty];
  assert.throws(() => decodeMessage(JSON.stringify(bad2)), /expected 2 free lists/);
});

test('a free list slice holding more pfns than its count is refused', () => {
  const bad = snapshot();
  bad.zones[0].free_lists.Movable[0] = { count: 1, head: [1, 3], tail: [] };
  assert.throws(() => decodeMessage(JSON.stringify(bad)), /more pfns than count/);
  const neg = snapshot();
  neg.zones[0].nr_free = [-1, 0];
  assert.throws(() => decodeMessage(JSON.stringify(neg)), /non-negative integer/);
});

test('commands carry their type and id', () => {
  assert.deepEqual(JSON.parse(encodeCommand('get_snapshot', 7)), { type: 'get_snapshot', id: 7 });
  assert.deepEqual(JSON.parse(encodeCommand('ping', 0, { type: 'spoof', x: 1 })), { type: 'ping', id: 0, x: 1 });
  assert.throws(() => encodeCommand('ping', -1), RangeError);
});
