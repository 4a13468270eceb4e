// @ts-check
/**
 * Layout of the free-list view, computed from the client state.  Pure logic, no DOM.
 *
 * One row per order; inside a row one lane per non-empty free list (one per
 * migratetype), blocks from head (left) to tail (right).  A long list is shown as its
 * two ends with gap items that count the blocks in between, so a row never turns into
 * an unreadable smear; the blocks around the v2 boundary (and any block the user
 * points at) are kept in view too.  Above the rows, a "with the host" lane holds the
 * batch the strategy has isolated.
 *
 * Nothing here second-guesses the model: counts, flags and the boundary are the ones
 * the server sent; this module only decides where to draw them.
 */

/** Bytes in a base page (x86-64). */
export const PAGE_SIZE = 4096;

/** Blocks drawn from each end of a list before the middle is summarised. */
export const DEFAULT_MAX_ENDS = 4;

/** Blocks drawn on each side of the boundary (or of a focused block). */
export const FOCUS_RADIUS = 2;

/**
 * @typedef {import('./protocol.js').WireList} WireList
 * @typedef {import('./state.js').ZoneModel} ZoneModel
 * @typedef {import('./protocol.js').HintingState} HintingState
 * @typedef {{kind: 'block', pfn: number, position: number, flagged: boolean}} BlockItem
 * @typedef {{kind: 'gap', count: number, from: number, boundaryInside: boolean}} GapItem
 * @typedef {{kind: 'boundary', pfn: number | null, position: number}} BoundaryItem
 * @typedef {BlockItem | GapItem | BoundaryItem} ListItem
 * @typedef {{migratetype: string, order: number, length: number, items: ListItem[],
 *            flaggedShown: number, boundary: {pfn: number | null, position: number | null} | null,
 *            current: boolean}} Lane
 * @typedef {{order: number, nrFree: number, blockSize: string, lanes: Lane[],
 *            flaggedCount: number | null}} Row
 * @typedef {{pfn: number, order: number, slot: number}} HostBlock
 * @typedef {{blocks: HostBlock[], hidden: number, pages: number, capacity: number | null,
 *            phase: string | null}} HostLane
 * @typedef {{name: string, firstPfn: number, lastPfn: number, spannedPages: number,
 *            freePages: number, rows: Row[], host: HostLane | null, flag: string | null,
 *            active: boolean}} ZoneLayout
 */

/**
 * "4 KiB", "2 MiB", "1.5 GiB": binary units, at most one decimal.
 * @param {number} bytes
 */
export function formatBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, '');
  return `${text} ${units[unit]}`;
}

/**
 * Size of one block of the given order.
 * @param {number} order
 * @param {number} [pageSize]
 */
export function blockSize(order, pageSize = PAGE_SIZE) {
  return formatBytes(pageSize * 2 ** order);
}

/** @param {number} pfn */
export function formatPfn(pfn) {
  return `0x${pfn.toString(16)}`;
}

/** @param {number} n */
export function formatCount(n) {
  return n.toLocaleString('en-US');
}

/**
 * CSS-friendly name of a migratetype: "HighAtomic" -> "highatomic".
 * @param {string} migratetype
 */
export function migratetypeSlug(migratetype) {
  return migratetype.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/**
 * What the strategy's per-block flag is called.
 * @param {string} strategy
 * @returns {string | null}
 */
export function flagName(strategy) {
  if (strategy === 'hinting-v2') return 'hinted';
  if (strategy === 'reporting') return 'reported';
  return null;
}

/**
 * Every entry the server sent for a list, with its position from the head.
 * @param {WireList} list
 * @returns {Array<{pfn: number, position: number, flagged: boolean}>}
 */
export function knownEntries(list) {
  const out = list.head.map((pfn, i) => ({ pfn, position: i, flagged: Boolean(list.head_flagged[i]) }));
  const base = list.length - list.tail.length;
  list.tail.forEach((pfn, i) => out.push({ pfn, position: base + i, flagged: Boolean(list.tail_flagged[i]) }));
  return out;
}

/**
 * The v2 boundary of a list, if the model sent one: `pfn` is the first hinted entry
 * (null: the boundary sits at the list head sentinel, i.e. after the tail, nothing
 * hinted).  `position` is the index of that entry from the head when known (the list
 * length for null; null when the pfn is in the middle the server did not send).
 * @param {WireList} list
 * @param {HintingState} hinting
 * @param {string} zoneName
 * @returns {{pfn: number | null, position: number | null} | null}
 */
export function boundaryOf(list, hinting, zoneName) {
  if (hinting.strategy !== 'hinting-v2') return null;
  if (hinting.active_zone != null && hinting.active_zone !== zoneName) return null;
  const byOrder = hinting.boundaries?.[String(list.order)];
  if (!byOrder || !(list.migratetype in byOrder)) return null;
  const pfn = byOrder[list.migratetype];
  if (pfn === null) return { pfn: null, position: list.length };
  const hit = knownEntries(list).find((e) => e.pfn === pfn);
  return { pfn, position: hit ? hit.position : null };
}

/**
 * The items to draw for one free list, head first.
 *
 * Blocks keep their position in the full list; runs of blocks that are not drawn
 * (because the server did not send them, or to keep at most `maxEnds` per end) become
 * one gap item with their count.  Blocks within `radius` of a focus position (the
 * boundary, a highlighted block) are drawn too.  A gap of one known block is drawn as
 * the block instead.  A boundary item is placed before the first hinted entry, or
 * after the last entry when the boundary is at the head sentinel; when it lies in the
 * unsent middle, the gap says so (`boundaryInside`).
 * @param {WireList} list
 * @param {{maxEnds?: number, focus?: number[], radius?: number,
 *          boundary?: {pfn: number | null, position: number | null} | null}} [options]
 * @returns {ListItem[]}
 */
export function listItems(list, options = {}) {
  const maxEnds = options.maxEnds ?? DEFAULT_MAX_ENDS;
  const radius = options.radius ?? FOCUS_RADIUS;
  const boundary = options.boundary ?? null;
  const focus = [...(options.focus ?? [])];
  if (boundary && boundary.position !== null) focus.push(boundary.position);
  const count = list.length;
  const known = knownEntries(list);
  const keepAll = count <= 2 * maxEnds + 1;
  const keep = (/** @type {number} */ pos) =>
    keepAll ||
    pos < maxEnds ||
    pos >= count - maxEnds ||
    focus.some((f) => pos >= f - radius && pos < f + radius);
  // A boundary known to lie in the unsent middle: between the last sent head entry and
  // the first sent tail entry.
  const middleBoundary = boundary !== null && boundary.pfn !== null && boundary.position === null;
  /** @type {ListItem[]} */
  const items = [];
  let previous = -1;
  /** @param {number} upTo position of the next drawn block (exclusive end of the gap) */
  const gapTo = (upTo) => {
    if (upTo - previous > 1) {
      const from = previous + 1;
      const inside = middleBoundary && from <= list.head.length && upTo >= count - list.tail.length;
      items.push({ kind: 'gap', count: upTo - from, from, boundaryInside: inside });
    }
  };
  const kept = new Set(known.filter((e) => keep(e.position)).map((e) => e.position));
  // A known block that would be the only one hidden between two drawn ones is drawn.
  for (const e of known) {
    if (kept.has(e.position)) continue;
    const before = e.position === 0 || kept.has(e.position - 1);
    const after = e.position === count - 1 || kept.has(e.position + 1);
    if (before && after) kept.add(e.position);
  }
  for (const e of known) {
    if (!kept.has(e.position)) continue;
    gapTo(e.position);
    pushBlock(items, e, boundary);
    previous = e.position;
  }
  gapTo(count);
  if (boundary && boundary.pfn === null) items.push({ kind: 'boundary', pfn: null, position: count });
  return items;
}

/**
 * @param {ListItem[]} items
 * @param {{pfn: number, position: number, flagged: boolean}} e
 * @param {{pfn: number | null, position: number | null} | null} boundary
 */
function pushBlock(items, e, boundary) {
  if (boundary && boundary.pfn !== null && boundary.pfn === e.pfn) {
    items.push({ kind: 'boundary', pfn: e.pfn, position: e.position });
  }
  items.push({ kind: 'block', pfn: e.pfn, position: e.position, flagged: e.flagged });
}

/**
 * Which zone holds the isolated batch: the one the strategy names, else the one that
 * contains the batch's first pfn.
 * @param {HintingState} hinting
 * @param {ZoneModel[]} zones
 */
export function batchZone(hinting, zones) {
  const named = hinting.strategy === 'reporting' ? hinting.zone : hinting.active_zone;
  if (typeof named === 'string' && named) return named;
  const first = hinting.batch?.[0];
  if (!first) return null;
  const z = zones.find((zone) => first[0] >= zone.startPfn && first[0] < zone.startPfn + zone.spannedPages);
  return z ? z.name : null;
}

/**
 * The "with the host" lane of a zone: the blocks isolated in the strategy's batch,
 * in slot order, at most `maxShown` of them (the rest counted).
 * @param {HintingState} hinting
 * @param {ZoneModel[]} zones
 * @param {string} zoneName
 * @param {number} [maxShown]
 * @returns {HostLane | null}
 */
export function hostLane(hinting, zones, zoneName, maxShown = 32) {
  if (hinting.strategy === 'none') return null;
  const batch = hinting.batch ?? [];
  const zone = batchZone(hinting, zones);
  const mine = batch.length > 0 && zone === zoneName;
  const capacity = hinting.constants?.find((c) => c.name === 'capacity')?.value ?? null;
  const blocks = mine ? batch.map(([pfn, order], slot) => ({ pfn, order, slot })) : [];
  return {
    blocks: blocks.slice(0, maxShown),
    hidden: Math.max(0, blocks.length - maxShown),
    pages: blocks.reduce((n, b) => n + 2 ** b.order, 0),
    capacity,
    phase: typeof hinting.phase === 'string' ? hinting.phase : null,
  };
}

/**
 * Layout of one zone: a row per order 0..max_order-1, lanes for non-empty lists in the
 * order of `migratetypes`, and the host lane.
 * @param {ZoneModel} zone
 * @param {{migratetypes: string[], maxOrder: number, hinting: HintingState,
 *          zones?: ZoneModel[], maxEnds?: number, focusPfn?: number | null,
 *          pageSize?: number}} options
 * @returns {ZoneLayout}
 */
export function layoutZone(zone, options) {
  const { hinting } = options;
  const maxEnds = options.maxEnds ?? DEFAULT_MAX_ENDS;
  const flag = flagName(hinting.strategy);
  const v2 = hinting.strategy === 'hinting-v2' ? hinting.zones?.[zone.name] : null;
  const minOrder = typeof hinting.min_order === 'number' ? hinting.min_order : 0;
  const reportingHere = hinting.strategy === 'reporting' && hinting.zone === zone.name;
  const rows = [];
  for (let order = 0; order < options.maxOrder; order += 1) {
    /** @type {Lane[]} */
    const lanes = [];
    for (const migratetype of options.migratetypes) {
      const list = zone.lists.get(`${order}:${migratetype}`);
      if (!list || list.length === 0) continue;
      const boundary = boundaryOf(list, hinting, zone.name);
      const focus = [];
      if (options.focusPfn != null) {
        const hit = knownEntries(list).find((e) => e.pfn === options.focusPfn);
        if (hit) focus.push(hit.position);
      }
      const items = listItems(list, { maxEnds, boundary, focus });
      lanes.push({
        migratetype,
        order,
        length: list.length,
        items,
        flaggedShown: items.filter((i) => i.kind === 'block' && i.flagged).length,
        boundary,
        current:
          reportingHere && hinting.list_order === order && hinting.list_migratetype === migratetype,
      });
    }
    let flaggedCount = null;
    if (v2 && Array.isArray(v2.hinted_pages) && order >= minOrder) {
      flaggedCount = v2.hinted_pages[order - minOrder] ?? null;
    }
    rows.push({
      order,
      nrFree: zone.nrFree[order] ?? 0,
      blockSize: blockSize(order, options.pageSize),
      lanes,
      flaggedCount,
    });
  }
  return {
    name: zone.name,
    firstPfn: zone.startPfn,
    lastPfn: zone.startPfn + zone.spannedPages - 1,
    spannedPages: zone.spannedPages,
    freePages: zone.nrFreePages,
    rows,
    host: hostLane(hinting, options.zones ?? [zone], zone.name),
    flag,
    active: Boolean(v2?.active) || reportingHere,
  };
}
