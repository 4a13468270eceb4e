// Messages shaped exactly like the wire contract (docs/protocol.md), for the node tests.
import { bytesToBase64 } from '../../frontend/lib/protocol.js';

export const MIGRATETYPES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'CMA', 'Isolate'];

/**
 * A list message from a full head->tail array of [pfn, flagged], as the server builds
 * it: both ends, the flagged count, and (v2) the boundary in front of the entry at
 * `boundaryIndex` (the length: after the tail; undefined: no boundary).
 */
export function wireList(order, migratetype, entries, ends = 16, boundaryIndex = undefined) {
  const length = entries.length;
  const head = length <= 2 * ends ? entries : entries.slice(0, ends);
  const tail = length <= 2 * ends ? [] : entries.slice(length - ends);
  const flaggedIn = (part) => part.filter(([, f]) => f).length;
  let boundary = null;
  if (boundaryIndex !== undefined) {
    const before = entries[boundaryIndex - 1];
    const after = entries[boundaryIndex];
    boundary = {
      index: boundaryIndex,
      before: before ? before[0] : null,
      before_flagged: before ? Boolean(before[1]) : null,
      after: after ? after[0] : null,
      after_flagged: after ? Boolean(after[1]) : null,
      flagged_before: flaggedIn(entries.slice(0, boundaryIndex)),
    };
  }
  return {
    order,
    migratetype,
    length,
    head: head.map(([p]) => p),
    tail: tail.map(([p]) => p),
    head_flagged: head.map(([, f]) => Boolean(f)),
    tail_flagged: tail.map(([, f]) => Boolean(f)),
    flagged: flaggedIn(entries),
    boundary,
  };
}

export const hello = () => ({
  type: 'hello',
  protocol_version: 1,
  session: 's1',
  role: 'controller',
  token: 'tok',
  limits: { list_ends: 16, max_speed: 1000 },
  schema_hash: 'abc',
});

export const hostStats = (over = {}) => ({
  resident_pages: 100,
  discarded_pages: 0,
  refaults: 0,
  report_calls: 0,
  pages_reported: 0,
  ...over,
});

/**
 * One zone of `pages` pages at `start`; pages [0, free) are free (page_state 0), the
 * rest allocated.  max_order 4, pageblock_order 2 (so tests stay small).
 */
export function snapshot({ pages = 64, start = 0, hinting = { strategy: 'none', next_run: null, pending: [] }, lists } = {}) {
  const state = new Uint8Array(pages).fill(1);
  state.fill(0, 0, 16);
  const host = new Uint8Array(pages).fill(1);
  const pb = new Uint8Array(Math.ceil(pages / 4)).fill(1);
  return {
    type: 'snapshot',
    seq: 1,
    reason: 'connect',
    session: 's1',
    step: 3,
    timeline_length: 10,
    playing: false,
    speed: 2,
    clock: 1.5,
    config: {
      kernel: '5.10',
      hinting: hinting.strategy,
      pcp: false,
      seed: 7,
      max_order: 4,
      pageblock_order: 2,
      migratetypes: MIGRATETYPES,
      scenario: 'small',
      constants: [],
    },
    zones: [
      {
        name: 'Normal',
        start_pfn: start,
        spanned_pages: pages,
        managed_pages: pages,
        nr_free: [0, 0, 0, 2],
        nr_free_pages: 16,
        watermarks: { min: 1, low: 2, high: 3 },
        lists: lists ?? [wireList(3, 'Movable', [[start, false], [start + 8, true]])],
        pageblock_mt: bytesToBase64(pb),
        page_state: bytesToBase64(state),
        host_backing: bytesToBase64(host),
      },
    ],
    hinting,
    host: hostStats(),
    breakpoints: ['report'],
    marks: [{ step: 5, kind: 'report' }],
  };
}

export function delta(over = {}) {
  return {
    type: 'delta',
    seq: 2,
    step: 4,
    timeline_length: 10,
    clock: 1.6,
    events: [],
    playing: true,
    speed: 2,
    zones: [],
    hinting: { strategy: 'none', next_run: null, pending: [] },
    host: hostStats(),
    ...over,
  };
}
