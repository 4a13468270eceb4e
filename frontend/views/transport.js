// @ts-check
/**
 * The transport: first / back / play / step / last / reset, run to the next event of a
 * kind, speed and slow motion, the seek bar with its marks, breakpoints, the branch
 * select and the "follow again" bar.  It sends through the app's `command` (which also
 * drives the comparison) and is redrawn once per drawn frame (`update`).
 */
import { SPEEDS } from '../lib/keys.js';
import { formatCount } from '../lib/layout.js';
import { byId, h } from './dom.js';

/** Event kinds for "run to next" and breakpoints (docs/protocol.md), most useful first. */
export const EVENT_KINDS = [
  'report', 'boundary', 'isolate', 'putback', 'flag_set', 'flag_clear', 'rotate', 'merge', 'split',
  'alloc', 'free', 'refault', 'state', 'request', 'phase', 'fallback', 'pageblock_retype', 'list_move',
  'merge_stop', 'list_add', 'list_del', 'zone_skip', 'isolate_fail', 'flag_skip', 'watermark_boost', 'pcp_add', 'pcp_del',
  'pcp_refill', 'pcp_drain', 'work', 'clock', 'user', 'step_error',
];

/**
 * What the transport needs of the page.
 * @typedef {object} TransportApp
 * @property {(type: string, fields?: Record<string, unknown>) => Promise<boolean>} command
 * @property {() => void} togglePlay
 * @property {import('./session.js').Session} session
 * @property {import('./chapters.js').ChaptersView} chapters
 * @property {{playing: boolean} | null} compare
 */

export class Transport {
  /** @param {TransportApp} app */
  constructor(app) {
    this.app = app;
    /** The marks on the seek bar (a delta answering `breakpoints` brings new ones). */
    /** @type {import('../lib/protocol.js').Mark[] | null} */
    this.marksDrawn = null;
    /** @type {string[] | null} the breakpoints the drawn marks were coloured for */
    this.marksBreakpoints = null;
    const speed = /** @type {HTMLSelectElement} */ (byId('speed'));
    speed.replaceChildren(...SPEEDS.map((s) => h('option', { value: s }, [`${s} / s`])));
    const runKind = /** @type {HTMLSelectElement} */ (byId('run-kind'));
    runKind.replaceChildren(...EVENT_KINDS.map((k) => h('option', { value: k }, [k])));
    this.wire();
  }

  wire() {
    const app = this.app;
    const on = (/** @type {string} */ id, /** @type {string} */ ev, /** @type {(e: any) => void} */ fn) => byId(id).addEventListener(ev, fn);
    on('btn-first', 'click', () => app.command('first'));
    on('btn-back', 'click', () => app.command('back'));
    on('btn-play', 'click', () => app.togglePlay());
    on('btn-step', 'click', () => app.command('step'));
    on('btn-last', 'click', () => app.command('last'));
    on('btn-reset', 'click', () => app.command('reset'));
    on('btn-run-to', 'click', () => this.runTo());
    on('speed', 'change', (e) => app.command('speed', { value: Number(e.target.value) }));
    on('motion', 'change', (e) => (app.session.slow = Number(e.target.value)));
    const seek = /** @type {HTMLInputElement} */ (byId('seek'));
    seek.addEventListener('input', () => {
      byId('step-out').textContent = `step ${formatCount(Number(seek.value))} / ${formatCount(Number(seek.max))}`;
    });
    seek.addEventListener('change', () => app.command('seek', { step: Number(seek.value) }));
    on('btn-follow', 'click', () => app.command('follow', { on: true }));
    on('bp-list', 'change', async () => {
      const kinds = [...byId('bp-list').querySelectorAll('input:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value);
      // The server answers with a delta carrying the breakpoints and their marks.
      if (!(await app.command('breakpoints', { kinds }))) this.drawBreakpoints(app.session.state); // refused: as they were
    });
    on('branch', 'change', (e) => app.command('branch', { branch: Number(e.target.value) }));
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
  }

  /** Run to the next event of the kind the select shows. */
  runTo() {
    this.app.command('run_to', { kind: /** @type {HTMLSelectElement} */ (byId('run-kind')).value });
  }

  /** @param {number} [maxSpeed] the server's largest speed: faster ones are disabled */
  limitSpeed(maxSpeed) {
    if (!maxSpeed) return;
    for (const opt of /** @type {HTMLSelectElement} */ (byId('speed')).options) opt.disabled = Number(opt.value) > maxSpeed;
  }

  /**
   * A snapshot: the marks, the breakpoints and the branches as the session has them.
   * @param {import('../lib/state.js').ClientState} state
   */
  reset(state) {
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
  }

  /**
   * A delta: only the answer to `breakpoints` changes the marks' colours here (a mark of
   * a step just added is drawn with the transport, once per frame).
   * @param {import('../lib/state.js').ClientState} state
   */
  delta(state) {
    if (state.breakpoints === this.marksBreakpoints) return;
    this.drawMarks(state);
    this.drawBreakpoints(state);
  }

  /** @param {import('../lib/state.js').ClientState} state */
  update(state) {
    const app = this.app;
    app.chapters.update(state);
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
    // The counter changes every frame of a play: its text node's data is set (a text
    // change), not its children replaced (which rebuilds the layout tree).
    const outEl = byId('step-out');
    const text = outEl.firstChild;
    if (text instanceof Text && !text.nextSibling) {
      if (text.data !== out) text.data = out;
    } else if (outEl.textContent !== out) {
      outEl.textContent = out;
    }
    const playing = app.compare ? app.compare.playing : state.playing;
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
    if (status.dataset.state === 'live' && app.session.conn.role === 'follower') {
      // A follower that stepped on its own no longer follows: the status says so.
      const text = state.following ? 'live · following' : 'live · on your own (not following)';
      if (status.textContent !== text) status.textContent = text;
    }
    if (!state.following) byId('follow-text').textContent = `You are looking around on your own (step ${state.step}); the session moves on without you.`;
  }

  /** @param {import('../lib/state.js').ClientState} state */
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
    const span = (/** @type {import('../lib/protocol.js').Mark} */ m) =>
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
   * @param {import('../lib/state.js').ClientState | null} state
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
}
