// @ts-check
/**
 * Memory-map geometry and painting.  Pure logic, no DOM: the view hands this module a
 * Uint32Array over an ImageData and gets pixels back.
 *
 * Layout: one pixel per page frame.  Each pageblock (2^pageblock_order frames) is a
 * tile of tileW × tileH pixels (32 × 16 for the usual order 9), filled row by row in
 * pfn order, so every buddy block is a rectangle: up to order log2(tileW) a run inside
 * one row, up to the pageblock order a band of whole rows; bigger blocks cover several
 * tiles side by side.  Tiles follow each other left to right, `columns` per row
 * (always even, so an order-10 block never wraps).  The zone's first tile starts at
 * its pageblock-aligned start; frames before `start_pfn` stay transparent.
 *
 * A zone of more than PIXEL_BUDGET frames (more than 4 GiB) would need a canvas that
 * the browser copies whole at every change (64 MiB at 64 GiB), so there a pixel stands
 * for 2^shift frames (shift = 2k, the smallest that brings the zone within the budget:
 * 4 frames per pixel up to 16 GiB, 16 up to 64 GiB): the aligned buddy block of order
 * `shift` starting at a multiple of 2^shift.  The same layout then holds with pixels in
 * place of frames, tiles keep their shape (8 × 4 pixels of 16 frames for order 9), and
 * every buddy block of order ≥ shift is still exactly a rectangle of pixels.  A pixel's
 * colour (`pixelCell`) is the most common kind of its frames, except that a pixel with
 * a flagged (hinted or reported) frame is always flagged, and one with a frame the host
 * discarded shows it discarded: aggregating never hides a reported block.
 *
 * Painting a 4 GiB zone (1,048,576 frames) is one pass over the page_state bytes with
 * a colour lookup table: a few milliseconds.  Deltas repaint only their ranges (when
 * aggregated, every pixel a range touches, recomputed from all its frames).
 */
import { FREE_TINT, frameColour, migratetypeColours, OTHER_MIGRATETYPE } from './palette.js';

/**
 * @typedef {{startPfn: number, pages: number, pageblockOrder: number, base: number,
 *            shift: number, framesPerPixel: number, tileW: number, tileH: number,
 *            tilesPerBlock: number, columns: number, tiles: number, rows: number,
 *            width: number, height: number}} Geometry
 *   `tilesPerBlock`: frames per tile (a pageblock); `tileW`, `tileH`: the tile in
 *   pixels; `framesPerPixel` = 2^shift.
 * @typedef {{x: number, y: number, w: number, h: number}} Rect
 */

/** Most pixels a zone's canvas has before its pixels stand for several frames (4 GiB). */
export const PIXEL_BUDGET = 2 ** 20;

/**
 * log2 of the frames per pixel of a zone of `pages` frames: the smallest even shift
 * that brings it within PIXEL_BUDGET pixels, at most the largest even number ≤ the
 * pageblock order (a pixel never spans two pageblocks; past that, 1 TiB zones for
 * order 9, the canvas grows beyond the budget).
 * @param {number} pages
 * @param {number} pageblockOrder
 */
export function pixelShift(pages, pageblockOrder) {
  const most = pageblockOrder - (pageblockOrder % 2);
  let shift = 0;
  while (shift < most && pages / 2 ** shift > PIXEL_BUDGET) shift += 2;
  return shift;
}

/**
 * Columns of tiles so that `tiles` tiles fill a canvas of roughly `aspect` (width /
 * height).  Even, at least 2 (or 1 for a single tile), at most `tiles` rounded up.
 * @param {number} tiles
 * @param {number} tileW
 * @param {number} tileH
 * @param {number} aspect
 */
export function columnsFor(tiles, tileW, tileH, aspect) {
  if (tiles <= 1) return 1;
  let c = Math.round(Math.sqrt((tiles * aspect * tileH) / tileW));
  c = Math.max(2, Math.min(c, tiles + (tiles % 2)));
  if (c % 2) c += 1;
  return c;
}

/**
 * @param {{startPfn: number, pages: number, pageblockOrder: number, columns?: number,
 *          aspect?: number}} zone
 * @returns {Geometry}
 */
export function geometry({ startPfn, pages, pageblockOrder, columns, aspect = 2.5 }) {
  const pbPages = 2 ** pageblockOrder;
  const shift = pixelShift(pages, pageblockOrder);
  const tilePixels = 2 ** (pageblockOrder - shift);
  const tileW = 2 ** Math.ceil((pageblockOrder - shift) / 2);
  const tileH = tilePixels / tileW;
  const base = Math.floor(startPfn / pbPages) * pbPages;
  const tiles = Math.max(1, Math.ceil((startPfn + pages - base) / pbPages));
  const c = columns ?? columnsFor(tiles, tileW, tileH, aspect);
  const rows = Math.ceil(tiles / c);
  return {
    startPfn,
    pages,
    pageblockOrder,
    base,
    shift,
    framesPerPixel: 2 ** shift,
    tileW,
    tileH,
    tilesPerBlock: pbPages,
    columns: c,
    tiles,
    rows,
    width: c * tileW,
    height: rows * tileH,
  };
}

/**
 * The pixel of a pfn (its top-left corner).
 * @param {Geometry} g
 * @param {number} pfn
 * @returns {{x: number, y: number}}
 */
export function pfnToXY(g, pfn) {
  const rel = pfn - g.base;
  const t = Math.floor(rel / g.tilesPerBlock);
  const within = Math.floor((rel - t * g.tilesPerBlock) / g.framesPerPixel);
  return {
    x: (t % g.columns) * g.tileW + (within % g.tileW),
    y: Math.floor(t / g.columns) * g.tileH + Math.floor(within / g.tileW),
  };
}

/**
 * The pfn under a pixel (the first of the pixel's frames in the zone), or null outside
 * the zone.
 * @param {Geometry} g
 * @param {number} x
 * @param {number} y
 * @returns {number | null}
 */
export function xyToPfn(g, x, y) {
  if (x < 0 || y < 0 || x >= g.width || y >= g.height) return null;
  const xi = Math.floor(x);
  const yi = Math.floor(y);
  const t = Math.floor(yi / g.tileH) * g.columns + Math.floor(xi / g.tileW);
  const first = g.base + t * g.tilesPerBlock + ((yi % g.tileH) * g.tileW + (xi % g.tileW)) * g.framesPerPixel;
  if (first + g.framesPerPixel <= g.startPfn || first >= g.startPfn + g.pages) return null;
  return Math.max(first, g.startPfn);
}

/**
 * Rectangles (in canvas pixels) covering a block of 2^order frames at `pfn`.  One
 * rectangle for blocks up to a pageblock (the pixel holding it when the block is
 * smaller than a pixel); bigger blocks get one per tile row they cover (merged when
 * side by side).
 * @param {Geometry} g
 * @param {number} pfn
 * @param {number} order
 * @returns {Rect[]}
 */
export function blockRects(g, pfn, order) {
  const n = 2 ** order;
  const { x, y } = pfnToXY(g, pfn);
  const px = Math.max(1, n / g.framesPerPixel);
  if (px <= g.tileW) return [{ x, y, w: px, h: 1 }];
  if (n <= g.tilesPerBlock) return [{ x, y, w: g.tileW, h: px / g.tileW }];
  /** @type {Rect[]} */
  const rects = [];
  for (let p = pfn; p < pfn + n; p += g.tilesPerBlock) {
    const at = pfnToXY(g, p);
    const last = rects[rects.length - 1];
    if (last && last.y === at.y && last.x + last.w === at.x) last.w += g.tileW;
    else rects.push({ x: at.x, y: at.y, w: g.tileW, h: g.tileH });
  }
  return rects;
}

/**
 * The tile of pageblock `index` (counted from the zone's aligned base).
 * @param {Geometry} g
 * @param {number} index
 * @returns {Rect}
 */
export function tileRect(g, index) {
  return { x: (index % g.columns) * g.tileW, y: Math.floor(index / g.columns) * g.tileH, w: g.tileW, h: g.tileH };
}

/**
 * Index of the pageblock of a pfn in the zone's pageblock_mt array (which counts from
 * the zone's start, rounded down to a pageblock).
 * @param {Geometry} g
 * @param {number} pfn
 */
export function pageblockIndex(g, pfn) {
  return Math.floor((pfn - g.base) / g.tilesPerBlock);
}

// --- colours -----------------------------------------------------------------------

const LUT_MT = 8; // migratetype slots (index 7 = unknown)
const LUT_CELL = 16; // state * 3 + host, state 0..4, host 0..2

/**
 * Pack r, g, b into the 32-bit value of an opaque RGBA pixel on a little-endian
 * machine (what a Uint32Array over ImageData.data holds).
 * @param {[number, number, number]} rgb
 */
export function packRgb([r, g, b]) {
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/**
 * Which FRAME_COLOURS entry a (page state, host backing) pair gets.
 * @param {number} state page_state byte
 * @param {number} host host_backing byte
 * @returns {keyof typeof import('./palette.js').FRAME_COLOURS}
 */
export function frameCategory(state, host) {
  const discarded = host === 2;
  switch (state) {
    case 1:
      return discarded ? 'allocatedDiscarded' : 'allocated';
    case 2:
      return discarded ? 'flaggedDiscarded' : 'flagged';
    case 3:
      return 'isolated';
    case 4:
      return 'pcp';
    default:
      return discarded ? 'freeDiscarded' : 'free';
  }
}

/**
 * The colour lookup table: index = parity * 128 + mt * 16 + state * 3 + host, where
 * parity ((x + y) & 1) picks the checker colour.  Free frames are tinted by their
 * pageblock's migratetype.
 * @param {string[]} migratetypes
 * @param {number} [tint] how much of the migratetype colour a free frame takes
 * @returns {Uint32Array}
 */
export function buildLut(migratetypes, tint = FREE_TINT) {
  const lut = new Uint32Array(2 * LUT_MT * LUT_CELL);
  const mtHex = migratetypeColours(migratetypes);
  while (mtHex.length < LUT_MT) mtHex.push(OTHER_MIGRATETYPE);
  for (const parity of /** @type {const} */ ([0, 1])) {
    for (let mt = 0; mt < LUT_MT; mt += 1) {
      for (let state = 0; state < 5; state += 1) {
        for (let host = 0; host < 3; host += 1) {
          const rgb = frameColour(frameCategory(state, host), mtHex[mt], parity, tint);
          lut[parity * LUT_MT * LUT_CELL + mt * LUT_CELL + state * 3 + host] = packRgb(rgb);
        }
      }
    }
  }
  return lut;
}

/**
 * Paint frames [from, from + count) (zone-relative indices) into `pixels` (a
 * Uint32Array of width g.width).  Walks the affected tiles row by row so each pixel
 * row is written left to right.  When a pixel stands for several frames, every pixel
 * the range touches is painted from all its frames (`paintPixels`).
 * @param {Uint32Array} pixels
 * @param {Geometry} g
 * @param {{pageState: Uint8Array, hostBacking: Uint8Array, pageblockMt: Uint8Array}} zone
 * @param {Uint32Array} lut
 * @param {number} [from]
 * @param {number} [count]
 */
export function paintFrames(pixels, g, zone, lut, from = 0, count = g.pages) {
  const { pageState, hostBacking, pageblockMt } = zone;
  const offset = g.startPfn - g.base; // frames of the first tile before the zone starts
  const pb = g.tilesPerBlock;
  const start = Math.max(0, from);
  const end = Math.min(g.pages, from + count);
  if (end <= start) return;
  if (g.framesPerPixel > 1) {
    paintPixels(pixels, g, zone, lut, start, end);
    return;
  }
  const width = g.width;
  const tileW = g.tileW;
  const firstTile = Math.floor((start + offset) / pb);
  const lastTile = Math.floor((end - 1 + offset) / pb);
  for (let t = firstTile; t <= lastTile; t += 1) {
    const tx = (t % g.columns) * tileW;
    const ty = Math.floor(t / g.columns) * g.tileH;
    const mtBase = ((pageblockMt[t] ?? 7) & 7) * LUT_CELL;
    const tileFirst = t * pb - offset; // zone-relative index of the tile's first frame
    const a = Math.max(start, tileFirst);
    const b = Math.min(end, tileFirst + pb);
    for (let i = a; i < b; ) {
      const within = i - tileFirst;
      const row = (within / tileW) | 0;
      const col = within - row * tileW;
      const y = ty + row;
      const rowEnd = Math.min(b, i + (tileW - col));
      let p = y * width + tx + col;
      let parity = ((tx + col + y) & 1) * (LUT_MT * LUT_CELL);
      for (; i < rowEnd; i += 1, p += 1) {
        pixels[p] = lut[parity + mtBase + pageState[i] * 3 + hostBacking[i]];
        parity ^= LUT_MT * LUT_CELL;
      }
    }
  }
}

/** Cells (state * 3 + host) whose host backing is "discarded". */
const DISCARDED_CELLS = [2, 5, 8, 11, 14];
const ALL_CELLS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
const cellCounts = new Uint16Array(15);

/**
 * The colour cell (page state * 3 + host backing) of a pixel standing for frames
 * [a, b) (zone-relative): the most common (state, host) of its frames, ties to the
 * lower state (free first), except
 * - a pixel with any flagged (hinted or reported) frame is flagged, discarded if any of
 *   its flagged frames is discarded: a reported block is never lost, however small;
 * - otherwise a pixel with any frame the host discarded shows the most common state of
 *   its discarded frames, discarded.
 * @param {Uint8Array} pageState
 * @param {Uint8Array} hostBacking
 * @param {number} a
 * @param {number} b
 */
export function pixelCell(pageState, hostBacking, a, b) {
  const s0 = pageState[a];
  const h0 = hostBacking[a];
  let i = a + 1;
  while (i < b && pageState[i] === s0 && hostBacking[i] === h0) i += 1;
  if (i === b) return s0 * 3 + h0; // all alike: the common case, big blocks
  cellCounts.fill(0);
  for (let j = a; j < b; j += 1) cellCounts[pageState[j] * 3 + hostBacking[j]] += 1;
  if (cellCounts[8]) return 8; // flagged, discarded
  if (cellCounts[6] || cellCounts[7]) return cellCounts[7] ? 7 : 6;
  const pool = DISCARDED_CELLS.some((c) => cellCounts[c]) ? DISCARDED_CELLS : ALL_CELLS;
  let best = pool[0];
  for (const c of pool) if (cellCounts[c] > cellCounts[best]) best = c;
  return best;
}

/**
 * Paint the pixels holding zone-relative frames [start, end) of an aggregated map, each
 * from all its frames in the zone.
 * @param {Uint32Array} pixels
 * @param {Geometry} g
 * @param {{pageState: Uint8Array, hostBacking: Uint8Array, pageblockMt: Uint8Array}} zone
 * @param {Uint32Array} lut
 * @param {number} start
 * @param {number} end
 */
function paintPixels(pixels, g, zone, lut, start, end) {
  const { pageState, hostBacking, pageblockMt } = zone;
  const f = g.framesPerPixel;
  const offset = g.startPfn - g.base;
  const perTile = g.tileW * g.tileH;
  const last = Math.floor((end - 1 + offset) / f);
  for (let q = Math.floor((start + offset) / f); q <= last; q += 1) {
    const t = Math.floor(q / perTile);
    const within = q - t * perTile;
    const x = (t % g.columns) * g.tileW + (within % g.tileW);
    const y = Math.floor(t / g.columns) * g.tileH + Math.floor(within / g.tileW);
    const first = q * f - offset;
    const cell = pixelCell(pageState, hostBacking, Math.max(0, first), Math.min(g.pages, first + f));
    pixels[y * g.width + x] = lut[((x + y) & 1) * LUT_MT * LUT_CELL + ((pageblockMt[t] ?? 7) & 7) * LUT_CELL + cell];
  }
}

/**
 * The pixel rectangle that bounds frames [from, from + count): the region to hand to
 * putImageData after a partial repaint.
 * @param {Geometry} g
 * @param {number} from zone-relative index
 * @param {number} count
 * @returns {Rect}
 */
export function dirtyRect(g, from, count) {
  const a = pfnToXY(g, g.startPfn + from);
  const b = pfnToXY(g, g.startPfn + from + count - 1);
  const firstTileRow = Math.floor(a.y / g.tileH);
  const lastTileRow = Math.floor(b.y / g.tileH);
  if (firstTileRow !== lastTileRow) {
    return { x: 0, y: firstTileRow * g.tileH, w: g.width, h: (lastTileRow - firstTileRow + 1) * g.tileH };
  }
  const x0 = Math.min(a.x - (a.x % g.tileW), b.x - (b.x % g.tileW));
  const x1 = Math.max(a.x, b.x) - (Math.max(a.x, b.x) % g.tileW) + g.tileW;
  return { x: x0, y: firstTileRow * g.tileH, w: x1 - x0, h: g.tileH };
}

/**
 * The buddy of a block: pfn ^ 2^order (buddy arithmetic the kernel does on the pfn).
 * This is layout (where to draw the partner), not a decision of the model.
 * @param {number} pfn
 * @param {number} order
 */
export function buddyOf(pfn, order) {
  return pfn ^ (2 ** order);
}
