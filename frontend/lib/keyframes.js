// @ts-check
/**
 * The keyframes `views/animator.js` plays, worked out from times (ms from the start of
 * a step) and rectangles: no DOM.  A boundary marker moving one block per event, a row
 * keeping its height until its blocks have arrived, a count showing its old text until
 * then, and a merge cascade climbing the rows (where each of its blocks is shown, when
 * it appears, where it flies and when it fades into the result).
 */
import { BOUNDARY_MOVE_MS } from './animate.js';

/**
 * @typedef {import('./animate.js').Plan} Plan
 * @typedef {{left: number, top: number, width: number, height: number}} Box
 */

/** Share of a merge's travel after which its inputs fade into its result. */
export const JOIN_AT = 0.85;
/** Gap between a merge cascade's ghost and the drawn buddy it sits beside (px). */
export const BESIDE = 4;

/**
 * Keyframes at absolute times (ms from the start of the step) over `span` ms.
 * @param {Array<[number, Keyframe]>} at
 * @param {number} span
 * @returns {Keyframe[]}
 */
export function timed(at, span) {
  let last = 0;
  return at.map(([t, frame]) => {
    last = Math.min(1, Math.max(last, t / span));
    return { ...frame, offset: last };
  });
}

/**
 * A boundary marker moving one block per `boundary` event: from where it was drawn
 * (dx, dy away) to where it is now, in equal moves at the events' beats (each at most
 * BOUNDARY_MOVE_MS, and over before the next beat).
 * @param {number[]} beats at least one
 * @param {number} dx
 * @param {number} dy
 * @param {string} easing
 * @returns {{frames: Keyframe[], span: number}}
 */
export function boundaryMoves(beats, dx, dy, easing) {
  const n = beats.length;
  const at = (/** @type {number} */ i) => `translate(${dx * (1 - i / n)}px, ${dy * (1 - i / n)}px)`;
  /** @type {Array<[number, Keyframe]>} */
  const frames = [[0, { transform: at(0) }]];
  beats.forEach((t, i) => {
    const move = Math.min(BOUNDARY_MOVE_MS, i + 1 < n ? Math.max(1, beats[i + 1] - t) : BOUNDARY_MOVE_MS);
    frames.push([t, { transform: at(i), easing }], [t + move, { transform: at(i + 1) }]);
  });
  const span = Math.max(1, beats[n - 1] + BOUNDARY_MOVE_MS);
  return { frames: timed(frames, span), span };
}

/**
 * A box that got shorter keeps its old height for `hold` ms, then shrinks over `shrink`.
 * @param {number} old height before the step (px)
 * @param {number} now height after it
 * @param {number} hold
 * @param {number} shrink
 * @returns {Keyframe[]}
 */
export function heldHeight(old, now, hold, shrink) {
  return [
    { minHeight: `${old}px`, offset: 0 },
    { minHeight: `${old}px`, offset: hold / (hold + shrink), easing: 'ease-in-out' },
    { minHeight: `${now}px`, offset: 1 },
  ];
}

/**
 * One style until the last millisecond of `span`, then another: how a count swaps its
 * old text for the new one (an animation, so a frozen clock freezes it too).
 * @param {Keyframe} before
 * @param {Keyframe} after
 * @param {number} span ms, at least 1
 * @returns {Keyframe[]}
 */
export function swapAt(before, after, span) {
  return [
    { ...before, offset: 0 },
    { ...before, offset: Math.max(0, 1 - 1 / span) },
    { ...after, offset: 1 },
  ];
}

/**
 * Where a block flying into a list where it is not drawn (the middle a gap stands for,
 * behind a boundary) comes to rest: against the side of the list's anchor it comes
 * from, never on it, so the gap's "… N more" stays readable (the ghost fades as it goes).
 * Returns the move from where the block was drawn.
 * @param {Box} was where the block was drawn
 * @param {Box} to the anchor's rectangle
 * @returns {{dx: number, dy: number}}
 */
export function intoAnchor(was, to) {
  const centreX = to.left + to.width / 2 - was.left - was.width / 2;
  if (was.top >= to.top + to.height) return { dx: centreX, dy: to.top + to.height - was.top };
  if (was.top + was.height <= to.top) return { dx: centreX, dy: to.top - was.height - was.top };
  // Beside it, in its row: up to its near side.
  const dx = was.left + was.width / 2 < to.left + to.width / 2 ? to.left - was.width - was.left : to.left + to.width - was.left;
  return { dx, dy: to.top - was.top };
}

/**
 * When the blocks a count counts have arrived (ms), by the count's key: `nr:ORDER`,
 * `flag:ORDER` (a row's cells), `zone:ZONE:ORDER` (the shown zone's cell in the
 * per-zone buddyinfo table), `lane:ZONE:ORDER:MT` (a lane's length), `host` (the
 * batch with the host), `boundary:ZONE:ORDER:MT` (a boundary's label); the end of the
 * step for what `when` does not name.
 * @param {string} key
 * @param {ReturnType<typeof import('./animate.js').arrivals>} when
 * @param {number} total the plan's length (ms)
 */
export function countArrival(key, when, total) {
  if (key === 'host') return when.host;
  const kind = key.slice(0, key.indexOf(':'));
  const rest = key.slice(key.indexOf(':') + 1);
  if (kind === 'boundary') return when.boundaries.get(`boundary:${rest}`) ?? total;
  const order = kind === 'nr' || kind === 'flag' ? Number(rest) : kind === 'lane' || kind === 'zone' ? Number(rest.split(':')[1]) : NaN;
  return when.orders.get(order) ?? total;
}

/**
 * Where each block of a merge cascade (plan.merges) is shown: where it was drawn (a
 * buddy); else beside the buddy it merges with, or at its list (else its row) in its
 * order's row; a result drawn now where it is drawn, one that merges again beside the
 * buddy of that merge.  Inputs are placed first, then the result.
 * @param {Plan} plan
 * @param {(key: string) => Box | undefined} was a key's rectangle before the step (also `anchor:ZONE:ORDER:MT`, `row:ORDER`)
 * @param {(key: string) => Box | undefined} drawn a key's rectangle now, if it is drawn
 * @param {number} chipH the height of a chip (px)
 * @returns {Map<string, Box>}
 */
export function cascadePlaces(plan, was, drawn, chipH) {
  /** @type {Map<string, Box>} */
  const place = new Map();
  /** @param {string} key @param {string} zone @param {number} order @param {string | null} mt @param {string} [partner] */
  const placeOf = (key, zone, order, mt, partner) => {
    const known = place.get(key) ?? was(key);
    if (known) {
      place.set(key, known);
      return;
    }
    const beside = partner ? place.get(partner) ?? was(partner) : undefined;
    if (beside) {
      place.set(key, { left: beside.left + beside.width + BESIDE, top: beside.top, width: beside.width, height: beside.height });
      return;
    }
    const at = (mt ? was(`anchor:${zone}:${order}:${mt}`) : undefined) ?? was(`row:${order}`);
    if (at) place.set(key, { left: at.left, top: at.top + (at.height - chipH) / 2, width: chipH * 2, height: chipH });
  };
  for (const m of plan.merges) {
    const [a, b] = m.inputs;
    placeOf(b, m.zone, m.order, m.migratetype);
    placeOf(a, m.zone, m.order, m.migratetype, b);
    const now = drawn(m.output);
    if (now) place.set(m.output, now);
    else {
      const next = m.next === null ? null : plan.merges[m.next];
      const buddy = next?.inputs.find((k) => k !== m.output);
      placeOf(m.output, m.zone, m.order + 1, m.migratetype, buddy);
    }
  }
  return place;
}

/**
 * @typedef {{key: string, at: Box, order: number, migratetype: string | null,
 *            result: boolean, frames: Keyframe[], span: number}} CascadeBlock
 *   `result`: the cascade's last result, drawn now (it fades in as its inputs arrive);
 *   otherwise a ghost at `at` that flies into the result of the merge it is an input of.
 */

/**
 * Every block of a merge cascade with its keyframes (timed over `span` ms).  A block
 * drawn before the step is there from the start, one freed in the step appears at its
 * beat, a result as its inputs arrive; each flies to its merge's result and fades out
 * as it joins it.
 * @param {Plan} plan
 * @param {Map<string, Box>} place cascadePlaces
 * @param {(key: string) => boolean} drawnBefore
 * @param {(key: string) => boolean} drawnNow
 * @param {string} easing
 * @returns {CascadeBlock[]}
 */
export function cascadeBlocks(plan, place, drawnBefore, drawnNow, easing) {
  /** @type {Map<string, {at: number, fade: number}>} when a result appears, fading in as its inputs arrive */
  const formed = new Map(plan.merges.map((m) => [m.output, { at: m.delay + m.travel * JOIN_AT, fade: m.travel * (1 - JOIN_AT) }]));
  /** @type {Map<string, {at: Box, mt: string | null, order: number}>} */
  const blocks = new Map();
  for (const m of plan.merges) {
    for (const k of [...m.inputs, m.output]) {
      const at = place.get(k);
      if (at && !blocks.has(k)) blocks.set(k, { at, mt: m.migratetype, order: k === m.output ? m.order + 1 : m.order });
    }
  }
  /** @type {CascadeBlock[]} */
  const out = [];
  for (const [key, { at, mt, order }] of blocks) {
    const use = plan.merges.find((m) => m.inputs.includes(key));
    const made = formed.get(key);
    // Drawn before: there from the start; freed in the step: from its beat.
    const appear = drawnBefore(key) ? 0 : made?.at ?? plan.keys.get(key)?.delay ?? use?.delay ?? 0;
    const fadeIn = made?.fade ?? Math.min(120, Math.max(0, (use?.delay ?? plan.total) - appear));
    const block = { key, at, order, migratetype: mt };
    if (drawnNow(key) && !use) {
      const span = Math.max(1, appear + fadeIn);
      out.push({ ...block, result: true, frames: timed([[0, { opacity: 0 }], [appear, { opacity: 0 }], [span, { opacity: 1 }]], span), span });
      continue;
    }
    const to = use ? place.get(use.output) : undefined;
    const leave = use && to ? use.delay + use.travel : Math.max(plan.total, appear + fadeIn);
    /** @type {Array<[number, Keyframe]>} */
    const frames = appear > 0 ? [[0, { opacity: 0 }], [appear, { opacity: 0 }], [appear + fadeIn, { opacity: 1 }]] : [[0, { opacity: 1 }]];
    if (use && to) {
      const move = `translate(${to.left - at.left}px, ${to.top - at.top}px)`;
      frames.push([use.delay, { opacity: 1, transform: 'none', easing }], [use.delay + use.travel * JOIN_AT, { opacity: 1, transform: move }], [leave, { opacity: 0, transform: move }]);
    } else {
      frames.push([leave, { opacity: 0 }]);
    }
    const span = Math.max(1, leave);
    out.push({ ...block, result: false, frames: timed(frames, span), span });
  }
  return out;
}
