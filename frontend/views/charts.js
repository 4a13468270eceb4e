// @ts-check
/**
 * Time-series charts (uPlot, vendored): free pages against the watermarks, and what
 * the host holds (resident, returned) with refaults on a second axis.  x is the step.
 * Redrawn at most a few times a second; uPlot handles thousands of points easily.
 */
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { FRAME_COLOURS } from '../lib/palette.js';
import { h } from './dom.js';

/**
 * @typedef {import('../lib/series.js').Series} Series
 */

const AXIS = { stroke: '#5d6677', grid: { stroke: '#e3e6ec', width: 1 }, ticks: { stroke: '#d5d9e1', width: 1 } };

/** @param {number} n */
function compact(n) {
  const a = Math.abs(n);
  if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(a >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(n));
}

export class Charts {
  /**
   * @param {HTMLElement} root
   * @param {Series} series
   */
  constructor(root, series) {
    this.root = root;
    this.series = series;
    this.lastDraw = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    const freeBox = h('div', { class: 'chart', 'data-chart': 'free', role: 'img', 'aria-label': 'free pages and watermarks by step' });
    const hostBox = h('div', { class: 'chart', 'data-chart': 'host', role: 'img', 'aria-label': 'host memory and refaults by step' });
    root.replaceChildren(
      h('h3', {}, ['free pages vs watermarks (all zones)']),
      freeBox,
      h('h3', {}, ['host: resident, returned, refaults']),
      hostBox,
    );
    const width = Math.max(240, root.clientWidth - 8);
    const opts = (/** @type {any[]} */ series, /** @type {any[]} */ axes) => ({
      width,
      height: 150,
      scales: { x: { time: false } },
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      series: [{ label: 'step' }, ...series],
      axes,
    });
    this.free = new uPlot(
      opts(
        [
          { label: 'free', stroke: '#009e73', width: 2, fill: 'rgba(0,158,115,.08)' },
          { label: 'min', stroke: '#d55e00', width: 1, dash: [4, 3] },
          { label: 'low', stroke: '#e69f00', width: 1, dash: [4, 3] },
          { label: 'high', stroke: '#5d6677', width: 1, dash: [4, 3] },
        ],
        [{ ...AXIS }, { ...AXIS, values: (/** @type {any} */ _u, /** @type {number[]} */ v) => v.map(compact), size: 44 }],
      ),
      [[], [], [], [], []],
      freeBox,
    );
    const hostOpts = opts(
      [
        { label: 'resident', stroke: '#4b5263', width: 2 },
        { label: 'returned', stroke: FRAME_COLOURS.flaggedDiscarded.fill, width: 2, fill: 'rgba(0,114,178,.10)' },
        { label: 'refaults', stroke: '#d55e00', width: 2, scale: 'refaults' },
      ],
      [
        { ...AXIS },
        { ...AXIS, values: (/** @type {any} */ _u, /** @type {number[]} */ v) => v.map(compact), size: 44 },
        { ...AXIS, scale: 'refaults', side: 1, grid: { show: false }, values: (/** @type {any} */ _u, /** @type {number[]} */ v) => v.map(compact), size: 40 },
      ],
    );
    hostOpts.scales = { x: { time: false }, refaults: { auto: true } };
    this.host = new uPlot(hostOpts, [[], [], [], []], hostBox);
    this.resizeObserver = new ResizeObserver(() => {
      const w = Math.max(240, root.clientWidth - 8);
      if (Math.abs(w - this.free.width) > 4) {
        this.free.setSize({ width: w, height: 150 });
        this.host.setSize({ width: w, height: 150 });
      }
    });
    this.resizeObserver.observe(root);
  }

  /** Redraw soon (at most ~4 times a second while data streams in). */
  update() {
    const now = performance.now();
    if (now - this.lastDraw > 250) {
      this.draw();
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.draw();
    }, 250 - (now - this.lastDraw));
  }

  draw() {
    this.lastDraw = performance.now();
    const s = this.series;
    this.free.setData(/** @type {any} */ (s.data(['free', 'min', 'low', 'high'])));
    this.host.setData(/** @type {any} */ (s.data(['resident', 'discarded', 'refaults'])));
  }
}
