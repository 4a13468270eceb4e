"""``/proc/buddyinfo`` and ``/proc/pagetypeinfo`` as ``mm/vmstat.c`` prints them.

The records of the two files (``BuddyinfoRow``, ``FreeRow``, ``BlockRow``,
``PagetypeInfo``), the kernel's printing of them, and the reading of a model node that
``pagetypeinfo_show`` does of the kernel's.  Parsing real files is
``allocator_model.sources.procfs``; laying a node out from them is
``allocator_model.sources.proclayout``.

**Formatting**, byte for byte as the kernel prints it (mm/vmstat.c):

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

The formatters print what they are given; skipping unpopulated zones (the kernel's
``populated_zone()`` test) and memoryless nodes is the caller's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

#: ``pagetypeinfo_showfree_print`` stops walking a free list when its counter reaches
#: this value and then prints ``">100000"`` (since Linux 5.4).
PAGETYPEINFO_LIST_CAP = 100000


# --------------------------------------------------------------------------------------
# Data


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
