// @ts-check
/**
 * One session on screen: its connection, its client state, and the views that draw it.
 * Messages update the state at once; drawing happens once per animation frame.  A
 * single new step is animated; when several steps wait, or one arrives while the
 * previous is still moving, the view jumps to the latest state.  What the hover, the
 * inspector's block and the event picked in the narration outline: views/highlights.js.
 */
import { actionZone, defaultZone } from '../lib/actionzone.js';
import { planAnimation, shouldCollapse } from '../lib/animate.js';
import { mapArrivals } from '../lib/mapbeats.js';
import { namedPfns, openingNote } from '../lib/narrate.js';
import { reversedEvents } from '../lib/reverse.js';
import { sampleOf, Series } from '../lib/series.js';
import { applyDelta, followsDirectly, fullChanges, mergeChanges, stateFromSnapshot } from '../lib/state.js';
import { Animator } from './animator.js';
import { Charts } from './charts.js';
import { Connection } from './connection.js';
import { prefersReducedMotion } from './dom.js';
import { drawBuddyinfo, drawFreeLists, keepHostLaneInView } from './freelists.js';
import { Highlights } from './highlights.js';
import { PageQuery } from './inspector.js';
import { drawPcpLane } from './pcplane.js';
import { LogView } from './log.js';
import { MemoryMapView } from './memmapview.js';
import { drawStatePanel } from './statepanel.js';

/**
 * @typedef {import('../lib/state.js').ClientState} ClientState
 * @typedef {{zone: string, pfn: number, order: number,
 *            placed?: import('../lib/layout.js').PlacedBlock & {at: string}}} Selection
 *   The inspected block; `placed`: where the model put it in its list at the step `at`
 *   (PageQuery.stepOf) when the server did not send it (the middle of a long list).
 * @typedef {import('../lib/state.js').Changes} Changes
 * @typedef {import('../lib/protocol.js').Delta} Delta
 * @typedef {{
 *   freelists: HTMLElement, buddyinfo?: HTMLElement | null, pcp?: HTMLElement | null,
 *   memmap: HTMLElement,
 *   narration?: HTMLElement | null, log?: HTMLElement | null, charts?: HTMLElement | null,
 *   hover?: HTMLElement | null, ghosts: HTMLElement,
 *   state?: {strategy: HTMLElement, constants: HTMLElement, watermarks: HTMLElement,
 *            host: HTMLElement, frames: HTMLElement, clock: HTMLElement} | null,
 * }} SessionViews
 * @typedef {{
 *   onHello?: (hello: import('../lib/protocol.js').Hello) => void,
 *   onState?: (state: ClientState, reason: string) => void,
 *   onError?: (code: string, message: string) => void,
 *   onStatus?: (state: string, text: string) => void,
 *   onSessionLost?: (old: string) => void,
 *   onFatal?: (text: string) => void,
 *   onPick?: (zone: string, pfn: number, order?: number) => void,
 *   onDrawn?: (state: ClientState) => void,
 *   onSeek?: (step: number) => void,
 *   onOther?: (msg: import('../lib/protocol.js').OtherMessage) => void,
 * }} SessionHandlers
 */

export class Session {
  /**
   * @param {import('../lib/urlstate.js').UrlState} join an existing session, or a new one's configuration (urlstate.joinFor)
   * @param {SessionViews} views
   * @param {SessionHandlers} handlers
   */
  constructor(join, views, handlers) {
    this.views = views;
    this.handlers = handlers;
    /** @type {ClientState | null} */
    this.state = null;
    /** @type {import('../lib/protocol.js').Hello | null} */
    this.hello = null;
    /** Deltas applied to the state but not drawn yet. */
    /** @type {Delta[]} */
    this.waiting = [];
    /** @type {Changes | null} */
    this.changes = null;
    this.snapshotReason = '';
    this.resyncing = false;
    this.frameRequested = false;
    this.selectedZone = '';
    /** @type {import('../lib/protocol.js').ModelEvent[] | null} a step left by going back, its events undone (render animates them) */
    this.undone = null;
    this.userPickedZone = false;
    /** Slow-motion factor of a step taken by hand (lib/animate.js SLOW_MOTION). */
    this.slow = 1;
    /** Blocks seen allocated by events in this view, per zone (pfn -> order). */
    /** @type {Map<string, Map<number, number>>} */
    this.allocations = new Map();
    /** @type {Selection | null} the block the inspector is open on */
    this.selected = null;
    /** What the hover, the selection and the event picked in the narration outline. */
    this.highlights = new Highlights(this);
    this.series = new Series(['free', 'min', 'low', 'high', 'resident', 'discarded', 'reported', 'refaults', 'hinted', 'isolated', 'clock']);
    this.stats = { snapshots: 0, deltas: 0, renderedSeq: 0, renderedStep: -1, lastRenderMs: 0, firstRenderMs: 0, resyncs: 0, collapsed: 0, animated: 0 };
    this.lastNarration = 0;
    this.lastSecondary = 0;
    this.secondaryDue = false;
    this.lastLists = 0;
    this.listsDue = false;
    this.lastLog = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.secondaryTimer = null;
    this.listsWidth = 800;
    /** @type {ResizeObserver | null} */
    this.resizeObserver = null;
    /** @type {Delta | null} */
    this.narrationDue = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.narrationTimer = null;
    /** @type {Array<{step: number, resolve: (t: number) => void}>} */
    this.renderWaiters = [];
    /** Deltas whose log entries are not drawn yet. */
    /** @type {Delta[]} */
    this.pendingLog = [];
    /** Milliseconds spent handling messages and drawing (for the benchmark). */
    this.costs = { messages: 0, render: 0 };
    /** Arrival time of the message whose state is waiting to be drawn. */
    this.arrivedAt = 0;
    /** @type {number[]} ms from a message's arrival to its state on screen */
    this.latencies = [];
    this.conn = new Connection(join, {
      onMessage: (msg) => this.onMessage(msg),
      onStatus: (s, text) => handlers.onStatus?.(s, text),
      onSessionLost: (old) => handlers.onSessionLost?.(old),
      onFatal: (text) => handlers.onFatal?.(text),
    });
    /** @type {Animator} */
    this.animator = /** @type {any} */ (null);
    /** @type {MemoryMapView} */
    this.map = /** @type {any} */ (null);
    /** @type {LogView | null} */
    this.log = null;
    /** @type {Charts | null} */
    this.charts = null;
    this.attach(views);
  }

  /**
   * Draw into another set of elements (the comparison view borrows the session).
   * @param {SessionViews} views
   */
  attach(views) {
    this.animator?.finish();
    this.views = views;
    this.listsWidth = views.freelists.clientWidth || 800;
    this.resizeObserver?.disconnect();
    this.resizeObserver = new ResizeObserver((entries) => {
      const w = Math.round(entries[0].contentRect.width);
      if (Math.abs(w - this.listsWidth) > 8) {
        this.listsWidth = w;
        if (this.state) {
          this.changes = this.changes ?? { ...fullChanges(), full: false, hinting: false, host: false };
          this.requestFrame();
        }
      }
    });
    this.resizeObserver.observe(views.freelists);
    const handlers = this.handlers;
    this.animator = new Animator(views.freelists, views.ghosts, views.buddyinfo ?? null);
    this.map = new MemoryMapView(views.memmap, {
      onHover: (zone, pfn) => this.highlights.setHover(zone, pfn),
      onPick: (zone, pfn) => handlers.onPick?.(zone, pfn),
    });
    this.log = views.narration && views.log ? new LogView(views.narration, views.log, (step) => handlers.onSeek?.(step)) : null;
    if (views.charts) {
      if (!this.charts || this.charts.root !== views.charts) this.charts = new Charts(views.charts, this.series);
    } else {
      this.charts = null;
    }
    if (!views.freelists.dataset.wired) {
      views.freelists.dataset.wired = '1';
      views.freelists.addEventListener('mouseover', (e) => {
        const chip = /** @type {HTMLElement} */ (e.target).closest('.chip');
        if (chip instanceof HTMLElement && this.state && this.views.freelists === views.freelists) {
          this.highlights.setHover(this.selectedZone, Number(chip.dataset.pfn), Number(chip.dataset.order));
        }
      });
      views.freelists.addEventListener('mouseleave', () => this.highlights.setHover(null, null));
      views.freelists.addEventListener('focusin', (e) => {
        const chip = /** @type {HTMLElement} */ (e.target).closest('.chip');
        if (chip instanceof HTMLElement) this.highlights.setHover(this.selectedZone, Number(chip.dataset.pfn), Number(chip.dataset.order));
      });
      views.freelists.addEventListener('click', (e) => {
        const chip = /** @type {HTMLElement} */ (e.target).closest('.chip');
        if (chip instanceof HTMLElement) handlers.onPick?.(this.selectedZone, Number(chip.dataset.pfn), Number(chip.dataset.order));
      });
    }
    if (this.state) {
      this.changes = fullChanges();
      this.requestFrame();
    }
  }

  start() {
    this.conn.connect();
  }

  /**
   * Send a command (see Connection.send).
   * @param {string} type
   * @param {Record<string, unknown>} [fields]
   */
  send(type, fields = {}) {
    return this.conn.send(type, fields);
  }

  /** @param {import('../lib/protocol.js').ServerMessage} msg */
  onMessage(msg) {
    // From the frame's arrival (before JSON decoding), so latencies include decoding.
    const now = this.conn.lastArrival || performance.now();
    try {
      this.handle(msg, now);
    } finally {
      this.costs.messages += performance.now() - now;
    }
  }

  /**
   * @param {import('../lib/protocol.js').ServerMessage} msg
   * @param {number} now
   */
  handle(msg, now) {
    switch (msg.type) {
      case 'hello':
        this.hello = msg;
        this.handlers.onHello?.(msg);
        break;
      case 'snapshot': {
        const state = stateFromSnapshot(msg);
        const sameSession = this.state && this.state.session === state.session;
        // One step back: the step left animates in reverse (render), as forward did.
        const left = this.state;
        this.undone =
          msg.reason === 'seek' && left && sameSession && left.branch === state.branch && state.step === left.step - 1 && left.events.length
            ? reversedEvents(left.events)
            : null;
        this.state = state;
        this.resyncing = false;
        this.waiting = [];
        this.changes = fullChanges();
        this.snapshotReason = msg.reason ?? 'request';
        this.stats.snapshots += 1;
        this.pendingLog = [];
        if (!sameSession) {
          this.series.clear();
          this.log?.clear();
          this.allocations.clear();
        }
        if (!this.userPickedZone || !state.zoneByName.has(this.selectedZone)) {
          this.selectedZone = actionZone(state.events, state.zoneByName) ?? defaultZone(state);
        }
        this.series.push(state.step, sampleOf(state));
        this.arrivedAt = now;
        this.requestFrame();
        this.handlers.onState?.(state, this.snapshotReason);
        break;
      }
      case 'delta': {
        const state = this.state;
        if (!state || this.resyncing) break;
        if (!followsDirectly(state, msg)) {
          this.resync();
          break;
        }
        let changes;
        try {
          changes = applyDelta(state, msg);
        } catch (e) {
          this.resync();
          break;
        }
        this.stats.deltas += 1;
        this.changes = this.changes ? mergeChanges(this.changes, changes) : changes;
        if (changes.step) {
          // The lists and the map follow the zone the step happened in, unless pinned.
          const zone = this.userPickedZone ? null : actionZone(msg.events, state.zoneByName);
          if (zone && zone !== this.selectedZone) {
            this.selectedZone = zone;
            this.changes = fullChanges();
          }
          this.waiting.push(msg);
          this.noteAllocations(msg.events);
          this.series.push(state.step, sampleOf(state));
          // A session drawn without a log (the right-hand side of the comparison)
          // keeps no backlog: nothing would ever drain it.
          if (this.log) this.pendingLog.push(msg);
          if (this.pendingLog.length > 400) this.pendingLog.splice(0, this.pendingLog.length - 300);
          if (this.waiting.length === 1) this.arrivedAt = now;
        }
        this.requestFrame();
        this.handlers.onState?.(state, 'delta');
        break;
      }
      case 'error':
        this.handlers.onError?.(msg.code, msg.message);
        break;
      case 'other':
        this.handlers.onOther?.(msg);
        break;
      default:
        break;
    }
  }

  resync() {
    this.resyncing = true;
    this.stats.resyncs += 1;
    this.send('get_snapshot').catch(() => {});
  }

  /** @param {import('../lib/protocol.js').ModelEvent[]} events */
  noteAllocations(events) {
    for (const e of events) {
      if (e.kind !== 'alloc' && e.kind !== 'free') continue;
      let m = this.allocations.get(e.zone);
      if (!m) {
        m = new Map();
        this.allocations.set(e.zone, m);
      }
      if (e.kind === 'alloc') m.set(e.pfn, e.order);
      else m.delete(e.pfn);
      if (m.size > 20000) m.delete(/** @type {number} */ (m.keys().next().value));
    }
  }

  requestFrame() {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.render();
    });
  }

  /** Select the zone the free lists show. @param {string} zone */
  selectZone(zone) {
    if (!this.state || !this.state.zoneByName.has(zone)) return;
    this.selectedZone = zone;
    this.userPickedZone = true;
    this.changes = fullChanges();
    this.requestFrame();
  }

  render() {
    const state = this.state;
    const changes = this.changes;
    if (!state || !changes) return;
    const t0 = performance.now();
    const full = changes.full;
    const waiting = this.waiting;
    const single = waiting.length === 1 && !full;
    const animate = single && !shouldCollapse(waiting.length, this.animator.busy, state.playing);
    let plan = null;
    let before = null;
    const undone = this.undone;
    this.undone = null;
    if (animate || undone) {
      // A step taken by hand (forward, or back: the step left, in reverse) is paced for
      // the eye; one of a play by the play's speed.
      plan = planAnimation(animate ? waiting[0].events : undone ?? [], {
        speed: state.speed,
        manual: !state.playing,
        slow: this.slow,
        reducedMotion: prefersReducedMotion(),
      });
      // The last step, still moving, lands first: what is captured is where it ends.
      if (this.animator.busy) this.animator.finish();
      if (!plan.collapsed) before = this.animator.capture();
    } else if (waiting.length || full) {
      // A jump: what still moves lands at once.  (A redraw for a new width or a
      // selection leaves a step's animation running.)
      this.animator.finish();
    }
    const zone = state.zoneByName.get(this.selectedZone) ?? state.zones[0];
    // While steps stream in faster than anyone can read a list, the lists (DOM, costly
    // to lay out and paint) follow ~20 times a second; the memory map and the counters
    // every frame.  A pause, a jump or a single step draws everything at once.
    const streaming = !full && (waiting.length > 1 || (state.playing && state.speed > 8));
    if (!streaming || animate || t0 - this.lastLists >= 50) {
      this.drawLists(state, zone);
      this.lastLists = t0;
    } else {
      this.listsDue = true;
      this.scheduleSecondary();
    }
    // A step taken by hand: the map shows the step's start and follows its animation
    // (below); anything else is drawn at once.
    const mapFollows = plan !== null && before !== null && !plan.collapsed && !state.playing;
    const pages = changes.pages;
    const pageblocks = changes.pageblocks.size > 0;
    if (mapFollows) this.map.flush();
    else if (full) this.map.setState(state);
    else this.map.update(pages, pageblocks);
    this.map.follow(zone.name);
    // Secondary panels follow at most ~10 times a second while steps stream in.
    if (!streaming || t0 - this.lastSecondary >= 100) {
      if (this.views.state) drawStatePanel(this.views.state, state, zone.name);
      this.lastSecondary = t0;
      this.secondaryDue = false;
    } else {
      this.secondaryDue = true;
      this.scheduleSecondary();
    }
    if (plan && before && !plan.collapsed) {
      const clock = this.animator.play(plan, before, mapFollows);
      if (clock) {
        this.map.hold(
          mapArrivals(animate ? waiting[0].events : undone ?? [], plan),
          state.zoneByName,
          clock,
          full ? () => this.map.setState(state) : () => this.map.update(pages, pageblocks),
        );
      }
      this.stats.animated += 1;
    } else if (waiting.length) {
      this.stats.collapsed += 1;
    }
    if (this.log) {
      // The log takes the steps in batches ~10 times a second while they stream in.
      if (!streaming || t0 - this.lastLog >= 100) {
        const logged = this.pendingLog.slice(streaming ? -25 : -60);
        this.pendingLog = [];
        this.lastLog = t0;
        for (const d of logged) this.log.addStep(d.step, d.clock, d.events, d.events_dropped ?? 0, false);
      } else {
        this.scheduleSecondary();
      }
      const animated = plan !== null && !plan.collapsed && waiting.length === 1;
      const fast = waiting.length > 1 || (state.playing && state.speed > 8);
      if (waiting.length && (animated || !fast || t0 - this.lastNarration > 120)) {
        // While steps stream in faster than anyone can read, the sentence changes at
        // most ~8 times a second.
        const last = waiting[waiting.length - 1];
        this.log.narrate(last.step, last.events, '', animated && plan ? plan.beats : []);
        this.lastNarration = t0;
      } else if (waiting.length) {
        const last = waiting[waiting.length - 1];
        this.narrationDue = last;
        if (!this.narrationTimer) {
          this.narrationTimer = setTimeout(() => {
            this.narrationTimer = null;
            const d = this.narrationDue;
            this.narrationDue = null;
            if (d && this.log && this.state && this.state.step === d.step) {
              this.log.narrate(d.step, d.events, '');
              this.lastNarration = performance.now();
            }
          }, 130);
        }
      } else if (full && state.events.length) {
        // A seek, back or a chapter: what this step did, as going forward showed it.
        this.log.narrate(state.step, state.events, '');
      } else if (full) {
        const note = openingNote(/** @type {any} */ (state.config));
        this.log.narrate(state.step, [], `${reasonText(this.snapshotReason)} step ${state.step}${note ? ` · ${note}` : ''}`);
      }
      this.log.markCurrent(state.step);
    }
    this.charts?.update();
    this.highlights.apply();
    this.waiting = [];
    this.changes = null;
    const t1 = performance.now();
    this.costs.render += t1 - t0;
    this.stats.lastRenderMs = t1 - t0;
    if (full) this.stats.firstRenderMs = t1 - this.arrivedAt;
    this.latencies.push(t1 - this.arrivedAt);
    if (this.latencies.length > 2000) this.latencies.splice(0, 1000);
    this.stats.renderedSeq = state.seq;
    this.stats.renderedStep = state.step;
    this.handlers.onDrawn?.(state);
    if (this.renderWaiters.length) {
      const due = this.renderWaiters.filter((w) => state.step >= w.step);
      this.renderWaiters = this.renderWaiters.filter((w) => state.step < w.step);
      // The frame that shows this drawing is presented before the next callback.
      if (due.length) requestAnimationFrame((t) => due.forEach((w) => w.resolve(t)));
    }
  }

  /**
   * Resolves (with a rAF timestamp) when a drawing showing `step` or later is on screen.
   * @param {number} step
   * @returns {Promise<number>}
   */
  whenDrawn(step) {
    return new Promise((resolve) => this.renderWaiters.push({ step, resolve }));
  }

  /** Whether something is still to be drawn (tests wait for this to be false). */
  get drawPending() {
    return (
      this.frameRequested ||
      this.secondaryDue ||
      this.listsDue ||
      this.narrationDue !== null ||
      this.waiting.length > 0 ||
      this.pendingLog.length > 0
    );
  }

  /**
   * The free lists and the zone table of the selected zone.
   * @param {ClientState} state
   * @param {import('../lib/state.js').ZoneModel} zone
   */
  drawLists(state, zone) {
    this.listsDue = false;
    const sel = this.selected?.zone === zone.name ? this.selected : null;
    drawFreeLists(this.views.freelists, state, zone, {
      // The inspected block and the blocks the chapter text names, drawn as chips.
      focusPfns: [...(sel ? [sel.pfn] : []), ...namedPfns(state.events, openingNote(/** @type {any} */ (state.config)))],
      placed: sel?.placed && sel.placed.at === PageQuery.stepOf(state) ? [sel.placed] : [],
      // Each lane is fitted to this width (from a ResizeObserver: reading it here
      // would force a layout), as many blocks per end as fit on one line.
      width: this.listsWidth,
    });
    // While playing the lists stay where the user scrolled them (and no layout is read).
    if (!state.playing) keepHostLaneInView(this.views.freelists);
    if (this.views.pcp) drawPcpLane(this.views.pcp, state, zone);
    if (this.views.buddyinfo) {
      this.views.buddyinfo.hidden = state.zones.length < 2;
      if (state.zones.length > 1) drawBuddyinfo(this.views.buddyinfo, state, zone.name, (z) => this.selectZone(z));
    }
  }

  /** Draw what was skipped while streaming, a little later. */
  scheduleSecondary() {
    if (this.secondaryTimer) return;
    this.secondaryTimer = setTimeout(() => {
      this.secondaryTimer = null;
      if (!this.state) return;
      const zone = this.state.zoneByName.get(this.selectedZone) ?? this.state.zones[0];
      if (this.listsDue) {
        this.drawLists(this.state, zone);
        this.lastLists = performance.now();
        this.highlights.apply();
      }
      if (this.pendingLog.length && this.log) {
        const logged = this.pendingLog.slice(-25);
        this.pendingLog = [];
        for (const d of logged) this.log.addStep(d.step, d.clock, d.events, d.events_dropped ?? 0, false);
        this.log.markCurrent(this.state.step);
      }
      if (this.secondaryDue) {
        this.secondaryDue = false;
        this.lastSecondary = performance.now();
        if (this.views.state) drawStatePanel(this.views.state, this.state, zone.name);
      }
    }, 60);
  }

  /**
   * Select a block (the inspector is open on it).
   * @param {Selection | null} sel
   */
  setSelected(sel) {
    this.selected = sel;
    this.changes = this.changes ?? { ...fullChanges(), full: false, hinting: false, host: false };
    this.requestFrame();
  }
}

/** @param {string} reason */
function reasonText(reason) {
  switch (reason) {
    case 'connect':
      return 'opened at';
    case 'seek':
      return 'jumped to';
    case 'resync':
      return 'caught up at';
    case 'configure':
      return 'reconfigured at';
    case 'reset':
      return 'started again at';
    case 'branch':
      return 'switched branch at';
    case 'follow':
      return 'following the session at';
    default:
      return 'at';
  }
}
