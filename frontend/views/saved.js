// @ts-check
/**
 * Saved sessions in the share dialog: "save as NAME" (the controller's; a follower is
 * told why not), and the server's saved sessions with open and delete.  Saving goes to
 * `POST /api/sessions/{id}/save` with the control token; opening a saved session
 * (`POST /api/saved/{name}/open`) switches the page to the new copy as its controller,
 * as the load dialog switches (loadpanel.js `switchSession`).  A refusal is shown next
 * to the control in the server's words, and nothing changes.
 *
 * The page remembers what its session was saved as (`current`, and `saved=NAME` in the
 * address next to `session=`), as long as its configuration stays the one saved: after
 * a server restart app.js reopens that saved session (lib/saved.js `reopenAfterLoss`).
 */
import { configSignature, decodeSaved, nameProblem, savedRows, suggestName } from '../lib/saved.js';
import { refusalText } from '../lib/scenariofile.js';
import { formatUrlState } from '../lib/urlstate.js';
import { h, replaceKids } from './dom.js';
import { switchSession } from './loadpanel.js';

/**
 * @typedef {import('../lib/saved.js').SavedEntry} SavedEntry
 * @typedef {{id: string, token: string, session: {source?: unknown}}} Created
 */

/** Where this browser keeps the owner key of the sessions it saved (the first save's). */
const OWNER_KEY = 'buddyscope.owner';

/** @returns {string | null} */
function ownerKey() {
  try {
    return localStorage.getItem(OWNER_KEY);
  } catch {
    return null; // no storage (a sandboxed frame): every save gets a key of its own
  }
}

/** @param {unknown} key the save answer's owner_key; kept only if none is kept yet */
function keepOwnerKey(key) {
  try {
    if (typeof key === 'string' && !localStorage.getItem(OWNER_KEY)) localStorage.setItem(OWNER_KEY, key);
  } catch {
    // no storage: nothing to keep it in
  }
}

/** A refused request: the server's own words. */
class Refusal extends Error {}

/**
 * Ask the server; resolves with the answer's JSON (null for 204), or rejects with a
 * Refusal carrying the server's words.
 * @param {string} url
 * @param {RequestInit} [init]
 */
export async function ask(url, init = {}) {
  let res;
  try {
    // The custom header marks a request no other site's form could send (backend/guard.py).
    // The owner key: replacing and deleting saved entries need it (listing and opening
    // too, on a --shared server).
    const owner = ownerKey();
    const headers = { accept: 'application/json', 'x-buddyscope-client': 'page', ...(owner ? { 'x-buddyscope-owner': owner } : {}), ...(init.headers ?? {}) };
    res = await fetch(url, { ...init, headers });
  } catch (e) {
    throw new Refusal(`the server could not be reached (${/** @type {Error} */ (e).message})`);
  }
  const text = await res.text();
  if (!res.ok) throw new Refusal(refusalText(res.status, text));
  return text ? JSON.parse(text) : null;
}

/**
 * Open a saved session as a new live session (`POST /api/saved/{name}/open`); with
 * `reopen`, as the session the server lost in a restart, under its id (its token
 * proves the page controlled it).
 * @param {string} name
 * @param {{session: string, token: string}} [reopen]
 * @returns {Promise<Created>}
 */
export function openSaved(name, reopen) {
  const url = `/api/saved/${encodeURIComponent(name)}/open`;
  if (!reopen) return ask(url, { method: 'POST' });
  return ask(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-buddyscope-token': reopen.token },
    body: JSON.stringify({ session: reopen.session }),
  });
}

export class SavedPanel {
  /**
   * @param {any} app the page's App
   * @param {HTMLElement} box where the dialog shows the panel
   */
  constructor(app, box) {
    this.app = app;
    /** What the page's session was saved as (sig: its configuration then; null until seen). */
    /** @type {{name: string, session: string, sig: string | null} | null} */
    this.current = app.want.saved && app.want.session ? { name: app.want.saved, session: app.want.session, sig: null } : null;
    /** @type {SavedEntry[]} */
    this.entries = [];
    /** The last outcome, for tests. */
    /** @type {{saved?: string, asScenario?: boolean, opened?: string, deleted?: string, error?: string} | null} */
    this.last = null;
    this.busy = false;
    /** @type {string | null} the entry whose delete waits for a second click */
    this.confirming = null;
    this.name = /** @type {HTMLInputElement} */ (
      h('input', { id: 'save-name', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'save-name-out', oninput: () => this.check() })
    );
    this.saveButton = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', id: 'btn-save-name' }, ['save']));
    this.saveOut = h('p', { id: 'save-name-out', class: 'save-out', role: 'status' });
    /** Save the branch as a scenario file in the store (POST …/save-scenario) instead. */
    this.asScenario = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: 'save-as-scenario' }));
    this.list = h('tbody');
    this.table = h('table', { id: 'saved-list', class: 'saved-list', 'aria-labelledby': 'saved-list-title' }, [
      h('thead', {}, [
        h('tr', {}, [
          h('th', { scope: 'col' }, ['name']),
          h('th', { scope: 'col' }, ['runs']),
          h('th', { scope: 'col' }, ['steps']),
          h('th', { scope: 'col' }, ['saved']),
          h('th', { scope: 'col' }, [h('span', { class: 'sr-only' }, ['actions'])]),
        ]),
      ]),
      this.list,
    ]);
    this.listOut = h('p', { id: 'saved-list-out', class: 'save-out', role: 'status' });
    replaceKids(box, [
      h('p', {}, [h('b', {}, ['Save by name']), ': the server keeps the session (configuration, seed and every step taken) in its data directory; it survives a restart.']),
      h('form', { id: 'form-save-name', class: 'save-name', 'aria-label': 'save this session by name', onsubmit: (/** @type {SubmitEvent} */ e) => { e.preventDefault(); this.save(); } }, [
        h('label', { for: 'save-name' }, ['save as']),
        this.name,
        this.saveButton,
      ]),
      h('label', { class: 'save-kind', for: 'save-as-scenario' }, [
        this.asScenario,
        ' as a scenario file: the steps become a workload (your own operations included) that opens recorded at the same step',
      ]),
      this.saveOut,
      h('h3', { id: 'saved-list-title' }, ['saved sessions']),
      h('div', { class: 'saved-scroll' }, [this.table]),
      this.listOut,
    ]);
  }

  /**
   * The name the session with this id was saved under, while its configuration is the
   * one saved; else null.
   * @param {string} session
   */
  nameOf(session) {
    return this.current && this.current.session === session ? this.current.name : null;
  }

  /**
   * Follow the page's session: a configure that changes what was saved makes it
   * another session (the address stops naming the saved one).
   * @param {import('../lib/state.js').ClientState} state
   */
  track(state) {
    const c = this.current;
    if (!c || c.session !== state.session) return;
    const sig = configSignature(state.config);
    if (c.sig === null) c.sig = sig;
    else if (c.sig !== sig) this.remember(null);
  }

  /**
   * Remember (or forget) what the page's session is saved as, in the address too.
   * @param {{name: string, session: string, sig: string | null} | null} current
   */
  remember(current) {
    this.current = current;
    const app = this.app;
    if (current) {
      // The address names the session (a reload comes back to it) and what it is saved as.
      const token = app.want.session === current.session ? app.want.token : app.session.conn.token ?? undefined;
      app.want = { ...app.want, session: current.session, token, saved: current.name };
    } else {
      app.want = { ...app.want, saved: undefined };
    }
    if (app.want.session) {
      const { session, token, saved, presenter } = app.want;
      history.replaceState(null, '', `${location.pathname}${formatUrlState({ session, token, saved, presenter })}`);
    }
  }

  /** When the dialog opens: the name field, who may save, the list. */
  refresh() {
    const state = this.app.session.state;
    const controller = this.app.session.conn.role === 'controller';
    this.name.disabled = !controller || !state;
    this.saveButton.disabled = !controller || !state;
    this.asScenario.disabled = !controller || !state;
    this.name.value = state ? this.nameOf(state.session) ?? suggestName(state) : '';
    this.listOut.textContent = '';
    this.confirming = null;
    if (!controller) {
      this.say(this.saveOut, 'Only the session’s controller can save it: you follow it (the follow link gives no control). Open a saved session below to control a copy.', 'info');
    } else {
      this.check();
    }
    this.load();
  }

  /** Say what the typed name would do: why the server would refuse it, or that it replaces an entry. */
  check() {
    const name = this.name.value.normalize('NFKC').trim(); // as the server stores it
    const why = nameProblem(name);
    this.name.setAttribute('aria-invalid', why ? 'true' : 'false');
    const taken = why ? undefined : this.entries.find((e) => e.name === name);
    this.saveButton.textContent = taken ? 'replace' : 'save';
    if (why) this.say(this.saveOut, why, 'problem');
    else if (taken) this.say(this.saveOut, `A saved session “${name}” exists (${savedRows([taken], Date.now() / 1000)[0].steps}): saving replaces it.`, 'info');
    else this.say(this.saveOut, '', 'info');
    return why === null;
  }

  /**
   * `GET /api/saved` into the table.
   * @param {boolean} [check] say again what the typed name would do
   */
  async load(check = true) {
    try {
      this.entries = decodeSaved(await ask('/api/saved'));
    } catch (e) {
      this.say(this.listOut, `The saved sessions could not be read: ${/** @type {Error} */ (e).message}`, 'problem');
      return;
    }
    this.draw();
    if (check && !this.name.disabled) this.check();
  }

  draw() {
    const rows = savedRows(this.entries, Date.now() / 1000);
    const here = this.app.session.state ? this.nameOf(this.app.session.state.session) : null;
    this.list.replaceChildren(
      ...(rows.length
        ? rows.map((r) =>
            h('tr', { 'data-name': r.name, class: r.name === here ? 'is-current' : undefined }, [
              h('th', { scope: 'row', class: 'saved-name' }, [r.name, r.name === here ? h('span', { class: 'muted' }, [' (this session)']) : null]),
              h('td', {}, [r.runs]),
              h('td', { class: 'num' }, [r.steps]),
              h('td', { title: r.title }, [r.when]),
              h('td', { class: 'saved-actions' }, [
                h('button', { type: 'button', class: 'saved-open', 'aria-label': `open the saved session ${r.name}`, onclick: () => this.open(r.name) }, ['open']),
                h(
                  'button',
                  {
                    type: 'button',
                    class: `saved-delete${this.confirming === r.name ? ' confirm' : ''}`,
                    'aria-label': this.confirming === r.name ? `really delete the saved session ${r.name}` : `delete the saved session ${r.name}`,
                    onclick: () => this.remove(r.name),
                  },
                  [this.confirming === r.name ? 'really delete?' : 'delete'],
                ),
              ]),
            ]),
          )
        : [h('tr', {}, [h('td', { colspan: 5, class: 'muted' }, ['Nothing saved on this server yet.'])])]),
    );
  }

  /**
   * @param {HTMLElement} el
   * @param {string} text
   * @param {'info' | 'problem' | 'done'} kind
   */
  say(el, text, kind) {
    el.textContent = text;
    el.dataset.kind = kind;
  }

  async save() {
    const state = this.app.session.state;
    const conn = this.app.session.conn;
    if (!state || this.busy || conn.role !== 'controller') return;
    if (!this.check()) {
      this.name.focus();
      return;
    }
    const name = this.name.value.normalize('NFKC').trim(); // as the server stores it
    const replace = this.entries.some((e) => e.name === name);
    this.busy = true;
    this.saveButton.disabled = true;
    const asScenario = this.asScenario.checked;
    try {
      const saved = await ask(`/api/sessions/${encodeURIComponent(state.session)}/${asScenario ? 'save-scenario' : 'save'}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-buddyscope-token': conn.token ?? conn.join.token ?? '' },
        // Replacing an entry is said first (check: the button reads "replace") and asked for.
        body: JSON.stringify({ name, replace }),
      });
      const newKey = ownerKey() === null;
      keepOwnerKey(saved.owner_key);
      const keyNote = newKey ? ` Its owner key (this browser keeps it; another one needs it to replace or delete the entry): ${saved.owner_key}` : '';
      // A scenario file is a new workload, not this session: a restart does not reopen it.
      if (!asScenario) this.remember({ name, session: state.session, sig: configSignature(state.config) });
      this.last = { saved: name, asScenario };
      this.name.value = name;
      this.app.share.refreshLink();
      await this.load(false);
      this.check();
      const steps = savedRows(decodeSaved([saved]), Date.now() / 1000)[0].steps;
      const notes = Array.isArray(saved.notes) && saved.notes.length ? ` Note: ${saved.notes.join('; ')}.` : '';
      this.say(
        this.saveOut,
        asScenario
          ? `Saved as scenario file “${name}” (${steps}): open it from the list below.${notes}${keyNote}`
          : `Saved as “${name}” (${steps}). If the server restarts, this page reopens it.${keyNote}`,
        'done',
      );
    } catch (e) {
      this.last = { error: /** @type {Error} */ (e).message };
      // Saved by someone else meanwhile (the server's 409): the list shows it now, and the
      // button offers to replace it.
      await this.load(false);
      const taken = !replace && this.entries.some((entry) => entry.name === name);
      this.saveButton.textContent = taken ? 'replace' : 'save';
      this.say(
        this.saveOut,
        taken
          ? `Not saved: a session was saved as “${name}” meanwhile (see the list); press “replace” to replace it, or choose another name.`
          : `Not saved: ${/** @type {Error} */ (e).message}`,
        'problem',
      );
    } finally {
      this.busy = false;
      this.saveButton.disabled = false;
    }
  }

  /**
   * Open a saved session and switch the page to it, as its controller.
   * @param {string} name
   */
  async open(name) {
    if (this.busy) return;
    this.busy = true;
    this.confirming = null;
    this.say(this.listOut, `opening “${name}”…`, 'info');
    try {
      const created = await openSaved(name);
      this.last = { opened: name };
      /** @type {HTMLDialogElement | null} */ (this.table.closest('dialog'))?.close();
      switchSession(this.app, created);
      this.remember({ name, session: created.id, sig: null });
      this.app.notice(`opened the saved session “${name}”`);
    } catch (e) {
      this.last = { error: /** @type {Error} */ (e).message };
      this.say(this.listOut, `Could not open “${name}”: ${/** @type {Error} */ (e).message}`, 'problem');
    } finally {
      this.busy = false;
    }
  }

  /**
   * Delete a saved entry: the first click asks, the second deletes.
   * @param {string} name
   */
  async remove(name) {
    if (this.busy) return;
    if (this.confirming !== name) {
      this.confirming = name;
      this.draw();
      /** @type {HTMLElement | null} */ (this.list.querySelector('.saved-delete.confirm'))?.focus();
      return;
    }
    this.busy = true;
    this.confirming = null;
    try {
      await ask(`/api/saved/${encodeURIComponent(name)}`, { method: 'DELETE' });
      this.last = { deleted: name };
      if (this.current?.name === name) this.remember(null);
      this.say(this.listOut, `Deleted “${name}”.`, 'done');
      this.app.share.refreshLink();
    } catch (e) {
      this.last = { error: /** @type {Error} */ (e).message };
      this.say(this.listOut, `Could not delete “${name}”: ${/** @type {Error} */ (e).message}`, 'problem');
    } finally {
      this.busy = false;
    }
    await this.load();
  }

  /**
   * The address asks for `saved=NAME` (no session): open it before the page connects.
   * Resolves with what the connection joins: the new copy, or (refused, said in the
   * banner) the default session.
   * @param {string} name
   * @returns {Promise<import('../lib/urlstate.js').UrlState>}
   */
  async openFromAddress(name) {
    const app = this.app;
    try {
      const created = await openSaved(name);
      app.want = { ...app.want, session: created.id, token: created.token };
      this.remember({ name, session: created.id, sig: null });
      return { session: created.id, token: created.token };
    } catch (e) {
      app.want = { presenter: app.want.presenter, compare: app.want.compare };
      history.replaceState(null, '', `${location.pathname}${formatUrlState(app.want)}`);
      app.banner(`Could not open the saved session “${name}”: ${/** @type {Error} */ (e).message}. Opened the default session instead.`);
      return {};
    }
  }

  debug() {
    return {
      name: this.current?.name ?? null,
      session: this.current?.session ?? null,
      entries: this.entries.map((e) => e.name),
      last: this.last,
    };
  }
}
