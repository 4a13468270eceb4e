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
 * Painting a 4 GiB zone (1,048,576 frames) is one pass over the page_state bytes with
 * a colour lookup table: a few milliseconds.  Deltas repaint only their ranges.
 */
import { FREE_TINT, frameColour, migratetypeColours, OTHER_MIGRATETYPE } from './palette.js';

/**
 * @typedef {{startPfn: number, pages: number, pageblockOrder: number, base: number,
 *            tileW: number, tileH: number, tilesPerBlock: number, columns: number,
 *            tiles: number, rows: number, width: number, height: number}} Geometry
 * @typedef {{x: number, y: number, w: number, h: number}} Rect
 */

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
  const tileW = 2 ** Math.ceil(pageblockOrder / 2);
  const tileH = pbPages / tileW;
  const base = Math.floor(startPfn / pbPages) * pbPages;
  const tiles = Math.max(1, Math.ceil((startPfn + pages - base) / pbPages));
  const c = columns ?? columnsFor(tiles, tileW, tileH, aspect);
  const rows = Math.ceil(tiles / c);
  return {
    startPfn,
    pages,
    pageblockOrder,
    base,
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
 * The pixel of a pfn (its top-left corner; one pixel per frame).
 * @param {Geometry} g
 * @param {number} pfn
 * @returns {{x: number, y: number}}
 */
export function pfnToXY(g, pfn) {
  const rel = pfn - g.base;
  const t = Math.floor(rel / g.tilesPerBlock);
  const within = rel - t * g.tilesPerBlock;
  return {
    x: (t % g.columns) * g.tileW + (within % g.tileW),
    y: Math.floor(t / g.columns) * g.tileH + Math.floor(within / g.tileW),
  };
}

/**
 * The pfn under a pixel, or null outside the zone.
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
  const pfn = g.base + t * g.tilesPerBlock + (yi % g.tileH) * g.tileW + (xi % g.tileW);
  if (pfn < g.startPfn || pfn >= g.startPfn + g.pages) return null;
  return pfn;
}

/**
 * Rectangles (in canvas pixels) covering a block of 2^order frames at `pfn`.  One
 * rectangle for blocks up to a pageblock; bigger blocks get one per tile row they
 * cover (merged when side by side).
 * @param {Geometry} g
 * @param {number} pfn
 * @param {number} order
 * @returns {Rect[]}
 */
export function blockRects(g, pfn, order) {
  const n = 2 ** order;
  const { x, y } = pfnToXY(g, pfn);
  if (n <= g.tileW) return [{ x, y, w: n, h: 1 }];
  if (n <= g.tilesPerBlock) return [{ x, y, w: g.tileW, h: n / g.tileW }];
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
 * row is written left to right.
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
