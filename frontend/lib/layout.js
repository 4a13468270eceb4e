// @ts-check
/**
 * Layout of the free-list view, computed from the client state.  Pure logic, no DOM.
 *
 * One row per order; inside a row one lane per non-empty free list (one per
 * migratetype), blocks from head (left) to tail (right).  A long list is shown as its
 * two ends with gap items that count the blocks in between, so a row never turns into
 * an unreadable smear; the blocks around the v2 boundary (and any block the user
 * points at) are kept in view too.  The server places the boundary in every list
 * (its index and neighbours, even in the middle it does not send) and counts each
 * list's flagged blocks, so every gap knows which side of the boundary it is on and
 * how many of its blocks are hinted/reported.  Above the rows, a "with the host" lane
 * holds the batch the strategy has isolated.
 *
 * Nothing here second-guesses the model: counts, flags and the boundary are the ones
 * the server sent; this module only decides where to draw them.  A block's hinted
 * mark is its own flag, never its side of the boundary (a cycle starts with the
 * boundary after the tail while blocks hinted by earlier cycles stay in front of it).
 */

/** Bytes in a base page (x86-64). */
export const PAGE_SIZE = 4096;

/** Blocks drawn from each end of a list before the middle is summarised. */
export const DEFAULT_MAX_ENDS = 4;

/** Blocks drawn on each side of the boundary (or of a focused block). */
export const FOCUS_RADIUS = 2;

/** Most blocks drawn from each end of a list when the lanes are fitted to a width. */
export const MAX_FIT_ENDS = 8;

/**
 * @typedef {import('./protocol.js').WireList} WireList
 * @typedef {import('./state.js').ZoneModel} ZoneModel
 * @typedef {import('./protocol.js').HintingState} HintingState
 * @typedef {{kind: 'block', pfn: number, position: number, flagged: boolean}} BlockItem
 * @typedef {{kind: 'gap', count: number, from: number, flagged: number | null,
 *            side: 'front' | 'behind' | null, compact?: boolean}} GapItem
 *   `flagged`: how many of the gap's blocks carry the flag (null: unknown, an old
 *   server); `side`: in front of or behind the list's boundary (null: no boundary);
 *   `compact`: say it in fewer words (a lane short of width).
 * @typedef {{kind: 'boundary', pfn: number | null, position: number}} BoundaryItem
 * @typedef {BlockItem | GapItem | BoundaryItem} ListItem
 * @typedef {{pfn: number | null, position: number}} Boundary
 * @typedef {{migratetype: string, order: number, length: number, items: ListItem[],
 *            flagged: number | null, flaggedShown: number, boundary: Boundary | null,
 *            current: boolean, stacked?: boolean}} Lane
 *   `stacked`: the migratetype tag goes on a line of its own, leaving the items line
 *   to the blocks (a lane that does not fit otherwise).
 * @typedef {{order: number, nrFree: number, blockSize: string, lanes: Lane[],
 *            flaggedCount: number | null}} Row
 * @typedef {{pfn: number, order: number, migratetype: string, position: number,
 *            length: number, flagged: boolean}} PlacedBlock
 *   A free block where the model placed it (GET .../page/{pfn}): its list (order and
 *   migratetype), its position from the head in a list of `length` blocks, its flag.
 * @typedef {{pfn: number, order: number, slot: number}} HostBlock
 * @typedef {{blocks: HostBlock[], hidden: number, pages: number, capacity: number | null,
 *            phase: string | null}} HostLane
 * @typedef {{name: string, firstPfn: number, lastPfn: number, spannedPages: number,
 *            freePages: number, rows: Row[], host: HostLane | null, flag: string | null,
 *            active: boolean}} ZoneLayout
 * @typedef {{width: number, currentWidth: number, tagWidth: number, spacing: number,
 *            widthOf: (item: ListItem, flag: string) => number}} LaneFit
 *   How to fit a lane on one line: `width` px for its items (less `currentWidth` in
 *   the lane being reported, which carries a tag; `tagWidth` more when the migratetype
 *   tag goes on a line of its own), `spacing` px between items, and the width each
 *   item takes when drawn.
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

/**
 * A count with thousands separators, as en-US prints it.  Integers skip
 * `toLocaleString`: its ICU call was a tenth of the page's script time in a fast play.
 * @param {number} n
 */
export function formatCount(n) {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
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
 * Every entry the server sent for a list, with its position from the head: both ends
 * and the boundary's neighbours, head to tail, each once.
 * @param {WireList} list
 * @returns {Array<{pfn: number, position: number, flagged: boolean}>}
 */
export function knownEntries(list) {
  const out = list.head.map((pfn, i) => ({ pfn, position: i, flagged: Boolean(list.head_flagged[i]) }));
  const base = list.length - list.tail.length;
  const b = list.boundary;
  if (b) {
    const around = [];
    if (b.before !== null) around.push({ pfn: b.before, position: b.index - 1, flagged: Boolean(b.before_flagged) });
    if (b.after !== null) around.push({ pfn: b.after, position: b.index, flagged: Boolean(b.after_flagged) });
    for (const e of around) if (e.position >= list.head.length && e.position < base) out.push(e);
  }
  list.tail.forEach((pfn, i) => out.push({ pfn, position: base + i, flagged: Boolean(list.tail_flagged[i]) }));
  return out;
}

/**
 * The v2 boundary of a list, as the server placed it: `position` is the index of the
 * entry it sits in front of (the list length when it is at the list head sentinel,
 * after the tail), `pfn` that entry (null at the sentinel).  Null without a boundary
 * (not v2, or the zone is not being hinted).
 * @param {WireList} list
 * @returns {Boundary | null}
 */
export function boundaryOf(list) {
  const b = list.boundary;
  return b ? { pfn: b.after, position: b.index } : null;
}

/**
 * How many flagged blocks lie in each run of positions the page does not know entry by
 * entry.  The server's counts (`flagged`, `boundary.flagged_before`) cover the whole
 * list; the known entries on the same side of the boundary are taken off, and what is
 * left is the side's unknown runs' together.  A side usually has one such run; a block
 * placed in the middle (`listItems`' `placed`) cuts it in two, and then each part's
 * count is known only when none or all of the side's unknown blocks are flagged (null
 * otherwise: never the side's count twice).
 * @param {WireList} list
 * @param {Array<{position: number, flagged: boolean}>} known
 * @param {Array<[number, number]>} runs [from, to) each, head first
 * @returns {Array<number | null>}
 */
function unknownFlags(list, known, runs) {
  const b = list.boundary;
  const flagged = list.flagged;
  if (typeof flagged !== 'number') return runs.map(() => null);
  const sideOf = (/** @type {number} */ to) => (b ? (to <= b.index ? 'front' : 'behind') : 'all');
  /** @type {Map<string, {flagged: number, blocks: number, runs: number}>} */
  const sides = new Map();
  for (const [from, to] of runs) {
    const side = sideOf(to);
    let s = sides.get(side);
    if (!s) {
      const onSide = known.filter((e) => e.flagged && (!b || (e.position < b.index) === (side === 'front'))).length;
      const total = !b ? flagged : side === 'front' ? b.flagged_before : flagged - b.flagged_before;
      s = { flagged: total - onSide, blocks: 0, runs: 0 };
      sides.set(side, s);
    }
    s.blocks += to - from;
    s.runs += 1;
  }
  return runs.map(([from, to]) => {
    const s = /** @type {{flagged: number, blocks: number, runs: number}} */ (sides.get(sideOf(to)));
    if (s.runs === 1) return s.flagged;
    if (s.flagged === 0) return 0;
    return s.flagged === s.blocks ? to - from : null;
  });
}

/**
 * The entries the server sent (`knownEntries`) and the ones placed from elsewhere (the
 * model's answer about a block in the unsent middle: its position and flag), head
 * first, each position once; a placement outside the list or on a sent entry is
 * ignored (the sent entry is the list as drawn).
 * @param {WireList} list
 * @param {Array<{pfn: number, position: number, flagged: boolean}>} placed
 */
function entriesOf(list, placed) {
  const known = knownEntries(list);
  if (placed.length === 0) return known;
  const taken = new Set(known.map((e) => e.position));
  for (const p of placed) {
    if (!Number.isInteger(p.position) || p.position < 0 || p.position >= list.length || taken.has(p.position)) continue;
    taken.add(p.position);
    known.push({ pfn: p.pfn, position: p.position, flagged: Boolean(p.flagged) });
  }
  return known.sort((a, b) => a.position - b.position);
}

/**
 * The items to draw for one free list, head first.
 *
 * Blocks keep their position in the full list; runs of blocks that are not drawn
 * (because the server did not send them, or to keep at most `maxEnds` per end) become
 * one gap item with their count, the number of them that carry the flag, and their
 * side of the boundary.  Blocks within `radius` of a focus position (the boundary, a
 * highlighted block) are drawn too.  `placed` entries (a block in the unsent middle
 * whose position the model told) count as sent, so a focus on one splits the gap
 * around it.  A gap of one known block is drawn as the block instead.  A boundary item
 * is placed in front of the entry it points at, or after the last entry when it is at
 * the list head sentinel.
 * @param {WireList} list
 * @param {{maxEnds?: number, focus?: number[], radius?: number, compact?: boolean, bare?: boolean,
 *          placed?: Array<{pfn: number, position: number, flagged: boolean}>}} [options]
 *   `bare`: a focused block without its neighbours (a lane short of width).
 * @returns {ListItem[]}
 */
export function listItems(list, options = {}) {
  const maxEnds = options.maxEnds ?? DEFAULT_MAX_ENDS;
  const radius = options.radius ?? FOCUS_RADIUS;
  const compact = options.compact ?? false;
  const boundary = boundaryOf(list);
  const focus = options.focus ?? [];
  const bare = options.bare ?? false;
  const count = list.length;
  const known = entriesOf(list, options.placed ?? []);
  const keepAll = count <= 2 * maxEnds + 1;
  const near = (/** @type {number} */ pos, /** @type {number} */ f) => pos >= f - radius && pos < f + radius;
  const keep = (/** @type {number} */ pos) =>
    keepAll ||
    pos < maxEnds ||
    pos >= count - maxEnds ||
    (boundary !== null && near(pos, boundary.position)) ||
    focus.some((f) => (bare ? pos === f : near(pos, f)));
  const kept = new Set(known.filter((e) => keep(e.position)).map((e) => e.position));
  // A known block that would be the only one hidden between two drawn ones is drawn.
  for (const e of known) {
    if (kept.has(e.position)) continue;
    const before = e.position === 0 || kept.has(e.position - 1);
    const after = e.position === count - 1 || kept.has(e.position + 1);
    if (before && after) kept.add(e.position);
  }
  // Runs of positions no entry was sent for, each counted by the server.
  /** @type {Array<[number, number]>} */
  const unknown = [];
  let at = 0;
  for (const e of known) {
    if (e.position > at) unknown.push([at, e.position]);
    at = e.position + 1;
  }
  if (count > at) unknown.push([at, count]);
  const runFlags = unknownFlags(list, known, unknown);
  /** @type {ListItem[]} */
  const items = [];
  let previous = -1;
  /** @param {number} upTo position of the next drawn block (exclusive end of the gap) */
  const gapTo = (upTo) => {
    if (upTo - previous <= 1) return;
    const from = previous + 1;
    let flagged = /** @type {number | null} */ (0);
    for (const e of known) if (e.position >= from && e.position < upTo && e.flagged) flagged += 1;
    unknown.forEach(([a, b], k) => {
      if (a >= from && b <= upTo) {
        const f = runFlags[k];
        flagged = f === null || flagged === null ? null : flagged + f;
      }
    });
    const side = boundary ? (upTo <= boundary.position ? 'front' : 'behind') : null;
    /** @type {GapItem} */
    const gap = { kind: 'gap', count: upTo - from, from, flagged, side };
    if (compact) gap.compact = true;
    items.push(gap);
  };
  for (const e of known) {
    if (!kept.has(e.position)) continue;
    gapTo(e.position);
    if (boundary && boundary.position === e.position) items.push({ kind: 'boundary', pfn: e.pfn, position: e.position });
    items.push({ kind: 'block', pfn: e.pfn, position: e.position, flagged: e.flagged });
    previous = e.position;
  }
  gapTo(count);
  if (boundary && boundary.pfn === null) items.push({ kind: 'boundary', pfn: null, position: count });
  return items;
}

/**
 * The widest lane first: the number of blocks kept at each end and around the
 * boundary, then a focused block without its neighbours, then gaps in fewer words.  A lane takes the first that fits its width.
 */
const FIT_STEPS = (/** @type {number} */ cap) => [
  ...Array.from({ length: Math.max(0, cap - 1) }, (_, i) => ({ maxEnds: cap - i, radius: FOCUS_RADIUS, compact: false, bare: false })),
  { maxEnds: 1, radius: FOCUS_RADIUS, compact: false, bare: false },
  { maxEnds: 1, radius: 1, compact: false, bare: false },
  { maxEnds: 1, radius: 1, compact: false, bare: true },
  { maxEnds: 1, radius: 1, compact: true, bare: false },
  { maxEnds: 1, radius: 1, compact: true, bare: true },
];

/**
 * The items of a list drawn on one line of `width` px: as many blocks at each end
 * (at most `maxEnds`) and around the boundary and the focus as fit.  When not even one
 * block per end and the boundary's neighbours fit, the lane is `stacked`: its
 * migratetype tag moves to a line of its own, giving the items `tagWidth` px more,
 * and gaps may say it in fewer words.  A lane always keeps its head and tail block
 * and the boundary's neighbours; when even that does not fit, the narrowest choice
 * is returned.
 * @param {WireList} list
 * @param {{width: number, spacing: number, widthOf: (item: ListItem) => number,
 *          maxEnds?: number, focus?: number[], tagWidth?: number,
 *          placed?: Array<{pfn: number, position: number, flagged: boolean}>}} options
 * @returns {{items: ListItem[], stacked: boolean}}
 */
export function fitListItems(list, options) {
  const { width, spacing, widthOf, focus = [], tagWidth = 0, placed = [] } = options;
  const steps = FIT_STEPS(options.maxEnds ?? MAX_FIT_ENDS);
  const tries = [
    ...steps.filter((s) => tagWidth === 0 || !s.compact).map((s) => ({ ...s, stacked: false })),
    ...(tagWidth > 0 ? steps.map((s) => ({ ...s, stacked: true })) : []),
  ];
  let out = { items: /** @type {ListItem[]} */ ([]), stacked: false };
  for (const { stacked, ...step } of tries) {
    out = { items: listItems(list, { ...step, focus, placed }), stacked };
    if (itemsWidth(out.items, spacing, widthOf) <= width + (stacked ? tagWidth : 0)) return out;
  }
  return out;
}

/**
 * The width of items drawn side by side.
 * @param {ListItem[]} items
 * @param {number} spacing
 * @param {(item: ListItem) => number} widthOf
 */
export function itemsWidth(items, spacing, widthOf) {
  let w = spacing * Math.max(0, items.length - 1);
  for (const item of items) w += widthOf(item);
  return w;
}

/**
 * What a gap says: how many blocks it stands for and, when the server counted them,
 * how many are hinted/reported; in front of the boundary or behind it.  Blocks hinted
 * by an earlier cycle can lie in front of the boundary: the count says so.  A compact
 * gap says the same in fewer words.
 * @param {GapItem} gap
 * @param {string} flag
 */
export function gapText(gap, flag) {
  const n = formatCount(gap.count);
  const f = gap.flagged;
  const un = `un${flag}`;
  const c = gap.compact;
  // In fewer words, the boundary marker next to the gap says which side it is on; only
  // the blocks that are not what their side says are named.
  if (gap.side === 'front') {
    if (f === null || f === 0) return c ? `… ${n}` : f === null ? `… ${n} in front` : `… ${n} ${un}`;
    return c ? `… ${n}: ${formatCount(f)} ${flag}` : `… ${n} in front: ${formatCount(gap.count - f)} ${un}, ${formatCount(f)} ${flag}`;
  }
  if (gap.side === 'behind') {
    if (f === null || f === gap.count) return c ? `${n} …` : f === null ? `${n} behind …` : `${n} ${flag} …`;
    return c ? `${n}: ${formatCount(gap.count - f)} ${un} …` : `${n} behind: ${formatCount(f)} ${flag}, ${formatCount(gap.count - f)} ${un} …`;
  }
  if (f && flag) return c ? `… ${n} · ${formatCount(f)} ${flag} …` : `… ${n} more · ${formatCount(f)} ${flag} …`;
  return c ? `… ${n} …` : `… ${n} more …`;
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
 * With `fit`, every lane is fitted to one line (fitListItems); without it, each end
 * shows `maxEnds` blocks.  A block in `focusPfns` (the inspected one, the ones the
 * narration names) is drawn as a chip with its neighbours wherever it is in its list:
 * one the server did not send is drawn where `placed` (the model's answer) puts it,
 * as long as its list is as long as when the model was asked.
 * @param {ZoneModel} zone
 * @param {{migratetypes: string[], maxOrder: number, hinting: HintingState,
 *          zones?: ZoneModel[], maxEnds?: number, focusPfns?: number[],
 *          placed?: PlacedBlock[], pageSize?: number, fit?: LaneFit | null}} options
 * @returns {ZoneLayout}
 */
export function layoutZone(zone, options) {
  const { hinting } = options;
  const fit = options.fit ?? null;
  const maxEnds = options.maxEnds ?? (fit ? MAX_FIT_ENDS : DEFAULT_MAX_ENDS);
  const flag = flagName(hinting.strategy);
  const v2 = hinting.strategy === 'hinting-v2' ? hinting.zones?.[zone.name] : null;
  // The lowest order the strategy flags: v2's min_order, reporting's order.
  const from = hinting.strategy === 'hinting-v2' ? hinting.min_order : hinting.order;
  const flagFrom = typeof from === 'number' ? from : 0;
  const reportingHere = hinting.strategy === 'reporting' && hinting.zone === zone.name;
  const focusPfns = options.focusPfns ?? [];
  const rows = [];
  for (let order = 0; order < options.maxOrder; order += 1) {
    /** @type {Lane[]} */
    const lanes = [];
    for (const migratetype of options.migratetypes) {
      const list = zone.lists.get(`${order}:${migratetype}`);
      if (!list || list.length === 0) continue;
      const placed = (options.placed ?? []).filter(
        (p) => p.order === order && p.migratetype === migratetype && p.length === list.length,
      );
      const focus = [];
      if (focusPfns.length) {
        for (const e of entriesOf(list, placed)) if (focusPfns.includes(e.pfn)) focus.push(e.position);
      }
      const current = reportingHere && hinting.list_order === order && hinting.list_migratetype === migratetype;
      const { items, stacked } = fit
        ? fitListItems(list, {
            width: fit.width - (current ? fit.currentWidth : 0),
            tagWidth: fit.tagWidth,
            spacing: fit.spacing,
            widthOf: (item) => fit.widthOf(item, flag ?? ''),
            maxEnds,
            focus,
            placed,
          })
        : { items: listItems(list, { maxEnds, focus, placed }), stacked: false };
      lanes.push({
        migratetype,
        order,
        length: list.length,
        items,
        flagged: typeof list.flagged === 'number' ? list.flagged : null,
        flaggedShown: items.filter((i) => i.kind === 'block' && i.flagged).length,
        boundary: boundaryOf(list),
        current,
        ...(stacked ? { stacked } : {}),
      });
    }
    // Flagged blocks of the order, all migratetypes (v2: hinted_pages[order]), from the
    // orders the strategy flags on; empty lists hold none.
    let flaggedCount = null;
    if (flag && order >= flagFrom) {
      flaggedCount = 0;
      for (const lane of lanes) flaggedCount = lane.flagged === null || flaggedCount === null ? null : flaggedCount + lane.flagged;
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
