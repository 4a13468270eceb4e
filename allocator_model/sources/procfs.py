"""``/proc/buddyinfo`` and ``/proc/pagetypeinfo``: format, parse, compare, and lay out.

What this module does
=====================

* **Formatting**, byte for byte as the kernel prints it (mm/vmstat.c):

  - :func:`format_buddyinfo` mirrors ``frag_show_print``: per populated zone
    ``"Node %d, zone %8s "``, then ``"%6lu "`` of ``free_area[order].nr_free`` for each
    order, then ``'\\n'`` (so every line ends with a space).
  - :func:`format_pagetypeinfo` mirrors ``pagetypeinfo_show``, which runs once per node
    with memory: ``"Page block order: %d\\n"``, ``"Pages per block:  %lu\\n"``, a blank
    line; ``pagetypeinfo_showfree`` (header ``"%-43s "`` + ``"%6d "`` per order, then per
    zone and migratetype ``"Node %4d, zone %8s, type %12s "`` + ``"%s%6lu "`` per order,
    the prefix being ``">"`` when the list walk stopped at 100000 entries);
    ``pagetypeinfo_showblockcount`` (``"\\n%-23s"`` of ``"Number of blocks type "``,
    ``"%12s "`` per migratetype name, then per zone ``"Node %d, zone %8s "`` +
    ``"%12lu "`` per migratetype); and, when rows for it are present,
    ``pagetypeinfo_showmixedcount`` (mm/page_owner.c, CONFIG_PAGE_OWNER: the same layout
    under ``"Number of mixed blocks "``).  Several nodes give several such sections, one
    after the other, in node order of first appearance.
  - :func:`pagetypeinfo_of` / :func:`snapshot_pagetypeinfo` read a model ``Node``
    (duck-typed, see ``_NodeLike``) the way ``pagetypeinfo_show`` reads the kernel: list
    lengths capped at :data:`PAGETYPEINFO_LIST_CAP`, pageblocks counted by stepping from
    ``zone_start_pfn`` in ``pageblock_nr_pages`` strides.

* **Parsing**: :func:`parse_buddyinfo` and :func:`parse_pagetypeinfo` accept any number
  of orders (other MAX_ORDER values), any set of migratetype names (5 without CMA, 6 with
  it, older kernels' ``Reserve``...), ``>100000`` capped counts, several nodes, files
  from kernels without the cap, and a trailing "Number of mixed blocks" section (kept in
  :attr:`PagetypeInfo.mixed_blocks` so that the file round-trips, otherwise ignored).
  Whitespace between fields is not checked (any run of blanks is accepted; a line may
  lose its trailing space); structure is.  Bad input raises :class:`ProcParseError`
  (a ``ValueError``) whose message starts ``line <n>: expected <what>, got <text>``.

* **Comparing**: :func:`consistency` lists the zones and orders where the per-migratetype
  list lengths of pagetypeinfo do not add up to buddyinfo's ``nr_free``.  The kernel
  reads both without a global snapshot, so a live system can disagree for a moment; the
  caller decides whether that matters.  In the model they must agree exactly.

* **Laying out**: :func:`plan_layout` turns the counts of real files into a concrete
  placement that ``Node.from_buddyinfo`` can build, see below.  :func:`layout_sizes`
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
* The formatters print what they are given; skipping unpopulated zones (the kernel's
  ``populated_zone()`` test) and memoryless nodes is the caller's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "LAYOUT_MAX_ORDERS",
    "PAGETYPEINFO_LIST_CAP",
    "BlockRow",
    "BuddyinfoRow",
    "FreeRow",
    "LayoutTooLarge",
    "PagetypeInfo",
    "ProcParseError",
    "ZonePlan",
    "ZoneSize",
    "consistency",
    "format_buddyinfo",
    "format_pagetypeinfo",
    "layout_sizes",
    "pagetypeinfo_of",
    "parse_buddyinfo",
    "parse_pagetypeinfo",
    "plan_layout",
    "snapshot_pagetypeinfo",
]

#: ``pagetypeinfo_showfree_print`` stops walking a free list when its counter reaches
#: this value and then prints ``">100000"`` (since Linux 5.4).
PAGETYPEINFO_LIST_CAP = 100000

#: The most orders a layout is planned for.  Kernels have 11 to 15 (``NR_PAGE_ORDERS``);
#: a line of thousands of counts would make the sizes' arithmetic work on huge numbers.
LAYOUT_MAX_ORDERS = 64


# --------------------------------------------------------------------------------------
# Data


class ProcParseError(ValueError):
    """A /proc text that does not have the kernel's structure.

    ``line`` is 1-based (blank lines count); ``expected`` says what should have been
    there; ``got`` is the offending line, or ``None`` at the end of the input.
    """

    def __init__(self, line: int, expected: str, got: str | None) -> None:
        self.line = line
        self.expected = expected
        self.got = got
        shown = "end of input" if got is None else repr(_clip(got))
        super().__init__(f"line {line}: expected {expected}, got {shown}")


def _clip(text: str, width: int = 100) -> str:
    text = text.rstrip("\n")
    return text if len(text) <= width else text[: width - 3] + "..."


def _check_counts(what: str, counts: tuple[int, ...]) -> None:
    if not isinstance(counts, tuple):
        raise TypeError(f"{what} must be a tuple, got {type(counts).__name__}")
    for n in counts:
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{what} must be non-negative integers, got {counts!r}")


@dataclass(frozen=True, slots=True)
class BuddyinfoRow:
    """One line of /proc/buddyinfo: ``nr_free`` of every order of one zone."""

    node: int
    zone: str
    counts: tuple[int, ...]

    def __post_init__(self) -> None:
        _check_counts(f"Node {self.node}, zone {self.zone}: counts", self.counts)


@dataclass(frozen=True, slots=True)
class FreeRow:
    """One "Node .., zone .., type .." line of /proc/pagetypeinfo: free list lengths.

    ``counts[k]`` is the length of ``free_area[k].free_list[migratetype]``, or, where
    ``capped[k]`` is true, the kernel's cap (it printed ``>100000``: the list has at
    least that many blocks).  ``capped`` may be left empty for "nothing capped".
    """

    node: int
    zone: str
    migratetype: str
    counts: tuple[int, ...]
    capped: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        _check_counts(f"Node {self.node}, zone {self.zone}, type {self.migratetype}", self.counts)
        if not self.capped:
            object.__setattr__(self, "capped", (False,) * len(self.counts))
        elif len(self.capped) != len(self.counts):
            raise ValueError(
                f"Node {self.node}, zone {self.zone}, type {self.migratetype}: "
                f"{len(self.capped)} capped flags for {len(self.counts)} counts"
            )

    @classmethod
    def from_list_lengths(
        cls, node: int, zone: str, migratetype: str, lengths: Iterable[int]
    ) -> FreeRow:
        """The row the kernel prints for lists of these true lengths (applies the cap).

        ``pagetypeinfo_showfree_print`` does ``if (++freecount >= 100000) { overflow =
        true; break; }``, so a list of exactly 100000 entries already prints ``>100000``.
        """
        lens = tuple(lengths)
        return cls(
            node,
            zone,
            migratetype,
            tuple(min(n, PAGETYPEINFO_LIST_CAP) for n in lens),
            tuple(n >= PAGETYPEINFO_LIST_CAP for n in lens),
        )


@dataclass(frozen=True, slots=True)
class BlockRow:
    """One zone line of "Number of blocks type" (or "Number of mixed blocks").

    ``counts`` has one entry per migratetype, in :attr:`PagetypeInfo.migratetypes` order.
    """

    node: int
    zone: str
    counts: tuple[int, ...]

    def __post_init__(self) -> None:
        _check_counts(f"Node {self.node}, zone {self.zone}: block counts", self.counts)


@dataclass(frozen=True, slots=True)
class PagetypeInfo:
    """The content of /proc/pagetypeinfo.

    ``migratetypes`` are the kernel's ``migratetype_names`` in enum order; ``orders`` is
    the number of orders (MAX_ORDER on x86-64 before 6.4, ``NR_PAGE_ORDERS`` after).
    ``free`` holds one row per (zone, migratetype), zones in file order and each zone's
    rows in migratetype order; ``blocks`` one row per zone; ``mixed_blocks`` the
    CONFIG_PAGE_OWNER "Number of mixed blocks" rows, empty when the file has none.
    """

    pageblock_order: int
    pages_per_block: int
    migratetypes: tuple[str, ...]
    orders: int
    free: tuple[FreeRow, ...]
    blocks: tuple[BlockRow, ...]
    mixed_blocks: tuple[BlockRow, ...] = ()

    def __post_init__(self) -> None:
        if self.orders < 1:
            raise ValueError(f"orders must be at least 1, got {self.orders}")
        if not self.migratetypes:
            raise ValueError("migratetypes must not be empty")
        for r in self.free:
            if len(r.counts) != self.orders:
                raise ValueError(
                    f"Node {r.node}, zone {r.zone}, type {r.migratetype}: "
                    f"{len(r.counts)} counts, expected {self.orders}"
                )
            if r.migratetype not in self.migratetypes:
                raise ValueError(
                    f"Node {r.node}, zone {r.zone}: unknown migratetype {r.migratetype!r}"
                )
        for rows in (self.blocks, self.mixed_blocks):
            for b in rows:
                if len(b.counts) != len(self.migratetypes):
                    raise ValueError(
                        f"Node {b.node}, zone {b.zone}: {len(b.counts)} block counts, "
                        f"expected {len(self.migratetypes)}"
                    )

    def zones(self) -> list[tuple[int, str]]:
        """``(node, zone)`` pairs in file order (from the free rows, then block rows)."""
        seen: dict[tuple[int, str], None] = {}
        for r in self.free:
            seen.setdefault((r.node, r.zone))
        for b in self.blocks:
            seen.setdefault((b.node, b.zone))
        return list(seen)

    def free_rows(self, node: int, zone: str) -> dict[str, FreeRow]:
        """The free rows of one zone, by migratetype name (empty if the zone is absent)."""
        return {r.migratetype: r for r in self.free if r.node == node and r.zone == zone}

    def block_counts(self, node: int, zone: str) -> dict[str, int] | None:
        """Pageblocks per migratetype of one zone, or ``None`` if it has no block row."""
        for b in self.blocks:
            if b.node == node and b.zone == zone:
                return dict(zip(self.migratetypes, b.counts, strict=True))
        return None


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
# Formatting


def format_buddyinfo(rows: Sequence[BuddyinfoRow]) -> str:
    """/proc/buddyinfo (``frag_show_print``), one line per row, byte for byte."""
    out: list[str] = []
    for r in rows:
        out.append(_zone_prefix(r.node, r.zone))  # "Node %d, zone %8s "
        out.extend(f"{n:6d} " for n in r.counts)  # "%6lu "
        out.append("\n")
    return "".join(out)


def _zone_prefix(node: int, zone: str) -> str:
    return f"Node {node:d}, zone {zone:>8} "  # "Node %d, zone %8s "


def format_pagetypeinfo(info: PagetypeInfo) -> str:
    """/proc/pagetypeinfo (``pagetypeinfo_show``), byte for byte.

    One section per node, nodes in order of first appearance in ``free``, ``blocks``
    and ``mixed_blocks``; each section prints that node's rows in the given order.  The
    mixed-blocks part is printed only for nodes that have such rows.  No rows at all
    gives the empty string (the kernel prints nothing for a memoryless node).
    """
    nodes: dict[int, None] = {}
    for node in [r.node for r in info.free] + [b.node for b in (*info.blocks, *info.mixed_blocks)]:
        nodes.setdefault(node)
    order_header = "".join(f"{k:6d} " for k in range(info.orders))  # "%6d "
    type_header = "".join(f"{name:>12} " for name in info.migratetypes)  # "%12s "
    out: list[str] = []
    for node in nodes:
        out.append(f"Page block order: {info.pageblock_order:d}\n")
        out.append(f"Pages per block:  {info.pages_per_block:d}\n")
        out.append("\n")
        out.append(f"{'Free pages count per migrate type at order':<43} ")  # "%-43s "
        out.append(order_header)
        out.append("\n")
        for r in info.free:
            if r.node != node:
                continue
            # "Node %4d, zone %8s, type %12s "
            out.append(f"Node {r.node:4d}, zone {r.zone:>8}, type {r.migratetype:>12} ")
            for n, capped in zip(r.counts, r.capped, strict=True):
                out.append(f"{'>' if capped else ''}{n:6d} ")  # "%s%6lu "
            out.append("\n")
        for title, rows in (
            ("Number of blocks type ", info.blocks),
            ("Number of mixed blocks ", info.mixed_blocks),
        ):
            mine = [b for b in rows if b.node == node]
            if not mine and title.startswith("Number of mixed"):
                continue
            out.append(f"\n{title:<23}")  # "\n%-23s"
            out.append(type_header)
            out.append("\n")
            for b in mine:
                out.append(_zone_prefix(b.node, b.zone))
                out.extend(f"{n:12d} " for n in b.counts)  # "%12lu "
                out.append("\n")
    return "".join(out)


# --------------------------------------------------------------------------------------
# Reading the model


class _ZoneLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def start_pfn(self) -> int: ...
    @property
    def spanned_pages(self) -> int: ...
    @property
    def max_order(self) -> int: ...
    @property
    def pageblock_order(self) -> int: ...
    def list_length(self, order: int, mt: int) -> int: ...
    def get_pageblock_migratetype(self, i: int) -> int: ...


class _NodeLike(Protocol):
    @property
    def migratetypes(self) -> tuple[str, ...]: ...
    @property
    def zones(self) -> Sequence[_ZoneLike]: ...
    @property
    def pageblock_order(self) -> int: ...
    @property
    def max_order(self) -> int: ...


def snapshot_pagetypeinfo(node: _NodeLike, node_id: int = 0) -> PagetypeInfo:
    """What ``pagetypeinfo_show`` would report for a model node.

    Free list lengths are capped like the kernel's walk; pageblocks are counted by
    stepping from the zone's first pfn in ``pageblock_nr_pages`` strides
    (``pagetypeinfo_showblockcount_print``).  Zones without pages are skipped.
    """
    names = tuple(node.migratetypes)
    pbo = node.pageblock_order
    step = 1 << pbo
    free: list[FreeRow] = []
    blocks: list[BlockRow] = []
    for z in node.zones:
        if z.spanned_pages <= 0:
            continue
        for mt, name in enumerate(names):
            lengths = (z.list_length(k, mt) for k in range(z.max_order))
            free.append(FreeRow.from_list_lengths(node_id, z.name, name, lengths))
        count = [0] * len(names)
        for i in range(0, z.spanned_pages, step):
            mt = z.get_pageblock_migratetype(i)
            if mt < len(names):
                count[mt] += 1
        blocks.append(BlockRow(node_id, z.name, tuple(count)))
    return PagetypeInfo(pbo, step, names, node.max_order, tuple(free), tuple(blocks))


def pagetypeinfo_of(node: _NodeLike, node_id: int = 0) -> str:
    """/proc/pagetypeinfo of a model node, byte for byte."""
    return format_pagetypeinfo(snapshot_pagetypeinfo(node, node_id))


# --------------------------------------------------------------------------------------
# Parsing

# A count is an unsigned long (at most 20 digits); a longer run of digits is not what
# the kernel prints, and refusing it keeps int() and the layout's arithmetic small.  A
# pageblock order or an order in a header has at most 2 digits.
_N = r"\d{1,20}"
_ZONE_ROW = re.compile(rf"\s*Node\s+({_N})\s*,\s*zone\s+([^\s,]+)((?:\s+{_N})+)\s*")
_FREE_ROW = re.compile(
    rf"\s*Node\s+({_N})\s*,\s*zone\s+([^\s,]+)\s*,\s*type\s+(\S+)((?:\s+>?{_N})+)\s*"
)
_PB_ORDER = re.compile(r"\s*Page block order:\s*(\d{1,2})\s*")
_PB_PAGES = re.compile(rf"\s*Pages per block:\s*({_N})\s*")
_FREE_HEADER = re.compile(r"\s*Free pages count per migrate type at order((?:\s+\d{1,2})+)\s*")
_BLOCK_HEADER = re.compile(r"\s*Number of blocks type((?:\s+\S+)+)\s*")
_MIXED_HEADER = re.compile(r"\s*Number of mixed blocks((?:\s+\S+)+)\s*")

_BUDDY_ROW_WANT = '"Node <n>, zone <name>" followed by'


def parse_buddyinfo(text: str) -> list[BuddyinfoRow]:
    """Parse /proc/buddyinfo.  The first line fixes the number of orders.

    Blank lines are ignored; a zone listed twice, a line of another shape or with a
    different number of counts raises :class:`ProcParseError`.
    """
    rows: list[BuddyinfoRow] = []
    seen: dict[tuple[int, str], int] = {}
    orders: int | None = None
    for ln, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _ZONE_ROW.fullmatch(line)
        counts = tuple(int(t) for t in m.group(3).split()) if m else ()
        if m is None or (orders is not None and len(counts) != orders):
            want = "one count per order" if orders is None else f"{orders} counts"
            raise ProcParseError(ln, f"{_BUDDY_ROW_WANT} {want}", line)
        orders = len(counts)
        key = (int(m.group(1)), m.group(2))
        if key in seen:
            raise ProcParseError(
                ln,
                f"a zone not listed before (Node {key[0]}, zone {key[1]} is on line {seen[key]})",
                line,
            )
        seen[key] = ln
        rows.append(BuddyinfoRow(key[0], key[1], counts))
    if not rows:
        raise ProcParseError(1, f"{_BUDDY_ROW_WANT} one count per order", None)
    return rows


class _Lines:
    """Non-blank lines with their 1-based numbers; ``peek`` / ``take``."""

    def __init__(self, text: str) -> None:
        self.items = [(n, s) for n, s in enumerate(text.splitlines(), 1) if s.strip()]
        self.pos = 0
        self.last = len(text.splitlines()) + 1  # the line number of "end of input"

    def peek(self) -> tuple[int, str] | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self, expected: str) -> tuple[int, str]:
        item = self.peek()
        if item is None:
            raise ProcParseError(self.last, expected, None)
        self.pos += 1
        return item

    def error(self, expected: str) -> ProcParseError:
        item = self.peek()
        if item is None:
            return ProcParseError(self.last, expected, None)
        return ProcParseError(item[0], expected, item[1])


@dataclass
class _FreeLine:
    ln: int
    text: str
    row: FreeRow


class _PagetypeinfoParser:
    def __init__(self, text: str) -> None:
        self.lines = _Lines(text)
        self.pageblock_order: int | None = None
        self.pages_per_block: int | None = None
        self.orders: int | None = None
        self.migratetypes: tuple[str, ...] | None = None
        self.free: list[FreeRow] = []
        self.blocks: list[BlockRow] = []
        self.mixed: list[BlockRow] = []
        self.nodes: dict[int, int] = {}  # node -> line of its section

    def parse(self) -> PagetypeInfo:
        self.section(first=True)
        while self.lines.peek() is not None:
            self.section(first=False)
        assert self.pageblock_order is not None and self.pages_per_block is not None
        assert self.orders is not None and self.migratetypes is not None
        return PagetypeInfo(
            self.pageblock_order,
            self.pages_per_block,
            self.migratetypes,
            self.orders,
            tuple(self.free),
            tuple(self.blocks),
            tuple(self.mixed),
        )

    def section(self, *, first: bool) -> None:
        lines = self.lines
        # "Page block order: %d"
        want = '"Page block order: <n>"'
        if not first:
            want = (
                '"Page block order: <n>" (the next node\'s section), '
                '"Number of mixed blocks" or the end of the file'
            )
        ln, line = lines.take(want)
        m = _PB_ORDER.fullmatch(line)
        if m is None:
            raise ProcParseError(ln, want, line)
        pbo = int(m.group(1))
        if self.pageblock_order is not None and pbo != self.pageblock_order:
            raise ProcParseError(
                ln, f'"Page block order: {self.pageblock_order}" as in the first section', line
            )
        self.pageblock_order = pbo
        # "Pages per block:  %lu"
        want = f'"Pages per block:  {1 << pbo}"'
        ln, line = lines.take(want)
        m = _PB_PAGES.fullmatch(line)
        if m is None or int(m.group(1)) != 1 << pbo:
            raise ProcParseError(ln, want, line)
        self.pages_per_block = 1 << pbo
        # "Free pages count per migrate type at order" 0 1 2 ...
        want = '"Free pages count per migrate type at order" followed by 0 1 2 ...'
        if self.orders is not None:
            want += f" {self.orders - 1} as in the first section"
        ln, line = lines.take(want)
        m = _FREE_HEADER.fullmatch(line)
        header = [int(t) for t in m.group(1).split()] if m else []
        if (
            m is None
            or header != list(range(len(header)))
            or (self.orders is not None and len(header) != self.orders)
        ):
            raise ProcParseError(ln, want, line)
        orders = self.orders = len(header)

        # Free rows, until "Number of blocks type".
        node: int | None = None
        free_lines: list[_FreeLine] = []
        while True:
            item = lines.peek()
            if item is not None and _BLOCK_HEADER.fullmatch(item[1]):
                break
            want = (
                f'"Node <n>, zone <name>, type <migratetype>" followed by {orders} counts, '
                'or "Number of blocks type" followed by the migratetype names'
            )
            ln, line = lines.take(want)
            fm = _FREE_ROW.fullmatch(line)
            if fm is None:
                raise ProcParseError(ln, want, line)
            tokens = fm.group(4).split()
            if len(tokens) != orders:
                raise ProcParseError(
                    ln,
                    f'"Node <n>, zone <name>, type <migratetype>" followed by {orders} counts',
                    line,
                )
            row_node = int(fm.group(1))
            if node is None:
                node = self.claim_node(row_node, ln, line)
            elif row_node != node:
                raise ProcParseError(
                    ln, f'"Node {node:4d}, ..." (each section holds one node)', line
                )
            row = FreeRow(
                row_node,
                fm.group(2),
                fm.group(3),
                tuple(int(t.lstrip(">")) for t in tokens),
                tuple(t.startswith(">") for t in tokens),
            )
            free_lines.append(_FreeLine(ln, line, row))

        # "Number of blocks type" + names.
        ln, line = lines.take("")
        hm = _BLOCK_HEADER.fullmatch(line)
        assert hm is not None
        names = tuple(hm.group(1).split())
        if self.migratetypes is not None and names != self.migratetypes:
            raise ProcParseError(
                ln,
                '"Number of blocks type" followed by '
                + " ".join(self.migratetypes)
                + " as in the first section",
                line,
            )
        self.migratetypes = names
        zones = self.check_free_rows(free_lines, names, ln)
        self.free.extend(f.row for f in free_lines)

        # Block rows.
        node = self.block_rows(self.blocks, zones, node, names, "block counts")
        # Optional CONFIG_PAGE_OWNER section.
        item = lines.peek()
        if item is not None and _MIXED_HEADER.fullmatch(item[1]):
            ln, line = lines.take("")
            mm = _MIXED_HEADER.fullmatch(line)
            assert mm is not None
            if tuple(mm.group(1).split()) != names:
                raise ProcParseError(
                    ln, '"Number of mixed blocks" followed by ' + " ".join(names), line
                )
            if not zones:  # a section without free rows: the zones of its block rows
                zones = [(b.node, b.zone) for b in self.blocks if b.node == node]
            self.block_rows(self.mixed, zones, node, names, "mixed block counts")

    def claim_node(self, node: int, ln: int, line: str) -> int:
        if node in self.nodes:
            raise ProcParseError(
                ln,
                f"a node without a section yet (node {node}'s section starts on line "
                f"{self.nodes[node]})",
                line,
            )
        self.nodes[node] = ln
        return node

    def check_free_rows(
        self, free_lines: list[_FreeLine], names: tuple[str, ...], header_ln: int
    ) -> list[tuple[int, str]]:
        """Each zone must list every migratetype of the header once, in order."""
        zones: list[tuple[int, str]] = []
        i = 0
        while i < len(free_lines):
            first = free_lines[i]
            key = (first.row.node, first.row.zone)
            if key in zones:
                raise ProcParseError(
                    first.ln,
                    f"a zone not listed before in this section (zone {key[1]})",
                    first.text,
                )
            zones.append(key)
            for j, name in enumerate(names):
                want = (
                    f'"Node {key[0]:4d}, zone {key[1]:>8}, type {name:>12}" (the '
                    f'"Number of blocks type" header on line {header_ln} lists '
                    + ", ".join(names)
                    + ")"
                )
                if i + j >= len(free_lines):
                    raise ProcParseError(header_ln, want, self.line_text(header_ln))
                f = free_lines[i + j]
                if (f.row.node, f.row.zone) != key or f.row.migratetype != name:
                    raise ProcParseError(f.ln, want, f.text)
            i += len(names)
        return zones

    def line_text(self, ln: int) -> str:
        for n, s in self.lines.items:
            if n == ln:
                return s
        return ""

    def block_rows(
        self,
        out: list[BlockRow],
        zones: list[tuple[int, str]],
        node: int | None,
        names: tuple[str, ...],
        what: str,
    ) -> int | None:
        """Rows "Node %d, zone %8s" + one count per migratetype, one per zone.

        With free rows, the zones must be the same ones in the same order; without
        (a section with no zones), take whatever zone rows follow.
        """
        lines = self.lines
        if zones:
            for zn, zname in zones:
                want = f'"Node {zn}, zone {zname:>8}" followed by {len(names)} {what}'
                ln, line = lines.take(want)
                m = _ZONE_ROW.fullmatch(line)
                if m is None or (int(m.group(1)), m.group(2)) != (zn, zname):
                    raise ProcParseError(ln, want, line)
                counts = tuple(int(t) for t in m.group(3).split())
                if len(counts) != len(names):
                    raise ProcParseError(ln, want, line)
                out.append(BlockRow(zn, zname, counts))
            return node
        while True:
            item = lines.peek()
            if item is None:
                return node
            m = _ZONE_ROW.fullmatch(item[1])
            if m is None:
                return node
            ln, line = lines.take("")
            counts = tuple(int(t) for t in m.group(3).split())
            want = f'"Node <n>, zone <name>" followed by {len(names)} {what}'
            if len(counts) != len(names):
                raise ProcParseError(ln, want, line)
            row_node = int(m.group(1))
            if node is None:
                node = self.claim_node(row_node, ln, line)
            elif row_node != node:
                raise ProcParseError(ln, f'"Node {node}, ..." (each section holds one node)', line)
            out.append(BlockRow(row_node, m.group(2), counts))


def parse_pagetypeinfo(text: str) -> PagetypeInfo:
    """Parse /proc/pagetypeinfo (one or more per-node sections).

    Raises :class:`ProcParseError` naming the first line that does not fit the
    kernel's structure.  The sections must agree on pageblock order, orders and
    migratetypes; each zone must list every migratetype of the "Number of blocks type"
    header, in header order, and have a block row.
    """
    return _PagetypeinfoParser(text).parse()


# --------------------------------------------------------------------------------------
# Comparing


def consistency(buddyinfo_rows: Sequence[BuddyinfoRow], pagetypeinfo: PagetypeInfo) -> list[str]:
    """Mismatches between buddyinfo's ``nr_free`` and pagetypeinfo's list lengths.

    One message per zone present in only one file, per zone whose order counts differ,
    and per (zone, order) where the migratetypes do not add up to buddyinfo's count (a
    capped ``>100000`` entry makes the sum a lower bound).  Empty means consistent.
    """
    msgs: list[str] = []
    sums: dict[tuple[int, str], tuple[list[int], list[bool]]] = {}
    for r in pagetypeinfo.free:
        total, capped = sums.setdefault(
            (r.node, r.zone), ([0] * pagetypeinfo.orders, [False] * pagetypeinfo.orders)
        )
        for k, (n, c) in enumerate(zip(r.counts, r.capped, strict=True)):
            total[k] += n
            capped[k] = capped[k] or c
    listed: set[tuple[int, str]] = set()
    for row in buddyinfo_rows:
        key = (row.node, row.zone)
        listed.add(key)
        label = f"Node {row.node}, zone {row.zone}"
        if key not in sums:
            msgs.append(f"{label}: in buddyinfo but not in pagetypeinfo")
            continue
        total, capped = sums[key]
        if len(row.counts) != len(total):
            msgs.append(
                f"{label}: buddyinfo has {len(row.counts)} orders, pagetypeinfo {len(total)}"
            )
        for k in range(max(len(row.counts), len(total))):
            b = row.counts[k] if k < len(row.counts) else 0
            s = total[k] if k < len(total) else 0
            if k < len(capped) and capped[k]:
                if b < s:
                    msgs.append(
                        f"{label}, order {k}: buddyinfo {b}, pagetypeinfo at least {s} "
                        f"(a list was capped at {PAGETYPEINFO_LIST_CAP})"
                    )
            elif b != s:
                msgs.append(
                    f"{label}, order {k}: buddyinfo {b}, sum over migratetypes in pagetypeinfo {s}"
                )
    for key in sums:
        if key not in listed:
            msgs.append(f"Node {key[0]}, zone {key[1]}: in pagetypeinfo but not in buddyinfo")
    return msgs


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
