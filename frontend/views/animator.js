// @ts-check
/**
 * Plays an animation plan (lib/animate.js) on the free-list view with the Web
 * Animations API: FLIP for blocks that were drawn before and after the step, growth
 * from their sources for blocks born in the step (split halves, merge results, put
 * back from the host), ghosts for blocks that left (allocated), rings for flags set or
 * cleared, a flash on the host lane for a report, a list turning (reporting's rotation)
 * with its blocks moving from the tail side to the head, a merge cascade climbing the
 * rows (each merge's two blocks joining into a ghost of the result in the next order's
 * row, shown there until it joins the next buddy, the last joining into the block drawn).
 *
 * Rows keep the height they had before the step until the blocks have arrived, then
 * shrink: a merge's blocks fly from where they were drawn, in their rows, not from the
 * blank space rows that emptied would leave.
 *
 * Counts (a row's nr_free and hinted count, a lane's length, ...) keep showing what
 * they said before the step until what they count has arrived (views/heldcounts.js).
 * A v2 boundary moves one block at a time, one move per `boundary` event.  The host
 * lane, like the rows, keeps its height while the blocks leaving it fly.  The keyframes
 * that are arithmetic on times and rectangles are worked out in lib/keyframes.js.
 *
 * `capture()` must run before the DOM is updated, `play()` after.  `finish()` jumps
 * every running animation to its end (the page is behind: show the latest state).
 */
import { rotationMoves } from '../lib/animate.js';
import { boundaryMoves, cascadeBlocks, cascadePlaces, heldHeight, intoAnchor } from '../lib/keyframes.js';
import { formatPfn, migratetypeSlug } from '../lib/layout.js';
import { pfnWithDecimal } from '../lib/pfntext.js';
import { HeldCounts } from './heldcounts.js';

/**
 * @typedef {import('../lib/animate.js').Plan} Plan
 * @typedef {{rect: DOMRect, clone: HTMLElement, lane?: string, position?: number}} Captured
 *   `lane`, `position`: the list a chip was drawn in and its index there.
 * @typedef {import('../lib/animate.js').ListRef} ListRef
 * @typedef {import('../lib/keyframes.js').Box} Box
 */

/** Share of a step the rows take to shrink once the blocks have arrived. */
const SHRINK_SHARE = 0.25;

/**
 * Where a block enters or leaves a list when it is not drawn itself: the boundary
 * marker (v2 inserts and takes blocks there), else the gap, else the lane's items.
 * @param {Element} lane
 */
function anchorOf(lane) {
  return lane.querySelector('.boundary') ?? lane.querySelector('.gap') ?? lane.querySelector('.items') ?? lane;
}

/**
 * Whether an animation has nothing left to show: finished, cancelled, or paused at or
 * past its end.  (One paused there never fires `finish`, and `document.getAnimations()`
 * no longer lists it once its effect is over, so waiting for `finished` would keep a
 * plan's ghosts and marks for good.)
 * @param {Animation} a
 */
function done(a) {
  if (a.playState === 'finished' || a.playState === 'idle') return true;
  const end = a.effect?.getComputedTiming().endTime;
  return a.playState === 'paused' && typeof end === 'number' && Number(a.currentTime ?? 0) >= end;
}

export class Animator {
  /**
   * @param {HTMLElement} root the element holding the chips (and the host lane)
   * @param {HTMLElement} layer a fixed, pointer-transparent layer for ghosts
   * @param {HTMLElement | null} [table] the per-zone buddyinfo table's box, whose shown
   *   zone's counts wait for their blocks as the lists' own do
   */
  constructor(root, layer, table = null) {
    this.root = root;
    this.layer = layer;
    /** @type {Animation[]} */
    this.running = [];
    this.endsAt = 0;
    this.counts = new HeldCounts(root, table);
    /** Plans played (a finish event of an older one leaves the current one alone). */
    this.plays = 0;
    /** The plan played last (tests read its beats). */
    /** @type {Plan | null} */
    this.plan = null;
  }

  /** Whether an animation is still playing. */
  get busy() {
    return performance.now() < this.endsAt && this.running.some((a) => a.playState === 'running' || a.playState === 'pending');
  }

  /**
   * Positions (and copies, for ghosts) of every keyed element, before an update.
   * @returns {Map<string, Captured>}
   */
  capture() {
    /** @type {Map<string, Captured>} */
    const out = new Map();
    for (const el of this.root.querySelectorAll('[data-key]')) {
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 && rect.height === 0) continue;
      const chip = /** @type {HTMLElement} */ (el);
      const lane = /** @type {HTMLElement | null} */ (chip.closest('[data-anchor]'));
      out.set(chip.dataset.key ?? '', {
        rect,
        clone: /** @type {HTMLElement} */ (el.cloneNode(true)),
        lane: lane?.dataset.anchor,
        position: chip.dataset.position === undefined ? undefined : Number(chip.dataset.position),
      });
    }
    for (const lane of this.root.querySelectorAll('[data-anchor]')) {
      const a = anchorOf(lane);
      const anchor = /** @type {HTMLElement} */ (lane).dataset.anchor;
      out.set(`anchor:${anchor}`, { rect: a.getBoundingClientRect(), clone: /** @type {HTMLElement} */ (a.cloneNode(false)) });
      const items = lane.querySelector('.items');
      if (items) out.set(`items:${anchor}`, { rect: items.getBoundingClientRect(), clone: /** @type {HTMLElement} */ (items.cloneNode(false)) });
    }
    for (const cell of this.root.querySelectorAll('.fl-row > .fl-lanes')) {
      const row = /** @type {HTMLElement} */ (cell.parentElement);
      out.set(`row:${row.dataset.order}`, { rect: cell.getBoundingClientRect(), clone: /** @type {HTMLElement} */ (cell.cloneNode(false)) });
    }
    const host = this.root.querySelector('.host-lane:not([hidden])');
    if (host) out.set('host-lane', { rect: host.getBoundingClientRect(), clone: /** @type {HTMLElement} */ (host.cloneNode(false)) });
    this.counts.capture();
    return out;
  }

  /**
   * A boundary marker moving one block per `boundary` event: from where it was drawn
   * (dx, dy away) to where it is now, in equal moves at the events' beats.
   * @param {HTMLElement} el
   * @param {number[]} beats
   * @param {number} dx
   * @param {number} dy
   * @param {string} easing
   */
  stepBoundary(el, beats, dx, dy, easing) {
    const { frames, span } = boundaryMoves(beats, dx, dy, easing);
    this.track(el.animate(frames, { duration: span, fill: 'backwards' }));
    return span;
  }

  /**
   * Rows that got shorter keep their height until the blocks have arrived (`hold` ms),
   * then shrink.  Runs before anything is measured for the animation.
   * @param {Map<string, Captured>} before
   * @param {number} hold
   * @param {number} shrink
   */
  holdRows(before, hold, shrink) {
    for (const cell of this.root.querySelectorAll('.fl-row > .fl-lanes')) {
      const el = /** @type {HTMLElement} */ (cell);
      const was = before.get(`row:${/** @type {HTMLElement} */ (el.parentElement).dataset.order}`);
      if (!was) continue;
      const now = el.getBoundingClientRect().height;
      const old = was.rect.height;
      if (old - now < 1) continue;
      this.track(el.animate(heldHeight(old, now, hold, shrink), { duration: hold + shrink }));
      el.dataset.held = '1';
    }
    const host = /** @type {HTMLElement | null} */ (this.root.querySelector('.host-lane:not([hidden])'));
    const was = before.get('host-lane');
    if (host && was) {
      const now = host.getBoundingClientRect().height;
      if (was.rect.height - now >= 1) {
        this.track(host.animate(heldHeight(was.rect.height, now, hold, shrink), { duration: hold + shrink }));
        host.dataset.held = '1';
      }
    }
  }

  /**
   * A list turned (list_rotate_to_front): its blocks move towards the head, the ones
   * in front of the new head going round to the tail side (lib/animate.js rotationMoves).
   * Returns the keys animated here and when the turn ends.
   * @param {Plan} plan
   * @param {Map<string, Captured>} before
   * @param {Map<string, HTMLElement>} now
   * @param {string} easing
   */
  turn(plan, before, now, easing) {
    /** @type {Set<string>} */
    const done = new Set();
    let end = 0;
    for (const r of plan.rotations) {
      const anchor = `${r.zone}:${r.order}:${r.migratetype}`;
      const lane = this.root.querySelector(`[data-anchor="${CSS.escape(anchor)}"]`);
      const itemsEl = lane?.querySelector('.items');
      if (!lane || !itemsEl) continue;
      const box = itemsEl.getBoundingClientRect();
      const was = before.get(`items:${anchor}`)?.rect ?? box;
      /** @type {Array<{key: string, position: number}>} */
      const after = [];
      for (const chip of lane.querySelectorAll('.chip[data-key]')) {
        const el = /** @type {HTMLElement} */ (chip);
        after.push({ key: el.dataset.key ?? '', position: Number(el.dataset.position) });
      }
      /** @type {Array<{key: string, position: number}>} */
      const drawnBefore = [];
      for (const [key, c] of before) {
        if (c.lane === anchor && c.position !== undefined) drawnBefore.push({ key, position: c.position });
      }
      const { delay, duration } = r;
      for (const [key, move] of rotationMoves(drawnBefore, after)) {
        const el = now.get(key);
        const from = before.get(key);
        if (move === 'leave') {
          // Still drawn elsewhere (taken into the batch): the ordinary move shows it.
          if (el || !from) continue;
          const g = this.ghost(from);
          g.dataset.motion = 'leave';
          this.track(
            g.animate(
              [
                { transform: 'none', opacity: 1 },
                { transform: `translateX(${was.left - from.rect.left - from.rect.width / 2}px)`, opacity: 0 },
              ],
              { duration, delay, easing, fill: 'both' },
            ),
          );
        } else if (el) {
          const to = el.getBoundingClientRect();
          const fromTail = `translateX(${box.right - to.left}px)`;
          /** @type {Keyframe[]} */
          let frames;
          if (move === 'enter' || !from) {
            frames = [
              { transform: fromTail, opacity: 0 },
              { transform: fromTail, opacity: 0.6, offset: 0.15 },
              { transform: 'none', opacity: 1 },
            ];
          } else {
            const dx = from.rect.left - to.left;
            const dy = from.rect.top - to.top;
            frames =
              move === 'shift'
                ? [{ transform: `translate(${dx}px, ${dy}px)` }, { transform: 'none' }]
                : [
                    { transform: `translate(${dx}px, ${dy}px)`, opacity: 1, offset: 0 },
                    { transform: `translate(${was.left - to.left - to.width / 2}px, ${dy}px)`, opacity: 0, offset: 0.45 },
                    { transform: fromTail, opacity: 0, offset: 0.55 },
                    { transform: 'none', opacity: 1, offset: 1 },
                  ];
          }
          this.track(el.animate(frames, { duration, delay, easing, fill: 'backwards' }));
          el.dataset.motion = move;
          el.classList.add('moving');
        }
        done.add(key);
      }
      end = Math.max(end, delay + duration);
    }
    return { done, end };
  }

  /**
   * A merge cascade (plan.merges) climbing the rows: every block of it is a ghost where
   * it was drawn (a buddy) or, when it is not drawn (the freed block, a result that
   * merges again), beside the buddy it merges with next, or at its list in its order's
   * row.  Each merge's two blocks fly to the result's place, where the result appears
   * as they arrive; the last result is the block drawn now.  Returns the keys animated
   * here and when the climb ends.
   * @param {Plan} plan
   * @param {Map<string, Captured>} before
   * @param {Map<string, HTMLElement>} now
   * @param {string} easing
   */
  climb(plan, before, now, easing) {
    /** @type {Set<string>} */
    const done = new Set();
    let end = 0;
    if (plan.merges.length === 0) return { done, end };
    const chipH = [...before.values()].find((c) => c.clone.classList.contains('chip'))?.rect.height ?? 22;
    const place = cascadePlaces(plan, (key) => before.get(key)?.rect, (key) => now.get(key)?.getBoundingClientRect(), chipH);
    for (const b of cascadeBlocks(plan, place, (key) => before.has(key), (key) => now.has(key), easing)) {
      const el = now.get(b.key);
      if (b.result && el) {
        this.track(el.animate(b.frames, { duration: b.span, easing: 'linear', fill: 'backwards' }));
        el.classList.add('born');
        done.add(b.key);
      } else {
        const was = before.get(b.key);
        const g = was ? this.ghost(was) : this.chipGhost(b.key, b.at, b.order, b.migratetype);
        if (b.migratetype) g.classList.add('mt', `mt-${migratetypeSlug(b.migratetype)}`);
        g.dataset.climb = String(b.order);
        this.track(g.animate(b.frames, { duration: b.span, fill: 'both' }));
      }
      end = Math.max(end, b.span);
    }
    return { done, end };
  }

  /**
   * A ghost chip for a block that is not drawn (a merge cascade's freed block or
   * intermediate result) at `at`.
   * @param {string} key
   * @param {Box} at
   * @param {number} order
   * @param {string | null} mt
   */
  chipGhost(key, at, order, mt) {
    const pfn = Number(key.split(':')[1]);
    const g = document.createElement('span');
    g.className = 'chip ghost';
    g.textContent = formatPfn(pfn);
    g.dataset.pfn = String(pfn);
    g.dataset.order = String(order);
    g.title = `order-${order}${mt ? ` ${mt}` : ''} block at pfn ${pfnWithDecimal(pfn)}, merging`;
    g.style.left = `${at.left}px`;
    g.style.top = `${at.top}px`;
    g.style.height = `${at.height}px`;
    this.layer.append(g);
    return g;
  }

  /**
   * The rectangle standing for a list in the current DOM.
   * @param {string} zone
   * @param {ListRef} list
   */
  anchorNow(zone, list) {
    const lane = this.root.querySelector(`[data-anchor="${CSS.escape(`${zone}:${list.order}:${list.migratetype}`)}"]`);
    return lane ? anchorOf(lane).getBoundingClientRect() : null;
  }

  /** Jump every running animation to its end, drop the ghosts, show every count. */
  finish() {
    this.counts.releaseAll();
    for (const a of this.running) {
      try {
        a.finish();
      } catch {
        a.cancel();
      }
    }
    this.running = [];
    this.layer.replaceChildren();
    this.endsAt = 0;
  }

  /** @param {Animation} a */
  track(a) {
    this.running.push(a);
    return a;
  }

  /**
   * A ghost copy of an element at a rectangle (fixed position).
   * @param {Captured} from
   * @param {string} [label]
   */
  ghost(from, label) {
    const g = /** @type {HTMLElement} */ (from.clone.cloneNode(true));
    g.removeAttribute('data-key');
    g.removeAttribute('id');
    g.classList.add('ghost');
    g.style.left = `${from.rect.left}px`;
    g.style.top = `${from.rect.top}px`;
    g.style.width = `${from.rect.width}px`;
    g.style.height = `${from.rect.height}px`;
    if (label) g.dataset.label = label;
    this.layer.append(g);
    return g;
  }

  /**
   * @param {Plan} plan
   * @param {Map<string, Captured>} before
   * @param {boolean} [timed] also return the step's clock (a step taken by hand: the
   *   memory map follows it)
   * @returns {(() => number | null) | null} the step's clock: ms into the step, null
   *   once it is over; an animation that moves nothing, so that the clock stops, jumps
   *   or ends with the others
   */
  play(plan, before, timed = false) {
    this.finish();
    this.plan = plan;
    if (plan.collapsed) return null;
    const clock = timed ? this.track(this.root.animate([], { duration: Math.max(1, plan.total) })) : null;
    const easing = 'cubic-bezier(.3,.7,.2,1)';
    const shrink = Math.max(120, plan.budget * SHRINK_SHARE);
    this.holdRows(before, plan.total, shrink);
    let end = 0;
    const hostLane = /** @type {HTMLElement | null} */ (this.root.querySelector('.host-lane:not([hidden]) .host-items'));
    const hostRect = hostLane?.getBoundingClientRect() ?? null;
    /** @type {Map<string, HTMLElement>} */
    const now = new Map();
    for (const el of this.root.querySelectorAll('[data-key]')) now.set(/** @type {HTMLElement} */ (el).dataset.key ?? '', /** @type {HTMLElement} */ (el));

    const turned = this.turn(plan, before, now, easing);
    const climbed = this.climb(plan, before, now, easing);
    end = Math.max(end, turned.end, climbed.end);

    for (const [key, el] of now) {
      if (turned.done.has(key) || climbed.done.has(key)) continue;
      const kp = plan.keys.get(key);
      const to = el.getBoundingClientRect();
      if (to.width === 0) continue;
      const was = before.get(key);
      const delay = kp?.delay ?? 0;
      const duration = kp?.duration ?? Math.min(plan.budget * 0.5, 400);
      if (was) {
        const dx = was.rect.left - to.left;
        const dy = was.rect.top - to.top;
        if (Math.abs(dx) < 0.5 && Math.abs(dy) < 0.5 && !kp) continue;
        const beats = plan.boundaries.get(key);
        if (beats && beats.length) {
          end = Math.max(end, this.stepBoundary(el, beats, dx, dy, easing));
          continue;
        }
        /** @type {Keyframe[]} */
        const frames = [{ transform: `translate(${dx}px, ${dy}px)`, offset: 0 }];
        if (kp?.via === 'host' && hostRect) {
          frames.push({
            transform: `translate(${hostRect.left + hostRect.width / 2 - to.left - to.width / 2}px, ${hostRect.top + 4 - to.top}px) scale(1.1)`,
            offset: 0.5,
          });
        }
        frames.push({ transform: 'translate(0, 0)', offset: 1 });
        this.track(el.animate(frames, { duration, delay, easing, fill: 'backwards' }));
        if (kp) el.classList.add('moving');
        end = Math.max(end, delay + duration);
      } else if (kp && kp.sources && kp.sources.length) {
        const sources = kp.sources.map((k) => before.get(k)).filter((c) => c !== undefined);
        if (sources.length) {
          const first = /** @type {Captured} */ (sources[0]);
          const sx = first.rect.width / to.width;
          this.track(
            el.animate(
              [
                { transform: `translate(${first.rect.left - to.left}px, ${first.rect.top - to.top}px) scale(${sx}, 1)`, opacity: 0.4 },
                { transform: 'none', opacity: 1 },
              ],
              { duration, delay, easing, fill: 'backwards' },
            ),
          );
          // The other parts of a merge fly into the result.
          for (const src of sources.slice(1)) {
            const g = this.ghost(/** @type {Captured} */ (src));
            this.track(
              g.animate(
                [
                  { transform: 'none', opacity: 1 },
                  { transform: `translate(${to.left - src.rect.left}px, ${to.top - src.rect.top}px)`, opacity: 0 },
                ],
                { duration, delay, easing, fill: 'both' },
              ),
            );
          }
        } else {
          this.track(el.animate([{ opacity: 0, transform: 'scale(.4)' }, { opacity: 1, transform: 'none' }], { duration, delay, easing, fill: 'backwards' }));
        }
        el.classList.add('born');
        end = Math.max(end, delay + duration);
      } else if (kp) {
        const zone = key.slice(0, key.indexOf(':'));
        const from = kp.fromList ? before.get(`anchor:${zone}:${kp.fromList.order}:${kp.fromList.migratetype}`)?.rect ?? this.anchorNow(zone, kp.fromList) : null;
        if (from) {
          this.track(
            el.animate(
              [
                { transform: `translate(${from.left + from.width / 2 - to.left - to.width / 2}px, ${from.top - to.top}px) scale(.7)`, opacity: 0.3 },
                { transform: 'none', opacity: 1 },
              ],
              { duration, delay, easing, fill: 'backwards' },
            ),
          );
        } else {
          this.track(el.animate([{ opacity: 0, transform: 'translateY(-14px) scale(.6)' }, { opacity: 1, transform: 'none' }], { duration, delay, easing, fill: 'backwards' }));
        }
        el.classList.add('born');
        end = Math.max(end, delay + duration);
      }
    }

    // Blocks drawn before and not now that went onto a list where they are not drawn
    // (the unsent middle, behind the boundary): a ghost flies there.
    for (const [key, kp] of plan.keys) {
      if (now.has(key) || !kp.toList) continue;
      const was = before.get(key);
      if (!was) continue;
      const zone = key.slice(0, key.indexOf(':'));
      const to = this.anchorNow(zone, kp.toList);
      if (!to) continue;
      const g = this.ghost(was);
      const { dx, dy } = intoAnchor(was.rect, to);
      /** @type {Keyframe[]} */
      const frames = [
        { transform: 'none', opacity: 1, offset: 0 },
        { transform: `translate(${dx}px, ${dy}px) scale(.8)`, opacity: 0, offset: 1 },
      ];
      this.track(g.animate(frames, { duration: kp.duration, delay: kp.delay, easing, fill: 'both' }));
      end = Math.max(end, kp.delay + kp.duration);
    }

    for (const exit of plan.exits) {
      const src = before.get(exit.key) ?? exit.sources.map((k) => before.get(k)).find((c) => c !== undefined);
      if (!src) continue;
      const g = this.ghost(src, exit.label);
      g.classList.add('leaving');
      this.track(
        g.animate(
          [
            { transform: 'none', opacity: 1 },
            { transform: 'translateY(-28px) scale(.9)', opacity: 0 },
          ],
          { duration: exit.duration, delay: exit.delay, easing, fill: 'both' },
        ),
      );
      end = Math.max(end, exit.delay + exit.duration);
    }

    for (const p of plan.pulses) {
      const el = now.get(p.key);
      if (!el) continue;
      const colour = p.set ? 'rgba(0,114,178,.85)' : 'rgba(213,94,0,.9)';
      this.track(
        el.animate(
          [
            { boxShadow: `0 0 0 0 ${colour}` },
            { boxShadow: `0 0 0 6px ${colour}`, offset: 0.4 },
            { boxShadow: '0 0 0 0 rgba(0,0,0,0)' },
          ],
          { duration: Math.max(300, plan.budget * 0.4), delay: p.delay, easing: 'ease-out' },
        ),
      );
      if (!p.set) el.dataset.lost = p.flag;
      end = Math.max(end, p.delay + plan.budget * 0.4);
    }

    for (const beat of plan.host) {
      const lane = /** @type {HTMLElement | null} */ (this.root.querySelector('.host-lane'));
      if (!lane) continue;
      const colour = beat.kind === 'report' ? 'rgba(0,114,178,.28)' : 'rgba(213,94,0,.28)';
      this.track(
        lane.animate([{ backgroundColor: colour }, { backgroundColor: 'rgba(0,0,0,0)' }], {
          duration: Math.max(400, plan.budget * 0.6),
          delay: beat.delay,
          easing: 'ease-out',
        }),
      );
    }
    this.counts.hold(plan, (a) => this.track(a));
    if (this.root.querySelector('[data-held]')) end = Math.max(end, plan.total + shrink);
    this.endsAt = performance.now() + end + 20;
    // Only this plan's animations clean up after it, once all of them are done: a
    // finish event of the last step's, still queued, or of a short one while the others
    // are paused mid-way, must not drop this step's ghosts.
    const plays = ++this.plays;
    for (const a of this.running) {
      a.addEventListener('finish', () => {
        if (plays === this.plays && this.running.every(done)) this.cleanup();
      });
    }
    return clock && (() => (done(clock) ? null : Number(clock.currentTime ?? 0)));
  }

  cleanup() {
    this.counts.releaseAll();
    this.layer.replaceChildren();
    for (const el of this.root.querySelectorAll('.moving, .born')) el.classList.remove('moving', 'born');
    for (const el of this.root.querySelectorAll('[data-motion], [data-held]')) {
      const e = /** @type {HTMLElement} */ (el);
      delete e.dataset.motion;
      delete e.dataset.held;
    }
  }
}
