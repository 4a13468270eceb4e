import { test } from 'node:test';
import assert from 'node:assert/strict';

import { batchBlockAt, describeHover, hoverMarks } from '../../frontend/lib/hover.js';
import { stateFromSnapshot } from '../../frontend/lib/state.js';
import { snapshot } from './fixtures.mjs';

// One Normal zone of 64 pages at pfn 4096 (0x1000): the first 16 free, the rest
// allocated, all resident on the host; max_order 4.
const state = () => stateFromSnapshot(snapshot({ pages: 64, start: 4096 }));

test('a hovered block is outlined with its buddy', () => {
  assert.deepEqual(hoverMarks(state(), { zone: 'Normal', pfn: 4100, order: 2, known: true }), [
    { zone: 'Normal', pfn: 4100, order: 2, role: 'block' },
    { zone: 'Normal', pfn: 4096, order: 2, role: 'buddy' },
  ]);
});

test('no buddy for a block of the largest order, or one whose buddy is outside the zone', () => {
  assert.deepEqual(hoverMarks(state(), { zone: 'Normal', pfn: 4104, order: 3, known: true }), [
    { zone: 'Normal', pfn: 4104, order: 3, role: 'block' },
  ]);
  const shifted = stateFromSnapshot(snapshot({ pages: 64, start: 4100 }));
  assert.deepEqual(hoverMarks(shifted, { zone: 'Normal', pfn: 4100, order: 2, known: true }), [
    { zone: 'Normal', pfn: 4100, order: 2, role: 'block' },
  ]);
});

test('a frame the page cannot place in a block is outlined alone, as a cursor', () => {
  assert.deepEqual(hoverMarks(state(), { zone: 'Normal', pfn: 4150, order: 0, known: false }), [
    { zone: 'Normal', pfn: 4150, order: 0, role: 'cursor' },
  ]);
});

test('the hover line names the block, its place in its list, its buddy, its state and the host', () => {
  const block = { migratetype: 'Movable', position: 1, length: 2 };
  assert.equal(
    describeHover(state(), { zone: 'Normal', pfn: 4104, order: 3, known: true, block }),
    'Normal block 0x1008 (4104) order 3 · Movable list #2 of 2 · buddy 0x1000 · free · host: resident',
  );
  assert.equal(
    describeHover(state(), { zone: 'Normal', pfn: 4150, order: 0, known: false }),
    'Normal pfn 0x1036 (4150) · allocated · host: resident',
  );
  assert.equal(describeHover(state(), { zone: 'DMA32', pfn: 0, order: 0, known: false }), '', 'a zone the state has not');
});

test('in a zone over 4 GiB the hover line says which frames the map pixel stands for', () => {
  // 2^20 + 64 pages at pfn 4096, pageblock order 2: the map draws 4 frames per pixel.
  const big = stateFromSnapshot(snapshot({ pages: 2 ** 20 + 64, start: 4096 }));
  assert.equal(
    describeHover(big, { zone: 'Normal', pfn: 4102, order: 0, known: false }),
    'Normal pfn 0x1006 (4102) · free · host: resident · map pixel: 4 frames, 0x1004–0x1007',
  );
  assert.match(describeHover(big, { zone: 'Normal', pfn: 4101, order: 0, known: true }), / · map pixel: 4 frames, 0x1004–0x1007$/);
  assert.match(describeHover(big, { zone: 'Normal', pfn: 4104, order: 3, known: true }), / · map: 2 pixels of 4 frames$/);
  assert.doesNotMatch(describeHover(state(), { zone: 'Normal', pfn: 4102, order: 0, known: false }), /map pixel/, 'one frame per pixel');
});

test('a flagged free page is "hinted", or "reported" under free page reporting', () => {
  const v2 = state();
  v2.zones[0].pageState[5] = 2;
  assert.match(describeHover(v2, { zone: 'Normal', pfn: 4101, order: 0, known: false }), / · hinted · /);
  const reporting = stateFromSnapshot(snapshot({ pages: 64, start: 4096, hinting: { strategy: 'reporting', next_run: null, pending: [] } }));
  reporting.zones[0].pageState[5] = 2;
  assert.match(describeHover(reporting, { zone: 'Normal', pfn: 4101, order: 0, known: false }), / · reported · /);
});

test('the block of the batch with the host that holds a frame', () => {
  const s = state();
  s.hinting.batch = [[4128, 3], [4144, 2]];
  assert.deepEqual(batchBlockAt(s, 4135), [4128, 3]);
  assert.deepEqual(batchBlockAt(s, 4147), [4144, 2]);
  assert.equal(batchBlockAt(s, 4136), undefined, 'past the end of the block');
  assert.equal(batchBlockAt(state(), 4128), undefined, 'no batch');
});
