// @ts-check
/**
 * The per-cpu lists lane: what it shows, from the server's `pcp` sets of a zone (one per
 * CPU).  Pure logic, no DOM; `views/pcplane.js` draws it.
 *
 * The counts, `high` and `batch` are the model's (6.12 tunes `high` between `high_min`
 * and `high_max`); the page only groups the lists by order.
 */

/** What a session without per-cpu lists says (scenarios that teach the raw buddy lists). */
export const PCP_OFF_TEXT = 'pcp off: single pages go straight to the buddy lists';

/**
 * @typedef {{order: number, migratetypes: string[], blocks: number, pfns: number[]}} PcpList
 * @typedef {{cpu: number, count: number, high: number, batch: number, high_min: number,
 *            high_max: number, lists: PcpList[]}} PcpSet
 * @typedef {{label: string, migratetype: string, blocks: number, pages: number,
 *            pfns: number[]}} PcpCell
 * @typedef {{cpu: number, title: string, fill: number, count: number,
 *            rows: Array<{order: number, cells: PcpCell[]}>}} PcpCpu
 * @typedef {{off: string | null, cpus: PcpCpu[]}} PcpLane
 */

/**
 * @param {number} pfn
 * @returns {string}
 */
export const hexPfn = (pfn) => `0x${pfn.toString(16)}`;

/**
 * The lane of one zone: a sentence when the lists are off, else one entry per CPU with
 * its numbers and its lists grouped by order (every list, empty ones too, so the lane
 * keeps its shape while pages come and go).
 * @param {{pcp: boolean}} config
 * @param {PcpSet[] | undefined} sets
 * @returns {PcpLane}
 */
export function pcpLane(config, sets) {
  if (!config.pcp) return { off: PCP_OFF_TEXT, cpus: [] };
  const cpus = (sets ?? []).map((s) => {
    /** @type {Map<number, PcpCell[]>} */
    const byOrder = new Map();
    for (const l of s.lists) {
      const cells = byOrder.get(l.order) ?? [];
      cells.push({
        label: l.migratetypes.join('+'),
        migratetype: l.migratetypes[0],
        blocks: l.blocks,
        pages: l.blocks * 2 ** l.order,
        pfns: l.pfns,
      });
      byOrder.set(l.order, cells);
    }
    const tuned = s.high_min !== s.high_max;
    return {
      cpu: s.cpu,
      count: s.count,
      title:
        `CPU ${s.cpu}: ${s.count} pages, high ${s.high}` +
        (tuned ? ` (tunes ${s.high_min}–${s.high_max})` : '') +
        `, batch ${s.batch}`,
      fill: s.high > 0 ? Math.min(1, s.count / s.high) : s.count > 0 ? 1 : 0,
      rows: [...byOrder].map(([order, cells]) => ({ order, cells })),
    };
  });
  return { off: null, cpus };
}

/**
 * The hover text of one list: its blocks, pages and the next blocks it hands out.
 * @param {number} order
 * @param {PcpCell} cell
 * @returns {string}
 */
export function cellTitle(order, cell) {
  const pages = cell.blocks === 1 ? '1 page' : `${cell.blocks} pages`;
  const what = order === 0 ? pages : `${cell.blocks} order-${order} blocks (${cell.pages} pages)`;
  const next = cell.pfns.length ? `; next: ${cell.pfns.map(hexPfn).join(', ')}${cell.blocks > cell.pfns.length ? ', …' : ''}` : '';
  return `${cell.label}, order ${order}: ${what}${next}`;
}
