// @ts-check
/**
 * The share dialog: the link to this state (scenario parameters, or a saved session's
 * name, or none and why), the link that follows this session, a warning when operations
 * done by hand are not in the state link, "save as scenario" and the saved sessions.
 */
import { ownOperationsWarning, stateLinkKind } from '../lib/saved.js';
import { formatUrlState, shareState } from '../lib/urlstate.js';
import { byId } from './dom.js';
import { ask } from './saved.js';

/**
 * What the dialog needs of the page.
 * @typedef {object} ShareApp
 * @property {import('./session.js').Session} session
 * @property {import('./saved.js').SavedPanel} saved
 * @property {import('./savescenario.js').SaveScenario} saveScenario
 * @property {boolean} presenter
 */

export class ShareDialog {
  /** @param {ShareApp} app */
  constructor(app) {
    this.app = app;
    /** Questions asked about operations done by hand (the last one counts). */
    this.ownAsked = 0;
    byId('btn-share').addEventListener('click', () => this.open());
    byId('btn-own-session').addEventListener('click', () => location.assign(`${location.pathname}${formatUrlState({ presenter: app.presenter })}`));
    byId('btn-share-save').addEventListener('click', () => byId('save-name').focus());
    for (const btn of document.querySelectorAll('[data-copy]')) {
      btn.addEventListener('click', () => {
        const input = /** @type {HTMLInputElement} */ (byId(/** @type {HTMLElement} */ (btn).dataset.copy ?? ''));
        input.select();
        navigator.clipboard?.writeText(input.value).catch(() => {});
      });
    }
  }

  open() {
    if (!this.app.session.state) return;
    this.refreshLink();
    this.app.saveScenario.refresh();
    this.app.saved.refresh();
    /** @type {HTMLDialogElement} */ (byId('share')).showModal();
  }

  /**
   * The dialog's links: "this state" as scenario parameters, as the saved name of a
   * loaded session, or none (a loaded session no address can describe) and why.
   */
  refreshLink() {
    const state = this.app.session.state;
    if (!state) return;
    const base = `${location.origin}${location.pathname}`;
    const savedName = this.app.saved.nameOf(state.session);
    const link = stateLinkKind(state, savedName);
    byId('share-state-text').textContent = link.text;
    byId('share-state-row').hidden = link.kind === 'none';
    const address = link.kind === 'saved' ? { saved: savedName ?? undefined, step: state.step } : shareState(state);
    /** @type {HTMLInputElement} */ (byId('share-state')).value = link.kind === 'none' ? '' : base + formatUrlState(address);
    /** @type {HTMLInputElement} */ (byId('share-follow')).value = `${base}?session=${encodeURIComponent(state.session)}${this.app.presenter ? '&presenter=1' : ''}`;
    this.checkOwnOperations(link.kind === 'scenario' ? state : null);
  }

  /**
   * Under a scenario's "this state" link, say so when the session has operations done
   * by hand up to this step (no address carries them; GET /api/sessions/{id} tells).
   * @param {import('../lib/state.js').ClientState | null} state
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
}
