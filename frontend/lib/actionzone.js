// @ts-check
/**
 * Which zone the free lists and the map show: the one a step happened in (unless the
 * user picked a zone), and the one to show first.  Pure logic, no DOM.
 */

/**
 * The zone most of the step's events name (the first named wins a tie), or null when
 * none names a zone the state has.
 * @param {Array<{zone?: string | null}>} events
 * @param {{has: (name: string) => boolean}} zones
 * @returns {string | null}
 */
export function actionZone(events, zones) {
  /** @type {Map<string, number>} */
  const counts = new Map();
  for (const e of events) {
    const z = e.zone;
    if (typeof z === 'string' && zones.has(z)) counts.set(z, (counts.get(z) ?? 0) + 1);
  }
  let best = null;
  let most = 0;
  for (const [z, n] of counts) {
    if (n > most) {
      best = z;
      most = n;
    }
  }
  return best;
}

/**
 * The zone to show first: the one holding the strategy's batch, else Normal (where
 * allocations go first), else the largest.
 * @param {import('./state.js').ClientState} state
 */
export function defaultZone(state) {
  const named = state.hinting.zone ?? state.hinting.active_zone;
  if (typeof named === 'string' && state.zoneByName.has(named)) return named;
  if (state.zoneByName.has('Normal')) return 'Normal';
  let best = state.zones[0];
  for (const z of state.zones) if (z.spannedPages > best.spannedPages) best = z;
  return best ? best.name : '';
}
