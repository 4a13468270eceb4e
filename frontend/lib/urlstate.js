// @ts-check
/**
 * The shareable URL: `?scenario=&seed=&strategy=&kernel=&step=` reopens the same
 * session state (the server opens the session from the same parameters on `/ws`,
 * then the page seeks to `step`); `?pages=N` opens a one-zone session of N pages (the
 * benchmarks use it); `?session=` (with the controller's `token=`) joins an existing session;
 * `presenter=1` opens presenter mode; `compare=<strategy>` opens the side-by-side view;
 * `?saved=NAME` opens the session saved under NAME (`POST /api/saved/{name}/open`, with
 * `step=` it then seeks there), and next to `session=` it names what that session was saved
 * as, so the page can reopen it when the server restarted.  Pure logic, no DOM.
 */
import { nameProblem } from './saved.js';

export const STRATEGIES = Object.freeze(['none', 'hinting-v2', 'reporting']);
export const KERNELS = Object.freeze(['5.3', '5.7', '5.10']);
const ALIASES = /** @type {Record<string, string>} */ ({ v2: 'hinting-v2', hinting: 'hinting-v2', reported: 'reporting' });

/**
 * @typedef {{scenario?: string, seed?: number, strategy?: string, kernel?: string,
 *            step?: number, pages?: number, session?: string, token?: string,
 *            presenter?: boolean, compare?: string, saved?: string}} UrlState
 */

/** @param {string | null} v */
const intOf = (v) => (v !== null && /^\d{1,10}$/.test(v) ? Number(v) : null);

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
 * The query string for a state, parameters in a fixed order.
 * @param {UrlState} state
 */
export function formatUrlState(state) {
  const q = new URLSearchParams();
  for (const name of ['saved', 'scenario', 'seed', 'strategy', 'kernel', 'step', 'pages', 'session', 'token', 'compare']) {
    const v = /** @type {any} */ (state)[name];
    if (v !== undefined && v !== null && v !== '') q.set(name, String(v));
  }
  if (state.presenter) q.set('presenter', '1');
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * The shareable state of a session, as the URL carries it.
 * @param {{config: {scenario: string, seed: number, hinting: string, kernel: string,
 *          pages?: number | null}, step: number}} state
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
  return out;
}

/**
 * The `configure` fields that make a session match the URL (empty when it already
 * does).  `pages` always goes with the others: a size is part of the configuration.
 * @param {UrlState} want
 * @param {{scenario: string, seed: number, hinting: string, kernel: string,
 *          pages?: number | null}} config
 * @returns {Record<string, string | number>}
 */
export function configureFor(want, config) {
  /** @type {Record<string, string | number>} */
  const out = {};
  if (want.scenario !== undefined && want.scenario !== config.scenario) out.scenario = want.scenario;
  if (want.seed !== undefined && want.seed !== config.seed) out.seed = want.seed;
  if (want.strategy !== undefined && want.strategy !== config.hinting) out.hinting = want.strategy;
  if (want.kernel !== undefined && want.kernel !== config.kernel) out.kernel = want.kernel;
  if (want.pages !== undefined && want.pages !== (config.pages ?? null)) out.pages = want.pages;
  return out;
}

/** What `/ws` reads from its query to open a new session (docs/protocol.md). */
export const SESSION_PARAMS = Object.freeze(['scenario', 'seed', 'strategy', 'kernel', 'pages']);

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
 * The websocket URL for `joinFor`'s answer: `session` (and `token`), or the new
 * session's configuration under the address's own names.
 * @param {{protocol: string, host: string}} location
 * @param {UrlState} join
 */
export function websocketUrl(location, join) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const q = new URLSearchParams();
  for (const name of join.session ? ['session', 'token'] : SESSION_PARAMS) {
    const v = /** @type {any} */ (join)[name];
    if (v !== undefined) q.set(name, String(v));
  }
  const s = q.toString();
  return `${scheme}://${location.host}/ws${s ? `?${s}` : ''}`;
}
