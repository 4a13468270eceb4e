// @ts-check
/**
 * The "load" dialog: start a session from a workload or scenario file, from a real
 * machine's /proc/buddyinfo (optionally followed by its /proc/pagetypeinfo), or from a
 * kernel trace of the kmem page events, chosen as a file or pasted.  The text goes to
 * the server's REST route (lib/sources.js); when the server creates the session the
 * page switches to it, as its controller, and the address names it (a reload comes
 * back to it).  A refusal is shown under the text, in the server's words, each
 * "line N" with a button that selects that line; the page's session does not change.
 *
 * `sourceFactElement` is the top bar's fact of where a session came from.
 */
import { buddyinfoText, decodeLive } from '../lib/live.js';
import { joinProcTexts, lineSpan, problemsOf, SOURCE_KINDS, sourceFact, STRATEGY_OVERRIDES, uploadRequest } from '../lib/sources.js';
import { formatUrlState } from '../lib/urlstate.js';
import { Connection } from './connection.js';
import { h, replaceKids } from './dom.js';

/**
 * @typedef {import('../lib/sources.js').SourceKind} SourceKind
 * @typedef {import('../lib/sources.js').Problem} Problem
 * @typedef {{id: string, token: string, session: {source?: unknown}}} Created
 */

const KINDS = /** @type {SourceKind[]} */ (Object.keys(SOURCE_KINDS));

const HELP = /** @type {Record<SourceKind, string>} */ ({
  workload:
    'A workload or scenario file: JSON shaped as docs/workload.schema.json describes (allocate, free, touch, ' +
    'advance the clock, repeat, seeded random mixes, phases with a narration line). A file with any error is ' +
    'refused whole, with the line and field of each problem. The example is this session written as such a file.',
  proc:
    'The output of cat /proc/buddyinfo, optionally followed by /proc/pagetypeinfo (root only), from any machine, ' +
    'e.g. a production host: the session starts with exactly those free lists. Without pagetypeinfo every block ' +
    'is Movable. Choose both files at once or paste them one after the other.',
  trace:
    'The text trace-cmd report or perf script prints for the kmem:mm_page_alloc, mm_page_free and ' +
    'mm_page_free_batched events; it is replayed as a workload on the default node, pfns mapped into its zones. ' +
    'Other lines are counted and skipped, not fatal.',
});

const EXAMPLE = /** @type {Record<SourceKind, string | null>} */ ({
  workload: 'example: this session as a file',
  proc: "example: this machine's /proc/buddyinfo",
  trace: 'example: the sample trace shipped with buddyscope',
});

const STRATEGY_TEXT = /** @type {Record<string, string>} */ ({
  none: 'no hinting',
  'hinting-v2': 'v2 hinted pages (2019)',
  reporting: 'free page reporting (5.7+)',
});

/** The last fact drawn, reused while the source is the same (an open detail stays open). */
let lastFact = { sig: '', el: /** @type {HTMLElement | null} */ (null) };

/**
 * Where the session came from, for the top bar: the scenario, the workload file's
 * name, "buddyinfo of a real machine" or "trace: N events, M unknown lines skipped";
 * its details (a trace's import summary, a snapshot's layout notes, a scenario's
 * title) on hover and, as a disclosure, on click or Enter.
 * @param {{scenario: string, source?: any}} config
 * @returns {HTMLElement}
 */
export function sourceFactElement(config) {
  const fact = sourceFact(config.source, config.scenario);
  const sig = JSON.stringify(fact);
  if (lastFact.sig === sig && lastFact.el) return lastFact.el;
  const attrs = { class: `fact scenario source k-${fact.kind}`, 'data-kind': fact.kind };
  const el = fact.details.length
    ? h('details', { ...attrs, id: 'source-fact' }, [
        h('summary', { title: fact.details.join('\n') }, [fact.text]),
        h('ul', { class: 'source-detail', 'aria-label': 'where this session came from' }, fact.details.map((d) => h('li', {}, [d]))),
      ])
    : h('span', { ...attrs, id: 'source-fact', title: 'scenario' }, [fact.text]);
  lastFact = { sig, el };
  return el;
}

/**
 * Show another session in the page's views: the one the server just created.  The
 * comparison and the inspector belong to the old session and close; the address
 * names the new session (with its control token) so a reload reopens it.
 * @param {any} app the page's App
 * @param {Created} created the server's answer
 */
export function switchSession(app, created) {
  if (app.compare) app.closeCompare();
  if (app.inspector.open) app.inspector.close();
  if (app.live?.on) app.live.leave();
  const join = { session: created.id, token: created.token };
  app.want = { ...join, presenter: app.presenter || undefined };
  history.replaceState(null, '', `${location.pathname}${formatUrlState(app.want)}`);
  const session = app.session;
  const handlers = session.conn.handlers;
  session.conn.close();
  session.conn = new Connection(join, handlers);
  session.conn.connect();
}

export class LoadPanel {
  /**
   * @param {any} app the page's App
   * @param {HTMLButtonElement} button the control that opens the dialog
   */
  constructor(app, button) {
    this.app = app;
    this.button = button;
    /** @type {SourceKind} */
    this.kind = 'workload';
    /** Text per kind, kept while the user switches between them. */
    /** @type {Record<string, string>} */
    this.texts = {};
    this.busy = false;
    this.build();
    button.addEventListener('click', () => this.open());
  }

  build() {
    const radios = KINDS.map((k) =>
      h('label', { class: 'load-kind' }, [
        h('input', { type: 'radio', name: 'load-kind', value: k, checked: k === this.kind, onchange: () => this.setKind(k) }),
        ` ${SOURCE_KINDS[k].title}`,
      ]),
    );
    this.help = h('p', { id: 'load-help', class: 'load-help' });
    this.file = /** @type {HTMLInputElement} */ (h('input', { type: 'file', id: 'load-file', onchange: () => this.readFiles() }));
    this.fileNote = h('span', { class: 'load-file-note muted', 'aria-live': 'polite' });
    this.example = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', id: 'load-example', onclick: () => this.fillExample() }));
    this.text = /** @type {HTMLTextAreaElement} */ (
      h('textarea', {
        id: 'load-text',
        rows: 14,
        spellcheck: 'false',
        autocomplete: 'off',
        'aria-describedby': 'load-help load-problems',
      })
    );
    this.problems = h('div', { id: 'load-problems', class: 'load-problems', role: 'alert' });
    this.strategy = /** @type {HTMLSelectElement} */ (
      h('select', { id: 'load-strategy' }, [
        h('option', { value: '' }, ['as the source says (a snapshot or trace: none)']),
        ...STRATEGY_OVERRIDES.map((s) => h('option', { value: s }, [STRATEGY_TEXT[s] ?? s])),
      ])
    );
    this.howto = h('p', { class: 'load-howto' }, [
      h('b', {}, ['How to record a trace on a real host: ']),
      h('code', {}, ['trace-cmd record -e kmem:mm_page_alloc -e kmem:mm_page_free -e kmem:mm_page_free_batched sleep 10']),
      ', then ',
      h('code', {}, ['trace-cmd report > host.trace']),
      ' (README.md, “Scenarios, workloads and real data”, and docs/model.md, “Real machines”, say more; a sample ships as ',
      h('code', {}, ['allocator_model/sources/traces/sample.trace']),
      ').',
    ]);
    this.submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'primary' }, ['load']));
    this.form = /** @type {HTMLFormElement} */ (
      h('form', { class: 'load-form', onsubmit: (/** @type {SubmitEvent} */ e) => { e.preventDefault(); this.load(); } }, [
        h('fieldset', { class: 'load-kinds' }, [h('legend', {}, ['start a session from']), ...radios]),
        this.help,
        h('div', { class: 'load-file-row' }, [
          h('label', { for: 'load-file' }, ['file']),
          this.file,
          this.fileNote,
          this.example,
        ]),
        h('label', { for: 'load-text', class: 'load-text-label' }, ['text (choose a file above, or paste it here)']),
        this.text,
        this.problems,
        h('div', { class: 'load-bottom' }, [
          h('label', { for: 'load-strategy' }, ['run it under ']),
          this.strategy,
          h('span', { class: 'spacer' }),
          this.submit,
          h('button', { type: 'button', onclick: () => this.dialog.close() }, ['cancel']),
        ]),
        this.howto,
      ])
    );
    this.dialog = /** @type {HTMLDialogElement} */ (
      h('dialog', { id: 'load', class: 'load-dialog', 'aria-labelledby': 'load-title' }, [
        h('h2', { id: 'load-title' }, ['load a session']),
        this.form,
      ])
    );
    document.body.append(this.dialog);
    this.setKind(this.kind);
  }

  open() {
    this.showProblems([]);
    this.dialog.showModal();
    /** @type {HTMLInputElement | null} */ (this.form.querySelector('input[name="load-kind"]:checked'))?.focus();
  }

  /** @param {SourceKind} kind */
  setKind(kind) {
    this.texts[this.kind] = this.text.value;
    this.kind = kind;
    this.text.value = this.texts[kind] ?? '';
    this.help.textContent = HELP[kind];
    this.file.value = '';
    this.file.accept = SOURCE_KINDS[kind].accept;
    this.file.multiple = kind === 'proc';
    this.file.setAttribute('aria-label', kind === 'proc' ? 'choose buddyinfo and pagetypeinfo files' : `choose a ${SOURCE_KINDS[kind].title}`);
    this.fileNote.textContent = '';
    this.example.hidden = EXAMPLE[kind] === null;
    this.example.textContent = EXAMPLE[kind] ?? '';
    this.howto.hidden = kind !== 'trace';
    this.form.dataset.kind = kind;
    this.showProblems([]);
  }

  async readFiles() {
    const files = [...(this.file.files ?? [])];
    if (!files.length) return;
    try {
      const texts = await Promise.all(files.map((f) => f.text()));
      this.text.value = this.kind === 'proc' ? joinProcTexts(texts) : texts[0];
      const kib = Math.ceil(files.reduce((n, f) => n + f.size, 0) / 1024);
      this.fileNote.textContent = `${files.map((f) => f.name).join(' + ')} (${kib} KiB)`;
      this.showProblems([]);
    } catch (e) {
      this.showProblems([{ text: `cannot read the file: ${/** @type {Error} */ (e).message}`, line: null }]);
    }
  }

  async fillExample() {
    const kind = this.kind;
    try {
      if (kind === 'proc') {
        const res = await fetch('/api/live', { headers: { accept: 'application/json' } });
        if (!res.ok) {
          this.showProblems(problemsOf(res.status, await bodyOf(res)).map((p) => ({ ...p, text: `no example: ${p.text}` })));
          return;
        }
        const reading = decodeLive(await res.text());
        if (reading.type !== 'live' || !reading.buddyinfo.length) {
          const why = reading.type === 'live' ? reading.messages.join('; ') : reading.message;
          this.showProblems([{ text: `no example: this server cannot read its /proc/buddyinfo (${why})`, line: null }]);
          return;
        }
        this.text.value = buddyinfoText(reading.buddyinfo);
        this.fileNote.textContent = `this machine's /proc/buddyinfo, read at ${new Date(reading.time * 1000).toLocaleTimeString()}`;
      } else if (kind === 'workload') {
        const sid = this.app.session.state?.session;
        if (!sid) return;
        const res = await fetch(`/api/sessions/${encodeURIComponent(sid)}/scenario`, { headers: { accept: 'application/json' } });
        if (!res.ok) {
          this.showProblems(problemsOf(res.status, await bodyOf(res)).map((p) => ({ ...p, text: `no example: ${p.text}` })));
          return;
        }
        this.text.value = await res.text();
        this.fileNote.textContent = `session ${sid.slice(0, 6)}… as a scenario file`;
      } else if (kind === 'trace') {
        const res = await fetch('/api/examples/sample.trace');
        if (!res.ok) {
          this.showProblems(problemsOf(res.status, await bodyOf(res)).map((p) => ({ ...p, text: `no example: ${p.text}` })));
          return;
        }
        this.text.value = await res.text();
        this.fileNote.textContent = 'allocator_model/sources/traces/sample.trace (made by the project\'s own trace generator)';
      }
      this.file.value = '';
      this.showProblems([]);
    } catch (e) {
      this.showProblems([{ text: `no example: ${/** @type {Error} */ (e).message}`, line: null }]);
    }
  }

  async load() {
    if (this.busy) return;
    const text = this.text.value;
    if (!text.trim()) {
      this.showProblems([{ text: 'nothing to load: choose a file or paste the text first', line: null }]);
      this.text.focus();
      return;
    }
    const { url, init } = uploadRequest(this.kind, text, { hinting: this.strategy.value });
    this.setBusy(true);
    try {
      let res;
      try {
        res = await fetch(url, init);
      } catch (e) {
        this.showProblems([{ text: `could not reach the server: ${/** @type {Error} */ (e).message}`, line: null }]);
        return;
      }
      if (res.status !== 201) {
        this.showProblems(problemsOf(res.status, await bodyOf(res)));
        return;
      }
      const created = /** @type {Created} */ (await res.json());
      this.texts[this.kind] = '';
      this.text.value = '';
      this.fileNote.textContent = '';
      this.file.value = '';
      this.dialog.close();
      switchSession(this.app, created);
    } finally {
      this.setBusy(false);
    }
  }

  /** @param {boolean} on */
  setBusy(on) {
    this.busy = on;
    this.submit.disabled = on;
    this.submit.textContent = on ? 'loading…' : 'load';
    this.form.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  /** @param {Problem[]} problems */
  showProblems(problems) {
    this.text.setAttribute('aria-invalid', problems.length ? 'true' : 'false');
    this.problems.dataset.count = String(problems.length);
    replaceKids(this.problems, [
      problems.length
        ? h('p', { class: 'load-problems-title' }, [problems.length === 1 ? 'The server says:' : `The server says (${problems.length} problems):`])
        : null,
      problems.length
        ? h(
            'ul',
            {},
            problems.map((p) =>
              h('li', { 'data-line': p.line ?? '' }, [
                h('span', { class: 'problem-text' }, [p.text]),
                p.line !== null && lineSpan(this.text.value, p.line)
                  ? h('button', { type: 'button', class: 'goto-line', onclick: () => this.selectLine(/** @type {number} */ (p.line)) }, [`show line ${p.line}`])
                  : null,
              ]),
            ),
          )
        : null,
    ]);
  }

  /** @param {number} line */
  selectLine(line) {
    const span = lineSpan(this.text.value, line);
    if (!span) return;
    this.text.focus();
    this.text.setSelectionRange(span.start, span.end);
    const lineHeight = parseFloat(getComputedStyle(this.text).lineHeight) || 18;
    this.text.scrollTop = Math.max(0, (line - 3) * lineHeight);
  }
}

/**
 * An answer's body: its JSON, or its text when it is not JSON.
 * @param {Response} res
 */
async function bodyOf(res) {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

