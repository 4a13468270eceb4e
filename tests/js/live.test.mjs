import { test } from 'node:test';
import assert from 'node:assert/strict';

import { belowMark, buddyinfoText, decodeLive, freePagesOf, liveZones, reportingRows } from '../../frontend/lib/live.js';
import { ProtocolError } from '../../frontend/lib/protocol.js';

const zeros = () => Array(11).fill(0);
const reading = (over = {}) => ({
  type: 'live',
  seq: 3,
  time: 1795649889.49,
  buddyinfo: [
    { node: 0, zone: 'DMA', counts: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3], unusable_index: [0, 0, 0, 0, 0, 0, 0, 0, 0, 66, 200] },
    { node: 0, zone: 'Normal', counts: [12, 17, 248, 355, 1096, 1128, 343, 97, 44, 12, 28], unusable_index: zeros() },
  ],
  pagetypeinfo: {
    pageblock_order: 9,
    pages_per_block: 512,
    migratetypes: ['Unmovable', 'Movable'],
    orders: 11,
    free: [
      { node: 0, zone: 'Normal', migratetype: 'Movable', counts: [3, 9, 240, 350, 1090, 1120, 340, 97, 44, 12, 28], capped: Array(11).fill(false) },
      { node: 0, zone: 'Normal', migratetype: 'Unmovable', counts: [9, 8, 8, 5, 6, 8, 3, 0, 0, 0, 0], capped: Array(11).fill(false) },
    ],
    blocks: [],
  },
  zoneinfo: [{ node: 0, zone: 'Normal', free: 476047, min: 7057, low: 8821, high: 10585, spanned: 557056, present: 557056, managed: 557056 }],
  reporting: { page_reporting_order: '9' },
  reporting_extra: { reported_kib: '5085084', passes: '12' },
  messages: [],
  ...over,
});

test('a reading decodes; an error frame is told apart; a bad frame is refused', () => {
  assert.equal(decodeLive(JSON.stringify(reading())).type, 'live');
  assert.deepEqual(decodeLive('{"type":"error","id":null,"code":"not_found","message":"off"}'), {
    type: 'error', code: 'not_found', message: 'off',
  });
  assert.throws(() => decodeLive('nope'), ProtocolError);
  assert.throws(() => decodeLive('{"type":"snapshot"}'), /expected a live reading/);
  assert.throws(() => decodeLive(JSON.stringify(reading({ seq: 0 }))), /seq/);
  const bad = reading();
  bad.buddyinfo[1].counts = [1, -2];
  assert.throws(() => decodeLive(JSON.stringify(bad)), /buddyinfo\[1\]\.counts/);
  assert.throws(() => decodeLive(JSON.stringify(reading({ reporting_extra: { x: 1 } }))), /reporting_extra/);
  // A machine without any of the files: empty lists, null pagetypeinfo, messages.
  const none = reading({ buddyinfo: [], pagetypeinfo: null, zoneinfo: [], reporting: {}, reporting_extra: {}, messages: ['a', 'b'] });
  assert.deepEqual(decodeLive(JSON.stringify(none)).messages, ['a', 'b']);
});

test('zones join buddyinfo, zoneinfo watermarks and pagetypeinfo by node and zone', () => {
  const [dma, normal] = liveZones(reading());
  assert.equal(dma.label, 'DMA');
  assert.equal(dma.freePages, 256 + 512 + 3 * 1024);
  assert.equal(dma.watermarks, null); // zoneinfo has no DMA entry
  assert.deepEqual(dma.byType?.map((t) => t.counts), [zeros(), zeros()]);
  assert.deepEqual(normal.watermarks, { free: 476047, min: 7057, low: 8821, high: 10585 });
  assert.deepEqual(normal.byType?.map((t) => t.migratetype), ['Unmovable', 'Movable']);
  assert.deepEqual(normal.byType?.[1].counts, [3, 9, 240, 350, 1090, 1120, 340, 97, 44, 12, 28]);
  assert.deepEqual(normal.unusable, zeros());
  assert.equal(liveZones(reading({ pagetypeinfo: null }))[1].byType, null);
});

test('several nodes: zones are named with their node', () => {
  const r = reading();
  r.buddyinfo[1] = { ...r.buddyinfo[1], node: 1 };
  assert.deepEqual(liveZones(r).map((z) => [z.key, z.label]), [['0:DMA', 'node 0 DMA'], ['1:Normal', 'node 1 Normal']]);
  assert.equal(liveZones(r)[1].watermarks, null);
});

test("buddyinfo text is the kernel's format, which the /proc route reads back", () => {
  assert.equal(
    buddyinfoText(reading().buddyinfo),
    'Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n' +
      'Node 0, zone   Normal     12     17    248    355   1096   1128    343     97     44     12     28 \n',
  );
});

test('free pages, reporting rows and watermark position', () => {
  assert.equal(freePagesOf([1, 1, 1]), 7);
  assert.deepEqual(reportingRows(reading()), [
    { name: 'page_reporting_order', value: '9', optional: false },
    { name: 'reported_kib', value: '5085084', optional: true },
    { name: 'passes', value: '12', optional: true },
  ]);
  const w = { min: 10, low: 20, high: 30 };
  assert.deepEqual([5, 10, 25, 30].map((free) => belowMark({ ...w, free })), ['min', 'low', 'high', '']);
});
