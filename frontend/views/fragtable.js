// @ts-check
/**
 * The unusable free space index table (lib/fragmentation.js): one row per order, one
 * column per zone, each value in the kernel's format and shaded by how much of the
 * free memory an allocation of that order cannot use.  Used by the state panel (a
 * session) and the live host view (this machine).
 */
import { h } from './dom.js';

/**
 * @param {import('../lib/fragmentation.js').UnusableTable} table
 * @param {{selected?: string, caption?: string}} [options]
 */
export function unusableTableElement(table, options = {}) {
  const caption =
    options.caption ??
    'unusable free space index (Gorman & Whitcroft): the share of free memory in blocks too small for the order; 0 = all usable, 1 = none';
  return h('table', { class: 'unusable', 'data-zones': table.zones.join(',') }, [
    h('caption', {}, [caption]),
    h('thead', {}, [
      h('tr', {}, [
        h('th', { scope: 'col' }, ['order']),
        ...table.zones.map((z) => h('th', { scope: 'col', class: `num${z === options.selected ? ' selected' : ''}` }, [z])),
      ]),
    ]),
    h(
      'tbody',
      {},
      table.rows.map((row) =>
        h('tr', { 'data-order': row.order }, [
          h('th', { scope: 'row' }, [String(row.order)]),
          ...row.cells.map((c) =>
            h(
              'td',
              {
                class: `num lvl-${c.level}${c.zone === options.selected ? ' selected' : ''}`,
                'data-zone': c.zone,
                'data-value': c.value === null ? '' : c.value,
                title: c.label,
              },
              [c.text],
            ),
          ),
        ]),
      ),
    ),
  ]);
}
