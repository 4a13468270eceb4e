// @ts-check
/**
 * Saved sessions (`POST /api/sessions/{id}/save`, `GET /api/saved`,
 * `POST /api/saved/{name}/open`, `DELETE /api/saved/{name}`): pure helpers for the
 * share dialog and for what the page does when the server has restarted.  No DOM.
 *
 * A saved session is the session's export document in the server's SQLite store, so it
 * survives a restart; a live session (above all one loaded from a workload file, a /proc
 * snapshot or a trace, which no address can describe) lives only while the server runs.
 */

/** The longest name the server takes (backend/rest/saved.py `SaveRequest`, `SavedName`). */
export const NAME_MAX = 100;

/** The characters `SaveRequest` allows, in words. */
export const NAME_CHARS = 'letters, digits, spaces and _ . , : ( ) + -';

/**
 * `SaveRequest`'s pattern `^[\w .,:()+-]+$`, as pydantic checks it (the Rust regex
 * engine, whose `\w` is Unicode: alphabetic, marks, decimal digits, connector
 * punctuation, joiners).
 */
const NAME_CHAR = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control} .,:()+-]/u;

/**
 * Why the server would refuse `name` as a saved session's name, or null when it takes
 * it.  Also refused: "." and "..", which the server stores but which no address can name
 * (a browser resolves them as path segments, so the entry could never be opened).
 * @param {string} name
 * @returns {string | null}
 */
export function nameProblem(name) {
  if (name === '') return 'Give the session a name.';
  const chars = [...name];
  if (chars.length > NAME_MAX) return `The name is ${chars.length} characters long; at most ${NAME_MAX}.`;
  const bad = [...new Set(chars.filter((c) => !NAME_CHAR.test(c)))];
  if (bad.length) {
    const shown = bad.slice(0, 5).map((c) => (/\s/u.test(c) ? JSON.stringify(c) : `“${c}”`));
    return `A name cannot contain ${shown.join(', ')}: use ${NAME_CHARS}.`;
  }
  if (name === '.' || name === '..') return `“${name}” cannot be opened from an address: add a letter.`;
  return null;
}

/**
 * What the session runs, as the saved list says it: the server stores `scenario`, which
 * for a session loaded from a text is the text's kind.
 * @param {string} scenario
 */
export function sourceLabel(scenario) {
  switch (scenario) {
    case 'workload':
      return 'workload file';
    case 'buddyinfo':
      return '/proc snapshot';
    case 'trace':
      return 'kernel trace';
    default:
      return `scenario ${scenario}`;
  }
}

/**
 * A session that runs a named scenario (an address can reopen it from its parameters).
 * @param {{scenario: string, source?: {kind?: string} | null}} config
 */
export function isScenario(config) {
  const kind = config.source?.kind;
  return kind === undefined || kind === 'scenario';
}

/**
 * The kind of text a non-scenario session was loaded from, in words ("a workload file").
 * @param {{scenario: string, source?: {kind?: string} | null}} config
 */
export function loadedFrom(config) {
  const kind = config.source?.kind ?? config.scenario;
  if (kind === 'workload') return 'a workload file';
  if (kind === 'buddyinfo') return 'a /proc snapshot';
  if (kind === 'trace') return 'a kernel trace';
  return `a ${kind}`;
}

const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');

/**
 * When an entry was saved, relative to `now` (both in seconds since the epoch): "just
 * now", "5 min ago", "3 h ago", else the local date and time.
 * @param {number} savedAt
 * @param {number} now
 */
export function whenText(savedAt, now) {
  const ago = now - savedAt;
  if (ago < 60) return 'just now';
  if (ago < 3600) return `${Math.floor(ago / 60)} min ago`;
  if (ago < 86400) return `${Math.floor(ago / 3600)} h ago`;
  const d = new Date(savedAt * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * @typedef {{name: string, saved_at: number, scenario: string, steps: number}} SavedEntry
 * @typedef {{name: string, runs: string, steps: string, when: string, title: string}} SavedRow
 */

/**
 * `GET /api/saved`'s answer checked: entries of the right shape, else an error.
 * @param {unknown} data
 * @returns {SavedEntry[]}
 */
export function decodeSaved(data) {
  if (!Array.isArray(data)) throw new TypeError('the saved sessions are not a list');
  return data.map((e, i) => {
    if (
      !e || typeof e !== 'object' || typeof e.name !== 'string' || typeof e.scenario !== 'string' ||
      !Number.isFinite(e.saved_at) || !Number.isInteger(e.steps)
    ) {
      throw new TypeError(`saved session ${i} is not {name, saved_at, scenario, steps}`);
    }
    return { name: e.name, saved_at: e.saved_at, scenario: e.scenario, steps: e.steps };
  });
}

/**
 * The saved list as the dialog shows it: newest first, each with what it runs, its
 * steps and when it was saved.
 * @param {SavedEntry[]} entries
 * @param {number} now seconds since the epoch
 * @returns {SavedRow[]}
 */
export function savedRows(entries, now) {
  return [...entries]
    .sort((a, b) => b.saved_at - a.saved_at || (a.name < b.name ? -1 : 1))
    .map((e) => ({
      name: e.name,
      runs: sourceLabel(e.scenario),
      steps: `${e.steps.toLocaleString('en-US')} step${e.steps === 1 ? '' : 's'}`,
      when: whenText(e.saved_at, now),
      title: new Date(e.saved_at * 1000).toISOString(),
    }));
}

/**
 * A name to offer for a session not saved yet: what it runs and its step, with the
 * characters a name cannot hold replaced.
 * @param {{step: number, config: {scenario: string, source?: {kind?: string, name?: string} | null}}} state
 */
export function suggestName(state) {
  const src = state.config.source;
  const what = src && src.kind !== 'scenario' && src.name ? `${src.kind} ${src.name}` : state.config.scenario;
  const suffix = ` at step ${state.step}`;
  const base = [...what].map((c) => (NAME_CHAR.test(c) ? c : '-')).slice(0, NAME_MAX - suffix.length).join('');
  return `${base}${suffix}`;
}

/**
 * What identifies a session's configuration: a `configure` that changes any of it makes
 * the session another one than the one saved.
 * @param {{scenario: string, seed: number, hinting: string, kernel: string, pcp: boolean,
 *          pages?: number | null, hinting_options?: Record<string, number>,
 *          source?: {kind?: string, name?: string} | null}} config
 */
export function configSignature(config) {
  const options = Object.entries(config.hinting_options ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([
    config.scenario, config.source?.kind ?? null, config.source?.name ?? null, config.seed, config.hinting,
    config.kernel, config.pcp, config.pages ?? null, options,
  ]);
}

/**
 * @typedef {{open: 'saved', name: string, step: number, text: string}
 *   | {open: 'scenario', text: string}
 *   | {open: 'default', text: string, keep: boolean}} Reopen
 */

/**
 * What the page opens when its session is gone (the server restarted): the saved
 * session it was saved as, at the same step; else, for a scenario, the same
 * parameters (the shareable state); else the default session, saying plainly that a
 * loaded session lasts only while the server runs unless it is saved.  With `sameId`
 * (the page holds the control token, which the server still recognises) the first two
 * come back under the lost session's id, so its followers follow it again.  A scenario
 * replays only its own steps: operations done by hand up to the step (`firstOwnStep`)
 * are not in it, and the text says so.
 * @param {string} old the lost session's id
 * @param {{step: number, config: {scenario: string, source?: {kind?: string} | null},
 *          firstOwnStep?: number | null} | null} last
 *   the lost session's last state (null when the page never saw it)
 * @param {string | null} savedName the name it was saved under
 * @param {boolean} [sameId]
 * @returns {Reopen}
 */
export function reopenAfterLoss(old, last, savedName, sameId = false) {
  const id = `${old.slice(0, 6)}…`;
  if (!last) return { open: 'default', text: `Session ${id} does not exist on this server; started a new one.`, keep: false };
  const again = `as session ${id} again, so its followers follow it again`;
  if (savedName !== null) {
    return {
      open: 'saved',
      name: savedName,
      step: last.step,
      text: sameId
        ? `The server restarted: reopened your saved session “${savedName}” at step ${last.step} ${again}.`
        : `The server restarted (session ${id} is gone): reopened your saved session “${savedName}” at step ${last.step}.`,
    };
  }
  if (isScenario(last.config)) {
    const own = last.firstOwnStep ?? null;
    const missing =
      own !== null && own <= last.step
        ? `; the operations you did by hand from step ${own} on are not in it (a scenario replays only its own steps; ` +
          'save a session by name to keep them)'
        : '';
    return {
      open: 'scenario',
      text: sameId
        ? `The server restarted: reopened ${last.config.scenario} at step ${last.step} ${again}${missing}.`
        : `The server restarted (session ${id} is gone): reopened ${last.config.scenario} at step ${last.step} in a new session${missing}.`,
    };
  }
  return {
    open: 'default',
    text:
      `The server restarted and the session loaded from ${loadedFrom(last.config)} (${id}) is gone: a loaded ` +
      'session lasts only while the server runs unless it is saved (share → save as). Opened the default session instead.',
    keep: true,
  };
}

/**
 * @typedef {{step: number, config: {scenario: string, seed: number, hinting: string, kernel: string,
 *            pages: number | null, hinting_options: Record<string, number>, source: {kind: string} | null},
 *            firstOwnStep: number | null}} LastState
 */

/**
 * What a tab keeps of its session when it unloads (a reload), so that after a server
 * restart the reloaded tab reopens it as `reopenAfterLoss` would have: the step, what
 * `shareState` and `isScenario` read, and the first step done by hand (null: none).
 * @param {{step: number, config: {scenario: string, seed: number, hinting: string, kernel: string,
 *          pages?: number | null, hinting_options?: Record<string, number>, source?: {kind?: string} | null}}} state
 * @param {number | null} [firstOwnStep] `GET /api/sessions/{id}`'s `first_own_step`
 * @returns {LastState}
 */
export function lastState(state, firstOwnStep = null) {
  const c = state.config;
  return {
    step: state.step,
    config: {
      scenario: c.scenario, seed: c.seed, hinting: c.hinting, kernel: c.kernel, pages: c.pages ?? null,
      hinting_options: { ...(c.hinting_options ?? {}) }, source: c.source?.kind ? { kind: c.source.kind } : null,
    },
    firstOwnStep,
  };
}

/**
 * `lastState` read back from storage; null for anything else (a tab's storage is the
 * user's to edit).  A state kept before `firstOwnStep` existed reads as having none.
 * @param {string | null} text
 * @returns {LastState | null}
 */
export function decodeLast(text) {
  let v;
  try {
    v = JSON.parse(text ?? '');
  } catch {
    return null;
  }
  const c = v?.config;
  const ok =
    Number.isInteger(v?.step) && v.step >= 0 && c && typeof c === 'object' &&
    typeof c.scenario === 'string' && Number.isInteger(c.seed) && typeof c.hinting === 'string' && typeof c.kernel === 'string' &&
    (c.pages === null || Number.isInteger(c.pages)) &&
    c.hinting_options && typeof c.hinting_options === 'object' && Object.values(c.hinting_options).every(Number.isFinite) &&
    (c.source === null || typeof c.source?.kind === 'string');
  const own = v?.firstOwnStep ?? null;
  return ok && (own === null || (Number.isInteger(own) && own >= 1)) ? lastState(v, own) : null;
}

/** How long a follower waits for its lost session to come back. */
export const FOLLOW_WAIT_MS = 5 * 60_000;

/**
 * When a follower whose session is gone asks again: after 0.5 s, doubling up to 5 s,
 * for FOLLOW_WAIT_MS in all; null once that time is up (it stops asking).
 * @param {number} attempt 0 for the first retry
 * @param {number} waitedMs since the session was found gone
 * @returns {number | null} milliseconds
 */
export function followRetryDelay(attempt, waitedMs) {
  if (waitedMs >= FOLLOW_WAIT_MS) return null;
  return Math.max(1, Math.min(500 * 2 ** Math.min(attempt, 10), 5000, FOLLOW_WAIT_MS - waitedMs));
}

/**
 * What a follower whose session is gone says: it waits (never opens a session of its
 * own behind the user's back), and what to do once it stops waiting.
 * @param {{session: string, seen: boolean, gaveUp: boolean}} w seen: the page showed the
 *   session before (so the server restarted or dropped it), else it never existed here
 */
export function waitingText(w) {
  const id = `${w.session.slice(0, 6)}…`;
  const minutes = FOLLOW_WAIT_MS / 60_000;
  if (w.gaveUp) {
    return (
      `The presenter's session ${id} did not come back within ${minutes} minutes. Ask the presenter for the ` +
      'follow link (share → follow link) and open it, or reload this page to wait again.'
    );
  }
  if (w.seen) {
    return `Waiting for the presenter's session ${id} to come back (the server restarted): this page follows it again as soon as the presenter's page reopens it.`;
  }
  return `No session ${id} on this server (yet): waiting for its presenter to open it; after a server restart the presenter's page reopens it.`;
}

/**
 * The share dialog's warning under the "this state" link of a scenario session whose
 * steps up to this one include operations done by hand (an address replays the
 * scenario only); null when the link opens this very state.
 * @param {number | null} firstOwnStep `GET /api/sessions/{id}`'s `first_own_step`
 * @param {number} step the step the link opens
 */
export function ownOperationsWarning(firstOwnStep, step) {
  if (firstOwnStep === null || firstOwnStep > step) return null;
  return (
    `This link replays the scenario only: the operations done by hand in this session (the first at step ${firstOwnStep}) ` +
    'are not in an address, so it opens a different state. For an exact copy, save the session by name below and share that.'
  );
}

/**
 * The share dialog's "this state" link: a scenario's parameters (any buddyscope server
 * opens them), the saved name of a loaded session (`?saved=NAME&step=N`, this
 * server's store), or none, with the reason.
 * @param {{step: number, config: {scenario: string, source?: {kind?: string} | null}}} state
 * @param {string | null} savedName
 * @returns {{kind: 'scenario' | 'saved' | 'none', text: string}}
 */
export function stateLinkKind(state, savedName) {
  if (isScenario(state.config)) {
    return { kind: 'scenario', text: 'This state (scenario, seed, strategy and its constants, kernel, step) opens as a new session:' };
  }
  if (savedName !== null) {
    return {
      kind: 'saved',
      text: `This state opens the saved session “${savedName}” (as it was saved, on this server) at step ${state.step}:`,
    };
  }
  return {
    kind: 'none',
    text:
      `No link to this state: a session loaded from ${loadedFrom(state.config)} cannot be described by an address and ` +
      'lasts only while the server runs. Save it by name below to get a link that reopens it, or share the follow link.',
  };
}

/**
 * An export document (`GET /api/sessions/{id}/export`) that opens a new session from
 * the same source as the exported one's current branch, at its start, under another
 * strategy (the comparison's second session when no /ws query can carry the source: a
 * workload file, a /proc snapshot, a trace).  The strategy's constants are the
 * kernel's: those set belong to the other strategy.
 * @param {{current: {branch: number}, branches: Array<{id: number, config: Record<string, unknown>}>,
 *          files?: Record<string, string>}} doc
 * @param {string} hinting
 */
export function sourceCopyDoc(doc, hinting) {
  const branch = doc.branches.find((b) => b.id === doc.current.branch);
  if (!branch) throw new RangeError(`the document has no branch ${doc.current.branch}`);
  return {
    format: 'buddyscope-session',
    version: 1,
    current: { branch: 0, step: 0 },
    branches: [{ id: 0, parent: null, fork_step: 0, reason: 'start', config: { ...branch.config, hinting, constants: {} }, log: [] }],
    files: doc.files ?? {},
  };
}
