// @ts-check
/**
 * The memory map: every page frame of every zone, one pixel each, in pfn order (see
 * lib/memmap.js for the tile layout; a zone over 4 GiB draws several frames per
 * pixel, as its caption says).  Per zone a pixel canvas (ImageData painted
 * from the page_state bytes) under an overlay canvas at screen resolution for the
 * pageblock outlines and the hover/selection highlight.
 *
 * Keyboard: the map is focusable; arrow keys move a cursor frame (Shift: a pageblock,
 * 2^pageblock_order frames), Enter opens the inspector.
 *
 * The map follows the free lists' zone (`follow`): that zone's part is outlined and
 * named "in the free lists", and scrolled into view when the lists move to it (the step
 * happened there, or the user picked it).
 *
 * While a step taken by hand is animated (`hold`), the map shows the step's start and
 * changes the frames of each event when its chip arrives (lib/mapbeats.js), reading the
 * time off the step's animations, so that freezing them freezes the map too; the rest
 * lands at the end.  A play never holds the map.  Where a pixel stands for several
 * frames, an arrival paints its pixels from all their frames as the step leaves them, so
 * a pixel shared by two events changes at the first.
 */
import {
  blockRects,
  buildLut,
  columnsFor,
  dirtyRect,
  geometry,
  paintFrames,
  pfnToXY,
  tileRect,
  xyToPfn,
} from '../lib/memmap.js';
import { formatBytes, formatPfn, PAGE_SIZE } from '../lib/layout.js';
/** @typedef {import('../lib/mapbeats.js').MapArrival} MapArrival */
import { HIGHLIGHT, migratetypeColours } from '../lib/palette.js';
import { h } from './dom.js';

/**
 * @typedef {import('../lib/state.js').ClientState} ClientState
 * @typedef {import('../lib/state.js').ZoneModel} ZoneModel
 * @typedef {import('../lib/memmap.js').Geometry} Geometry
 * @typedef {{zone: string, pfn: number, order: number, role: 'block' | 'buddy' | 'cursor'}} Mark
 * @typedef {{zone: ZoneModel, geom: Geometry, base: HTMLCanvasElement, overlay: HTMLCanvasElement,
 *            ctx: CanvasRenderingContext2D, image: ImageData, pixels: Uint32Array,
 *            wrap: HTMLElement, caption: HTMLElement}} ZoneMap
 */

/**
 * Scroll `el`'s nearest scrolling ancestor just enough to show it (its top first when
 * it is taller than the view).
 * @param {HTMLElement} el
 */
function bringIntoView(el) {
  let box = el.parentElement;
  while (box && !/(auto|scroll)/.test(getComputedStyle(box).overflowY)) box = box.parentElement;
  if (!box) return;
  const r = el.getBoundingClientRect();
  const b = box.getBoundingClientRect();
  if (r.bottom > b.bottom) box.scrollTop += Math.min(r.bottom - b.bottom, r.top - b.top);
  else if (r.top < b.top) box.scrollTop -= b.top - r.top;
}

/**
 * What one step of the arrow keys moves, for the map's label.
 * @param {Geometry} g
 */
function pixelWords(g) {
  return g.framesPerPixel > 1 ? `a pixel of ${g.framesPerPixel} frames` : 'a frame';
}

export class MemoryMapView {
  /**
   * @param {HTMLElement} root
   * @param {{onHover: (zone: string | null, pfn: number | null) => void,
   *          onPick: (zone: string, pfn: number) => void}} handlers
   */
  constructor(root, handlers) {
    this.root = root;
    this.handlers = handlers;
    /** @type {ZoneMap[]} */
    this.maps = [];
    /** @type {Mark[]} */
    this.marks = [];
    /** @type {Uint32Array | null} */
    this.lut = null;
    this.signature = '';
    /** @type {string[]} */
    this.mtColours = [];
    /** @type {{zone: string, pfn: number} | null} */
    this.cursor = null;
    this.resizeObserver = new ResizeObserver(() => this.drawOverlays());
    this.resizeObserver.observe(root);
    /** @type {ClientState | null} */
    this.state = null;
    this.lastPaintMs = 0;
    /** The zone the free lists show (its part of the map is marked). */
    this.followed = '';
    /**
     * A step taken by hand being animated: its frames' arrivals (the next one to paint
     * at `next`), the zones holding their new state, the step's clock (ms; null once
     * the animation is over), what draws the whole step at its end, and the pixels
     * the step paints as they were at its start (the clock may be set back: a test
     * freezing it).  Only those: a whole map is 64 MiB of pixels at 16 M frames.
     * @type {{arrivals: MapArrival[], next: number, zones: Map<string, ZoneModel>,
     *         clock: () => number | null, land: () => void,
     *         start: Array<{m: ZoneMap, r: {x: number, y: number, w: number, h: number}, px: Uint32Array}>} | null}
     */
    this.held = null;
    /** The time into the held step the map shows (tests wait for it after freezing the clock). */
    this.heldAt = -1;
    /** Whole repaints (setState), for tests: following another zone needs none. */
    this.wholePaints = 0;
  }

  /**
   * Show the step's start while its animation runs, each event's frames from its
   * arrival, then `land` (the whole step) when the clock stops.  Whatever drew the map
   * next lands the step first.
   * @param {MapArrival[]} arrivals
   * @param {Map<string, ZoneModel>} zones the zones after the step
   * @param {() => number | null} clock
   * @param {() => void} land
   */
  hold(arrivals, zones, clock, land) {
    this.flush();
    const start = [];
    for (const a of arrivals) {
      const at = this.arrivalRange(a, zones);
      if (!at) continue;
      const r = dirtyRect(at.m.geom, at.from, at.count);
      const px = new Uint32Array(r.w * r.h);
      for (let y = 0; y < r.h; y += 1) {
        const row = (r.y + y) * at.m.geom.width + r.x;
        px.set(at.m.pixels.subarray(row, row + r.w), y * r.w);
      }
      start.push({ m: at.m, r, px });
    }
    this.held = { arrivals, next: 0, zones, clock, land, start };
    this.heldAt = -1;
    this.tick();
  }

  /** Paint what has arrived by the step's clock; once per frame while a step is held. */
  tick() {
    const held = this.held;
    if (!held) return;
    const t = held.clock();
    if (t === null || !this.lut) {
      this.flush();
      return;
    }
    const { arrivals } = held;
    if (t < this.heldAt) {
      // Set back: the step's start again (the last saved first: rectangles overlap),
      // then what has arrived by then.
      for (const { m, r, px } of [...held.start].reverse()) {
        for (let y = 0; y < r.h; y += 1) m.pixels.set(px.subarray(y * r.w, (y + 1) * r.w), (r.y + y) * m.geom.width + r.x);
        m.ctx.putImageData(m.image, 0, 0, r.x, r.y, r.w, r.h);
      }
      held.next = 0;
    }
    while (held.next < arrivals.length && arrivals[held.next].at <= t) {
      const at = this.arrivalRange(arrivals[held.next], held.zones);
      held.next += 1;
      if (!at) continue;
      paintFrames(at.m.pixels, at.m.geom, at.zone, this.lut, at.from, at.count);
      const r = dirtyRect(at.m.geom, at.from, at.count);
      at.m.ctx.putImageData(at.m.image, 0, 0, r.x, r.y, r.w, r.h);
    }
    this.heldAt = t;
    requestAnimationFrame(() => this.tick());
  }

  /**
   * The frames of the map an arrival paints: its zone's map and the range in it.
   * @param {MapArrival} a
   * @param {Map<string, ZoneModel>} zones
   */
  arrivalRange(a, zones) {
    const m = this.maps.find((x) => x.zone.name === a.zone);
    const zone = zones.get(a.zone);
    if (!m || !zone) return null;
    const from = Math.max(0, a.pfn - zone.startPfn);
    const count = Math.min(zone.spannedPages, a.pfn + a.pages - zone.startPfn) - from;
    return count > 0 ? { m, zone, from, count } : null;
  }

  /** Draw the held step whole (its animation ended, or the map is drawn anew). */
  flush() {
    const held = this.held;
    if (!held) return;
    this.held = null;
    this.heldAt = -1;
    held.land();
  }

  /** Whether the map still shows part of a step's start (tests wait for it not to). */
  get holding() {
    return this.held !== null;
  }

  /**
   * Mark the zone the free lists show and bring its part of the map into view when it
   * changes (only the map's scrolling column moves, never the page).
   * @param {string} zone
   */
  follow(zone) {
    if (zone === this.followed) return;
    this.followed = zone;
    this.markFollowed();
    const m = this.maps.find((x) => x.zone.name === zone);
    if (m && this.maps.length > 1) bringIntoView(m.wrap);
  }

  markFollowed() {
    this.root.dataset.followed = this.followed;
    for (const m of this.maps) {
      const on = this.maps.length > 1 && m.zone.name === this.followed;
      m.wrap.classList.toggle('followed', on);
      if (on) m.wrap.setAttribute('aria-current', 'true');
      else m.wrap.removeAttribute('aria-current');
    }
  }

  /**
   * Rebuild everything from a state (a snapshot arrived).
   * @param {ClientState} state
   */
  setState(state) {
    this.flush();
    this.state = state;
    this.wholePaints += 1;
    const t0 = performance.now();
    const sig = JSON.stringify([state.session, state.config.pageblock_order, state.zones.map((z) => [z.name, z.startPfn, z.spannedPages])]);
    if (sig !== this.signature) {
      this.signature = sig;
      this.build(state);
    } else {
      this.maps.forEach((m, i) => {
        m.zone = state.zones[i];
      });
    }
    this.lut = buildLut(state.config.migratetypes);
    this.mtColours = migratetypeColours(state.config.migratetypes);
    for (const m of this.maps) {
      paintFrames(m.pixels, m.geom, m.zone, this.lut);
      m.ctx.putImageData(m.image, 0, 0);
      this.caption(m);
    }
    this.drawOverlays();
    this.lastPaintMs = performance.now() - t0;
  }

  /** @param {ClientState} state */
  build(state) {
    const width = Math.max(320, this.root.clientWidth || 600);
    const pbo = state.config.pageblock_order;
    const pbPages = 2 ** pbo;
    const tileW = 2 ** Math.ceil(pbo / 2);
    const tileH = pbPages / tileW;
    const totalTiles = state.zones.reduce((n, z) => n + Math.ceil((z.startPfn % pbPages + z.spannedPages) / pbPages), 0);
    // Short enough that the zone flags under it stay on screen at 1280×720.
    const aspect = width / Math.max(150, Math.min(420, window.innerHeight * 0.26));
    const columns = columnsFor(totalTiles, tileW, tileH, aspect);
    this.maps = state.zones.map((zone) => {
      const geom = geometry({ startPfn: zone.startPfn, pages: zone.spannedPages, pageblockOrder: pbo, columns });
      const base = /** @type {HTMLCanvasElement} */ (
        h('canvas', { class: 'map-base', width: geom.width, height: geom.height, 'aria-hidden': 'true' })
      );
      const overlay = /** @type {HTMLCanvasElement} */ (h('canvas', { class: 'map-overlay', 'aria-hidden': 'true' }));
      const ctx = /** @type {CanvasRenderingContext2D} */ (base.getContext('2d', { alpha: true }));
      const image = ctx.createImageData(geom.width, geom.height);
      const pixels = new Uint32Array(image.data.buffer);
      const caption = h('div', { class: 'map-caption' });
      const stack = h(
        'div',
        {
          class: 'map-stack',
          tabindex: '0',
          role: 'application',
          'aria-roledescription': 'memory map',
          'aria-label': `memory map of zone ${zone.name}: arrow keys move ${pixelWords(geom)}, Shift + arrows a pageblock of ${pbPages} frames, Enter inspects`,
          'data-zone': zone.name,
        },
        [base, overlay],
      );
      const wrap = h('figure', { class: 'map-zone', 'data-zone': zone.name }, [caption, stack]);
      /** @type {ZoneMap} */
      const m = { zone, geom, base, overlay, ctx, image, pixels, wrap, caption };
      this.listen(m, stack);
      return m;
    });
    this.root.replaceChildren(...this.maps.map((m) => m.wrap));
    this.markFollowed();
  }

  /** @param {ZoneMap} m */
  caption(m) {
    const z = m.zone;
    const f = m.geom.framesPerPixel;
    const text = `${z.name} · pfn ${formatPfn(z.startPfn)}–${formatPfn(z.startPfn + z.spannedPages - 1)} · ${formatBytes(z.spannedPages * PAGE_SIZE)}${f > 1 ? ` · 1 pixel = ${f} frames` : ''}`;
    if (m.caption.textContent !== text) {
      m.caption.textContent = text;
      m.caption.title = `pfn ${z.startPfn}–${z.startPfn + z.spannedPages - 1} in decimal`;
    }
  }

  /**
   * @param {ZoneMap} m
   * @param {MouseEvent} event
   */
  pfnAt(m, event) {
    const r = m.base.getBoundingClientRect();
    const x = ((event.clientX - r.left) / r.width) * m.geom.width;
    const y = ((event.clientY - r.top) / r.height) * m.geom.height;
    return xyToPfn(m.geom, x, y);
  }

  /**
   * @param {ZoneMap} m
   * @param {HTMLElement} stack
   */
  listen(m, stack) {
    stack.addEventListener('mousemove', (e) => {
      const pfn = this.pfnAt(m, e);
      this.handlers.onHover(pfn === null ? null : m.zone.name, pfn);
    });
    stack.addEventListener('mouseleave', () => this.handlers.onHover(null, null));
    stack.addEventListener('click', (e) => {
      const pfn = this.pfnAt(m, e);
      if (pfn !== null) {
        this.cursor = { zone: m.zone.name, pfn };
        this.handlers.onPick(m.zone.name, pfn);
      }
    });
    stack.addEventListener('keydown', (e) => {
      const z = m.zone;
      let pfn = this.cursor && this.cursor.zone === z.name ? this.cursor.pfn : z.startPfn;
      // ←/→ a pixel (a frame, or the frames it stands for), ↑/↓ a pixel row of the
      // tile; with Shift, ←/→ a pageblock (the next tile, 2^pageblock_order frames) and
      // ↑/↓ a row of tiles.
      const pageblock = m.geom.tilesPerBlock;
      const across = e.shiftKey ? pageblock : m.geom.framesPerPixel;
      const down = e.shiftKey ? pageblock * m.geom.columns : m.geom.tileW * m.geom.framesPerPixel;
      if (e.key === 'ArrowRight') pfn += across;
      else if (e.key === 'ArrowLeft') pfn -= across;
      else if (e.key === 'ArrowDown') pfn += down;
      else if (e.key === 'ArrowUp') pfn -= down;
      else if (e.key === 'Enter' || e.key === ' ') {
        this.handlers.onPick(z.name, pfn);
        e.preventDefault();
        e.stopPropagation();
        return;
      } else return;
      e.preventDefault();
      e.stopPropagation();
      pfn = Math.max(z.startPfn, Math.min(z.startPfn + z.spannedPages - 1, pfn));
      this.cursor = { zone: z.name, pfn };
      stack.dataset.cursor = String(pfn);
      this.handlers.onHover(z.name, pfn);
    });
    stack.addEventListener('focus', () => {
      if (!this.cursor || this.cursor.zone !== m.zone.name) this.cursor = { zone: m.zone.name, pfn: m.zone.startPfn };
      stack.dataset.cursor = String(this.cursor.pfn);
      this.handlers.onHover(m.zone.name, this.cursor.pfn);
    });
  }

  /**
   * Repaint what a delta changed.
   * @param {Map<string, Array<[number, number]>>} pages zone -> [offset, count] ranges
   * @param {boolean} pageblocksChanged redraw the outlines too
   */
  update(pages, pageblocksChanged = false) {
    if (this.held) this.flush();
    if (!this.lut) return;
    const t0 = performance.now();
    for (const m of this.maps) {
      const ranges = pages.get(m.zone.name);
      if (!ranges) continue;
      // Repaint every range; a few small ranges go to the canvas one by one, many go as
      // the union of their rectangles.
      if (ranges.length <= 6) {
        for (const [from, count] of ranges) {
          paintFrames(m.pixels, m.geom, m.zone, this.lut, from, count);
          const r = dirtyRect(m.geom, from, count);
          m.ctx.putImageData(m.image, 0, 0, r.x, r.y, r.w, r.h);
        }
        continue;
      }
      let x0 = Infinity;
      let y0 = Infinity;
      let x1 = -Infinity;
      let y1 = -Infinity;
      for (const [from, count] of ranges) {
        paintFrames(m.pixels, m.geom, m.zone, this.lut, from, count);
        const r = dirtyRect(m.geom, from, count);
        x0 = Math.min(x0, r.x);
        y0 = Math.min(y0, r.y);
        x1 = Math.max(x1, r.x + r.w);
        y1 = Math.max(y1, r.y + r.h);
      }
      if (x1 > x0) m.ctx.putImageData(m.image, 0, 0, x0, y0, x1 - x0, y1 - y0);
    }
    if (pageblocksChanged) this.drawOverlays();
    this.lastPaintMs = performance.now() - t0;
  }

  /**
   * Highlight blocks (hover, selection, the block's buddy).
   * @param {Mark[]} marks
   */
  highlight(marks) {
    const sig = JSON.stringify(marks);
    if (sig === JSON.stringify(this.marks)) return;
    this.marks = marks;
    // What is outlined, for the tests (the overlay is a canvas).
    this.root.dataset.marks = sig;
    this.drawOverlays();
  }

  drawOverlays() {
    for (const m of this.maps) this.drawOverlay(m);
  }

  /** @param {ZoneMap} m */
  drawOverlay(m) {
    const rect = m.base.getBoundingClientRect();
    if (rect.width === 0) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(rect.width * dpr);
    const hgt = Math.round(rect.height * dpr);
    if (m.overlay.width !== w || m.overlay.height !== hgt) {
      m.overlay.width = w;
      m.overlay.height = hgt;
    }
    const ctx = /** @type {CanvasRenderingContext2D} */ (m.overlay.getContext('2d'));
    ctx.clearRect(0, 0, w, hgt);
    const sx = w / m.geom.width;
    const sy = hgt / m.geom.height;
    // Pageblock outlines, in the pageblock's migratetype colour, when tiles are big
    // enough to show them.
    if (m.geom.tileW * sx >= 18 * dpr) {
      ctx.lineWidth = Math.max(1, Math.min(2.5, m.geom.tileW * sx * 0.04));
      for (let t = 0; t < m.geom.tiles; t += 1) {
        const r = tileRect(m.geom, t);
        ctx.strokeStyle = this.mtColours[m.zone.pageblockMt[t]] ?? '#888';
        ctx.globalAlpha = 0.7;
        const inset = ctx.lineWidth / 2;
        ctx.strokeRect(r.x * sx + inset, r.y * sy + inset, r.w * sx - 2 * inset, r.h * sy - 2 * inset);
      }
      ctx.globalAlpha = 1;
    }
    for (const mark of this.marks) {
      if (mark.zone !== m.zone.name) continue;
      const rects = mark.role === 'cursor' ? [{ ...pfnToXY(m.geom, mark.pfn), w: 1, h: 1 }] : blockRects(m.geom, mark.pfn, mark.order);
      for (const r of rects) {
        const x = r.x * sx;
        const y = r.y * sy;
        const rw = Math.max(r.w * sx, 3);
        const rh = Math.max(r.h * sy, 3);
        ctx.lineWidth = 4 * dpr;
        ctx.strokeStyle = HIGHLIGHT.halo;
        ctx.strokeRect(x - 2 * dpr, y - 2 * dpr, rw + 4 * dpr, rh + 4 * dpr);
        ctx.lineWidth = 2 * dpr;
        ctx.setLineDash(mark.role === 'buddy' ? [4 * dpr, 3 * dpr] : []);
        ctx.strokeStyle = mark.role === 'buddy' ? HIGHLIGHT.buddy : HIGHLIGHT.block;
        ctx.strokeRect(x - 2 * dpr, y - 2 * dpr, rw + 4 * dpr, rh + 4 * dpr);
        ctx.setLineDash([]);
      }
    }
  }

  /**
   * The colour drawn for a frame (its pixel's), as [r, g, b, a] read back from the
   * pixels (tests compare it with what the model says the frame is).
   * @param {string} zone
   * @param {number} pfn
   */
  colourAt(zone, pfn) {
    const m = this.maps.find((x) => x.zone.name === zone);
    if (!m) return null;
    const { x, y } = pfnToXY(m.geom, pfn);
    const i = (y * m.geom.width + x) * 4;
    const d = m.image.data;
    return [d[i], d[i + 1], d[i + 2], d[i + 3]];
  }

  /**
   * The colour a frame's pixel must have for given page state, host backing and
   * pageblock migratetype (tests pass the model's values, or for a pixel of several
   * frames the state and host lib/memmap.js pixelCell picks, and compare with
   * `colourAt`).
   * @param {string} zone
   * @param {number} pfn
   * @param {number} state
   * @param {number} host
   * @param {number} mt
   */
  expectedColour(zone, pfn, state, host, mt) {
    const m = this.maps.find((x) => x.zone.name === zone);
    if (!m || !this.lut) return null;
    const { x, y } = pfnToXY(m.geom, pfn);
    const v = this.lut[((x + y) & 1) * 128 + (mt & 7) * 16 + state * 3 + host];
    return [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
  }

  /**
   * Client coordinates of a frame's centre, scrolled into view (tests hover there).
   * @param {string} zone
   * @param {number} pfn
   */
  clientPoint(zone, pfn) {
    const m = this.maps.find((x) => x.zone.name === zone);
    if (!m) return null;
    const { x, y } = pfnToXY(m.geom, pfn);
    let r = m.base.getBoundingClientRect();
    const py = r.top + ((y + 0.5) / m.geom.height) * r.height;
    if (py < 0 || py > window.innerHeight) {
      // Bring the frame into view (the map's column scrolls).
      m.base.scrollIntoView({ block: 'nearest' });
      r = m.base.getBoundingClientRect();
    }
    return { x: r.left + ((x + 0.5) / m.geom.width) * r.width, y: r.top + ((y + 0.5) / m.geom.height) * r.height };
  }
}
