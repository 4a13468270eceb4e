// @ts-check
/**
 * The page: connects to /ws, decodes messages, and draws the free lists.
 * DOM only; the decisions live in lib/ (protocol decoding, row layout).
 *
 * Tests wait on `window.__buddyscope` (e.g. `snapshotSeq >= 1`) instead of sleeping.
 */
import { decodeMessage, encodeCommand, ProtocolError } from './legacy/protocol.js';
import {
  DEFAULT_MAX_ENDS,
  formatBytes,
  formatCount,
  formatPfn,
  layoutZone,
  migratetypeSlug,
  PAGE_SIZE,
} from './legacy/layout.js';

/** State for tests and the curious: read-only by convention. */
const debug = {
  /** `seq` of the last snapshot drawn (0 until the first one). */
  snapshotSeq: 0,
  /** Protocol version the server announced in `hello`. */
  protocolVersion: /** @type {number | null} */ (null),
  connected: false,
  /** @type {import('./legacy/protocol.js').Snapshot | null} */
  lastSnapshot: null,
  /** @type {string[]} */
  errors: [],
  /**
   * Send a command on the open socket, e.g. `send({type: 'get_snapshot', id: 1})`.
   * @param {{type: string, id: number} & Record<string, unknown>} command
   */
  send(command) {
    if (!socket || socket.readyState !== WebSocket.OPEN) throw new Error('not connected');
    socket.send(encodeCommand(command.type, command.id, command));
  },
};
// @ts-ignore: a deliberate global for tests
window.__buddyscope = debug;

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * Create an element.
 * @param {string} tag
 * @param {Record<string, string | number | undefined>} [attrs]
 * @param {Array<Node | string>} [children]
 */
function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    if (name === 'class') el.className = String(value);
    else el.setAttribute(name, String(value));
  }
  el.append(...children);
  return el;
}

/** @param {string} state @param {string} text */
function setStatus(state, text) {
  const el = $('status');
  el.dataset.state = state;
  el.textContent = text;
}

/** @param {string} text */
function showBanner(text) {
  const el = $('banner');
  el.textContent = text;
  el.hidden = false;
}

/** @param {string[]} migratetypes */
function drawLegend(migratetypes) {
  $('legend-types').replaceChildren(
    ...migratetypes.map((mt) =>
      h('span', { class: `chip mt mt-${migratetypeSlug(mt)}`, 'data-migratetype': mt }, [mt]),
    ),
  );
}

/**
 * @param {import('./legacy/layout.js').Lane} lane
 * @param {number} order
 */
function drawLane(lane, order) {
  const cls = `mt mt-${migratetypeSlug(lane.migratetype)}`;
  const items = lane.items.map((item) =>
    item.kind === 'block'
      ? h(
          'span',
          {
            class: 'block',
            'data-pfn': item.pfn,
            title: `pfn ${formatPfn(item.pfn)}–${formatPfn(item.pfn + 2 ** order - 1)} · ` +
              `order ${order} · ${lane.migratetype} · #${item.position + 1} of ${lane.count} from the head`,
          },
          [formatPfn(item.pfn)],
        )
      : h('span', { class: 'gap', 'data-gap': item.count, title: `${item.count} blocks not drawn` }, [
          `… ${formatCount(item.count)} more …`,
        ]),
  );
  return h('div', { class: `lane ${cls}`, 'data-migratetype': lane.migratetype, 'data-count': lane.count }, [
    h('span', { class: 'lane-tag' }, [
      h('span', { class: 'swatch' }),
      lane.migratetype,
      h('span', { class: 'lane-count' }, [formatCount(lane.count)]),
    ]),
    h('span', { class: 'end head' }, ['head']),
    ...items,
    h('span', { class: 'end tail' }, ['tail']),
  ]);
}

/**
 * @param {import('./legacy/protocol.js').ZoneState} zone
 * @param {string[]} migratetypes
 */
function drawZone(zone, migratetypes) {
  const layout = layoutZone(zone, migratetypes, { maxEnds: DEFAULT_MAX_ENDS });
  const facts = h('span', { class: 'zone-facts' }, [
    'pfn ',
    h('b', {}, [`${formatPfn(layout.firstPfn)}–${formatPfn(layout.lastPfn)}`]),
    ' · spans ',
    h('b', {}, [formatBytes(layout.spannedPages * PAGE_SIZE)]),
    ' · free ',
    h('b', {}, [formatBytes(layout.freePages * PAGE_SIZE)]),
    ` (${formatCount(layout.freePages)} pages)`,
  ]);
  const rows = h('div', { class: 'rows' }, [
    h('div', { class: 'rows-header' }, [
      h('span', {}, ['order']),
      h('span', { class: 'num' }, ['nr_free']),
      h('span', {}, ['free lists, head → tail']),
    ]),
    ...layout.rows.map((row) =>
      h(
        'div',
        {
          class: `order-row${row.nrFree === 0 ? ' is-empty' : ''}`,
          id: rowId(zone.name, row.order),
          'data-order': row.order,
          'data-nr-free': row.nrFree,
        },
        [
          h('div', { class: 'order-label' }, [
            h('span', { class: 'order' }, [`order ${row.order}`]),
            h('span', { class: 'size' }, [row.blockSize]),
          ]),
          h('div', { class: 'nr-free', title: `nr_free[${row.order}]` }, [formatCount(row.nrFree)]),
          h(
            'div',
            { class: 'lanes' },
            row.lanes.length ? row.lanes.map((lane) => drawLane(lane, row.order)) : [h('span', { class: 'empty' }, ['empty'])],
          ),
        ],
      ),
    ),
  ]);
  const details = h('details', { class: 'zone', 'data-zone': zone.name, id: `zone-${zone.name}` }, [
    h('summary', { class: 'zone-head' }, [h('h2', {}, [`Zone ${zone.name}`]), facts]),
    rows,
  ]);
  /** @type {HTMLDetailsElement} */ (details).open = true;
  return details;
}

/** @param {string} zone @param {number} order */
const rowId = (zone, order) => `zone-${zone}-order-${order}`;

/**
 * The per-zone nr_free table at the top, laid out like /proc/buddyinfo.
 * @param {import('./legacy/protocol.js').Snapshot} snapshot
 */
function drawOverview(snapshot) {
  const orders = Array.from({ length: snapshot.max_order }, (_, i) => i);
  const head = h('tr', {}, [
    h('th', { scope: 'col' }, ['zone']),
    ...orders.map((o) => h('th', { scope: 'col', class: 'num' }, [String(o)])),
    h('th', { scope: 'col', class: 'num' }, ['free']),
  ]);
  const body = snapshot.zones.map((zone) =>
    h('tr', { 'data-zone': zone.name }, [
      h('th', { scope: 'row' }, [h('a', { href: `#zone-${zone.name}` }, [zone.name])]),
      ...zone.nr_free.map((n, o) =>
        h('td', { class: `num${n === 0 ? ' zero' : ''}` }, [
          h('a', { href: `#${rowId(zone.name, o)}`, title: `${zone.name} nr_free[${o}]` }, [formatCount(n)]),
        ]),
      ),
      h('td', { class: 'num total' }, [formatBytes(zone.free_pages * PAGE_SIZE)]),
    ]),
  );
  $('overview').replaceChildren(
    h('table', {}, [
      h('caption', {}, ['Free blocks per order (nr_free), as in /proc/buddyinfo']),
      h('thead', {}, [head]),
      h('tbody', {}, body),
    ]),
  );
}

/** @param {import('./legacy/protocol.js').Snapshot} snapshot */
function drawSnapshot(snapshot) {
  drawLegend(snapshot.migratetypes);
  drawOverview(snapshot);
  $('scenario').textContent = `scenario “${snapshot.scenario}” · step ${formatCount(snapshot.step)}`;
  $('zones').replaceChildren(...snapshot.zones.map((z) => drawZone(z, snapshot.migratetypes)));
  debug.lastSnapshot = snapshot;
  debug.snapshotSeq = snapshot.seq;
}

let retryMs = 500;
/** @type {WebSocket | null} */
let socket = null;

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/ws`);
  socket = ws;
  let fatal = false;
  ws.addEventListener('open', () => {
    debug.connected = true;
    retryMs = 500;
    setStatus('live', 'live');
  });
  ws.addEventListener('message', (event) => {
    let msg;
    try {
      msg = decodeMessage(String(event.data));
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      fatal = true;
      debug.errors.push(e.message);
      setStatus('error', 'protocol error');
      showBanner(`Cannot draw what the server sent: ${e.message}`);
      ws.close();
      return;
    }
    switch (msg.type) {
      case 'hello':
        debug.protocolVersion = msg.protocol_version;
        $('server').textContent = `${msg.server} · protocol v${msg.protocol_version}`;
        break;
      case 'snapshot':
        drawSnapshot(msg);
        break;
      case 'error':
        debug.errors.push(`${msg.code}: ${msg.message}`);
        showBanner(`Server error (${msg.code}): ${msg.message}`);
        break;
      default:
        break;
    }
  });
  ws.addEventListener('close', () => {
    debug.connected = false;
    if (fatal) return;
    setStatus('closed', `disconnected, retrying in ${Math.round(retryMs / 1000)} s`);
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  });
}

connect();
