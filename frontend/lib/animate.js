// @ts-check
/**
 * Animation planning: a step's events -> what each drawn block does, and when.  Pure
 * logic, no DOM; `views/animator.js` turns a plan into Web Animations.
 *
 * Blocks are identified by `zone:pfn:order`, the same key the free-list view puts on
 * its chips and on the "with the host" lane, so a block that moves between lists, or
 * into the batch and back, keeps its key and is animated from where it was drawn
 * before the step to where it is drawn after it (FLIP).  Blocks born during the step
 * (the halves of a split, the result of a merge, a freed block) get `sources`: the
 * keys of the drawn blocks they come from, followed through every intermediate block
 * of a cascade.  Blocks that leave the lists (allocated, merged away) become `exits`.
 *
 * Each merge is also a `merges` stage: its two inputs and its output, at the merge's
 * beat.  A free that merges several times climbs through stages whose outputs are
 * never on a list (order k + buddy -> k+1, + buddy -> k+2, ...); the view shows each
 * one in its order's row until its own merge with the next buddy.
 *
 * A list turned by `list_rotate_to_front` (reporting's `rotate` event) is a `rotation`:
 * every drawn block of the list moves towards the head, the blocks that were in front
 * of the new head going round to the tail side (rotationMoves says which does what).
 *
 * Timing: a step taken by hand is paced for the eye, whatever the play speed: each
 * event gets its beat (MANUAL_BEAT_MS, times the slow-motion factor) up to a most a
 * step may take, each tween lasting MANUAL_TWEEN_MS.  While playing, a step gets
 * `budgetMs(speed)`: events are staggered over the first part of it, each tween lasting
 * the rest.  When the page is behind (more steps waiting) or the budget is too short to
 * see anything, the plan is `collapsed`: the view jumps to the latest state.
 *
 * `arrivals` says when what each count counts has arrived (a row's blocks, the batch
 * with the host, a boundary's last move), so the view changes each number then.
 */

/** Longest a single step is animated while playing, whatever the speed (ms). */
export const MAX_STEP_MS = 2400;
/** A step taken by hand: each event's beat, its tweens' length and the step's most (ms). */
export const MANUAL_BEAT_MS = 240;
export const MANUAL_TWEEN_MS = 600;
export const MANUAL_MAX_MS = 6000;
/** How long one move of a v2 boundary marker takes (ms). */
export const BOUNDARY_MOVE_MS = 180;
/** Slow-motion factors of a step taken by hand (1: the normal pace). */
export const SLOW_MOTION = Object.freeze([1, 2, 4]);
/** Below this budget an animation is not worth drawing (ms). */
export const MIN_STEP_MS = 90;
/** Share of the budget used to stagger the events; the rest is the tween length. */
const STAGGER_SHARE = 0.55;
/**
 * Share of the time between two merges of a cascade the inputs take to join; for the
 * rest the result is shown in its order's row.
 */
const CLIMB_SHARE = 0.6;

/** Event kinds that move or mark something drawn. */
export const VISUAL_KINDS = new Set([
  'alloc', 'free', 'list_add', 'list_del', 'list_move', 'split', 'merge', 'isolate',
  'putback', 'flag_set', 'flag_clear', 'boundary', 'rotate', 'report', 'refault', 'pcp_add',
  'pcp_del',
]);

/**
 * @typedef {import('./protocol.js').ModelEvent} ModelEvent
 * @typedef {{order: number, migratetype: string}} ListRef
 * @typedef {{delay: number, duration: number, sources: string[] | null, kind: string,
 *            via: 'host' | null, fromList: ListRef | null, toList: ListRef | null}} KeyPlan
 * @typedef {{key: string, sources: string[], to: 'alloc',
 *            delay: number, duration: number, label: string}} Exit
 * @typedef {{key: string, flag: string, set: boolean, delay: number, reason: string}} Pulse
 * @typedef {{zone: string, delay: number, pages: number, kind: 'report' | 'refault',
 *            pfn: number | null}} HostBeat
 * @typedef {{zone: string, order: number, migratetype: string, pfn: number, delay: number,
 *            duration: number}} Rotation
 *   A list turned so that `pfn` is its head.
 * @typedef {{zone: string, order: number, migratetype: string | null, inputs: [string, string],
 *            output: string, delay: number, travel: number, next: number | null}} MergeStage
 *   Two order-`order` blocks (`inputs`: the merging block, then its buddy) joining into
 *   `output` (order + 1), starting at `delay` and taking `travel` ms; `next` is the index
 *   in `merges` of the stage that takes `output` on, if any.
 * @typedef {{collapsed: boolean, budget: number, total: number, keys: Map<string, KeyPlan>,
 *            exits: Exit[], pulses: Pulse[], host: HostBeat[], rotations: Rotation[],
 *            merges: MergeStage[], beats: Array<{index: number, delay: number}>,
 *            boundaries: Map<string, number[]>}} Plan
 *   `boundaries`: per boundary marker key, the beat of each of its moves (v2 moves it one
 *   block at a time).
 * @typedef {'shift' | 'wrap' | 'enter' | 'leave'} TurnMove
 *   What a drawn block does when its list turns: `shift` towards the head; `wrap` out
 *   at the head and back in at the tail side; `enter` (not drawn before) in from the
 *   tail side; `leave` (not drawn after) out at the head.
 */

/**
 * Milliseconds a step may take at `speed` steps per second.
 * @param {number} speed
 */
export function budgetMs(speed) {
  if (!(speed > 0)) return MAX_STEP_MS;
  return Math.min(MAX_STEP_MS, (1000 / speed) * 0.85);
}

/**
 * A step taken by hand: a beat per event (shorter when there are many, so the step
 * stays within MANUAL_MAX_MS), tweens of MANUAL_TWEEN_MS; `slow` times longer.
 * @param {number} events visual events in the step
 * @param {number} slow
 */
export function manualTiming(events, slow) {
  const duration = MANUAL_TWEEN_MS * slow;
  const beat = events > 1 ? Math.min(MANUAL_BEAT_MS * slow, (MANUAL_MAX_MS * slow - duration) / (events - 1)) : 0;
  return { spread: beat * Math.max(0, events - 1), duration };
}

/**
 * A step of a play: its budget at `speed`, the events staggered over the first part.
 * @param {number} events
 * @param {number} speed
 */
function playTiming(events, speed) {
  const budget = budgetMs(speed);
  const spread = events > 1 ? budget * STAGGER_SHARE : 0;
  return { spread, duration: Math.max(60, budget - spread) };
}

/**
 * When what each count counts has arrived, in ms from the start of the step: per order
 * (its row's count and its lanes' lengths), the batch with the host, and per boundary
 * marker its last move.  A count the plan does not touch changes at the end.
 * @param {Plan} plan
 * @returns {{orders: Map<number, number>, host: number, boundaries: Map<string, number>}}
 */
export function arrivals(plan) {
  /** @type {Map<number, number>} */
  const orders = new Map();
  const at = (/** @type {number} */ order, /** @type {number} */ t) => orders.set(order, Math.max(orders.get(order) ?? 0, t));
  const orderOf = (/** @type {string} */ key) => Number(key.split(':')[2]);
  let host = 0;
  for (const [key, k] of plan.keys) {
    const end = k.delay + k.duration;
    if (key.startsWith('boundary:')) at(Number(key.split(':')[2]), end);
    else at(orderOf(key), end);
    if (k.kind === 'isolate' || k.via === 'host' || k.kind === 'putback') host = Math.max(host, end);
  }
  for (const x of plan.exits) at(orderOf(x.key), x.delay + x.duration);
  for (const m of plan.merges) {
    at(m.order, m.delay + m.travel);
    at(m.order + 1, m.delay + m.travel);
  }
  for (const r of plan.rotations) at(r.order, r.delay + r.duration);
  for (const b of plan.host) host = Math.max(host, b.delay);
  /** @type {Map<string, number>} */
  const boundaries = new Map();
  for (const [key, delays] of plan.boundaries) boundaries.set(key, Math.max(...delays) + BOUNDARY_MOVE_MS);
  return { orders, host: host || plan.total, boundaries };
}

/**
 * The key of a drawn block.
 * @param {string} zone
 * @param {number} pfn
 * @param {number} order
 */
export const blockKey = (zone, pfn, order) => `${zone}:${pfn}:${order}`;

/**
 * The key of a list's boundary marker.
 * @param {string} zone
 * @param {number} order
 * @param {string} migratetype
 */
export const boundaryKey = (zone, order, migratetype) => `boundary:${zone}:${order}:${migratetype}`;

/** @returns {Plan} */
function emptyPlan(collapsed = true, budget = 0) {
  return {
    collapsed, budget, total: 0, keys: new Map(), exits: [], pulses: [], host: [], rotations: [], merges: [], beats: [],
    boundaries: new Map(),
  };
}

/**
 * Plan the animation of one step.
 * @param {ModelEvent[]} events the step's events, oldest first
 * @param {{speed: number, manual?: boolean, slow?: number, behind?: boolean,
 *          reducedMotion?: boolean}} options `manual`: a step taken by hand (paced for
 *   the eye at `slow` times the normal pace), not one of a play
 * @returns {Plan}
 */
export function planAnimation(events, options) {
  const visual = events
    .map((e, index) => ({ e, index }))
    .filter(({ e }) => VISUAL_KINDS.has(e.kind));
  const { spread, duration } = options.manual ? manualTiming(visual.length, options.slow ?? 1) : playTiming(visual.length, options.speed);
  const budget = spread + duration;
  if (options.behind || options.reducedMotion || budget < MIN_STEP_MS) return emptyPlan(true, budget);
  const plan = emptyPlan(false, budget);
  if (visual.length === 0) return plan;
  plan.total = spread + duration;

  /** Provenance of blocks born in this step: key -> drawn keys they come from. */
  /** @type {Map<string, string[]>} */
  const sources = new Map();
  /** Blocks isolated during this step (to route a same-step putback via the host). */
  const isolated = new Set();
  const res = (/** @type {string} */ key) => sources.get(key) ?? [key];
  /** The list a block was seen on in this step: key -> migratetype. */
  /** @type {Map<string, string>} */
  const mtOf = new Map();
  /**
   * @param {string} key
   * @param {number} delay
   * @param {string} kind
   * @param {string[] | null} [src]
   * @param {{from?: ListRef, to?: ListRef | null}} [lists]
   */
  const touch = (key, delay, kind, src = null, lists = {}) => {
    const prev = plan.keys.get(key);
    plan.keys.set(key, {
      delay: prev ? prev.delay : delay,
      duration: prev ? Math.max(duration, delay - prev.delay + duration) : duration,
      sources: src ?? prev?.sources ?? null,
      kind,
      via: prev?.via ?? null,
      fromList: prev?.fromList ?? lists.from ?? null,
      toList: lists.to !== undefined ? lists.to : prev?.toList ?? null,
    });
  };
  /** @param {any} e @returns {ListRef} */
  const ref = (e) => ({ order: e.order, migratetype: e.migratetype });

  visual.forEach(({ e, index }, i) => {
    const delay = visual.length > 1 ? (spread * i) / (visual.length - 1) : 0;
    plan.beats.push({ index, delay });
    const z = e.zone;
    if (typeof e.migratetype === 'string' && typeof e.pfn === 'number') mtOf.set(blockKey(z, e.pfn, e.order), e.migratetype);
    switch (e.kind) {
      case 'split': {
        const parent = blockKey(z, e.pfn, e.order);
        const src = res(parent);
        sources.set(blockKey(z, e.pfn, e.order - 1), src);
        sources.set(blockKey(z, e.half_pfn, e.order - 1), src);
        touch(blockKey(z, e.half_pfn, e.order - 1), delay, 'split', src);
        touch(blockKey(z, e.pfn, e.order - 1), delay, 'split', src);
        break;
      }
      case 'merge': {
        const a = blockKey(z, e.pfn, e.order);
        const b = blockKey(z, e.buddy, e.order);
        const low = Math.min(e.pfn, e.buddy);
        const result = blockKey(z, low, e.order + 1);
        const src = [...res(a), ...res(b)];
        sources.set(result, src);
        touch(result, delay, 'merge', src);
        const migratetype = mtOf.get(a) ?? mtOf.get(b) ?? null;
        if (migratetype !== null) mtOf.set(result, migratetype);
        plan.merges.push({ zone: z, order: e.order, migratetype, inputs: [a, b], output: result, delay, travel: duration, next: null });
        break;
      }
      case 'alloc': {
        const key = blockKey(z, e.pfn, e.order);
        plan.exits.push({ key, sources: res(key), to: 'alloc', delay, duration, label: 'allocated' });
        break;
      }
      case 'free': {
        const key = blockKey(z, e.pfn, e.order);
        sources.set(key, []);
        touch(key, delay, 'free', []);
        break;
      }
      case 'isolate':
        isolated.add(blockKey(z, e.pfn, e.order));
        touch(blockKey(z, e.pfn, e.order), delay, 'isolate', null, { from: ref(e), to: null });
        break;
      case 'putback': {
        const key = blockKey(z, e.pfn, e.order);
        touch(key, delay, 'putback');
        if (isolated.has(key)) {
          const k = /** @type {KeyPlan} */ (plan.keys.get(key));
          k.via = 'host';
        }
        break;
      }
      case 'list_add':
        touch(blockKey(z, e.pfn, e.order), delay, e.kind, null, { to: ref(e) });
        break;
      case 'rotate':
        plan.rotations.push({ zone: z, order: e.order, migratetype: e.migratetype, pfn: e.pfn, delay, duration });
        break;
      case 'list_del':
        touch(blockKey(z, e.pfn, e.order), delay, e.kind, null, { from: ref(e), to: null });
        break;
      case 'list_move':
        touch(blockKey(z, e.pfn, e.order), delay, 'list_move', null, {
          from: { order: e.order, migratetype: e.from_migratetype },
          to: { order: e.order, migratetype: e.to_migratetype },
        });
        break;
      case 'boundary': {
        const key = boundaryKey(z, e.order, e.migratetype);
        touch(key, delay, 'boundary');
        plan.boundaries.set(key, [...(plan.boundaries.get(key) ?? []), delay]);
        break;
      }
      case 'flag_set':
      case 'flag_clear':
        plan.pulses.push({
          key: blockKey(z, e.pfn, e.order),
          flag: e.flag,
          set: e.kind === 'flag_set',
          delay,
          reason: e.reason ?? '',
        });
        break;
      case 'report':
        plan.host.push({ zone: z, delay, pages: e.pages ?? 0, kind: 'report', pfn: null });
        break;
      case 'refault':
        plan.host.push({ zone: z, delay, pages: e.pages ?? 0, kind: 'refault', pfn: e.pfn ?? null });
        break;
      default:
        break;
    }
  });
  // A stage whose output merges again hands it on: its inputs join before that merge.
  plan.merges.forEach((stage, i) => {
    const next = plan.merges.findIndex((later, j) => j > i && later.inputs.includes(stage.output));
    if (next < 0) return;
    stage.next = next;
    stage.travel = Math.max(1, (plan.merges[next].delay - stage.delay) * CLIMB_SHARE);
  });
  return plan;
}

/**
 * How the drawn blocks of a list move when it turns to a new head (list_rotate_to_front
 * keeps the cyclic order, so every block moves towards the head by the same count, and
 * the ones in front of the new head come round to the tail).  A block drawn before and
 * after that now sits further from the head went round (`wrap`); one that sits nearer
 * moved along (`shift`).  Blocks drawn only after come in from the tail side (`enter`),
 * blocks drawn only before go out at the head (`leave`).
 * @param {Array<{key: string, position: number}>} before the list's drawn blocks before the step
 * @param {Array<{key: string, position: number}>} after the list's drawn blocks after it
 * @returns {Map<string, TurnMove>}
 */
export function rotationMoves(before, after) {
  const was = new Map(before.map((b) => [b.key, b.position]));
  /** @type {Map<string, TurnMove>} */
  const moves = new Map();
  for (const b of after) {
    const p = was.get(b.key);
    moves.set(b.key, p === undefined ? 'enter' : b.position > p ? 'wrap' : 'shift');
  }
  for (const b of before) if (!moves.has(b.key)) moves.set(b.key, 'leave');
  return moves;
}

/**
 * What to do with deltas waiting to be drawn: animate the next one, or jump.  The page
 * is "behind" when more than one step is waiting, or, while playing, a new step arrived
 * while one is still animating.  A step taken by hand while the last one still moves
 * is animated (the last one jumps to its end first): each press is seen.
 * @param {number} waiting deltas not yet drawn (including the one about to be drawn)
 * @param {boolean} animating whether an animation is still running
 * @param {boolean} [playing] whether the session plays
 */
export function shouldCollapse(waiting, animating, playing = true) {
  return waiting > 1 || (animating && playing);
}
