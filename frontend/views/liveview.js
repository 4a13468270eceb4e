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
 * memory map from it (`FrameMapView`): every frame's kind, aggregated to a power of two
 * frames per pixel, free blocks darker the larger their order (a pixel with any page
 * of a reported block is drawn reported, with the simulated map's checker), free and
 * reported blocks per order and zone, and reported memory over time.  The whole map comes once; each later reading patches only the
 * chunks that changed.
 */
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { unusableTable } from '../lib/fragmentation.js';
import { blockSize, formatBytes, formatCount, formatPfn, migratetypeSlug, PAGE_SIZE } from '../lib/layout.js';
import {
  aggregate, belowMark, decodeLive, FrameKinds, framesPerPixel, KIND_COLOURS, kindLut, liveZones, MAP_COLUMNS,
  orderColour, pixelCounts, reportingRows,
} from '../lib/live.js';
import { canSeed, machineRequest } from '../lib/machine.js';
import { base64ToBytes, ProtocolError } from '../lib/protocol.js';
import { h, redraw } from './dom.js';
import { unusableTableElement } from './fragtable.js';
import { buddyinfoTableElement } from './freelists.js';

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
          attrs: { 'data-zone': z.zone, 'data-node': z.node }, totalTitle: `${formatCount(z.freePages)} pages`,
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
        ` free ${formatCount(w.free)} pages (${formatBytes(w.free * PAGE_SIZE)})`,
        below ? h('span', { class: 'wm-warn' }, [` · below ${below}`]) : null,
      ]),
      h('div', { class: 'wm-bar', role: 'img', 'aria-label': `${z.label}: ${w.free} free pages; watermarks min ${w.min}, low ${w.low}, high ${w.high}` }, [
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


/** Readings of reported memory kept for the chart (about ten minutes at one a second). */
const HISTORY = 600;
/** Most milliseconds of map drawing per animation frame, so the page keeps its vsync. */
const PAINT_BUDGET_MS = 6;
/** Rows of the map recomputed per step of the drawing loop. */
const PAINT_BAND_ROWS = 8;

/**
 * This machine's memory map from /proc/kpageflags, the free and reported blocks per
 * order and zone, and reported memory over time.  Map parts are inflated in order
 * (`DecompressionStream`), then the changed pixels are recomputed and drawn in the
 * next animation frame; `data-map-seq` on the root says which reading is drawn.
 */
class FrameMapView {
  constructor() {
    this.note = h('p', { class: 'live-frames-note' });
    this.canvas = /** @type {HTMLCanvasElement} */ (h('canvas', { class: 'live-framemap', width: MAP_COLUMNS, height: 1 }));
    this.hover = h('div', { class: 'hover-line live-frame-hover', 'aria-live': 'off' }, ['hover the map for its frames']);
    this.legend = h('div', { class: 'live-legend' });
    this.orders = h('div', { class: 'live-frame-orders' });
    this.chartBox = h('div', { class: 'chart live-reported-chart', role: 'img', 'aria-label': 'reported and free memory over time' });
    this.body = h('div', { class: 'live-frames-body' }, [
      h('div', { class: 'live-map-col' }, [this.canvas, this.hover, this.legend]),
      h('div', { class: 'live-map-side' }, [this.orders, h('h3', {}, ['reported and free memory over time (GiB)']), this.chartBox]),
    ]);
    this.root = h('section', { class: 'panel live-frames', 'aria-labelledby': 'live-frames-title' }, [
      h('h3', { id: 'live-frames-title' }, ['this machine frame by frame (/proc/kpageflags)']),
      this.note,
      this.body,
    ]);
    this.canvas.addEventListener('mousemove', (e) => this.showHover(e));
    /** @type {uPlot | null} */
    this.chart = null;
    this.reset();
  }

  reset() {
    this.held = new FrameKinds();
    /** @type {import('../lib/live.js').KindCodes} */
    this.codes = { names: [], freeCode: 256, reportedCode: 256 };
    /** @type {import('../lib/live.js').LiveFrameZone[]} */
    this.zones = [];
    this.fpp = 1;
    this.pixels = new Uint8Array(0);
    /** @type {ImageData | null} */
    this.image = null;
    /** @type {Array<[number, number]>} */
    this.dirty = [];
    this.pending = Promise.resolve();
    this.frame = 0;
    /** @type {number[][]} */
    this.history = [[], [], []];
    this.root.dataset.mapSeq = '0';
    this.chart?.setData(/** @type {any} */ (this.history));
  }

  /** @param {import('../lib/live.js').LiveReading} reading */
  draw(reading) {
    const frames = reading.frames ?? null;
    this.body.hidden = !frames;
    if (!frames) {
      const why = reading.messages.find((m) => m.includes('kpageflags'));
      this.note.textContent = `The map of this machine's frames is not shown: ${why ?? 'this reading has none'}`;
      this.root.dataset.mapSeq = String(reading.seq);
      return;
    }
    this.note.textContent =
      `${formatCount(frames.frames)} frames, ${formatCount(framesPerPixel(frames.frames))} per pixel · ` +
      `${formatBytes(frames.reported_pages * PAGE_SIZE)} reported · read in ${Math.round(frames.read_ms)} ms by the kernel, ` +
      `${Math.round(frames.derive_ms)} ms to find the blocks`;
    this.codes = { names: frames.kinds, freeCode: frames.free_code, reportedCode: frames.reported_code };
    this.zones = frames.zones;
    redraw(this.orders, JSON.stringify([frames.zones.map((z) => [z.zone, z.free, z.reported]), reading.buddyinfo]), () =>
      ordersTable(frames.zones, reading.buddyinfo),
    );
    redraw(this.legend, JSON.stringify(frames.zones.map((z) => z.kinds)), () => legendItems(frames));
    this.record(reading.time, frames);
    const map = frames.map;
    if (!map) return;
    const seq = reading.seq;
    this.pending = this.pending
      .then(() => inflate(base64ToBytes(map.data)))
      .then((bytes) => {
        if (map.full) this.layout(map.frames);
        this.dirty.push(...this.held.apply(map, bytes));
        this.schedule(seq);
      })
      .catch((e) => {
        this.note.textContent = `The map could not be drawn: ${e instanceof Error ? e.message : String(e)}`;
      });
  }

  /** @param {number} frames */
  layout(frames) {
    this.fpp = framesPerPixel(frames);
    const pixels = Math.ceil(frames / this.fpp);
    const rows = Math.max(1, Math.ceil(pixels / MAP_COLUMNS));
    this.canvas.height = rows;
    this.canvas.dataset.fpp = String(this.fpp);
    this.canvas.dataset.frames = String(frames);
    this.pixels = new Uint8Array(pixels);
    this.image = new ImageData(MAP_COLUMNS, rows);
    this.dirty = [];
  }

  /** @param {number} seq */
  schedule(seq) {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.paint(seq));
  }

  /**
   * Recompute and draw the changed pixels, a band of rows at a time for at most
   * `PAINT_BUDGET_MS` per animation frame (a whole 6.5 M-frame map takes several
   * frames), then say which reading is drawn.
   * @param {number} seq
   */
  paint(seq) {
    const image = this.image;
    if (!image) return;
    const deadline = performance.now() + PAINT_BUDGET_MS;
    const reported = this.codes.reportedCode;
    const lut = kindLut(this.codes);
    const words = new Uint32Array(image.data.buffer);
    const band = this.fpp * MAP_COLUMNS * PAINT_BAND_ROWS;
    let top = Infinity;
    let bottom = -1;
    while (this.dirty.length && performance.now() < deadline) {
      const [from, to] = this.dirty[0];
      const end = Math.min(to, from + band);
      aggregate(this.held.kinds, this.fpp, from, end, this.pixels, reported);
      const first = Math.floor(from / this.fpp);
      const last = Math.min(Math.ceil(end / this.fpp), this.pixels.length);
      for (let p = first; p < last; p++) {
        const x = p % MAP_COLUMNS;
        const y = (p - x) / MAP_COLUMNS;
        words[p] = (x + y) & 1 ? lut.alt[this.pixels[p]] : lut.fill[this.pixels[p]];
      }
      top = Math.min(top, Math.floor(first / MAP_COLUMNS));
      bottom = Math.max(bottom, Math.floor((last - 1) / MAP_COLUMNS));
      if (end >= to) this.dirty.shift();
      else this.dirty[0] = [end, to];
    }
    if (bottom >= top) this.canvas.getContext('2d')?.putImageData(image, 0, 0, 0, top, MAP_COLUMNS, bottom - top + 1);
    if (this.dirty.length) {
      this.frame = requestAnimationFrame(() => this.paint(seq));
      return;
    }
    this.canvas.dataset.reportedPixels = String(this.pixels.reduce((n, c) => n + (c >= reported ? 1 : 0), 0));
    this.root.dataset.mapSeq = String(seq);
  }

  /**
   * @param {number} time
   * @param {import('../lib/live.js').LiveFrames} frames
   */
  record(time, frames) {
    const gib = (/** @type {number} */ pages) => (pages * PAGE_SIZE) / 2 ** 30;
    const [t, reported, free] = this.history;
    t.push(time);
    reported.push(gib(frames.reported_pages));
    free.push(gib(frames.zones.reduce((n, z) => n + z.free_pages, 0)));
    if (t.length > HISTORY) this.history.forEach((column) => column.shift());
    if (!this.chart) {
      this.chart = new uPlot(
        {
          width: Math.max(240, this.chartBox.clientWidth || 420),
          height: 140,
          legend: { show: true, live: false },
          cursor: { drag: { x: false, y: false } },
          series: [
            { label: 'time' },
            { label: 'reported', stroke: KIND_COLOURS.reported.fill, width: 2, fill: 'rgba(86,180,233,.15)' },
            { label: 'free', stroke: '#8a8f99', width: 1 },
          ],
        },
        /** @type {any} */ (this.history),
        this.chartBox,
      );
    } else {
      this.chart.setData(/** @type {any} */ (this.history));
    }
    this.chartBox.dataset.points = String(t.length);
    this.chartBox.dataset.reportedGib = reported[reported.length - 1].toFixed(3);
  }

  /** @param {MouseEvent} e */
  showHover(e) {
    if (!this.pixels.length) return;
    const c = this.canvas;
    const box = c.getBoundingClientRect(); // the content box starts inside the border
    const x = Math.floor(((e.clientX - box.left - c.clientLeft) / c.clientWidth) * MAP_COLUMNS);
    const y = Math.floor(((e.clientY - box.top - c.clientTop) / c.clientHeight) * c.height);
    const pixel = y * MAP_COLUMNS + x;
    if (x < 0 || x >= MAP_COLUMNS || pixel < 0 || pixel >= this.pixels.length) return;
    const { first, last, counts } = pixelCounts(this.held.kinds, this.fpp, pixel, this.codes);
    const zones = this.zones.filter((z) => z.start_pfn <= last && first < z.end_pfn).map((z) => z.zone);
    const where = zones.length ? ` (${zones.join(', ')})` : '';
    this.hover.textContent = `pfn ${formatPfn(first)}–${formatPfn(last)}${where}: ${counts.map(([k, n]) => `${k} ${formatCount(n)}`).join(', ')}`;
  }
}

/**
 * Bytes of a zlib stream, inflated by the browser.
 * @param {Uint8Array} bytes
 */
async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Free and reported blocks per order, a column per zone, found frame by frame; where
 * /proc/buddyinfo (read a moment before) counts otherwise, its count in brackets.
 * @param {import('../lib/live.js').LiveFrameZone[]} zones
 * @param {import('../lib/live.js').LiveZoneWire[]} buddyinfo
 */
function ordersTable(zones, buddyinfo) {
  const counted = (/** @type {import('../lib/live.js').LiveFrameZone} */ z, /** @type {number} */ order) =>
    buddyinfo.find((b) => b.node === z.node && b.zone === z.zone)?.counts[order];
  const orders = Math.max(0, ...zones.map((z) => z.free.length));
  return [
    h('table', { class: 'live-frame-orders-table' }, [
      h('caption', {}, ['free blocks per order found in /proc/kpageflags · of them reported ✓ · [/proc/buddyinfo where it differs]']),
      h('thead', {}, [h('tr', {}, [h('th', { scope: 'col' }, ['order']), ...zones.map((z) => h('th', { scope: 'col', class: 'num' }, [z.zone]))])]),
      h(
        'tbody',
        {},
        Array.from({ length: orders }, (_, order) =>
          h('tr', { 'data-order': order }, [
            h('th', { scope: 'row' }, [`order ${order}`, h('span', { class: 'size' }, [` ${blockSize(order)}`])]),
            ...zones.map((z) => {
              const free = z.free[order] ?? 0;
              const nrFree = counted(z, order);
              return h('td', { class: 'num', 'data-zone': z.zone, 'data-free': free, 'data-reported': z.reported[order] ?? 0 }, [
                formatCount(free),
                z.reported[order] ? h('span', { class: 'live-reported-count' }, [` · ${formatCount(z.reported[order])} ✓`]) : null,
                nrFree !== undefined && nrFree !== free
                  ? h('span', { class: 'live-buddyinfo-count', title: 'nr_free from /proc/buddyinfo, read a moment apart' }, [` [${formatCount(nrFree)}]`])
                  : null,
              ]);
            }),
          ]),
        ),
      ),
    ]),
  ];
}

/**
 * The map's legend: each kind as drawn (free and reported blocks as their shades from
 * order 0 to 10), with its frames over all zones.
 * @param {import('../lib/live.js').LiveFrames} frames
 */
function legendItems(frames) {
  return frames.kinds.map((name) => {
    const n = frames.zones.reduce((sum, z) => sum + (z.kinds[name] ?? 0), 0);
    const c = KIND_COLOURS[name] ?? KIND_COLOURS.other;
    const ramp = name === 'free' || name === 'reported';
    const swatch = ramp
      ? `linear-gradient(to right, ${[0, 5, 10].map((o) => orderColour(name, o).fill).join(', ')})`
      : c.fill;
    return h('span', { class: 'live-kind', 'data-kind': name, 'data-frames': n }, [
      h('span', { class: `swatch${ramp ? ' ramp' : ''}`, style: `background:${swatch}`, 'aria-hidden': 'true' }),
      `${c.label}${ramp ? ', order 0 → 10' : ''} ${formatCount(n)}`,
    ]);
  });
}
