// @ts-check
/**
 * The free block that holds a page frame, as the hover and the inspector show it: from
 * the list entries the page was sent, or from the model's answer about the frame
 * (`GET /api/sessions/{id}/page/{pfn}`, asked by views/inspector.js's PageQuery), and
 * the block's place in its list as the inspector writes it.  No DOM.
 */
import { knownEntries } from './layout.js';

/**
 * @typedef {import('./state.js').ZoneModel} ZoneModel
 * @typedef {{pfn: number, order: number, migratetype: string, position: number,
 *            length: number, flagged: boolean}} KnownBlock
 */

/**
 * The free block holding `pfn`, if it is among the list entries the page knows.
 * (Layout from what was sent: try each order's aligned head.)
 * @param {ZoneModel} zone
 * @param {number} pfn
 * @param {number} maxOrder
 * @returns {KnownBlock | null}
 */
export function knownFreeBlock(zone, pfn, maxOrder) {
  for (let order = 0; order < maxOrder; order += 1) {
    const head = pfn - (pfn % 2 ** order);
    for (const list of zone.lists.values()) {
      if (list.order !== order) continue;
      const hit = knownEntries(list).find((e) => e.pfn === head);
      if (hit) return { pfn: head, order, migratetype: list.migratetype, position: hit.position, length: list.length, flagged: hit.flagged };
    }
  }
  return null;
}

/**
 * A free block as the hover and the inspector show it, from the model's answer (null
 * for a frame that is not in a free block on a list).
 * @param {any} data
 * @returns {KnownBlock | null}
 */
export function answeredBlock(data) {
  if (!data || typeof data.list_migratetype !== 'string' || typeof data.list_index !== 'number') return null;
  return {
    pfn: data.block_pfn,
    order: data.block_order,
    migratetype: data.list_migratetype,
    position: data.list_index,
    length: data.list_length,
    flagged: Boolean(data.hinted || data.reported),
  };
}

/**
 * ": #37 of 68 from the head" when the server placed the block in its list.
 * @param {{list_index?: number | null, list_length?: number | null}} data
 */
export function listPosition(data) {
  return typeof data.list_index === 'number' && typeof data.list_length === 'number'
    ? `: #${data.list_index + 1} of ${data.list_length} from the head`
    : '';
}
