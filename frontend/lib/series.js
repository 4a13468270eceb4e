// @ts-check
/**
 * Time series for the charts, one sample per step the page has seen.  Pure logic.
 *
 * Samples are kept by step (a chart's x is the virtual clock or the step).  They stay sorted by step: going back (back, seek, a new
 * branch) drops every sample at or after the new step before adding it, so the chart
 * always shows one consistent history up to the current step.  At most `capacity`
 * samples are kept (the oldest go first).
 */

export class Series {
  /**
   * @param {string[]} fields names of the y columns
   * @param {number} [capacity]
   */
  constructor(fields, capacity = 5000) {
    this.fields = fields;
    this.capacity = capacity;
    /** @type {number[]} */
    this.steps = [];
    /** @type {Array<Array<number | null>>} */
    this.columns = fields.map(() => []);
  }

  get length() {
    return this.steps.length;
  }

  clear() {
    this.steps = [];
    this.columns = this.fields.map(() => []);
  }

  /**
   * Add the sample of `step`.
   * @param {number} step
   * @param {Record<string, number | null>} values
   */
  push(step, values) {
    let n = this.steps.length;
    if (n && this.steps[n - 1] >= step) {
      // Binary search for the first sample at or after `step`.
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.steps[mid] < step) lo = mid + 1;
        else hi = mid;
      }
      this.steps.length = lo;
      for (const c of this.columns) c.length = lo;
      n = lo;
    }
    this.steps.push(step);
    this.fields.forEach((f, i) => this.columns[i].push(values[f] ?? null));
    if (n + 1 > this.capacity) {
      const drop = n + 1 - this.capacity;
      this.steps.splice(0, drop);
      for (const c of this.columns) c.splice(0, drop);
    }
  }

  /**
   * uPlot's data format: [xs, ys1, ys2, ...] for the chosen fields; xs are the steps,
   * or (`x` a field, e.g. the virtual clock) that field's values.
   * @param {string[]} [fields]
   * @param {string} [x]
   * @returns {Array<Array<number | null>>}
   */
  data(fields = this.fields, x = 'step') {
    const xs = x === 'step' ? this.steps : this.columns[this.fields.indexOf(x)];
    return [xs, ...fields.map((f) => this.columns[this.fields.indexOf(f)])];
  }
}

/**
 * The numbers the charts plot for one state.
 * @param {import('./state.js').ClientState} state
 * @returns {Record<string, number | null>}
 */
export function sampleOf(state) {
  let free = 0;
  let low = 0;
  let min = 0;
  let high = 0;
  let flagged = 0;
  let isolated = 0;
  for (const z of state.zones) {
    free += z.nrFreePages;
    low += z.watermarks.low;
    min += z.watermarks.min;
    high += z.watermarks.high;
  }
  const v2 = state.hinting.strategy === 'hinting-v2' ? state.hinting.zones : null;
  if (v2) {
    const minOrder = state.hinting.min_order ?? 0;
    for (const name of Object.keys(v2)) {
      (v2[name].hinted_pages ?? []).forEach((/** @type {number} */ n, /** @type {number} */ i) => {
        flagged += n * 2 ** (minOrder + i);
      });
    }
  }
  for (const [, order] of state.hinting.batch ?? []) isolated += 2 ** order;
  return {
    free,
    min,
    low,
    high,
    resident: state.host.resident_pages,
    discarded: state.host.discarded_pages,
    reported: state.host.pages_reported,
    refaults: state.host.refaults,
    hinted: v2 ? flagged : null,
    isolated,
    clock: state.clock,
  };
}
