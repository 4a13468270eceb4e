// @ts-check
/**
 * The dashboard page: wires the controls, the keyboard, the URL and the dialogs to a
 * Session (views/session.js), and a second Session for the side-by-side comparison.
 *
 * Tests and the benchmark read `window.__buddyscope` (see `debugApi`) and wait on its
 * counters instead of sleeping.
 */
import { KEYMAP, keyAction, nextSpeed, SPEEDS } from './lib/keys.js';
import { formatCount, formatPfn, migratetypeSlug } from './lib/layout.js';
import { FRAME_COLOURS, frameSwatch, migratetypeColours, TINTED_FRAMES } from './lib/palette.js';
import { QUIZ_KEYS } from './lib/quiz.js';
import { decodeLast, lastState, ownOperationsWarning, reopenAfterLoss, stateLinkKind, waitingText } from './lib/saved.js';
import {
  configureFor, formatUrlState, heldToken, joinFor, keep, lastKey, noteOpened, pagesFact, parseUrlState, reopenedSession, reopenJoin,
  shareState, tokenKey,
} from './lib/urlstate.js';
import { nextChapterStep, previousChapterStep } from './lib/chapters.js';
import { ChaptersView } from './views/chapters.js';
import { Compare } from './views/compare.js';
import { byId, h, replaceKids } from './views/dom.js';
import { Inspector } from './views/inspector.js';
import { LiveView } from './views/liveview.js';
import { tabStore } from './views/connection.js';
import { LoadPanel, sourceFactElement, switchSession } from './views/loadpanel.js';
import { QuizView } from './views/quiz.js';
import { ScenarioPicker } from './views/picker.js';
import { ask, openSaved, SavedPanel } from './views/saved.js';
import { SaveScenario } from './views/savescenario.js';
import { Session } from './views/session.js';
import { SubstepsView } from './views/substeps.js';

/** Event kinds for "run to next" and breakpoints (docs/protocol.md), most useful first. */
export const EVENT_KINDS = [
  'report', 'boundary', 'isolate', 'putback', 'flag_set', 'flag_clear', 'rotate', 'merge', 'split',
  'alloc', 'free', 'refault', 'state', 'request', 'phase', 'fallback', 'pageblock_retype', 'list_move',
  'merge_stop', 'list_add', 'list_del', 'zone_skip', 'isolate_fail', 'flag_skip', 'watermark_boost', 'pcp_add', 'pcp_del',
  'pcp_refill', 'pcp_drain', 'work', 'clock', 'user', 'step_error',
];

/** Migratetypes an allocation may ask for. */
const ALLOC_TYPES = ['Movable', 'Unmovable', 'Reclaimable'];

const STRATEGY_SHORT = /** @type {Record<string, string>} */ ({ none: 'no hinting', 'hinting-v2': 'v2 hinted pages', reporting: 'free page reporting' });

class App {
  constructor() {
    const { state: want, problems } = parseUrlState(location.search);
    // The control token lives in this tab's sessionStorage, never in the address (a
    // teacher copying the address would hand out control): taken from an address that
    // has one, which is then rewritten without it.
    if (want.session && want.token) keep(tabStore(), tokenKey(want.session), want.token);
    else if (want.session) want.token = heldToken(tabStore(), want.session) ?? undefined;
    // A reload of a tab that opened a session from this address joins it again (at
    // the step it is at), so the followers of a presenter who reloads keep following.
    const again = want.session ? null : reopenedSession(tabStore(), location.search);
    if (again) {
      want.session = again;
      want.token = heldToken(tabStore(), again) ?? undefined;
      delete want.step;
    }
    if (new URLSearchParams(location.search).has('token')) {
      history.replaceState(null, '', `${location.pathname}${formatUrlState(want)}${location.hash}`);
    }
    this.want = want;
    /** applyWanted has started (so it runs once) / has finished. */
    this.configured = false;
    this.applied = false;
    /** Resolves when the session matches the address (after applyWanted). */
    /** @type {(v?: unknown) => void} */
    this.markReady = () => {};
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
    /** @type {string[]} */
    this.errors = [];
    /** @type {string[]} */
    this.notices = [];
    /** @type {Array<{id: string, text: string}>} */
    this.scenarios = [];
    this.lastSpeedSent = 0;
    this.lastInspector = 0;
    this.inspectorSeq = -1;
    /** The marks on the seek bar (a delta answering `breakpoints` brings new ones). */
    /** @type {import('./lib/protocol.js').Mark[] | null} */
    this.marksDrawn = null;
    /** @type {string[] | null} the breakpoints the drawn marks were coloured for */
    this.marksBreakpoints = null;
    this.presenter = Boolean(want.presenter);
    // The chapters share the row of the hand operations, so the lesson's place costs no
    // height at 1280x720; in presenter mode they are all that row shows.
    const chaptersBox = h('nav', { id: 'chapters', class: 'chapters', 'aria-label': 'chapters of the lesson' });
    document.querySelector('.actions')?.prepend(chaptersBox);
    this.chapters = new ChaptersView(chaptersBox, {
      onGo: (step) => this.command('seek', { step }),
      onNext: () => this.toChapter(1),
      onUnfold: () => this.command('configure', { fold_setup: false }),
    });
    this.inspector = new Inspector(byId('inspector'), {
      onFree: (pfn, order) => this.command('free', { pfn, order }),
      onTouch: (pfn, order) => this.command('touch', { pfn, order }),
      onClose: () => this.session.setSelected(null),
      onHighlight: (zone, pfn, order) => this.session.setSelected({ zone, pfn, order }),
    });
    this.session = new Session(
      joinFor(want), // a new session opens configured like the address, in one step
      {
        freelists: byId('freelists'),
        buddyinfo: byId('buddyinfo'),
        pcp: byId('pcp-lane'),
        memmap: byId('memmap'),
        narration: byId('narration'),
        log: byId('log'),
        charts: byId('charts'),
        hover: byId('hover'),
        ghosts: byId('ghosts'),
        state: {
          strategy: byId('st-strategy'),
          constants: byId('st-constants'),
          watermarks: byId('st-watermarks'),
          host: byId('st-host'),
          frames: byId('st-frames'),
          clock: byId('clock'),
        },
      },
      {
        onHello: (hello) => this.onHello(hello),
        onState: (state, reason) => this.onState(state, reason),
        onError: (code, message) => this.onServerError(code, message),
        onStatus: (s, text) => this.setStatus(s, text),
        onSessionLost: (old) => this.onSessionLost(old),
        onFatal: (text) => this.banner(text),
        onPick: (zone, pfn, order) => {
          this.inspect(zone, pfn);
          this.substeps.pick(zone, pfn, order);
        },
        onDrawn: (state) => {
          // Once per drawn frame, not per message: the transport and the comparison.
          this.updateTransport(state);
          this.substeps.sync();
          this.compare?.drawFacts();
          const now = performance.now();
          if (this.inspector.open && state.seq !== this.inspectorSeq && (!state.playing || now - this.lastInspector > 500)) {
            this.lastInspector = now;
            this.inspectorSeq = state.seq;
            this.inspector.refresh(state, this.session.allocations);
          }
        },
        onSeek: (step) => this.command('seek', { step }),
        onOther: (msg) => this.quiz.receive(msg.kind, msg.message),
      },
    );
    this.substeps = new SubstepsView(byId('narration'), {
      state: () => this.session.state,
      mark: (marks) => this.session.setEventMarks(marks),
    });
    this.quiz = new QuizView(byId('quiz'), byId('btn-quiz'), {
      send: (type, fields) => this.session.send(type, fields),
      notice: (text) => this.notice(text),
      problem: (text) => this.banner(text, true),
      whyNot: () => (this.compare ? 'close the comparison first: quiz mode asks about one session' : null),
    });
    this.saveScenario = new SaveScenario(
      /** @type {HTMLButtonElement} */ (byId('btn-save-scenario')),
      byId('save-scenario-out'),
      () => this.session.state,
    );
    this.saved = new SavedPanel(this, byId('share-saved'));
    this.picker = new ScenarioPicker(/** @type {HTMLDialogElement} */ (byId('scenarios')), /** @type {HTMLButtonElement} */ (byId('btn-scenarios')), (scenario) =>
      this.command('configure', { scenario }),
    );
    /** How the page replaces a session the server lost (rejoinFor), said once it is open. */
    /** @type {import('./lib/saved.js').Reopen | null} */
    this.reopen = null;
    /** Questions asked about operations done by hand (the share dialog's last one counts). */
    this.ownAsked = 0;
    /** The first step of the session's branch done by hand, as the server last said (learnOwnSteps). */
    this.own = { key: '', first: /** @type {number | null} */ (null) };
    this.ownLearnt = 0;
    // The connection asks what to open when its session is gone (kept when loadpanel.js
    // switches sessions: the new connection takes the same handlers).
    this.session.conn.handlers.rejoin = (old, refused) => this.rejoinFor(old, refused);
    // A follower whose session is gone waits for it (connection.js).
    this.session.conn.handlers.onWaiting = (waiting) => this.onWaiting(waiting);
    // What the session was when the tab goes (a reload): after a server restart the
    // reloaded tab reopens it as the lost tab would have (rejoinFor).
    addEventListener('pagehide', () => {
      const s = this.session.state;
      if (s && this.session.conn.role === 'controller') keep(tabStore(), lastKey(s.session), JSON.stringify(lastState(s, this.firstOwnStep(s))));
    });
    /** @type {Compare | null} */
    this.compare = null;
    this.live = new LiveView(byId('live'), /** @type {HTMLButtonElement} */ (byId('btn-live')), (created) => switchSession(this, created));
    this.loadPanel = new LoadPanel(this, /** @type {HTMLButtonElement} */ (byId('btn-load')));
    this.buildStaticControls();
    this.wireControls();
    this.setPresenter(this.presenter);
    if (problems.length) this.banner(`Ignored in the address: ${problems.join('; ')}.`);
    debugApi(this);
    if (want.saved && !want.session) {
      // `?saved=NAME`: open the saved session first, then join it.
      this.saved.openFromAddress(want.saved).then((join) => {
        this.session.conn.join = join;
        this.session.start();
      });
    } else {
      this.session.start();
    }
    this.loadScenarios();
    if (want.compare) this.openCompare(want.compare);
  }

  // --- server messages -------------------------------------------------------------

  /** @param {import('./lib/protocol.js').Hello} hello */
  onHello(hello) {
    document.body.dataset.role = hello.role;
    if (hello.role === 'controller' && !this.want.session) noteOpened(tabStore(), location.search, hello.session);
    this.quiz.setRole(hello.role);
    for (const el of document.querySelectorAll('[data-controller-only]')) {
      /** @type {HTMLButtonElement} */ (el).disabled = hello.role !== 'controller';
    }
    const maxSpeed = hello.limits?.max_speed;
    if (maxSpeed) {
      for (const opt of /** @type {HTMLSelectElement} */ (byId('speed')).options) opt.disabled = Number(opt.value) > maxSpeed;
    }
  }

  /**
   * @param {import('./lib/state.js').ClientState} state
   * @param {string} reason
   */
  onState(state, reason) {
    this.quiz.update(state);
    if (reason !== 'delta') {
      this.onSnapshot(state, reason);
      this.updateTransport(state);
    } else if (state.breakpoints !== this.marksBreakpoints) {
      // The answer to `breakpoints`: new breakpoints and the marks they make.  (A mark
      // of a step just added is drawn with the transport, once per frame.)
      this.drawMarks(state);
      this.drawBreakpoints(state);
    }
    if (!this.configured && reason !== 'delta') this.applyWanted(state);
  }

  /**
   * @param {import('./lib/state.js').ClientState} state
   * @param {string} reason
   */
  onSnapshot(state, reason) {
    const c = state.config;
    const size = pagesFact(c, state.zones.map((z) => z.name));
    replaceKids(byId('session-facts'), [
      size ? h('span', { class: 'fact scenario source k-pages', id: 'source-fact', 'data-kind': 'pages', title: size.title }, [size.text]) : sourceFactElement(c),
      h('span', { class: `fact strategy s-${c.hinting}` }, [STRATEGY_SHORT[c.hinting] ?? c.hinting]),
      c.what_if
        ? h('span', { class: 'fact kernel what-if', title: c.what_if }, [`Linux ${c.kernel} · what if`])
        : h('span', { class: 'fact kernel' }, [`Linux ${c.kernel}`]),
      h('span', { class: 'fact' }, [`seed ${c.seed}`]),
      c.pcp ? h('span', { class: 'fact' }, ['pcp']) : null,
    ]);
    // A /proc snapshot gives counts, not places: the page says which is which.
    const invented = c.source?.kind === 'buddyinfo';
    byId('layout-note').hidden = !invented;
    byId('map-layout-note').hidden = !invented;
    this.fillConfigForm(state);
    this.picker.setCurrent(c.scenario);
    this.drawLegends(state);
    this.drawMarks(state);
    this.drawBreakpoints(state);
    const branchSel = /** @type {HTMLSelectElement} */ (byId('branch'));
    byId('branch-label').hidden = state.branches.length < 2;
    branchSel.replaceChildren(
      ...state.branches.map((b) =>
        h('option', { value: b.id, selected: b.id === state.branch }, [
          `#${b.id} ${b.reason}${b.parent !== null ? ` (from #${b.parent}@${b.fork_step})` : ''} · ${b.length}`,
        ]),
      ),
    );
    if (reason === 'resync') this.notice('caught up with the server (the page had fallen behind)');
    this.saved.track(state);
    this.learnOwnSteps();
  }

  /**
   * Whether the session's branch has operations done by hand (GET /api/sessions/{id}
   * `first_own_step`): asked at each snapshot (a join, a reload, another branch) and
   * when one is acked, so that a scenario reopened after a restart says they are not in
   * it (rejoinFor, lastState).
   */
  async learnOwnSteps() {
    const state = this.session.state;
    if (!state || this.session.conn.role !== 'controller') return;
    const asked = ++this.ownLearnt;
    try {
      const info = await ask(`/api/sessions/${encodeURIComponent(state.session)}`);
      if (asked === this.ownLearnt) this.own = { key: `${info.id}#${info.branch}`, first: info.first_own_step ?? null };
    } catch {
      // the session is gone or the server unreachable: what the page knew stands
    }
  }

  /** @param {import('./lib/state.js').ClientState} state */
  firstOwnStep(state) {
    return this.own.key === `${state.session}#${state.branch}` ? this.own.first : null;
  }

  /**
   * Make a fresh session match the address (scenario, seed, strategy, kernel, pages),
   * then go to its step.  Runs once, after the first snapshot.
   * @param {import('./lib/state.js').ClientState} state
   */
  async applyWanted(state) {
    this.configured = true;
    try {
      await this.matchWanted(state);
    } finally {
      this.applied = true;
      this.markReady();
    }
  }

  /** @param {import('./lib/state.js').ClientState} state */
  async matchWanted(state) {
    const want = { ...this.want };
    if (want.session && state.session === want.session) {
      if (want.step !== undefined && want.step !== state.step) await this.goTo(want.step);
      return;
    }
    // The server opened the session from the address (the /ws query), or refused it and
    // said why; a configure is needed only for a new session after a server restart.
    if (this.session.conn.role !== 'controller' || this.session.conn.queryRefused) return;
    const fields = configureFor(want, { ...state.config, pages: state.config.pages ?? null });
    try {
      if (Object.keys(fields).length) await this.session.send('configure', fields);
      if (want.step !== undefined) await this.goTo(want.step);
    } catch (e) {
      this.banner(`Could not open the session the address asks for: ${/** @type {Error} */ (e).message}`);
    }
  }

  /**
   * Go to a step: seek within the recorded timeline, else step forward to it.
   * @param {number} step
   */
  async goTo(step) {
    const state = this.session.state;
    if (!state) return;
    if (step <= state.timelineLength) {
      await this.session.send('seek', { step });
      return;
    }
    if (state.step < state.timelineLength) await this.session.send('last');
    while (this.session.state && this.session.state.step < step) {
      try {
        await this.session.send('step');
      } catch (e) {
        const code = /** @type {{code?: string}} */ (e).code;
        const at = this.session.state.step;
        if (code === 'nothing_to_do' || code === 'end_of_timeline') {
          this.banner(`The timeline has only ${formatCount(at)} steps; showing the last (the address asked for step ${formatCount(step)}).`);
        } else {
          this.notice(`stopped at step ${at}: ${/** @type {Error} */ (e).message}`);
        }
        return;
      }
    }
  }

  /**
   * The server lost the page's session (it restarted): decide what replaces it
   * (lib/saved.js `reopenAfterLoss`) and what the connection opens, in one step: the
   * saved session's copy, or a session configured by the /ws query.  With the lost
   * session's token (the server still recognises it) both come back under the old id,
   * so its followers, waiting for it, follow it again; else (or `refused`: the server
   * would not) a new session.
   * @param {string} old the lost session's id
   * @param {boolean} [refused] the server refused to reopen it under its id
   * @returns {Promise<import('./lib/urlstate.js').UrlState>}
   */
  async rejoinFor(old, refused = false) {
    // The page's last state of it; or, reloaded since, what the tab kept at unload.
    const now = this.session.state;
    const last = now ? lastState(now, this.firstOwnStep(now)) : decodeLast(readKept(lastKey(old)));
    const token = refused ? null : (this.session.conn.session === old ? this.session.conn.token : null) ?? heldToken(tabStore(), old);
    const base = { presenter: this.want.presenter };
    let plan = reopenAfterLoss(old, last, last ? this.saved.nameOf(old) : null, token !== null);
    if (plan.open === 'saved') {
      try {
        const created = await openSaved(plan.name, token ? { session: old, token } : undefined);
        this.saved.current = { name: plan.name, session: created.id, sig: null };
        this.want = { ...base, session: created.id, token: created.token, saved: plan.name, step: plan.step };
        this.reopen = plan;
        return { session: created.id, token: created.token };
      } catch (e) {
        const why = `Could not reopen the saved session “${plan.name}”: ${/** @type {Error} */ (e).message}.`;
        this.saved.current = null;
        plan = reopenAfterLoss(old, last, null, token !== null);
        plan = { ...plan, text: `${why} ${plan.text}` };
      }
    }
    this.reopen = plan;
    if (plan.open === 'scenario' && last && token) {
      this.want = { ...base, session: old, token, step: last.step };
      return reopenJoin(old, token, shareState(last));
    }
    this.want = plan.open === 'scenario' && last ? { ...base, ...shareState(last) } : base;
    return joinFor(this.want);
  }

  /**
   * A follower's session is gone: say that the page waits for it (and why), or that it
   * stopped waiting; null: it is back.
   * @param {import('./views/connection.js').Waiting | null} waiting
   */
  onWaiting(waiting) {
    const box = byId('waiting');
    if (!waiting) {
      if (!box.hidden) this.notice('the session is back: following it again');
      box.hidden = true;
      return;
    }
    byId('waiting-text').textContent = waitingText(waiting);
    box.dataset.gaveUp = waiting.gaveUp ? '1' : '0';
    box.hidden = false;
  }

  /** The connection opened what rejoinFor chose: match the address to it and say so. */
  onSessionLost(/** @type {string} */ old) {
    const plan = this.reopen ?? reopenAfterLoss(old, null, null);
    this.reopen = null;
    this.configured = false;
    this.applied = false;
    const { session } = this.session.conn;
    if (session) {
      // The address names the session (a reload comes back to it; the tab keeps its token).
      const address = { session, saved: this.want.saved, presenter: this.want.presenter };
      history.replaceState(null, '', `${location.pathname}${formatUrlState(address)}`);
    }
    this.banner(plan.text, !(plan.open === 'default' && plan.keep));
  }

  /** @param {string} code @param {string} message */
  onServerError(code, message) {
    this.errors.push(`${code}: ${message}`);
    if (code === 'question_pending') this.quiz.nudge();
    else if (code === 'nothing_to_do' || code === 'end_of_timeline') this.notice(message);
    else this.banner(`${message} (${code})`, true);
  }

  // --- commands --------------------------------------------------------------------

  /**
   * Send a command to the session (and the comparison, for navigation).
   * @param {string} type
   * @param {Record<string, unknown>} [fields]
   * @returns {Promise<boolean>} whether the (page's own) session accepted it
   */
  async command(type, fields = {}) {
    const both = this.compare && ['step', 'back', 'first', 'last', 'seek', 'reset', 'alloc', 'free', 'touch', 'advance', 'run_to', 'speed'].includes(type);
    if (this.compare && (type === 'configure' || type === 'breakpoints')) {
      return this.compare.configureBoth(type, fields);
    }
    if (this.compare && (type === 'play' || type === 'pause')) {
      this.compare.setPlaying(type === 'play');
      return true;
    }
    const own = ['alloc', 'free', 'touch', 'advance'].includes(type);
    if (both && this.compare) {
      const [left] = await this.compare.broadcast(type, fields);
      if (own && left.status === 'fulfilled') this.learnOwnSteps();
      return left.status === 'fulfilled';
    }
    try {
      await this.session.send(type, fields);
      if (own) this.learnOwnSteps();
      return true;
    } catch (e) {
      // errors with a code are reported by onServerError; "disconnected" is shown by the status
      return false;
    }
  }

  /** @param {1 | -1} dir go to the next chapter's first step, or back to a chapter's start */
  toChapter(dir) {
    const s = this.session.state;
    if (!s) return;
    const ranges = this.chapters.ranges;
    const step = dir > 0 ? nextChapterStep(ranges, s.step) : previousChapterStep(ranges, s.step);
    if (step === null) this.notice('this is the last chapter');
    else this.command('seek', { step });
  }

  togglePlay() {
    const s = this.session.state;
    if (!s) return;
    const playing = this.compare ? this.compare.playing : s.playing;
    this.command(playing ? 'pause' : 'play', playing ? {} : { speed: s.speed });
  }

  /** @param {1 | -1} dir */
  changeSpeed(dir) {
    const s = this.session.state;
    if (!s) return;
    const value = nextSpeed(s.speed, dir);
    /** @type {HTMLSelectElement} */ (byId('speed')).value = String(value);
    this.command('speed', { value });
  }

  /** @param {string} zone @param {number} pfn */
  inspect(zone, pfn) {
    const state = this.session.state;
    if (!state) return;
    this.inspector.show(state, zone, pfn, this.session.allocations);
  }

  // --- controls --------------------------------------------------------------------

  buildStaticControls() {
    const speed = /** @type {HTMLSelectElement} */ (byId('speed'));
    speed.replaceChildren(...SPEEDS.map((s) => h('option', { value: s }, [`${s} / s`])));
    const runKind = /** @type {HTMLSelectElement} */ (byId('run-kind'));
    runKind.replaceChildren(...EVENT_KINDS.map((k) => h('option', { value: k }, [k])));
    byId('help-keys').replaceChildren(
      h('tbody', {}, [...KEYMAP, ...QUIZ_KEYS].map((k) => h('tr', {}, [h('td', {}, k.keys.map((key) => h('kbd', {}, [key]))), h('td', {}, [k.label])]))),
    );
    for (const id of ['btn-reset', 'btn-play', 'btn-quiz']) byId(id).toggleAttribute('data-controller-only', true);
    for (const sel of ['#form-alloc button', '#form-advance button', '#form-config button[type=submit]', '#speed']) {
      document.querySelector(sel)?.toggleAttribute('data-controller-only', true);
    }
  }

  wireControls() {
    const on = (/** @type {string} */ id, /** @type {string} */ ev, /** @type {(e: any) => void} */ fn) => byId(id).addEventListener(ev, fn);
    on('btn-first', 'click', () => this.command('first'));
    on('btn-back', 'click', () => this.command('back'));
    on('btn-play', 'click', () => this.togglePlay());
    on('btn-step', 'click', () => this.command('step'));
    on('btn-last', 'click', () => this.command('last'));
    on('btn-reset', 'click', () => this.command('reset'));
    on('btn-run-to', 'click', () => this.command('run_to', { kind: /** @type {HTMLSelectElement} */ (byId('run-kind')).value }));
    on('speed', 'change', (e) => this.command('speed', { value: Number(e.target.value) }));
    on('motion', 'change', (e) => (this.session.slow = Number(e.target.value)));
    const seek = /** @type {HTMLInputElement} */ (byId('seek'));
    seek.addEventListener('input', () => {
      byId('step-out').textContent = `step ${formatCount(Number(seek.value))} / ${formatCount(Number(seek.max))}`;
    });
    seek.addEventListener('change', () => this.command('seek', { step: Number(seek.value) }));
    on('btn-follow', 'click', () => this.command('follow', { on: true }));
    on('banner', 'click', () => (byId('banner').hidden = true));
    on('bp-list', 'change', async () => {
      const kinds = [...byId('bp-list').querySelectorAll('input:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value);
      // The server answers with a delta carrying the breakpoints and their marks.
      if (!(await this.command('breakpoints', { kinds }))) this.drawBreakpoints(this.session.state); // refused: as they were
    });
    on('branch', 'change', (e) => this.command('branch', { branch: Number(e.target.value) }));
    // A drop-down or the seek bar chosen with the mouse gives the keyboard back: the
    // arrows, Space and a presentation clicker's PageUp/PageDown step the timeline
    // again instead of changing that control.  Changed from the keyboard, it keeps focus.
    for (const el of document.querySelectorAll('.transport select, .transport input[type=range], .actions select')) {
      let byPointer = false;
      el.addEventListener('pointerdown', () => (byPointer = true));
      el.addEventListener('keydown', () => (byPointer = false));
      el.addEventListener('change', () => {
        if (byPointer) /** @type {HTMLElement} */ (el).blur();
        byPointer = false;
      });
    }

    on('form-alloc', 'submit', (e) => {
      e.preventDefault();
      const f = /** @type {HTMLFormElement} */ (e.target);
      const fields = /** @type {Record<string, unknown>} */ ({
        order: Number(/** @type {HTMLSelectElement} */ (f.elements.namedItem('order')).value),
        migratetype: /** @type {HTMLSelectElement} */ (f.elements.namedItem('migratetype')).value,
      });
      const zone = /** @type {HTMLSelectElement} */ (f.elements.namedItem('zone')).value;
      if (zone) fields.zone = zone;
      this.command('alloc', fields);
    });
    on('form-advance', 'submit', (e) => {
      e.preventDefault();
      const seconds = Number(/** @type {HTMLInputElement} */ (/** @type {HTMLFormElement} */ (e.target).elements.namedItem('seconds')).value);
      this.command('advance', { seconds });
    });
    on('form-config', 'submit', (e) => {
      e.preventDefault();
      this.submitConfig(/** @type {HTMLFormElement} */ (e.target));
    });

    on('btn-help', 'click', () => /** @type {HTMLDialogElement} */ (byId('help')).showModal());
    on('btn-presenter', 'click', () => this.setPresenter(!this.presenter));
    on('btn-share', 'click', () => this.openShare());
    on('btn-own-session', 'click', () => location.assign(`${location.pathname}${formatUrlState({ presenter: this.presenter })}`));
    on('btn-share-save', 'click', () => byId('save-name').focus());
    on('btn-compare', 'click', () => (this.compare ? this.closeCompare() : this.openCompare(this.otherStrategy())));
    for (const btn of document.querySelectorAll('[data-copy]')) {
      btn.addEventListener('click', () => {
        const input = /** @type {HTMLInputElement} */ (byId(/** @type {HTMLElement} */ (btn).dataset.copy ?? ''));
        input.select();
        navigator.clipboard?.writeText(input.value).catch(() => {});
      });
    }
    document.addEventListener('keydown', (e) => this.onKey(e));
  }

  /** @param {KeyboardEvent} e */
  onKey(e) {
    if (this.quiz.onKey(e)) return;
    const action = keyAction(e);
    if (!action) return;
    // While this machine is shown, the simulation's keys wait.
    if (this.live.on && !['help', 'close', 'presenter'].includes(action)) return;
    const dialogOpen = [...document.querySelectorAll('dialog')].some((d) => /** @type {HTMLDialogElement} */ (d).open);
    if (dialogOpen && action !== 'close') return;
    e.preventDefault();
    switch (action) {
      case 'toggle-play':
        this.togglePlay();
        break;
      case 'step':
        this.command('step');
        break;
      case 'back':
        this.command('back');
        break;
      case 'first':
        this.command('first');
        break;
      case 'last':
        this.command('last');
        break;
      case 'next-chapter':
        this.toChapter(1);
        break;
      case 'previous-chapter':
        this.toChapter(-1);
        break;
      case 'next-event':
        this.substeps.move(1);
        break;
      case 'previous-event':
        this.substeps.move(-1);
        break;
      case 'faster':
        this.changeSpeed(1);
        break;
      case 'slower':
        this.changeSpeed(-1);
        break;
      case 'run-to':
        this.command('run_to', { kind: /** @type {HTMLSelectElement} */ (byId('run-kind')).value });
        break;
      case 'presenter':
        this.setPresenter(!this.presenter);
        break;
      case 'quiz':
        this.quiz.toggleMode();
        break;
      case 'help': {
        const d = /** @type {HTMLDialogElement} */ (byId('help'));
        if (d.open) d.close();
        else d.showModal();
        break;
      }
      case 'close':
        for (const d of document.querySelectorAll('dialog')) /** @type {HTMLDialogElement} */ (d).close();
        if (this.inspector.open) this.inspector.close();
        this.substeps.close();
        break;
      default:
        break;
    }
  }

  /** @param {HTMLFormElement} f */
  submitConfig(f) {
    const state = this.session.state;
    if (!state) return;
    const val = (/** @type {string} */ n) => /** @type {HTMLInputElement} */ (f.elements.namedItem(n)).value;
    /** @type {Record<string, unknown>} */
    const fields = {};
    if (val('scenario') && val('scenario') !== state.config.scenario) fields.scenario = val('scenario');
    if (val('hinting') !== state.config.hinting) fields.hinting = val('hinting');
    if (val('kernel') !== state.config.kernel) fields.kernel = val('kernel');
    if (val('seed') !== '' && Number(val('seed')) !== state.config.seed) fields.seed = Number(val('seed'));
    const pcp = /** @type {HTMLInputElement} */ (f.elements.namedItem('pcp')).checked;
    if (pcp !== state.config.pcp) fields.pcp = pcp;
    if (val('cpus') !== '' && Number(val('cpus')) !== (state.config.cpus ?? 1)) fields.cpus = Number(val('cpus'));
    if (!fields.hinting) {
      /** @type {Record<string, number>} */
      const constants = {};
      for (const input of byId('constants-fields').querySelectorAll('input')) {
        const c = (state.hinting.constants ?? []).find((x) => x.name === input.name);
        if (c && input.value !== '' && Number(input.value) !== c.value) constants[input.name] = Number(input.value);
      }
      if (Object.keys(constants).length) fields.constants = constants;
    }
    if (Object.keys(fields).length === 0) {
      this.notice('nothing changed');
      return;
    }
    /** @type {HTMLDetailsElement} */ (byId('session-edit')).open = false;
    this.command('configure', fields);
  }

  /** @param {import('./lib/state.js').ClientState} state */
  fillConfigForm(state) {
    const f = /** @type {HTMLFormElement} */ (byId('form-config'));
    const set = (/** @type {string} */ n, /** @type {string} */ v) => {
      const el = /** @type {HTMLInputElement} */ (f.elements.namedItem(n));
      if (document.activeElement !== el) el.value = v;
    };
    this.fillScenarioSelect(state.config.scenario);
    set('scenario', state.config.scenario);
    set('hinting', state.config.hinting);
    set('kernel', state.config.kernel);
    set('seed', String(state.config.seed));
    /** @type {HTMLInputElement} */ (f.elements.namedItem('pcp')).checked = state.config.pcp;
    set('cpus', String(state.config.cpus ?? 1));
    const constants = state.hinting.constants ?? [];
    byId('constants-fields').replaceChildren(
      ...(constants.length
        ? constants.map((c) =>
            h('label', { class: c.is_kernel ? 'is-kernel' : 'changed' }, [
              h('code', {}, [c.name]),
              h('input', { type: 'number', name: c.name, value: c.value, step: 'any', min: 0, 'aria-label': c.name }),
              h('span', { class: 'kernel-mark' }, [c.is_kernel ? '✓ kernel' : `kernel ${c.kernel}`, c.modelled ? ' · modelled' : '']),
            ]),
          )
        : [h('span', { class: 'muted' }, ['this strategy has no constants'])]),
    );
    const alloc = /** @type {HTMLFormElement} */ (byId('form-alloc'));
    const orderSel = /** @type {HTMLSelectElement} */ (alloc.elements.namedItem('order'));
    if (orderSel.options.length !== state.config.max_order) {
      orderSel.replaceChildren(...Array.from({ length: state.config.max_order }, (_, o) => h('option', { value: o }, [String(o)])));
    }
    const mtSel = /** @type {HTMLSelectElement} */ (alloc.elements.namedItem('migratetype'));
    const types = ALLOC_TYPES.filter((t) => state.config.migratetypes.includes(t));
    if (mtSel.options.length !== types.length) mtSel.replaceChildren(...types.map((t) => h('option', { value: t }, [t])));
    const zoneSel = /** @type {HTMLSelectElement} */ (alloc.elements.namedItem('zone'));
    const zoneSig = state.zones.map((z) => z.name).join(',');
    if (zoneSel.dataset.sig !== zoneSig) {
      zoneSel.dataset.sig = zoneSig;
      zoneSel.replaceChildren(h('option', { value: '' }, ['any zone']), ...state.zones.map((z) => h('option', { value: z.name }, [z.name])));
    }
  }

  /** @param {string} current */
  fillScenarioSelect(current) {
    const sel = /** @type {HTMLSelectElement} */ (byId('form-config').querySelector('select[name=scenario]'));
    const list = this.scenarios.length ? this.scenarios : [{ id: current, text: current }];
    if (!list.some((s) => s.id === current)) list.unshift({ id: current, text: current });
    const sig = list.map((s) => s.id).join(',');
    if (sel.dataset.sig === sig) return;
    sel.dataset.sig = sig;
    sel.replaceChildren(...list.map((s) => h('option', { value: s.id }, [s.text])));
    sel.value = current;
  }

  async loadScenarios() {
    try {
      const res = await fetch('/api/scenarios', { headers: { accept: 'application/json' } });
      if (!res.ok) return;
      const data = await res.json();
      const items = Array.isArray(data) ? data : data.scenarios;
      if (!Array.isArray(items)) return;
      this.scenarios = items.map((/** @type {any} */ s) => (typeof s === 'string' ? { id: s, text: s } : { id: s.name, text: s.title ? `${s.name} — ${s.title}` : s.name }));
      this.picker.setScenarios(items.filter((/** @type {any} */ s) => typeof s !== 'string'));
      if (this.session.state) this.fillScenarioSelect(this.session.state.config.scenario);
    } catch {
      // the server does not list its scenarios: the select keeps the current one
    }
  }

  /** @param {import('./lib/state.js').ClientState} state */
  updateTransport(state) {
    this.chapters.update(state);
    const seek = /** @type {HTMLInputElement} */ (byId('seek'));
    const max = Math.max(state.timelineLength, state.step);
    if (seek.max !== String(max)) {
      seek.max = String(max);
      // The marks are placed by CSS from their step and this length.
      byId('marks').style.setProperty('--steps', String(Math.max(max, 1)));
    }
    if (state.marks !== this.marksDrawn) this.drawMarks(state);
    if (document.activeElement !== seek && seek.value !== String(state.step)) seek.value = String(state.step);
    const valuetext = `step ${state.step} of ${max}`;
    if (seek.getAttribute('aria-valuetext') !== valuetext) seek.setAttribute('aria-valuetext', valuetext);
    const out = `step ${formatCount(state.step)} / ${formatCount(max)}`;
    const outEl = byId('step-out');
    if (outEl.textContent !== out) outEl.textContent = out;
    const playing = this.compare ? this.compare.playing : state.playing;
    const play = byId('btn-play');
    if (document.body.dataset.playing !== (playing ? '1' : '0')) {
      // Only on a change: this runs every frame while a session plays.
      play.classList.toggle('is-playing', playing);
      play.setAttribute('aria-label', playing ? 'pause (Space)' : 'play (Space)');
      play.setAttribute('aria-pressed', playing ? 'true' : 'false');
      document.body.dataset.playing = playing ? '1' : '0';
    }
    const speed = /** @type {HTMLSelectElement} */ (byId('speed'));
    if (document.activeElement !== speed) {
      if (![...speed.options].some((o) => Number(o.value) === state.speed)) {
        speed.append(h('option', { value: state.speed }, [`${state.speed} / s`]));
      }
      if (speed.value !== String(state.speed)) speed.value = String(state.speed);
    }
    const followBar = byId('follow-bar');
    if (followBar.hidden !== state.following) followBar.hidden = state.following;
    const status = byId('status');
    if (status.dataset.state === 'live' && this.session.conn.role === 'follower') {
      // A follower that stepped on its own no longer follows: the status says so.
      const text = state.following ? 'live · following' : 'live · on your own (not following)';
      if (status.textContent !== text) status.textContent = text;
    }
    if (!state.following) byId('follow-text').textContent = `You are looking around on your own (step ${state.step}); the session moves on without you.`;
  }

  /** @param {import('./lib/state.js').ClientState} state */
  drawMarks(state) {
    const box = byId('marks');
    box.style.setProperty('--steps', String(Math.max(state.timelineLength, state.step, 1)));
    const drawn = this.marksDrawn;
    const marks = state.marks.length > 2000 ? state.marks.slice(0, 2000) : state.marks;
    // A step just added brings one mark at the end of the same list: add only that.
    const appended =
      drawn !== null &&
      this.marksBreakpoints === state.breakpoints &&
      drawn.length <= marks.length &&
      box.childElementCount === Math.min(drawn.length, 2000) &&
      (drawn.length === 0 || drawn[drawn.length - 1] === marks[drawn.length - 1]);
    this.marksDrawn = state.marks;
    this.marksBreakpoints = state.breakpoints;
    const bps = new Set(state.breakpoints);
    const span = (/** @type {import('./lib/protocol.js').Mark} */ m) =>
      h('span', {
        class: `mark kind-${m.kind}${bps.has(m.kind) ? ' bp' : ''}`,
        style: `--s:${m.step}`,
        title: `step ${m.step}: ${m.kind}`,
        'data-step': m.step,
        'data-kind': m.kind,
      });
    if (appended) box.append(...marks.slice(box.childElementCount).map(span));
    else box.replaceChildren(...marks.map(span));
  }

  /**
   * The breakpoint checkboxes as the session has them (kept in place, so the one being
   * toggled keeps the keyboard focus).
   * @param {import('./lib/state.js').ClientState | null} state
   */
  drawBreakpoints(state) {
    if (!state) return;
    const on = new Set(state.breakpoints);
    const list = byId('bp-list');
    if (!list.firstChild) {
      list.replaceChildren(
        ...EVENT_KINDS.map((k) => h('label', { class: 'bp' }, [h('input', { type: 'checkbox', value: k }), ` ${k}`])),
      );
    }
    for (const input of list.querySelectorAll('input')) input.checked = on.has(input.value);
    byId('breakpoints').querySelector('summary').textContent = on.size ? `breakpoints (${on.size})` : 'breakpoints';
  }

  /** @param {import('./lib/state.js').ClientState} state */
  drawLegends(state) {
    const flag = state.hinting.strategy === 'reporting' ? 'reported' : 'hinted';
    const mts = state.config.migratetypes;
    const colours = migratetypeColours(mts);
    replaceKids(byId('legend-lists'), [
      ...mts
        .filter((mt) => mt !== 'Isolate')
        .map((mt) => h('span', { class: `legend-item mt mt-${migratetypeSlug(mt)}` }, [h('span', { class: 'swatch', style: `background:${colours[mts.indexOf(mt)]}` }), mt])),
      state.hinting.strategy !== 'none'
        ? h('span', { class: 'legend-item' }, [h('span', { class: 'chip flagged sample' }, [h('span', { class: 'mark' }, [flag === 'hinted' ? 'H' : 'R'])]), flag])
        : null,
      state.hinting.strategy !== 'none' ? h('span', { class: 'legend-item' }, [h('span', { class: 'chip isolated sample' }, ['o9']), 'with the host']) : null,
      state.hinting.strategy === 'hinting-v2' ? h('span', { class: 'legend-item' }, [h('span', { class: 'boundary sample' }), 'boundary']) : null,
    ]);
    // Only the frame states this session can show.
    const hinting = state.hinting.strategy !== 'none';
    const cats = /** @type {Array<keyof typeof FRAME_COLOURS>} */ ([
      'allocated',
      'free',
      ...(hinting ? ['flagged', 'flaggedDiscarded', 'isolated', 'freeDiscarded', 'allocatedDiscarded'] : []),
      ...(state.config.pcp ? ['pcp'] : []),
    ]);
    // Free frames take their pageblock's migratetype tint: one swatch per migratetype,
    // each named (as in the lists' legend).
    const tints = mts.map((_, i) => i).filter((i) => mts[i] !== 'Isolate');
    byId('legend-map').replaceChildren(
      ...cats.map((c) => {
        const label = FRAME_COLOURS[c].label.replace('hinted / reported', flag);
        if (!TINTED_FRAMES.has(c)) {
          return h('span', { class: 'legend-item', 'data-frame': c }, [h('span', { class: 'swatch', style: `background:${frameSwatch(c, colours[0])}` }), label]);
        }
        return h('span', { class: 'legend-item tints', 'data-frame': c }, [
          h('span', { class: 'tints-label' }, [`${label}, in a pageblock of`]),
          ...tints.map((i) =>
            h('span', { class: 'legend-item' }, [
              h('span', { class: 'swatch', 'data-migratetype': mts[i], title: `${label} in a ${mts[i]} pageblock`, style: `background:${frameSwatch(c, colours[i])}` }),
              mts[i],
            ]),
          ),
        ]);
      }),
      h('span', { class: 'legend-item' }, [h('span', { class: 'swatch outline' }), 'pageblock outline = its migratetype']),
    );
    // One line above the map (the full key opens under it): a swatch per frame state.
    byId('legend-map-short').replaceChildren(
      ...cats.map((c) => {
        const label = FRAME_COLOURS[c].short.replace('hinted', flag);
        return h('span', { class: 'legend-item', title: FRAME_COLOURS[c].label.replace('hinted / reported', flag) }, [h('span', { class: 'swatch', style: `background:${frameSwatch(c, colours[mts.indexOf('Movable')] ?? colours[0])}` }), label]);
      }),
    );
  }

  // --- page chrome -------------------------------------------------------------------

  /** @param {string} state @param {string} text */
  setStatus(state, text) {
    const el = byId('status');
    el.dataset.state = state;
    el.textContent = text;
    document.body.dataset.connection = state;
    if (state === 'live' && this.reconnecting) {
      this.reconnecting = false;
      this.notice('reconnected to the server');
    }
    if (state === 'closed') this.reconnecting = true;
  }

  /**
   * @param {string} text
   * @param {boolean} [autohide]
   */
  banner(text, autohide = false) {
    const el = byId('banner');
    el.textContent = text;
    el.hidden = false;
    if (this.bannerTimer) clearTimeout(this.bannerTimer);
    if (autohide) this.bannerTimer = setTimeout(() => (el.hidden = true), 9000);
  }

  /** @param {string} text */
  notice(text) {
    this.notices.push(text);
    const el = byId('status');
    el.dataset.notice = text;
    el.title = text;
    const n = h('div', { class: 'toast', role: 'status' }, [text]);
    document.body.append(n);
    setTimeout(() => n.remove(), 4000);
  }

  /** @param {boolean} on */
  setPresenter(on) {
    this.presenter = on;
    document.body.classList.toggle('presenter', on);
    document.documentElement.classList.toggle('presenter', on);
    byId('btn-presenter').setAttribute('aria-pressed', on ? 'true' : 'false');
    if (this.session.state) this.session.map.setState(this.session.state);
  }

  openShare() {
    if (!this.session.state) return;
    this.refreshShareLink();
    this.saveScenario.refresh();
    this.saved.refresh();
    /** @type {HTMLDialogElement} */ (byId('share')).showModal();
  }

  /**
   * The share dialog's links: "this state" as scenario parameters, as the saved name of a
   * loaded session, or none (a loaded session no address can describe) and why.
   */
  refreshShareLink() {
    const state = this.session.state;
    if (!state) return;
    const base = `${location.origin}${location.pathname}`;
    const savedName = this.saved.nameOf(state.session);
    const link = stateLinkKind(state, savedName);
    byId('share-state-text').textContent = link.text;
    byId('share-state-row').hidden = link.kind === 'none';
    const address = link.kind === 'saved' ? { saved: savedName ?? undefined, step: state.step } : shareState(state);
    /** @type {HTMLInputElement} */ (byId('share-state')).value = link.kind === 'none' ? '' : base + formatUrlState(address);
    /** @type {HTMLInputElement} */ (byId('share-follow')).value = `${base}?session=${encodeURIComponent(state.session)}${this.presenter ? '&presenter=1' : ''}`;
    this.checkOwnOperations(link.kind === 'scenario' ? state : null);
  }

  /**
   * Under a scenario's "this state" link, say so when the session has operations done
   * by hand up to this step (no address carries them; GET /api/sessions/{id} tells).
   * @param {import('./lib/state.js').ClientState | null} state
   */
  async checkOwnOperations(state) {
    const box = byId('share-state-warning');
    const asked = ++this.ownAsked;
    let text = null;
    if (state) {
      try {
        const info = await ask(`/api/sessions/${encodeURIComponent(state.session)}`);
        text = ownOperationsWarning(info.first_own_step ?? null, state.step);
      } catch {
        text = null; // the session is gone or the server unreachable: nothing to warn about
      }
    }
    if (asked !== this.ownAsked) return; // a later question answers
    byId('share-state-warning-text').textContent = text ?? '';
    box.hidden = text === null;
  }

  otherStrategy() {
    const s = this.session.state?.config.hinting ?? 'none';
    return s === 'reporting' ? 'hinting-v2' : 'reporting';
  }

  /** @param {string} strategy */
  openCompare(strategy) {
    if (this.compare) return;
    if (this.quiz.on) this.command('quiz', { on: false }); // a question would hold one side only
    this.compare = new Compare(byId('compare'), this, strategy);
    byId('btn-compare').setAttribute('aria-pressed', 'true');
    document.body.classList.add('comparing');
  }

  closeCompare() {
    this.compare?.close();
    this.compare = null;
    byId('btn-compare').setAttribute('aria-pressed', 'false');
    document.body.classList.remove('comparing');
  }
}

/**
 * A value this tab kept in sessionStorage (null: none, or no storage).
 * @param {string} key
 */
function readKept(key) {
  try {
    return tabStore()?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

/**
 * The page's state for tests and the benchmark (read-only by convention).
 * @param {App} app
 */
function debugApi(app) {
  const s = () => app.session;
  const api = {
    get connected() { return s().conn.open; },
    get protocolVersion() { return s().hello?.protocol_version ?? null; },
    get session() { return s().state?.session ?? null; },
    get role() { return s().conn.role; },
    get seq() { return s().state?.seq ?? 0; },
    get step() { return s().state?.step ?? -1; },
    get timelineLength() { return s().state?.timelineLength ?? 0; },
    get playing() { return s().state?.playing ?? false; },
    get speed() { return s().state?.speed ?? 0; },
    get snapshots() { return s().stats.snapshots; },
    get deltas() { return s().stats.deltas; },
    get renderedSeq() { return s().stats.renderedSeq; },
    get renderedStep() { return s().stats.renderedStep; },
    get stats() { return s().stats; },
    get latencies() { return s().latencies; },
    get costs() { return s().costs; },
    get animating() { return s().animator.busy; },
    /** The animation plan of the step drawn last (lib/animate.js), its beats in ms. */
    get plan() { return s().animator.plan; },
    get drawPending() { return s().drawPending; },
    /** The session matches the address (scenario, strategy, step, ...). */
    get configured() { return app.applied; },
    get selectedZone() { return s().selectedZone; },
    /** The charts as uPlot drew them (it draws axes on its canvas): x values and axis labels. */
    get charts() {
      const c = s().charts;
      const labels = (/** @type {any} */ u) => u.axes.map((/** @type {any} */ a) => a.label ?? null);
      return c && c.free && c.host ? { x: c.x, xs: c.host.data[0], free: labels(c.free), host: labels(c.host) } : null;
    },
    get errors() { return app.errors; },
    get notices() { return app.notices; },
    get state() { return s().state; },
    get compare() { return app.compare ? app.compare.debug() : null; },
    get quiz() { return app.quiz.debug(); },
    get substeps() { return app.substeps.debug(); },
    get savedScenario() { return app.saveScenario.last; },
    /** The first step done by hand as far as the page knows (kept for a reopen after a restart). */
    get firstOwnStep() {
      const state = s().state;
      return state ? app.firstOwnStep(state) : null;
    },
    get saved() { return app.saved.debug(); },
    /** Send a command; resolves {ack} or {error: code, message}. */
    send(/** @type {string} */ type, /** @type {Record<string, unknown>} */ fields = {}) {
      return s().send(type, fields).then(
        (ack) => ({ ack }),
        (e) => ({ error: e.code ?? 'error', message: e.message }),
      );
    },
    colourAt(/** @type {string} */ zone, /** @type {number} */ pfn) { return s().map.colourAt(zone, pfn); },
    clientPoint(/** @type {string} */ zone, /** @type {number} */ pfn) { return s().map.clientPoint(zone, pfn); },
    expectedColour(/** @type {string} */ zone, /** @type {number} */ pfn, /** @type {number} */ state, /** @type {number} */ host, /** @type {number} */ mt) {
      return s().map.expectedColour(zone, pfn, state, host, mt);
    },
    selectZone(/** @type {string} */ zone) { s().selectZone(zone); },
    /** Resolves with the time the page shows `step` (the benchmark's "visible change"). */
    whenDrawn(/** @type {number} */ step) { return s().whenDrawn(step); },
    formatPfn,
  };
  // @ts-ignore: a deliberate global for tests
  window.__buddyscope = api;
}

export const app = new App();
