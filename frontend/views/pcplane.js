// @ts-check
/**
 * The per-cpu lists lane under the free lists: per CPU, its count against `high` and
 * its lists by order and migratetype (`lib/pcp.js` decides what; this draws it).
 */
import { cellTitle, pcpLane } from '../lib/pcp.js';
import { MIGRATETYPE_COLOURS, OTHER_MIGRATETYPE } from '../lib/palette.js';
import { h as el } from './dom.js';

/**
 * Draw the lane of `zone` into `root`.
 * @param {HTMLElement} root
 * @param {{config: {pcp: boolean}}} state
 * @param {{name: string, pcp?: import('../lib/pcp.js').PcpSet[]}} zone
 */
export function drawPcpLane(root, state, zone) {
  const lane = pcpLane(state.config, zone.pcp);
  /** @type {Array<Node>} */
  const parts = [el('h3', { class: 'pcp-title' }, [`per-cpu lists · ${zone.name}`])];
  if (lane.off) {
    parts.push(el('p', { class: 'pcp-off' }, [lane.off]));
  }
  for (const cpu of lane.cpus) {
    const bar = el('span', { class: 'pcp-bar', role: 'img', 'aria-label': `${Math.round(cpu.fill * 100)} % of high` }, [
      el('span', { class: 'pcp-fill', style: `width: ${(cpu.fill * 100).toFixed(1)}%` }),
    ]);
    const rows = cpu.rows.map((row) =>
      el('div', { class: 'pcp-row', 'data-order': String(row.order) }, [
        el('span', { class: 'pcp-order' }, [`order ${row.order}`]),
        ...row.cells.map((cell) =>
          el(
            'span',
            {
              class: cell.blocks ? 'pcp-cell' : 'pcp-cell empty',
              'data-migratetype': cell.label,
              title: cellTitle(row.order, cell),
              style: `--mt: ${/** @type {Record<string, string>} */ (MIGRATETYPE_COLOURS)[cell.migratetype] ?? OTHER_MIGRATETYPE}`,
            },
            [`${cell.label} ${cell.blocks}`],
          ),
        ),
      ]),
    );
    parts.push(
      el('div', { class: 'pcp-cpu', 'data-cpu': String(cpu.cpu) }, [
        el('div', { class: 'pcp-head' }, [el('span', { class: 'pcp-name' }, [cpu.title]), bar]),
        ...rows,
      ]),
    );
  }
  root.replaceChildren(...parts);
}
