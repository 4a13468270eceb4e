// @ts-check
/**
 * "Save as scenario" (in the share dialog): downloads the session's current branch as
 * a scenario file from `GET /api/sessions/{id}/scenario`, the file format that
 * `buddyscope simulate --workload FILE` and `POST /api/sessions/from-workload` load.
 */
import { exportNotes, refusalText, scenarioFileName, unsavableReason } from '../lib/scenariofile.js';
import { h } from './dom.js';

export class SaveScenario {
  /**
   * @param {HTMLButtonElement} button
   * @param {HTMLElement} out where the outcome is said
   * @param {() => import('../lib/state.js').ClientState | null} getState
   */
  constructor(button, out, getState) {
    this.button = button;
    this.out = out;
    this.getState = getState;
    /** The last download's object URL (revoked at the next one). */
    this.url = '';
    /** What the last save did (for tests). */
    /** @type {{file: string, notes: string[]} | {error: string} | null} */
    this.last = null;
    button.addEventListener('click', () => this.save());
  }

  /** Enable the button when the session has a file form (when the dialog opens). */
  refresh() {
    const state = this.getState();
    const why = state ? unsavableReason(state) : 'not connected';
    this.button.disabled = why !== null;
    this.out.textContent = why ?? '';
  }

  async save() {
    const state = this.getState();
    if (!state) return;
    const why = unsavableReason(state);
    if (why) {
      this.say({ error: why });
      return;
    }
    const file = scenarioFileName(state.config.scenario, state.timelineLength);
    this.button.disabled = true;
    this.out.textContent = 'preparing the file…';
    try {
      const res = await fetch(`/api/sessions/${encodeURIComponent(state.session)}/scenario`, { headers: { accept: 'application/json' } });
      const text = await res.text();
      if (!res.ok) {
        this.say({ error: `Not saved: ${refusalText(res.status, text)}.` });
        return;
      }
      if (this.url) URL.revokeObjectURL(this.url);
      this.url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      const link = h('a', { href: this.url, download: file, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      this.say({ file, notes: exportNotes(res.headers.get('x-buddyscope-notes')) });
    } catch (e) {
      this.say({ error: `Not saved: the server could not be reached (${/** @type {Error} */ (e).message}).` });
    } finally {
      this.button.disabled = false;
    }
  }

  /** @param {{file: string, notes: string[]} | {error: string}} outcome */
  say(outcome) {
    this.last = outcome;
    if ('error' in outcome) {
      this.out.textContent = outcome.error;
      return;
    }
    const extra = outcome.notes.length ? ` It adds a step where the format needs one: ${outcome.notes.join('; ')}.` : '';
    this.out.textContent = `Saved ${outcome.file}.${extra}`;
  }
}
