// @ts-check
/**
 * Which panel to redraw in this animation frame while steps stream in (a fast play).
 * Pure logic, no DOM; `views/session.js` draws what it says.
 *
 * The memory map, the step counter and the seek bar follow every frame.  The panels
 * built of many elements (the free lists, the state panel, the log, the narration, the
 * charts) cost Chromium a style recalculation, a layout and a paint of their boxes each
 * time they are rebuilt: drawn all in one frame, that frame misses the vsync, however
 * rarely it happens.  So while streaming they take turns: at most one of them in a
 * frame, each no more often than its period (nobody reads a list that changes 200 times
 * a second; five times a second still shows it moving), the one most overdue first,
 * and a panel scrolled out of view not at all.  When the play stops, everything still
 * due is drawn at once.
 */

/** Milliseconds between two redraws of each panel while steps stream in. */
export const STREAM_PERIODS = Object.freeze({
  lists: 250,
  narration: 250,
  state: 250,
  log: 300,
  charts: 500,
});

/** @typedef {keyof typeof STREAM_PERIODS} Panel */

export class Cadence {
  /** @param {Readonly<Record<Panel, number>>} [periods] */
  constructor(periods = STREAM_PERIODS) {
    this.periods = periods;
    /** @type {Map<Panel, number>} when each panel was last drawn */
    this.drawn = new Map();
    /** @type {Set<Panel>} panels whose state changed since they were drawn */
    this.due = new Set();
  }

  /**
   * These panels have something new to show.
   * @param {Iterable<Panel>} panels
   */
  want(panels) {
    for (const p of panels) this.due.add(p);
  }

  /**
   * The one panel to draw in the frame at `now` while streaming: of the due panels whose
   * period has passed, the one that has waited longest past it; null when none may.
   * Panels out of view wait (they stay due).
   * @param {number} now
   * @param {ReadonlySet<Panel>} [outOfView]
   * @returns {Panel | null}
   */
  next(now, outOfView = new Set()) {
    /** @type {Panel | null} */
    let best = null;
    let late = -Infinity;
    for (const p of this.due) {
      if (outOfView.has(p)) continue;
      const over = now - (this.drawn.get(p) ?? -Infinity) - this.periods[p];
      if (over >= 0 && over > late) {
        best = p;
        late = over;
      }
    }
    return best;
  }

  /**
   * A panel was drawn (by its turn, or because the play stopped).
   * @param {Panel} panel
   * @param {number} now
   */
  done(panel, now) {
    this.due.delete(panel);
    this.drawn.set(panel, now);
  }

  /** Whether anything waits to be drawn. */
  get pending() {
    return this.due.size > 0;
  }
}
