// @ts-check
/**
 * The header's facts about the session (where it came from, its strategy, kernel, seed
 * and per-cpu lists), and the notes that say a /proc snapshot's layout is the page's
 * invention (the files give counts, not places).
 */
import { pagesFact } from '../lib/urlstate.js';
import { byId, h, replaceKids } from './dom.js';
import { sourceFactElement } from './loadpanel.js';

const STRATEGY_SHORT = /** @type {Record<string, string>} */ ({ none: 'no hinting', 'hinting-v2': 'v2 hinted pages', reporting: 'free page reporting' });

/** @param {import('../lib/state.js').ClientState} state */
export function drawFacts(state) {
  const c = state.config;
  const size = pagesFact(c, state.zones.map((z) => z.name));
  replaceKids(byId('session-facts'), [
    size ? h('span', { class: 'fact scenario source k-pages', id: 'source-fact', 'data-kind': 'pages', title: size.title }, [size.text]) : sourceFactElement(c),
    h('span', { class: `fact strategy s-${c.hinting}` }, [STRATEGY_SHORT[c.hinting] ?? c.hinting]),
    c.what_if
      ? h('span', { class: 'fact kernel what-if', title: c.what_if }, [`Linux ${c.kernel} · what if`])
      : h('span', { class: 'fact kernel' }, [`Linux ${c.kernel}`]),
    h('span', { class: 'fact' }, [`seed ${c.seed}`]),
    c.pcp ? h('span', { class: 'fact' }, ['pcp']) : null,
  ]);
  // A /proc snapshot gives counts, not places: the page says which is which.
  const invented = c.source?.kind === 'buddyinfo';
  byId('layout-note').hidden = !invented;
  byId('map-layout-note').hidden = !invented;
}
