// @ts-check
/**
 * The printable handout (handout.html?scenario=NAME): a session of the scenario is
 * opened with the lesson's own views off screen and stepped through its chapters; each
 * chapter becomes a section with its narration (the phase's text and the event that
 * carries its point), the chapter's presenter notes and pictures of the free lists and
 * the memory map as the chapter opens (the state its text describes) and after its steps
 * (what the text said comes next); the lists are copied, the map's canvas becomes an
 * image.  The browser's
 * print (handout.css, @media print) makes it a clean document.
 */
import { chapterRanges, rangeText } from '../lib/chapters.js';
import { parseHandoutUrl, stepSays } from '../lib/handout.js';
import { formatUrlState } from '../lib/urlstate.js';
import { byId, h, replaceKids } from './dom.js';
import { Session } from './session.js';

/**
 * @typedef {import('../lib/state.js').ClientState} ClientState
 * @typedef {import('../lib/chapters.js').ChapterRange} ChapterRange
 */

/**
 * The free lists as drawn, copied without ids, focus stops or buttons.
 * @param {HTMLElement} lists
 */
function copyLists(lists) {
  const copy = /** @type {HTMLElement} */ (lists.cloneNode(true));
  copy.removeAttribute('id');
  for (const el of copy.querySelectorAll('[id]')) el.removeAttribute('id');
  for (const el of copy.querySelectorAll('[tabindex]')) el.removeAttribute('tabindex');
  for (const el of copy.querySelectorAll('[data-motion]')) el.removeAttribute('data-motion');
  for (const button of copy.querySelectorAll('button')) {
    // a chip is a button on the lesson's page (it opens the inspector); on paper a label
    const label = document.createElement('span');
    for (const { name, value } of button.attributes) if (name !== 'type') label.setAttribute(name, value);
    label.append(...button.childNodes);
    button.replaceWith(label);
  }
  return copy;
}

/**
 * The memory map's zone canvases as images (the map shows the zone of the step).
 * @param {HTMLElement} map
 */
function copyMap(map) {
  return [...map.querySelectorAll('canvas.map-base')]
    .filter((c) => c.getClientRects().length > 0)
    .map((c) => {
      const zone = c.closest('[data-zone]')?.getAttribute('data-zone') ?? '';
      const img = h('img', { src: /** @type {HTMLCanvasElement} */ (c).toDataURL('image/png'), alt: `memory map${zone ? ` of zone ${zone}` : ''}` });
      return h('div', { class: 'ho-map' }, [zone ? h('span', { class: 'hint' }, [`memory map · ${zone}`]) : null, img]);
    });
}

export class HandoutPage {
  constructor() {
    const { scenario, problem } = parseHandoutUrl(location.search);
    this.scenario = scenario;
    /** @type {ChapterRange[]} */
    this.ranges = [];
    this.done = false;
    this.error = '';
    byId('ho-print').addEventListener('click', () => window.print());
    if (!scenario) {
      this.fail(problem ?? 'no scenario');
      return;
    }
    const lesson = /** @type {HTMLAnchorElement} */ (byId('ho-lesson'));
    lesson.href = `./${formatUrlState({ scenario })}`;
    /** @type {((state: ClientState) => void) | null} */
    let first = /** @type {any} */ (null);
    const ready = new Promise((resolve) => { first = resolve; });
    this.session = new Session({ scenario }, {
      freelists: byId('ho-freelists'),
      memmap: byId('ho-memmap'),
      ghosts: byId('ho-ghosts'),
    }, {
      onState: (state) => {
        if (first) {
          first(state);
          first = null;
        }
      },
      onError: (_code, message) => this.fail(message),
      onFatal: (text) => this.fail(text),
    });
    this.session.start();
    ready.then((state) => this.build(/** @type {ClientState} */ (state))).catch((e) => this.fail(String(e?.message ?? e)));
  }

  /** @param {string} text */
  status(text) {
    byId('ho-status').textContent = text;
  }

  /** @param {string} text */
  fail(text) {
    this.error = text;
    const b = byId('ho-banner');
    b.textContent = `No handout: ${text}`;
    b.hidden = false;
    this.status('');
    byId('handout').setAttribute('aria-busy', 'false');
  }

  /**
   * Go to a step and wait until it is drawn and still.
   * @param {number} step
   */
  async visit(step) {
    const session = /** @type {Session} */ (this.session);
    if (session.state?.step !== step) await session.send('seek', { step });
    // The state is the step's once the seek is answered; wait until it is drawn.
    for (let frames = 0; session.drawPending || session.stats.renderedStep !== step; frames++) {
      if (frames > 3000) throw new Error(`step ${step} was never drawn`);
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
    session.animator.finish();
    return /** @type {ClientState} */ (session.state);
  }

  /**
   * The lesson's lists and map as drawn now (empty orders left out, as the caption says).
   * @param {ClientState} at
   * @param {string} when
   */
  picture(at, when) {
    const t = at.clock.toFixed(3).replace(/\.?0+$/, '');
    return h('figure', { class: 'ho-figure', 'data-step': at.step }, [
      h('figcaption', {}, [`step ${at.step} (t = ${t} s)${when ? `, ${when}` : ''} · empty orders left out`]),
      copyLists(byId('ho-freelists')),
      h('div', {}, copyMap(byId('ho-memmap'))),
    ]);
  }

  /** @param {ClientState} state */
  async build(state) {
    const source = /** @type {any} */ (state.config).source ?? {};
    const title = source.title || this.scenario;
    document.title = `buddyscope · handout · ${title}`;
    byId('ho-title').textContent = title;
    byId('ho-summary').textContent = source.summary ?? '';
    byId('ho-look').textContent = source.look_for ? `Look for: ${source.look_for}` : '';
    const c = state.config;
    byId('ho-facts').textContent = `scenario ${this.scenario} · ${c.hinting} · Linux ${c.kernel} · seed ${c.seed} · ${state.timelineLength} steps`
      + (state.setup ? ` · step 0 is the starting state (${state.setup.steps} automatic steps folded in)` : '');
    this.ranges = chapterRanges(state.chapters, state.marks, state.timelineLength);
    const sections = this.ranges.map((r) =>
      h('section', { class: 'ho-chapter', 'data-chapter': r.index, 'aria-labelledby': `ho-ch-${r.index}` }, [
        h('h2', { id: `ho-ch-${r.index}` }, [`${r.index + 1}. ${r.title}`, h('span', { class: 'hint' }, [rangeText(r)])]),
        h('div', { class: 'ho-says' }),
        r.notes ? h('p', { class: 'ho-notes' }, [h('b', {}, ['To look at and discuss: ']), r.notes]) : null,
        h('div', { class: 'ho-pictures' }),
      ]),
    );
    replaceKids(byId('ho-chapters'), sections);
    for (const r of this.ranges) {
      this.status(`chapter ${r.index + 1} of ${this.ranges.length}…`);
      const section = sections[r.index];
      const opens = await this.visit(r.step);
      const [phase, ...more] = stepSays(opens.events);
      replaceKids(/** @type {HTMLElement} */ (section.querySelector('.ho-says')), [
        phase ? h('p', { class: 'ho-phase' }, [phase]) : null,
        ...more.map((line) => h('p', { class: 'ho-point' }, [line])),
      ]);
      const pictures = [this.picture(opens, r.end > r.step ? 'as the chapter opens' : '')];
      if (r.end > r.step) {
        const done = await this.visit(r.end);
        const said = stepSays(done.events).filter((line) => line !== phase).pop();
        pictures.push(this.picture(done, `after its steps${said ? `: ${said}` : ''}`));
      }
      replaceKids(/** @type {HTMLElement} */ (section.querySelector('.ho-pictures')), pictures);
    }
    this.session?.conn.close();
    this.done = true;
    this.status(`${this.ranges.length} chapters, ready to print`);
    /** @type {HTMLButtonElement} */ (byId('ho-print')).disabled = false;
    byId('handout').setAttribute('aria-busy', 'false');
  }

  /** What tests read (window.__handout). */
  debug() {
    return { done: this.done, error: this.error, chapters: this.ranges.length };
  }
}

if (document.body.classList.contains('handout-page')) {
  /** @type {any} */ (window).__handout = new HandoutPage();
}
