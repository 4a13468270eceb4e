import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planAnimation } from '../../frontend/lib/animate.js';
import { reversedEvents } from '../../frontend/lib/reverse.js';

const z = 'Normal';

test('a split undone is the merge of its halves; a free undone leaves as allocated; last first', () => {
  const forward = [
    { kind: 'phase', zone: null, message: 'go' },
    { kind: 'split', zone: z, pfn: 0, order: 3, half_pfn: 4 },
    { kind: 'list_add', zone: z, pfn: 4, order: 2, migratetype: 'Movable' },
    { kind: 'free', zone: z, pfn: 8, order: 3, migratetype: 'Movable' },
    { kind: 'report', zone: z, pages: 8 },
  ];
  const back = reversedEvents(forward);
  assert.deepEqual(back.map((e) => e.kind), ['alloc', 'list_del', 'merge', 'phase']);
  assert.deepEqual([back[2].pfn, back[2].buddy, back[2].order], [0, 4, 2]);
});

test('a merge undone splits the result back into its two blocks', () => {
  const [back] = reversedEvents([{ kind: 'merge', zone: z, pfn: 12, buddy: 8, order: 2 }]);
  assert.deepEqual([back.kind, back.pfn, back.half_pfn, back.order], ['split', 8, 12, 3]);
});

test('the reversed events plan an animation as forward events do', () => {
  const forward = [
    { kind: 'merge', zone: z, pfn: 12, buddy: 8, order: 2 },
    { kind: 'list_add', zone: z, pfn: 8, order: 3, migratetype: 'Movable' },
  ];
  const plan = planAnimation(reversedEvents(forward), { speed: 1 });
  assert.equal(plan.collapsed, false);
  assert.ok(plan.keys.has(`${z}:8:2`) && plan.keys.has(`${z}:12:2`));
});
