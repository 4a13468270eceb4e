import { test } from 'node:test';
import assert from 'node:assert/strict';

import { answeredBlock, knownFreeBlock, listPosition } from '../../frontend/lib/freeblock.js';
import { stateFromSnapshot } from '../../frontend/lib/state.js';
import { snapshot, wireList } from './fixtures.mjs';

// One Normal zone of 64 pages at pfn 4096 (0x1000), max_order 4; its one list is the
// order-3 Movable list [4096, 4104 (flagged)].
const zoneOf = (over = {}) => stateFromSnapshot(snapshot({ pages: 64, start: 4096, ...over })).zones[0];

test('a frame of a block the lists sent is placed in that block, with its place in its list', () => {
  const zone = zoneOf();
  assert.deepEqual(knownFreeBlock(zone, 4107, 4), { pfn: 4104, order: 3, migratetype: 'Movable', position: 1, length: 2, flagged: true });
  assert.deepEqual(knownFreeBlock(zone, 4096, 4), { pfn: 4096, order: 3, migratetype: 'Movable', position: 0, length: 2, flagged: false });
  assert.equal(knownFreeBlock(zone, 4112, 4), null, 'an allocated frame past the free blocks');
  assert.equal(knownFreeBlock(zone, 4107, 3), null, 'orders from max_order up are not tried');
});

test("a long list's unsent middle is unknown, except the v2 boundary's neighbours", () => {
  // Order 0: 40 single pages 4096..4135, 16 sent at each end, the boundary in front of
  // #20 (the hinted ones behind it); the order-3 list is gone.
  const entries = Array.from({ length: 40 }, (_, k) => [4096 + k, k >= 20]);
  const zone = zoneOf({ lists: [wireList(0, 'Movable', entries, 16, 20)] });
  assert.deepEqual(knownFreeBlock(zone, 4096 + 3, 4), { pfn: 4099, order: 0, migratetype: 'Movable', position: 3, length: 40, flagged: false });
  assert.deepEqual(knownFreeBlock(zone, 4096 + 30, 4), { pfn: 4126, order: 0, migratetype: 'Movable', position: 30, length: 40, flagged: true });
  assert.deepEqual(knownFreeBlock(zone, 4096 + 19, 4), { pfn: 4115, order: 0, migratetype: 'Movable', position: 19, length: 40, flagged: false });
  assert.deepEqual(knownFreeBlock(zone, 4096 + 20, 4), { pfn: 4116, order: 0, migratetype: 'Movable', position: 20, length: 40, flagged: true });
  assert.equal(knownFreeBlock(zone, 4096 + 17, 4), null, 'in the middle, not next to the boundary');
  assert.equal(knownFreeBlock(zone, 4096 + 22, 4), null);
});

// The model's answer about a frame (GET /api/sessions/{id}/page/{pfn}, backend/rest/nodeinfo.py PageOut).
const answer = (over = {}) => ({
  pfn: 4101, zone: 'Normal', state: 'free', allocated: false, block_pfn: 4100, block_order: 2,
  migratetype: 'Movable', list_migratetype: 'Movable', hinted: false, reported: false, in_flight: false,
  host: 'resident', head_flags: ['buddy'], head_page_type: [], head_page_type_value: 0, kdump_view: 'free',
  list_index: 36, list_length: 68, ...over,
});

test("the model's answer gives the block, its list place and its flag", () => {
  assert.deepEqual(answeredBlock(answer()), { pfn: 4100, order: 2, migratetype: 'Movable', position: 36, length: 68, flagged: false });
  assert.equal(answeredBlock(answer({ hinted: true }))?.flagged, true);
  assert.equal(answeredBlock(answer({ reported: true }))?.flagged, true);
});

test('no block from an answer about a frame not on a free list, or from no answer', () => {
  assert.equal(answeredBlock(answer({ allocated: true, state: 'allocated', list_migratetype: null, list_index: null, list_length: null })), null);
  assert.equal(answeredBlock(answer({ list_index: null })), null, 'no place in a list');
  assert.equal(answeredBlock(null), null);
  assert.equal(answeredBlock(undefined), null);
});

test("the inspector's list place counts from 1 at the head", () => {
  assert.equal(listPosition(answer()), ': #37 of 68 from the head');
  assert.equal(listPosition(answer({ list_index: 0, list_length: 1 })), ': #1 of 1 from the head');
  assert.equal(listPosition(answer({ list_index: null, list_length: null })), '');
  assert.equal(listPosition({}), '');
});
