import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  blockSize,
  boundaryOf,
  formatBytes,
  formatPfn,
  hostLane,
  layoutZone,
  listItems,
  migratetypeSlug,
} from '../../frontend/lib/layout.js';
import { stateFromSnapshot } from '../../frontend/lib/state.js';
import { MIGRATETYPES, snapshot, wireList } from './fixtures.mjs';

const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);
/** A wire list of `count` blocks, pfn = 1000 + i, flagged from index `flagFrom`. */
const list = (count, flagFrom = Infinity, ends = 16) =>
  wireList(0, 'Movable', range(0, count).map((i) => [1000 + i, i >= flagFrom]), ends);
const show = (items) =>
  items.map((i) =>
    i.kind === 'gap' ? `gap ${i.count}${i.boundaryInside ? ' |?' : ''}` : i.kind === 'boundary' ? '|' : `${i.pfn - 1000}${i.flagged ? 'h' : ''}`,
  );
/** Number of blocks a list of items stands for (drawn blocks + counted gaps). */
const represented = (items) =>
  items.reduce((n, item) => n + (item.kind === 'gap' ? item.count : item.kind === 'block' ? 1 : 0), 0);

test('a short list is drawn whole, head first, with its flags', () => {
  assert.deepEqual(show(listItems(list(3, 2), { maxEnds: 4 })), ['0', '1', '2h']);
  assert.deepEqual(listItems(list(0)), []);
});

test('a long list keeps both ends and counts the middle', () => {
  const items = listItems(list(1000), { maxEnds: 3 });
  assert.deepEqual(show(items), ['0', '1', '2', 'gap 994', '997', '998', '999']);
  assert.equal(items.at(-1).position, 999, 'the last block keeps its position in the list');
  assert.equal(represented(items), 1000);
});

test('a gap of exactly one known block shows the block instead', () => {
  const items = listItems(list(5), { maxEnds: 2 });
  assert.deepEqual(show(items), ['0', '1', '2', '3', '4']);
});

test('the v2 boundary is drawn before the first hinted block', () => {
  const l = list(10, 7);
  const b = { pfn: 1007, position: 7 };
  assert.deepEqual(show(listItems(l, { maxEnds: 20, boundary: b })), ['0', '1', '2', '3', '4', '5', '6', '|', '7h', '8h', '9h']);
});

test('a boundary at the head sentinel (null) sits after the tail: nothing hinted', () => {
  const l = list(3);
  assert.deepEqual(show(listItems(l, { boundary: { pfn: null, position: 3 } })), ['0', '1', '2', '|']);
});

test('the blocks around a boundary in a long list stay in view', () => {
  const l = list(30, 12);
  const items = listItems(l, { maxEnds: 2, radius: 2, boundary: { pfn: 1012, position: 12 } });
  assert.deepEqual(show(items), ['0', '1', 'gap 8', '10', '11', '|', '12h', '13h', 'gap 14', '28h', '29h']);
  assert.equal(represented(items), 30);
});

test('a boundary in the unsent middle is marked on the gap', () => {
  const l = list(100, 50); // server sends 16 per end
  const items = listItems(l, { maxEnds: 2, boundary: { pfn: 1050, position: null } });
  assert.deepEqual(show(items), ['0', '1', 'gap 96 |?', '98h', '99h']);
});

test('a focused block (hover) is kept in view', () => {
  const items = listItems(list(40), { maxEnds: 2, radius: 1, focus: [10] });
  assert.deepEqual(show(items), ['0', '1', 'gap 7', '9', '10', 'gap 27', '38', '39']);
});

test('every list shape is represented exactly by its items', () => {
  for (let count = 0; count < 45; count += 1) {
    for (const ends of [1, 3, 16]) {
      for (const maxEnds of [1, 2, 4, 10]) {
        for (const bpos of [null, 0, Math.floor(count / 2), count - 1]) {
          const l = list(count, bpos ?? Infinity, ends);
          const known = new Set([...l.head, ...l.tail]);
          const bpfn = bpos === null || count === 0 ? null : 1000 + bpos;
          const boundary = { pfn: bpfn, position: bpfn === null ? count : known.has(bpfn) ? bpos : null };
          const items = listItems(l, { maxEnds, boundary });
          const where = `count ${count} ends ${ends}/${maxEnds} boundary ${bpos}`;
          assert.equal(represented(items), count, where);
          assert.equal(items.filter((i) => i.kind === 'boundary').length + items.filter((i) => i.boundaryInside).length, 1, where);
          const blocks = items.filter((i) => i.kind === 'block');
          for (const b of blocks) assert.equal(b.pfn, 1000 + b.position, where);
          const positions = blocks.map((b) => b.position);
          assert.deepEqual(positions, [...positions].sort((a, b) => a - b), `head to tail order, ${where}`);
          for (let k = 1; k < items.length; k += 1) {
            assert.ok(!(items[k].kind === 'gap' && items[k - 1].kind === 'gap'), `no two gaps in a row, ${where}`);
          }
          const bi = items.findIndex((i) => i.kind === 'boundary');
          if (bi >= 0 && bpfn !== null) assert.equal(items[bi + 1].pfn, bpfn, where);
        }
      }
    }
  }
});

const v2Hinting = (over = {}) => ({
  strategy: 'hinting-v2',
  next_run: 0.1,
  pending: [],
  refcnt: 1,
  phase: 'fill',
  min_order: 2,
  zones: { Normal: { requested: true, active: true, hinted_pages: [0, 1] } },
  active_zone: 'Normal',
  boundaries: { 3: { Movable: 8, Unmovable: null } },
  batch: [[16, 2], [20, 2]],
  constants: [{ name: 'capacity', value: 32, kernel: 32, is_kernel: true, modelled: false }],
  ...over,
});

test('boundaryOf reads the model’s boundary only while the zone is active', () => {
  const l = wireList(3, 'Movable', [[0, false], [8, true]]);
  assert.deepEqual(boundaryOf(l, v2Hinting(), 'Normal'), { pfn: 8, position: 1 });
  assert.equal(boundaryOf(l, v2Hinting(), 'DMA'), null);
  assert.equal(boundaryOf(l, v2Hinting({ boundaries: {} }), 'Normal'), null);
  assert.equal(boundaryOf(l, { strategy: 'reporting', next_run: null, pending: [] }, 'Normal'), null);
  const u = wireList(3, 'Unmovable', [[32, false]]);
  assert.deepEqual(boundaryOf(u, v2Hinting(), 'Normal'), { pfn: null, position: 1 });
});

test('layoutZone: rows per order, lanes in migratetype order, hinted counts, boundary', () => {
  const snap = snapshot({
    hinting: v2Hinting(),
    lists: [
      wireList(3, 'Movable', [[0, false], [8, true]]),
      wireList(3, 'Unmovable', [[32, false]]),
      wireList(0, 'Movable', [[24, false]]),
    ],
  });
  const s = stateFromSnapshot(snap);
  const layout = layoutZone(s.zones[0], { migratetypes: MIGRATETYPES, maxOrder: 4, hinting: s.hinting });
  assert.deepEqual(
    layout.rows.map((r) => [r.order, r.nrFree, r.lanes.map((l) => l.migratetype), r.flaggedCount]),
    [
      [0, 0, ['Movable'], null],
      [1, 0, [], null],
      [2, 0, [], 0],
      [3, 2, ['Unmovable', 'Movable'], 1],
    ],
  );
  const movable = layout.rows[3].lanes[1];
  assert.deepEqual(movable.items.map((i) => i.kind), ['block', 'boundary', 'block']);
  assert.equal(movable.flaggedShown, 1);
  assert.equal(layout.flag, 'hinted');
  assert.equal(layout.active, true);
  assert.deepEqual(layout.host.blocks, [{ pfn: 16, order: 2, slot: 0 }, { pfn: 20, order: 2, slot: 1 }]);
  assert.equal(layout.host.pages, 8);
  assert.equal(layout.host.capacity, 32);
  assert.equal(layout.rows[2].blockSize, '16 KiB');
});

test('reporting: the list being processed is marked current; no boundary', () => {
  const hinting = {
    strategy: 'reporting', next_run: 2, pending: [], state: 'ACTIVE', phase: 'fill', zone: 'Normal',
    list_order: 3, list_migratetype: 'Movable', batch: [], constants: [],
  };
  const s = stateFromSnapshot(snapshot({ hinting }));
  const layout = layoutZone(s.zones[0], { migratetypes: MIGRATETYPES, maxOrder: 4, hinting });
  const lane = layout.rows[3].lanes[0];
  assert.equal(lane.current, true);
  assert.equal(lane.boundary, null);
  assert.equal(layout.flag, 'reported');
  assert.deepEqual(layout.host.blocks, []);
});

test('the host lane belongs to the batch’s zone and counts what it hides', () => {
  const zones = [
    { name: 'DMA', startPfn: 0, spannedPages: 100 },
    { name: 'Normal', startPfn: 100, spannedPages: 1000 },
  ];
  const hinting = { strategy: 'reporting', next_run: null, pending: [], zone: null, batch: range(0, 40).map((i) => [100 + i, 0]) };
  assert.deepEqual(hostLane(hinting, zones, 'DMA').blocks, []);
  const lane = hostLane(hinting, zones, 'Normal', 32);
  assert.equal(lane.blocks.length, 32);
  assert.equal(lane.hidden, 8);
  assert.equal(lane.pages, 40);
  assert.equal(hostLane({ strategy: 'none', next_run: null, pending: [] }, zones, 'Normal'), null);
});

test('nr_free is shown as sent, even when the lists disagree', () => {
  // The page never recomputes what the model decided.
  const snap = snapshot();
  snap.zones[0].nr_free = [7, 0, 0, 0];
  const s = stateFromSnapshot(snap);
  const layout = layoutZone(s.zones[0], { migratetypes: MIGRATETYPES, maxOrder: 4, hinting: s.hinting });
  assert.equal(layout.rows[0].nrFree, 7);
});

test('formatting helpers', () => {
  assert.equal(formatBytes(4096), '4 KiB');
  assert.equal(formatBytes(1536 * 1024 * 1024), '1.5 GiB');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(blockSize(0), '4 KiB');
  assert.equal(blockSize(9), '2 MiB');
  assert.equal(blockSize(10), '4 MiB');
  assert.equal(formatPfn(255), '0xff');
  assert.equal(migratetypeSlug('HighAtomic'), 'highatomic');
  assert.equal(migratetypeSlug('CMA'), 'cma');
});
