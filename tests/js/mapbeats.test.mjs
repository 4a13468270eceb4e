import { test } from 'node:test';
import assert from 'node:assert/strict';

import { MANUAL_BEAT_MS, MANUAL_TWEEN_MS, planAnimation } from '../../frontend/lib/animate.js';
import { framesOf, mapArrivals } from '../../frontend/lib/mapbeats.js';
import { reversedEvents } from '../../frontend/lib/reverse.js';

const Z = 'Normal';
const ev = (kind, fields) => ({ kind, fn: 'f', zone: Z, message: kind, ...fields });
const manual = (events) => planAnimation(events, { speed: 1, manual: true });

/** An order-0 allocation split out of an order-3 block: list_del, three splits and their list_adds, alloc. */
const cascade = [
  ev('list_del', { pfn: 0, order: 3, migratetype: 'Movable', end: 'head' }),
  ...[3, 2, 1].flatMap((o) => [
    ev('split', { pfn: 0, order: o, half_pfn: 1 << (o - 1), migratetype: 'Movable' }),
    ev('list_add', { pfn: 1 << (o - 1), order: o - 1, migratetype: 'Movable', end: 'head' }),
  ]),
  ev('alloc', { pfn: 0, order: 0, migratetype: 'Movable' }),
];

test('the frames an event touches: its block, a merge its result, a report each block, a pcp page', () => {
  assert.deepEqual(framesOf(ev('alloc', { pfn: 8, order: 3 })), [[8, 8]]);
  assert.deepEqual(framesOf(ev('merge', { pfn: 12, buddy: 8, order: 2 })), [[8, 8]]);
  assert.deepEqual(framesOf(ev('report', { blocks: [[512, 9], [0, 9]], pages: 1024 })), [[512, 512], [0, 512]]);
  assert.deepEqual(framesOf(ev('pcp_add', { pfn: 5, migratetype: 'Movable' })), [[5, 1]]);
  assert.deepEqual(framesOf(ev('pcp_del', { pfn: 4, order: 2, migratetype: 'Movable' })), [[4, 4]]);
  assert.deepEqual(framesOf(ev('boundary', { order: 9, migratetype: 'Movable', pfn: 512 })), [], 'a boundary moves no frame');
});

test('an allocated frame changes when the allocation arrives, not when its first split does', () => {
  const plan = manual(cascade);
  const arrivals = mapArrivals(cascade, plan);
  const last = 7 * MANUAL_BEAT_MS + MANUAL_TWEEN_MS;
  // The allocated page: at the alloc's arrival, the step's end.
  assert.deepEqual(arrivals.find((a) => a.pfn === 0), { at: last, zone: Z, pfn: 0, pages: 1 });
  // The halves split off only moved: each at its last list_add's arrival...
  assert.deepEqual(
    arrivals.filter((a) => a.pfn > 0).map((a) => [a.pfn, a.pages, a.at]),
    [
      [1, 1, 6 * MANUAL_BEAT_MS + MANUAL_TWEEN_MS],
      [2, 2, 4 * MANUAL_BEAT_MS + MANUAL_TWEEN_MS],
      [4, 4, 2 * MANUAL_BEAT_MS + MANUAL_TWEEN_MS],
    ].sort((a, b) => a[2] - b[2]),
  );
  // ...every frame of the block once, earliest first.
  assert.equal(arrivals.reduce((n, a) => n + a.pages, 0), 8);
  assert.deepEqual(arrivals.map((a) => a.at), [...arrivals.map((a) => a.at)].sort((a, b) => a - b));
});

test('a freed block that merges changes at the free, not at the end of its climb', () => {
  const events = [
    ev('free', { pfn: 4, order: 2, migratetype: 'Movable' }),
    ev('list_del', { pfn: 0, order: 2, migratetype: 'Movable', end: 'head' }),
    ev('merge', { pfn: 4, buddy: 0, order: 2, migratetype: 'Movable' }),
    ev('list_add', { pfn: 0, order: 3, migratetype: 'Movable', end: 'head' }),
  ];
  const plan = manual(events);
  const arrivals = mapArrivals(events, plan);
  assert.deepEqual(arrivals.find((a) => a.pfn === 4), { at: MANUAL_TWEEN_MS, zone: Z, pfn: 4, pages: 4 });
  assert.deepEqual(arrivals.find((a) => a.pfn === 0), { at: plan.total, zone: Z, pfn: 0, pages: 4 });
});

test('many allocations change one after another; a step back changes them in reverse order', () => {
  const allocs = [0, 1, 2, 3].map((i) => ev('alloc', { pfn: i * 512, order: 9, migratetype: 'Movable' }));
  const forward = mapArrivals(allocs, manual(allocs));
  assert.deepEqual(forward.map((a) => a.pfn), [0, 512, 1024, 1536]);
  assert.equal(new Set(forward.map((a) => a.at)).size, 4);
  const undone = reversedEvents(allocs);
  const back = mapArrivals(undone, manual(undone));
  assert.deepEqual(back.map((a) => a.pfn), [1536, 1024, 512, 0]);
  // Zones are apart: the same pfn in two zones is two ranges.
  const two = [allocs[0], { ...allocs[0], zone: 'DMA32' }];
  assert.equal(mapArrivals(two, manual(two)).length, 2);
  assert.deepEqual(mapArrivals([], manual([])), []);
});
