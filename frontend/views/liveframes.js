// @ts-check
/**
 * This machine frame by frame, in the live host view: the memory map drawn from
 * /proc/kpageflags (every frame's kind, aggregated to a power of two frames per pixel,
 * free blocks darker the larger their order; a pixel with any page of a reported block
 * is drawn reported, with the simulated map's checker), free and reported blocks per
 * order and zone, and reported memory over time.  The whole map comes once; each later
 * reading patches only the chunks that changed.  The arithmetic is `lib/live.js`'s.
 */
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { blockSize, formatBytes, formatCount, PAGE_SIZE } from '../lib/layout.js';
import {
  aggregate, FrameKinds, framesPerPixel, hoverLine, KIND_COLOURS, kindLut, MAP_COLUMNS, orderColour, pixelCounts,
  recordReading,
} from '../lib/live.js';
import { base64ToBytes } from '../lib/protocol.js';
import { h, redraw } from './dom.js';

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
export class FrameMapView {
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
    recordReading(this.history, time, frames);
    const [t, reported] = this.history;
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
    this.hover.textContent = hoverLine(pixelCounts(this.held.kinds, this.fpp, pixel, this.codes), this.zones);
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
