// @ts-check
/**
 * The free-list view's counts while a step is animated (views/animator.js): a row's
 * nr_free and hinted count, a lane's length, the batch with the host, a boundary's
 * label keep showing what they said before the step until what they count has arrived
 * (lib/animate.js `arrivals`).  The new text is in the DOM at once, the old one drawn
 * over it (`data-was`, the `::after` in lists.css) until then.
 *
 * `capture()` must run before the DOM is updated, `hold()` after.
 */
import { arrivals } from '../lib/animate.js';
import { countArrival, swapAt } from '../lib/keyframes.js';

/**
 * The counts the view shows, by what they count: `nr:ORDER`, `flag:ORDER` (a row's
 * cells), `lane:ANCHOR` (a lane's length), `host` (the batch with the host),
 * `boundary:ANCHOR` (a boundary's label), and in the per-zone table above the lists the
 * shown zone's row: `zone:ZONE:ORDER`, `zone:ZONE:total` (its free memory, whole when the step
 * is).
 * @param {Element} root
 * @param {Element | null} table the per-zone buddyinfo table's box, if the page has one
 * @returns {Map<string, HTMLElement>}
 */
function countCells(root, table) {
  /** @type {Map<string, HTMLElement>} */
  const out = new Map();
  const shown = /** @type {HTMLElement | null | undefined} */ (table?.querySelector('tr.selected[data-zone]'));
  if (shown) {
    const cells = /** @type {HTMLElement[]} */ ([...shown.querySelectorAll('td.num')]);
    cells.forEach((el, o) => out.set(`zone:${shown.dataset.zone}:${el.classList.contains('total') ? 'total' : o}`, el));
  }
  for (const row of root.querySelectorAll('.fl-row')) {
    const order = /** @type {HTMLElement} */ (row).dataset.order;
    for (const [cls, name] of [['.fl-nr', 'nr'], ['.fl-flag', 'flag']]) {
      const el = row.querySelector(cls);
      if (el) out.set(`${name}:${order}`, /** @type {HTMLElement} */ (el));
    }
  }
  for (const lane of root.querySelectorAll('[data-anchor]')) {
    const anchor = /** @type {HTMLElement} */ (lane).dataset.anchor;
    const count = lane.querySelector('.lane-count');
    if (count) out.set(`lane:${anchor}`, /** @type {HTMLElement} */ (count));
    const label = lane.querySelector('.boundary-label');
    if (label) out.set(`boundary:${anchor}`, /** @type {HTMLElement} */ (label));
  }
  const host = root.querySelector('.host-lane .host-facts');
  if (host) out.set('host', /** @type {HTMLElement} */ (host));
  return out;
}

export class HeldCounts {
  /**
   * @param {Element} root the free-list view
   * @param {Element | null} [table] the per-zone buddyinfo table's box above it
   */
  constructor(root, table = null) {
    this.root = root;
    this.table = table;
    /** The counts' texts before the step (capture), by countCells key. */
    /** @type {Map<string, string>} */
    this.texts = new Map();
    /**
     * Counts showing their old text until what they count arrives, each with the
     * animation that shows its new text (only that one's end releases it: the end of
     * the last step's, sent a frame after a new step held the count again, must not).
     * @type {Map<HTMLElement, Animation>}
     */
    this.held = new Map();
  }

  /** What every count says before the step. */
  capture() {
    this.texts = new Map([...countCells(this.root, this.table)].map(([k, el]) => [k, el.textContent ?? '']));
  }

  /**
   * Each count whose text the step changed shows its old text until what it counts
   * has arrived, then the new one (an empty animation of that length says when, so
   * freezing the animations freezes the counts too).
   * @param {import('../lib/animate.js').Plan} plan
   * @param {(a: Animation) => Animation} track the animator keeps every animation it runs
   */
  hold(plan, track) {
    const when = arrivals(plan);
    for (const [key, el] of countCells(this.root, this.table)) {
      // A lane drawn for the first time was an empty list: it counted 0 until its block came.
      const was = this.texts.get(key) ?? (key.startsWith('lane:') ? '0' : undefined);
      if (was === undefined || was === el.textContent) continue;
      const at = countArrival(key, when, plan.total);
      const style = getComputedStyle(el);
      const colour = style.color;
      el.dataset.was = was;
      // The old text sits where the new one does (a right-aligned table cell too).
      if (style.textAlign === 'right') el.style.justifyContent = 'flex-end';
      el.style.setProperty('--was-colour', colour);
      el.classList.add('was');
      // Until `at` the new text is transparent and the old one (::after) drawn over it;
      // then they swap.  Both are animations, so a frozen clock freezes the counts too.
      const span = Math.max(1, at);
      track(el.animate(swapAt({ opacity: 1 }, { opacity: 0 }, span), { duration: span, pseudoElement: '::after', fill: 'forwards' }));
      const own = track(el.animate(swapAt({ color: 'transparent' }, { color: colour }, span), { duration: span }));
      this.held.set(el, own);
      own.addEventListener('finish', () => {
        if (this.held.get(el) === own) this.release(el);
      });
    }
  }

  /** @param {HTMLElement} el a held count: show its text */
  release(el) {
    el.classList.remove('was');
    delete el.dataset.was;
    el.style.removeProperty('--was-colour');
    el.style.removeProperty('justify-content');
    this.held.delete(el);
  }

  /** Every held count shows its text (the step landed at once, or its animation ended). */
  releaseAll() {
    for (const el of [...this.held.keys()]) this.release(el);
  }
}
