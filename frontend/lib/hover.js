// @ts-check
/**
 * What the hover over the free lists or the memory map says and outlines
 * (views/highlights.js), from the client state: no DOM.
 */
import { formatPfn } from './layout.js';
import { buddyOf, pixelShift } from './memmap.js';
import { pfnWithDecimal } from './pfntext.js';
import { HOST_STATE_NAMES, PAGE_STATE_NAMES } from './protocol.js';

/**
 * @typedef {import('./state.js').ClientState} ClientState
 * @typedef {{zone: string, pfn: number, order: number, role: 'block' | 'buddy' | 'cursor'}} Mark
 * @typedef {{migratetype: string, position: number, length: number}} ListPlace
 * @typedef {{zone: string, pfn: number, order: number, known: boolean, block?: ListPlace}} Hovered
 *   `known`: the page knows the block holding the frame (else just the frame, order 0);
 *   `block`: the block's place in its free list, when the page knows it.
 */

/**
 * The block of the strategy's batch (with the host) that holds `pfn`, as [pfn, order].
 * @param {ClientState} state
 * @param {number} pfn
 */
export function batchBlockAt(state, pfn) {
  return (state.hinting.batch ?? []).find(([p, o]) => pfn >= p && pfn < p + 2 ** o);
}

/**
 * The map's outlines for a hovered block: the block and, when it has one in its zone
 * that could merge with it (below the largest order), its buddy; a frame the page
 * cannot place in a block is outlined alone.
 * @param {ClientState} state
 * @param {Hovered} hb
 * @returns {Mark[]}
 */
export function hoverMarks(state, hb) {
  if (!hb.known) return [{ zone: hb.zone, pfn: hb.pfn, order: 0, role: 'cursor' }];
  /** @type {Mark[]} */
  const marks = [{ zone: hb.zone, pfn: hb.pfn, order: hb.order, role: 'block' }];
  const buddy = buddyOf(hb.pfn, hb.order);
  const z = state.zoneByName.get(hb.zone);
  if (z && buddy >= z.startPfn && buddy < z.startPfn + z.spannedPages && hb.order < state.config.max_order - 1) {
    marks.push({ zone: hb.zone, pfn: buddy, order: hb.order, role: 'buddy' });
  }
  return marks;
}

/**
 * Where a block (a frame: order 0) is in a map drawing `f` frames per pixel: the pixels
 * it fills, or the frames of the pixel it is part of; nothing at one frame per pixel.
 * @param {import('./state.js').ZoneModel} z
 * @param {number} pfn
 * @param {number} order
 * @param {number} f
 */
function pixelNote(z, pfn, order, f) {
  if (f === 1) return '';
  if (2 ** order >= f) return ` · map: ${2 ** order / f} pixels of ${f} frames`;
  const first = Math.max(z.startPfn, pfn - (pfn % f));
  const last = Math.min(z.startPfn + z.spannedPages, pfn - (pfn % f) + f) - 1;
  return ` · map pixel: ${last - first + 1} frames, ${formatPfn(first)}–${formatPfn(last)}`;
}

/**
 * The hover line: the frame or block, its place in its free list, its buddy, its page
 * state (hinted or reported, as the strategy calls it), what backs it on the host and,
 * in a zone whose map draws several frames per pixel, the frames of its pixel.
 * @param {ClientState} state
 * @param {Hovered} hb
 */
export function describeHover(state, hb) {
  const z = state.zoneByName.get(hb.zone);
  if (!z) return '';
  const i = hb.pfn - z.startPfn;
  const ps = PAGE_STATE_NAMES[z.pageState[i]] ?? '?';
  const host = HOST_STATE_NAMES[z.hostBacking[i]] ?? '?';
  const flag = state.hinting.strategy === 'reporting' ? 'reported' : 'hinted';
  const stateName = ps === 'hinted' ? flag : ps;
  const pixel = pixelNote(z, hb.pfn, hb.known ? hb.order : 0, 2 ** pixelShift(z.spannedPages, state.config.pageblock_order));
  if (!hb.known) return `${hb.zone} pfn ${pfnWithDecimal(hb.pfn)} · ${stateName} · host: ${host}${pixel}`;
  const b = hb.block;
  const pos = b ? ` · ${b.migratetype} list #${b.position + 1} of ${b.length}` : '';
  return `${hb.zone} block ${pfnWithDecimal(hb.pfn)} order ${hb.order}${pos} · buddy ${formatPfn(buddyOf(hb.pfn, hb.order))} · ${stateName} · host: ${host}${pixel}`;
}
