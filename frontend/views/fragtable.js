// @ts-check
/**
 * The unusable free space index table (lib/fragmentation.js), laid out as debugfs
 * `extfrag/unusable_index` prints it: orders as columns, one row per zone, each value in
 * the kernel's format and shaded by how much of the free memory an allocation of that
 * order cannot use.  The orders come in two bands (0-5, 6-10) so the table is a few lines
 * high and every value whole in the side column at 1280 px: the state panel shows it
 * without scrolling when a step changes it (fragmentation's lesson, orders 9 and 10).
 * Used by the state panel (a session) and the live host view (this machine).
 *
 * Each value cell is `td[data-zone][data-order]` with the value in thousandths in
 * `data-value`; a zone's cells come in order of the order.
 */
import { orderBands } from '../lib/fragmentation.js';
import { h } from './dom.js';

/** Both bands are as wide as the first. */
const BANDS = 2;

/**
 * @param {import('../lib/fragmentation.js').UnusableTable} table
 * @param {{selected?: string, caption?: string}} [options]
 */
export function unusableTableElement(table, options = {}) {
  const caption = options.caption ?? 'unusable free space index (0 = all usable, 1 = none)';
  const bands = orderBands(table.rows.length, BANDS);
  const width = bands[0].length;
  const selected = (/** @type {string} */ zone) => (zone === options.selected ? ' selected' : '');
  return h(
    'table',
    {
      class: 'unusable',
      'data-zones': table.zones.join(','),
      title:
        'Gorman & Whitcroft: the share of the free memory in blocks too small for a request of the order; 0 = every free page is usable, 1 = none',
    },
    [
      h('caption', {}, [caption]),
      ...bands.map((orders) =>
        h('tbody', {}, [
          h('tr', { class: 'orders' }, [
            h('th', { scope: 'col' }, ['order']),
            ...orders.map((order) => h('th', { scope: 'col', class: 'num' }, [String(order)])),
            ...pad(width - orders.length, 'th'),
          ]),
          ...table.zones.map((zone, z) =>
            h('tr', { 'data-zone': zone }, [
              h('th', { scope: 'row', class: `zone${selected(zone)}` }, [zone]),
              ...orders.map((order) => {
                const c = table.rows[order].cells[z];
                return h(
                  'td',
                  {
                    class: `num lvl-${c.level}${selected(zone)}`,
                    'data-zone': zone,
                    'data-order': order,
                    'data-value': c.value === null ? '' : c.value,
                    title: c.label,
                  },
                  [c.text],
                );
              }),
              ...pad(width - orders.length, 'td'),
            ]),
          ),
        ]),
      ),
    ],
  );
}

/**
 * Empty cells that square a shorter band off.
 * @param {number} n
 * @param {'th' | 'td'} tag
 */
function pad(n, tag) {
  return Array.from({ length: n }, () => h(tag, { class: 'pad', 'aria-hidden': 'true' }));
}
