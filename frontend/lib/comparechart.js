// @ts-check
/**
 * The comparison panel's data: GET /api/compare (allocator_model.lab.compare) turned into
 * the chart "memory returned to the host over time".  Pure logic; the table itself is
 * the API's `rows` (the same rows `buddyscope compare` prints), shown as they come.
 */
import { PAGE_SIZE } from './layout.js';

/**
 * @typedef {{t_s: number, when: string, pages: number}} ReturnedAt
 * @typedef {{strategy: string, returned_pages: number, until_s: number,
 *            returned_at: ReturnedAt[], series: Array<[number, number, number, number]>}} StrategyRun
 * @typedef {{what: string, seed: number, kernel: string, strategies: string[],
 *            results: StrategyRun[], rows: Array<{label: string, values: string[]}>,
 *            command: string, notes: string[]}} Comparison
 * @typedef {{xs: number[], columns: number[][], strategies: string[]}} ReturnedChart
 */

const MIB = 2 ** 20;

/**
 * Where a run's returned memory changes: [[t, pages], ...] from its series of
 * (t, returned, resident, refaults) samples, starting at its first sample.
 * @param {Array<[number, number, number, number]>} series
 * @returns {Array<[number, number]>}
 */
export function returnedSteps(series) {
  /** @type {Array<[number, number]>} */
  const out = [];
  for (const [t, returned] of series) {
    if (!out.length || out[out.length - 1][1] !== returned) out.push([t, returned]);
  }
  return out;
}

/**
 * uPlot data for the chart: x is virtual seconds, one MiB column per strategy.  Each
 * strategy's value at an x is its last change at or before it (the memory returned is
 * a step function of time); the x values are every strategy's changes, 0, and the end:
 * the last sample of the series or of the table, whichever is later.
 * @param {Comparison} cmp
 * @returns {ReturnedChart}
 */
export function returnedChart(cmp) {
  const steps = cmp.results.map((r) => returnedSteps(r.series));
  let end = 0;
  for (const r of cmp.results) {
    const last = r.series.length ? r.series[r.series.length - 1][0] : 0;
    const sampled = r.returned_at.length ? r.returned_at[r.returned_at.length - 1].t_s : 0;
    end = Math.max(end, last, sampled);
  }
  const xs = [...new Set([0, end, ...steps.flatMap((s) => s.map(([t]) => t))])].sort((a, b) => a - b);
  const columns = steps.map((s) => {
    let k = -1;
    return xs.map((x) => {
      while (k + 1 < s.length && s[k + 1][0] <= x) k += 1;
      return k < 0 ? 0 : (s[k][1] * PAGE_SIZE) / MIB;
    });
  });
  return { xs, columns, strategies: cmp.results.map((r) => r.strategy) };
}

/**
 * The query of GET /api/compare for a session, or why compare() cannot replay it.
 * @param {{session: string, config: {source?: {kind?: string} | null}}} state
 * @returns {{query: string} | {refused: string}}
 */
export function compareQuery(state) {
  if (state.config.source?.kind === 'buddyinfo') {
    return {
      refused:
        'compare() cannot replay this session: it starts from a machine\'s /proc/buddyinfo, ' +
        'which holds free lists but no workload to run under each strategy.',
    };
  }
  return { query: `session=${encodeURIComponent(state.session)}` };
}
