import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  arrivals,
  blockKey,
  boundaryKey,
  budgetMs,
  MANUAL_BEAT_MS,
  MANUAL_MAX_MS,
  MANUAL_TWEEN_MS,
  manualTiming,
  MAX_STEP_MS,
  planAnimation,
  rotationMoves,
  shouldCollapse,
} from '../../frontend/lib/animate.js';
import { listItems } from '../../frontend/lib/layout.js';
import { wireList } from './fixtures.mjs';

const Z = 'Normal';
const ev = (kind, fields) => ({ kind, fn: 'f', zone: Z, message: kind, ...fields });

test('the budget follows the speed and is capped', () => {
  assert.equal(budgetMs(1), 850);
  assert.equal(budgetMs(0.1), MAX_STEP_MS);
  assert.ok(budgetMs(100) < 10);
});

test('behind, too fast, or reduced motion: the plan collapses (jump to the latest state)', () => {
  const events = [ev('alloc', { pfn: 0, order: 0, migratetype: 'Movable' })];
  assert.equal(planAnimation(events, { speed: 1, behind: true }).collapsed, true);
  assert.equal(planAnimation(events, { speed: 60 }).collapsed, true);
  assert.equal(planAnimation(events, { speed: 1, reducedMotion: true }).collapsed, true);
  assert.equal(planAnimation(events, { speed: 1 }).collapsed, false);
  assert.equal(shouldCollapse(2, false), true);
  assert.equal(shouldCollapse(1, true), true);
  assert.equal(shouldCollapse(1, false), false);
  // A step taken by hand while the last one still moves is animated (the last one lands first).
  assert.equal(shouldCollapse(1, true, false), false);
  assert.equal(shouldCollapse(2, true, false), true);
});

test('a step taken by hand is paced for the eye whatever the play speed; slow motion stretches it', () => {
  const cascade = [
    ev('list_del', { pfn: 0, order: 3, migratetype: 'Movable', end: 'head' }),
    ...[3, 2, 1].flatMap((o) => [
      ev('split', { pfn: 0, order: o, half_pfn: 1 << (o - 1), migratetype: 'Movable' }),
      ev('list_add', { pfn: 1 << (o - 1), order: o - 1, migratetype: 'Movable', end: 'head' }),
    ]),
    ev('alloc', { pfn: 0, order: 0, migratetype: 'Movable' }),
  ];
  const fast = planAnimation(cascade, { speed: 240, manual: true });
  assert.equal(fast.collapsed, false);
  assert.equal(fast.total, 7 * MANUAL_BEAT_MS + MANUAL_TWEEN_MS);
  assert.deepEqual(fast.beats.map((b) => b.delay), [0, 1, 2, 3, 4, 5, 6, 7].map((i) => i * MANUAL_BEAT_MS));
  assert.equal(planAnimation(cascade, { speed: 240 }).collapsed, true, 'a play at that speed jumps');
  assert.equal(planAnimation(cascade, { speed: 1, manual: true, slow: 4 }).total, 4 * fast.total);
  // Hundreds of events still fit in the most a step may take.
  const { spread, duration } = manualTiming(500, 1);
  assert.ok(spread + duration <= MANUAL_MAX_MS + 1e-6);
});

test('each count changes when what it counts arrives; a boundary moves once per event', () => {
  const events = [
    ev('list_del', { pfn: 0, order: 2, migratetype: 'Movable', end: 'head' }),
    ev('split', { pfn: 0, order: 2, half_pfn: 2, migratetype: 'Movable' }),
    ev('list_add', { pfn: 2, order: 1, migratetype: 'Movable', end: 'head' }),
    ev('boundary', { order: 1, migratetype: 'Movable', pfn: 2 }),
    ev('boundary', { order: 1, migratetype: 'Movable', pfn: 0 }),
  ];
  const plan = planAnimation(events, { speed: 1, manual: true });
  const when = arrivals(plan);
  assert.ok(when.orders.get(2) < when.orders.get(1), 'the order-2 row empties before the half lands in order 1');
  assert.deepEqual(plan.boundaries.get(boundaryKey(Z, 1, 'Movable')), [3 * MANUAL_BEAT_MS, 4 * MANUAL_BEAT_MS]);
  assert.ok(when.boundaries.get(boundaryKey(Z, 1, 'Movable')) > 4 * MANUAL_BEAT_MS);
  assert.equal(when.host, plan.total, 'nothing with the host: its count changes at the end');
});

test('a split cascade: every half comes from the block that was drawn', () => {
  const events = [
    ev('list_del', { pfn: 0, order: 3, migratetype: 'Movable', end: 'head' }),
    ev('split', { pfn: 0, order: 3, half_pfn: 4, migratetype: 'Movable' }),
    ev('list_add', { pfn: 4, order: 2, migratetype: 'Movable', end: 'head' }),
    ev('split', { pfn: 0, order: 2, half_pfn: 2, migratetype: 'Movable' }),
    ev('list_add', { pfn: 2, order: 1, migratetype: 'Movable', end: 'head' }),
    ev('alloc', { pfn: 0, order: 1, migratetype: 'Movable' }),
  ];
  const plan = planAnimation(events, { speed: 1 });
  const parent = blockKey(Z, 0, 3);
  assert.deepEqual(plan.keys.get(blockKey(Z, 4, 2)).sources, [parent]);
  assert.deepEqual(plan.keys.get(blockKey(Z, 2, 1)).sources, [parent], 'followed through the order-2 half');
  assert.equal(plan.exits.length, 1);
  assert.deepEqual(plan.exits[0], { ...plan.exits[0], key: blockKey(Z, 0, 1), sources: [parent], to: 'alloc' });
  const d4 = plan.keys.get(blockKey(Z, 4, 2)).delay;
  const d2 = plan.keys.get(blockKey(Z, 2, 1)).delay;
  assert.ok(d4 < d2, 'the cascade goes down in order');
  assert.ok(plan.exits[0].delay > d2);
  assert.ok(plan.total <= budgetMs(1) + 1);
  assert.deepEqual(plan.beats.map((b) => b.index), [0, 1, 2, 3, 4, 5]);
});

test('a freed block merging upward converges from its free buddies', () => {
  const events = [
    ev('free', { pfn: 8, order: 3, migratetype: 'Movable' }),
    ev('list_del', { pfn: 0, order: 3, migratetype: 'Movable', end: 'only' }),
    ev('merge', { pfn: 8, buddy: 0, order: 3 }),
    ev('list_del', { pfn: 16, order: 4, migratetype: 'Movable', end: 'only' }),
    ev('merge', { pfn: 0, buddy: 16, order: 4 }),
    ev('merge_stop', { pfn: 0, order: 5, buddy: 32, reason: 'allocated' }),
    ev('list_add', { pfn: 0, order: 5, migratetype: 'Movable', end: 'head' }),
  ];
  const plan = planAnimation(events, { speed: 1 });
  const result = plan.keys.get(blockKey(Z, 0, 5));
  assert.deepEqual(result.sources, [blockKey(Z, 0, 3), blockKey(Z, 16, 4)]);
  assert.equal(result.kind, 'list_add');
  assert.equal(plan.beats.length, 6, 'merge_stop moves nothing');
});

test('a freed order-0 block merging up to order 3 climbs through three stages, in turn', () => {
  const events = [
    ev('free', { pfn: 0, order: 0, migratetype: 'Movable' }),
    ev('list_del', { pfn: 1, order: 0, migratetype: 'Movable', end: 'only' }),
    ev('merge', { pfn: 0, buddy: 1, order: 0 }),
    ev('list_del', { pfn: 2, order: 1, migratetype: 'Movable', end: 'only' }),
    ev('merge', { pfn: 0, buddy: 2, order: 1 }),
    ev('list_del', { pfn: 4, order: 2, migratetype: 'Movable', end: 'only' }),
    ev('merge', { pfn: 0, buddy: 4, order: 2 }),
    ev('merge_stop', { pfn: 0, order: 3, buddy: 8, reason: 'allocated' }),
    ev('list_add', { pfn: 0, order: 3, migratetype: 'Movable', end: 'head' }),
  ];
  const plan = planAnimation(events, { speed: 1 });
  const k = (pfn, order) => blockKey(Z, pfn, order);
  assert.deepEqual(
    plan.merges.map((m) => [m.order, m.inputs, m.output, m.migratetype, m.next]),
    [
      [0, [k(0, 0), k(1, 0)], k(0, 1), 'Movable', 1],
      [1, [k(0, 1), k(2, 1)], k(0, 2), 'Movable', 2],
      [2, [k(0, 2), k(4, 2)], k(0, 3), 'Movable', null],
    ],
  );
  const merges = plan.beats.filter((b) => events[b.index].kind === 'merge').map((b) => b.delay);
  assert.deepEqual(plan.merges.map((m) => m.delay), merges, 'each stage at its merge\'s beat');
  const [s0, s1, s2] = plan.merges;
  assert.ok(plan.keys.get(k(0, 0)).delay < s0.delay, 'the freed block is there before its first merge');
  assert.ok(s0.delay < s1.delay && s1.delay < s2.delay);
  // Each intermediate result is formed, and shown, before it merges again.
  assert.ok(s0.delay + s0.travel < s1.delay && s1.delay + s1.travel < s2.delay);
  assert.ok(s2.delay + s2.travel <= plan.total + 1, 'the last merge lands inside the step');
  assert.deepEqual(plan.keys.get(k(0, 3)).sources, [k(1, 0), k(2, 1), k(4, 2)], 'the final block still names the drawn blocks');
  assert.deepEqual(planAnimation(events, { speed: 1, reducedMotion: true }).merges, []);
});

test('isolated, reported and put back in one step: the block travels via the host lane', () => {
  const events = [
    ev('list_del', { pfn: 512, order: 9, migratetype: 'Movable', end: 'tail' }),
    ev('isolate', { pfn: 512, order: 9, migratetype: 'Movable', slot: 0 }),
    ev('report', { blocks: [[512, 9]], pages: 512, discarded: 512 }),
    ev('putback', { pfn: 512, order: 9, migratetype: 'Movable' }),
    ev('list_add', { pfn: 512, order: 9, migratetype: 'Movable', end: 'tail', before: null }),
    ev('boundary', { order: 9, migratetype: 'Movable', pfn: 512 }),
    ev('flag_set', { pfn: 512, order: 9, migratetype: 'Movable', flag: 'hinted' }),
  ];
  const plan = planAnimation(events, { speed: 0.5 });
  const k = plan.keys.get(blockKey(Z, 512, 9));
  assert.equal(k.via, 'host');
  assert.ok(plan.keys.has(boundaryKey(Z, 9, 'Movable')));
  assert.deepEqual(plan.pulses.map((p) => [p.key, p.flag, p.set]), [[blockKey(Z, 512, 9), 'hinted', true]]);
  assert.deepEqual(plan.host.map((h) => [h.zone, h.pages, h.kind]), [[Z, 512, 'report']]);
  const fill = planAnimation(events.slice(0, 2), { speed: 0.5 });
  assert.equal(fill.keys.get(blockKey(Z, 512, 9)).via, null, 'only isolated: it ends in the host lane');
});

test('a hinted block losing its mark pulses with the reason', () => {
  const plan = planAnimation(
    [ev('flag_clear', { pfn: 0, order: 9, migratetype: 'Movable', flag: 'reported', reason: 'merged' })],
    { speed: 1 },
  );
  assert.deepEqual(plan.pulses[0], { key: blockKey(Z, 0, 9), flag: 'reported', set: false, delay: 0, reason: 'merged' });
});

test('many events are staggered inside the budget', () => {
  const events = Array.from({ length: 100 }, (_, i) => ev('isolate', { pfn: i * 512, order: 9, migratetype: 'Movable', slot: i }));
  const plan = planAnimation(events, { speed: 1 });
  const delays = [...plan.keys.values()].map((k) => k.delay);
  assert.equal(delays.length, 100);
  assert.ok(Math.max(...delays) + plan.keys.get(blockKey(Z, 0, 9)).duration <= budgetMs(1) + 1);
  assert.deepEqual(delays, [...delays].sort((a, b) => a - b));
});

test('non-visual events plan nothing', () => {
  const plan = planAnimation([ev('state', { what: 'x', old: 'a', new: 'b' })], { speed: 1 });
  assert.equal(plan.collapsed, false);
  assert.equal(plan.keys.size, 0);
  assert.equal(plan.total, 0);
});

test('blocks remember the list they came from and the list they end on', () => {
  const plan = planAnimation(
    [
      ev('list_del', { pfn: 512, order: 9, migratetype: 'Movable', end: 'middle' }),
      ev('isolate', { pfn: 512, order: 9, migratetype: 'Movable', slot: 0 }),
      ev('putback', { pfn: 1024, order: 9, migratetype: 'Movable' }),
      ev('list_add', { pfn: 1024, order: 9, migratetype: 'Movable', end: 'tail', before: 4096 }),
      ev('list_move', { pfn: 0, order: 10, from_migratetype: 'Movable', to_migratetype: 'Unmovable', end: 'tail' }),
    ],
    { speed: 1 },
  );
  const taken = plan.keys.get(blockKey(Z, 512, 9));
  assert.deepEqual(taken.fromList, { order: 9, migratetype: 'Movable' });
  assert.equal(taken.toList, null, 'isolated: on no list');
  assert.deepEqual(plan.keys.get(blockKey(Z, 1024, 9)).toList, { order: 9, migratetype: 'Movable' });
  const moved = plan.keys.get(blockKey(Z, 0, 10));
  assert.deepEqual([moved.fromList.migratetype, moved.toList.migratetype], ['Movable', 'Unmovable']);
});

/** The blocks a lane draws of a list of pfns (head first), as rotationMoves takes them. */
const drawn = (pfns, maxEnds) =>
  listItems(wireList(9, 'Movable', pfns.map((p) => [p, false]), 16), { maxEnds })
    .filter((i) => i.kind === 'block')
    .map((i) => ({ key: blockKey(Z, i.pfn, 9), position: i.position }));
/** list_rotate_to_front: the list read from `pivot` round to the block before it. */
const rotate = (pfns, pivot) => [...pfns.slice(pfns.indexOf(pivot)), ...pfns.slice(0, pfns.indexOf(pivot))];

test('a list turning to a new head is a rotation, not a list_add', () => {
  const plan = planAnimation(
    [
      ev('isolate', { pfn: 0, order: 9, migratetype: 'Movable', slot: 31 }),
      ev('rotate', { pfn: 4608, order: 9, migratetype: 'Movable' }),
    ],
    { speed: 1 },
  );
  assert.equal(plan.rotations.length, 1);
  const r = plan.rotations[0];
  assert.deepEqual([r.zone, r.order, r.migratetype, r.pfn], [Z, 9, 'Movable', 4608]);
  assert.ok(r.delay > 0 && r.duration > 0 && r.delay + r.duration <= plan.total + 1, 'after the isolation, inside the step');
  assert.equal(plan.keys.has(blockKey(Z, 4608, 9)), false, 'the new head is not planned as a block added');
});

test('a short list turns: the blocks in front of the new head go round to the tail', () => {
  const pfns = [0, 512, 1024, 1536, 2048];
  const moves = rotationMoves(drawn(pfns, 4), drawn(rotate(pfns, 1024), 4));
  const by = (p) => moves.get(blockKey(Z, p, 9));
  assert.deepEqual(pfns.map(by), ['wrap', 'wrap', 'shift', 'shift', 'shift']);
});

test('a long list turns: its drawn ends leave at the head, the new ends come in from the tail side', () => {
  const pfns = Array.from({ length: 68 }, (_, i) => 512 * i);
  const before = drawn(pfns, 2);
  const after = drawn(rotate(pfns, 512 * 36), 2);
  assert.deepEqual(after.map((b) => b.key), [36, 37, 34, 35].map((i) => blockKey(Z, 512 * i, 9)));
  const moves = rotationMoves(before, after);
  for (const b of after) assert.equal(moves.get(b.key), 'enter', b.key);
  for (const b of before) assert.equal(moves.get(b.key), 'leave', b.key);
  assert.equal(moves.size, 8);
  // Turning by one: every drawn block but the old head moves along; the old head goes
  // round to the tail, where it is drawn again.
  const one = rotationMoves(before, drawn(rotate(pfns, 512), 2));
  assert.equal(one.get(blockKey(Z, 0, 9)), 'wrap');
  assert.equal(one.get(blockKey(Z, 512, 9)), 'shift');
  assert.equal(one.get(blockKey(Z, 512 * 67, 9)), 'shift');
  assert.equal(one.get(blockKey(Z, 512 * 66, 9)), 'leave', 'the old last-but-one tail block goes into the middle');
  assert.equal(one.get(blockKey(Z, 1024, 9)), 'enter', 'the new second block comes out of the middle');
});
