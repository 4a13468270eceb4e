// @ts-check
/**
 * Narration and log.  The narration shows the current step's events as sentences with
 * the kernel function each stands for, highlighted in time with the animation; the
 * log keeps the steps seen, newest at the bottom, and a click on a step seeks there.
 */
import { formatSeconds } from './statepanel.js';
import { eventsToDraw, pointOf } from '../lib/narrate.js';
import { h, scrollToLine, withPfns } from './dom.js';

/** @typedef {import('../lib/protocol.js').ModelEvent} ModelEvent */

/** Most steps kept in the log. */
export const LOG_STEPS = 150;
/** Most events drawn per step (the rest counted). */
export const EVENTS_PER_STEP = 40;

/** Event kinds that make the best one-line summary of a step, best first. */
const HEADLINE_KINDS = ['phase', 'user', 'step_error', 'report', 'alloc', 'free', 'refault', 'state', 'request', 'work', 'clock'];

/**
 * The sentence that sums up a step.
 * @param {ModelEvent[]} events
 */
export function headline(events) {
  for (const kind of HEADLINE_KINDS) {
    const e = events.find((x) => x.kind === kind);
    if (e) return e;
  }
  return events[0] ?? null;
}

/**
 * @param {ModelEvent} e
 * @param {boolean} [point] the event carrying the step's point
 */
function eventLine(e, point = false) {
  return h('li', { class: `ev kind-${e.kind}${point ? ' point' : ''}`, 'data-kind': e.kind }, [
    h('span', { class: 'ev-kind' }, [e.kind]),
    h('span', { class: 'ev-msg' }, withPfns(e.message ?? '')),
    e.fn ? h('code', { class: 'ev-fn', title: 'kernel function' }, [e.fn]) : null,
  ]);
}

export class LogView {
  /**
   * @param {HTMLElement} narration
   * @param {HTMLElement} log
   * @param {(step: number) => void} onSeek
   */
  constructor(narration, log, onSeek) {
    this.narration = narration;
    this.log = log;
    this.onSeek = onSeek;
    /** @type {Animation[]} */
    this.running = [];
    /** @type {HTMLElement | null} */
    this.current = null;
    /** Log entries whose event lines are not built yet. */
    /** @type {WeakMap<Element, () => HTMLElement>} */
    this.pending = new WeakMap();
    this.scrolled = false;
    log.addEventListener('scroll', () => {
      this.scrolled = true;
    }, { passive: true });
    log.addEventListener('click', (e) => {
      const target = /** @type {HTMLElement} */ (e.target).closest('[data-step]');
      if (target) this.onSeek(Number(/** @type {HTMLElement} */ (target).dataset.step));
    });
    log.addEventListener('keydown', (e) => {
      const target = /** @type {HTMLElement} */ (e.target);
      if ((e.key === 'Enter' || e.key === ' ') && target.dataset.step) {
        e.preventDefault();
        this.onSeek(Number(target.dataset.step));
      }
    });
  }

  clear() {
    this.log.replaceChildren();
  }

  /**
   * A step's events arrived.
   * @param {number} step the step they lead to
   * @param {number} clock
   * @param {ModelEvent[]} events
   * @param {number} dropped events the server left out
   * @param {boolean} [mark] mark it as the current step (scrolls)
   */
  addStep(step, clock, events, dropped = 0, mark = true) {
    // Newest first.  A step seen again (after going back) replaces its old entry and
    // everything after it.
    let first = /** @type {HTMLElement | null} */ (this.log.firstElementChild);
    while (first && Number(first.dataset.step) >= step) {
      first.remove();
      first = /** @type {HTMLElement | null} */ (this.log.firstElementChild);
    }
    const head = headline(events);
    const shown = events.slice(0, EVENTS_PER_STEP);
    const more = events.length - shown.length + dropped;
    const entry = h('li', { class: 'log-step', 'data-step': step }, [
      h(
        'button',
        { type: 'button', class: 'log-head', 'data-step': step, title: `seek to step ${step}` },
        [
          h('span', { class: 'log-num' }, [`step ${step}`]),
          h('span', { class: 'log-clock' }, [`t = ${formatSeconds(clock)}`]),
          h('span', { class: 'log-title' }, withPfns(head ? head.message : '(no events)')),
        ],
      ),
    ]);
    // The event lines are built when the step becomes the current one (the log shows
    // them only there): a fast play adds hundreds of steps a second.  A step of one
    // event (a phase's sentence) says it once, in its title.
    if (events.length > 1 || more > 0) {
      this.pending.set(entry, () => h('ul', { class: 'log-events' }, [...shown.map(eventLine), more > 0 ? h('li', { class: 'ev more' }, [`+ ${more} more events`]) : null]));
    }
    this.log.prepend(entry);
    while (this.log.children.length > LOG_STEPS) this.log.lastElementChild?.remove();
    if (mark) this.markCurrent(step);
  }

  /**
   * Mark the current step in the log, scrolling it into view.
   * @param {number} step
   */
  markCurrent(step) {
    const el = /** @type {HTMLElement | null} */ (this.log.querySelector(`.log-step[data-step="${step}"]`));
    if (el === this.current && el?.classList.contains('current')) return;
    this.current?.classList.remove('current');
    for (const old of this.log.querySelectorAll('.log-step.current')) old.classList.remove('current');
    this.current = el;
    if (el) {
      const build = this.pending.get(el);
      if (build) {
        this.pending.delete(el);
        el.append(build());
      }
      el.classList.add('current');
      // The newest entry is at the top; an older one (after going back) is scrolled to,
      // inside the log only.
      if (el !== this.log.firstElementChild) {
        const box = this.log;
        if (el.offsetTop < box.scrollTop || el.offsetTop > box.scrollTop + box.clientHeight - 20) box.scrollTop = el.offsetTop - 8;
      } else if (this.scrolled) {
        this.log.scrollTop = 0;
        this.scrolled = false;
      }
    }
  }

  /**
   * Show a step's events as the narration; `beats` (from the animation plan) light
   * each sentence up when its animation starts.
   * @param {number} step
   * @param {ModelEvent[]} events
   * @param {string} note e.g. "jumped here (seek)"
   * @param {Array<{index: number, delay: number}>} [beats]
   * @param {boolean} [scroll] scroll the list to the event that carries the point
   */
  narrate(step, events, note, beats = [], scroll = true) {
    for (const a of this.running) a.cancel();
    this.running = [];
    const head = headline(events);
    const point = pointOf(events);
    // A step of one event says it once, in the headline.
    const listed = events.length > 1 ? events : [];
    const lines = listed.slice(0, eventsToDraw(listed.length, point)).map((e, i) => eventLine(e, i === point));
    const rest = listed.length - lines.length;
    const list = h('ol', { class: 'narration-events', 'aria-label': `events of step ${step}`, tabindex: listed.length ? 0 : -1 }, [
      ...lines,
      rest > 0 ? h('li', { class: 'ev more' }, [h('button', { type: 'button', class: 'show-all' }, [`show all ${events.length} events`])]) : null,
    ]);
    list.querySelector('.show-all')?.addEventListener('click', () => {
      list.lastElementChild?.remove();
      list.append(...listed.slice(lines.length).map((e) => eventLine(e, false)));
    });
    this.narration.replaceChildren(
      h('p', { class: head ? 'headline' : 'headline note' }, [
        h('span', { class: 'step-badge' }, [`step ${step}`]),
        // The count stays in view: a step whose events scroll never looks complete.
        events.length > 1 ? h('span', { class: 'ev-count', title: 'scroll the list below to see every event' }, [`${events.length} events`]) : null,
        ...withPfns(head ? head.message : note || 'no events in this step'),
        head?.fn ? h('code', { class: 'ev-fn' }, [head.fn]) : null,
      ]),
      list,
    );
    // The event that carries the point is in view without scrolling: the list (not the
    // page) scrolls to it when it is below the lines that fit, to a line's top.
    const li = lines[point];
    if (scroll && li && li.offsetTop + li.offsetHeight > list.clientHeight) {
      scrollToLine(list, lines, li);
    }
    for (const beat of beats) {
      const line = lines[beat.index];
      if (!line) continue;
      this.running.push(
        line.animate([{ backgroundColor: 'rgba(240,228,66,.75)' }, { backgroundColor: 'rgba(240,228,66,0)' }], {
          duration: 900,
          delay: beat.delay,
          easing: 'ease-out',
        }),
      );
    }
  }
}
