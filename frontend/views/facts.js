// @ts-check
/**
 * The header's facts about the session (where it came from, its strategy, kernel, seed
 * and per-cpu lists), and the notes that say a /proc snapshot's layout is the page's
 * invention (the files give counts, not places).
 */
import { pagesFact } from '../lib/urlstate.js';
import { byId, h, replaceKids } from './dom.js';
import { sourceFactElement } from './loadpanel.js';

/** Each strategy's name, whole and compact (the compact one where the header is short of room). */
const STRATEGY_NAMES = /** @type {Record<string, [string, string]>} */ ({
  none: ['no hinting', 'no hinting'],
  'hinting-v2': ['v2 hinted pages', 'v2 hinting'],
  reporting: ['free page reporting', 'reporting'],
});

/**
 * A fact with two wordings: the whole one, and a compact one shown when the whole one
 * does not fit (a 1280 px header with a "what if" kernel).  The whole wording stays in
 * the tooltip unless `title` says more.
 * @param {string} cls @param {string} whole @param {string} compact @param {string} [title]
 */
function wordedFact(cls, whole, compact, title) {
  return h('span', { class: cls, title: title ?? whole, 'data-whole': whole, 'data-compact': compact }, [whole]);
}

/**
 * Shows each two-worded fact whole where it fits, compact where it does not, head to
 * tail: compacting the strategy first leaves room for the kernel, so the kernel's
 * "what if" is cut to "…" only where even its compact form cannot fit.
 */
export function fitFacts() {
  const facts = /** @type {HTMLElement[]} */ ([...byId('session-facts').querySelectorAll('[data-compact]')]);
  for (const f of facts) f.textContent = f.dataset.whole ?? '';
  for (const f of facts) if (f.scrollWidth > f.clientWidth) f.textContent = f.dataset.compact ?? '';
}

/** @type {ResizeObserver | null} */
let fitter = null;

/** @param {import('../lib/state.js').ClientState} state */
export function drawFacts(state) {
  const c = state.config;
  const size = pagesFact(c, state.zones.map((z) => z.name));
  replaceKids(byId('session-facts'), [
    size ? h('span', { class: 'fact scenario source k-pages', id: 'source-fact', 'data-kind': 'pages', title: size.title }, [size.text]) : sourceFactElement(c),
    wordedFact(`fact strategy s-${c.hinting}`, ...(STRATEGY_NAMES[c.hinting] ?? [c.hinting, c.hinting])),
    c.what_if
      ? wordedFact('fact kernel what-if', `Linux ${c.kernel} · what if`, `${c.kernel} · what if`, c.what_if)
      : h('span', { class: 'fact kernel' }, [`Linux ${c.kernel}`]),
    h('span', { class: 'fact' }, [`seed ${c.seed}`]),
    c.pcp ? h('span', { class: 'fact' }, ['pcp']) : null,
  ]);
  fitFacts();
  if (!fitter) {
    fitter = new ResizeObserver(() => fitFacts());
    fitter.observe(byId('session-facts'));
  }
  // A /proc snapshot gives counts, not places: the page says which is which.
  const invented = c.source?.kind === 'buddyinfo';
  byId('layout-note').hidden = !invented;
  byId('map-layout-note').hidden = !invented;
}
