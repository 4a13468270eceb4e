// @ts-check
/**
 * The shareable URL: `?scenario=&seed=&strategy=&kernel=&constants=&step=` reopens the
 * same session state (the server opens the session from the same parameters on `/ws`,
 * then the page seeks to `step`); `constants=capacity:16,hwm:8` are the strategy
 * constants set by the user; `?pages=N` opens a one-zone session of N pages (the
 * benchmarks use it); `?session=` joins an existing session; `presenter=1` opens presenter
 * mode; `compare=<strategy>` opens the side-by-side view; `?saved=NAME` opens the session
 * saved under NAME (`POST /api/saved/{name}/open`, with `step=` it then seeks there), and
 * next to `session=` it names what that session was saved as, so the page can reopen it
 * when the server restarted.
 *
 * The control token never stays in the address (a teacher copying it would hand out
 * control): a `token=` the page is opened with is read, kept in the tab's
 * `sessionStorage` under the session id (`tokenKey`), and `formatUrlState` never writes
 * it.  A reload of the tab finds it there.  Pure logic, no DOM.
 */
import { nameProblem } from './saved.js';

export const STRATEGIES = Object.freeze(['none', 'hinting-v2', 'reporting']);
export const KERNELS = Object.freeze(['5.3', '5.7', '5.10', '6.12']);
const ALIASES = /** @type {Record<string, string>} */ ({ v2: 'hinting-v2', hinting: 'hinting-v2', reported: 'reporting' });

/**
 * @typedef {{scenario?: string, seed?: number, strategy?: string, kernel?: string,
 *            step?: number, pages?: number, session?: string, token?: string,
 *            presenter?: boolean, compare?: string, saved?: string,
 *            constants?: Record<string, number>}} UrlState
 */

/** @param {string | null} v */
const intOf = (v) => (v !== null && /^\d{1,10}$/.test(v) ? Number(v) : null);

/** At most this many constants (the server's `configure` takes 16). */
export const MAX_CONSTANTS = 16;

/** One `name:number` of `constants=`, as backend/app.py `parse_constants` reads it. */
const CONSTANT = /^([a-z][a-z0-9_]{0,39}):(-?\d{1,15}(?:\.\d{1,15})?)$/;

/**
 * `constants=capacity:16,delay_s:2.5` as an object; throws a RangeError saying what is
 * wrong (the server refuses the same texts).
 * @param {string} text
 * @returns {Record<string, number>}
 */
export function parseConstants(text) {
  const items = text ? text.split(',') : [];
  if (!items.length) throw new RangeError('no constants: give name:number pairs separated by commas');
  if (items.length > MAX_CONSTANTS) throw new RangeError(`${items.length} constants; at most ${MAX_CONSTANTS}`);
  /** @type {Record<string, number>} */
  const out = {};
  for (const item of items) {
    const m = CONSTANT.exec(item);
    if (!m) throw new RangeError(`${JSON.stringify(item.slice(0, 40))} is not name:number (a lower-case name, a decimal number)`);
    if (Object.hasOwn(out, m[1])) throw new RangeError(`constant ${m[1]} is given twice`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/**
 * The query form of constants, sorted by name (empty string for none).
 * @param {Record<string, number> | undefined} constants
 */
export function formatConstants(constants) {
  return Object.entries(constants ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}:${v}`)
    .join(',');
}

/**
 * `q` as a query string, `constants` left readable (`:` and `,` need no escaping in a
 * query; its names and numbers hold nothing else).
 * @param {URLSearchParams} q
 */
function queryText(q) {
  return q.toString().replace(/(^|&)constants=[^&]*/, (_, lead) => `${lead}constants=${q.get('constants')}`);
}

/**
 * Read the query string.  Invalid values are dropped and reported, never guessed.
 * @param {string} search e.g. location.search
 * @returns {{state: UrlState, problems: string[]}}
 */
export function parseUrlState(search) {
  const q = new URLSearchParams(search);
  /** @type {UrlState} */
  const state = {};
  /** @type {string[]} */
  const problems = [];
  const scenario = q.get('scenario');
  if (scenario !== null) {
    if (/^[\w.-]{1,100}$/.test(scenario)) state.scenario = scenario;
    else problems.push(`scenario ${JSON.stringify(scenario)} is not a scenario name`);
  }
  for (const name of /** @type {const} */ (['seed', 'step', 'pages'])) {
    const raw = q.get(name);
    if (raw === null) continue;
    const n = intOf(raw);
    if (n === null || (name === 'pages' && n < 1) || (name === 'seed' && n > 2 ** 32 - 1)) {
      problems.push(`${name}=${raw} is not a valid ${name}`);
    } else {
      state[name] = n;
    }
  }
  for (const name of /** @type {const} */ (['strategy', 'compare'])) {
    const raw = q.get(name);
    if (raw === null) continue;
    const s = ALIASES[raw] ?? raw;
    if (STRATEGIES.includes(s)) state[name] = s;
    else problems.push(`${name}=${raw}: expected one of ${STRATEGIES.join(', ')}`);
  }
  const kernel = q.get('kernel');
  if (kernel !== null) {
    if (KERNELS.includes(kernel)) state.kernel = kernel;
    else problems.push(`kernel=${kernel}: expected one of ${KERNELS.join(', ')}`);
  }
  const constants = q.get('constants');
  if (constants !== null) {
    try {
      state.constants = parseConstants(constants);
    } catch (e) {
      problems.push(`constants=${constants.slice(0, 80)}: ${/** @type {Error} */ (e).message}`);
    }
  }
  const session = q.get('session');
  if (session !== null) {
    if (/^[\w-]{1,64}$/.test(session)) state.session = session;
    else problems.push('session is not a session id');
  }
  const token = q.get('token');
  if (token !== null && /^[\w-]{1,200}$/.test(token)) state.token = token;
  const presenter = q.get('presenter');
  if (presenter !== null) state.presenter = presenter !== '0' && presenter !== 'false';
  const saved = q.get('saved');
  if (saved !== null) {
    const why = nameProblem(saved);
    if (why) problems.push(`saved=${JSON.stringify(saved)}: ${why}`);
    else state.saved = saved;
  }
  if (state.saved !== undefined && !state.session) {
    // The saved session brings its own configuration.
    const extra = SESSION_PARAMS.filter((name) => /** @type {any} */ (state)[name] !== undefined);
    if (extra.length) {
      problems.push(`${extra.join(', ')} next to saved: the saved session keeps its own configuration`);
      for (const name of extra) delete (/** @type {any} */ (state))[name];
    }
  }
  return { state, problems };
}

/**
 * The query string for a state, parameters in a fixed order; never the control token.
 * @param {UrlState} state
 */
export function formatUrlState(state) {
  const q = new URLSearchParams();
  for (const name of ['saved', 'scenario', 'seed', 'strategy', 'kernel', 'constants', 'step', 'pages', 'session', 'compare']) {
    const v = name === 'constants' ? formatConstants(state.constants) : /** @type {any} */ (state)[name];
    if (v !== undefined && v !== null && v !== '') q.set(name, String(v));
  }
  if (state.presenter) q.set('presenter', '1');
  const s = queryText(q);
  return s ? `?${s}` : '';
}

/**
 * The shareable state of a session, as the URL carries it (with the constants the
 * user set: `hinting_options`).
 * @param {{config: {scenario: string, seed: number, hinting: string, kernel: string,
 *          pages?: number | null, hinting_options?: Record<string, number>}, step: number}} state
 * @returns {UrlState}
 */
export function shareState(state) {
  /** @type {UrlState} */
  const out = {
    scenario: state.config.scenario,
    seed: state.config.seed,
    strategy: state.config.hinting,
    kernel: state.config.kernel,
    step: state.step,
  };
  if (state.config.pages) out.pages = state.config.pages;
  const options = state.config.hinting_options ?? {};
  if (Object.keys(options).length) out.constants = { ...options };
  return out;
}

/**
 * The `configure` fields that make a session match the URL (empty when it already
 * does).  `pages` always goes with the others: a size is part of the configuration,
 * and so is the kernel with a new strategy (the server runs v2 picked without a
 * kernel on its own 5.3 base, so an address's v2 on 5.10 must name 5.10).
 * @param {UrlState} want
 * @param {{scenario: string, seed: number, hinting: string, kernel: string,
 *          pages?: number | null, hinting_options?: Record<string, number>}} config
 * @returns {Record<string, string | number | Record<string, number>>}
 */
export function configureFor(want, config) {
  /** @type {Record<string, string | number | Record<string, number>>} */
  const out = {};
  if (want.scenario !== undefined && want.scenario !== config.scenario) out.scenario = want.scenario;
  if (want.seed !== undefined && want.seed !== config.seed) out.seed = want.seed;
  if (want.strategy !== undefined && want.strategy !== config.hinting) out.hinting = want.strategy;
  if (want.kernel !== undefined && (want.kernel !== config.kernel || out.hinting !== undefined)) out.kernel = want.kernel;
  if (want.pages !== undefined && want.pages !== (config.pages ?? null)) out.pages = want.pages;
  if (want.constants !== undefined && formatConstants(want.constants) !== formatConstants(config.hinting_options)) {
    out.constants = want.constants;
  }
  return out;
}

/** What `/ws` reads from its query to open a new session (docs/protocol.md). */
export const SESSION_PARAMS = Object.freeze(['scenario', 'seed', 'strategy', 'kernel', 'pages', 'constants']);

/**
 * What the page asks `/ws` for: an existing session (with the controller's token), or
 * a new one configured like the address says, in one step (`step` stays the page's:
 * it seeks once the session is open).
 * @param {UrlState} state
 * @returns {UrlState}
 */
export function joinFor(state) {
  if (state.session) return state.token ? { session: state.session, token: state.token } : { session: state.session };
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const name of SESSION_PARAMS) {
    const v = /** @type {any} */ (state)[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/**
 * What a controller asks `/ws` for to reopen its session after a server restart: the
 * session id and its token (the server recognises the token across restarts) with the
 * configuration to reopen it as, so it comes back under the same id and its followers
 * find it again.
 * @param {string} session
 * @param {string} token
 * @param {UrlState} share `shareState` of the lost session
 * @returns {UrlState}
 */
export function reopenJoin(session, token, share) {
  return { session, token, ...joinFor({ ...share, session: undefined, token: undefined }) };
}

/**
 * The websocket URL for `joinFor`'s or `reopenJoin`'s answer: `session` (and `token`,
 * and with it what to reopen the session as), or the new session's configuration under
 * the address's own names.
 * @param {{protocol: string, host: string}} location
 * @param {UrlState} join
 */
export function websocketUrl(location, join) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const q = new URLSearchParams();
  const names = join.session ? ['session', 'token', ...(join.token ? SESSION_PARAMS : [])] : SESSION_PARAMS;
  for (const name of names) {
    const v = name === 'constants' ? formatConstants(join.constants) || undefined : /** @type {any} */ (join)[name];
    if (v !== undefined) q.set(name, String(v));
  }
  const s = queryText(q);
  return `${scheme}://${location.host}/ws${s ? `?${s}` : ''}`;
}

/**
 * The top bar's fact for a session resized by `pages` (`?pages=N`): its size, not the
 * scenario it was resized from; null for other sessions.
 * @param {{scenario: string, pages?: number | null, source?: {kind?: string} | null}} config
 * @param {string[]} zones the session's zone names, lowest first
 * @returns {{text: string, title: string} | null}
 */
export function pagesFact(config, zones) {
  const kind = config.source?.kind ?? 'scenario';
  if (!config.pages || kind !== 'scenario' || !zones.length) return null;
  const n = config.pages.toLocaleString('en-US');
  const last = zones[zones.length - 1];
  if (zones.length === 1) {
    return { text: `${n} pages`, title: `one zone (${last}) of ${n} pages: the ${config.scenario} scenario resized (pages=${config.pages})` };
  }
  return {
    text: `${config.scenario}, ${last} of ${n} pages`,
    title: `the ${config.scenario} scenario with its last zone (${last}) resized to ${n} pages (pages=${config.pages})`,
  };
}

/** The `sessionStorage` key of a session's control token. */
export const tokenKey = (/** @type {string} */ session) => `buddyscope.token.${session}`;

/** The `sessionStorage` key of what a session was when this tab last showed it. */
export const lastKey = (/** @type {string} */ session) => `buddyscope.last.${session}`;

/** The `sessionStorage` key of the session this tab opened from its address. */
export const openedKey = 'buddyscope.opened';

/**
 * @typedef {{getItem: (key: string) => string | null, setItem: (key: string, value: string) => void}} KeyStore
 */

/**
 * Remember that this tab opened `session` (as its controller) from the address `search`.
 * @param {KeyStore | null} store
 * @param {string} search `location.search`
 * @param {string} session
 */
export function noteOpened(store, search, session) {
  keep(store, openedKey, JSON.stringify({ search, session }));
}

/**
 * On a reload: the session this tab opened from the very same address and still holds
 * the token of, to join again instead of opening another one (its followers keep
 * following it).  Null otherwise: a new tab, another address, or no storage.
 * @param {KeyStore | null} store
 * @param {string} search `location.search`
 * @returns {string | null}
 */
export function reopenedSession(store, search) {
  try {
    const opened = JSON.parse(store?.getItem(openedKey) ?? 'null');
    if (!opened || opened.search !== search || typeof opened.session !== 'string') return null;
    return heldToken(store, opened.session) ? opened.session : null;
  } catch {
    return null; // storage refused, or not our JSON: open as the address says
  }
}

/**
 * The control token this tab holds for `session` (null: none, or no storage).
 * @param {KeyStore | null} store
 * @param {string} session
 */
export function heldToken(store, session) {
  try {
    const token = store?.getItem(tokenKey(session)) ?? null;
    return token !== null && /^[\w-]{1,200}$/.test(token) ? token : null;
  } catch {
    return null; // storage refused (a privacy mode): the tab holds nothing
  }
}

/**
 * Keep `value` under `key` when the storage allows it (a privacy mode may refuse: the
 * tab then loses control on a reload, nothing else).
 * @param {KeyStore | null} store
 * @param {string} key
 * @param {string} value
 */
export function keep(store, key, value) {
  try {
    store?.setItem(key, value);
  } catch {
    // see above
  }
}
