import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  aggregate, belowMark, buddyinfoText, counted, decodeLive, FrameKinds, framesPerPixel, freePagesOf, hoverLine, kindLut,
  liveZones, orderColour, pixelCounts, recordReading, reportingRows,
} from '../../frontend/lib/live.js';
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

const framesPart = (over = {}) => ({
  frames: 8192,
  kinds: ['other', 'free', 'reported', 'anon'],
  zones: [{ node: 0, zone: 'Normal', start_pfn: 0, end_pfn: 8192, free: [0, 1], reported: [0, 0], free_pages: 2, reported_pages: 0, kinds: { free: 2 } }],
  reported_pages: 0,
  free_code: 64,
  reported_code: 96,
  read_ms: 1,
  derive_ms: 1,
  map: { frames: 8192, chunk: 4096, full: true, chunks: [0, 1], data: '' },
  ...over,
});

test('the frame summary and its map are checked', () => {
  assert.equal(decodeLive(JSON.stringify(reading({ frames: framesPart() }))).type, 'live');
  assert.equal(decodeLive(JSON.stringify(reading({ frames: null }))).type, 'live');
  assert.throws(() => decodeLive(JSON.stringify(reading({ frames: framesPart({ kinds: [1] }) }))), /kinds/);
  assert.throws(() => decodeLive(JSON.stringify(reading({ frames: framesPart({ free_code: 2 }) }))), /free_code/);
  const badMap = framesPart({ map: { frames: 12, chunk: 4096, full: true, chunks: [], data: '' } });
  assert.throws(() => decodeLive(JSON.stringify(reading({ frames: badMap }))), /map must have/);
});

test('a full map, then diffs of chunks, keep every frame\'s kind', () => {
  const held = new FrameKinds();
  const diff = { frames: 10, chunk: 4, full: false, chunks: [1], data: '' };
  assert.throws(() => held.apply(diff, new Uint8Array(4)), /before the map/);
  assert.deepEqual(held.apply({ ...diff, full: true, chunks: [0, 1, 2] }, new Uint8Array(10).fill(1)), [[0, 10]]);
  assert.deepEqual(held.apply({ ...diff, chunks: [1, 2] }, new Uint8Array([2, 2, 2, 2, 3, 3])), [[4, 8], [8, 10]]);
  assert.deepEqual([...held.kinds], [1, 1, 1, 1, 2, 2, 2, 2, 3, 3]);
  assert.throws(() => held.apply({ ...diff, chunks: [2] }, new Uint8Array(4)), /more bytes/);
  assert.throws(() => held.apply({ ...diff, chunks: [3] }, new Uint8Array(4)), /does not fit/);
});

test('frames per pixel grow with the machine, as powers of two', () => {
  assert.equal(framesPerPixel(1024 * 256), 1);
  assert.equal(framesPerPixel(6_553_600), 32); // this VM: 200 rows of 1024
  assert.equal(framesPerPixel(16 * 1024 * 1024), 64); // 64 GiB: 256 rows
});

test('a pixel shows its most common code, or a reported one if any page of it is reported', () => {
  const codes = { names: ['other', 'free', 'reported', 'anon'], freeCode: 64, reportedCode: 96 };
  const kinds = new Uint8Array([3, 3, 64, 0, 66, 66, 66, 105, 0, 0, 0, 0, 96, 96, 106, 0]);
  const out = new Uint8Array(4);
  aggregate(kinds, 4, 0, 16, out, 96);
  assert.deepEqual([...out], [3, 105, 0, 96]); // the lone reported page keeps its pixel
  assert.deepEqual(pixelCounts(kinds, 4, 1, codes), {
    first: 4, last: 7, counts: [['free order 2', 3], ['reported order 9', 1]],
  });
  const lut = kindLut(codes);
  assert.notEqual(lut.fill[96 + 9], lut.alt[96 + 9]); // reported is a checker, as in the simulated map
  assert.equal(lut.fill[64 + 3], lut.alt[64 + 3]);
  assert.notEqual(lut.fill[64], lut.fill[64 + 10]); // free blocks by order
  assert.equal(orderColour('free', 0).fill, '#e9e6dc'); // order 0: the simulated map's free colour
});

test('a count takes its noun in the singular only for one', () => {
  assert.equal(counted(1, 'page'), '1 page');
  assert.equal(counted(0, 'page'), '0 pages');
  assert.equal(counted(12345, 'free page'), '12,345 free pages');
  assert.equal(counted(2, 'pass', 'passes'), '2 passes');
});

test('the chart keeps the latest readings, in GiB', () => {
  const history = [[], [], []];
  const frames = (reported) => ({ reported_pages: reported, zones: [{ free_pages: 262144 }, { free_pages: 262144 }] });
  recordReading(history, 10, frames(262144), 2);
  recordReading(history, 11, frames(0), 2);
  recordReading(history, 12, frames(524288), 2);
  assert.deepEqual(history, [[11, 12], [0, 2], [2, 2]]);
});

test('the hover line names the pfns, their zones and their frames per kind', () => {
  const zones = [
    { zone: 'DMA32', start_pfn: 4096, end_pfn: 1048576 },
    { zone: 'Normal', start_pfn: 1048576, end_pfn: 2097152 },
  ];
  const pixel = { first: 1048560, last: 1048591, counts: [['free order 4', 16], ['anon', 16]] };
  assert.equal(hoverLine(pixel, zones), 'pfn 0xffff0–0x10000f (DMA32, Normal): free order 4 16, anon 16');
  assert.equal(hoverLine({ first: 0, last: 31, counts: [['other', 32]] }, zones), 'pfn 0x0–0x1f: other 32');
});
