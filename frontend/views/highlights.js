// @ts-check
/**
 * What one session's lists and map outline (views/session.js): the block under the
 * hover (a chip, or a map frame: the block the page knows holds it, or the model's
 * answer once the pointer rests on the unsent middle of a long list) and its buddy, the
 * block the inspector is open on, and the blocks the event picked in the narration
 * touched; the hover line says what the hovered frame or block is (lib/hover.js).
 */
import { answeredBlock, knownFreeBlock } from '../lib/freeblock.js';
import { batchBlockAt, describeHover, hoverMarks } from '../lib/hover.js';
import { buddyOf } from '../lib/memmap.js';
import { markBlock } from './freelists.js';
import { PageQuery } from './inspector.js';

/**
 * @typedef {import('../lib/hover.js').Mark} Mark
 * @typedef {import('../lib/hover.js').Hovered} Hovered
 */

export class Highlights {
  /** @param {import('./session.js').Session} session */
  constructor(session) {
    this.session = session;
    /** @type {{zone: string, pfn: number} | null} */
    this.hover = null;
    /** The order of the chip hovered (a block); undefined for a map frame. */
    /** @type {number | undefined} */
    this.hoverOrder = undefined;
    /** The model's answers about hovered frames the lists do not draw (node.page). */
    this.pages = new PageQuery(() => session.state);
    /** @type {Mark[]} what the event picked in the narration touched (views/substeps.js) */
    this.eventMarks = [];
  }

  /**
   * Hover from the map (a frame) or from a chip (a block).
   * @param {string | null} zone
   * @param {number | null} pfn
   * @param {number} [order]
   */
  setHover(zone, pfn, order) {
    if (this.hover?.zone !== zone || this.hover?.pfn !== pfn) this.pages.cancel();
    this.hover = zone === null || pfn === null ? null : { zone, pfn };
    this.hoverOrder = order;
    this.apply();
  }

  /**
   * Outline the blocks an event touched, chips and map (beside the hover and the selection).
   * @param {Mark[]} marks
   */
  setEventMarks(marks) {
    this.eventMarks = marks;
    this.apply();
  }

  /**
   * The block under the hover, as far as the page knows it.
   * @returns {Hovered | null}
   */
  hoveredBlock() {
    const state = this.session.state;
    if (!state || !this.hover) return null;
    const zone = state.zoneByName.get(this.hover.zone);
    if (!zone) return null;
    const pfn = this.hover.pfn;
    if (this.hoverOrder !== undefined) {
      return { zone: zone.name, pfn, order: this.hoverOrder, known: true };
    }
    const block = knownFreeBlock(zone, pfn, state.config.max_order);
    if (block) return { zone: zone.name, pfn: block.pfn, order: block.order, known: true, block };
    const inBatch = batchBlockAt(state, pfn);
    if (inBatch) return { zone: zone.name, pfn: inBatch[0], order: inBatch[1], known: true };
    const ps = zone.pageState[pfn - zone.startPfn];
    if (ps === 0 || ps === 2) {
      // A free block in the unsent middle of a long list: the model says which block,
      // once the pointer rests on it.
      const answered = answeredBlock(this.pages.cached(state, pfn));
      if (answered) return { zone: zone.name, pfn: answered.pfn, order: answered.order, known: true, block: answered };
      this.pages.later(pfn, () => this.apply());
    }
    return { zone: zone.name, pfn, order: 0, known: false };
  }

  /** Draw the outlines and the hover line anew (after a redraw, a hover, a pick). */
  apply() {
    const { state, views, selected, selectedZone, map } = this.session;
    if (!state) return;
    const lists = views.freelists;
    /** @type {Mark[]} */
    const marks = [];
    for (const el of lists.querySelectorAll('.hl, .hl-buddy, .sub-hl')) el.classList.remove('hl', 'hl-buddy', 'sub-hl');
    // The chips of the event picked in the narration (redrawn lists keep the outline).
    for (const m of this.eventMarks) {
      if (m.zone === selectedZone) lists.querySelector(`.chip[data-key="${m.zone}:${m.pfn}:${m.order}"]`)?.classList.add('sub-hl');
    }
    const hb = this.hoveredBlock();
    const hoverLine = views.hover;
    if (selected) marks.push({ zone: selected.zone, pfn: selected.pfn, order: selected.order, role: 'block' });
    if (hb) {
      marks.push(...hoverMarks(state, hb));
      if (hb.known && hb.zone === selectedZone) {
        markBlock(lists, hb.zone, hb.pfn, hb.order, hb.block);
        lists.querySelector(`.chip[data-key="${hb.zone}:${buddyOf(hb.pfn, hb.order)}:${hb.order}"]`)?.classList.add('hl-buddy');
      }
    }
    // Written only when it changes: this runs with every redraw of the lists.
    const line = hb ? describeHover(state, hb) : 'hover a frame or a block; click to inspect';
    if (hoverLine && hoverLine.textContent !== line) hoverLine.textContent = line;
    map.highlight([...marks, ...this.eventMarks]);
  }
}
