// @ts-check
/**
 * A step walked event by event: for each event of a step, the line of the kernel
 * function it stands for (lib/pseudocode.js) and the blocks it touched (free-list
 * chips and memory-map frames); and, the other way round, the events of a step that
 * touched a block.  Pure logic, no DOM; views/substeps.js draws it.
 *
 * An event's own `fn` names the helper that did the work (add_to_free_list,
 * del_page_from_free_list); which caller's line that is depends on where in the step
 * it happened: a list_add after a split is expand()'s, after a merge loop it is
 * __free_one_page()'s.  `locate` reads the events around it to tell.
 */
import { lineIndex } from './pseudocode.js';

/**
 * @typedef {import('./protocol.js').ModelEvent} ModelEvent
 * @typedef {{fn: string, line: number}} Place  a listing and a line index in it
 * @typedef {{zone: string, pfn: number, order: number}} Block
 */

/**
 * Kinds whose event is buddyscope's own bookkeeping, not a kernel function's (the
 * timeline's phase, work, clock, user and step_error).
 */
export const OWN_KINDS = Object.freeze(['phase', 'work', 'clock', 'user', 'step_error']);

/**
 * @param {string} fn
 * @param {string} id
 * @returns {Place}
 */
function at(fn, id) {
  const line = lineIndex(fn, id);
  if (line < 0) throw new Error(`pseudocode: ${fn} has no line ${id}`);
  return { fn, line };
}

/** Kinds whose line is the same wherever they happen: [function, line id]. */
const FIXED = Object.freeze(
  /** @type {Record<string, [string, string]>} */ ({
    alloc: ['get_page_from_freelist', 'got'],
    free: ['__free_one_page', 'sig'],
    merge: ['__free_one_page', 'combine'],
    split: ['expand', 'halve'],
    fallback: ['__rmqueue_fallback', 'found'],
    pcp_add: ['free_unref_page_commit', 'add'],
    pcp_drain: ['free_unref_page_commit', 'bulk'],
    pcp_del: ['__rmqueue_pcplist', 'del'],
    pcp_refill: ['__rmqueue_pcplist', 'refill'],
    isolate_fail: ['page_reporting_cycle', 'isolate'],
    refault: ['handle_mm_fault', 'host'],
  }),
);

/** Events that end a buddy operation: what a later list_add belongs to is decided by the last of them. */
const FLOW_KINDS = new Set(['split', 'free', 'putback', 'merge', 'merge_stop', 'alloc', 'pcp_drain']);

/**
 * Where event `i` of a step is in the kernel's code.
 * @param {ModelEvent[]} events the step's events
 * @param {number} i
 * @param {{capacity?: number, pageblockOrder?: number}} [options] capacity: the reporting batch (a
 *   smaller report is the leftover one); pageblockOrder: a steal this large takes whole pageblocks
 * @returns {Place | null} null for buddyscope's own events
 */
export function locate(events, i, options = {}) {
  const e = events[i];
  const capacity = options.capacity ?? 32;
  const next = events[i + 1];
  const reason = String(e.reason ?? '');
  const fixed = FIXED[e.kind];
  if (fixed) return at(fixed[0], fixed[1]);
  switch (e.kind) {
    case 'zone_skip':
      return e.fn === 'page_reporting_process_zone' ? at('page_reporting_process_zone', 'skip') : at('get_page_from_freelist', 'skip');
    case 'merge_stop':
      return reason.includes('largest') ? at('__free_one_page', 'loop') : at('__free_one_page', 'stop');
    case 'list_add':
      return listAddPlace(events, i);
    case 'list_del':
      return listDelPlace(events, i);
    case 'pageblock_retype':
      // 6.12 retypes a buddy's pageblock to match the block it merges with.
      if (reason.includes('__free_one_page')) return at('__free_one_page', 'retype');
      return at('__rmqueue_fallback', stealsWhole(events, i, options) ? 'range' : 'retype');
    case 'list_move':
      // A block of a pageblock or more moves itself (single_page); else move_freepages_block moves them.
      return at('__rmqueue_fallback', stealsWhole(events, i, options) ? 'single' : 'move');
    case 'watermark_boost':
      return e.fn === 'balance_pgdat' ? at('balance_pgdat', 'clear') : at('__rmqueue_fallback', 'boost');
    case 'request':
      if (e.fn === 'page_reporting_process') return at('page_reporting_process', 'schedule');
      if (e.fn === '__page_hinting_request') return at('__page_hinting_request', 'schedule');
      return at('__page_reporting_request', 'schedule');
    case 'state':
      return statePlace(e);
    case 'isolate':
      return e.fn === 'get_unhinted_page' ? at('page_hinting_fill', 'get') : at('page_reporting_cycle', 'sg');
    case 'rotate':
      return next && next.kind === 'report' ? at('page_reporting_cycle', 'rotate') : at('page_reporting_cycle', 'leftover');
    case 'report':
      if (e.fn === 'virtballoon_page_hinting_react') return at('page_hinting_cycle', 'react');
      return (e.blocks?.length ?? capacity) < capacity ? at('page_reporting_process_zone', 'report') : at('page_reporting_cycle', 'report');
    case 'putback':
      return e.fn === 'put_hinted_page' ? at('page_hinting_drain', 'free') : at('page_reporting_drain', 'putback');
    case 'flag_set':
      return e.fn === 'SetPageHinted' ? at('page_hinting_drain', 'set') : at('page_reporting_drain', 'set');
    case 'flag_skip':
      return e.fn === 'put_hinted_page' ? at('page_hinting_drain', 'merged') : at('page_reporting_drain', 'same');
    case 'flag_clear':
      return flagClearPlace(events, i);
    case 'boundary':
      if (reason.includes('whole list')) return at('page_hinting_fill', 'get');
      if (reason.includes('leaves the list')) return flagClearPlace(events, i, false);
      return at('page_hinting_drain', 'boundary');
    default:
      return null;
  }
}

/**
 * Whether the fallback before event `i` stole a block of a pageblock or more (its
 * pageblocks change type at once, and the block moves to its new list by itself).
 * @param {ModelEvent[]} events
 * @param {number} i
 * @param {{pageblockOrder?: number}} options
 */
function stealsWhole(events, i, options) {
  for (let j = i - 1; j >= 0; j -= 1) {
    if (events[j].kind === 'fallback') return events[j].current_order >= (options.pageblockOrder ?? 9);
  }
  return false;
}

/**
 * A block added to a free list: expand()'s upper half after a split, else the end of
 * __free_one_page (a free, or a block put back after a report).
 * @param {ModelEvent[]} events
 * @param {number} i
 */
function listAddPlace(events, i) {
  for (let j = i - 1; j >= 0; j -= 1) {
    const k = events[j].kind;
    if (!FLOW_KINDS.has(k)) continue;
    if (k === 'split') return at('expand', 'add');
    break;
  }
  const e = events[i];
  return e.end === 'tail' || (e.before !== null && e.before !== undefined) ? at('__free_one_page', 'tail') : at('__free_one_page', 'head');
}

/**
 * A block taken off a free list: by what comes next, the buddy a merge absorbs, a
 * block isolated for hinting or reporting, or the block an allocation takes.
 * @param {ModelEvent[]} events
 * @param {number} i
 * @returns {Place}
 */
function listDelPlace(events, i) {
  for (let j = i + 1; j < events.length; j += 1) {
    const k = events[j].kind;
    if (k === 'flag_clear' || k === 'boundary') continue;
    if (k === 'merge') return at('__free_one_page', 'del');
    if (k === 'isolate') return events[j].fn === 'get_unhinted_page' ? at('page_hinting_fill', 'get') : at('page_reporting_cycle', 'isolate');
    if (k === 'pcp_refill' || k === 'pcp_add') return at('__rmqueue_pcplist', 'refill');
    break;
  }
  return at('__rmqueue_smallest', 'del');
}

/**
 * A flag cleared (or a v2 boundary moved off a block) as the block leaves its list:
 * the line of that list_del (a boundary names the block it moves to, not that one).
 * @param {ModelEvent[]} events
 * @param {number} i
 * @param {boolean} [samePfn]
 * @returns {Place}
 */
function flagClearPlace(events, i, samePfn = true) {
  const pfn = events[i].pfn;
  for (const j of [i - 1, i + 1, i - 2, i + 2]) {
    const d = events[j];
    if (d && d.kind === 'list_del' && (!samePfn || d.pfn === pfn)) return listDelPlace(events, j);
  }
  return at('__free_one_page', 'del');
}

/** @param {ModelEvent} e */
function statePlace(e) {
  const to = String(e.new ?? '');
  if (e.fn === 'page_reporting_process') {
    if (to === 'ACTIVE') return at('page_reporting_process', 'active');
    if (to === 'IDLE') return at('page_reporting_process', 'idle');
    if (String(e.reason ?? '').includes('budget')) return at('page_reporting_cycle', 'over');
    // A free (or the registration) asks for a pass: the state is REQUESTED.
    return at('__page_reporting_request', 'xchg');
  }
  if (e.fn === 'page_hinting_cycle') return to === 'set' ? at('page_hinting_cycle', 'active') : at('page_hinting_cycle', 'inactive');
  return to === 'set' ? at('__page_hinting_request', 'requested') : at('page_hinting_fill', 'done');
}

/**
 * The blocks an event touched (a split: the block and its upper half; a merge: the
 * buddy and the merged block; a report: its batch).
 * @param {ModelEvent} e
 * @param {number} [pageblockOrder] the frames a pageblock retype touches
 * @returns {Block[]}
 */
export function touches(e, pageblockOrder = 9) {
  const zone = e.zone;
  const one = (/** @type {number} */ pfn, /** @type {number} */ order) => ({ zone, pfn, order });
  switch (e.kind) {
    case 'split':
      return [one(e.pfn, e.order), one(e.half_pfn, e.order - 1)];
    case 'merge':
      return [one(e.buddy, e.order), one(Math.min(e.pfn, e.buddy), e.order + 1)];
    case 'merge_stop':
      return e.buddy === null || e.buddy === undefined ? [one(e.pfn, e.order)] : [one(e.pfn, e.order), one(e.buddy, e.order)];
    case 'pageblock_retype':
      return [one(e.pfn, pageblockOrder)];
    case 'report':
      return (e.blocks ?? []).map((/** @type {[number, number]} */ [pfn, order]) => one(pfn, order));
    case 'pcp_add':
    case 'pcp_del':
      return [one(e.pfn, 0)];
    case 'boundary':
      return typeof e.pfn === 'number' ? [one(e.pfn, e.order)] : [];
    default:
      return typeof e.pfn === 'number' && typeof e.order === 'number' ? [one(e.pfn, e.order)] : [];
  }
}

/**
 * Whether block `b` overlaps the frames [pfn, pfn + 2^order) of `zone`.
 * @param {Block} b
 * @param {string} zone
 * @param {number} pfn
 * @param {number} order
 */
function overlaps(b, zone, pfn, order) {
  return b.zone === zone && b.pfn < pfn + 2 ** order && pfn < b.pfn + 2 ** b.order;
}

/**
 * The indices of the events of a step that touched block (zone, pfn, order): a chip
 * clicked, or a single frame of the map (order 0).
 * @param {ModelEvent[]} events
 * @param {string} zone
 * @param {number} pfn
 * @param {number} [order]
 * @param {number} [pageblockOrder]
 */
export function eventsTouching(events, zone, pfn, order = 0, pageblockOrder = 9) {
  const out = [];
  for (let i = 0; i < events.length; i += 1) {
    if (touches(events[i], pageblockOrder).some((b) => overlaps(b, zone, pfn, order))) out.push(i);
  }
  return out;
}

/**
 * The event a sub-step key leads to: -1 is "the whole step" (before the first event).
 * @param {number} current -1 or an event index
 * @param {1 | -1} dir
 * @param {number} count events in the step
 */
export function nextSubstep(current, dir, count) {
  if (count === 0) return -1;
  return Math.max(-1, Math.min(count - 1, current + dir));
}
