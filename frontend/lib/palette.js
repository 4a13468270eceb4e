// @ts-check
/**
 * Colours, one place.  Safe for the common colour-vision deficiencies: the page-state
 * colours come from the Okabe–Ito set and differ in lightness as well as hue, and the
 * hinted/reported state always carries a second cue (a checker texture on the memory
 * map, a hatch and a ✓ mark on free-list chips).  Migratetypes are always named next
 * to their colour.  style.css mirrors these values as custom properties; the browser
 * test checks that they agree.
 */

/** Migratetype colours (lane swatches, pageblock outlines, a pale tint of free frames). */
export const MIGRATETYPE_COLOURS = Object.freeze({
  Unmovable: '#d55e00',
  Movable: '#009e73',
  Reclaimable: '#b07aa1',
  HighAtomic: '#8c564b',
  CMA: '#999933',
  Isolate: '#222222',
});
export const OTHER_MIGRATETYPE = '#8a8f99';

/**
 * Page-frame colours of the memory map; `alt` is the second colour of the checker
 * texture (equal to `fill` when the state has no texture).
 */
export const FRAME_COLOURS = Object.freeze({
  allocated: { fill: '#4b5263', alt: '#4b5263', label: 'allocated', short: 'allocated' },
  allocatedDiscarded: { fill: '#4b5263', alt: '#0072b2', label: 'allocated, host discarded it (refault on touch)', short: 'refault' },
  free: { fill: '#e9e6dc', alt: '#e9e6dc', label: 'free (unhinted)', short: 'free' },
  freeDiscarded: { fill: '#e9e6dc', alt: '#7fb3d9', label: 'free, host discarded it (mark lost)', short: 'lost' },
  flagged: { fill: '#56b4e9', alt: '#9fd3f2', label: 'hinted / reported (nothing discarded)', short: 'hinted' },
  flaggedDiscarded: { fill: '#0072b2', alt: '#56b4e9', label: 'hinted / reported, discarded: memory back with the host', short: 'returned' },
  isolated: { fill: '#f0e442', alt: '#c9bd1c', label: 'isolated: in flight with the host', short: 'in flight' },
  pcp: { fill: '#e69f00', alt: '#e69f00', label: 'on a per-cpu list', short: 'pcp' },
});

/** How much of its pageblock's migratetype colour a free (unflagged) frame takes. */
export const FREE_TINT = 0.16;

/** The frame categories drawn in their pageblock's migratetype tint (page state free). */
export const TINTED_FRAMES = Object.freeze(new Set(['free', 'freeDiscarded']));

/**
 * The colour the memory map draws for a frame of a category: `parity` 0 is the fill,
 * 1 the checker's second colour; free frames are mixed with their pageblock's
 * migratetype colour `mtHex`.  The map's lookup table and the legend both use this.
 * @param {keyof typeof FRAME_COLOURS} category
 * @param {string} mtHex
 * @param {0 | 1} parity
 * @param {number} [tint]
 * @returns {[number, number, number]}
 */
export function frameColour(category, mtHex, parity, tint = FREE_TINT) {
  const c = FRAME_COLOURS[category];
  const rgb = hexToRgb(parity ? c.alt : c.fill);
  return TINTED_FRAMES.has(category) ? mix(rgb, hexToRgb(mtHex), tint) : rgb;
}

/**
 * A CSS background showing a category as the map draws it: one colour, or the 2×2
 * checker of its two colours.
 * @param {keyof typeof FRAME_COLOURS} category
 * @param {string} mtHex the pageblock's migratetype colour (tinted categories)
 */
export function frameSwatch(category, mtHex) {
  const css = (/** @type {[number, number, number]} */ [r, g, b]) => `rgb(${r}, ${g}, ${b})`;
  const fill = css(frameColour(category, mtHex, 0));
  const alt = css(frameColour(category, mtHex, 1));
  return fill === alt ? fill : `repeating-conic-gradient(${fill} 0 25%, ${alt} 0 50%) 0 0 / 6px 6px`;
}

/** Highlight colours of the hover and selection outlines. */
export const HIGHLIGHT = Object.freeze({ block: '#000000', buddy: '#d55e00', halo: '#ffffff' });

/**
 * `#rrggbb` -> [r, g, b].
 * @param {string} hex
 * @returns {[number, number, number]}
 */
export function hexToRgb(hex) {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) throw new RangeError(`not a #rrggbb colour: ${hex}`);
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/**
 * Mix two colours: `t` = 0 gives `a`, 1 gives `b`.
 * @param {[number, number, number]} a
 * @param {[number, number, number]} b
 * @param {number} t
 * @returns {[number, number, number]}
 */
export function mix(a, b, t) {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
}

/**
 * @param {string[]} migratetypes
 * @returns {string[]}
 */
export function migratetypeColours(migratetypes) {
  return migratetypes.map(
    (mt) => /** @type {Record<string, string>} */ (MIGRATETYPE_COLOURS)[mt] ?? OTHER_MIGRATETYPE,
  );
}

/**
 * One line style per hinting strategy for the comparison chart: Okabe–Ito colours
 * that differ in lightness, and a second cue for colour-blind readers: the dash
 * pattern (`dash` for the chart line, `border` for the legend marker).
 */
export const STRATEGY_STYLES = Object.freeze({
  none: { colour: '#5d6677', dash: [2, 4], border: 'dotted', title: 'no hinting' },
  'hinting-v2': { colour: '#0072b2', dash: [], border: 'solid', title: 'v2 hinted pages (2019)' },
  reporting: { colour: '#d55e00', dash: [10, 5], border: 'dashed', title: 'free page reporting (5.7+)' },
});
