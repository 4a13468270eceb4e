// @ts-check
/**
 * Side by side: the page's session (left) and a second session (right) running the
 * same scenario, seed, kernel and size under another strategy, kept in step: every
 * navigation or change is sent to both, and play is driven from here (one `step` to
 * each, wait for both, then the next) so neither runs ahead.
 */
import { formatBytes, formatCount, PAGE_SIZE } from '../lib/layout.js';
import { configureFor } from '../lib/urlstate.js';
import { formatSeconds } from './statepanel.js';
import { byId, h } from './dom.js';
import { Session } from './session.js';

const STRATEGY_TITLE = /** @type {Record<string, string>} */ ({
  none: 'no hinting',
  'hinting-v2': 'v2 hinted pages (2019)',
  reporting: 'free page reporting (5.7+)',
});

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
    root.replaceChildren(
      h('div', { class: 'cmp-head' }, [
        h('b', {}, ['side by side']),
        ' the same scenario and seed; every step goes to both',
        h('button', { type: 'button', class: 'cmp-close', onclick: () => app.closeCompare() }, ['close']),
      ]),
      h('div', { class: 'cmp-cols' }, [left.el, right.el]),
    );
    root.hidden = false;
    this.primaryViews = app.session.views;
    app.session.attach({ freelists: left.freelists, memmap: left.memmap, ghosts: byId('ghosts') });
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
    this.other.start();
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

  /** Configure the second session like the first, with the other strategy, at the same step. */
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
      await this.goTo(this.other, a.step);
      this.ready = true;
    } catch (e) {
      this.app.banner(`The comparison could not start: ${/** @type {Error} */ (e).message}`);
    }
    this.drawFacts();
  }

  /**
   * @param {Session} s
   * @param {number} step
   */
  async goTo(s, step) {
    if (!s.state) return;
    if (step <= s.state.timelineLength) {
      await s.send('seek', { step });
      return;
    }
    if (s.state.step < s.state.timelineLength) await s.send('last');
    while (s.state && s.state.step < step) await s.send('step');
  }

  /**
   * Send a command to both sessions; resolves when both answered.
   * @param {string} type
   * @param {Record<string, unknown>} [fields]
   */
  async broadcast(type, fields = {}) {
    const results = await Promise.allSettled([this.app.session.send(type, fields), this.other.send(type, fields)]);
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
    if (s) this.app.updateTransport(s);
  }

  async tick() {
    if (!this.playing) return;
    const speed = this.app.session.state?.speed ?? 4;
    const t0 = performance.now();
    const results = await this.broadcast('step');
    if (results.every((r) => r.status === 'rejected')) {
      this.setPlaying(false);
      return;
    }
    const wait = Math.max(0, 1000 / speed - (performance.now() - t0));
    this.timer = setTimeout(() => this.tick(), wait);
  }

  drawFacts() {
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
        h('h2', {}, [STRATEGY_TITLE[st.config.hinting] ?? st.config.hinting]),
        h('p', {}, [
          `step ${formatCount(st.step)} · t = ${formatSeconds(st.clock)} · Linux ${st.config.kernel} · `,
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
      left: this.app.session.state ? { step: this.app.session.state.step, strategy: this.app.session.state.config.hinting } : null,
      right: this.other.state ? { step: this.other.state.step, strategy: this.other.state.config.hinting, session: this.other.state.session, configured: this.other.state.config.hinting === this.strategy } : null,
      rightRenderedSeq: this.other.stats.renderedSeq,
      send: (/** @type {string} */ type, /** @type {Record<string, unknown>} */ fields = {}) =>
        this.other.send(type, fields).then((ack) => ({ ack }), (e) => ({ error: e.code, message: e.message })),
      colourAt: (/** @type {string} */ zone, /** @type {number} */ pfn) => this.other.map.colourAt(zone, pfn),
    };
  }

  close() {
    this.setPlaying(false);
    clearInterval(this.factsTimer);
    this.other.conn.close();
    this.app.session.attach(this.primaryViews);
    this.root.hidden = true;
    this.root.replaceChildren();
  }
}
