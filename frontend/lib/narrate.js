// @ts-check
/**
 * What the narration says about a step: which of its events carries the step's point
 * (the one a class must see without scrolling), and how many event lines to draw at
 * once.  Pure logic, no DOM; views/log.js draws it.
 */

import { pfnParts } from './pfntext.js';

/** @typedef {import('./protocol.js').ModelEvent} ModelEvent */

/**
 * Event kinds that carry a step's point, best first: what the allocator decided, not
 * the list bookkeeping on the way (list_del, merge_stop, isolate, flag_set).
 */
const POINT_KINDS = [
  'step_error', 'request', 'report', 'fallback', 'pageblock_retype', 'rotate', 'refault', 'state',
  'boundary', 'alloc', 'list_add', 'phase', 'user', 'free', 'work', 'clock',
];

/** Event lines drawn at once; a longer step offers "show all" (a fast play draws often). */
export const EVENTS_DRAWN = 80;

/**
 * The index of the event that carries the step's point, or -1 (no events).  A step of
 * many allocations or frees is summed up by its `user` event; a single free's point is
 * where the block lands in the end (its last list_add: head or tail, and why).
 * @param {ModelEvent[]} events
 */
export function pointOf(events) {
  if (events.length === 0) return -1;
  const count = (/** @type {string} */ kind) => events.reduce((n, e) => n + (e.kind === kind ? 1 : 0), 0);
  const user = events.findIndex((e) => e.kind === 'user');
  if (user >= 0 && (count('alloc') > 1 || count('free') > 1)) return user;
  for (const kind of POINT_KINDS) {
    const at = kind === 'list_add' ? events.findLastIndex((e) => e.kind === kind) : events.findIndex((e) => e.kind === kind);
    if (at >= 0) return at;
  }
  return 0;
}

/**
 * The hex numbers a step's chapter text names (its `phase` events: "Inspect pfn
 * 0x4000"), each once: the blocks a lesson tells the class to look at, which the lists
 * draw as chips wherever they are (a number that is no block's pfn, such as a page_type
 * value, matches no block and changes nothing).  A step without events (the session's
 * start) shows the scenario's opening note instead: the numbers it names.
 * @param {ModelEvent[]} events
 * @param {string} [opening] the opening note (the scenario's "look for")
 * @returns {number[]}
 */
export function namedPfns(events, opening = '') {
  const out = new Set();
  const texts = events.length ? events.filter((e) => e.kind === 'phase').map((e) => e.message ?? '') : [opening];
  for (const text of texts) {
    for (const part of pfnParts(text)) if (typeof part !== 'string') out.add(part.value);
  }
  return [...out];
}

/**
 * What the narration says at a step without events (the session opened, a jump to its
 * start): the scenario's title and what to look for, if it has them.
 * @param {{source?: {title?: string, look_for?: string}} | Record<string, unknown>} config the session's configuration
 */
export function openingNote(config) {
  const source = /** @type {{title?: string, look_for?: string} | undefined} */ (config.source);
  return source && source.look_for ? `${source.title ? `${source.title}. ` : ''}Look for: ${source.look_for}` : '';
}

/**
 * How many of a step's events to draw: all of a short step; of a long one the first
 * EVENTS_DRAWN and enough after them to include its point.
 * @param {number} total
 * @param {number} point
 */
export function eventsToDraw(total, point) {
  return Math.min(total, Math.max(EVENTS_DRAWN, point + 10));
}

/**
 * Where to scroll a list of lines (their tops, ascending, from the list's top) to show
 * the line that spans `least` + height .. `point`: a line's top, so the first visible line
 * is whole (a scroll between two tops cuts one in half).  Of the tops that keep the point
 * whole (from `least`, its bottom less the list's height, to `point`) and that the list
 * can reach (up to `most`), the last at or above `want`, else the first.  The list's
 * bottom padding of one line keeps such a top in reach when the point is its last line.
 * @param {number[]} tops
 * @param {{want: number, least: number, point: number, most: number}} range
 */
export function wholeLineTop(tops, { want, least, point, most }) {
  const fit = tops.filter((t) => t >= least && t <= point && t <= most);
  if (fit.length === 0) return Math.max(0, Math.min(want, most));
  return fit.filter((t) => t <= want).at(-1) ?? fit[0];
}
