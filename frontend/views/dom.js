// @ts-check
/** Small DOM helpers shared by the views. */
import { wholeLineTop } from '../lib/narrate.js';
import { decimalTitle, pfnParts } from '../lib/pfntext.js';

/**
 * Create an element.  `attrs` values of undefined/null/false are skipped, `true` sets
 * an empty attribute; `class`, `text` and `on*` (listeners) are special.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {Array<Node | string | null | undefined | false>} [children]
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = String(value);
    else if (name === 'text') el.textContent = String(value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

/**
 * An SVG element.
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @param {Element[]} [children]
 */
export function svg(tag, attrs = {}, children = []) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

/**
 * The element with this id (throws when missing: a broken page should say so).
 * @param {string} id
 * @param {ParentNode} [root]
 * @returns {HTMLElement}
 */
export function byId(id, root = document) {
  const el = root instanceof Document ? root.getElementById(id) : root.querySelector(`#${CSS.escape(id)}`);
  if (!el) throw new Error(`the page has no #${id}`);
  return /** @type {HTMLElement} */ (el);
}

/**
 * Replace an element's children only when `signature` changed since the last call
 * (kept in a WeakMap).  Returns whether it redrew.
 * @param {Element} el
 * @param {string} signature
 * @param {() => Array<Node | string | null | undefined | false>} build
 */
const signatures = new WeakMap();
export function redraw(el, signature, build) {
  if (signatures.get(el) === signature) return false;
  signatures.set(el, signature);
  replaceKids(el, build());
  return true;
}

/** Whether the user asked the system for less motion. */
export function prefersReducedMotion() {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}

/**
 * replaceChildren, skipping null/undefined/false.
 * @param {Element} el
 * @param {Array<Node | string | null | undefined | false>} kids
 */
export function replaceKids(el, kids) {
  el.replaceChildren(.../** @type {Array<Node | string>} */ (kids.filter((k) => k !== null && k !== undefined && k !== false)));
}

/**
 * A sentence with its hex numbers (pfns) as spans whose title gives the decimal value
 * (lib/pfntext.js): children for `h`.
 * @param {string} text
 * @returns {Array<Node | string>}
 */
export function withPfns(text) {
  return pfnParts(text).map((p) => (typeof p === 'string' ? p : h('span', { class: 'pfn', title: decimalTitle(p.value) }, [p.hex])));
}

/**
 * Scroll a list (not the page) so its line `li` is whole in view, about a third down,
 * with the list's first visible line whole.
 * @param {HTMLElement} list
 * @param {HTMLElement[]} lines
 * @param {HTMLElement} li
 */
export function scrollToLine(list, lines, li) {
  list.scrollTop = wholeLineTop(
    lines.map((l) => l.offsetTop),
    {
      want: li.offsetTop - list.clientHeight / 3,
      least: li.offsetTop + li.offsetHeight - list.clientHeight,
      point: li.offsetTop,
      most: list.scrollHeight - list.clientHeight,
    },
  );
}
