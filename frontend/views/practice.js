// @ts-check
/**
 * The practice page (practice.html): an exercise generated from a seed on a toy zone,
 * the reply checked by the model (GET /api/practice/...), a wrong one answered with a
 * hint, a right one (or "show the answer") with the model's own events and the zone
 * afterwards.  The address holds the kind and the seed, so a link reproduces the
 * exercise; "next exercise" (n) takes the next seed; 1, 2 pick a named answer.
 */
import { formatPfn } from '../lib/layout.js';
import {
  explanation,
  nextSeed,
  parsePracticeUrl,
  practiceApi,
  practiceForm,
  practiceSearch,
  PRACTICE_KINDS,
  readPracticeReply,
  stripBlocks,
  verdictText,
} from '../lib/practice.js';
import { isTyping } from '../lib/keys.js';
import { pfnWithDecimal } from '../lib/pfntext.js';
import { byId, h, replaceKids, withPfns } from './dom.js';

/**
 * @typedef {import('../lib/practice.js').Exercise} Exercise
 * @typedef {import('../lib/practice.js').Verdict} Verdict
 * @typedef {import('../lib/practice.js').Picture} Picture
 * @typedef {import('../lib/practice.js').PracticeAddress} PracticeAddress
 */

const KIND_LABELS = Object.freeze({ pfn: 'which pfn', end: 'head or tail', merge: 'merge order', report: 'report batch' });

/**
 * The toy zone: its blocks along the pfns, then every free list head -> tail.
 * @param {Picture} picture
 * @param {string} caption
 */
export function drawPicture(picture, caption) {
  const last = picture.start_pfn + picture.pages;
  const strip = h('div', { class: 'px-strip', role: 'img', 'aria-label': `zone ${picture.zone}, pfn ${formatPfn(picture.start_pfn)} to ${formatPfn(last - 1)}` },
    stripBlocks(picture).map((b) =>
      h('div', { class: `b ${b.state}`, title: b.label, style: `left:${(b.left * 100).toFixed(3)}%;width:${(b.width * 100).toFixed(3)}%`, 'data-pfn': b.pfn },
        [b.width >= 1 / 16 ? h('span', {}, [formatPfn(b.pfn)]) : null]),
    ),
  );
  const rows = picture.lists.map((fl) =>
    h('tr', { 'data-order': fl.order, 'data-migratetype': fl.migratetype }, [
      h('th', { scope: 'row' }, [`order ${fl.order} · ${fl.migratetype}`]),
      h('td', {}, [
        h('span', { class: 'end' }, ['head ']),
        ...fl.blocks.map((b) => h('span', { class: `px-chip${b.reported ? ' reported' : ''}`, title: `pfn ${pfnWithDecimal(b.pfn)}${b.reported ? ', reported' : ''}` }, [formatPfn(b.pfn)])),
        h('span', { class: 'end' }, [' tail']),
      ]),
    ]),
  );
  return [
    h('figcaption', {}, [caption]),
    strip,
    h('div', { class: 'px-axis' }, [h('span', {}, [formatPfn(picture.start_pfn)]), h('span', {}, [formatPfn(last)])]),
    h('div', { class: 'px-key' }, [
      h('span', {}, [h('i', { class: 'free' }), 'free']),
      h('span', {}, [h('i', { class: 'reported' }), 'free, reported (R)']),
      h('span', {}, [h('i', { class: 'allocated' }), 'allocated']),
    ]),
    h('table', { class: 'px-lists' }, [h('caption', { class: 'hint' }, ['free lists, head → tail']), h('tbody', {}, rows)]),
  ];
}

export class PracticePage {
  constructor() {
    const { address, problems } = parsePracticeUrl(location.search);
    /** @type {PracticeAddress} */
    this.address = address;
    /** @type {Exercise | null} */
    this.exercise = null;
    /** @type {Verdict | null} */
    this.verdict = null;
    this.error = '';
    this.busy = false;
    this.kinds = byId('px-kinds');
    this.seedInput = /** @type {HTMLInputElement} */ (byId('px-seed'));
    replaceKids(this.kinds, PRACTICE_KINDS.map((kind) =>
      h('button', { type: 'button', 'data-kind': kind, 'aria-pressed': 'false', onclick: () => this.open({ kind, seed: this.address.seed }) }, [
        KIND_LABELS[/** @type {keyof typeof KIND_LABELS} */ (kind)],
      ]),
    ));
    byId('px-seed-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const seed = Number(this.seedInput.value);
      if (Number.isSafeInteger(seed) && seed >= 0 && seed < 2 ** 32) this.open({ kind: this.address.kind, seed });
      else this.banner(`"${this.seedInput.value}" is not a seed: a whole number from 0 to 4294967295.`);
    });
    byId('px-next').addEventListener('click', () => this.next());
    byId('px-copy').addEventListener('click', () => this.copyLink());
    document.addEventListener('keydown', (e) => {
      if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      const choices = this.exercise ? practiceForm(this.exercise) : null;
      if (e.key === 'n') this.next();
      else if (choices?.mode === 'choice' && /^[1-9]$/.test(e.key) && Number(e.key) <= choices.choices.length) {
        this.answer(choices.choices[Number(e.key) - 1]);
      }
    });
    window.addEventListener('popstate', () => {
      this.address = parsePracticeUrl(location.search).address;
      this.load();
    });
    if (problems.length) this.banner(`This address names no exercise (${problems.join('; ')}); showing ${KIND_LABELS[/** @type {keyof typeof KIND_LABELS} */ (this.address.kind)]}, seed ${this.address.seed}.`);
    history.replaceState(null, '', `${location.pathname}${practiceSearch(this.address)}`);
    this.load();
  }

  /** @param {string} text */
  banner(text) {
    const el = byId('px-banner');
    el.textContent = text;
    el.hidden = !text;
  }

  /** @param {PracticeAddress} address */
  open(address) {
    this.address = address;
    this.banner('');
    history.pushState(null, '', `${location.pathname}${practiceSearch(address)}`);
    this.load();
  }

  next() {
    this.open({ kind: this.address.kind, seed: nextSeed(this.address.seed) });
  }

  link() {
    return `${location.origin}${location.pathname}${practiceSearch(this.address)}`;
  }

  async copyLink() {
    try {
      await navigator.clipboard.writeText(this.link());
      this.banner('');
      byId('px-copy').textContent = 'link copied';
    } catch {
      this.banner(`Copy this link: ${this.link()}`); // no clipboard (not a secure context)
    }
  }

  /**
   * @param {string} path
   * @returns {Promise<any>}
   */
  async get(path) {
    const r = await fetch(path, { headers: { Accept: 'application/json' } });
    const body = await r.json().catch(() => null);
    if (!r.ok) throw new Error(typeof body?.detail === 'string' ? body.detail : `the server answered ${r.status}`);
    return body;
  }

  async load() {
    const address = { ...this.address };
    this.exercise = null;
    this.verdict = null;
    this.error = '';
    byId('practice').setAttribute('aria-busy', 'true');
    byId('px-copy').textContent = 'copy link';
    try {
      const ex = /** @type {Exercise} */ (await this.get(practiceApi(address)));
      if (address.kind !== this.address.kind || address.seed !== this.address.seed) return; // moved on
      this.exercise = ex;
    } catch (e) {
      this.banner(`Cannot load the exercise: ${/** @type {Error} */ (e).message}`);
    }
    this.render();
    byId('practice').setAttribute('aria-busy', 'false');
    /** @type {HTMLElement | null} */ (byId('px-answer').querySelector('input, button'))?.focus();
  }

  /** @param {string} text what was typed or picked */
  async answer(text) {
    const ex = this.exercise;
    if (!ex || this.busy) return;
    const read = readPracticeReply(ex, text);
    if ('error' in read) {
      this.error = read.error;
      this.renderVerdict();
      return;
    }
    await this.ask(read.reply);
  }

  /** @param {string | null} reply null: show the answer */
  async ask(reply) {
    const ex = this.exercise;
    if (!ex) return;
    this.busy = true;
    this.error = '';
    try {
      const v = /** @type {Verdict} */ (await this.get(practiceApi(ex, reply)));
      if (ex === this.exercise) this.verdict = v;
    } catch (e) {
      this.error = `Cannot check the answer: ${/** @type {Error} */ (e).message}`;
    } finally {
      this.busy = false;
    }
    this.renderVerdict();
  }

  render() {
    for (const b of this.kinds.querySelectorAll('button')) {
      b.setAttribute('aria-pressed', /** @type {HTMLElement} */ (b).dataset.kind === this.address.kind ? 'true' : 'false');
    }
    this.seedInput.value = String(this.address.seed);
    const ex = this.exercise;
    document.title = ex ? `buddyscope · practice · ${ex.kind} ${ex.seed}` : 'buddyscope · practice';
    byId('px-title').textContent = ex ? `${ex.title} (seed ${ex.seed})` : 'no exercise';
    byId('px-setting').textContent = ex?.setting ?? '';
    replaceKids(byId('px-setup'), (ex?.setup ?? []).map((line) => h('li', {}, withPfns(line))));
    replaceKids(byId('px-before'), ex ? drawPicture(ex.before, `the zone now, at t = ${ex.before.clock} s`) : []);
    replaceKids(byId('px-ask'), withPfns(ex?.ask ?? ''));
    replaceKids(byId('px-answer'), ex ? this.buildAnswer(ex) : []);
    this.renderVerdict();
  }

  /** @param {Exercise} ex */
  buildAnswer(ex) {
    const form = practiceForm(ex);
    const giveUp = h('button', { type: 'button', class: 'px-show', onclick: () => this.ask(null) }, ['show the answer']);
    if (form.mode === 'choice') {
      return [h('div', { class: 'px-choices', role: 'group', 'aria-labelledby': 'px-ask' }, [
        ...form.choices.map((c, i) => h('button', { type: 'button', class: 'px-choice', 'data-choice': c, 'aria-keyshortcuts': String(i + 1), onclick: () => this.answer(c) }, [h('kbd', {}, [String(i + 1)]), c])),
        giveUp,
      ])];
    }
    const input = /** @type {HTMLInputElement} */ (h('input', {
      type: 'text', class: 'px-input', autocomplete: 'off', spellcheck: 'false', maxlength: 200,
      placeholder: form.placeholder, 'aria-labelledby': 'px-ask', 'aria-describedby': 'px-verdict',
    }));
    return [h('form', {
      onsubmit: (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        this.answer(input.value);
      },
    }, [input, h('button', { type: 'submit' }, ['check']), giveUp])];
  }

  renderVerdict() {
    const out = byId('px-verdict');
    const v = this.verdict;
    const said = this.error ? { tone: 'problem', text: this.error } : v ? verdictText(v) : { tone: '', text: '' };
    out.textContent = said.text;
    out.dataset.tone = said.tone;
    const solved = v !== null && v.answer !== null && !this.error;
    byId('px-why').hidden = !solved;
    replaceKids(byId('px-events'), solved ? explanation(v).map((e) =>
      h('li', { class: e.key ? 'key' : undefined }, [h('code', {}, [e.fn]), ...withPfns(e.message)]),
    ) : []);
    replaceKids(byId('px-after'), solved && v.after ? drawPicture(v.after, `the zone afterwards, at t = ${v.after.clock} s`) : []);
  }

  /** What tests read (window.__practice). */
  debug() {
    return { address: { ...this.address }, exercise: this.exercise, verdict: this.verdict, error: this.error, busy: this.busy };
  }
}

if (document.body.classList.contains('practice-page')) {
  const page = new PracticePage();
  /** @type {any} */ (window).__practice = page;
}
