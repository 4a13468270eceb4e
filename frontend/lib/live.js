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
import { formatCount, formatPfn, PAGE_SIZE } from './layout.js';
import { FRAME_COLOURS, hexToRgb, mix } from './palette.js';
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
 * @typedef {{node: number, zone: string, start_pfn: number, end_pfn: number, free: number[],
 *            reported: number[], free_pages: number, reported_pages: number,
 *            kinds: Record<string, number>}} LiveFrameZone
 * @typedef {{frames: number, chunk: number, full: boolean, chunks: number[], data: string}} LiveFrameMap
 * @typedef {{frames: number, kinds: string[], zones: LiveFrameZone[], reported_pages: number,
 *            free_code: number, reported_code: number, read_ms: number, derive_ms: number,
 *            map?: LiveFrameMap | null}} LiveFrames
 * @typedef {{names: string[], freeCode: number, reportedCode: number}} KindCodes
 * @typedef {{type: 'live', seq: number, time: number, buddyinfo: LiveZoneWire[],
 *            pagetypeinfo: LivePagetypeinfo | null, zoneinfo: LiveZoneInfo[],
 *            reporting: Record<string, string>, reporting_extra: Record<string, string>,
 *            frames?: LiveFrames | null, messages: string[]}} LiveReading
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
  if (msg.frames != null) checkFrames(msg.frames);
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

/** @param {any} f */
function checkFrames(f) {
  if (typeof f !== 'object' || !Number.isInteger(f.frames) || f.frames < 0) throw new ProtocolError('live.frames.frames must be a count');
  if (!Array.isArray(f.kinds) || !f.kinds.every((/** @type {unknown} */ k) => typeof k === 'string')) {
    throw new ProtocolError('live.frames.kinds must name the kinds');
  }
  if (!Array.isArray(f.zones)) throw new ProtocolError('live.frames.zones must be an array');
  if (!(Number.isInteger(f.free_code) && Number.isInteger(f.reported_code) && f.kinds.length <= f.free_code && f.free_code < f.reported_code && f.reported_code < 256)) {
    throw new ProtocolError('live.frames needs free_code < reported_code after its kinds');
  }
  f.zones.forEach((/** @type {any} */ z, /** @type {number} */ i) => {
    counts(z?.free, `live.frames.zones[${i}].free`);
    counts(z?.reported, `live.frames.zones[${i}].reported`);
  });
  const m = f.map;
  if (m != null) {
    if (m.frames !== f.frames || !Number.isInteger(m.chunk) || m.chunk < 1 || typeof m.data !== 'string') {
      throw new ProtocolError('live.frames.map must have frames, chunk and data');
    }
    counts(m.chunks, 'live.frames.map.chunks');
  }
}

/**
 * The frame map's colours by kind name: free and reported frames as the simulated
 * memory map draws free and reported pages (reported with its checker's second colour
 * in `alt`), allocated frames in darker hues per kind.
 * @type {Readonly<Record<string, {fill: string, alt: string, label: string}>>}
 */
export const KIND_COLOURS = Object.freeze({
  free: { ...FRAME_COLOURS.free, label: 'free (not reported)' },
  reported: { ...FRAME_COLOURS.flagged, label: 'free, reported to the host (PG_reported)' },
  anon: { fill: '#8e5ea2', alt: '#8e5ea2', label: 'anonymous' },
  file: { fill: '#b8860b', alt: '#b8860b', label: 'page cache' },
  slab: { fill: '#a0522d', alt: '#a0522d', label: 'slab' },
  thp: { fill: '#5b3472', alt: '#5b3472', label: 'transparent huge page' },
  hugetlb: { fill: '#2f6f6f', alt: '#2f6f6f', label: 'hugetlbfs' },
  pagetable: { fill: '#c0392b', alt: '#c0392b', label: 'page tables' },
  reserved: { fill: '#1f1f1f', alt: '#1f1f1f', label: 'reserved (PG_reserved)' },
  offline: { fill: '#b9bec7', alt: '#b9bec7', label: 'offline (balloon, virtio-mem)' },
  other: { fill: '#4b5263', alt: '#4b5263', label: 'no flag the map knows: kernel allocations, holes' },
});

/** Columns of the frame map's canvas; rows follow from the frames per pixel. */
export const MAP_COLUMNS = 1024;
/** At most this many rows: a larger machine gets more frames per pixel. */
export const MAP_MAX_ROWS = 256;

/**
 * Frames per pixel: the smallest power of two that fits `frames` into the canvas, so a
 * pixel never straddles a naturally aligned block larger than itself.
 * @param {number} frames
 */
export function framesPerPixel(frames, columns = MAP_COLUMNS, maxRows = MAP_MAX_ROWS) {
  let fpp = 1;
  while (Math.ceil(frames / fpp) > columns * maxRows) fpp *= 2;
  return fpp;
}

/** The kinds of every frame, kept from a full map and patched by each diff. */
export class FrameKinds {
  constructor() {
    this.kinds = new Uint8Array(0);
  }

  /**
   * Apply one map part (its `data` already inflated to `bytes`); returns the frame
   * ranges [from, to) that changed.
   * @param {LiveFrameMap} map
   * @param {Uint8Array} bytes
   * @returns {Array<[number, number]>}
   * @throws {ProtocolError} when the part does not fit the map held
   */
  apply(map, bytes) {
    if (map.full) {
      if (bytes.length !== map.frames) throw new ProtocolError(`a full map of ${map.frames} frames came with ${bytes.length}`);
      this.kinds = bytes.slice();
      return [[0, map.frames]];
    }
    if (this.kinds.length !== map.frames) throw new ProtocolError('a map diff came before the map it changes');
    /** @type {Array<[number, number]>} */
    const ranges = [];
    let offset = 0;
    for (const index of map.chunks) {
      const from = index * map.chunk;
      const to = Math.min(from + map.chunk, map.frames);
      if (from >= map.frames || offset + to - from > bytes.length) throw new ProtocolError(`map chunk ${index} does not fit`);
      this.kinds.set(bytes.subarray(offset, offset + to - from), from);
      offset += to - from;
      ranges.push([from, to]);
    }
    if (offset !== bytes.length) throw new ProtocolError('a map diff carried more bytes than its chunks');
    return ranges;
  }
}

/**
 * One code per pixel for frames [from, to): the pixel's most common code, except that a
 * pixel holding any frame of a reported block takes the most common reported code, so
 * no reported block disappears however many frames a pixel stands for.
 * @param {Uint8Array} kinds
 * @param {number} fpp frames per pixel
 * @param {number} from
 * @param {number} to
 * @param {Uint8Array} out one code per pixel
 * @param {number} reportedCode codes from here up are pages of reported blocks
 */
export function aggregate(kinds, fpp, from, to, out, reportedCode) {
  const tally = new Uint32Array(256);
  const first = Math.floor(from / fpp);
  const last = Math.ceil(to / fpp);
  for (let p = first; p < last; p++) {
    const start = p * fpp;
    const end = Math.min(start + fpp, kinds.length);
    let best = kinds[start];
    if (fpp > 1) {
      tally.fill(0);
      let reported = false;
      for (let i = start; i < end; i++) {
        const k = kinds[i];
        tally[k]++;
        if (k >= reportedCode) reported = true;
      }
      best = reported ? reportedCode : 0;
      for (let k = best + 1; k < 256; k++) if (tally[k] > tally[best]) best = k;
    }
    out[p] = best;
  }
}

/**
 * What a code of the frame map stands for.
 * @param {number} code
 * @param {KindCodes} codes
 */
export function codeName(code, { names, freeCode, reportedCode }) {
  if (code >= reportedCode) return `reported order ${code - reportedCode}`;
  if (code >= freeCode) return `free order ${code - freeCode}`;
  return names[code] ?? `kind ${code}`;
}

/**
 * Frames per kind in one pixel (for the hover line).
 * @param {Uint8Array} kinds
 * @param {number} fpp
 * @param {number} pixel
 * @param {KindCodes} codes
 * @returns {{first: number, last: number, counts: Array<[string, number]>}}
 */
export function pixelCounts(kinds, fpp, pixel, codes) {
  const first = pixel * fpp;
  const last = Math.min(first + fpp, kinds.length) - 1;
  const tally = new Map();
  for (let i = first; i <= last; i++) tally.set(kinds[i], (tally.get(kinds[i]) ?? 0) + 1);
  const counts = /** @type {Array<[string, number]>} */ (
    [...tally.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => [codeName(k, codes), n])
  );
  return { first, last, counts };
}

/** Orders from the lightest to the darkest shade of free and reported blocks. */
const SHADE_ORDERS = 10;

/**
 * The colour of a free (or reported) block of an order: its kind's colour, darker the
 * larger the block.
 * @param {'free' | 'reported'} kind
 * @param {number} order
 * @returns {{fill: string, alt: string}}
 */
export function orderColour(kind, order) {
  const c = KIND_COLOURS[kind];
  const t = (Math.min(order, SHADE_ORDERS) / SHADE_ORDERS) * 0.55;
  const hex = (/** @type {[number, number, number]} */ rgb) => `#${rgb.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
  const dark = /** @type {[number, number, number]} */ ([40, 40, 60]);
  return { fill: hex(mix(hexToRgb(c.fill), dark, t)), alt: hex(mix(hexToRgb(c.alt), dark, t)) };
}

/**
 * RGBA of each code, and of its checker's second colour (reported blocks).
 * @param {KindCodes} codes
 * @returns {{fill: Uint32Array, alt: Uint32Array}}
 */
export function kindLut({ names, freeCode, reportedCode }) {
  const pack = (/** @type {string} */ hex) => {
    const [r, g, b] = hexToRgb(hex);
    return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0; // little-endian RGBA
  };
  const fill = new Uint32Array(256).fill(pack(KIND_COLOURS.other.fill));
  const alt = new Uint32Array(256).fill(pack(KIND_COLOURS.other.alt));
  names.forEach((name, code) => {
    const c = KIND_COLOURS[name] ?? KIND_COLOURS.other;
    fill[code] = pack(c.fill);
    alt[code] = pack(c.alt);
  });
  for (const [kind, base] of /** @type {const} */ ([['free', freeCode], ['reported', reportedCode]])) {
    for (let order = 0; base + order < 256 && (kind === 'reported' || base + order < reportedCode); order++) {
      const c = orderColour(kind, order);
      fill[base + order] = pack(c.fill);
      alt[base + order] = pack(c.alt);
    }
  }
  return { fill, alt };
}

/**
 * A count and its noun: "1 page", "2 pages".
 * @param {number} n
 * @param {string} one
 * @param {string} [many]
 */
export function counted(n, one, many = `${one}s`) {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Readings of reported memory kept for the chart (about ten minutes at one a second). */
export const HISTORY = 600;

/**
 * Add a reading to the chart's columns (time, reported GiB, free GiB), dropping the
 * oldest past `limit`.
 * @param {number[][]} history
 * @param {number} time
 * @param {LiveFrames} frames
 * @param {number} [limit]
 */
export function recordReading(history, time, frames, limit = HISTORY) {
  const gib = (/** @type {number} */ pages) => (pages * PAGE_SIZE) / 2 ** 30;
  const [t, reported, free] = history;
  t.push(time);
  reported.push(gib(frames.reported_pages));
  free.push(gib(frames.zones.reduce((n, z) => n + z.free_pages, 0)));
  while (t.length > limit) history.forEach((column) => column.shift());
}

/**
 * The hover line of one pixel of the map: its pfns, the zones they are in, its frames
 * per kind (commonest first, as `pixelCounts` gives them).
 * @param {{first: number, last: number, counts: Array<[string, number]>}} pixel
 * @param {LiveFrameZone[]} zones
 */
export function hoverLine({ first, last, counts }, zones) {
  const names = zones.filter((z) => z.start_pfn <= last && first < z.end_pfn).map((z) => z.zone);
  const where = names.length ? ` (${names.join(', ')})` : '';
  return `pfn ${formatPfn(first)}–${formatPfn(last)}${where}: ${counts.map(([k, n]) => `${k} ${formatCount(n)}`).join(', ')}`;
}
