// @ts-check
/**
 * Sessions from a source text (a workload file, a real machine's /proc snapshot, a kmem
 * trace): the upload request for the server's REST routes, the server's refusals as
 * readable problems, and where a session came from as one short fact.  Pure logic, no
 * DOM (views/loadpanel.js draws it).
 *
 * The routes (docs/protocol.md, backend/rest/sessions.py) take the text as the request body and
 * answer 201 with the new session and its control token, or a refusal: 422 with one
 * entry per problem (a workload file's entries start "line N: field: ..."), 413 over
 * the size limit, 409/503 as plain sentences.
 */

/**
 * @typedef {'workload' | 'proc' | 'trace'} SourceKind
 * @typedef {{route: string, contentType: string, title: string, accept: string}} KindInfo
 * @typedef {{text: string, line: number | null}} Problem
 * @typedef {{events: Record<string, number>, unknown_lines: number, unknown_examples: number[],
 *            unmatched_frees: number, duration_s: number, steps: number, summary: string}} TraceSummary
 * @typedef {{kind: string, name: string, title?: string, summary?: string, look_for?: string,
 *            questions?: number, trace?: TraceSummary | null, notes?: string[]}} SourceInfo
 */

/** @type {Readonly<Record<SourceKind, KindInfo>>} */
export const SOURCE_KINDS = Object.freeze({
  workload: {
    route: '/api/sessions/from-workload',
    contentType: 'application/json',
    title: 'workload or scenario file',
    accept: '.json,application/json',
  },
  proc: {
    route: '/api/sessions/from-proc',
    contentType: 'text/plain',
    title: '/proc/buddyinfo (+ /proc/pagetypeinfo)',
    accept: '',
  },
  trace: {
    route: '/api/sessions/from-trace',
    contentType: 'text/plain',
    title: 'kernel trace (kmem page events)',
    accept: '.trace,.txt,.dat.txt,text/plain',
  },
});

/** Strategies a source may be run under (the routes' `hinting` query). */
export const STRATEGY_OVERRIDES = Object.freeze(['none', 'hinting-v2', 'reporting']);

/**
 * The request that creates a session from `text`.
 * @param {SourceKind} kind
 * @param {string} text
 * @param {{hinting?: string}} [overrides] an empty value keeps what the source says
 * @returns {{url: string, init: RequestInit}}
 */
export function uploadRequest(kind, text, overrides = {}) {
  const info = SOURCE_KINDS[kind];
  if (!info) throw new RangeError(`no source kind ${JSON.stringify(kind)}`);
  const q = new URLSearchParams();
  if (overrides.hinting) {
    if (!STRATEGY_OVERRIDES.includes(overrides.hinting)) throw new RangeError(`no strategy ${JSON.stringify(overrides.hinting)}`);
    q.set('hinting', overrides.hinting);
  }
  const query = q.toString();
  return {
    url: `${info.route}${query ? `?${query}` : ''}`,
    // The custom header: a text/plain body is what any site's form can post (backend/guard.py).
    init: { method: 'POST', headers: { 'content-type': info.contentType, accept: 'application/json', 'x-buddyscope-client': 'page' }, body: text },
  };
}

/** @param {string} text */
function problem(text) {
  const m = /^line (\d+)\b/.exec(text);
  return { text, line: m ? Number(m[1]) : null };
}

/**
 * The server's refusal as problems, its sentences kept verbatim.  A 422 lists one
 * entry per problem: a source text's own problems (`type: invalid_file`, the message
 * names the line and field) or a query parameter that does not validate (named by its
 * field).
 * @param {number} status
 * @param {unknown} body the parsed JSON answer, or its text when it was not JSON
 * @returns {Problem[]}
 */
export function problemsOf(status, body) {
  const detail = body !== null && typeof body === 'object' ? /** @type {any} */ (body).detail : undefined;
  if (Array.isArray(detail) && detail.length) {
    return detail.map((/** @type {any} */ d) => {
      const msg = typeof d?.msg === 'string' ? d.msg : JSON.stringify(d);
      if (d?.type === 'invalid_file') return problem(msg);
      const where = Array.isArray(d?.loc) ? d.loc.filter((/** @type {unknown} */ p) => p !== 'body' && p !== 'query').join('.') : '';
      return problem(where ? `${where}: ${msg}` : msg);
    });
  }
  if (typeof detail === 'string') return [problem(detail)];
  const text = typeof body === 'string' ? body.trim().slice(0, 300) : '';
  return [problem(`the server answered ${status}${text ? `: ${text}` : ' without a reason'}`)];
}

/**
 * Files for the /proc route in the order it reads them: buddyinfo, then pagetypeinfo
 * (from its "Page block order:" line), whatever order they were chosen in.
 * @param {string[]} texts
 */
export function joinProcTexts(texts) {
  const isPti = (/** @type {string} */ t) => t.includes('Page block order:');
  const ordered = [...texts.filter((t) => !isPti(t)), ...texts.filter(isPti)];
  return ordered.map((t) => (t.endsWith('\n') || t === '' ? t : `${t}\n`)).join('');
}

/**
 * Character offsets of a 1-based line of `text` (to select it in the text box), or
 * null when the text has no such line.
 * @param {string} text
 * @param {number} line
 * @returns {{start: number, end: number} | null}
 */
export function lineSpan(text, line) {
  if (!Number.isInteger(line) || line < 1) return null;
  let start = 0;
  for (let n = 1; n < line; n += 1) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return null;
    start = nl + 1;
  }
  if (start > text.length || (start === text.length && line > 1)) return null;
  const nl = text.indexOf('\n', start);
  return { start, end: nl < 0 ? text.length : nl };
}

/** @param {number} n @param {string} one @param {string} [many] */
const plural = (n, one, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/**
 * Where a session came from, as the top bar shows it: a short text and the details
 * behind it (the trace's import summary, a snapshot's layout notes, a scenario's
 * title and summary).
 * @param {SourceInfo | null | undefined} source
 * @param {string} scenario config.scenario (shown when the server sends no source)
 * @returns {{kind: string, text: string, details: string[]}}
 */
export function sourceFact(source, scenario) {
  if (!source) return { kind: 'scenario', text: scenario, details: [] };
  const details = [source.title, source.summary].filter((s) => typeof s === 'string' && s !== '');
  if (source.look_for) details.push(`Look for: ${source.look_for}`);
  if (source.questions) details.push(`${plural(source.questions, 'quiz question')} in the file`);
  switch (source.kind) {
    case 'workload':
      return { kind: 'workload', text: `workload ${source.name}`, details };
    case 'buddyinfo':
      return { kind: 'buddyinfo', text: 'buddyinfo of a real machine', details: [...details, ...(source.notes ?? [])] };
    case 'machine':
      return { kind: 'machine', text: 'this machine, frame by frame', details: [...details, ...(source.notes ?? [])] };
    case 'trace': {
      const t = source.trace;
      if (!t) return { kind: 'trace', text: 'trace', details };
      const events = Object.values(t.events).reduce((a, b) => a + b, 0);
      const lines = [
        ...Object.entries(t.events).map(([name, n]) => `${name}: ${n.toLocaleString('en-US')}`),
        `${plural(t.steps, 'workload step')} over ${t.duration_s} s of trace`,
        `${plural(t.unknown_lines, 'unknown line')} skipped${t.unknown_examples.length ? ` (e.g. line ${t.unknown_examples.join(', ')})` : ''}`,
        `${plural(t.unmatched_frees, 'free')} of pages allocated before the trace began (not replayed)`,
      ];
      return {
        kind: 'trace',
        text: `trace: ${plural(events, 'event')}, ${plural(t.unknown_lines, 'unknown line')} skipped`,
        details: [...lines, ...details.filter((d) => d !== t.summary)],
      };
    }
    default:
      return { kind: source.kind, text: source.name, details };
  }
}
