// @ts-check
/**
 * A step walked event by event.  Shift+→ / Shift+← (or the ◂ ▸ buttons at the
 * narration's corner, or a click on an event line) pick one event of the step on
 * screen: its line in the narration is marked, the chips and map frames it touched
 * are outlined, and a pseudocode panel beside the events shows the kernel function it
 * stands for with its line lit (lib/pseudocode.js, lib/substeps.js).  A chip or a map
 * frame clicked lists the events of the step that touched it.
 *
 * The panel lives inside the narration box (the box keeps its height: nothing under
 * it moves) and is put back whenever the narration redraws its children.
 *
 * The controller's walk is mirrored to its followers: each event it picks (or the
 * whole step again) is told to the server (`walked`), which sends it to everybody
 * following as a `substep` message; a follower shows it (`follow`) once it is at that
 * step.
 */
import { formatPfn } from '../lib/layout.js';
import { LISTINGS } from '../lib/pseudocode.js';
import { eventsTouching, locate, nextSubstep, touches } from '../lib/substeps.js';
import { h, replaceKids, scrollToLine, withPfns } from './dom.js';

/**
 * @typedef {import('../lib/protocol.js').ModelEvent} ModelEvent
 * @typedef {import('../lib/state.js').ClientState} ClientState
 * @typedef {{
 *   state: () => ClientState | null,
 *   mark: (marks: import('./memmapview.js').Mark[]) => void,
 *   walked?: (step: number, index: number) => void,
 * }} SubstepHooks
 *   `walked`: the user picked an event of `step` (-1: the whole step again).
 */

export class SubstepsView {
  /**
   * @param {HTMLElement} narration the narration box (views/log.js redraws its children)
   * @param {SubstepHooks} hooks the state on screen; the outlines on chips and map
   */
  constructor(narration, hooks) {
    this.narration = narration;
    this.hooks = hooks;
    /** Outlines are drawn (cleared once the walk ends). */
    this.marked = false;
    /** The event picked (-1: the whole step), in `events`. */
    this.index = -1;
    /** @type {ModelEvent[]} the step's events the index is into */
    this.events = [];
    /** @type {{zone: string, pfn: number, order: number, hits: number[]} | null} a block picked on the lists or the map */
    this.picked = null;
    /** @type {{step: number, index: number} | null} the controller's pick, for a step not drawn here yet */
    this.remote = null;
    /** The last pick told to the followers ('': none since the step began). */
    this.told = '';
    this.title = h('code', { class: 'code-fn' });
    this.file = h('span', { class: 'code-file' });
    this.pos = h('span', { class: 'sub-pos', id: 'sub-pos' });
    this.lines = h('ol', { class: 'code-lines', id: 'code-lines', 'aria-label': 'pseudocode' });
    this.touching = h('p', { class: 'code-touching', id: 'code-touching', hidden: true });
    const button = (/** @type {string} */ id, /** @type {string} */ text, /** @type {string} */ title, /** @type {() => void} */ fn) =>
      h('button', { type: 'button', id, class: 'sub-btn', title, 'aria-label': title, onclick: fn }, [text]);
    this.panel = h('aside', { class: 'code-panel', id: 'code-panel', 'aria-label': 'the event in the kernel\'s code', hidden: true }, [
      h('div', { class: 'code-head' }, [
        button('btn-sub-prev', '◂', 'previous event (Shift + ←)', () => this.move(-1)),
        this.pos,
        button('btn-sub-next', '▸', 'next event (Shift + →)', () => this.move(1)),
        this.title,
        this.file,
        button('btn-sub-close', '×', 'back to the whole step (Esc)', () => this.close()),
      ]),
      this.touching,
      this.lines,
    ]);
    this.opener = h('div', { class: 'sub-open', id: 'sub-open' }, [
      button('btn-sub-first', '◂ ▸ events', 'walk this step event by event (Shift + → / Shift + ←)', () => this.move(1)),
    ]);
    this.attachPanel();
    // The narration redraws its children at every step: put the panel back at once
    // (a mutation callback runs before the frame is painted).
    new MutationObserver(() => {
      if (!this.panel.isConnected || !this.opener.isConnected) this.attachPanel();
      else this.markLines();
    }).observe(narration, { childList: true });
    narration.addEventListener('click', (e) => {
      const line = /** @type {HTMLElement} */ (e.target).closest('.narration-events > .ev:not(.more)');
      if (!line) return;
      const all = [...narration.querySelectorAll('.narration-events > .ev:not(.more)')];
      this.sync();
      this.select(all.indexOf(line));
    });
  }

  attachPanel() {
    this.narration.append(this.opener, this.panel);
    this.markLines();
  }

  /** After the page drew a state: a new step starts from the whole step (the same step keeps its walk). */
  sync() {
    const state = this.hooks.state();
    const events = state ? state.events : [];
    if (events === this.events) return;
    this.events = events;
    this.index = -1;
    this.picked = null;
    this.told = ''; // a new step starts whole, here and on every follower
    const remote = this.remote;
    if (remote && state && remote.step === state.step) {
      this.remote = null;
      this.index = Math.min(remote.index, events.length - 1);
    }
    this.draw();
  }

  /**
   * The controller's pick (a `substep` message, on a follower): shown at once when its
   * step is on screen, else when that step is drawn.
   * @param {{step: number, index: number}} walk
   */
  follow(walk) {
    const state = this.hooks.state();
    if (!state || state.step !== walk.step || state.events !== this.events) {
      this.remote = walk;
      if (state && state.step === walk.step) this.sync();
      return;
    }
    this.remote = null;
    this.picked = null;
    this.index = Math.min(walk.index, this.events.length - 1);
    this.draw();
  }

  /** @param {1 | -1} dir */
  move(dir) {
    this.sync();
    this.select(nextSubstep(this.index, dir, this.events.length));
  }

  /** @param {number} index an event of the step, or -1 for the whole step */
  select(index) {
    this.index = index;
    this.draw();
    this.tell();
  }

  /** Back to the whole step: nothing picked, the panel closed. */
  close() {
    this.index = -1;
    this.picked = null;
    this.draw();
    this.tell();
  }

  /** The user's pick, for the followers (once per change: Esc on the whole step says nothing). */
  tell() {
    const state = this.hooks.state();
    if (!state) return;
    const told = `${state.session}/${state.step}/${this.index}`;
    if (told === this.told || (this.index === -1 && this.told === '')) return;
    this.told = told;
    this.hooks.walked?.(state.step, this.index);
  }

  /**
   * A block clicked on the lists or the map: which events of this step touched it.
   * @param {string} zone
   * @param {number} pfn
   * @param {number} [order] a chip's order; a map frame is order 0
   */
  pick(zone, pfn, order = 0) {
    this.sync();
    if (this.events.length === 0) return; // a step without events (step 0): nothing to list
    const state = this.hooks.state();
    const hits = eventsTouching(this.events, zone, pfn, order, state?.config.pageblock_order ?? 9);
    this.picked = { zone, pfn, order, hits };
    this.draw();
  }

  draw() {
    const e = this.index >= 0 ? this.events[this.index] : null;
    const open = e !== null || this.picked !== null;
    this.panel.hidden = !open;
    this.opener.hidden = open || this.events.length < 2;
    this.narration.classList.toggle('with-code', open);
    this.pos.textContent = e ? `event ${this.index + 1} / ${this.events.length}` : `${this.events.length} events`;
    const place = e ? locate(this.events, this.index, { capacity: this.capacity(), pageblockOrder: this.hooks.state()?.config.pageblock_order ?? 9 }) : null;
    const listing = place ? LISTINGS[place.fn] : null;
    this.title.textContent = listing ? `${listing.name}()` : e ? `${e.fn || e.kind}: buddyscope's own` : '';
    this.file.textContent = listing ? `${listing.file} · ${listing.source}` : '';
    this.panel.dataset.fn = listing ? listing.name : '';
    this.panel.dataset.line = place && listing ? listing.lines[place.line].id : '';
    replaceKids(
      this.lines,
      listing
        ? listing.lines.map((l, i) => {
            const [code, comment] = splitComment(l.code);
            return h('li', { class: i === place?.line ? 'current' : '', 'data-id': l.id, title: l.code, 'aria-current': i === place?.line ? 'step' : null }, [
              h('span', { class: 'code' }, [code]),
              comment ? h('span', { class: 'comment' }, [comment]) : null,
            ]);
          })
        : e
          ? [h('li', { class: 'muted' }, ['not a kernel function: the timeline\'s own note'])]
          : [],
    );
    const current = /** @type {HTMLElement | null} */ (this.lines.querySelector('li.current'));
    if (current) this.lines.scrollTop = Math.max(0, current.offsetTop - this.lines.clientHeight / 2 + current.offsetHeight / 2);
    this.drawTouching();
    this.markLines();
    this.highlight();
  }

  /** The picked block's events, as links to them. */
  drawTouching() {
    const p = this.picked;
    this.touching.hidden = p === null;
    if (!p) return;
    // pfns in hex, as the kernel's traces print them; decimal on hover (withPfns).
    const what = `${p.order ? `order-${p.order} block` : 'frame'} ${formatPfn(p.pfn)}`;
    replaceKids(this.touching, [
      ...withPfns(p.hits.length ? `${what}: touched by ` : `${what}: no event of this step touched it`),
      ...p.hits.flatMap((i, n) => [
        n ? ', ' : '',
        h('button', { type: 'button', class: 'touch-link', 'data-index': i, title: this.events[i]?.message ?? '', onclick: () => this.select(i) }, [
          `#${i + 1} ${this.events[i]?.kind ?? ''}`,
        ]),
      ]),
    ]);
  }

  /** Mark the picked event's line (and the lines touching a picked block) in the narration. */
  markLines() {
    const lines = /** @type {HTMLElement[]} */ ([...this.narration.querySelectorAll('.narration-events > .ev:not(.more)')]);
    const state = this.hooks.state();
    // Lines drawn for other events than ours (a newer step): leave them alone.
    if (!state || state.events !== this.events) return;
    if (this.index >= lines.length && this.index >= 0) {
      /** @type {HTMLButtonElement | null} */ (this.narration.querySelector('.show-all'))?.click();
      return;
    }
    const hits = new Set(this.picked?.hits ?? []);
    lines.forEach((li, i) => {
      li.classList.toggle('sub-current', i === this.index);
      li.classList.toggle('touching', hits.has(i));
      li.dataset.index = String(i);
    });
    const li = lines[this.index];
    const list = li?.parentElement;
    if (li && list && (li.offsetTop < list.scrollTop || li.offsetTop + li.offsetHeight > list.scrollTop + list.clientHeight)) {
      scrollToLine(list, lines, li);
    }
  }

  /** Outline what the picked event touched: its chips in the lists, its frames on the map. */
  highlight() {
    const e = this.index >= 0 ? this.events[this.index] : null;
    if (!e && !this.marked) return;
    this.marked = e !== null;
    const blocks = e ? touches(e, this.hooks.state()?.config.pageblock_order ?? 9) : [];
    this.hooks.mark(blocks.map((b) => ({ ...b, role: /** @type {const} */ ('block') })));
  }

  /** The reporting batch size of the session (a smaller report is a pass's leftover one). */
  capacity() {
    const c = (this.hooks.state()?.hinting.constants ?? []).find((x) => x.name === 'capacity');
    return c ? c.value : 32;
  }

  /** For the tests: what is picked and shown. */
  debug() {
    return {
      index: this.index,
      fn: this.panel.dataset.fn ?? '',
      line: this.panel.dataset.line ?? '',
      picked: this.picked ? { ...this.picked } : null,
    };
  }
}

/**
 * "code   // comment" as its two parts.
 * @param {string} text
 */
function splitComment(text) {
  const at = text.indexOf('//');
  return at < 0 ? [text, ''] : [text.slice(0, at).trimEnd(), ` ${text.slice(at)}`];
}
