// @ts-check
/**
 * The page's copy of the session state: built from a `snapshot`, moved forward by each
 * `delta`.  Pure logic, no DOM.
 *
 * Per-page arrays (page_state, host_backing, pageblock_mt) are decoded once into typed
 * arrays and patched in place by the delta's ranges, so a 4 GiB zone (1,048,576 pages)
 * costs one decode per snapshot and almost nothing per step.  Every change is recorded
 * in a `Changes` object so views redraw only what moved.
 *
 * Nothing here decides anything the model decides: counts, lists, flags and states
 * are the server's.
 */
import { base64ToBytes, ProtocolError } from './protocol.js';
import { decodeQuizState } from './quiz.js';

/**
 * @typedef {import('./protocol.js').WireList} WireList
 * @typedef {import('./protocol.js').Snapshot} Snapshot
 * @typedef {import('./protocol.js').Delta} Delta
 * @typedef {{name: string, index: number, startPfn: number, spannedPages: number,
 *            managedPages: number, nrFree: number[], nrFreePages: number,
 *            watermarks: {min: number, low: number, high: number},
 *            lists: Map<string, WireList>, pageblockMt: Uint8Array, pageState: Uint8Array,
 *            hostBacking: Uint8Array, stateCounts: Float64Array, hostCounts: Float64Array,
 *            pcp: import('./pcp.js').PcpSet[]}} ZoneModel
 * @typedef {{seq: number, session: string, step: number, timelineLength: number,
 *            playing: boolean, speed: number, clock: number, op: number,
 *            config: import('./protocol.js').Config, zones: ZoneModel[],
 *            zoneByName: Map<string, ZoneModel>,
 *            hinting: import('./protocol.js').HintingState,
 *            host: import('./protocol.js').HostStats, breakpoints: string[],
 *            marks: import('./protocol.js').Mark[], marksTruncated: boolean, following: boolean,
 *            chapters: import('./chapters.js').Chapter[],
 *            setup: {steps: number, text: string} | null,
 *            events: import('./protocol.js').ModelEvent[], branch: number,
 *            branches: Array<{id: number, parent: number | null, fork_step: number,
 *                             length: number, reason: string}>,
 *            quiz: import('./quiz.js').QuizState | null}} ClientState
 * @typedef {{full: boolean, lists: Set<string>, counts: Set<string>,
 *            pages: Map<string, Array<[number, number]>>, hinting: boolean,
 *            host: boolean, zonesTouched: Set<string>, pageblocks: Set<string>,
 *            step?: boolean, mapRanges?: boolean}} Changes
 *   `mapRanges`: everything is drawn anew (`full`) but the memory map, which shows every
 *   zone, paints only `pages`: the view moved to another zone.
 */

/**
 * Key of one free list in `ZoneModel.lists`.
 * @param {number} order
 * @param {string} migratetype
 */
export const listKey = (order, migratetype) => `${order}:${migratetype}`;

/** A `Changes` value meaning "everything". */
export function fullChanges() {
  return {
    full: true,
    lists: new Set(),
    counts: new Set(),
    pages: new Map(),
    hinting: true,
    host: true,
    zonesTouched: new Set(),
    pageblocks: new Set(),
  };
}

/** @returns {Changes} */
function noChanges() {
  return { ...fullChanges(), full: false, hinting: false, host: false };
}

/**
 * @param {string} b64
 * @param {number} expected
 * @param {string} what
 */
function decodeArray(b64, expected, what) {
  const bytes = base64ToBytes(b64);
  if (bytes.length !== expected) {
    throw new ProtocolError(`${what}: ${bytes.length} bytes, expected ${expected}`);
  }
  return bytes;
}

/**
 * How many bytes of each value lie in bytes[from, to) (values >= size are counted in
 * the last slot).
 * @param {Uint8Array} bytes
 * @param {number} from
 * @param {number} to
 * @param {number} size
 */
export function countBytes(bytes, from, to, size) {
  const counts = new Float64Array(size);
  const last = size - 1;
  for (let i = from; i < to; i += 1) {
    const v = bytes[i];
    counts[v < last ? v : last] += 1;
  }
  return counts;
}

/**
 * Overwrite target[offset..] with `bytes`, keeping `counts` (a histogram of target's
 * values) up to date.
 * @param {Uint8Array} target
 * @param {number} offset
 * @param {Uint8Array} bytes
 * @param {Float64Array} counts
 */
function patchCounted(target, offset, bytes, counts) {
  const last = counts.length - 1;
  for (let i = 0; i < bytes.length; i += 1) {
    const old = target[offset + i];
    const v = bytes[i];
    counts[old < last ? old : last] -= 1;
    counts[v < last ? v : last] += 1;
  }
  target.set(bytes, offset);
}

/**
 * Build the client state from a snapshot.
 * @param {Snapshot} snap
 * @returns {ClientState}
 */
export function stateFromSnapshot(snap) {
  const pbPages = 2 ** snap.config.pageblock_order;
  const zones = snap.zones.map((z, index) => {
    /** @type {Map<string, WireList>} */
    const lists = new Map();
    for (const l of z.lists) if (l.length > 0) lists.set(listKey(l.order, l.migratetype), l);
    // One byte per pageblock the zone touches, from its start rounded down (as the model
    // keeps them: zone.pageblock_mt).
    const pageblocks =
      z.spanned_pages === 0
        ? 0
        : Math.floor((z.start_pfn + z.spanned_pages - 1) / pbPages) - Math.floor(z.start_pfn / pbPages) + 1;
    const pageState = decodeArray(z.page_state, z.spanned_pages, `zone ${z.name} page_state`);
    const hostBacking = decodeArray(z.host_backing, z.spanned_pages, `zone ${z.name} host_backing`);
    return {
      name: z.name,
      index,
      startPfn: z.start_pfn,
      spannedPages: z.spanned_pages,
      managedPages: z.managed_pages ?? z.spanned_pages,
      nrFree: [...z.nr_free],
      nrFreePages: z.nr_free_pages,
      watermarks: z.watermarks ?? { min: 0, low: 0, high: 0 },
      lists,
      pageblockMt: decodeArray(z.pageblock_mt, pageblocks, `zone ${z.name} pageblock_mt`),
      pageState,
      hostBacking,
      stateCounts: countBytes(pageState, 0, pageState.length, 8),
      hostCounts: countBytes(hostBacking, 0, hostBacking.length, 4),
      pcp: z.pcp ?? [],
    };
  });
  return {
    seq: snap.seq,
    session: snap.session,
    step: snap.step,
    timelineLength: snap.timeline_length,
    playing: snap.playing,
    speed: snap.speed,
    clock: snap.clock,
    op: snap.op ?? 0,
    config: snap.config,
    zones,
    zoneByName: new Map(zones.map((z) => [z.name, z])),
    hinting: snap.hinting,
    host: snap.host,
    breakpoints: snap.breakpoints ?? [],
    marks: snap.marks ?? [],
    marksTruncated: snap.marks_truncated ?? false,
    chapters: snap.chapters ?? [],
    setup: snap.setup ?? null,
    following: snap.following ?? true,
    events: snap.events ?? [],
    branch: snap.branch ?? 0,
    branches: snap.branches ?? [],
    quiz: decodeQuizState(snap.quiz),
  };
}

/**
 * Copy `bytes` into `target` at `offset`, refusing ranges outside the array.
 * @param {Uint8Array} target
 * @param {number} offset
 * @param {Uint8Array} bytes
 * @param {string} what
 */
function patch(target, offset, bytes, what) {
  if (offset < 0 || offset + bytes.length > target.length) {
    throw new ProtocolError(`${what}: range ${offset}+${bytes.length} outside 0..${target.length}`);
  }
  target.set(bytes, offset);
}

/**
 * Whether a delta follows the state directly.  A gap (or an old delta) means the page
 * missed something and must ask for a snapshot.
 * @param {ClientState} state
 * @param {Delta} delta
 */
export function followsDirectly(state, delta) {
  return delta.seq === state.seq + 1;
}

/**
 * Apply a delta in place and say what changed.  Throws ProtocolError when the delta
 * does not fit the state (unknown zone, a range outside the zone); the caller then
 * asks for a snapshot.  The sequence check is the caller's (`followsDirectly`).
 * @param {ClientState} state
 * @param {Delta} delta
 * @returns {Changes}
 */
export function applyDelta(state, delta) {
  const changes = noChanges();
  const quiz = delta.quiz === undefined ? state.quiz : decodeQuizState(delta.quiz);
  // Check everything first so a bad delta leaves the state as it was.
  const decoded = delta.zones.map((zd) => {
    const zone = state.zoneByName.get(zd.name);
    if (!zone) throw new ProtocolError(`delta for unknown zone ${JSON.stringify(zd.name)}`);
    if (zd.nr_free.length !== zone.nrFree.length) {
      throw new ProtocolError(`delta zone ${zd.name}: nr_free has ${zd.nr_free.length} orders`);
    }
    /** @param {Array<[number, string]> | undefined} ranges @param {number} base @param {number} size @param {string} what */
    const ranges = (ranges, base, size, what) =>
      (ranges ?? []).map(([start, b64]) => {
        const bytes = base64ToBytes(b64);
        const offset = start - base;
        if (offset < 0 || offset + bytes.length > size) {
          throw new ProtocolError(`delta zone ${zd.name} ${what}: ${start}+${bytes.length} outside the zone`);
        }
        return /** @type {[number, Uint8Array]} */ ([offset, bytes]);
      });
    return {
      zone,
      zd,
      pages: ranges(zd.page_ranges, zone.startPfn, zone.spannedPages, 'page_ranges'),
      host: ranges(zd.host_ranges, zone.startPfn, zone.spannedPages, 'host_ranges'),
      blocks: ranges(zd.pageblock_ranges, 0, zone.pageblockMt.length, 'pageblock_ranges'),
    };
  });

  for (const { zone, zd, pages, host, blocks } of decoded) {
    changes.zonesTouched.add(zone.name);
    zone.nrFree = [...zd.nr_free];
    zone.nrFreePages = zd.nr_free_pages;
    changes.counts.add(zone.name);
    if (zd.pcp) zone.pcp = zd.pcp; // sent when the step changed the per-cpu lists
    for (const l of zd.lists) {
      const key = listKey(l.order, l.migratetype);
      if (l.length === 0) zone.lists.delete(key);
      else zone.lists.set(key, l);
      changes.lists.add(`${zone.name}/${key}`);
    }
    /** @type {Array<[number, number]>} */
    const dirty = [];
    for (const [offset, bytes] of pages) {
      patchCounted(zone.pageState, offset, bytes, zone.stateCounts);
      dirty.push([offset, bytes.length]);
    }
    for (const [offset, bytes] of host) {
      patchCounted(zone.hostBacking, offset, bytes, zone.hostCounts);
      dirty.push([offset, bytes.length]);
    }
    const pbPages = 2 ** state.config.pageblock_order;
    const lead = zone.startPfn % pbPages; // frames of the first pageblock before the zone
    if (blocks.length) changes.pageblocks.add(zone.name);
    for (const [offset, bytes] of blocks) {
      patch(zone.pageblockMt, offset, bytes, 'pageblock_ranges');
      const first = Math.max(0, offset * pbPages - lead);
      const last = Math.min(zone.spannedPages, (offset + bytes.length) * pbPages - lead);
      dirty.push([first, last - first]);
    }
    if (dirty.length) changes.pages.set(zone.name, dirty);
  }

  // A delta with no events at the same step only changes playing/speed: the step's
  // events stay what they were.
  const newStep = delta.step !== state.step || delta.events.length > 0 || delta.zones.length > 0;
  changes.step = newStep;
  state.seq = delta.seq;
  state.step = delta.step;
  state.timelineLength = delta.timeline_length;
  state.clock = delta.clock;
  state.op = delta.op ?? state.op;
  state.playing = delta.playing;
  state.speed = delta.speed;
  if (newStep) state.events = delta.events;
  if (delta.following !== undefined) state.following = delta.following;
  if (delta.branch !== undefined) state.branch = delta.branch;
  if (JSON.stringify(state.hinting) !== JSON.stringify(delta.hinting)) changes.hinting = true;
  state.hinting = delta.hinting;
  changes.host = JSON.stringify(state.host) !== JSON.stringify(delta.host);
  state.host = delta.host;
  state.quiz = quiz;
  // The answer to `breakpoints`: the session's new breakpoints and the marks they make
  // (new arrays, so a view can tell they changed).
  if (delta.breakpoints) state.breakpoints = [...delta.breakpoints];
  if (delta.marks) {
    state.marks = [...delta.marks];
    state.marksTruncated = delta.marks_truncated ?? false;
  }
  // A step just added to the timeline brings its own mark (a new array, as above).
  const mark = delta.mark;
  const lastMark = state.marks[state.marks.length - 1];
  if (mark && !state.marksTruncated && (!lastMark || lastMark.step < mark.step)) {
    state.marks = [...state.marks, mark];
  }
  return changes;
}

/**
 * Merge the changes of several deltas applied in a row (the page applies every delta
 * but draws once per frame).
 * @param {Changes} into
 * @param {Changes} more
 * @returns {Changes}
 */
export function mergeChanges(into, more) {
  into.full = into.full || more.full;
  if (more.full && !more.mapRanges) into.mapRanges = false;
  for (const k of more.lists) into.lists.add(k);
  for (const k of more.counts) into.counts.add(k);
  for (const k of more.zonesTouched) into.zonesTouched.add(k);
  for (const k of more.pageblocks) into.pageblocks.add(k);
  for (const [zone, ranges] of more.pages) {
    const list = into.pages.get(zone) ?? [];
    list.push(...ranges);
    into.pages.set(zone, list);
  }
  into.hinting = into.hinting || more.hinting;
  into.host = into.host || more.host;
  return into;
}

/**
 * The zone holding a pfn, or null.
 * @param {ClientState} state
 * @param {number} pfn
 */
export function zoneOfPfn(state, pfn) {
  for (const z of state.zones) {
    if (pfn >= z.startPfn && pfn < z.startPfn + z.spannedPages) return z;
  }
  return null;
}

/**
 * Where a block sits in the lists the page knows: its list and its position from the
 * head (null when it is in the unsent middle of a long list, or on no list).
 * @param {ZoneModel} zone
 * @param {number} pfn
 * @returns {{list: WireList, position: number, flagged: boolean} | {list: WireList, position: null, flagged: null} | null}
 */
export function findInLists(zone, pfn) {
  for (const list of zone.lists.values()) {
    const h = list.head.indexOf(pfn);
    if (h >= 0) return { list, position: h, flagged: list.head_flagged[h] };
    const t = list.tail.indexOf(pfn);
    if (t >= 0) {
      return { list, position: list.length - list.tail.length + t, flagged: list.tail_flagged[t] };
    }
  }
  return null;
}
