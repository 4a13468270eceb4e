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
import { Cadence } from '../lib/cadence.js';
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
 *   onDrawn?: (state: ClientState, behind: boolean) => void,
 *   onSeek?: (step: number) => void,
 *   onOther?: (msg: import('../lib/protocol.js').OtherMessage) => void,
 * }} SessionHandlers
 */

/**
 * Changes that draw every panel anew for another zone, keeping what the map must paint:
 * the map shows every zone already (a whole repaint is ~100 ms at 64 GiB).
 * @param {Changes | null} changes
 * @returns {Changes}
 */
function refocused(changes) {
  if (changes?.full) return changes;
  return { ...fullChanges(), pages: changes?.pages ?? new Map(), pageblocks: changes?.pageblocks ?? new Set(), mapRanges: true };
}

/** How long after the last streaming frame the panels it left behind are drawn. */
const REST_MS = 150;

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
    this.stats = { snapshots: 0, deltas: 0, renderedSeq: 0, renderedStep: -1, lastRenderMs: 0, firstRenderMs: 0, resyncs: 0, collapsed: 0, animated: 0, fullRenders: 0 };
    /** Which panel draws in a frame while steps stream in. */
    this.cadence = new Cadence();
    /** @type {Set<import('../lib/cadence.js').Panel>} panels scrolled out of view */
    this.outOfView = new Set();
    /** @type {IntersectionObserver | null} */
    this.visibility = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.restTimer = null;
    this.listsWidth = 800;
    /** @type {ResizeObserver | null} */
    this.resizeObserver = null;
    /** @type {Delta | null} the newest step the narration has not told yet */
    this.narrationDue = null;
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
    // A panel scrolled out of view waits while steps stream in (it is drawn when the
    // play stops, or when it comes into view).
    this.outOfView.clear();
    this.visibility?.disconnect();
    this.visibility = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const panel = /** @type {import('../lib/cadence.js').Panel} */ (/** @type {HTMLElement} */ (e.target).dataset.panel);
        if (e.isIntersecting) this.outOfView.delete(panel);
        else this.outOfView.add(panel);
      }
    });
    for (const [panel, el] of /** @type {const} */ ([
      ['lists', views.freelists],
      ['narration', views.narration],
      ['log', views.log],
      ['charts', views.charts],
      ['state', views.state?.watermarks],
    ])) {
      if (!el) continue;
      el.dataset.panel = panel;
      this.visibility.observe(el);
    }
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
            this.changes = refocused(this.changes);
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
    this.changes = refocused(this.changes);
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
    // A step taken by hand: the map shows the step's start and follows its animation
    // (below); anything else is drawn at once.
    const mapFollows = plan !== null && before !== null && !plan.collapsed && !state.playing;
    const pages = changes.pages;
    const pageblocks = changes.pageblocks.size > 0;
    const wholeMap = full && !changes.mapRanges;
    if (mapFollows) this.map.flush();
    else if (wholeMap) this.map.setState(state);
    else this.map.update(pages, pageblocks);
    if (waiting.length) this.narrationDue = waiting[waiting.length - 1];
    // While steps stream in faster than anyone can read a panel, the memory map and the
    // counters follow every frame and the panels take turns (lib/cadence.js).  A pause,
    // a jump or a single step draws everything at once.
    // (Following a step into another zone redraws every panel, but in turns all the same.)
    const fast = waiting.length > 1 || (state.playing && state.speed > 8);
    const streaming = (!full || changes.mapRanges === true) && fast;
    const animated = plan !== null && before !== null && !plan.collapsed;
    if (streaming) {
      this.cadence.want(['lists', 'state', 'charts']);
      if (this.narrationDue) this.cadence.want(['narration']);
      if (this.pendingLog.length) this.cadence.want(['log']);
      const turn = this.cadence.next(t0, this.outOfView);
      if (animated && plan) {
        // A step that animates needs its lists drawn now (the animation runs from them),
        // and its narration, lit line by line as the animation goes.
        this.drawPanel('lists', zone, t0, true);
        this.drawNarration(false, plan.beats);
      } else if (turn) {
        this.drawPanel(turn, zone, t0, true);
      }
      this.drawRestLater();
    } else {
      if (this.narrationDue || full) this.drawNarration(full, animated && plan ? plan.beats : []);
      for (const panel of /** @type {const} */ (['lists', 'state', 'log', 'charts'])) this.drawPanel(panel, zone, t0, false);
    }
    if (plan && before && !plan.collapsed) {
      const clock = this.animator.play(plan, before, mapFollows);
      if (clock) {
        this.map.hold(
          mapArrivals(animate ? waiting[0].events : undone ?? [], plan),
          state.zoneByName,
          clock,
          wholeMap ? () => this.map.setState(state) : () => this.map.update(pages, pageblocks),
        );
      }
      this.stats.animated += 1;
    } else if (waiting.length) {
      this.stats.collapsed += 1;
    }
    this.waiting = [];
    this.changes = null;
    const t1 = performance.now();
    this.costs.render += t1 - t0;
    this.stats.lastRenderMs = t1 - t0;
    if (full) this.stats.firstRenderMs = t1 - this.arrivedAt;
    // A snapshot drawn whole (not the view following a step into another zone).
    if (wholeMap) this.stats.fullRenders += 1;
    this.latencies.push(t1 - this.arrivedAt);
    if (this.latencies.length > 2000) this.latencies.splice(0, 1000);
    this.stats.renderedSeq = state.seq;
    this.stats.renderedStep = state.step;
    // `behind`: a panel (the narration, say) still shows an earlier step.
    this.handlers.onDrawn?.(state, this.cadence.pending);
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
    return this.frameRequested || this.cadence.pending || this.narrationDue !== null || this.waiting.length > 0 || this.pendingLog.length > 0;
  }

  /**
   * Draw one panel with the state as it is now.
   * @param {import('../lib/cadence.js').Panel} panel
   * @param {import('../lib/state.js').ZoneModel} zone the zone the lists show
   * @param {number} now
   * @param {boolean} streaming the log takes only the newest of a stream's steps
   */
  drawPanel(panel, zone, now, streaming) {
    const state = /** @type {ClientState} */ (this.state);
    this.cadence.done(panel, now);
    switch (panel) {
      case 'lists':
        this.drawLists(state, zone);
        // The map marks the zone the lists show (and scrolls it into view: a layout read).
        this.map.follow(zone.name);
        this.highlights.apply();
        break;
      case 'state':
        if (this.views.state) drawStatePanel(this.views.state, state, zone.name);
        break;
      case 'narration':
        this.drawNarration(false, [], !streaming);
        break;
      case 'log':
        if (this.log) {
          const logged = this.pendingLog.slice(streaming ? -25 : -60);
          this.pendingLog = [];
          for (const d of logged) this.log.addStep(d.step, d.clock, d.events, d.events_dropped ?? 0, false);
          this.log.markCurrent(state.step);
        }
        break;
      case 'charts':
        this.charts?.draw();
        break;
      default:
        break;
    }
  }

  /**
   * The narration: the newest step's events, as going forward showed them.
   * @param {boolean} full a snapshot (a seek, back, a chapter) or a redraw
   * @param {Array<{index: number, delay: number}>} beats the animation's, to light each line
   * @param {boolean} [scroll] bring the event that carries the point into view (not in a
   *   fast play's turn: it reads the layout, and nobody reads a line that lasts 250 ms)
   */
  drawNarration(full, beats, scroll = true) {
    const state = /** @type {ClientState} */ (this.state);
    const due = this.narrationDue;
    this.narrationDue = null;
    this.cadence.done('narration', performance.now());
    if (!this.log) return;
    if (due) {
      this.log.narrate(due.step, due.events, '', beats, scroll);
    } else if (full && state.events.length) {
      this.log.narrate(state.step, state.events, '');
    } else if (full) {
      const note = openingNote(/** @type {any} */ (state.config));
      this.log.narrate(state.step, [], `${reasonText(this.snapshotReason)} step ${state.step}${note ? ` · ${note}` : ''}`);
    }
  }

  /**
   * What streaming left due is drawn once steps stop coming without a play (a burst of
   * steps, a seek's catch-up): each frame that streams puts this off again.  A play that
   * stops says so (a state with `playing` false), and that frame draws everything; while
   * it plays, the panels keep their turns however slowly the frames come.
   */
  drawRestLater() {
    if (this.restTimer) clearTimeout(this.restTimer);
    this.restTimer = setTimeout(() => {
      this.restTimer = null;
      if (!this.state || this.state.playing) return;
      const zone = this.state.zoneByName.get(this.selectedZone) ?? this.state.zones[0];
      const now = performance.now();
      if (this.narrationDue) this.drawNarration(false, []);
      for (const panel of [...this.cadence.due]) this.drawPanel(panel, zone, now, false);
      this.handlers.onDrawn?.(this.state, false);
    }, REST_MS);
  }

  /**
   * The free lists and the zone table of the selected zone.
   * @param {ClientState} state
   * @param {import('../lib/state.js').ZoneModel} zone
   */
  drawLists(state, zone) {
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
