// @ts-check
/**
 * The free-list view of one zone: the "with the host" lane on top, then one row per
 * order with nr_free, the hinted count (v2) and one lane per non-empty list, head on
 * the left, tail on the right.  Chips and boundary markers carry `data-key` (see
 * lib/animate.js) so the animator can move them between states.
 *
 * Rows are rebuilt only when their layout changed (a signature per row).
 *
 * Every lane stays on one line, head to tail: lib/layout.js fits its items to the
 * width left for them (fewer blocks per end when space is short), measured here from
 * the drawn page once per lists width, type size (presenter mode) and view.
 */
import { blockKey, boundaryKey } from '../lib/animate.js';
import { blockSize, flagName, formatBytes, formatCount, formatPfn, gapText, layoutZone, migratetypeSlug, PAGE_SIZE } from '../lib/layout.js';
import { pfnWithDecimal } from '../lib/pfntext.js';
import { h, redraw } from './dom.js';

/**
 * @typedef {import('../lib/state.js').ClientState} ClientState
 * @typedef {import('../lib/state.js').ZoneModel} ZoneModel
 * @typedef {import('../lib/layout.js').Lane} Lane
 * @typedef {import('../lib/layout.js').ZoneLayout} ZoneLayout
 */

const FLAG_MARK = /** @type {Record<string, string>} */ ({ hinted: 'H', reported: 'R' });
const FLAG_TITLE = /** @type {Record<string, string>} */ ({
  hinted: 'hinted_pages[order]: hinted blocks of the order',
  reported: 'free blocks of the order with PG_reported',
});

/**
 * @param {string} zone
 * @param {number} order
 * @param {string} flag
 * @param {Lane} lane
 * @param {import('../lib/layout.js').ListItem} item
 */
function drawItem(zone, order, flag, lane, item) {
  if (item.kind === 'block') {
    const end = item.position === 0 ? 'head' : item.position === lane.length - 1 ? 'tail' : null;
    const label =
      `order-${order} ${lane.migratetype} block at pfn ${pfnWithDecimal(item.pfn)}, ${blockSize(order)}, ` +
      `#${item.position + 1} of ${lane.length} from the head${end ? ` (the ${end})` : ''}` +
      (item.flagged ? `, ${flag}` : '');
    return h(
      'button',
      {
        type: 'button',
        class: `chip${item.flagged ? ' flagged' : ''}`,
        'data-key': blockKey(zone, item.pfn, order),
        'data-pfn': item.pfn,
        'data-order': order,
        'data-position': item.position,
        'data-flagged': item.flagged ? '1' : '0',
        title: label,
        'aria-label': label,
      },
      [formatPfn(item.pfn), item.flagged ? h('span', { class: 'mark', 'aria-hidden': 'true' }, [FLAG_MARK[flag] ?? '✓']) : null],
    );
  }
  if (item.kind === 'gap') {
    const text = gapText(item, flag);
    return h(
      'span',
      {
        class: `gap${item.side ? ` ${item.side}` : ''}`,
        'data-gap': item.count,
        'data-from': item.from,
        'data-flagged': item.flagged,
        'data-side': item.side,
        title: `${formatCount(item.count)} blocks (#${item.from + 1}–#${item.from + item.count}) not drawn: ${gapText({ ...item, compact: false }, flag).replaceAll('…', '').trim()}`,
      },
      [text],
    );
  }
  const at = item.pfn === null ? 'at the tail' : `at #${formatCount(item.position + 1)}`;
  const where = item.pfn === null
    ? 'at the list head sentinel, after the tail: nothing behind it'
    : `before pfn ${pfnWithDecimal(item.pfn)}, entry #${formatCount(item.position + 1)} of ${formatCount(lane.length)}`;
  return h(
    'span',
    {
      class: 'boundary',
      role: 'img',
      'data-key': boundaryKey(zone, order, lane.migratetype),
      'data-boundary-pfn': item.pfn === null ? 'null' : item.pfn,
      'data-position': item.position,
      'aria-label': `v2 boundary ${where}${item.pfn === null ? '' : '; hinted from here to the tail'}`,
      title: `boundary ${where}`,
    },
    [h('span', { class: 'boundary-label' }, [`boundary ${at}`])],
  );
}

/**
 * @param {string} zone
 * @param {ZoneLayout} layout
 * @param {Lane} lane
 */
function drawLane(zone, layout, lane) {
  const flag = layout.flag ?? '';
  return h(
    'div',
    {
      class: `lane mt mt-${migratetypeSlug(lane.migratetype)}${lane.current ? ' current' : ''}${lane.stacked ? ' stacked' : ''}`,
      'data-migratetype': lane.migratetype,
      'data-length': lane.length,
      'data-order': lane.order,
      'data-anchor': `${zone}:${lane.order}:${lane.migratetype}`,
      'data-current': lane.current ? '1' : null,
      'data-boundary': lane.boundary ? (lane.boundary.pfn === null ? 'null' : lane.boundary.pfn) : null,
      'data-boundary-index': lane.boundary ? lane.boundary.position : null,
      'data-flagged': flag ? lane.flagged : null,
    },
    [
      h('span', { class: 'lane-tag', title: `${lane.migratetype} free list of order ${lane.order}: ${lane.length} blocks${flag && lane.flagged !== null ? `, ${lane.flagged} ${flag}` : ''}` }, [
        h('span', { class: 'swatch', 'aria-hidden': 'true' }),
        h('span', { class: 'lane-name' }, [lane.migratetype]),
        h('span', { class: 'lane-count' }, [formatCount(lane.length)]),
      ]),
      h('span', { class: 'end head', 'aria-hidden': 'true' }, ['head']),
      h('span', { class: 'items' }, lane.items.map((item) => drawItem(zone, lane.order, flag, lane, item))),
      h('span', { class: 'end tail', 'aria-hidden': 'true' }, ['tail']),
      lane.current ? h('span', { class: 'current-tag' }, ['← being reported']) : null,
    ],
  );
}

/**
 * The "with the host" lane: the batch isolated by the strategy.
 * @param {string} zone
 * @param {ZoneLayout} layout
 * @param {string} strategy
 */
function drawHostLane(zone, layout, strategy) {
  const host = layout.host;
  if (!host) return [];
  const label = strategy === 'hinting-v2' ? 'hinted batch' : 'reporting batch';
  const slots = host.capacity ? `${host.blocks.length + host.hidden} / ${host.capacity} slots` : `${host.blocks.length + host.hidden} blocks`;
  return [
    h('div', { class: 'host-title' }, [
      h('span', { class: 'host-icon', 'aria-hidden': 'true' }, ['⇄']),
      h('b', {}, ['with the host']),
      h('span', { class: 'host-facts' }, [
        `${label} · ${slots} · ${formatBytes(host.pages * PAGE_SIZE)}`,
        host.phase && host.phase !== 'idle' ? ` · phase ${host.phase}` : '',
      ]),
    ]),
    h(
      'div',
      { class: 'host-items', 'aria-label': `blocks isolated for the host in ${zone}` },
      host.blocks.length
        ? [
            ...host.blocks.map((b) =>
              h(
                'button',
                {
                  type: 'button',
                  class: 'chip isolated',
                  'data-key': blockKey(zone, b.pfn, b.order),
                  'data-pfn': b.pfn,
                  'data-order': b.order,
                  'data-slot': b.slot,
                  title: `slot ${b.slot}: order-${b.order} block at pfn ${pfnWithDecimal(b.pfn)}, off the free lists while the host has it`,
                },
                [formatPfn(b.pfn), h('span', { class: 'order-tag' }, [`o${b.order}`])],
              ),
            ),
            host.hidden ? h('span', { class: 'gap' }, [`+${host.hidden} more`]) : null,
          ]
        : [h('span', { class: 'empty' }, ['nothing in flight'])],
    ),
  ];
}

/**
 * How the lanes of `root` are measured: the width left for a lane's items, the items'
 * spacing and the width of each item as drawn, from a hidden probe lane (its chips,
 * gap, boundary and tags) and the probe's fonts.  Texts are measured on a canvas, so
 * fitting a lane never lays the page out; the probe does, once per `key`.
 * @typedef {{key: string, fit: import('../lib/layout.js').LaneFit | null}} Measured
 * @type {WeakMap<HTMLElement, Measured>}
 */
const measured = new WeakMap();

/** @type {CanvasRenderingContext2D | null} */
let textCtx = null;

/**
 * @param {HTMLElement} root
 * @param {string} zone
 * @returns {import('../lib/layout.js').LaneFit | null}
 */
function measureLanes(root, zone) {
  const cell = /** @type {HTMLElement | null} */ (root.querySelector('.fl-lanes'));
  if (!cell) return null;
  const cs = getComputedStyle(cell);
  const room = cell.getBoundingClientRect().width - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  if (!(room > 0)) return null; // not on screen: draw without fitting
  const pfn = 0xfffff;
  /** @type {import('../lib/layout.js').Lane} */
  const lane = {
    migratetype: 'Reclaimable',
    order: 0,
    length: 3,
    items: [
      { kind: 'block', pfn, position: 0, flagged: false },
      { kind: 'block', pfn, position: 1, flagged: true },
      { kind: 'gap', count: 1, from: 2, flagged: null, side: null },
      { kind: 'boundary', pfn: null, position: 3 },
    ],
    flagged: null,
    flaggedShown: 1,
    boundary: { pfn: null, position: 3 },
    current: true,
  };
  const probe = drawLane(zone, /** @type {ZoneLayout} */ ({ flag: 'reported' }), lane);
  probe.removeAttribute('data-anchor');
  probe.setAttribute('aria-hidden', 'true');
  probe.style.cssText = `position:absolute;left:0;top:0;width:${room}px;visibility:hidden;pointer-events:none`;
  cell.append(probe);
  try {
    const items = /** @type {HTMLElement} */ (probe.querySelector('.items'));
    const [plain, flagged, gap, boundary] = /** @type {HTMLElement[]} */ ([...items.children]);
    const part = (/** @type {string} */ sel) => /** @type {HTMLElement} */ (probe.querySelector(sel));
    const width = (/** @type {Element} */ el) => el.getBoundingClientRect().width;
    const sum = (/** @type {CSSStyleDeclaration} */ cs, /** @type {string[]} */ props) =>
      props.reduce((n, p) => n + (parseFloat(cs.getPropertyValue(p)) || 0), 0);
    const ls = getComputedStyle(probe);
    const is = getComputedStyle(items);
    const laneGap = parseFloat(ls.columnGap) || 0;
    const spacing = parseFloat(is.columnGap) || 0;
    const boundaryWidth = width(boundary) + sum(getComputedStyle(boundary), ['margin-left', 'margin-right']);
    // What the line of a lane takes besides its items: its padding, the head and tail
    // labels, and the migratetype tag unless it sits on a line of its own (presenter
    // mode), and the "being reported" tag unless it rides on the lane's edge.
    const head = part('.end.head').getBoundingClientRect();
    const tagBox = part('.lane-tag').getBoundingClientRect();
    const tagInLine = tagBox.bottom > head.top && tagBox.top < head.bottom;
    const tagWidth = tagInLine ? tagBox.width + laneGap : 0;
    const fixed =
      sum(ls, ['padding-left', 'padding-right', 'border-left-width', 'border-right-width']) +
      sum(is, ['padding-left', 'padding-right']) +
      tagWidth +
      head.width + width(part('.end.tail')) + 2 * laneGap;
    const current = part('.current-tag');
    const currentWidth = getComputedStyle(current).position === 'absolute' ? 0 : width(current) + laneGap;
    textCtx ??= /** @type {CanvasRenderingContext2D} */ (document.createElement('canvas').getContext('2d'));
    const ctx = textCtx;
    const fontOf = (/** @type {Element} */ el) => {
      const f = getComputedStyle(el);
      return `${f.fontStyle} ${f.fontWeight} ${f.fontSize} ${f.fontFamily}`;
    };
    const chipFont = fontOf(plain);
    const gapFont = fontOf(gap);
    /** @type {Map<string, number>} */
    const texts = new Map();
    const text = (/** @type {string} */ font, /** @type {string} */ t) => {
      const k = `${font}|${t}`;
      let w = texts.get(k);
      if (w === undefined) {
        ctx.font = font;
        w = ctx.measureText(t).width;
        if (texts.size > 4000) texts.clear();
        texts.set(k, w);
      }
      return w;
    };
    const pfnText = text(chipFont, formatPfn(pfn));
    const chipExtra = width(plain) - pfnText;
    const flaggedExtra = width(flagged) - pfnText;
    const gapExtra = width(gap) - text(gapFont, gap.textContent ?? '');
    // A pixel per item for rounding: a lane that fits on paper fits on screen.
    return {
      width: room - fixed - 2,
      currentWidth,
      tagWidth,
      spacing,
      widthOf: (item, flag) => {
        if (item.kind === 'block') return text(chipFont, formatPfn(item.pfn)) + (item.flagged ? flaggedExtra : chipExtra) + 1;
        if (item.kind === 'gap') return text(gapFont, gapText(item, flag)) + gapExtra + 1;
        return boundaryWidth;
      },
    };
  } finally {
    probe.remove();
  }
}

/**
 * The lane fit of `root` for a lists width (re-measured when the width, the type size
 * or the view's classes change).
 * @param {HTMLElement} root
 * @param {string} zone
 * @param {number} width
 */
function laneFit(root, zone, width) {
  const key = `${width}|${document.documentElement.className}|${root.className}`;
  const known = measured.get(root);
  if (known && known.key === key) return known.fit;
  const fit = measureLanes(root, zone);
  // Measured off screen (nothing laid out): measure again next time.
  measured.set(root, { key: fit ? key : '', fit });
  return fit;
}

/** @type {WeakMap<HTMLElement, () => void>} */
const redrawOnTypeChange = new WeakMap();

/** What each root last drew (drawn again when the type size changes). */
/**
 * @typedef {{focusPfns?: number[], placed?: import('../lib/layout.js').PlacedBlock[],
 *            maxEnds?: number, width?: number}} DrawOptions
 *   `focusPfns`: blocks drawn as chips wherever they are in their lists (the inspected
 *   one, the ones the narration names); `placed`: where the model put blocks the
 *   server did not send (lib/layout.js layoutZone).
 */
/** @type {WeakMap<HTMLElement, [ClientState, ZoneModel, DrawOptions]>} */
const lastDrawn = new WeakMap();

/**
 * Draw (or update) the free lists of a zone into `root`.  `width` is the width of
 * `root` (the session follows it with a ResizeObserver): with it, every lane is fitted
 * to one line.  When the type size changes (presenter mode), the lists are drawn again.
 * @param {HTMLElement} root
 * @param {ClientState} state
 * @param {ZoneModel} zone
 * @param {DrawOptions} [options]
 * @returns {ZoneLayout}
 */
export function drawFreeLists(root, state, zone, options = {}) {
  const strategy = state.hinting.strategy;
  ensureGrid(root, zone.name, state.config.max_order, strategy, flagName(strategy) ?? '');
  const fit = options.width === undefined ? null : laneFit(root, zone.name, options.width);
  const layout = layoutZone(zone, {
    migratetypes: state.config.migratetypes,
    maxOrder: state.config.max_order,
    hinting: state.hinting,
    zones: state.zones,
    focusPfns: options.focusPfns ?? [],
    placed: options.placed ?? [],
    maxEnds: options.maxEnds,
    fit,
  });
  if (options.width !== undefined && !redrawOnTypeChange.has(root)) {
    // Presenter mode changes the type size, not always the lists' width: draw again.
    const again = () => {
      const last = lastDrawn.get(root);
      if (last && root.isConnected) drawFreeLists(root, ...last);
    };
    redrawOnTypeChange.set(root, again);
    new MutationObserver(again).observe(document.documentElement, { attributes: true, attributeFilter: ['class'] });
  }
  lastDrawn.set(root, [state, zone, options]);
  fillGrid(root, zone, layout, strategy);
  return layout;
}

/**
 * The grid of rows (built once per zone, orders and strategy).
 * @param {HTMLElement} root
 * @param {string} zoneName
 * @param {number} maxOrder
 * @param {string} strategy
 * @param {string} flagHeader
 */
function ensureGrid(root, zoneName, maxOrder, strategy, flagHeader) {
  const built = `${zoneName}/${maxOrder}/${strategy}`;
  if (root.firstChild && root.dataset.built === built) return;
  root.dataset.built = built;
  root.replaceChildren(
    h('div', { class: 'fl-grid', role: 'table', 'aria-label': `free lists of zone ${zoneName}` }, [
      h('div', { class: 'fl-header', role: 'row' }, [
        h('span', { role: 'columnheader' }, ['order']),
        h('span', { role: 'columnheader', class: 'num', title: 'nr_free[order]: blocks on the lists of this order' }, ['nr_free']),
        h('span', { role: 'columnheader', class: 'num', title: FLAG_TITLE[flagHeader] ?? '' }, [flagHeader]),
        h('span', { role: 'columnheader' }, ['free lists: head (allocations take from here) → tail']),
      ]),
      ...Array.from({ length: maxOrder }, (_, order) =>
        h('div', { class: 'fl-row', role: 'row', 'data-order': order }, [
          h('div', { class: 'fl-order', role: 'cell' }, [
            h('span', { class: 'order' }, [`order ${order}`]),
            h('span', { class: 'size' }, [blockSize(order)]),
          ]),
          h('div', { class: 'fl-nr num', role: 'cell', title: `nr_free[${order}]` }),
          h('div', { class: 'fl-flag num', role: 'cell' }),
          h('div', { class: 'fl-lanes', role: 'cell' }),
        ]),
      ),
    ]),
    h('div', { class: 'host-lane', hidden: strategy === 'none', 'data-zone': zoneName }),
  );
}

/**
 * Fill the grid from a layout.
 * @param {HTMLElement} root
 * @param {ZoneModel} zone
 * @param {ZoneLayout} layout
 * @param {string} strategy
 */
function fillGrid(root, zone, layout, strategy) {
  root.dataset.zone = zone.name;
  root.dataset.strategy = strategy;
  root.dataset.active = layout.active ? '1' : '0';
  const hostEl = /** @type {HTMLElement} */ (root.querySelector('.host-lane'));
  hostEl.hidden = strategy === 'none';
  redraw(hostEl, JSON.stringify(layout.host), () => drawHostLane(zone.name, layout, strategy));
  const rows = root.querySelectorAll('.fl-row');
  layout.rows.forEach((row, i) => {
    const el = /** @type {HTMLElement} */ (rows[i]);
    el.dataset.nrFree = String(row.nrFree);
    el.classList.toggle('is-empty', row.nrFree === 0);
    const nr = /** @type {HTMLElement} */ (el.querySelector('.fl-nr'));
    const text = formatCount(row.nrFree);
    if (nr.textContent !== text) nr.textContent = text;
    const flagEl = /** @type {HTMLElement} */ (el.querySelector('.fl-flag'));
    const flagText = row.flaggedCount === null ? '' : formatCount(row.flaggedCount);
    if (flagEl.textContent !== flagText) flagEl.textContent = flagText;
    if (row.flaggedCount === null) delete el.dataset.flagged;
    else el.dataset.flagged = String(row.flaggedCount);
    redraw(/** @type {HTMLElement} */ (el.querySelector('.fl-lanes')), JSON.stringify([row.lanes, layout.flag]), () =>
      row.lanes.length ? row.lanes.map((lane) => drawLane(zone.name, layout, lane)) : [h('span', { class: 'empty' }, ['empty'])],
    );
  });
  return layout;
}

/**
 * Scroll the lists' column so the "with the host" lane (drawn below the rows) is on
 * screen, as far as that keeps the first non-empty row in view: at 1280×720 the lane of
 * a zone with a few busy high orders (zone-gate) otherwise sits under the fold, and it
 * is the state a reporting step changes.  Never scrolls the page, only the column.
 * @param {HTMLElement} root
 */
export function keepHostLaneInView(root) {
  const lane = /** @type {HTMLElement | null} */ (root.querySelector('.host-lane'));
  if (!lane || lane.hidden) return;
  let box = root.parentElement;
  while (box && !/(auto|scroll)/.test(getComputedStyle(box).overflowY)) box = box.parentElement;
  if (!box) return;
  const view = box.getBoundingClientRect();
  const inner = view.top + box.clientTop + box.clientHeight - parseFloat(getComputedStyle(box).paddingBottom);
  const below = lane.getBoundingClientRect().bottom - inner;
  if (below <= 0) return;
  // (a row is `display: contents`: its order cell has the box)
  const first = root.querySelector('.fl-row:not(.is-empty) > .fl-order');
  const room = first ? first.getBoundingClientRect().top - view.top : below;
  if (room > 0) box.scrollTop += Math.min(below, room);
}

/**
 * Mark a block where the free lists draw it: its chip, or the gap that counts it (a
 * block in the middle of a long list, placed by the model's answer).
 * @param {HTMLElement} root
 * @param {string} zone
 * @param {number} pfn
 * @param {number} order
 * @param {{migratetype: string, position: number} | undefined} [where]
 */
export function markBlock(root, zone, pfn, order, where) {
  const chip = root.querySelector(`.chip[data-key="${CSS.escape(blockKey(zone, pfn, order))}"]`);
  if (chip || !where) {
    chip?.classList.add('hl');
    return;
  }
  const lane = root.querySelector(`.lane[data-anchor="${CSS.escape(`${zone}:${order}:${where.migratetype}`)}"]`);
  for (const gap of lane?.querySelectorAll('.gap') ?? []) {
    const from = Number(/** @type {HTMLElement} */ (gap).dataset.from);
    if (where.position >= from && where.position < from + Number(/** @type {HTMLElement} */ (gap).dataset.gap)) gap.classList.add('hl');
  }
}

/**
 * @typedef {{key: string, label: string, counts: Array<number | undefined>, freePages: number,
 *            attrs: Record<string, string | number>, totalTitle?: string}} BuddyinfoRow
 *   a zone's row: `key` is what `onSelect` gets, `attrs` its data attributes, a count
 *   left undefined an empty cell
 */

/**
 * A table laid out like /proc/buddyinfo: a row per zone with its free blocks per order
 * and its free memory; a click on a zone's name picks it.  The session's panel
 * (drawBuddyinfo) and the live view (liveview.js) both draw theirs with it.
 * @param {{className: string, caption: string, orders: number, rows: BuddyinfoRow[],
 *          selected: string | null, onSelect: (key: string) => void, orderData?: boolean}} table
 *   orderData: each count cell says its order (`data-order`)
 */
export function buddyinfoTableElement(table) {
  const { rows, selected, onSelect } = table;
  const orders = Array.from({ length: table.orders }, (_, i) => i);
  return h('table', { class: table.className }, [
    h('caption', {}, [table.caption]),
    h('thead', {}, [
      h('tr', {}, [
        h('th', { scope: 'col' }, ['zone']),
        ...orders.map((o) => h('th', { scope: 'col', class: 'num' }, [String(o)])),
        h('th', { scope: 'col', class: 'num' }, ['free']),
      ]),
    ]),
    h(
      'tbody',
      {},
      rows.map((z) =>
        h('tr', { ...z.attrs, class: z.key === selected ? 'selected' : '' }, [
          h('th', { scope: 'row' }, [
            h(
              'button',
              { type: 'button', class: 'zone-pick', 'aria-pressed': z.key === selected ? 'true' : 'false', onclick: () => onSelect(z.key) },
              [z.label],
            ),
          ]),
          ...orders.map((o) =>
            h('td', { class: `num${(z.counts[o] ?? 0) === 0 ? ' zero' : ''}`, 'data-order': table.orderData ? o : undefined }, [
              z.counts[o] === undefined ? '' : formatCount(z.counts[o]),
            ]),
          ),
          h('td', { class: 'num total', title: z.totalTitle }, [formatBytes(z.freePages * PAGE_SIZE)]),
        ]),
      ),
    ),
  ]);
}

/**
 * The per-zone nr_free table, laid out like /proc/buddyinfo; a click selects a zone.
 * @param {HTMLElement} root
 * @param {ClientState} state
 * @param {string} selected
 * @param {(zone: string) => void} onSelect
 */
export function drawBuddyinfo(root, state, selected, onSelect) {
  const sig = JSON.stringify([selected, state.zones.map((z) => [z.name, z.nrFree, z.nrFreePages])]);
  redraw(root, sig, () => [
    buddyinfoTableElement({
      className: 'buddyinfo',
      caption: 'nr_free per order, as in /proc/buddyinfo · pick a zone',
      orders: state.config.max_order,
      rows: state.zones.map((z) => ({ key: z.name, label: z.name, counts: z.nrFree, freePages: z.nrFreePages, attrs: { 'data-zone': z.name } })),
      selected,
      onSelect,
    }),
  ]);
}
