// @ts-check
/**
 * The keys of the free lists (migratetypes, flagged blocks, the blocks with the host,
 * the v2 boundary) and of the memory map (the frame states this session can show, free
 * frames tinted by their pageblock's migratetype), drawn from a snapshot.
 */
import { migratetypeSlug } from '../lib/layout.js';
import { FRAME_COLOURS, frameSwatch, migratetypeColours, TINTED_FRAMES } from '../lib/palette.js';
import { byId, h, replaceKids } from './dom.js';

/** @param {import('../lib/state.js').ClientState} state */
export function drawLegends(state) {
  const flag = state.hinting.strategy === 'reporting' ? 'reported' : 'hinted';
  const mts = state.config.migratetypes;
  const colours = migratetypeColours(mts);
  replaceKids(byId('legend-lists'), [
    ...mts
      .filter((mt) => mt !== 'Isolate')
      .map((mt) => h('span', { class: `legend-item mt mt-${migratetypeSlug(mt)}` }, [h('span', { class: 'swatch', style: `background:${colours[mts.indexOf(mt)]}` }), mt])),
    state.hinting.strategy !== 'none'
      ? h('span', { class: 'legend-item' }, [h('span', { class: 'chip flagged sample' }, [h('span', { class: 'mark' }, [flag === 'hinted' ? 'H' : 'R'])]), flag])
      : null,
    state.hinting.strategy !== 'none' ? h('span', { class: 'legend-item' }, [h('span', { class: 'chip isolated sample' }, ['o9']), 'with the host']) : null,
    state.hinting.strategy === 'hinting-v2' ? h('span', { class: 'legend-item' }, [h('span', { class: 'boundary sample' }), 'boundary']) : null,
  ]);
  // Only the frame states this session can show.
  const hinting = state.hinting.strategy !== 'none';
  const cats = /** @type {Array<keyof typeof FRAME_COLOURS>} */ ([
    'allocated',
    'free',
    ...(hinting ? ['flagged', 'flaggedDiscarded', 'isolated', 'freeDiscarded', 'allocatedDiscarded'] : []),
    ...(state.config.pcp ? ['pcp'] : []),
  ]);
  // Free frames take their pageblock's migratetype tint: one swatch per migratetype,
  // each named (as in the lists' legend).
  const tints = mts.map((_, i) => i).filter((i) => mts[i] !== 'Isolate');
  byId('legend-map').replaceChildren(
    ...cats.map((c) => {
      const label = FRAME_COLOURS[c].label.replace('hinted / reported', flag);
      if (!TINTED_FRAMES.has(c)) {
        return h('span', { class: 'legend-item', 'data-frame': c }, [h('span', { class: 'swatch', style: `background:${frameSwatch(c, colours[0])}` }), label]);
      }
      return h('span', { class: 'legend-item tints', 'data-frame': c }, [
        h('span', { class: 'tints-label' }, [`${label}, in a pageblock of`]),
        ...tints.map((i) =>
          h('span', { class: 'legend-item' }, [
            h('span', { class: 'swatch', 'data-migratetype': mts[i], title: `${label} in a ${mts[i]} pageblock`, style: `background:${frameSwatch(c, colours[i])}` }),
            mts[i],
          ]),
        ),
      ]);
    }),
    h('span', { class: 'legend-item' }, [h('span', { class: 'swatch outline' }), 'pageblock outline = its migratetype']),
  );
  // One line above the map (the full key opens under it): a swatch per frame state.
  byId('legend-map-short').replaceChildren(
    ...cats.map((c) => {
      const label = FRAME_COLOURS[c].short.replace('hinted', flag);
      return h('span', { class: 'legend-item', title: FRAME_COLOURS[c].label.replace('hinted / reported', flag) }, [h('span', { class: 'swatch', style: `background:${frameSwatch(c, colours[mts.indexOf('Movable')] ?? colours[0])}` }), label]);
    }),
  );
}
