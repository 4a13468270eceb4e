import { test } from 'node:test';
import assert from 'node:assert/strict';

import { sampleOf, Series } from '../../frontend/lib/series.js';
import { stateFromSnapshot } from '../../frontend/lib/state.js';
import { snapshot } from './fixtures.mjs';

test('samples stay sorted; going back drops the later history', () => {
  const s = new Series(['a', 'b']);
  for (let step = 0; step < 5; step += 1) s.push(step, { a: step, b: step * 2 });
  assert.deepEqual(s.data(), [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4], [0, 2, 4, 6, 8]]);
  s.push(2, { a: 20, b: null });
  assert.deepEqual(s.data(), [[0, 1, 2], [0, 1, 20], [0, 2, null]]);
  s.push(2, { a: 21 });
  assert.deepEqual(s.data(['a']), [[0, 1, 2], [0, 1, 21]]);
  s.push(10, { a: 1 });
  assert.deepEqual(s.steps, [0, 1, 2, 10]);
});

test('x can be a field: the virtual clock', () => {
  const s = new Series(['a', 'clock']);
  s.push(0, { a: 1, clock: 0 });
  s.push(1, { a: 2, clock: 0.1 });
  s.push(2, { a: 3, clock: 2.1 });
  assert.deepEqual(s.data(['a'], 'clock'), [[0, 0.1, 2.1], [1, 2, 3]]);
  assert.deepEqual(s.data(['a']), [[0, 1, 2], [1, 2, 3]]);
});

test('the capacity keeps the newest samples', () => {
  const s = new Series(['a'], 3);
  for (let step = 0; step < 10; step += 1) s.push(step, { a: step });
  assert.deepEqual(s.data(), [[7, 8, 9], [7, 8, 9]]);
  s.clear();
  assert.equal(s.length, 0);
});

test('a sample reads free pages, watermarks, the host and the v2 hinted pages', () => {
  const hinting = {
    strategy: 'hinting-v2', next_run: null, pending: [], min_order: 2,
    zones: { Normal: { requested: false, active: false, hinted_pages: [1, 2] } },
    batch: [[0, 2], [4, 1]],
  };
  const st = stateFromSnapshot(snapshot({ hinting }));
  const v = sampleOf(st);
  assert.equal(v.free, 16);
  assert.equal(v.low, 2);
  assert.equal(v.hinted, 1 * 4 + 2 * 8);
  assert.equal(v.isolated, 6);
  assert.equal(v.resident, 100);
  assert.equal(sampleOf(stateFromSnapshot(snapshot())).hinted, null);
});
