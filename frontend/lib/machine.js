// @ts-check
/**
 * A session seeded from this machine ("open as a session" in the live view): the
 * request that makes it, and whether a reading allows it.  The server reads the
 * machine frame by frame when asked (allocator_model/sources/machine.py), so the
 * session starts from that moment's free blocks, reported marks, zones and watermarks,
 * and runs the model's newest kernel rules forward.
 */

/** The route that seeds a session from the machine the server runs on. */
export const MACHINE_ROUTE = '/api/sessions/from-machine';

/**
 * The request that creates a session from this machine.
 * @param {{hinting?: string}} [overrides] an empty value keeps the seed's (reporting)
 * @returns {{url: string, init: RequestInit}}
 */
export function machineRequest(overrides = {}) {
  const q = new URLSearchParams();
  if (overrides.hinting) q.set('hinting', overrides.hinting);
  const query = q.toString();
  return {
    url: `${MACHINE_ROUTE}${query ? `?${query}` : ''}`,
    // An empty POST still carries the page's header (backend/guard.py refuses a bare one).
    init: { method: 'POST', headers: { accept: 'application/json', 'x-buddyscope-client': 'page' } },
  };
}

/**
 * Whether a reading lets the page offer a seeded session, and if not, why.
 * @param {{frames: unknown, messages: string[]} | null} reading
 * @returns {{ok: boolean, why: string}}
 */
export function canSeed(reading) {
  if (!reading) return { ok: false, why: 'waiting for the first reading' };
  if (reading.frames) return { ok: true, why: 'a session whose free blocks, reported marks, zones and watermarks are this machine\'s now; the model\'s rules run forward from there' };
  const why = reading.messages.find((m) => m.includes('kpageflags')) || 'needs /proc/kpageflags (root)';
  return { ok: false, why: `a session is seeded frame by frame: ${why}` };
}
