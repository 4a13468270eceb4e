// @ts-check
/**
 * The live host view: this machine's free memory instead of a simulated session.  While
 * it is on, the page watches `/ws/live` (a reading when it opens, then one a second)
 * and shows what makes sense of a real kernel: free blocks per order for every zone
 * (/proc/buddyinfo, a click picks a zone), the picked zone's counts per order and
 * migratetype (/proc/pagetypeinfo, root only), free pages against the watermarks
 * (/proc/zoneinfo), the unusable free space index, and the page reporting parameters
 * (`page_reporting_order`; anything else in /sys/module/page_reporting/parameters/ is
 * this kernel build's own and marked optional).  What could not be read is said in the
 * page, in the server's words.  Leaving returns to the simulated session, which kept
 * its place.
 *
 * As root the server also reads /proc/kpageflags, and the view draws this machine's
 * memory map from it (`FrameMapView`, views/liveframes.js).
 */
import { unusableTable } from '../lib/fragmentation.js';
import { blockSize, formatBytes, formatCount, migratetypeSlug, PAGE_SIZE } from '../lib/layout.js';
import { belowMark, counted, decodeLive, liveZones, reportingRows } from '../lib/live.js';
import { canSeed, machineRequest } from '../lib/machine.js';
import { ProtocolError } from '../lib/protocol.js';
import { h, redraw } from './dom.js';
import { unusableTableElement } from './fragtable.js';
import { buddyinfoTableElement } from './freelists.js';
import { FrameMapView } from './liveframes.js';

/**
 * @typedef {import('../lib/live.js').LiveReading} LiveReading
 * @typedef {import('../lib/live.js').LiveZone} LiveZone
 */

export class LiveView {
  /**
   * @param {HTMLElement} root the section the view draws into (hidden while off)
   * @param {HTMLButtonElement} button the control that turns it on and off
   * @param {(created: any) => void} [onSeeded] shows a session the server seeded from
   *   this machine ("open as a session")
   */
  constructor(root, button, onSeeded) {
    this.root = root;
    this.button = button;
    this.onSeeded = onSeeded;
    this.on = false;
    /** @type {WebSocket | null} */
    this.socket = null;
    /** @type {LiveReading | null} */
    this.reading = null;
    this.selected = '';
    this.retryMs = 1000;
    this.seeding = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
    this.when = h('span', { class: 'live-when', 'aria-live': 'off' }, ['connecting…']);
    this.messages = h('div', { class: 'live-messages', 'aria-live': 'polite' });
    this.buddyinfo = h('div', { class: 'live-buddyinfo' });
    this.lists = h('div', { class: 'live-lists-box' });
    this.watermarks = h('div', { class: 'live-watermarks' });
    this.unusable = h('div', { class: 'live-unusable' });
    this.reporting = h('div', { class: 'live-reporting' });
    this.frameMap = new FrameMapView();
    const back = h('button', { type: 'button', class: 'live-back', onclick: () => this.leave() }, ['back to the simulation']);
    this.seedButton = /** @type {HTMLButtonElement} */ (
      h('button', { type: 'button', class: 'live-seed', disabled: '', onclick: () => this.seed() }, ['open as a session'])
    );
    root.replaceChildren(
      h('div', { class: 'live-head' }, [
        h('h2', { id: 'live-title' }, ['this machine, live']),
        this.when,
        h('span', { class: 'spacer' }),
        this.seedButton,
        back,
      ]),
      this.messages,
      this.frameMap.root,
      h('div', { class: 'live-cols' }, [
        h('section', { class: 'panel', 'aria-labelledby': 'live-lists-title' }, [
          h('h3', { id: 'live-lists-title' }, ['free lists (/proc/buddyinfo, /proc/pagetypeinfo)']),
          this.buddyinfo,
          this.lists,
        ]),
        h('div', { class: 'live-side' }, [
          h('section', { class: 'panel', 'aria-labelledby': 'live-wm-title' }, [
            h('h3', { id: 'live-wm-title' }, ['free pages and watermarks (/proc/zoneinfo)']),
            this.watermarks,
          ]),
          h('section', { class: 'panel', 'aria-labelledby': 'live-frag-title' }, [
            h('h3', { id: 'live-frag-title' }, ['fragmentation']),
            this.unusable,
          ]),
          h('section', { class: 'panel', 'aria-labelledby': 'live-rep-title' }, [
            h('h3', { id: 'live-rep-title' }, ['free page reporting (/sys/module/page_reporting/parameters)']),
            this.reporting,
          ]),
        ]),
      ]),
    );
    root.setAttribute('aria-labelledby', 'live-title');
    button.addEventListener('click', () => (this.on ? this.leave() : this.enter()));
  }

  enter() {
    if (this.on) return;
    this.on = true;
    this.root.hidden = false;
    document.body.classList.add('live-mode');
    this.button.setAttribute('aria-pressed', 'true');
    this.reading = null;
    this.root.dataset.seq = '0';
    this.frameMap.reset();
    this.status('connecting…');
    this.connect();
  }

  leave() {
    if (!this.on) return;
    this.on = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const ws = this.socket;
    this.socket = null;
    ws?.close();
    this.root.hidden = true;
    document.body.classList.remove('live-mode');
    this.button.setAttribute('aria-pressed', 'false');
    this.button.focus();
  }

  connect() {
    this.retryTimer = null;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws/live`);
    this.socket = ws;
    let refused = false;
    ws.addEventListener('open', () => {
      this.retryMs = 1000;
    });
    ws.addEventListener('message', (event) => {
      if (this.socket !== ws) return;
      let msg;
      try {
        msg = decodeLive(String(event.data));
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        refused = true;
        this.showMessages([`Cannot show what the server sent: ${e.message}`]);
        ws.close();
        return;
      }
      if (msg.type === 'error') {
        refused = true;
        this.status('off');
        this.showMessages([msg.message]);
        return;
      }
      this.draw(msg);
    });
    ws.addEventListener('close', () => {
      if (this.socket !== ws || !this.on || refused) return;
      const seconds = Math.round(this.retryMs / 1000);
      this.status(`disconnected · retrying in ${seconds} s`);
      this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 8000);
    });
  }

  /** @param {string} text */
  status(text) {
    if (this.when.textContent !== text) this.when.textContent = text;
  }

  /** @param {string[]} messages */
  showMessages(messages) {
    redraw(this.messages, JSON.stringify(messages), () =>
      messages.length
        ? [
            h('p', {}, ['Not everything could be read on this machine:']),
            h('ul', {}, messages.map((m) => h('li', {}, [m]))),
          ]
        : [],
    );
  }

  /** @param {LiveReading} reading */
  draw(reading) {
    this.reading = reading;
    const zones = liveZones(reading);
    if (!zones.some((z) => z.key === this.selected)) {
      const normal = zones.find((z) => z.zone === 'Normal');
      this.selected = (normal ?? [...zones].sort((a, b) => b.freePages - a.freePages)[0])?.key ?? '';
    }
    const zone = zones.find((z) => z.key === this.selected) ?? null;
    const maxOrder = Math.max(0, ...zones.map((z) => z.counts.length));
    this.status(`read at ${new Date(reading.time * 1000).toLocaleTimeString()} · reading ${reading.seq} · one a second`);
    this.showMessages(reading.messages);
    const seedable = canSeed(reading);
    if (!this.seeding) this.seedButton.disabled = !seedable.ok;
    this.seedButton.title = seedable.why;
    redraw(this.buddyinfo, JSON.stringify([this.selected, zones.map((z) => [z.key, z.counts])]), () => this.buddyinfoTable(zones, maxOrder));
    redraw(this.lists, JSON.stringify([zone, reading.pagetypeinfo === null]), () => this.listsTable(zone, reading));
    redraw(this.watermarks, JSON.stringify(zones.map((z) => [z.label, z.watermarks])), () => watermarkRows(zones));
    redraw(this.unusable, JSON.stringify([this.selected, zones.map((z) => z.unusable)]), () =>
      zones.length
        ? [
            unusableTableElement(
              unusableTable(zones.map((z) => ({ name: z.label, unusable: z.unusable })), maxOrder),
              { selected: zone?.label },
            ),
          ]
        : [h('p', { class: 'muted' }, ['needs /proc/buddyinfo'])],
    );
    redraw(this.reporting, JSON.stringify([reading.reporting, reading.reporting_extra]), () => reportingTable(reading));
    this.frameMap.draw(reading);
    // Last, so a test that waits for the number sees everything drawn.
    this.root.dataset.time = String(reading.time);
    this.root.dataset.seq = String(reading.seq);
  }

  /** Seed a session from this machine now, and show it. */
  async seed() {
    if (this.seeding || !this.onSeeded) return;
    this.seeding = true;
    this.seedButton.disabled = true;
    this.seedButton.textContent = 'reading this machine…';
    const { url, init } = machineRequest();
    try {
      const res = await fetch(url, init);
      const body = await res.json().catch(() => null);
      if (res.status !== 201) {
        const detail = body?.detail;
        this.showMessages([`No session: ${typeof detail === 'string' ? detail : `the server answered ${res.status}`}`]);
        return;
      }
      this.onSeeded(body);
    } catch (e) {
      this.showMessages([`No session: could not reach the server (${/** @type {Error} */ (e).message})`]);
    } finally {
      this.seeding = false;
      this.seedButton.textContent = 'open as a session';
      this.seedButton.disabled = !canSeed(this.reading).ok;
    }
  }

  /** @param {string} key */
  select(key) {
    this.selected = key;
    if (this.reading) this.draw(this.reading);
  }

  /**
   * /proc/buddyinfo as a table: a row per zone, a click picks the zone.
   * @param {LiveZone[]} zones
   * @param {number} maxOrder
   */
  buddyinfoTable(zones, maxOrder) {
    if (!zones.length) return [h('p', { class: 'muted' }, ['no /proc/buddyinfo to show'])];
    return [
      buddyinfoTableElement({
        className: 'buddyinfo live-bi',
        caption: 'free blocks per order, as /proc/buddyinfo · pick a zone',
        orders: maxOrder,
        rows: zones.map((z) => ({
          key: z.key, label: z.label, counts: z.counts, freePages: z.freePages,
          attrs: { 'data-zone': z.zone, 'data-node': z.node }, totalTitle: counted(z.freePages, 'page'),
        })),
        selected: this.selected,
        onSelect: (key) => this.select(key),
        orderData: true,
      }),
    ];
  }

  /**
   * The picked zone's counts per order and migratetype, each with a bar of the pages it
   * holds; one "all types" column when pagetypeinfo could not be read.
   * @param {LiveZone | null} zone
   * @param {LiveReading} reading
   */
  listsTable(zone, reading) {
    if (!zone) return [];
    const types = zone.byType ?? [{ migratetype: 'all types', counts: zone.counts, capped: [] }];
    const maxPages = Math.max(1, ...types.flatMap((t) => t.counts.map((n, o) => n * 2 ** o)));
    return [
      zone.byType
        ? null
        : h('p', { class: 'live-note' }, [
            'Counts per migratetype need /proc/pagetypeinfo, which ',
            reading.messages.find((m) => m.includes('pagetypeinfo')) ?? 'this reading does not have',
            '.',
          ]),
      h('table', { class: 'live-lists', 'data-zone': zone.zone, 'aria-label': `free blocks of zone ${zone.label} per order and migratetype` }, [
        h('caption', {}, [
          `${zone.label}: free blocks per order and migratetype`,
          zone.byType ? ' (pagetypeinfo is read a moment after buddyinfo: the sums may differ by a few)' : '',
        ]),
        h('thead', {}, [
          h('tr', {}, [
            h('th', { scope: 'col' }, ['order']),
            h('th', { scope: 'col', class: 'num', title: 'nr_free[order] from /proc/buddyinfo' }, ['nr_free']),
            ...types.map((t) =>
              h('th', { scope: 'col', class: `mt mt-${migratetypeSlug(t.migratetype)}` }, [
                h('span', { class: 'swatch', 'aria-hidden': 'true' }),
                t.migratetype,
              ]),
            ),
          ]),
        ]),
        h(
          'tbody',
          {},
          zone.counts.map((nr, order) =>
            h('tr', { 'data-order': order, 'data-nr-free': nr }, [
              h('th', { scope: 'row' }, [`order ${order}`, h('span', { class: 'size' }, [` ${blockSize(order)}`])]),
              h('td', { class: 'num nr' }, [formatCount(nr)]),
              ...types.map((t) => {
                const n = t.counts[order] ?? 0;
                const capped = Boolean(t.capped[order]);
                const width = ((n * 2 ** order) / maxPages) * 100;
                return h('td', { class: `mt mt-${migratetypeSlug(t.migratetype)}`, 'data-migratetype': t.migratetype, 'data-count': n }, [
                  h('span', { class: `count${n === 0 ? ' zero' : ''}` }, [capped ? `>${formatCount(n)}` : formatCount(n)]),
                  n ? h('span', { class: 'bar', style: `width:${Math.max(2, width).toFixed(1)}%`, 'aria-hidden': 'true' }) : null,
                ]);
              }),
            ]),
          ),
        ),
      ]),
    ];
  }
}

/**
 * Free pages against the min / low / high watermarks, a bar per zone.
 * @param {LiveZone[]} zones
 */
function watermarkRows(zones) {
  const known = zones.filter((z) => z.watermarks);
  if (!known.length) return [h('p', { class: 'muted' }, ['needs /proc/zoneinfo'])];
  return known.map((z) => {
    const w = /** @type {NonNullable<LiveZone['watermarks']>} */ (z.watermarks);
    const scale = Math.max(w.free, w.high * 2, 1);
    const pct = (/** @type {number} */ v) => `${Math.min(100, (v / scale) * 100).toFixed(2)}%`;
    const below = belowMark(w);
    return h('div', { class: `wm${below ? ` below-${below}` : ''}`, 'data-zone': z.zone, 'data-free': w.free }, [
      h('div', { class: 'wm-label' }, [
        h('b', {}, [z.label]),
        ` free ${counted(w.free, 'page')} (${formatBytes(w.free * PAGE_SIZE)})`,
        below ? h('span', { class: 'wm-warn' }, [` · below ${below}`]) : null,
      ]),
      h('div', { class: 'wm-bar', role: 'img', 'aria-label': `${z.label}: ${counted(w.free, 'free page')}; watermarks min ${w.min}, low ${w.low}, high ${w.high}` }, [
        h('span', { class: 'wm-fill', style: `width:${pct(w.free)}` }),
        h('span', { class: 'wm-tick min', style: `left:${pct(w.min)}`, title: `min ${w.min}` }),
        h('span', { class: 'wm-tick low', style: `left:${pct(w.low)}`, title: `low ${w.low}` }),
        h('span', { class: 'wm-tick high', style: `left:${pct(w.high)}`, title: `high ${w.high}` }),
      ]),
      h('div', { class: 'wm-scale' }, [`min ${formatCount(w.min)} · low ${formatCount(w.low)} · high ${formatCount(w.high)}`]),
    ]);
  });
}

/**
 * The page reporting parameters: the upstream one, then this kernel build's own.
 * @param {LiveReading} reading
 */
function reportingTable(reading) {
  const rows = reportingRows(reading);
  if (!rows.length) return [h('p', { class: 'muted' }, ['none on this machine (see the note above)'])];
  const extra = rows.filter((r) => r.optional).map((r) => r.name);
  return [
    extra.length
      ? h('p', { class: 'live-upstream' }, [
          `Only page_reporting_order is upstream; ${extra.join(', ')} ${extra.length > 1 ? 'are' : 'is'} this kernel build's own: shown, not modelled.`,
        ])
      : null,
    h('table', { class: 'live-params' }, [
      h(
        'tbody',
        {},
        rows.map((r) =>
          h('tr', { 'data-param': r.name, 'data-optional': r.optional ? '1' : '0' }, [
            h('th', { scope: 'row' }, [h('code', {}, [r.name])]),
            h('td', { class: 'num' }, [r.value]),
            h('td', { class: 'muted' }, [
              r.optional ? "optional: this kernel build's own" : r.name === 'page_reporting_order' ? 'upstream (5.14+): smallest order reported' : 'upstream',
            ]),
          ]),
        ),
      ),
    ]),
  ];
}
