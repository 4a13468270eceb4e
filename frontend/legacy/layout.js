// @ts-check
/* The first slice's decoder, kept while the server still speaks the first-slice snapshot; removed when the session protocol lands. */
/**
 * Row layout of the free-list view, computed from a snapshot.  Pure logic, no DOM.
 *
 * One row per order; inside a row one lane per non-empty free list (one per
 * migratetype), blocks from head (left) to tail (right).  A long list is shown as its
 * two ends with a gap item that counts the blocks in between, so a row never turns into
 * an unreadable smear.  Nothing here second-guesses the model: counts are the ones the
 * server sent.
 */

/** Bytes in a base page (x86-64). */
export const PAGE_SIZE = 4096;

/** Blocks drawn from each end of a list before the middle is summarised. */
export const DEFAULT_MAX_ENDS = 4;

/**
 * @typedef {import('./protocol.js').FreeListSlice} FreeListSlice
 * @typedef {import('./protocol.js').ZoneState} ZoneState
 * @typedef {{kind: 'block', pfn: number, position: number}} BlockItem
 * @typedef {{kind: 'gap', count: number}} GapItem
 * @typedef {BlockItem | GapItem} ListItem
 * @typedef {{migratetype: string, count: number, items: ListItem[]}} Lane
 * @typedef {{order: number, nrFree: number, blockSize: string, lanes: Lane[]}} Row
 * @typedef {{name: string, firstPfn: number, lastPfn: number, spannedPages: number,
 *            freePages: number, rows: Row[]}} ZoneLayout
 */

/**
 * "4 KiB", "2 MiB", "1.5 GiB": binary units, at most one decimal.
 * @param {number} bytes
 */
export function formatBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, '');
  return `${text} ${units[unit]}`;
}

/**
 * Size of one block of the given order.
 * @param {number} order
 * @param {number} [pageSize]
 */
export function blockSize(order, pageSize = PAGE_SIZE) {
  return formatBytes(pageSize * 2 ** order);
}

/** @param {number} pfn */
export function formatPfn(pfn) {
  return `0x${pfn.toString(16)}`;
}

/** @param {number} n */
export function formatCount(n) {
  return n.toLocaleString('en-US');
}

/**
 * CSS-friendly name of a migratetype: "HighAtomic" -> "highatomic".
 * @param {string} migratetype
 */
export function migratetypeSlug(migratetype) {
  return migratetype.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/**
 * The items to draw for one free list, head first.
 *
 * Blocks keep their position in the full list; runs of blocks that are not drawn
 * (because the server did not send them, or to keep at most `maxEnds` per end)
 * become one gap item with their count.  A gap of one known block is drawn as the
 * block instead.
 * @param {FreeListSlice} slice
 * @param {number} [maxEnds]
 * @returns {ListItem[]}
 */
export function listItems(slice, maxEnds = DEFAULT_MAX_ENDS) {
  const { count, head, tail } = slice;
  /** @type {Array<[number, number]>} */
  const known = head.map((pfn, i) => [i, pfn]);
  tail.forEach((pfn, i) => known.push([count - tail.length + i, pfn]));
  const keepAll = count <= 2 * maxEnds + 1;
  const shown = known.filter(([pos]) => keepAll || pos < maxEnds || pos >= count - maxEnds);
  /** @type {ListItem[]} */
  const items = [];
  let previous = -1;
  for (const [pos, pfn] of shown) {
    if (pos - previous > 1) items.push({ kind: 'gap', count: pos - previous - 1 });
    items.push({ kind: 'block', pfn, position: pos });
    previous = pos;
  }
  if (count - 1 - previous > 0) items.push({ kind: 'gap', count: count - 1 - previous });
  return items;
}

/**
 * Layout of one zone: a row per order 0..max_order-1, lanes for non-empty lists in
 * the order of `migratetypes`.
 * @param {ZoneState} zone
 * @param {string[]} migratetypes
 * @param {{maxEnds?: number, pageSize?: number}} [options]
 * @returns {ZoneLayout}
 */
export function layoutZone(zone, migratetypes, options = {}) {
  const maxEnds = options.maxEnds ?? DEFAULT_MAX_ENDS;
  const rows = zone.nr_free.map((nrFree, order) => {
    /** @type {Lane[]} */
    const lanes = [];
    for (const migratetype of migratetypes) {
      const slice = zone.free_lists[migratetype]?.[order];
      if (slice && slice.count > 0) {
        lanes.push({ migratetype, count: slice.count, items: listItems(slice, maxEnds) });
      }
    }
    return { order, nrFree, blockSize: blockSize(order, options.pageSize), lanes };
  });
  return {
    name: zone.name,
    firstPfn: zone.start_pfn,
    lastPfn: zone.start_pfn + zone.spanned_pages - 1,
    spannedPages: zone.spanned_pages,
    freePages: zone.free_pages,
    rows,
  };
}
