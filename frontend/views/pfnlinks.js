// @ts-check
/**
 * A pfn named in the narration is a link to its block: activating it opens the
 * inspector on it (which selects the block, so the lists and the map show it), e.g.
 * hildenbrand's "Inspect pfn 0x4000".
 *
 * Each hex number of the narration that is a frame of the session (not a page_type
 * value) becomes a real button, reached with Tab and pressed with Enter or Space.  A
 * click puts the focus where a click on the plain word would (mousedown is held back),
 * never on the link, so after a click Space still plays or pauses, as everywhere
 * (lib/keys.js): a focused link was reached with the keyboard, and Space presses it.
 */
import { formatPfn } from '../lib/layout.js';
import { h } from './dom.js';

/** @typedef {import('../lib/state.js').ClientState} ClientState */

/**
 * @param {HTMLElement} narration
 * @param {() => ClientState | null} state
 * @param {(zone: string, pfn: number) => void} inspect
 */
export function linkPfns(narration, state, inspect) {
  const zoneOf = (/** @type {number} */ pfn) =>
    state()?.zones.find((z) => pfn >= z.startPfn && pfn < z.startPfn + z.spannedPages) ?? null;
  const upgrade = () => {
    for (const span of narration.querySelectorAll('span.pfn')) {
      const pfn = Number.parseInt(span.textContent ?? '', 16);
      const zone = zoneOf(pfn);
      if (!zone) continue;
      span.replaceWith(
        h(
          'button',
          {
            type: 'button',
            class: 'pfn pfn-link',
            // The decimal value on hover, as every pfn shows it (views/dom.js withPfns).
            title: span.getAttribute('title'),
            'aria-label': `inspect pfn ${formatPfn(pfn)}`,
            'data-pfn': pfn,
            'data-zone': zone.name,
          },
          [span.textContent ?? ''],
        ),
      );
    }
  };
  // The narration is drawn anew for every step (views/log.js): its numbers are linked
  // as they arrive.
  new MutationObserver(upgrade).observe(narration, { childList: true, subtree: true });
  upgrade();
  narration.addEventListener('mousedown', (e) => {
    const link = /** @type {HTMLElement} */ (e.target).closest('.pfn-link');
    if (!link) return;
    // The focus goes where a click on the plain word would put it (the event list, or
    // nowhere), not to the link, and not left where it was (on the map, the arrows
    // would move its cursor instead of stepping).
    e.preventDefault();
    const host = link.parentElement?.closest('[tabindex]');
    if (host instanceof HTMLElement) host.focus({ preventScroll: true });
    else if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  });
  narration.addEventListener('click', (e) => {
    const link = /** @type {HTMLElement} */ (e.target).closest('.pfn-link');
    if (!(link instanceof HTMLElement)) return;
    inspect(String(link.dataset.zone), Number(link.dataset.pfn));
  });
}
