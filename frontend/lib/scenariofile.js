// @ts-check
/**
 * "Save as scenario": pure helpers around `GET /api/sessions/{id}/scenario` (the
 * session's branch as a scenario file, backend/scenario_export.py): whether a session
 * has a file form, the download's file name, the notes header and the server's refusal
 * in words.  No DOM.
 */

/**
 * Why the session cannot be saved as a scenario file yet, or null when it can.  The
 * server refuses the same cases with a 409; the page says so before asking.
 * @param {{timelineLength: number, config: {source?: {kind?: string} | null}}} state
 * @returns {string | null}
 */
export function unsavableReason(state) {
  const kind = state.config.source?.kind;
  if (kind === 'buddyinfo') return 'A session started from /proc free lists has no scenario file form.';
  if (state.timelineLength === 0) return 'Nothing to save yet: take a step first.';
  return null;
}

/**
 * The download's file name: `buddyscope-<scenario>-<steps>-steps.json`, with the
 * scenario's name made safe for any file system.
 * @param {string} scenario
 * @param {number} steps the steps recorded in the branch
 */
export function scenarioFileName(scenario, steps) {
  const slug = String(scenario)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return `buddyscope-${slug || 'session'}-${steps}-step${steps === 1 ? '' : 's'}.json`;
}

/**
 * The `X-Buddyscope-Notes` header: where the file needs an extra step.
 * @param {string | null} header
 * @returns {string[]}
 */
export function exportNotes(header) {
  if (!header) return [];
  return header
    .split(' | ')
    .map((n) => n.trim())
    .filter(Boolean);
}

/**
 * A refusal of the REST API in one sentence: `{"detail": "..."}` or FastAPI's list of
 * problems, else the status.
 * @param {number} status
 * @param {string} body
 */
export function refusalText(status, body) {
  try {
    const detail = JSON.parse(body)?.detail;
    if (typeof detail === 'string' && detail) return detail;
    if (Array.isArray(detail) && detail.length) {
      return detail.map((d) => (d && typeof d.msg === 'string' ? d.msg : JSON.stringify(d))).join('; ');
    }
  } catch {
    // not JSON: fall through to the status
  }
  return `the server answered ${status}`;
}
