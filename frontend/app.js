// @ts-check
/**
 * The dashboard page: wires its parts to a Session (views/session.js), and a second
 * Session for the side-by-side comparison.  Each control group and dialog is its own
 * module (views/transport.js, settings.js, handops.js, share.js, facts.js, picker.js,
 * quiz.js, loadpanel.js, ...), and what replaces a session the server lost is
 * views/reopen.js; this file keeps what ties them together: the address (which session
 * to open, and making it match), commands (to one session or both sides of a
 * comparison), the keyboard, presenter mode and the page's messages.
 *
 * Tests and the benchmark read `window.__buddyscope` (views/debugapi.js) and wait on its
 * counters instead of sleeping.
 */
import { KEYMAP, keyAction, nextSpeed } from './lib/keys.js';
import { formatCount } from './lib/layout.js';
import { QUIZ_KEYS } from './lib/quiz.js';
import {
  configureFor, formatUrlState, heldToken, joinFor, keep, noteOpened, parseUrlState, reopenedSession, tokenKey,
} from './lib/urlstate.js';
import { nextChapterStep, previousChapterStep } from './lib/chapters.js';
import { ChaptersView } from './views/chapters.js';
import { Compare } from './views/compare.js';
import { debugApi } from './views/debugapi.js';
import { drawFacts } from './views/facts.js';
import { byId, h } from './views/dom.js';
import { HandOperations } from './views/handops.js';
import { Inspector } from './views/inspector.js';
import { drawLegends } from './views/legends.js';
import { LiveView } from './views/liveview.js';
import { tabStore } from './views/connection.js';
import { LoadPanel, switchSession } from './views/loadpanel.js';
import { QuizView } from './views/quiz.js';
import { linkPfns } from './views/pfnlinks.js';
import { ScenarioPicker } from './views/picker.js';
import { Reopener } from './views/reopen.js';
import { SavedPanel } from './views/saved.js';
import { SaveScenario } from './views/savescenario.js';
import { Session } from './views/session.js';
import { SettingsForm } from './views/settings.js';
import { ShareDialog } from './views/share.js';
import { SubstepsView } from './views/substeps.js';
import { Transport } from './views/transport.js';

export class App {
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
    this.lastSpeedSent = 0;
    this.lastInspector = 0;
    this.inspectorSeq = -1;
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
      onHighlight: (zone, pfn, order, placed) => this.session.setSelected({ zone, pfn, order, placed }),
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
        onSessionLost: (old) => this.reopener.onSessionLost(old),
        onFatal: (text) => this.banner(text),
        onPick: (zone, pfn, order) => {
          this.inspect(zone, pfn);
          this.substeps.pick(zone, pfn, order);
        },
        onDrawn: (state, behind) => {
          // Once per drawn frame, not per message: the transport and the comparison.
          this.transport.update(state);
          // The walk of a step's events follows the narration, which may lag a play.
          if (!behind) this.substeps.sync();
          this.compare?.drawFacts();
          const now = performance.now();
          if (this.inspector.open && state.seq !== this.inspectorSeq && (!state.playing || now - this.lastInspector > 500)) {
            this.lastInspector = now;
            this.inspectorSeq = state.seq;
            this.inspector.refresh(state, this.session.allocations);
          }
        },
        onSeek: (step) => this.command('seek', { step }),
        onOther: (msg) => {
          // The controller's walk of a step event by event (followers only get it).
          if (msg.kind === 'substep') this.substeps.follow({ step: Number(msg.message.step), index: Number(msg.message.index) });
          else this.quiz.receive(msg.kind, msg.message);
        },
      },
    );
    this.substeps = new SubstepsView(byId('narration'), {
      state: () => this.session.state,
      mark: (marks) => this.session.highlights.setEventMarks(marks),
      walked: (step, index) => {
        if (this.session.conn.role === 'controller') this.command('substep', { step, index });
      },
    });
    linkPfns(byId('narration'), () => this.session.state, (zone, pfn) => this.inspect(zone, pfn));
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
    /** What the page opens when the server lost its session, and what it keeps for that. */
    this.reopener = new Reopener(this);
    /** @type {Compare | null} */
    this.compare = null;
    this.live = new LiveView(byId('live'), /** @type {HTMLButtonElement} */ (byId('btn-live')), (created) => switchSession(this, created));
    this.loadPanel = new LoadPanel(this, /** @type {HTMLButtonElement} */ (byId('btn-load')));
    this.transport = new Transport(this);
    this.settings = new SettingsForm(this);
    this.handOps = new HandOperations((type, fields) => this.command(type, fields));
    this.share = new ShareDialog(this);
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
    this.settings.loadScenarios();
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
    this.transport.limitSpeed(hello.limits?.max_speed);
  }

  /**
   * @param {import('./lib/state.js').ClientState} state
   * @param {string} reason
   */
  onState(state, reason) {
    this.quiz.update(state);
    if (reason !== 'delta') {
      this.onSnapshot(state, reason);
      this.transport.update(state);
    } else {
      this.transport.delta(state);
    }
    if (!this.configured && reason !== 'delta') this.applyWanted(state);
  }

  /**
   * @param {import('./lib/state.js').ClientState} state
   * @param {string} reason
   */
  onSnapshot(state, reason) {
    drawFacts(state);
    this.settings.fill(state);
    this.handOps.fill(state);
    this.picker.setCurrent(state.config.scenario);
    drawLegends(state);
    this.transport.reset(state);
    if (reason === 'resync') this.notice('caught up with the server (the page had fallen behind)');
    this.saved.track(state);
    this.reopener.learnOwnSteps();
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
      if (own && left.status === 'fulfilled') this.reopener.learnOwnSteps();
      return left.status === 'fulfilled';
    }
    try {
      await this.session.send(type, fields);
      if (own) this.reopener.learnOwnSteps();
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
        this.transport.runTo();
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

  /** The help dialog's key table, and the page's own buttons; the keyboard. */
  wireControls() {
    byId('help-keys').replaceChildren(
      h('tbody', {}, [...KEYMAP, ...QUIZ_KEYS].map((k) => h('tr', {}, [h('td', {}, k.keys.map((key) => h('kbd', {}, [key]))), h('td', {}, [k.label])]))),
    );
    for (const id of ['btn-reset', 'btn-play', 'btn-quiz']) byId(id).toggleAttribute('data-controller-only', true);
    for (const sel of ['#form-alloc button', '#form-advance button', '#form-config button[type=submit]', '#speed']) {
      document.querySelector(sel)?.toggleAttribute('data-controller-only', true);
    }
    const on = (/** @type {string} */ id, /** @type {string} */ ev, /** @type {(e: any) => void} */ fn) => byId(id).addEventListener(ev, fn);
    on('banner', 'click', () => (byId('banner').hidden = true));
    on('btn-help', 'click', () => /** @type {HTMLDialogElement} */ (byId('help')).showModal());
    on('btn-presenter', 'click', () => this.setPresenter(!this.presenter));
    on('btn-compare', 'click', () => (this.compare ? this.closeCompare() : this.openCompare(this.otherStrategy())));
    document.addEventListener('keydown', (e) => this.onKey(e));
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

export const app = new App();
