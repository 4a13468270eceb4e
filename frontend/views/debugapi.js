// @ts-check
/**
 * `window.__buddyscope`: what tests and the benchmark read of the page.  They wait on
 * its counters (seq, renderedStep, animating, ...) instead of sleeping.
 */
import { formatPfn } from '../lib/layout.js';

/**
 * The page's state for tests and the benchmark (read-only by convention).
 * @param {import('../app.js').App} app
 */
export function debugApi(app) {
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
      return state ? app.reopener.firstOwnStep(state) : null;
    },
    get saved() { return app.saved.debug(); },
    /** Send a command; resolves {ack} or {error: code, message}. */
    send(/** @type {string} */ type, /** @type {Record<string, unknown>} */ fields = {}) {
      return s().send(type, fields).then(
        (ack) => ({ ack }),
        (e) => ({ error: e.code ?? 'error', message: e.message }),
      );
    },
    /** Whether the map still shows part of a step taken by hand's start (views/memmapview.js hold). */
    /** How many times the memory map was painted whole (a snapshot, a new session). */
    get mapWholePaints() { return s().map.wholePaints; },
    get mapHolding() { return s().map.holding; },
    /** The time into that step the map shows (ms; -1 when it holds none). */
    get mapHeldAt() { return s().map.heldAt; },
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
