// @ts-check
/**
 * Time-series charts (uPlot, vendored): free pages against the watermarks, and what
 * the host holds (resident, returned) with refaults on a second axis.  x is the virtual
 * clock in seconds (a 2 s reporting delay shows as 2 s), or the step (a toggle); every
 * axis is labelled with its unit.  Redrawn at most a few times a second; uPlot handles
 * thousands of points easily.
 */
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { FRAME_COLOURS } from '../lib/palette.js';
import { h } from './dom.js';

/**
 * @typedef {import('../lib/series.js').Series} Series
 * @typedef {'clock' | 'step'} XAxis
 */

const AXIS = { stroke: '#5d6677', grid: { stroke: '#e3e6ec', width: 1 }, ticks: { stroke: '#d5d9e1', width: 1 } };
/** The x axis's label, by what it shows. */
const X_LABELS = { clock: 'virtual time (s)', step: 'step' };

/** @param {number} n */
function compact(n) {
  const a = Math.abs(n);
  if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(a >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(n));
}

const compactValues = (/** @type {any} */ _u, /** @type {number[]} */ v) => v.map(compact);

export class Charts {
  /**
   * @param {HTMLElement} root
   * @param {Series} series
   */
  constructor(root, series) {
    this.root = root;
    this.series = series;
    /** @type {XAxis} */
    this.x = 'clock';
    this.freeBox = h('div', { class: 'chart', 'data-chart': 'free', role: 'img' });
    this.hostBox = h('div', { class: 'chart', 'data-chart': 'host', role: 'img' });
    this.toggle = h('button', { type: 'button', id: 'chart-x', class: 'chart-x', onclick: () => this.setX(this.x === 'clock' ? 'step' : 'clock') });
    root.replaceChildren(
      h('h3', {}, ['free pages vs watermarks (all zones) ', this.toggle]),
      this.freeBox,
      h('h3', {}, ['host: resident, returned, refaults']),
      this.hostBox,
    );
    /** @type {uPlot | null} */
    this.free = null;
    /** @type {uPlot | null} */
    this.host = null;
    this.build();
    this.resizeObserver = new ResizeObserver(() => {
      const w = this.width();
      if (this.free && this.host && Math.abs(w - this.free.width) > 4) {
        this.free.setSize({ width: w, height: 150 });
        this.host.setSize({ width: w, height: 150 });
      }
    });
    this.resizeObserver.observe(root);
  }

  width() {
    return Math.max(240, this.root.clientWidth - 8);
  }

  /** @param {XAxis} x */
  setX(x) {
    this.x = x;
    this.build();
    this.draw();
  }

  /** Both charts, for the x axis chosen (uPlot takes axis labels when it is made). */
  build() {
    this.free?.destroy();
    this.host?.destroy();
    const x = this.x;
    const by = x === 'clock' ? 'over virtual time' : 'by step';
    this.toggle.textContent = x === 'clock' ? 'x: time · show steps' : 'x: step · show time';
    this.toggle.setAttribute('aria-label', x === 'clock' ? 'plot by step instead of virtual time' : 'plot over virtual time instead of by step');
    this.root.dataset.x = x;
    this.freeBox.setAttribute('aria-label', `free pages and watermarks ${by}`);
    this.hostBox.setAttribute('aria-label', `host memory and refaults ${by}`);
    const xAxis = { ...AXIS, label: X_LABELS[x], labelSize: 18, size: 34 };
    const opts = (/** @type {any[]} */ series, /** @type {any[]} */ axes) => ({
      width: this.width(),
      height: 150,
      scales: { x: { time: false } },
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      series: [{ label: X_LABELS[x] }, ...series],
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
        [xAxis, { ...AXIS, label: 'pages (4 KiB)', labelSize: 18, values: compactValues, size: 44 }],
      ),
      [[], [], [], [], []],
      this.freeBox,
    );
    const hostOpts = opts(
      [
        { label: 'resident', stroke: '#4b5263', width: 2 },
        { label: 'returned', stroke: FRAME_COLOURS.flaggedDiscarded.fill, width: 2, fill: 'rgba(0,114,178,.10)' },
        { label: 'refaults', stroke: '#d55e00', width: 2, scale: 'refaults' },
      ],
      [
        xAxis,
        { ...AXIS, label: 'pages (4 KiB)', labelSize: 18, values: compactValues, size: 44 },
        { ...AXIS, scale: 'refaults', side: 1, grid: { show: false }, label: 'refaults (count)', labelSize: 18, values: compactValues, size: 40 },
      ],
    );
    hostOpts.scales = { x: { time: false }, refaults: { auto: true } };
    this.host = new uPlot(hostOpts, [[], [], [], []], this.hostBox);
  }

  /** Redraw from the series (views/session.js says when: lib/cadence.js while playing). */
  draw() {
    const s = this.series;
    this.free?.setData(/** @type {any} */ (s.data(['free', 'min', 'low', 'high'], this.x)));
    this.host?.setData(/** @type {any} */ (s.data(['resident', 'discarded', 'refaults'], this.x)));
  }
}
