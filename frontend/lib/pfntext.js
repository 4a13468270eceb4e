// @ts-check
/**
 * One notation for pfns everywhere: hex, as the kernel prints them in its traces
 * (`pfn=0x16000`), the model's messages and the chips alike, with the decimal value a
 * hover away.  Pure logic, no DOM: views/dom.js `withPfns` turns the parts into spans
 * with a title.
 */
import { formatPfn } from './layout.js';

/** A hex number in a sentence (a pfn, a buddy mask, a page_type value). */
const HEX = /\b0x[0-9a-f]+\b/gi;

/**
 * The hover text of a hex number: its value in decimal.
 * @param {number} value
 */
export function decimalTitle(value) {
  return `${value} in decimal`;
}

/**
 * A pfn in hex with its decimal value in parentheses, for a title or an aria label
 * (where a hover of its own cannot be).
 * @param {number} pfn
 */
export function pfnWithDecimal(pfn) {
  return `${formatPfn(pfn)} (${pfn})`;
}

/**
 * A sentence split at its hex numbers: plain text, and each number with its value.
 * @param {string} text
 * @returns {Array<string | {hex: string, value: number}>}
 */
export function pfnParts(text) {
  /** @type {Array<string | {hex: string, value: number}>} */
  const out = [];
  let last = 0;
  for (const m of text.matchAll(HEX)) {
    const at = m.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    out.push({ hex: m[0], value: parseInt(m[0].slice(2), 16) });
    last = at + m[0].length;
  }
  if (last < text.length || out.length === 0) out.push(text.slice(last));
  return out;
}

/**
 * A pfn typed by a person: hex (`0x16000`) as the page shows pfns, or decimal.
 * @param {string} text
 * @returns {number | null} null when it is neither
 */
export function parsePfn(text) {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  if (/^\d+$/.test(t)) return Number(t);
  return null;
}

/** The pattern of an input taking a pfn (hex or decimal), for the browser's own check. */
export const PFN_PATTERN = '0[xX][0-9a-fA-F]+|[0-9]+';
