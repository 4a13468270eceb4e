"""Laying a node out from the counts of ``/proc/buddyinfo`` and ``/proc/pagetypeinfo``.

:func:`plan_layout` turns the counts of real files into a concrete
  placement that ``fromproc.from_buddyinfo`` can build, see below.  :func:`layout_sizes`
  gives the zones' sizes from the counts alone (its cost does not grow with them), so a
  file that claims 2**32 free blocks can be refused before one of them is placed.

The layout planner
==================

The files only say *how many* free blocks of each (order, migratetype) a zone has and how
many pageblocks each migratetype owns; the model needs *where* they are.
:func:`plan_layout` returns one :class:`ZonePlan` per buddyinfo row, in file order, such
that

(a) every free block is naturally aligned (``pfn % 2**order == 0``);
(b) no two free blocks overlap;
(c) no two free blocks of the same order below the top order (``max_order - 1``) are
    buddies (``pfn ^ 2**order``), so the model merges nothing while inserting them;
    top-order blocks never merge, so they are simply packed side by side;
(d) every free block lies in pageblocks of its list's migratetype (a block smaller than a
    pageblock inside one such pageblock, a larger one covering only such pageblocks);
(e) each migratetype owns as many pageblocks as pagetypeinfo's "Number of blocks type"
    row says, unless its free blocks need more: then it gets the minimum number needed
    and a note says so;
(f) the zone spans max(pagetypeinfo's pageblocks, the pageblocks the layout needs),
    rounded up to whole top-order blocks (1024 pages by default); extra pageblocks are
    of ``default_migratetype`` and a note says so.

Placement, deterministic and in O(free blocks + pageblocks):

* Zones are laid out one after another from pfn 0 in file order; each has a whole number
  of top-order (``2**(max_order-1)``-page) *regions*, so each starts MAX_ORDER-aligned.
* A region is either a free top-order block or a *mixed* region.  Mixed regions come
  first (low pfns), the free top-order blocks after them (high pfns), migratetypes in
  pagetypeinfo order.
* Inside the mixed regions the free blocks of order ``pageblock_order .. max_order-2``
  are placed top-down like the kernel's ``expand()``: a not-free node of size ``2**j``
  that hosts a free block of order ``j-1`` keeps its *lower* half not free and puts the
  free block in its *upper* half.  Hosts are taken in ascending pfn order; a not-free
  node that hosts nothing is split in two only when the next level down needs more
  hosts, otherwise its pages stay allocated.  This needs the fewest not-free nodes
  possible (``_min_hosts``), and a free block's buddy always contains an allocated page,
  which is what (c) requires: an aligned range covered entirely by free blocks none of
  which are buddies is itself a single free block.
* The pageblocks the step above left not free are handed out in ascending pfn order to
  the migratetypes, in pagetypeinfo order, as many as each needs beyond its free
  large blocks; any surplus pageblocks (rounding, or buddies needed above) come last and
  are ``default_migratetype``.  Each migratetype then packs its sub-pageblock free blocks
  (orders ``0 .. pageblock_order-1``) into its own not-free pageblocks with the same
  top-down, upper-half-free rule, starting from its lowest pageblock.
* Every page that is not in a free block is an **allocated order-0 page** of the
  migratetype of its pageblock (that is what the model should mark it as).
* :attr:`ZonePlan.free_blocks` is sorted by ascending pfn.  Inserting each block at the
  *tail* of its ``(order, migratetype)`` list therefore yields lists ordered by
  ascending pfn from head to tail.

Reconciling the two files: buddyinfo's count per (zone, order) is authoritative.  When
pagetypeinfo's migratetypes do not add up to it (a live read, or a ``>100000`` capped
list), the difference goes to the first capped list, else to the migratetype with the
largest count at that order (ties: pagetypeinfo order), else to ``default_migratetype``;
an excess is taken from the largest counts.  Each adjustment is recorded as a note.
A zone missing from pagetypeinfo is planned as if there were no pagetypeinfo.

Deliberate simplifications
==========================

* Zones have no holes, are MAX_ORDER-aligned and are a whole number of top-order blocks;
  real zones (ZONE_DMA starting at pfn 1, the PCI hole) are not reproduced.  So a
  planned node's pagetypeinfo block counts can exceed the file's by the rounding.
* The allocated pages are not the kernel's (no compound pages, slabs or page tables):
  every non-free page is an order-0 allocation of its pageblock's type.  Pageblocks
  never hold allocations of another type ("mixed blocks" are not reproduced).
* The order of the free lists in the real kernel is not observable from /proc; the
  planned lists are in ascending pfn order.
* Per-cpu lists are empty (pages on them are not in either file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..kernel.vmstat import PAGETYPEINFO_LIST_CAP, BuddyinfoRow, FreeRow, PagetypeInfo

#: The most orders a layout is planned for.  Kernels have 11 to 15 (``NR_PAGE_ORDERS``);
#: a line of thousands of counts would make the sizes' arithmetic work on huge numbers.
LAYOUT_MAX_ORDERS = 64


@dataclass(frozen=True, slots=True)
class ZonePlan:
    """Where one zone's free blocks go (see the module docstring for the rules).

    ``pageblock_types`` has one migratetype name per pageblock of the zone, lowest pfn
    first; ``free_blocks`` holds ``(pfn, order, migratetype)`` in ascending pfn order,
    which is also the order to append them to their lists (tail insertion gives lists
    ordered head -> tail by ascending pfn).  Every other page is an allocated order-0
    page of its pageblock's migratetype.  ``notes`` explain any departure from the
    files.  ``pfn``s are absolute (``start_pfn`` included).
    """

    name: str
    start_pfn: int
    pages: int
    pageblock_types: tuple[str, ...]
    free_blocks: tuple[tuple[int, int, str], ...]
    notes: tuple[str, ...]
    node: int = 0


# --------------------------------------------------------------------------------------
# Layout


def _min_hosts(counts: Sequence[int], lo: int, hi: int) -> list[int]:
    """``req[j - lo]``: the fewest not-free nodes of size ``2**j`` (``lo <= j <= hi``)
    that can hold ``counts[lo .. j-1]`` free blocks below them, no two buddies.

    A not-free node of size ``2**j`` has one free half (hosting one block of order
    ``j-1``) and one not-free half, or two not-free halves, or is all allocated.  So
    ``req[j] >= counts[j-1]`` and ``2*req[j] - counts[j-1] >= req[j-1]``; the greedy
    placement in :func:`_host` meets this bound, so it is exact.
    """
    req = [0]
    for k in range(lo, hi):
        c = counts[k]
        req.append(max(c, (req[-1] + c + 1) // 2))
    return req


def _host(
    nodes: list[int],
    lo: int,
    hi: int,
    blocks: Sequence[Sequence[str]],
    req: Sequence[int],
    out: list[tuple[int, int, str]],
) -> None:
    """Place ``blocks[k]`` (one migratetype per block of order ``k``, ``lo <= k < hi``).

    ``nodes`` are the ascending offsets of not-free nodes of size ``2**hi``; there must be
    at least ``req[hi - lo]`` of them.  Level by level, the first nodes host a free
    block in their upper half and keep their lower half not free; then as many of the
    remaining nodes as the next level needs split into two not-free halves; the rest
    stay allocated.  The list stays sorted without sorting.
    """
    for j in range(hi, lo, -1):
        k = j - 1
        types = blocks[k]
        h = len(types)
        if len(nodes) < h:  # pragma: no cover - guaranteed by _min_hosts
            raise AssertionError(f"{len(nodes)} nodes of order {j} cannot host {h} blocks")
        half = 1 << k
        out.extend((node + half, k, t) for node, t in zip(nodes, types, strict=False))
        nxt = nodes[:h]
        need = req[k - lo] - h
        if need > 0:
            split = (need + 1) // 2
            for node in nodes[h : h + split]:
                nxt.append(node)
                nxt.append(node + half)
        nodes = nxt


def _reconcile(
    label: str,
    totals: Sequence[int],
    rows: Mapping[str, FreeRow],
    types: Sequence[str],
    default: str,
    notes: list[str],
) -> dict[str, list[int]]:
    """Per-migratetype counts that add up to buddyinfo's ``totals`` (see module doc)."""
    orders = len(totals)
    counts = {t: [0] * orders for t in types}
    if not rows:  # no pagetypeinfo for this zone: everything is the default type
        counts[default] = list(totals)
        return counts
    for t, r in rows.items():
        for k, n in enumerate(r.counts[:orders]):
            counts[t][k] = n
    for k in range(orders):
        s = sum(c[k] for c in counts.values())
        d = totals[k] - s
        if d == 0:
            continue
        capped = [t for t, r in rows.items() if k < len(r.capped) and r.capped[k]]
        if d > 0:
            if capped:
                target = capped[0]
                notes.append(
                    f"{label}: the {target} order-{k} list was capped at "
                    f">{PAGETYPEINFO_LIST_CAP} in pagetypeinfo; buddyinfo's total gives it "
                    f"{counts[target][k] + d}"
                )
            else:
                best = max(counts[t][k] for t in types)
                target = next(t for t in types if counts[t][k] == best) if best > 0 else default
                notes.append(
                    f"{label}, order {k}: pagetypeinfo's migratetypes add up to {s} but "
                    f"buddyinfo says {totals[k]}; gave the {d} missing to {target}"
                )
            counts[target][k] += d
        else:
            excess = -d
            taken: list[str] = []
            while excess:
                best = max(counts[t][k] for t in types)
                target = next(t for t in types if counts[t][k] == best)
                n = min(excess, best)
                counts[target][k] -= n
                excess -= n
                taken.append(f"{n} from {target}")
            notes.append(
                f"{label}, order {k}: pagetypeinfo's migratetypes add up to {s} but "
                f"buddyinfo says {totals[k]}; took " + ", ".join(taken)
            )
    return counts


def _padded(label: str, counts: Sequence[int], max_order: int) -> list[int]:
    out = list(counts[:max_order]) + [0] * (max_order - len(counts))
    for k in range(max_order, len(counts)):
        if counts[k]:
            raise ValueError(
                f"{label} has {counts[k]} free blocks of order {k}, but max_order="
                f"{max_order} allows orders 0..{max_order - 1}; pass max_order={len(counts)}"
            )
    return out


@dataclass(frozen=True, slots=True)
class ZoneSize:
    """How big one zone's layout is, decided from the counts alone (no block placed):
    ``pages`` is what :func:`plan_layout` will span, ``notes`` its notes.  A caller
    with a memory limit checks ``pages`` here, before anything per block exists."""

    name: str
    start_pfn: int
    pages: int
    notes: tuple[str, ...]
    node: int = 0


@dataclass(frozen=True, slots=True)
class _Sizing:
    """What :func:`_size_zone` decided, for the placement that follows it."""

    size: ZoneSize
    types: list[str]
    counts: dict[str, list[int]]
    large: dict[str, int]
    owned: dict[str, int]
    regions: int
    mixed: int
    up_req: list[int]


class LayoutTooLarge(ValueError):
    """The files' counts imply a zone larger than the caller allows (nothing was placed)."""

    def __init__(self, size: ZoneSize, max_pages: int) -> None:
        super().__init__(
            f"Node {size.node}, zone {size.name}: its free counts need a zone of "
            f"{size.pages} pages, more than the {max_pages} allowed"
        )
        self.size = size
        self.max_pages = max_pages


def _check_orders(max_order: int, pageblock_order: int, pagetypeinfo: PagetypeInfo | None) -> None:
    if not 1 <= max_order <= LAYOUT_MAX_ORDERS:
        raise ValueError(
            f"max_order must be in 1..{LAYOUT_MAX_ORDERS} (one count per order), got {max_order}"
        )
    if not 0 <= pageblock_order < max_order:
        raise ValueError(
            f"pageblock_order must be in 0..{max_order - 1} (below max_order), "
            f"got {pageblock_order}"
        )
    if pagetypeinfo is not None and pagetypeinfo.pageblock_order != pageblock_order:
        raise ValueError(
            f"pagetypeinfo has pageblock order {pagetypeinfo.pageblock_order} but the "
            f"layout was asked for {pageblock_order}; pass "
            f"pageblock_order={pagetypeinfo.pageblock_order}"
        )


def _sizings(
    buddyinfo: Sequence[BuddyinfoRow],
    pagetypeinfo: PagetypeInfo | None,
    max_order: int,
    pageblock_order: int,
    default_migratetype: str,
) -> list[_Sizing]:
    _check_orders(max_order, pageblock_order, pagetypeinfo)
    sizings: list[_Sizing] = []
    start = 0
    for row in buddyinfo:
        sizing = _size_zone(
            row, start, pagetypeinfo, max_order, pageblock_order, default_migratetype
        )
        sizings.append(sizing)
        start += sizing.size.pages
    return sizings


def layout_sizes(
    buddyinfo: Sequence[BuddyinfoRow],
    pagetypeinfo: PagetypeInfo | None,
    *,
    max_order: int = 11,
    pageblock_order: int = 9,
    default_migratetype: str = "Movable",
) -> list[ZoneSize]:
    """The zones :func:`plan_layout` would lay out (sizes, start pfns and notes),
    computed from the counts alone: its cost does not depend on how large they are, so
    a caller can refuse a 53-byte file that claims 2**32 free blocks before any memory
    is spent on them.  Raises ``ValueError`` as :func:`plan_layout` does."""
    sizings = _sizings(buddyinfo, pagetypeinfo, max_order, pageblock_order, default_migratetype)
    return [s.size for s in sizings]


def plan_layout(
    buddyinfo: Sequence[BuddyinfoRow],
    pagetypeinfo: PagetypeInfo | None,
    *,
    max_order: int = 11,
    pageblock_order: int = 9,
    default_migratetype: str = "Movable",
    max_pages: int | None = None,
) -> list[ZonePlan]:
    """Place every free block of the files in a concrete zone layout (module docstring).

    ``buddyinfo`` is authoritative for the counts per zone and order and for the zone
    order; ``pagetypeinfo`` (optional) supplies the split into migratetypes and the
    pageblock counts.  Without it every block and pageblock is ``default_migratetype``
    and zones are as small as possible.  Raises ``ValueError`` for a pageblock order
    that differs from pagetypeinfo's or is not below ``max_order``, and for free blocks
    of orders ``>= max_order``; :class:`LayoutTooLarge` (before placing anything) for a
    zone of more than ``max_pages`` pages.
    """
    sizings = _sizings(buddyinfo, pagetypeinfo, max_order, pageblock_order, default_migratetype)
    if max_pages is not None:
        for sizing in sizings:
            if sizing.size.pages > max_pages:
                raise LayoutTooLarge(sizing.size, max_pages)
    return [_place_zone(s, max_order, pageblock_order, default_migratetype) for s in sizings]


def _size_zone(
    row: BuddyinfoRow,
    start: int,
    pti: PagetypeInfo | None,
    max_order: int,
    pbo: int,
    default: str,
) -> _Sizing:
    """Counts per migratetype, pageblocks per migratetype and the number of regions:
    arithmetic on the counts only, so its cost does not grow with them."""
    label = f"Node {row.node}, zone {row.zone}"
    notes: list[str] = []
    top = max_order - 1
    per_region = 1 << (top - pbo)  # pageblocks per top-order block
    totals = _padded(label, row.counts, max_order)

    # Free blocks per migratetype and order, and the pageblock counts of the file.
    rows = pti.free_rows(row.node, row.zone) if pti is not None else {}
    file_blocks = pti.block_counts(row.node, row.zone) if pti is not None else None
    if pti is not None and not rows:
        notes.append(
            f"{label} is not in pagetypeinfo: every block is {default}, with as few "
            "pageblocks as possible"
        )
        file_blocks = None
    elif pti is not None and file_blocks is None:
        notes.append(
            f'{label} has no "Number of blocks type" row: using as few pageblocks as possible'
        )
    types = list(pti.migratetypes) if rows and pti is not None else []
    if default not in types:
        types.append(default)
    for t, r in rows.items():
        _padded(f"{label}, type {t}", r.counts, max_order)
    counts = _reconcile(label, totals, rows, types, default, notes)

    # Pageblocks per migratetype: free large blocks + not-free ones hosting small blocks.
    large = {t: sum(counts[t][k] << (k - pbo) for k in range(pbo, max_order)) for t in types}
    owned: dict[str, int] = {}
    for t in types:
        need = large[t] + _min_hosts(counts[t], 0, pbo)[pbo]
        have = file_blocks.get(t, 0) if file_blocks is not None else 0
        if file_blocks is not None and need > have:
            notes.append(
                f"{label}: {t} needs {need} pageblocks for its free blocks but "
                f"pagetypeinfo counts {have}; using {need}"
            )
        owned[t] = max(need, have)
    total = sum(owned.values())

    # Regions: the free top-order blocks, and enough mixed regions for the rest.
    all_counts = [sum(counts[t][k] for t in types) for k in range(max_order)]
    nr_top = all_counts[top]
    regions = max(1, -(-total // per_region))
    mixed = regions - nr_top
    rounding = regions * per_region - total
    up_req = _min_hosts(all_counts, pbo, top)
    extra = max(0, up_req[-1] - mixed)
    if extra:
        mixed += extra
        regions += extra
        if pti is not None:
            notes.append(
                f"{label}: added {extra} order-{top} block(s) of allocated {default} "
                f"pageblocks so that every free block of order {pbo}..{top - 1} has a "
                "buddy that is not free"
            )
    if rounding and file_blocks is not None:
        notes.append(
            f"{label}: added {rounding} allocated {default} pageblock(s) to round the "
            f"zone up to whole order-{top} blocks"
        )
    if total == 0 and pti is not None and file_blocks is not None:
        notes.append(f"{label}: no pageblocks in the files; gave it one order-{top} block")

    size = ZoneSize(row.zone, start, regions * (1 << top), tuple(notes), row.node)
    return _Sizing(size, types, counts, large, owned, regions, mixed, up_req)


def _place_zone(sizing: _Sizing, max_order: int, pbo: int, default: str) -> ZonePlan:
    """Put every free block of a sized zone at its pfn (module docstring)."""
    types, counts, large, owned = sizing.types, sizing.counts, sizing.large, sizing.owned
    regions, mixed, up_req = sizing.regions, sizing.mixed, sizing.up_req
    top = max_order - 1
    region = 1 << top  # pages per top-order block
    per_region = 1 << (top - pbo)  # pageblocks per top-order block

    # Large blocks (pageblock_order .. top-1) in the mixed regions.
    pb_types: list[str | None] = [None] * (regions * per_region)
    free: list[tuple[int, int, str]] = []
    by_order = [[t for t in types for _ in range(counts[t][k])] for k in range(max_order)]
    _host([r * region for r in range(mixed)], pbo, top, by_order, up_req, free)
    for off, k, t in free:
        first = off >> pbo
        for p in range(first, first + (1 << (k - pbo))):
            pb_types[p] = t
    # Free top-order blocks after the mixed regions.
    for i, t in enumerate(by_order[top], start=mixed):
        off = i * region
        free.append((off, top, t))
        first = off >> pbo
        for p in range(first, first + per_region):
            pb_types[p] = t

    # Hand the remaining (not-free) pageblocks of the mixed regions to the migratetypes.
    slots = (p for p in range(mixed * per_region) if pb_types[p] is None)
    small: dict[str, list[int]] = {}
    for t in types:
        mine = small[t] = []
        for _ in range(owned[t] - large[t]):
            p = next(slots)
            pb_types[p] = t
            mine.append(p << pbo)
    for p in slots:  # rounding and buddy filler
        pb_types[p] = default

    # Sub-pageblock blocks inside each migratetype's own not-free pageblocks.
    for t in types:
        if any(counts[t][:pbo]):
            blocks = [[t] * counts[t][k] for k in range(pbo)]
            _host(small[t], 0, pbo, blocks, _min_hosts(counts[t], 0, pbo), free)

    free.sort()
    size = sizing.size
    placed = tuple((size.start_pfn + off, k, t) for off, k, t in free)
    final_types = tuple(t if t is not None else default for t in pb_types)
    return ZonePlan(
        name=size.name,
        start_pfn=size.start_pfn,
        pages=size.pages,
        pageblock_types=final_types,
        free_blocks=placed,
        notes=size.notes,
        node=size.node,
    )
