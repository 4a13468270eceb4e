// @ts-check
/**
 * The unusable free space index as a table (Gorman & Whitcroft, "The What, The Why and
 * the Where To of Anti-Fragmentation", OLS 2006; the kernel's debugfs
 * `extfrag/unusable_index`).  For an order j it is the share of a zone's free memory
 * that sits in blocks smaller than 2^j pages and so cannot serve a request of order j:
 * 0 = every free page is usable, 1 = none is (or nothing is free).
 *
 * `unusableIndex` is the kernel's `unusable_free_index()` (mm/vmstat.c) on a zone's
 * `nr_free[]`, in thousandths with its integer arithmetic, exactly as
 * allocator_model/kernel/fragmentation.py computes it (the live view's readings carry the
 * server's values; a session's state has `nr_free`, from which the page derives it).
 * `unusableTable` computes the cells (one per zone and order, in the kernel's `%d.%03d`
 * format); `orderBands` cuts the orders into the bands the page draws them in, orders as
 * columns and zones as rows as debugfs prints them.  Pure logic, no DOM.
 */

/** Shading steps of a cell (thousandths): below 100, 250, 500, 750, and above. */
export const LEVEL_STEPS = Object.freeze([100, 250, 500, 750]);

/**
 * Unusable free space index of every order, in thousandths: for order j,
 * (free pages - pages in blocks of order >= j) * 1000 / free pages, rounded down;
 * 1000 when nothing is free.
 * @param {number[]} nrFree free blocks per order
 * @returns {number[]}
 */
export function unusableIndex(nrFree) {
  const freePages = nrFree.reduce((sum, n, k) => sum + n * 2 ** k, 0);
  return nrFree.map((_, order) => {
    if (freePages === 0) return 1000;
    let usable = 0;
    for (let k = order; k < nrFree.length; k += 1) usable += nrFree[k] * 2 ** k;
    return Math.floor(((freePages - usable) * 1000) / freePages);
  });
}

/**
 * The kernel's text for a value in thousandths (`unusable_index` prints `%d.%03d`).
 * @param {number} thousandths
 */
export function formatThousandths(thousandths) {
  const sign = thousandths < 0 ? '-' : '';
  const v = Math.abs(thousandths);
  return `${sign}${Math.floor(v / 1000)}.${String(v % 1000).padStart(3, '0')}`;
}

/**
 * Shading level 0..4 of a value (0: almost all free memory usable at this order).
 * @param {number} thousandths
 */
export function unusableLevel(thousandths) {
  let level = 0;
  for (const step of LEVEL_STEPS) if (thousandths >= step) level += 1;
  return level;
}

/**
 * @typedef {{zone: string, value: number | null, text: string, level: number,
 *            label: string}} UnusableCell
 * @typedef {{order: number, cells: UnusableCell[]}} UnusableRow
 * @typedef {{zones: string[], rows: UnusableRow[]}} UnusableTable
 */

/**
 * One row per order, one cell per zone.  A zone that sent no value for an order (an
 * older server, a shorter zone) gets an empty cell, never a made-up number.
 * @param {Array<{name: string, unusable: number[]}>} zones
 * @param {number} maxOrder
 * @returns {UnusableTable}
 */
export function unusableTable(zones, maxOrder) {
  const rows = [];
  for (let order = 0; order < maxOrder; order += 1) {
    rows.push({
      order,
      cells: zones.map((z) => {
        const value = Number.isInteger(z.unusable[order]) ? z.unusable[order] : null;
        if (value === null) {
          return { zone: z.name, value, text: '—', level: 0, label: `${z.name}, order ${order}: not known` };
        }
        const pct = (value / 10).toFixed(1).replace(/\.0$/, '');
        return {
          zone: z.name,
          value,
          text: formatThousandths(value),
          level: unusableLevel(value),
          label: `${z.name}, order ${order}: ${pct}% of the free memory is in blocks too small for an order-${order} request`,
        };
      }),
    });
  }
  return { zones: zones.map((z) => z.name), rows };
}

/**
 * The orders cut into `bands` runs of consecutive orders, as even as can be (the first
 * ones one longer): a table with orders as columns fits a narrow column in two bands of
 * six and five, each value printed whole.
 * @param {number} count how many orders (max_order)
 * @param {number} bands
 * @returns {number[][]}
 */
export function orderBands(count, bands) {
  const n = Math.max(1, Math.min(bands, count));
  const out = [];
  let order = 0;
  for (let b = 0; b < n; b += 1) {
    const size = Math.floor(count / n) + (b < count % n ? 1 : 0);
    out.push(Array.from({ length: size }, (_, i) => order + i));
    order += size;
  }
  return out;
}
