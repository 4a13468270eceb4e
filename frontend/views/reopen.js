// @ts-check
/**
 * When the server loses the page's session (it restarted): what the page opens instead
 * (lib/saved.js `reopenAfterLoss`: the saved copy, the scenario's /ws query, or the
 * default), under the old id when the page holds its token so that its followers find
 * it again, and what it says about it; a follower waits for its session (the waiting
 * box).  What the page knows for that is kept: the session as it was when the tab went
 * (a reload after the restart reopens it as the lost tab would have) and the first step
 * of its branch done by hand (a scenario's address does not replay those).
 */
import { decodeLast, lastState, reopenAfterLoss, waitingText } from '../lib/saved.js';
import { formatUrlState, heldToken, joinFor, keep, lastKey, reopenJoin, shareState } from '../lib/urlstate.js';
import { tabStore } from './connection.js';
import { byId } from './dom.js';
import { ask, openSaved } from './saved.js';

export class Reopener {
  /** @param {import('../app.js').App} app */
  constructor(app) {
    this.app = app;
    /** How the page replaces a session the server lost (rejoinFor), said once it is open. */
    /** @type {import('../lib/saved.js').Reopen | null} */
    this.plan = null;
    /** The first step of the session's branch done by hand, as the server last said (learnOwnSteps). */
    this.own = { key: '', first: /** @type {number | null} */ (null) };
    this.ownLearnt = 0;
    const handlers = app.session.conn.handlers;
    // The connection asks what to open when its session is gone (kept when loadpanel.js
    // switches sessions: the new connection takes the same handlers).
    handlers.rejoin = (old, refused) => this.rejoinFor(old, refused);
    // A follower whose session is gone waits for it (connection.js).
    handlers.onWaiting = (waiting) => this.onWaiting(waiting);
    // What the session was when the tab goes (a reload): after a server restart the
    // reloaded tab reopens it as the lost tab would have (rejoinFor).
    addEventListener('pagehide', () => {
      const s = app.session.state;
      if (s && app.session.conn.role === 'controller') keep(tabStore(), lastKey(s.session), JSON.stringify(lastState(s, this.firstOwnStep(s))));
    });
  }

  /**
   * Whether the session's branch has operations done by hand (GET /api/sessions/{id}
   * `first_own_step`): asked at each snapshot (a join, a reload, another branch) and
   * when one is acked, so that a scenario reopened after a restart says they are not in
   * it (rejoinFor, lastState).
   */
  async learnOwnSteps() {
    const { session } = this.app;
    const state = session.state;
    if (!state || session.conn.role !== 'controller') return;
    const asked = ++this.ownLearnt;
    try {
      const info = await ask(`/api/sessions/${encodeURIComponent(state.session)}`);
      if (asked === this.ownLearnt) this.own = { key: `${info.id}#${info.branch}`, first: info.first_own_step ?? null };
    } catch {
      // the session is gone or the server unreachable: what the page knew stands
    }
  }

  /** @param {import('../lib/state.js').ClientState} state */
  firstOwnStep(state) {
    return this.own.key === `${state.session}#${state.branch}` ? this.own.first : null;
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
   * @returns {Promise<import('../lib/urlstate.js').UrlState>}
   */
  async rejoinFor(old, refused = false) {
    const app = this.app;
    // The page's last state of it; or, reloaded since, what the tab kept at unload.
    const now = app.session.state;
    const last = now ? lastState(now, this.firstOwnStep(now)) : decodeLast(readKept(lastKey(old)));
    const token = refused ? null : (app.session.conn.session === old ? app.session.conn.token : null) ?? heldToken(tabStore(), old);
    const base = { presenter: app.want.presenter };
    let plan = reopenAfterLoss(old, last, last ? app.saved.nameOf(old) : null, token !== null);
    if (plan.open === 'saved') {
      try {
        const created = await openSaved(plan.name, token ? { session: old, token } : undefined);
        app.saved.current = { name: plan.name, session: created.id, sig: null };
        app.want = { ...base, session: created.id, token: created.token, saved: plan.name, step: plan.step };
        this.plan = plan;
        return { session: created.id, token: created.token };
      } catch (e) {
        const why = `Could not reopen the saved session “${plan.name}”: ${/** @type {Error} */ (e).message}.`;
        app.saved.current = null;
        plan = reopenAfterLoss(old, last, null, token !== null);
        plan = { ...plan, text: `${why} ${plan.text}` };
      }
    }
    this.plan = plan;
    if (plan.open === 'scenario' && last && token) {
      app.want = { ...base, session: old, token, step: last.step };
      return reopenJoin(old, token, shareState(last));
    }
    app.want = plan.open === 'scenario' && last ? { ...base, ...shareState(last) } : base;
    return joinFor(app.want);
  }

  /**
   * A follower's session is gone: say that the page waits for it (and why), or that it
   * stopped waiting; null: it is back.
   * @param {import('./connection.js').Waiting | null} waiting
   */
  onWaiting(waiting) {
    const box = byId('waiting');
    if (!waiting) {
      if (!box.hidden) this.app.notice('the session is back: following it again');
      box.hidden = true;
      return;
    }
    byId('waiting-text').textContent = waitingText(waiting);
    box.dataset.gaveUp = waiting.gaveUp ? '1' : '0';
    box.hidden = false;
  }

  /** The connection opened what rejoinFor chose: match the address to it and say so. */
  onSessionLost(/** @type {string} */ old) {
    const app = this.app;
    const plan = this.plan ?? reopenAfterLoss(old, null, null);
    this.plan = null;
    app.configured = false;
    app.applied = false;
    const { session } = app.session.conn;
    if (session) {
      // The address names the session (a reload comes back to it; the tab keeps its token).
      const address = { session, saved: app.want.saved, presenter: app.want.presenter };
      history.replaceState(null, '', `${location.pathname}${formatUrlState(address)}`);
    }
    app.banner(plan.text, !(plan.open === 'default' && plan.keep));
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
