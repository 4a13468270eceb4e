import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  blockSize,
  boundaryOf,
  fitListItems,
  formatBytes,
  formatCount,
  formatPfn,
  gapText,
  hostLane,
  itemsWidth,
  layoutZone,
  listItems,
  MAX_FIT_ENDS,
  migratetypeSlug,
} from '../../frontend/lib/layout.js';
import { stateFromSnapshot } from '../../frontend/lib/state.js';
import { MIGRATETYPES, snapshot, wireList } from './fixtures.mjs';

const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);
/**
 * A wire list of `count` blocks, pfn = 1000 + i, flagged from index `flagFrom` (and at
 * the indices in `alsoFlagged`), with a v2 boundary before index `boundary`.
 */
const list = (count, flagFrom = Infinity, ends = 16, boundary = undefined, alsoFlagged = []) =>
  wireList(0, 'Movable', range(0, count).map((i) => [1000 + i, i >= flagFrom || alsoFlagged.includes(i)]), ends, boundary);
const show = (items) =>
  items.map((i) =>
    i.kind === 'gap'
      ? `gap ${i.count}${i.flagged ? ` ${i.flagged}h` : ''}${i.side ? ` ${i.side}` : ''}`
      : i.kind === 'boundary'
        ? '|'
        : `${i.pfn - 1000}${i.flagged ? 'h' : ''}`,
  );
/** Number of blocks a list of items stands for (drawn blocks + counted gaps). */
const represented = (items) =>
  items.reduce((n, item) => n + (item.kind === 'gap' ? item.count : item.kind === 'block' ? 1 : 0), 0);
/** Flagged blocks a list of items stands for (drawn flagged blocks + the gaps' counts). */
const flaggedIn = (items) =>
  items.reduce((n, item) => n + (item.kind === 'gap' ? item.flagged : item.kind === 'block' && item.flagged ? 1 : 0), 0);

test('a short list is drawn whole, head first, with its flags', () => {
  assert.deepEqual(show(listItems(list(3, 2), { maxEnds: 4 })), ['0', '1', '2h']);
  assert.deepEqual(listItems(list(0)), []);
});

test('a long list keeps both ends and counts the middle, with its flagged blocks', () => {
  const items = listItems(list(1000), { maxEnds: 3 });
  assert.deepEqual(show(items), ['0', '1', '2', 'gap 994', '997', '998', '999']);
  assert.equal(items.at(-1).position, 999, 'the last block keeps its position in the list');
  assert.equal(represented(items), 1000);
  // Reporting: no boundary, the gap says how many of its blocks are reported.
  const reported = listItems(list(1000, 990, 16, undefined, [5, 500, 501]), { maxEnds: 3 });
  assert.deepEqual(show(reported), ['0', '1', '2', 'gap 994 10h', '997h', '998h', '999h']);
  assert.equal(flaggedIn(reported), 13);
});

test('a gap of exactly one known block shows the block instead', () => {
  const items = listItems(list(5), { maxEnds: 2 });
  assert.deepEqual(show(items), ['0', '1', '2', '3', '4']);
});

test('the v2 boundary is drawn before the first hinted block', () => {
  const l = list(10, 7, 16, 7);
  assert.deepEqual(show(listItems(l, { maxEnds: 20 })), ['0', '1', '2', '3', '4', '5', '6', '|', '7h', '8h', '9h']);
});

test('a boundary at the head sentinel sits after the tail: nothing behind it', () => {
  assert.deepEqual(show(listItems(list(3, Infinity, 16, 3))), ['0', '1', '2', '|']);
});

test('the blocks around a boundary in a long list stay in view', () => {
  const l = list(30, 12, 16, 12);
  const items = listItems(l, { maxEnds: 2, radius: 2 });
  assert.deepEqual(show(items), ['0', '1', 'gap 8 front', '10', '11', '|', '12h', '13h', 'gap 14 14h behind', '28h', '29h']);
  assert.equal(represented(items), 30);
});

test('a boundary in the unsent middle is placed exactly, between its neighbours', () => {
  // 3,000 blocks, 16 sent from each end; the boundary before #1,260 (index 1,259).
  const l = list(3000, 1259, 16, 1259);
  assert.deepEqual(l.head.length + l.tail.length, 32);
  const items = listItems(l, { maxEnds: 2 });
  assert.deepEqual(show(items), ['0', '1', 'gap 1256 front', '1258', '|', '1259h', 'gap 1738 1738h behind', '2998h', '2999h']);
  const b = items.find((i) => i.kind === 'boundary');
  assert.deepEqual(b, { kind: 'boundary', pfn: 2259, position: 1259 });
  assert.equal(represented(items), 3000);
  assert.equal(flaggedIn(items), 3000 - 1259);
  assert.equal(gapText(items[2], 'hinted'), '… 1,256 unhinted');
  assert.equal(gapText(items[6], 'hinted'), '1,738 hinted …');
});

test('hinted blocks in front of the boundary (a new cycle) are counted and marked by their own flag', () => {
  // A cycle starts with the boundary after the tail; blocks hinted by the previous
  // cycle stay where they are, in front of it.
  const earlier = [3, 7, 40, 41, 98];
  const l = list(100, Infinity, 16, 100, earlier);
  const items = listItems(l, { maxEnds: 4 });
  assert.deepEqual(show(items), ['0', '1', '2', '3h', 'gap 92 3h front', '96', '97', '98h', '99', '|']);
  assert.equal(gapText(items[4], 'hinted'), '… 92 in front: 89 unhinted, 3 hinted');
  assert.equal(flaggedIn(items), 5);
  // The same mid-list: hinted blocks on both sides, each counted on its side.
  const mid = listItems(list(100, 60, 16, 60, earlier), { maxEnds: 2 });
  assert.deepEqual(show(mid), ['0', '1', 'gap 57 4h front', '59', '|', '60h', 'gap 37 37h behind', '98h', '99h']);
});

test('a focused block (hover) is kept in view', () => {
  const items = listItems(list(40), { maxEnds: 2, radius: 1, focus: [10] });
  assert.deepEqual(show(items), ['0', '1', 'gap 7', '9', '10', 'gap 27', '38', '39']);
});

test('every list shape is represented exactly by its items', () => {
  for (let count = 0; count < 45; count += 1) {
    for (const ends of [1, 3, 16]) {
      for (const maxEnds of [1, 2, 4, 10]) {
        for (const bpos of [undefined, 0, Math.floor(count / 2), count - 1, count]) {
          if (bpos !== undefined && (bpos < 0 || count === 0)) continue; // empty lists are not sent
          const flagFrom = bpos ?? Math.floor(count / 3);
          const l = list(count, flagFrom, ends, bpos, [1]);
          const items = listItems(l, { maxEnds });
          const where = `count ${count} ends ${ends}/${maxEnds} boundary ${bpos}`;
          assert.equal(represented(items), count, where);
          assert.equal(flaggedIn(items), l.flagged, `every flagged block counted once, ${where}`);
          const marks = items.filter((i) => i.kind === 'boundary');
          assert.equal(marks.length, bpos === undefined ? 0 : 1, where);
          const blocks = items.filter((i) => i.kind === 'block');
          for (const b of blocks) {
            assert.equal(b.pfn, 1000 + b.position, where);
            assert.equal(b.flagged, b.position >= flagFrom || b.position === 1, `a block's own flag, ${where}`);
          }
          const positions = blocks.map((b) => b.position);
          assert.deepEqual(positions, [...positions].sort((a, b) => a - b), `head to tail order, ${where}`);
          for (let k = 1; k < items.length; k += 1) {
            assert.ok(!(items[k].kind === 'gap' && items[k - 1].kind === 'gap'), `no two gaps in a row, ${where}`);
          }
          const bi = items.findIndex((i) => i.kind === 'boundary');
          if (bi >= 0) {
            // Everything before the marker is in front of the boundary, the rest behind.
            const inFront = represented(items.slice(0, bi));
            assert.equal(inFront, bpos, where);
            if (bpos < count) assert.equal(items[bi + 1].pfn, 1000 + bpos, where);
            for (const g of items.filter((i) => i.kind === 'gap')) {
              assert.equal(g.side, items.indexOf(g) < bi ? 'front' : 'behind', where);
            }
          }
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

test('boundaryOf reads the boundary the server placed in the list', () => {
  assert.deepEqual(boundaryOf(wireList(3, 'Movable', [[0, false], [8, true]], 16, 1)), { pfn: 8, position: 1 });
  assert.deepEqual(boundaryOf(wireList(3, 'Unmovable', [[32, false]], 16, 1)), { pfn: null, position: 1 });
  assert.equal(boundaryOf(wireList(3, 'Movable', [[0, false]])), null);
});

test('layoutZone: rows per order, lanes in migratetype order, hinted counts, boundary', () => {
  const snap = snapshot({
    hinting: v2Hinting(),
    lists: [
      wireList(3, 'Movable', [[0, false], [8, true]], 16, 1),
      wireList(3, 'Unmovable', [[32, false]], 16, 1),
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
    list_order: 3, list_migratetype: 'Movable', batch: [], constants: [], order: 2,
  };
  const lists = [
    wireList(3, 'Movable', [[0, false], [8, true]]),
    wireList(3, 'Unmovable', [[16, true], [24, true]]),
    wireList(2, 'Movable', [[32, false]]),
  ];
  const s = stateFromSnapshot(snapshot({ hinting, lists }));
  const layout = layoutZone(s.zones[0], { migratetypes: MIGRATETYPES, maxOrder: 4, hinting });
  const lane = layout.rows[3].lanes[1];
  assert.equal(lane.current, true);
  assert.equal(lane.boundary, null);
  assert.equal(layout.flag, 'reported');
  assert.deepEqual(layout.host.blocks, []);
  // Reported blocks per order (all migratetypes) from the reporting order on.
  assert.deepEqual(layout.rows.map((r) => r.flaggedCount), [null, null, 0, 3]);
  assert.deepEqual(layout.rows[3].lanes.map((l) => l.flagged), [2, 1]);
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

/** Widths as a page draws them: a chip 8 px a character + 10, a gap its text, a boundary 15. */
const widthOf = (item) =>
  item.kind === 'block' ? 8 * formatPfn(item.pfn).length + 10 : item.kind === 'gap' ? 7 * gapText(item, 'hinted').length + 16 : 15;

test('a lane is fitted to its width: as many blocks per end as fit, never fewer than one', () => {
  const l = list(500, Infinity, 16);
  const one = itemsWidth(listItems(l, { maxEnds: 1 }), 4, widthOf);
  let previous = 0;
  for (let width = one; width < one + 1000; width += 37) {
    const { items, stacked } = fitListItems(l, { width, spacing: 4, widthOf });
    assert.equal(stacked, false);
    assert.ok(itemsWidth(items, 4, widthOf) <= width, `fits ${width}`);
    const ends = items.findIndex((i) => i.kind === 'gap');
    assert.ok(ends >= previous, 'more room never shows fewer blocks');
    previous = ends;
    // One more block per end would not have fitted (up to the cap).
    if (ends < MAX_FIT_ENDS) assert.ok(itemsWidth(listItems(l, { maxEnds: ends + 1 }), 4, widthOf) > width, `${ends} ends at ${width}`);
    assert.equal(items[0].position, 0, 'the head is drawn');
    assert.equal(items[items.length - 1].position, 499, 'the tail is drawn');
  }
  assert.equal(previous, MAX_FIT_ENDS, 'a wide lane shows the cap');
  // Narrower than one block per end: the narrowest choice, head and tail still drawn.
  const tight = fitListItems(l, { width: 50, spacing: 4, widthOf }).items;
  assert.deepEqual(show(tight), ['0', 'gap 498', '499']);
  assert.equal(gapText(tight[1], 'hinted'), '… 498 …', 'in fewer words');
});

test('a boundary in the middle keeps its neighbours; the tag takes its own line before they go', () => {
  const l = list(2000, 1200, 16, 1200);
  const minimal = listItems(l, { maxEnds: 1, radius: 1 });
  assert.deepEqual(show(minimal), ['0', 'gap 1198 front', '1199', '|', '1200h', 'gap 798 798h behind', '1999h']);
  const need = itemsWidth(minimal, 4, widthOf);
  // Not enough on the tag's line, enough when the tag moves up: stacked, nothing lost.
  const fit = fitListItems(l, { width: need - 60, tagWidth: 100, spacing: 4, widthOf });
  assert.equal(fit.stacked, true);
  assert.ok(itemsWidth(fit.items, 4, widthOf) <= need + 40);
  assert.deepEqual(fit.items.filter((i) => i.kind !== 'gap').map((i) => (i.kind === 'block' ? i.position : '|')).slice(1, -1), [1199, '|', 1200]);
  // Room on the line: not stacked, and more blocks at the ends (of the middle, the
  // server sends only the boundary's neighbours).
  const wide = fitListItems(l, { width: need + 200, tagWidth: 100, spacing: 4, widthOf });
  assert.equal(wide.stacked, false);
  assert.deepEqual(show(wide.items), ['0', '1', 'gap 1197 front', '1199', '|', '1200h', 'gap 797 797h behind', '1998h', '1999h']);
  // The lane being reported is fitted the same way (its tag rides on its edge).
  const s = stateFromSnapshot(snapshot({ hinting: v2Hinting({ boundaries: {} }), lists: [l] }));
  const layout = layoutZone(s.zones[0], {
    migratetypes: MIGRATETYPES,
    maxOrder: 1,
    hinting: s.hinting,
    fit: { width: need - 60, currentWidth: 0, tagWidth: 100, spacing: 4, widthOf: (item) => widthOf(item) },
  });
  const lane = layout.rows[0].lanes[0];
  assert.equal(lane.stacked, true);
  assert.deepEqual(lane.items.map((i) => i.kind), fit.items.map((i) => i.kind));
});

test('gaps in fewer words say the same counts', () => {
  const gap = (side, count, flagged) => ({ kind: 'gap', count, from: 0, flagged, side, compact: true });
  // Next to the boundary, a gap names only the blocks that are not what its side says.
  assert.equal(gapText(gap('front', 1234, 34), 'hinted'), '… 1,234: 34 hinted');
  assert.equal(gapText(gap('behind', 1000, 990), 'hinted'), '1,000: 10 unhinted …');
  assert.equal(gapText(gap('front', 1234, 0), 'hinted'), '… 1,234');
  assert.equal(gapText(gap('behind', 1000, 1000), 'hinted'), '1,000 …');
  assert.equal(gapText({ ...gap('front', 1234, 0), compact: false }, 'hinted'), '… 1,234 unhinted');
  assert.equal(gapText(gap(null, 64, 3), 'reported'), '… 64 · 3 reported …');
  assert.equal(gapText(gap(null, 64, 0), 'reported'), '… 64 …');
  assert.equal(gapText({ ...gap(null, 64, 0), compact: false }, 'reported'), '… 64 more …');
});

test('a block placed in the unsent middle splits its gap, each flagged block counted once', () => {
  // 1,000 blocks, 16 sent from each end; the model placed #500 (say, the inspected one).
  const plain = list(1000);
  const items = listItems(plain, { maxEnds: 2, focus: [500], placed: [{ pfn: 1500, position: 500, flagged: false }] });
  assert.deepEqual(show(items), ['0', '1', 'gap 498', '500', 'gap 497', '998', '999']);
  assert.equal(represented(items), 1000);
  assert.deepEqual(items.filter((i) => i.kind === 'gap').map((g) => g.flagged), [0, 0]);
  // Every unknown block flagged: each part knows its count.
  const all = list(1000, 0);
  const allItems = listItems(all, { maxEnds: 2, focus: [500], placed: [{ pfn: 1500, position: 500, flagged: true }], bare: true });
  assert.deepEqual(show(allItems), ['0h', '1h', 'gap 498 498h', '500h', 'gap 497 497h', '998h', '999h']);
  assert.equal(flaggedIn(allItems), 1000);
  // Some of the middle flagged (reporting: #500 and #501 reported, #5 and the tail too):
  // the server counted them for the whole middle, not for each part, so the parts say
  // no count rather than the middle's twice.
  const some = list(1000, 990, 16, undefined, [5, 500, 501]);
  const split = listItems(some, { maxEnds: 2, focus: [700], placed: [{ pfn: 1700, position: 700, flagged: false }], bare: true });
  assert.deepEqual(show(split), ['0', '1', 'gap 698', '700', 'gap 297', '998h', '999h']);
  assert.deepEqual(split.filter((i) => i.kind === 'gap').map((g) => g.flagged), [null, null]);
  assert.equal(represented(split), 1000);
  // The placed block itself flagged: taken off the middle's count, never counted twice.
  const one = list(1000, Infinity, 16, undefined, [500]);
  const oneItems = listItems(one, { maxEnds: 2, focus: [500], placed: [{ pfn: 1500, position: 500, flagged: true }], bare: true });
  assert.deepEqual(show(oneItems), ['0', '1', 'gap 498', '500h', 'gap 497', '998', '999']);
  assert.equal(flaggedIn(oneItems), 1);
});

test('a placement beside the v2 boundary keeps each side its own count', () => {
  // The boundary before #1,260 (index 1,259) of 3,000: unhinted in front, hinted behind.
  const l = list(3000, 1259, 16, 1259);
  for (const position of [600, 2000]) {
    const flagged = position >= 1259;
    const items = listItems(l, { maxEnds: 1, radius: 1, focus: [position], placed: [{ pfn: 1000 + position, position, flagged }], bare: true });
    assert.equal(represented(items), 3000, `placed at ${position}`);
    assert.equal(flaggedIn(items), 3000 - 1259, `placed at ${position}`);
    assert.ok(items.some((i) => i.kind === 'block' && i.position === position && i.flagged === flagged));
  }
});

test('a placement outside the list or on a sent entry changes nothing', () => {
  const l = list(100);
  const base = listItems(l, { maxEnds: 2 });
  assert.deepEqual(listItems(l, { maxEnds: 2, placed: [{ pfn: 5, position: 100, flagged: false }] }), base);
  assert.deepEqual(listItems(l, { maxEnds: 2, placed: [{ pfn: 5, position: 3, flagged: true }], focus: [] }), base);
});

test('a lane short of width keeps a focused block without its neighbours before it gives up', () => {
  const l = list(100, 0);
  const widthOf = (item) => (item.kind === 'gap' ? 30 : 10);
  // Both ends, #10 and its neighbour #9: 4 blocks and 2 gaps, 100 px; #10 alone: 90 px.
  const fitted = fitListItems(l, { width: 95, spacing: 0, widthOf, focus: [10] });
  assert.deepEqual(show(fitted.items), ['0h', 'gap 9 9h', '10h', 'gap 88 88h', '99h']);
  assert.deepEqual(show(fitListItems(l, { width: 100, spacing: 0, widthOf, focus: [10] }).items), ['0h', 'gap 8 8h', '9h', '10h', 'gap 88 88h', '99h']);
});

test('layoutZone draws a named block where the model placed it, while its list is that long', () => {
  const snap = snapshot({
    lists: [wireList(3, 'Movable', range(0, 200).map((i) => [0x1000 + 8 * i, false]))],
  });
  const state = stateFromSnapshot(snap);
  const zone = state.zones[0];
  const options = { migratetypes: MIGRATETYPES, maxOrder: 11, hinting: state.hinting };
  const lane = (layout) => layout.rows[3].lanes[0].items.filter((i) => i.kind === 'block').map((i) => i.pfn);
  const placed = { pfn: 0x1000 + 8 * 100, order: 3, migratetype: 'Movable', position: 100, length: 200, flagged: false };
  assert.ok(!lane(layoutZone(zone, { ...options, focusPfns: [placed.pfn] })).includes(placed.pfn), 'unsent: counted in a gap');
  assert.ok(lane(layoutZone(zone, { ...options, focusPfns: [placed.pfn], placed: [placed] })).includes(placed.pfn));
  // Placed in a list of another length (another step): not drawn there.
  assert.ok(!lane(layoutZone(zone, { ...options, focusPfns: [placed.pfn], placed: [{ ...placed, length: 199 }] })).includes(placed.pfn));
});

test('formatCount prints integers as en-US toLocaleString does, without calling it', () => {
  const samples = [0, 7, 12, 999, 1000, 4095, 65_536, 999_999, 1_000_000, 1_048_576, 16_777_216, 2 ** 53 - 1, -1, -1000, -123_456_789];
  for (let n = 1; n < 2 ** 40; n = n * 3 + 1) samples.push(n, -n);
  for (const n of samples) assert.equal(formatCount(n), n.toLocaleString('en-US'), String(n));
  // Not an integer: the locale's own rounding.
  assert.equal(formatCount(1234.5678), '1,234.568');
});
