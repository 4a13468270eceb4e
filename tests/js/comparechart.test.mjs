import { test } from 'node:test';
import assert from 'node:assert/strict';

import { compareQuery, returnedChart, returnedSteps } from '../../frontend/lib/comparechart.js';
import { STRATEGY_STYLES } from '../../frontend/lib/palette.js';

const MIB_PAGES = 256; // 4 KiB pages in a MiB

/** A run as GET /api/compare sends it (only the fields the chart reads). */
function run(strategy, series, sampledUntil) {
  return {
    strategy,
    returned_pages: series[series.length - 1][1],
    until_s: 600,
    returned_at: [{ t_s: 0, when: 'last free', pages: 0 }, { t_s: sampledUntil, when: 'last free + 60 s', pages: 0 }],
    series,
  };
}

test('the returned memory changes where the series says, repeats dropped', () => {
  const series = [[0, 0, 10, 0], [0, 0, 12, 0], [0.1, 512, 4, 0], [0.2, 512, 4, 1], [2, 1024, 0, 1]];
  assert.deepEqual(returnedSteps(series), [[0, 0], [0.1, 512], [2, 1024]]);
  assert.deepEqual(returnedSteps([]), []);
});

test('one MiB column per strategy, each a step function on the union of the change times', () => {
  const cmp = {
    strategies: ['none', 'hinting-v2', 'reporting'],
    results: [
      run('none', [[0, 0, 0, 0], [20, 0, 0, 0]], 60),
      run('hinting-v2', [[0, 0, 0, 0], [0.101, 8 * MIB_PAGES, 0, 0], [0.102, 16 * MIB_PAGES, 0, 0], [20, 16 * MIB_PAGES, 0, 0]], 60),
      run('reporting', [[0, 0, 0, 0], [2, 8 * MIB_PAGES, 0, 0], [4, 16 * MIB_PAGES, 0, 0], [20, 16 * MIB_PAGES, 0, 0]], 60),
    ],
  };
  const chart = returnedChart(/** @type {any} */ (cmp));
  assert.deepEqual(chart.strategies, ['none', 'hinting-v2', 'reporting']);
  // 0, every change, and the end: the table's last sample (60 s) is after the series (20 s).
  assert.deepEqual(chart.xs, [0, 0.101, 0.102, 2, 4, 60]);
  assert.deepEqual(chart.columns, [
    [0, 0, 0, 0, 0, 0],
    [0, 8, 16, 16, 16, 16],
    [0, 0, 0, 8, 16, 16],
  ]);
});

test('the chart ends at the last series sample when the table stops earlier', () => {
  const cmp = { strategies: ['reporting'], results: [run('reporting', [[0, 0, 0, 0], [3, MIB_PAGES, 0, 0], [90, MIB_PAGES, 0, 0]], 60)] };
  const chart = returnedChart(/** @type {any} */ (cmp));
  assert.deepEqual(chart.xs, [0, 3, 90]);
  assert.deepEqual(chart.columns, [[0, 1, 1]]);
});

test('a session from /proc is refused plainly; any other asks by session id', () => {
  const refused = compareQuery({ session: 'a b', config: { source: { kind: 'buddyinfo' } } });
  assert.ok('refused' in refused && /\/proc\/buddyinfo/.test(refused.refused) && /no workload/.test(refused.refused));
  assert.deepEqual(compareQuery({ session: 'a b', config: { source: { kind: 'trace' } } }), { query: 'session=a%20b' });
  assert.deepEqual(compareQuery({ session: 's1', config: { source: null } }), { query: 'session=s1' });
});

test('every strategy has its own colour and its own dash pattern', () => {
  const styles = Object.values(STRATEGY_STYLES);
  assert.equal(new Set(styles.map((s) => s.colour)).size, styles.length);
  assert.equal(new Set(styles.map((s) => JSON.stringify(s.dash))).size, styles.length);
  assert.equal(new Set(styles.map((s) => s.border)).size, styles.length);
  assert.deepEqual(Object.keys(STRATEGY_STYLES).sort(), ['hinting-v2', 'none', 'reporting']);
});
