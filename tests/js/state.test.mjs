import { test } from 'node:test';
import assert from 'node:assert/strict';

import { bytesToBase64, ProtocolError } from '../../frontend/lib/protocol.js';
import {
  applyDelta,
  findInLists,
  followsDirectly,
  fullChanges,
  listKey,
  mergeChanges,
  stateFromSnapshot,
  zoneOfPfn,
} from '../../frontend/lib/state.js';
import { delta, snapshot, wireList } from './fixtures.mjs';

const zoneDelta = (over = {}) => ({
  name: 'Normal',
  nr_free: [1, 0, 0, 2],
  nr_free_pages: 17,
  lists: [],
  page_ranges: [],
  host_ranges: [],
  ...over,
});

test('a snapshot becomes typed arrays and a map of lists', () => {
  const s = stateFromSnapshot(snapshot({ pages: 64, start: 4096 }));
  const z = s.zones[0];
  assert.equal(z.pageState.length, 64);
  assert.equal(z.pageState[0], 0);
  assert.equal(z.pageState[16], 1);
  assert.equal(z.hostBacking[63], 1);
  assert.equal(z.pageblockMt.length, 16);
  assert.deepEqual([...z.lists.keys()], ['3:Movable']);
  assert.equal(s.step, 3);
  assert.equal(s.timelineLength, 10);
  assert.deepEqual(s.marks, [{ step: 5, kind: 'report' }]);
  assert.equal(zoneOfPfn(s, 4096 + 63), z);
  assert.equal(zoneOfPfn(s, 4096 + 64), null);
});

test('a snapshot whose page array has the wrong size is refused', () => {
  const snap = snapshot({ pages: 64 });
  snap.zones[0].page_state = bytesToBase64(new Uint8Array(63));
  assert.throws(() => stateFromSnapshot(snap), /page_state: 63 bytes, expected 64/);
});

test('a delta patches page ranges, host ranges and lists in place', () => {
  const s = stateFromSnapshot(snapshot({ pages: 64, start: 4096 }));
  const pageStateBefore = s.zones[0].pageState;
  const changes = applyDelta(
    s,
    delta({
      zones: [
        zoneDelta({
          lists: [
            wireList(0, 'Unmovable', [[4096 + 20, false]]),
            { ...wireList(3, 'Movable', []), length: 0 },
          ],
          page_ranges: [[4096 + 16, bytesToBase64([0, 3, 3])]],
          host_ranges: [[4096 + 60, bytesToBase64([2, 2, 2, 2])]],
        }),
      ],
    }),
  );
  const z = s.zones[0];
  assert.equal(z.pageState, pageStateBefore, 'patched in place, not reallocated');
  assert.deepEqual([...z.pageState.slice(15, 20)], [0, 0, 3, 3, 1]);
  assert.deepEqual([...z.hostBacking.slice(58, 64)], [1, 1, 2, 2, 2, 2]);
  assert.deepEqual([...z.lists.keys()], ['0:Unmovable'], 'an emptied list is dropped');
  assert.deepEqual(z.nrFree, [1, 0, 0, 2]);
  assert.equal(z.nrFreePages, 17);
  assert.equal(s.seq, 2);
  assert.equal(s.step, 4);
  assert.equal(s.playing, true);
  assert.deepEqual([...changes.lists].sort(), ['Normal/0:Unmovable', 'Normal/3:Movable']);
  assert.deepEqual(changes.pages.get('Normal'), [[16, 3], [60, 4]]);
  assert.equal(changes.full, false);
});

test('pageblock ranges retype pageblocks and dirty their pages', () => {
  const s = stateFromSnapshot(snapshot({ pages: 64 }));
  const changes = applyDelta(s, delta({ zones: [zoneDelta({ pageblock_ranges: [[2, bytesToBase64([0, 0])]] })] }));
  assert.deepEqual([...s.zones[0].pageblockMt.slice(0, 5)], [1, 1, 0, 0, 1]);
  assert.deepEqual(changes.pages.get('Normal'), [[8, 8]]);
  assert.deepEqual([...changes.pageblocks], ['Normal']);
});

test('a delta that does not fit leaves the state untouched', () => {
  const s = stateFromSnapshot(snapshot({ pages: 64 }));
  const before = [...s.zones[0].pageState];
  const bad = delta({
    zones: [
      zoneDelta({ page_ranges: [[0, bytesToBase64([1, 1])], [63, bytesToBase64([0, 0])]] }),
    ],
  });
  assert.throws(() => applyDelta(s, bad), ProtocolError);
  assert.deepEqual([...s.zones[0].pageState], before);
  assert.equal(s.seq, 1);
  assert.throws(() => applyDelta(s, delta({ zones: [zoneDelta({ name: 'DMA' })] })), /unknown zone "DMA"/);
});

test('sequence gaps are detected', () => {
  const s = stateFromSnapshot(snapshot());
  assert.equal(followsDirectly(s, delta({ seq: 2 })), true);
  assert.equal(followsDirectly(s, delta({ seq: 3 })), false);
  assert.equal(followsDirectly(s, delta({ seq: 1 })), false);
});

test('hinting and host changes are flagged only when they differ', () => {
  const s = stateFromSnapshot(snapshot());
  const same = applyDelta(s, delta());
  assert.equal(same.hinting, false);
  assert.equal(same.host, false);
  const moved = applyDelta(
    s,
    delta({ seq: 3, hinting: { strategy: 'none', next_run: 2, pending: ['x'] }, host: { ...s.host, refaults: 1 } }),
  );
  assert.equal(moved.hinting, true);
  assert.equal(moved.host, true);
  assert.equal(s.host.refaults, 1);
});

test('changes of several deltas merge', () => {
  const s = stateFromSnapshot(snapshot());
  const a = applyDelta(s, delta({ zones: [zoneDelta({ page_ranges: [[0, bytesToBase64([1])]] })] }));
  const b = applyDelta(s, delta({ seq: 3, zones: [zoneDelta({ page_ranges: [[5, bytesToBase64([1])]], lists: [wireList(1, 'Movable', [[2, false]])] })] }));
  const m = mergeChanges(a, b);
  assert.deepEqual(m.pages.get('Normal'), [[0, 1], [5, 1]]);
  assert.ok(m.lists.has('Normal/1:Movable'));
});

test('a whole redraw merged into a change of zone paints the whole map too', () => {
  const refocus = { ...fullChanges(), mapRanges: true };
  assert.equal(mergeChanges({ ...refocus }, applyDelta(stateFromSnapshot(snapshot()), delta({ zones: [zoneDelta({})] }))).mapRanges, true);
  assert.equal(mergeChanges({ ...refocus }, fullChanges()).mapRanges, false);
});

test('a block is found in the ends the server sent, with its position and flag', () => {
  const entries = Array.from({ length: 40 }, (_, i) => [i * 8, i >= 30]);
  const s = stateFromSnapshot(snapshot({ pages: 512, lists: [wireList(3, 'Movable', entries)] }));
  const z = s.zones[0];
  assert.deepEqual(findInLists(z, 8).position, 1);
  const tail = findInLists(z, 39 * 8);
  assert.equal(tail.position, 39);
  assert.equal(tail.flagged, true);
  assert.equal(findInLists(z, 20 * 8), null, 'the unsent middle is unknown');
  assert.equal(z.lists.get(listKey(3, 'Movable')).length, 40);
});

test('page-state and host histograms follow the deltas', () => {
  const s = stateFromSnapshot(snapshot({ pages: 64 }));
  const z = s.zones[0];
  assert.deepEqual([...z.stateCounts.slice(0, 5)], [16, 48, 0, 0, 0]);
  assert.deepEqual([...z.hostCounts.slice(0, 3)], [0, 64, 0]);
  applyDelta(s, delta({ zones: [zoneDelta({ page_ranges: [[0, bytesToBase64([2, 2, 3, 1])]], host_ranges: [[0, bytesToBase64([2, 2])]] })] }));
  assert.deepEqual([...z.stateCounts.slice(0, 5)], [12, 49, 2, 1, 0]);
  assert.deepEqual([...z.hostCounts.slice(0, 3)], [0, 62, 2]);
});

test('a delta that only changes playing keeps the step and its events', () => {
  const s = stateFromSnapshot(snapshot());
  applyDelta(s, delta({ events: [{ kind: 'merge', fn: 'f', zone: 'Normal', message: 'm' }] }));
  const c = applyDelta(s, delta({ seq: 3, step: 4, playing: false, events: [] }));
  assert.equal(c.step, false);
  assert.equal(s.playing, false);
  assert.deepEqual(s.events.map((e) => e.kind), ['merge']);
});

test('the delta answering breakpoints replaces the breakpoints and the marks', () => {
  const s = stateFromSnapshot(snapshot());
  const before = s.marks;
  applyDelta(s, delta({ step: 3, breakpoints: ['merge', 'report'], marks: [{ step: 2, kind: 'merge' }, { step: 5, kind: 'report' }] }));
  assert.deepEqual(s.breakpoints, ['merge', 'report']);
  assert.deepEqual(s.marks, [{ step: 2, kind: 'merge' }, { step: 5, kind: 'report' }]);
  assert.notEqual(s.marks, before, 'a new array: the seek bar redraws');
  const now = s.marks;
  applyDelta(s, delta({ seq: 3, step: 4, breakpoints: null, marks: null }));
  assert.equal(s.marks, now, 'an ordinary delta leaves them');
  assert.deepEqual(s.breakpoints, ['merge', 'report']);
});

test('a step added at the end appends its mark once, unless the marks were cut short', () => {
  const s = stateFromSnapshot(snapshot());
  const before = s.marks;
  applyDelta(s, delta({ step: 6, timeline_length: 6, mark: { step: 6, kind: 'boundary' } }));
  assert.deepEqual(s.marks, [{ step: 5, kind: 'report' }, { step: 6, kind: 'boundary' }]);
  assert.notEqual(s.marks, before, 'a new array: the seek bar draws the mark');
  assert.equal(s.marks[0], before[0], 'the old marks are kept as they were');
  const now = s.marks;
  applyDelta(s, delta({ seq: 3, step: 6, timeline_length: 6, mark: { step: 6, kind: 'boundary' } }));
  assert.equal(s.marks, now, 'a mark already there is not added twice');
  const cut = stateFromSnapshot({ ...snapshot(), marks_truncated: true });
  applyDelta(cut, delta({ step: 6, timeline_length: 6, mark: { step: 6, kind: 'report' } }));
  assert.deepEqual(cut.marks, [{ step: 5, kind: 'report' }], 'past the limit the server lists no more');
});

test('a delta’s list brings its new boundary and flagged count', () => {
  const s = stateFromSnapshot(snapshot());
  const entries = [[0, false], [8, true], [16, true]];
  applyDelta(s, delta({ zones: [zoneDelta({ lists: [wireList(3, 'Movable', entries, 16, 1)] })] }));
  const l = s.zones[0].lists.get(listKey(3, 'Movable'));
  assert.deepEqual([l.flagged, l.boundary.index, l.boundary.after], [2, 1, 8]);
  // The cycle ends: the list comes again without its boundary.
  applyDelta(s, delta({ seq: 3, zones: [zoneDelta({ lists: [wireList(3, 'Movable', entries)] })] }));
  assert.equal(s.zones[0].lists.get(listKey(3, 'Movable')).boundary, null);
});
