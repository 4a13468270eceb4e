// @ts-check
/**
 * A step's events undone, for animating "back" as forward animated, in reverse: the
 * inverse of each event, last first (a split becomes the merge of its halves, a free
 * the block leaving as allocated, an insertion a removal, ...).  Pure logic, no DOM.
 *
 * Host traffic (report, refault) and list rotation have no picture backwards and are
 * left out; events that only narrate are kept as they are.
 */

/** @type {Record<string, string>} */
const OPPOSITE = {
  alloc: 'free',
  free: 'alloc',
  list_add: 'list_del',
  list_del: 'list_add',
  isolate: 'putback',
  putback: 'isolate',
  flag_set: 'flag_clear',
  flag_clear: 'flag_set',
  pcp_add: 'pcp_del',
  pcp_del: 'pcp_add',
};

const NO_PICTURE_BACKWARDS = new Set(['report', 'refault', 'rotate']);

/**
 * @param {import('./protocol.js').ModelEvent} e
 * @returns {import('./protocol.js').ModelEvent | null}
 */
function inverse(e) {
  if (NO_PICTURE_BACKWARDS.has(e.kind)) return null;
  if (e.kind === 'split') return { ...e, kind: 'merge', pfn: e.pfn, buddy: e.half_pfn, order: e.order - 1 };
  if (e.kind === 'merge') {
    return { ...e, kind: 'split', pfn: Math.min(e.pfn, e.buddy), half_pfn: Math.max(e.pfn, e.buddy), order: e.order + 1 };
  }
  if (e.kind === 'list_move') return { ...e, from_migratetype: e.to_migratetype, to_migratetype: e.from_migratetype };
  const kind = OPPOSITE[e.kind];
  return kind ? { ...e, kind } : e;
}

/**
 * The events that undo a step, in the order they would happen.
 * @param {import('./protocol.js').ModelEvent[]} events the step's events, oldest first
 * @returns {import('./protocol.js').ModelEvent[]}
 */
export function reversedEvents(events) {
  /** @type {import('./protocol.js').ModelEvent[]} */
  const out = [];
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const e = inverse(events[i]);
    if (e) out.push(e);
  }
  return out;
}
