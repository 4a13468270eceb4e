// @ts-check
/**
 * A pfn named in the narration is a link to its block: a click opens the inspector on
 * it (which selects the block, so the lists and the map show it), e.g. hildenbrand's
 * "Inspect pfn 0x4000".
 */

/** @typedef {import('../lib/state.js').ClientState} ClientState */

/**
 * @param {HTMLElement} narration
 * @param {() => ClientState | null} state
 * @param {(zone: string, pfn: number) => void} inspect
 */
export function linkPfns(narration, state, inspect) {
  narration.addEventListener('click', (e) => {
    const span = /** @type {HTMLElement} */ (e.target).closest('.pfn');
    const s = state();
    if (!span || !s) return;
    const pfn = Number.parseInt(span.textContent ?? '', 16);
    const zone = s.zones.find((z) => pfn >= z.startPfn && pfn < z.startPfn + z.spannedPages);
    if (zone) inspect(zone.name, pfn);
  });
}
