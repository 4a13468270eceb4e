import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Cadence, STREAM_PERIODS } from '../../frontend/lib/cadence.js';

test('while streaming, at most one panel a frame, each no more often than its period', () => {
  const c = new Cadence();
  const drawn = /** @type {Record<string, number[]>} */ ({});
  // Ten seconds of 60 Hz frames, every panel changing in every frame.
  for (let frame = 0; frame < 600; frame += 1) {
    const now = 1000 + frame * (1000 / 60);
    c.want(['lists', 'state', 'charts', 'narration', 'log']);
    const turn = c.next(now);
    if (!turn) continue;
    c.done(turn, now);
    (drawn[turn] ??= []).push(now);
  }
  for (const [panel, times] of Object.entries(drawn)) {
    const period = STREAM_PERIODS[/** @type {keyof typeof STREAM_PERIODS} */ (panel)];
    for (let i = 1; i < times.length; i += 1) assert.ok(times[i] - times[i - 1] >= period, `${panel} drawn twice within ${period} ms`);
    // ... and it is not starved by the others: within two frames of its period.
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    assert.ok(Math.max(...gaps) <= period + 2 * (1000 / 60) + 1e-6, `${panel}: gaps ${Math.max(...gaps)}`);
  }
  assert.deepEqual(Object.keys(drawn).sort(), ['charts', 'lists', 'log', 'narration', 'state']);
});

test('the panel most overdue goes first; a panel with nothing new never', () => {
  const c = new Cadence({ lists: 100, narration: 100, state: 100, log: 100, charts: 100 });
  c.done('lists', 0);
  c.done('state', 50);
  c.want(['lists', 'state']);
  assert.equal(c.next(120), 'lists'); // 20 ms past its period; state only 70 ms in
  assert.equal(c.next(90), null); // neither period has passed
  c.done('lists', 120);
  assert.equal(c.next(160), 'state');
  c.done('state', 160);
  assert.equal(c.pending, false);
  assert.equal(c.next(10_000), null);
});

test('a panel out of view waits, and stays due for when it is back or the play stops', () => {
  const c = new Cadence();
  c.want(['log', 'lists']);
  const hidden = new Set(/** @type {const} */ (['log']));
  assert.equal(c.next(10_000, hidden), 'lists');
  c.done('lists', 10_000);
  assert.equal(c.next(20_000, hidden), null);
  assert.equal(c.pending, true);
  assert.deepEqual([...c.due], ['log']);
  assert.equal(c.next(20_000), 'log');
});
