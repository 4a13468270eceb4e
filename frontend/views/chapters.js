// @ts-check
/**
 * The lesson outline: the scenario's chapters (its narrated phases) with their step
 * ranges, the chapter on screen, "next chapter", and the setup folded into step 0 with
 * a way to show its steps.  One line under the transport; the outline opens over the
 * page (it never pushes the views down).  A chapter's presenter notes (what to point at,
 * what to ask the class) show beside it in presenter mode, and in the outline on hover or
 * with "show notes".
 */
import { chapterAt, chapterRanges, chapterWordings, rangeText } from '../lib/chapters.js';
import { handoutHref } from '../lib/handout.js';
import { formatCount } from '../lib/layout.js';
import { h, replaceKids } from './dom.js';

/**
 * @typedef {import('../lib/chapters.js').ChapterRange} ChapterRange
 * @typedef {{onGo: (step: number) => void, onNext: () => void, onUnfold: () => void}} ChapterHandlers
 */

export class ChaptersView {
  /**
   * @param {HTMLElement} box
   * @param {ChapterHandlers} handlers
   */
  constructor(box, handlers) {
    this.box = box;
    this.handlers = handlers;
    /** @type {ChapterRange[]} */
    this.ranges = [];
    /** @type {unknown[]} what the outline was drawn from (redrawn when one changes) */
    this.drawnFrom = [];
    this.current = -2;
    this.summary = h('summary', { class: 'chapter-now' });
    this.setupItem = h('p', { class: 'chapter-setup', style: 'margin: 0 0 6px' });
    this.list = h('ol', { class: 'chapter-list', style: 'margin: 0; padding-left: 22px' });
    this.handout = /** @type {HTMLAnchorElement} */ (h('a', { class: 'handout-link', target: '_blank', title: 'every chapter with its narration and a picture, to print or save as PDF' }, ['handout of this lesson (print)']));
    this.notesToggle = h('button', {
      type: 'button',
      id: 'btn-chapter-notes',
      class: 'notes-toggle',
      'aria-pressed': 'false',
      hidden: true,
      onclick: () => {
        const on = this.list.classList.toggle('show-notes');
        this.notesToggle.setAttribute('aria-pressed', on ? 'true' : 'false');
        this.notesToggle.textContent = on ? 'hide notes' : 'show notes';
      },
    }, ['show notes']);
    const panel = h('div', { class: 'outline-panel', style: 'position:absolute; z-index:20; margin-top:4px; padding:8px 12px; background:var(--panel); border:1px solid var(--line); border-radius:6px; box-shadow:0 4px 16px rgb(0 0 0 / 0.15); max-width:min(720px, 90vw)' }, [this.notesToggle, this.setupItem, this.list, h('p', { style: 'margin: 6px 0 0' }, [this.handout])]);
    this.outline = h('details', { class: 'outline', id: 'outline' }, [this.summary, panel]);
    this.next = h('button', { type: 'button', id: 'btn-next-chapter', title: 'next chapter (])', 'aria-label': 'next chapter (])', onclick: () => handlers.onNext() }, ['next ›']);
    this.setupNote = h('span', { class: 'setup-note', id: 'setup-note', hidden: true });
    /** The chapter on screen's presenter notes (shown in presenter mode only, by CSS). */
    this.notes = h('p', { class: 'chapter-notes', id: 'chapter-notes', hidden: true });
    box.replaceChildren(this.outline, this.next, this.setupNote, this.notes);
    box.hidden = true;
    /** @type {ReturnType<typeof chapterWordings>} the chapter on screen's wordings, whole first */
    this.wordings = [];
    this.title = '';
    this.width = 0;
    new ResizeObserver((entries) => {
      const w = Math.round(entries[0].contentRect.width);
      if (w !== this.width) {
        this.width = w;
        this.fit();
      }
    }).observe(box);
  }

  /** @param {import('../lib/state.js').ClientState} state */
  update(state) {
    const from = [state.chapters, state.marks, state.timelineLength, state.setup];
    if (from.some((v, i) => v !== this.drawnFrom[i])) {
      this.drawnFrom = from;
      this.ranges = chapterRanges(state.chapters, state.marks, state.timelineLength);
      this.draw(state);
      this.current = -2;
    }
    const now = chapterAt(this.ranges, state.step);
    const index = now ? now.index : -1;
    if (index === this.current) return;
    this.current = index;
    for (const li of this.list.querySelectorAll('li[data-index]')) {
      const on = Number(/** @type {HTMLElement} */ (li).dataset.index) === index;
      li.toggleAttribute('aria-current', on);
      /** @type {HTMLElement} */ (li).style.fontWeight = on ? '600' : '';
    }
    const n = this.ranges.length;
    this.wordings = now ? chapterWordings(now, n) : [];
    this.title = now?.title ?? '';
    if (now) this.fit();
    else {
      this.summary.replaceChildren(`${state.setup ? 'starting state' : 'start'} · ${n} chapter${n === 1 ? '' : 's'}`);
      this.setupNote.hidden = !state.setup;
    }
    this.summary.title = now ? `chapter ${index + 1} / ${n}: ${now.title} · ${rangeText(now)}` : this.summary.textContent ?? '';
    /** @type {HTMLButtonElement} */ (this.next).disabled = index + 1 >= n;
    const notes = now?.notes ?? null;
    this.notes.hidden = notes === null;
    this.notes.textContent = notes ? `notes: ${notes}` : '';
    this.notes.title = notes ?? '';
  }

  /**
   * The chapter on screen in the first wording that keeps the row on one line (the
   * title whole, the step range never split); the most compact one wraps rather than
   * cut a word.  Measured when the chapter changes and when the row's width does.
   */
  fit() {
    if (!this.wordings.length) return;
    const setup = Boolean(this.drawnFrom[3]);
    const line = parseFloat(getComputedStyle(this.summary).lineHeight) || 16;
    for (const w of this.wordings) {
      this.summary.replaceChildren(
        w.prefix,
        h('span', { class: 'chapter-title' }, [this.title]),
        ...(w.range ? [' · ', h('span', { class: 'chapter-range' }, [w.range])] : []),
      );
      this.setupNote.hidden = !(setup && w.setup);
      if (this.summary.getBoundingClientRect().height < line * 1.5) break;
    }
  }

  /** @param {number} step a chapter picked in the outline, which then closes */
  go(step) {
    /** @type {HTMLDetailsElement} */ (this.outline).open = false;
    this.handlers.onGo(step);
  }

  /** @param {import('../lib/state.js').ClientState} state */
  draw(state) {
    const setup = state.setup;
    this.box.hidden = this.ranges.length === 0 && !setup;
    this.handout.href = handoutHref(state.config.scenario);
    const items = [];
    this.setupItem.hidden = !setup;
    this.setupNote.hidden = !setup;
    if (setup) {
      const what = `Step 0 is the starting state: ${formatCount(setup.steps)} automatic step${setup.steps === 1 ? '' : 's'} folded in`;
      replaceKids(this.setupItem, [
        `${what}${setup.text ? ` (${setup.text})` : ''}. `,
        h('button', { type: 'button', id: 'btn-unfold', onclick: () => this.handlers.onUnfold() }, ['show them as steps']),
      ]);
      this.setupNote.textContent = `setup: ${formatCount(setup.steps)} steps`;
      this.setupNote.title = `${formatCount(setup.steps)} automatic steps folded into step 0`;
    }
    for (const r of this.ranges) {
      items.push(
        h('li', { 'data-index': r.index, 'data-step': r.step, 'data-end': r.end, title: r.notes ?? undefined }, [
          h('button', { type: 'button', class: 'chapter-go', onclick: () => this.go(r.step) }, [r.title]),
          h('span', { class: 'hint' }, [` ${rangeText(r)}`]),
          r.notes ? h('p', { class: 'chapter-note' }, [r.notes]) : null,
        ]),
      );
    }
    replaceKids(this.list, items);
    this.notesToggle.hidden = !this.ranges.some((r) => r.notes);
  }
}
