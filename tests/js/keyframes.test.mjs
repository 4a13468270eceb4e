import { test } from 'node:test';
import assert from 'node:assert/strict';

import { blockKey, BOUNDARY_MOVE_MS, planAnimation } from '../../frontend/lib/animate.js';
import {
  BESIDE,
  boundaryMoves,
  cascadeBlocks,
  cascadePlaces,
  countArrival,
  heldHeight,
  intoAnchor,
  JOIN_AT,
  swapAt,
  timed,
} from '../../frontend/lib/keyframes.js';

const k = (pfn, order) => blockKey('Normal', pfn, order);
const box = (left, top, width = 40, height = 20) => ({ left, top, width, height });

test('keyframes at absolute times become offsets of the span, never going back, at most 1', () => {
  const frames = timed([[0, { opacity: 0 }], [50, { opacity: 1 }], [30, { opacity: 0.5 }], [400, { opacity: 0 }]], 200);
  assert.deepEqual(frames.map((f) => f.offset), [0, 0.25, 0.25, 1]);
  assert.deepEqual(frames.map((f) => f.opacity), [0, 1, 0.5, 0], 'the frames themselves are kept');
});

test('a boundary marker moves one equal share per beat, from where it was drawn to where it is', () => {
  const { frames, span } = boundaryMoves([100, 400], 80, -20, 'ease');
  assert.equal(span, 400 + BOUNDARY_MOVE_MS);
  assert.deepEqual(
    frames.map((f) => f.transform),
    ['translate(80px, -20px)', 'translate(80px, -20px)', 'translate(40px, -10px)', 'translate(40px, -10px)', 'translate(0px, 0px)'],
  );
  assert.equal(frames[1].offset, 100 / span, 'the first move starts at its beat');
  assert.equal(frames[2].offset, (100 + BOUNDARY_MOVE_MS) / span, 'and takes BOUNDARY_MOVE_MS');
  assert.equal(frames.at(-1).offset, 1);
  assert.equal(frames[1].easing, 'ease');
  // Beats closer than a move: each move ends at the next beat.
  const close = boundaryMoves([0, 10, 20], 30, 0, 'linear');
  assert.equal(close.frames[2].offset, 10 / close.span);
  assert.equal(close.frames[4].offset, 20 / close.span);
});

test('a row keeps its old height until the blocks arrive, then shrinks', () => {
  assert.deepEqual(heldHeight(60, 20, 300, 100), [
    { minHeight: '60px', offset: 0 },
    { minHeight: '60px', offset: 0.75, easing: 'ease-in-out' },
    { minHeight: '20px', offset: 1 },
  ]);
});

test('a count swaps its text in the last millisecond of its span', () => {
  assert.deepEqual(swapAt({ opacity: 1 }, { opacity: 0 }, 500), [
    { opacity: 1, offset: 0 },
    { opacity: 1, offset: 1 - 1 / 500 },
    { opacity: 0, offset: 1 },
  ]);
  assert.equal(swapAt({ color: 'red' }, { color: 'blue' }, 1)[1].offset, 0, 'a 1 ms span swaps at once');
});

test('each count waits for what it counts: its order, the host lane or its boundary', () => {
  const when = { orders: new Map([[3, 120], [9, 700]]), host: 450, boundaries: new Map([['boundary:Normal:9:Movable', 900]]) };
  assert.equal(countArrival('nr:3', when, 1000), 120);
  assert.equal(countArrival('flag:9', when, 1000), 700);
  assert.equal(countArrival('lane:Normal:9:Movable', when, 1000), 700);
  assert.equal(countArrival('zone:Normal:3', when, 1000), 120, "the zone table's cell waits as its row does");
  assert.equal(countArrival('zone:Normal:total', when, 1000), 1000, 'free memory: whole at the end of the step');
  assert.equal(countArrival('host', when, 1000), 450);
  assert.equal(countArrival('boundary:Normal:9:Movable', when, 1000), 900);
  assert.equal(countArrival('nr:5', when, 1000), 1000, 'an order nothing reaches: the end of the step');
  assert.equal(countArrival('boundary:DMA32:9:Movable', when, 1000), 1000);
});

/** A freed order-0 block at pfn 0 merging up to order 3 (its buddies at 1, 2 and 4 were free), as lib/animate.js plans it. */
function cascade() {
  const ev = (kind, fields) => ({ kind, fn: 'f', zone: 'Normal', message: kind, migratetype: 'Movable', ...fields });
  const events = [ev('free', { pfn: 0, order: 0 })];
  for (const order of [0, 1, 2]) {
    events.push(ev('list_del', { pfn: 2 ** order, order, end: 'only' }), ev('merge', { pfn: 0, buddy: 2 ** order, order }));
  }
  events.push(ev('merge_stop', { pfn: 0, order: 3, buddy: 8, reason: 'allocated' }), ev('list_add', { pfn: 0, order: 3, end: 'head' }));
  return planAnimation(events, { speed: 1 });
}

test('a merge cascade: the freed block beside its buddy, each middle result beside the next buddy', () => {
  const plan = cascade();
  // Drawn before the step: the three buddies in their rows; now: the final order-3 block.
  const was = new Map([[k(1, 0), box(100, 10)], [k(2, 1), box(100, 40)], [k(4, 2), box(100, 70)]]);
  const drawn = new Map([[k(0, 3), box(100, 100)]]);
  const place = cascadePlaces(plan, (key) => was.get(key), (key) => drawn.get(key), 20);
  assert.deepEqual(place.get(k(1, 0)), box(100, 10), 'a buddy where it was drawn');
  assert.deepEqual(place.get(k(0, 0)), box(140 + BESIDE, 10), 'the freed block beside its buddy');
  assert.deepEqual(place.get(k(0, 1)), box(140 + BESIDE, 40), 'the order-1 result beside the buddy it merges with next');
  assert.deepEqual(place.get(k(0, 2)), box(140 + BESIDE, 70));
  assert.deepEqual(place.get(k(0, 3)), box(100, 100), 'the last result where it is drawn now');
});

test('a block with no buddy drawn sits at its list, else its row, as tall as a chip', () => {
  const plan = cascade();
  const was = new Map([['anchor:Normal:0:Movable', box(300, 10, 8, 30)], ['row:1', box(50, 40, 600, 30)]]);
  const place = cascadePlaces(plan, (key) => was.get(key), () => undefined, 20);
  assert.deepEqual(place.get(k(1, 0)), box(300, 15, 40, 20));
  assert.deepEqual(place.get(k(0, 0)), box(340 + BESIDE, 15, 40, 20));
  assert.deepEqual(place.get(k(2, 1)), box(50, 45, 40, 20));
  assert.equal(place.has(k(4, 2)), false, 'nowhere to show it: not shown');
  assert.equal(place.has(k(0, 3)), false);
});

test('each block of the cascade flies into its merge\'s result and fades as it joins; the last result fades in', () => {
  const plan = cascade();
  const [s0, s1, s2] = plan.merges;
  const was = new Map([[k(1, 0), box(100, 10)], [k(2, 1), box(100, 40)], [k(4, 2), box(100, 70)]]);
  const drawn = new Map([[k(0, 3), box(100, 100)]]);
  const place = cascadePlaces(plan, (key) => was.get(key), (key) => drawn.get(key), 20);
  const blocks = cascadeBlocks(plan, place, (key) => was.has(key), (key) => drawn.has(key), 'ease');
  const byKey = new Map(blocks.map((b) => [b.key, b]));
  assert.deepEqual([...byKey.keys()].sort(), [k(0, 0), k(0, 1), k(0, 2), k(0, 3), k(1, 0), k(2, 1), k(4, 2)].sort());

  const buddy = byKey.get(k(1, 0));
  assert.equal(buddy.result, false);
  assert.equal(buddy.order, 0);
  assert.equal(buddy.migratetype, 'Movable');
  assert.equal(buddy.span, s0.delay + s0.travel, 'gone once its merge has travelled');
  assert.equal(buddy.frames[0].opacity, 1, 'drawn before: there from the start');
  assert.equal(buddy.frames.at(-1).transform, 'translate(44px, 30px)', 'to the order-1 result');
  assert.equal(buddy.frames.at(-1).opacity, 0);
  assert.equal(buddy.frames.find((f) => f.transform === 'none').easing, 'ease');

  const freed = byKey.get(k(0, 0));
  assert.equal(plan.keys.get(k(0, 0)).delay, 0, 'freed at the step\'s first beat');
  assert.deepEqual(freed.frames[0], { opacity: 1, offset: 0 }, 'so there from the start');
  assert.equal(freed.frames.at(-1).transform, 'translate(0px, 30px)');

  const middle = byKey.get(k(0, 1));
  assert.equal(middle.order, 1);
  assert.equal(middle.frames[0].opacity, 0, 'not there before it is formed');
  assert.equal(middle.frames[1].offset, (s0.delay + s0.travel * JOIN_AT) / middle.span, 'formed as its inputs join');
  assert.equal(middle.span, s1.delay + s1.travel);
  assert.equal(byKey.get(k(0, 2)).span, s2.delay + s2.travel);

  const last = byKey.get(k(0, 3));
  assert.equal(last.result, true);
  assert.equal(last.order, 3);
  assert.ok(Math.abs(last.span - (s2.delay + s2.travel)) < 1e-9, 'whole when the last inputs have joined');
  assert.deepEqual(last.frames.map((f) => f.opacity), [0, 0, 1]);
});

test('a block flying into a gap comes to rest against the side it comes from, never on the gap', () => {
  const gap = box(300, 100, 80, 22);
  // From the host lane below: under the gap, centred on it.
  assert.deepEqual(intoAnchor(box(100, 200), gap), { dx: 220, dy: -78 });
  // From a row above: over it.
  assert.deepEqual(intoAnchor(box(500, 40), gap), { dx: -180, dy: 40 });
  // From its own row, on the tail side: against its right side; on the head side: its left.
  assert.deepEqual(intoAnchor(box(600, 100), gap), { dx: -220, dy: 0 });
  assert.deepEqual(intoAnchor(box(100, 100), gap), { dx: 160, dy: 0 });
  for (const from of [box(100, 200), box(500, 40), box(600, 100), box(100, 100)]) {
    const { dx, dy } = intoAnchor(from, gap);
    const left = from.left + dx;
    const top = from.top + dy;
    const apart = left + from.width <= gap.left || left >= gap.left + gap.width || top + from.height <= gap.top || top >= gap.top + gap.height;
    assert.ok(apart, JSON.stringify({ from, dx, dy }));
  }
});
