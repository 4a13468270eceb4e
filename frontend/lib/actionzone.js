// @ts-check
/**
 * Which zone a step happened in, so that the free lists and the map show it (unless the
 * user picked a zone).  Pure logic, no DOM.
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
