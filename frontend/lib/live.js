// @ts-check
/**
 * The live host view's data: a `live` reading of this machine's free memory (from
 * `/ws/live`, docs/protocol.md) checked and arranged per zone for the page.  Pure
 * logic, no DOM.
 *
 * A reading holds /proc/buddyinfo (free blocks per order, with the unusable free space
 * index), /proc/pagetypeinfo parsed (per migratetype; null when this user may not read
 * it), /proc/zoneinfo's free pages and watermarks, and the page reporting module's
 * parameters (`page_reporting_order` upstream; anything else is this kernel build's
 * own and shown as optional).  `messages` say what could not be read: the page shows
 * them and whatever could be read.
 */
import { ProtocolError } from './protocol.js';

/**
 * @typedef {{node: number, zone: string, counts: number[], unusable_index: number[]}} LiveZoneWire
 * @typedef {{node: number, zone: string, free: number | null, min: number | null,
 *            low: number | null, high: number | null, spanned: number | null,
 *            present: number | null, managed: number | null}} LiveZoneInfo
 * @typedef {{node: number, zone: string, migratetype: string, counts: number[],
 *            capped: boolean[]}} LiveFreeRow
 * @typedef {{pageblock_order: number, pages_per_block: number, migratetypes: string[],
 *            orders: number, free: LiveFreeRow[], [key: string]: any}} LivePagetypeinfo
 * @typedef {{type: 'live', seq: number, time: number, buddyinfo: LiveZoneWire[],
 *            pagetypeinfo: LivePagetypeinfo | null, zoneinfo: LiveZoneInfo[],
 *            reporting: Record<string, string>, reporting_extra: Record<string, string>,
 *            messages: string[]}} LiveReading
 * @typedef {{type: 'error', code: string, message: string}} LiveError
 * @typedef {{migratetype: string, counts: number[], capped: boolean[]}} LiveTypeRow
 * @typedef {{key: string, label: string, node: number, zone: string, counts: number[],
 *            freePages: number, unusable: number[],
 *            watermarks: {free: number, min: number, low: number, high: number} | null,
 *            byType: LiveTypeRow[] | null}} LiveZone
 */

/** @param {unknown} v @param {string} what */
function counts(v, what) {
  if (!Array.isArray(v) || !v.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new ProtocolError(`${what} must be an array of non-negative integers`);
  }
  return /** @type {number[]} */ (v);
}

/** @param {unknown} v @param {string} what */
function stringMap(v, what) {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((s) => typeof s === 'string')) {
    throw new ProtocolError(`${what} must map names to strings`);
  }
  return /** @type {Record<string, string>} */ (v);
}

/**
 * Parse and check one frame of `/ws/live`: a `live` reading, or the `error` the
 * server sends when the view is turned off.
 * @param {string} text
 * @returns {LiveReading | LiveError}
 * @throws {ProtocolError}
 */
export function decodeLive(text) {
  let msg;
  try {
    msg = JSON.parse(text);
  } catch (e) {
    throw new ProtocolError(`not JSON: ${String(e)}`);
  }
  if (msg === null || typeof msg !== 'object') throw new ProtocolError('a message must be a JSON object');
  if (msg.type === 'error') {
    if (typeof msg.message !== 'string') throw new ProtocolError('error.message must be a string');
    return { type: 'error', code: String(msg.code ?? ''), message: msg.message };
  }
  if (msg.type !== 'live') throw new ProtocolError(`expected a live reading, got ${JSON.stringify(msg.type)}`);
  if (!Number.isInteger(msg.seq) || msg.seq < 1) throw new ProtocolError('live.seq must be a positive integer');
  if (typeof msg.time !== 'number') throw new ProtocolError('live.time must be a number');
  if (!Array.isArray(msg.buddyinfo)) throw new ProtocolError('live.buddyinfo must be an array');
  msg.buddyinfo.forEach((/** @type {any} */ z, /** @type {number} */ i) => {
    if (typeof z?.zone !== 'string' || !Number.isInteger(z.node)) throw new ProtocolError(`live.buddyinfo[${i}] needs node and zone`);
    counts(z.counts, `live.buddyinfo[${i}].counts`);
    counts(z.unusable_index, `live.buddyinfo[${i}].unusable_index`);
  });
  if (msg.pagetypeinfo !== null) {
    const p = msg.pagetypeinfo;
    if (typeof p !== 'object' || !Array.isArray(p.migratetypes) || !Array.isArray(p.free)) {
      throw new ProtocolError('live.pagetypeinfo must be null or have migratetypes and free rows');
    }
    p.free.forEach((/** @type {any} */ r, /** @type {number} */ i) => counts(r?.counts, `live.pagetypeinfo.free[${i}].counts`));
  }
  if (!Array.isArray(msg.zoneinfo)) throw new ProtocolError('live.zoneinfo must be an array');
  stringMap(msg.reporting, 'live.reporting');
  stringMap(msg.reporting_extra, 'live.reporting_extra');
  if (!Array.isArray(msg.messages) || !msg.messages.every((/** @type {unknown} */ m) => typeof m === 'string')) {
    throw new ProtocolError('live.messages must be an array of strings');
  }
  return /** @type {LiveReading} */ (msg);
}

/**
 * Pages in free blocks: sum of count × 2^order.
 * @param {number[]} perOrder
 */
export function freePagesOf(perOrder) {
  return perOrder.reduce((sum, n, order) => sum + n * 2 ** order, 0);
}

/**
 * The reading per zone, in /proc/buddyinfo's order: counts, free pages, the unusable
 * index, the watermarks from zoneinfo (null when zoneinfo lacks the zone or a value)
 * and the per-migratetype counts from pagetypeinfo (null without it).  Zones are
 * called by name, with the node when the machine has several.
 * @param {LiveReading} reading
 * @returns {LiveZone[]}
 */
export function liveZones(reading) {
  const multiNode = new Set(reading.buddyinfo.map((z) => z.node)).size > 1;
  const pti = reading.pagetypeinfo;
  return reading.buddyinfo.map((z) => {
    const info = reading.zoneinfo.find((i) => i.node === z.node && i.zone === z.zone);
    const marks = info && [info.free, info.min, info.low, info.high].every((v) => Number.isInteger(v))
      ? { free: Number(info.free), min: Number(info.min), low: Number(info.low), high: Number(info.high) }
      : null;
    const byType = pti
      ? pti.migratetypes.map((mt) => {
          const row = pti.free.find((r) => r.node === z.node && r.zone === z.zone && r.migratetype === mt);
          return { migratetype: mt, counts: row ? [...row.counts] : z.counts.map(() => 0), capped: row?.capped ?? [] };
        })
      : null;
    return {
      key: `${z.node}:${z.zone}`,
      label: multiNode ? `node ${z.node} ${z.zone}` : z.zone,
      node: z.node,
      zone: z.zone,
      counts: [...z.counts],
      freePages: freePagesOf(z.counts),
      unusable: [...z.unusable_index],
      watermarks: marks,
      byType,
    };
  });
}

/**
 * The reading's zones as /proc/buddyinfo prints them (mm/vmstat.c `frag_show_print`:
 * `"Node %d, zone %8s "` then `"%6lu "` per order): the example a user can load.
 * @param {LiveZoneWire[]} rows
 */
export function buddyinfoText(rows) {
  return rows
    .map((r) => `Node ${r.node}, zone ${r.zone.padStart(8)} ${r.counts.map((n) => `${String(n).padStart(6)} `).join('')}\n`)
    .join('');
}

/**
 * The page reporting parameters as rows: the upstream one(s) first, then this kernel
 * build's own, marked optional.
 * @param {LiveReading} reading
 * @returns {Array<{name: string, value: string, optional: boolean}>}
 */
export function reportingRows(reading) {
  return [
    ...Object.entries(reading.reporting).map(([name, value]) => ({ name, value, optional: false })),
    ...Object.entries(reading.reporting_extra).map(([name, value]) => ({ name, value, optional: true })),
  ];
}

/**
 * Where free pages stand against the watermarks: '' (above high), 'high', 'low' or 'min'
 * (below that mark).
 * @param {{free: number, min: number, low: number, high: number}} w
 */
export function belowMark(w) {
  if (w.free < w.min) return 'min';
  if (w.free < w.low) return 'low';
  if (w.free < w.high) return 'high';
  return '';
}
