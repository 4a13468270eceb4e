// @ts-check
/**
 * The hand operations: allocate a block (order, migratetype, zone) and let time pass.
 * The selects offer what the session's node has (its orders, migratetypes and zones).
 */
import { byId, h } from './dom.js';

/** Migratetypes an allocation may ask for. */
const ALLOC_TYPES = ['Movable', 'Unmovable', 'Reclaimable'];

export class HandOperations {
  /** @param {(type: string, fields?: Record<string, unknown>) => Promise<boolean>} command */
  constructor(command) {
    this.alloc = /** @type {HTMLFormElement} */ (byId('form-alloc'));
    this.alloc.addEventListener('submit', (e) => {
      e.preventDefault();
      const f = this.alloc;
      const fields = /** @type {Record<string, unknown>} */ ({
        order: Number(/** @type {HTMLSelectElement} */ (f.elements.namedItem('order')).value),
        migratetype: /** @type {HTMLSelectElement} */ (f.elements.namedItem('migratetype')).value,
      });
      const zone = /** @type {HTMLSelectElement} */ (f.elements.namedItem('zone')).value;
      if (zone) fields.zone = zone;
      command('alloc', fields);
    });
    byId('form-advance').addEventListener('submit', (e) => {
      e.preventDefault();
      const seconds = Number(/** @type {HTMLInputElement} */ (/** @type {HTMLFormElement} */ (e.target).elements.namedItem('seconds')).value);
      command('advance', { seconds });
    });
  }

  /** @param {import('../lib/state.js').ClientState} state */
  fill(state) {
    const alloc = this.alloc;
    const orderSel = /** @type {HTMLSelectElement} */ (alloc.elements.namedItem('order'));
    if (orderSel.options.length !== state.config.max_order) {
      orderSel.replaceChildren(...Array.from({ length: state.config.max_order }, (_, o) => h('option', { value: o }, [String(o)])));
    }
    const mtSel = /** @type {HTMLSelectElement} */ (alloc.elements.namedItem('migratetype'));
    const types = ALLOC_TYPES.filter((t) => state.config.migratetypes.includes(t));
    if (mtSel.options.length !== types.length) mtSel.replaceChildren(...types.map((t) => h('option', { value: t }, [t])));
    const zoneSel = /** @type {HTMLSelectElement} */ (alloc.elements.namedItem('zone'));
    const zoneSig = state.zones.map((z) => z.name).join(',');
    if (zoneSel.dataset.sig !== zoneSig) {
      zoneSel.dataset.sig = zoneSig;
      zoneSel.replaceChildren(h('option', { value: '' }, ['any zone']), ...state.zones.map((z) => h('option', { value: z.name }, [z.name])));
    }
  }
}
