// @ts-check
/**
 * Side by side: the page's session (left) and a second session (right) running the
 * same scenario, seed, kernel and size under another strategy, kept at the same moment:
 * the page's session moves and the other goes to its last step with the same guest
 * operations done and no later virtual time (`align`), so the panes compare the
 * strategies at one time, under one clock; changes are sent to both; play is driven
 * from here (one `step`, then the alignment, then the next) so neither runs ahead.
 *
 * Above them, a panel fed by GET /api/compare (allocator_model.lab.compare, the function
 * behind `buddyscope compare`) for the session's source, seed and kernel: the table the
 * command line prints and a chart of memory returned to the host over time.
 */
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { compareQuery, returnedChart } from '../lib/comparechart.js';
import { formatBytes, formatCount, PAGE_SIZE } from '../lib/layout.js';
import { STRATEGY_STYLES } from '../lib/palette.js';
import { isScenario, sourceCopyDoc } from '../lib/saved.js';
import { configureFor, joinFor } from '../lib/urlstate.js';
import { formatSeconds } from './statepanel.js';
import { byId, h } from './dom.js';
import { ask } from './saved.js';
import { Session } from './session.js';

const AXIS = { stroke: '#5d6677', grid: { stroke: '#e3e6ec', width: 1 }, ticks: { stroke: '#d5d9e1', width: 1 } };
/** Commands that add the user's own operations to the session's timeline. */
const OWN_OPERATIONS = ['alloc', 'free', 'touch', 'advance'];
/** Commands that move the page's session; the other then goes to the same moment. */
const NAVIGATION = ['step', 'back', 'first', 'last', 'seek', 'run_to'];

/** @param {string} strategy */
function styleOf(strategy) {
  return /** @type {Record<string, {colour: string, dash: number[], border: string, title: string}>} */ (STRATEGY_STYLES)[strategy] ??
    { colour: '#222222', dash: [], border: 'solid', title: strategy };
}

/**
 * The panel fed by GET /api/compare for the page's session: the table `buddyscope
 * compare` prints (the API's rows, shown as they come) and a uPlot chart of memory
 * returned to the host over time, one line per strategy.
 */
class Numbers {
  constructor() {
    this.status = h('p', { class: 'cmp-status', role: 'status', 'aria-live': 'polite' }, ['connecting…']);
    this.source = h('p', { class: 'cmp-src' });
    this.notes = h('ul', { class: 'cmp-notes', hidden: true });
    this.chartBox = h('div', { class: 'cmp-chart', role: 'img', 'aria-label': 'memory returned to the host over time, one line per strategy' });
    this.table = h('table', { class: 'cmp-table' });
    this.el = h('details', { class: 'cmp-numbers panel', open: true, 'data-state': 'waiting' }, [
      h('summary', {}, [
        h('b', {}, ['memory returned to the host over time']),
        ' · compare() runs the whole workload under each strategy, then lets the idle guest drain',
      ]),
      this.status,
      this.source,
      this.notes,
      h('div', { class: 'cmp-numbers-body' }, [this.chartBox, h('div', { class: 'cmp-table-box' }, [this.table])]),
    ]);
    /** @type {string | null} */
    this.key = null;
    /** @type {import('../lib/comparechart.js').Comparison | null} */
    this.result = null;
    /** @type {uPlot | null} */
    this.plot = null;
    this.resizeObserver = new ResizeObserver(() => {
      const w = this.chartWidth();
      if (this.plot && Math.abs(w - this.plot.width) > 4) this.plot.setSize({ width: w, height: 180 });
    });
    this.resizeObserver.observe(this.chartBox);
  }

  chartWidth() {
    return Math.max(240, this.chartBox.clientWidth - 4);
  }

  /**
   * Ask again when what compare() replays may have changed: another session, branch
   * (configure, reset, acting in the past) or configuration, or the user's own operations.
   * @param {any} state the page's session state
   * @param {number} own operations the user sent since the panel opened
   */
  update(state, own) {
    if (!state) return;
    const c = state.config;
    const key = JSON.stringify([state.session, state.branch, c.scenario, c.seed, c.kernel, c.pages, c.pcp, c.hinting_options, own]);
    if (key === this.key) return;
    this.key = key;
    this.load(state, key);
  }

  /**
   * @param {any} state
   * @param {string} key
   */
  async load(state, key) {
    const q = compareQuery(state);
    if ('refused' in q) {
      this.show(null, q.refused);
      return;
    }
    this.el.dataset.state = 'loading';
    this.status.textContent = 'running compare() for this session…';
    try {
      const res = await fetch(`/api/compare?${q.query}`, { headers: { accept: 'application/json' } });
      const body = await res.json().catch(() => ({}));
      if (key !== this.key) return; // a newer request is under way
      if (res.ok) this.show(body, null);
      else this.show(null, `compare() cannot replay this session: ${body.detail ?? res.statusText}`);
    } catch (e) {
      if (key === this.key) this.show(null, `compare() could not be reached: ${/** @type {Error} */ (e).message}`);
    }
  }

  /**
   * @param {import('../lib/comparechart.js').Comparison | null} cmp
   * @param {string | null} refusal why there are no figures
   */
  show(cmp, refusal) {
    this.result = cmp;
    this.plot?.destroy();
    this.plot = null;
    if (!cmp) {
      this.el.dataset.state = 'refused';
      this.status.textContent = refusal ?? '';
      this.source.replaceChildren();
      this.notes.hidden = true;
      this.chartBox.replaceChildren();
      this.table.replaceChildren();
      return;
    }
    this.el.dataset.state = 'ready';
    this.status.textContent = `This session's workload, seed ${cmp.seed}, Linux ${cmp.kernel}: figures of the whole run and drain, not of the step shown below.`;
    this.source.replaceChildren(
      'Same compare() as ',
      h('code', { class: 'cmp-command' }, [cmp.command]),
      ' (add --json for the time series).',
    );
    this.notes.replaceChildren(...cmp.notes.map((n) => h('li', {}, [n])));
    this.notes.hidden = cmp.notes.length === 0;
    this.table.replaceChildren(
      h('thead', {}, [
        h('tr', {}, [
          h('th', { scope: 'col' }, ['']),
          ...cmp.strategies.map((s) => h('th', { scope: 'col', title: styleOf(s).title, 'data-strategy': s }, [s])),
        ]),
      ]),
      h('tbody', {}, cmp.rows.map((row) =>
        h('tr', {}, [h('th', { scope: 'row' }, [row.label]), ...row.values.map((v) => h('td', {}, [v]))]),
      )),
    );
    this.draw(cmp);
  }

  /** @param {import('../lib/comparechart.js').Comparison} cmp */
  draw(cmp) {
    const chart = returnedChart(cmp);
    const series = chart.strategies.map((s) => {
      const st = styleOf(s);
      return { label: s, stroke: st.colour, width: 2, dash: st.dash, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } };
    });
    this.chartBox.replaceChildren();
    this.plot = new uPlot(
      {
        width: this.chartWidth(),
        height: 180,
        // asinh: linear up to 1 s, logarithmic after, so v2's 100 ms, reporting's 2 s
        // passes and the long run all show.
        scales: { x: { time: false, distr: 4, asinh: 1, range: (/** @type {uPlot} */ _u, /** @type {number} */ min, /** @type {number} */ max) => [min, max] } },
        legend: {
          show: true,
          live: false,
          markers: { width: 3, dash: (/** @type {uPlot} */ u, /** @type {number} */ i) => styleOf(u.series[i].label ?? '').border },
        },
        cursor: { drag: { x: false, y: false } },
        series: [{ label: 'time (s)' }, ...series],
        axes: [
          { ...AXIS, label: 'virtual time (s; logarithmic after 1 s)', labelSize: 18 },
          { ...AXIS, label: 'returned (MiB)', labelSize: 18, size: 48 },
        ],
      },
      /** @type {any} */ ([chart.xs, ...chart.columns]),
      this.chartBox,
    );
  }

  debug() {
    return {
      state: this.el.dataset.state,
      status: this.status.textContent,
      command: this.result?.command ?? null,
      rows: this.result?.rows ?? null,
      chartSeries: this.plot ? this.plot.series.slice(1).map((s) => s.label) : [],
      chartStarts: this.plot ? this.plot.data.slice(1).map((c) => c[0]) : [],
      chartEnds: this.plot ? this.plot.data.slice(1).map((c) => c[c.length - 1]) : [],
    };
  }

  close() {
    this.key = null;
    this.resizeObserver.disconnect();
    this.plot?.destroy();
  }
}

/**
 * @param {string} side
 */
function column(side) {
  const facts = h('div', { class: 'cmp-facts', 'data-side': side });
  const freelists = h('div', { class: 'freelists compact', 'data-side': side });
  const memmap = h('div', { class: 'memmap', 'data-side': side });
  const el = h('section', { class: 'cmp-col panel', 'data-side': side }, [facts, freelists, memmap]);
  return { el, facts, freelists, memmap };
}

export class Compare {
  /**
   * @param {HTMLElement} root
   * @param {any} app the page's App (for its session, notices and errors)
   * @param {string} strategy the strategy of the second session
   */
  constructor(root, app, strategy) {
    this.root = root;
    this.app = app;
    this.strategy = strategy;
    this.playing = false;
    this.ready = false;
    this.busy = false;
    const left = column('left');
    const right = column('right');
    this.left = left;
    this.right = right;
    this.numbers = new Numbers();
    this.ownOperations = 0;
    root.replaceChildren(
      h('div', { class: 'cmp-head' }, [
        h('b', {}, ['side by side']),
        ' the same scenario and seed, at the same moment: the same guest operations done, no later in virtual time (the clock above)',
        h('button', { type: 'button', class: 'cmp-close', onclick: () => app.closeCompare() }, ['close']),
      ]),
      this.numbers.el,
      h('div', { class: 'cmp-cols' }, [left.el, right.el]),
    );
    root.hidden = false;
    this.primaryViews = app.session.views;
    // The page's session keeps its narration (and log): the lesson goes on beside the other strategy.
    app.session.attach({ freelists: left.freelists, memmap: left.memmap, ghosts: byId('ghosts'), narration: byId('narration'), log: byId('log') });
    this.other = new Session(
      {},
      { freelists: right.freelists, memmap: right.memmap, ghosts: byId('ghosts') },
      {
        onState: () => this.drawFacts(),
        onError: (code, message) => app.onServerError(code, `right: ${message}`),
        // After a server restart the right session is new: configure it again.
        onSessionLost: () => {
          this.started = false;
          this.ready = false;
        },
        onPick: (zone, pfn) => this.other.state && app.inspector.show(this.other.state, zone, pfn, this.other.allocations),
      },
    );
    this.primaryState = () => app.session.state;
    this.unsubscribe = null;
    this.timer = /** @type {ReturnType<typeof setTimeout> | null} */ (null);
    this.other.handlers.onState = (_s, reason) => {
      this.drawFacts();
      if (!this.started && reason !== 'delta') {
        this.started = true;
        app.ready.then(() => this.align());
      }
    };
    this.started = false;
    this.closed = false;
    // The second session opens configured (no default session built first), once the
    // page's own session is there; again so after a server restart.
    this.other.conn.handlers.rejoin = () => this.opening();
    app.ready
      .then(() => this.opening())
      .then((join) => {
        if (this.closed) return;
        this.other.conn.join = join;
        this.other.start();
      });
    this.drawFacts();
    this.factsTimer = setInterval(() => this.drawFacts(), 500);
  }

  /**
   * A change of configuration goes to both sessions; the right one keeps its strategy.
   * @param {string} type
   * @param {Record<string, unknown>} fields
   */
  async configureBoth(type, fields) {
    const ok = await this.app.session.send(type, fields).then(() => true, () => false);
    if (type === 'configure') {
      const { hinting, constants, ...rest } = fields;
      if (hinting) {
        // A new strategy on the left: the right shows the other one of the two.
        const other = hinting === 'reporting' ? 'hinting-v2' : 'reporting';
        this.strategy = other;
        rest.hinting = other;
      }
      if (Object.keys(rest).length) await this.other.send('configure', rest).catch(() => {});
    } else {
      await this.other.send(type, fields).catch(() => {});
    }
    this.drawFacts();
    return ok;
  }

  /**
   * What the second session joins: for a scenario, the /ws query of the page's scenario,
   * seed, kernel and size under the other strategy; for a session loaded from a text (no
   * query can carry it), a new session from the same source (export, then import).
   * @returns {Promise<import('../lib/urlstate.js').UrlState>}
   */
  async opening() {
    const a = this.app.session.state;
    if (!a) return {};
    if (isScenario(a.config)) {
      return joinFor({ scenario: a.config.scenario, seed: a.config.seed, kernel: a.config.kernel, strategy: this.strategy, pages: a.config.pages ?? undefined });
    }
    try {
      const doc = await ask(`/api/sessions/${encodeURIComponent(a.session)}/export`);
      const created = await ask('/api/sessions/import', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sourceCopyDoc(doc, this.strategy)),
      });
      return { session: created.id, token: created.token };
    } catch (e) {
      this.app.banner(`The comparison could not copy this session: ${/** @type {Error} */ (e).message}`);
      return {};
    }
  }

  /**
   * Make the second session match the first (what the query could not say: per-cpu
   * lists; or everything, when the server opened its default instead), then go to the
   * same step.
   */
  async align() {
    const a = this.app.session.state;
    const b = this.other.state;
    if (!a || !b) return;
    if (a.playing) await this.app.session.send('pause').catch(() => {});
    const want = { scenario: a.config.scenario, seed: a.config.seed, kernel: a.config.kernel, strategy: this.strategy, pages: a.config.pages ?? undefined };
    const fields = configureFor(want, { ...b.config, pages: b.config.pages ?? null });
    if (a.config.pcp !== b.config.pcp) fields.pcp = /** @type {any} */ (a.config.pcp);
    try {
      if (Object.keys(fields).length) await this.other.send('configure', fields);
      await this.alignOther();
      this.ready = true;
    } catch (e) {
      this.app.banner(`The comparison could not start: ${/** @type {Error} */ (e).message}`);
    }
    this.drawFacts();
  }

  /**
   * The other session to the moment the page's session is at: the last of its steps
   * with no more guest operations done and no later virtual time (server `align`).
   */
  async alignOther() {
    const a = this.app.session.state;
    if (a) await this.other.send('align', { op: a.op, clock: a.clock });
  }

  /**
   * Send a command to both sessions; resolves when both answered.  Navigation moves the
   * page's session, then the other to the same moment (not the same step number: the
   * strategies take different numbers of steps).
   * @param {string} type
   * @param {Record<string, unknown>} [fields]
   */
  async broadcast(type, fields = {}) {
    if (OWN_OPERATIONS.includes(type)) this.ownOperations += 1;
    /** @type {PromiseSettledResult<unknown>[]} */
    let results;
    if (NAVIGATION.includes(type)) {
      const [left] = await Promise.allSettled([this.app.session.send(type, fields)]);
      results = [left, ...(await Promise.allSettled([this.alignOther()]))];
    } else {
      results = await Promise.allSettled([this.app.session.send(type, fields), this.other.send(type, fields)]);
    }
    this.drawFacts();
    return results;
  }

  /** @param {boolean} on */
  setPlaying(on) {
    this.playing = on;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (on) this.tick();
    const s = this.app.session.state;
    if (s) this.app.transport.update(s);
  }

  async tick() {
    if (!this.playing) return;
    const speed = this.app.session.state?.speed ?? 4;
    const t0 = performance.now();
    const results = await this.broadcast('step');
    if (results[0].status === 'rejected') {
      this.setPlaying(false);
      return;
    }
    const wait = Math.max(0, 1000 / speed - (performance.now() - t0));
    this.timer = setTimeout(() => this.tick(), wait);
  }

  drawFacts() {
    this.numbers.update(this.app.session.state, this.ownOperations);
    // One clock for both sides (each pane is at its last step not later than it): the
    // page's own, which the state panel keeps when the comparison is closed.
    const now = this.app.session.state;
    const clock = now ? `t = ${formatSeconds(now.clock)}` : '';
    if (now && byId('clock').textContent !== clock) byId('clock').textContent = clock;
    const sides = [
      [this.left.facts, this.app.session.state],
      [this.right.facts, this.other?.state],
    ];
    for (const [el, st] of /** @type {Array<[HTMLElement, any]>} */ (sides)) {
      if (!st) {
        el.textContent = 'connecting…';
        continue;
      }
      const host = st.host;
      const text = JSON.stringify([st.config, st.step, st.clock, host]);
      if (el.dataset.sig === text) continue;
      el.dataset.sig = text;
      el.dataset.strategy = st.config.hinting;
      el.dataset.step = String(st.step);
      el.replaceChildren(
        h('h2', {}, [styleOf(st.config.hinting).title]),
        h('p', {}, [
          `step ${formatCount(st.step)} · Linux ${st.config.kernel} · `,
          h('b', { 'data-host': 'discarded' }, [`${formatBytes(host.discarded_pages * PAGE_SIZE)} returned`]),
          ` · ${formatCount(host.refaults)} refaults · ${formatCount(host.report_calls)} reports`,
        ]),
      );
    }
  }

  debug() {
    return {
      ready: this.ready,
      playing: this.playing,
      left: this.app.session.state ? { step: this.app.session.state.step, strategy: this.app.session.state.config.hinting, op: this.app.session.state.op, clock: this.app.session.state.clock } : null,
      right: this.other.state ? { step: this.other.state.step, strategy: this.other.state.config.hinting, op: this.other.state.op, clock: this.other.state.clock, session: this.other.state.session, configured: this.other.state.config.hinting === this.strategy } : null,
      rightRenderedSeq: this.other.stats.renderedSeq,
      send: (/** @type {string} */ type, /** @type {Record<string, unknown>} */ fields = {}) =>
        this.other.send(type, fields).then((ack) => ({ ack }), (e) => ({ error: e.code, message: e.message })),
      colourAt: (/** @type {string} */ zone, /** @type {number} */ pfn) => this.other.map.colourAt(zone, pfn),
      numbers: this.numbers.debug(),
    };
  }

  close() {
    this.closed = true;
    this.setPlaying(false);
    clearInterval(this.factsTimer);
    this.numbers.close();
    this.other.conn.close();
    this.app.session.attach(this.primaryViews);
    this.root.hidden = true;
    this.root.replaceChildren();
  }
}
