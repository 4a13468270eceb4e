// @ts-check
/**
 * One websocket to the server: decoding, numbered commands answered by promises, and
 * reconnection with back-off.  A new session is opened with its configuration in the
 * `/ws` query (lib/urlstate.js `joinFor`); when the server refuses it (an `error`,
 * then close code 4400) the connection opens the server's default session instead and
 * remembers that (`queryRefused`).
 *
 * After a server restart the old session is gone (the server answers `not_found`).  A
 * controller (it holds the token) asks the page what to open instead (`rejoin`: the
 * same session reopened under its id from the saved copy or a configured /ws query, or
 * else a new one; without `rejoin` the default session), opens it and says so through
 * `onSessionLost`.  A follower never opens a session of its own: it waits for its
 * session to come back, asking again with back-off (lib/saved.js `followRetryDelay`),
 * says so through `onWaiting`, and gives up after a few minutes.
 *
 * The control token a controller gets in `hello` is kept in the tab's sessionStorage
 * under the session id (never in the address): a reload of the tab controls again.
 */
import { decodeMessage, encodeCommand, ProtocolError } from '../lib/protocol.js';
import { followRetryDelay } from '../lib/saved.js';
import { keep, tokenKey, websocketUrl } from '../lib/urlstate.js';

/** Close code of a `/ws` query that asks for a session the server cannot open. */
export const CLOSE_BAD_QUERY = 4400;

export class CommandError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
  }
}

/**
 * @typedef {{
 *   onMessage: (msg: import('../lib/protocol.js').ServerMessage) => void,
 *   onStatus: (state: 'connecting' | 'live' | 'closed' | 'error', text: string) => void,
 *   onSessionLost?: (oldSession: string) => void,
 *   onFatal?: (text: string) => void,
 *   rejoin?: (oldSession: string, refused: boolean) => Promise<import('../lib/urlstate.js').UrlState>,
 *   onWaiting?: (waiting: Waiting | null) => void,
 * }} Handlers
 */

/**
 * A follower's wait for its session: `seen` the page showed it before; `gaveUp` it
 * stopped asking.  `onWaiting(null)`: the session is back.
 * @typedef {{session: string, seen: boolean, gaveUp: boolean, attempt: number, since: number}} Waiting
 */

/** sessionStorage, where the page may use it (null in a privacy mode that refuses it). */
export function tabStore() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

export class Connection {
  /**
   * @param {import('../lib/urlstate.js').UrlState} join which session to open: `joinFor`'s
   *   answer (an existing session, or the configuration of a new one)
   * @param {Handlers} handlers
   * @param {{protocol: string, host: string}} [where]
   */
  constructor(join, handlers, where = location) {
    this.join = { ...join };
    this.handlers = handlers;
    this.where = where;
    /** @type {WebSocket | null} */
    this.socket = null;
    this.nextId = 1;
    /** @type {Map<number, {resolve: (v: any) => void, reject: (e: Error) => void, type: string}>} */
    this.pending = new Map();
    this.retryMs = 400;
    this.fatal = false;
    this.closedByUs = false;
    /** @type {string | null} */
    this.session = null;
    /** @type {string | null} */
    this.token = null;
    this.role = /** @type {'controller' | 'follower' | null} */ (null);
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
    this.everConnected = false;
    this.lostSession = false;
    this.lastArrival = 0;
    /** @type {string | undefined} */
    this.lostId = undefined;
    /** The server refused the configuration the query asked for (close 4400). */
    this.queryRefused = false;
    /** The page was asked what replaces the lost session (handlers.rejoin). */
    this.rejoinAsked = false;
    /** The server refused what the page chose (reopening under the old id). */
    this.rejoinRefused = false;
    /** A follower waiting for its session to come back. */
    /** @type {Waiting | null} */
    this.waiting = null;
  }

  get open() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  connect() {
    this.retryTimer = null;
    const url = websocketUrl(this.where, this.join);
    const ws = new WebSocket(url);
    this.socket = ws;
    this.handlers.onStatus('connecting', this.everConnected ? 'reconnecting…' : 'connecting…');
    ws.addEventListener('open', () => {
      this.retryMs = 400;
    });
    ws.addEventListener('message', (event) => this.receive(ws, event));
    ws.addEventListener('close', (event) => this.closed(ws, event));
  }

  /** @param {WebSocket} ws @param {MessageEvent} event */
  receive(ws, event) {
    /** When the frame arrived, before decoding (the benchmark measures from here). */
    this.lastArrival = performance.now();
    let msg;
    try {
      msg = decodeMessage(String(event.data));
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.fatal = true;
      this.handlers.onStatus('error', 'protocol error');
      this.handlers.onFatal?.(`Cannot draw what the server sent: ${e.message}`);
      ws.close();
      return;
    }
    if (msg.type === 'hello') {
      this.session = msg.session;
      this.role = msg.role;
      if (msg.token) {
        this.token = msg.token;
        keep(tabStore(), tokenKey(msg.session), msg.token);
      }
      this.join = msg.role === 'controller' && this.token ? { session: msg.session, token: this.token } : { session: msg.session };
      this.everConnected = true;
      this.handlers.onStatus('live', msg.role === 'controller' ? 'live' : 'live · following');
      if (this.waiting) {
        this.waiting = null;
        this.handlers.onWaiting?.(null);
      }
      if (this.lostSession) {
        this.lostSession = false;
        this.rejoinAsked = false;
        this.rejoinRefused = false;
        this.handlers.onSessionLost?.(this.lostId ?? '');
      }
    } else if (msg.type === 'ack' || msg.type === 'error') {
      const id = msg.id;
      const waiting = typeof id === 'number' ? this.pending.get(id) : undefined;
      if (waiting && typeof id === 'number') {
        this.pending.delete(id);
        if (msg.type === 'ack') waiting.resolve(msg);
        else waiting.reject(new CommandError(msg.code, msg.message));
        if (msg.type === 'error') this.handlers.onMessage(msg);
        return;
      }
      if (msg.type === 'error' && (msg.code === 'not_found' || msg.code === 'not_controller') && this.join.session) {
        // The session is gone (server restart, expiry) or the token is wrong: the server
        // closes, and `closed` decides what comes next.
        this.sessionGone();
        return;
      }
    }
    this.handlers.onMessage(msg);
  }

  /** @param {WebSocket} ws @param {CloseEvent} event */
  closed(ws, event) {
    if (this.socket !== ws) return;
    for (const { reject } of this.pending.values()) reject(new CommandError('disconnected', 'the connection closed'));
    this.pending.clear();
    if (this.fatal || this.closedByUs) return;
    if (event.code === CLOSE_BAD_QUERY && !this.join.session) {
      // Its error said why (onMessage); the same query would be refused again.
      this.queryRefused = true;
      this.join = {};
      this.retryTimer = setTimeout(() => this.connect(), 0);
      return;
    }
    // Gone, or (reopening it) refused; the error before the close may have said so already.
    const gone = event.code === 4404 || event.code === 1008 || (event.code === CLOSE_BAD_QUERY && this.lostSession);
    if (gone && this.join.session && !this.waiting) this.sessionGone();
    if (this.waiting) {
      this.waitAgain();
      return;
    }
    const rejoin = this.handlers.rejoin;
    if (this.lostSession && rejoin && !this.rejoinAsked) {
      // The server is up (it said the session is gone): open what the page chooses
      // (asked once per loss, and once more if the server refused that choice; a
      // failed attempt retries the same choice).
      this.rejoinAsked = true;
      this.handlers.onStatus('connecting', 'reopening…');
      rejoin(this.lostId ?? '', this.rejoinRefused)
        .catch(() => ({}))
        .then((join) => {
          if (this.closedByUs || this.socket !== ws) return;
          this.join = { ...join };
          this.queryRefused = false;
          this.connect();
        });
      return;
    }
    const seconds = Math.max(1, Math.round(this.retryMs / 1000));
    this.handlers.onStatus('closed', `disconnected · retrying in ${seconds} s`);
    this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 5000);
  }

  /**
   * The server says the session this connection asked for is not there (or not with
   * this token).  A follower waits for it; a controller's page chooses what replaces it
   * (when that choice was refused, it is asked once more).
   */
  sessionGone() {
    const old = /** @type {string} */ (this.join.session);
    if (!this.join.token) {
      this.waiting ??= { session: old, seen: this.everConnected, gaveUp: false, attempt: 0, since: performance.now() };
      return;
    }
    if (this.rejoinAsked && !this.rejoinRefused) {
      this.rejoinAsked = false;
      this.rejoinRefused = true;
    }
    this.lostSession = true;
    this.lostId = old;
    this.join = {};
  }

  /** A follower asks for its session again after a while, or gives up and says so. */
  waitAgain() {
    const w = /** @type {Waiting} */ (this.waiting);
    const delay = followRetryDelay(w.attempt, performance.now() - w.since);
    w.gaveUp = delay === null;
    this.handlers.onWaiting?.({ ...w });
    if (delay === null) {
      this.handlers.onStatus('closed', 'session gone');
      return;
    }
    w.attempt += 1;
    this.handlers.onStatus('connecting', 'waiting for the session…');
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /**
   * Send a command; resolves with its `ack`, rejects with a CommandError.
   * @param {string} type
   * @param {Record<string, unknown>} [fields]
   * @returns {Promise<import('../lib/protocol.js').Ack>}
   */
  send(type, fields = {}) {
    if (!this.open || !this.socket) return Promise.reject(new CommandError('disconnected', 'not connected'));
    const id = this.nextId++;
    const text = encodeCommand(type, id, fields);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, type });
      /** @type {WebSocket} */ (this.socket).send(text);
    });
  }

  close() {
    this.closedByUs = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.close();
  }
}
