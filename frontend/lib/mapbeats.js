// @ts-check
/**
 * When the memory map shows what a step taken by hand did to each frame: the map stays
 * at the step's start while the lists animate, and the frames an event touches change
 * when that event's chip arrives (its beat plus the tween), as the lists' counts do.
 * Pure logic, no DOM; views/memmapview.js paints the ranges at their times.
 *
 * A frame takes the arrival of the last event of the step that changes what a frame is
 * (allocated, freed, onto a per-cpu list, isolated, put back, flagged, reported,
 * refaulted); a frame only moved between lists (split, merge, list moves) takes the
 * last of those.  The map paints the frame's state after the step, so a frame that
 * changes twice in one step shows its final state at its last change.  Frames the
 * events do not name (a pageblock's new type, host pages a step back cannot place)
 * change at the end of the step.
 */

/**
 * @typedef {import('./protocol.js').ModelEvent} ModelEvent
 * @typedef {{at: number, zone: string, pfn: number, pages: number}} MapArrival
 *   Frames [pfn, pfn + pages) of `zone` show their new state `at` ms into the step.
 */

/** Event kinds that change what a frame is (its page state or its host backing). */
const CHANGES_FRAMES = new Set([
  'alloc', 'free', 'isolate', 'putback', 'flag_set', 'flag_clear', 'pcp_add', 'pcp_del', 'refault', 'report',
]);

/**
 * The frames an event touches, as [pfn, pages] ranges.
 * @param {any} e
 * @returns {Array<[number, number]>}
 */
export function framesOf(e) {
  switch (e.kind) {
    case 'merge':
      return [[Math.min(e.pfn, e.buddy), 2 ** (e.order + 1)]];
    case 'report':
      return (e.blocks ?? []).map((/** @type {[number, number]} */ [pfn, order]) => [pfn, 2 ** order]);
    case 'pcp_add':
    case 'pcp_del':
      return [[e.pfn, 2 ** (e.order ?? 0)]];
    case 'alloc':
    case 'free':
    case 'isolate':
    case 'putback':
    case 'flag_set':
    case 'flag_clear':
    case 'refault':
    case 'split':
    case 'list_add':
    case 'list_del':
    case 'list_move':
      return typeof e.pfn === 'number' && typeof e.order === 'number' ? [[e.pfn, 2 ** e.order]] : [];
    default:
      return [];
  }
}

/**
 * The parts of [from, to) not covered by `taken` (sorted, disjoint [from, to) pairs),
 * and `taken` with them added.
 * @param {Array<[number, number]>} taken
 * @param {number} from
 * @param {number} to
 * @returns {Array<[number, number]>}
 */
function claim(taken, from, to) {
  /** @type {Array<[number, number]>} */
  const free = [];
  let at = from;
  for (const [a, b] of taken) {
    if (b <= at) continue;
    if (a >= to) break;
    if (a > at) free.push([at, a]);
    at = Math.max(at, b);
    if (at >= to) break;
  }
  if (at < to) free.push([at, to]);
  for (const piece of free) {
    let i = 0;
    while (i < taken.length && taken[i][0] < piece[0]) i += 1;
    taken.splice(i, 0, piece);
  }
  return free;
}

/**
 * When each frame the step's events touch shows its new state: the ranges, earliest
 * first.
 * @param {ModelEvent[]} events the step's events in the order they are animated (a
 *   step back: its reversed events)
 * @param {{beats: Array<{index: number, delay: number}>, total: number}} plan the
 *   step's animation plan (lib/animate.js): each visual event's beat, the step's length
 * @returns {MapArrival[]}
 */
export function mapArrivals(events, plan) {
  if (plan.beats.length === 0) return [];
  // Every tween lasts the same: what is left of the step after the last beat.
  const tween = plan.total - Math.max(...plan.beats.map((b) => b.delay));
  /** @type {Map<string, Array<[number, number]>>} zone -> frames already given a time */
  const taken = new Map();
  /** @type {MapArrival[]} */
  const out = [];
  // Latest first, so each frame keeps the last event that touches it; the events that
  // change frames before those that only move them.
  const latest = [...plan.beats].reverse();
  for (const changes of [true, false]) {
    for (const { index, delay } of latest) {
      const e = /** @type {any} */ (events[index]);
      if (!e || CHANGES_FRAMES.has(e.kind) !== changes) continue;
      let zoneTaken = taken.get(e.zone);
      if (!zoneTaken) {
        zoneTaken = [];
        taken.set(e.zone, zoneTaken);
      }
      for (const [pfn, pages] of framesOf(e)) {
        for (const [a, b] of claim(zoneTaken, pfn, pfn + pages)) out.push({ at: delay + tween, zone: e.zone, pfn: a, pages: b - a });
      }
    }
  }
  return out.sort((x, y) => x.at - y.at || x.pfn - y.pfn);
}
