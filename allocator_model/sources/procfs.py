"""Reading real ``/proc/buddyinfo`` and ``/proc/pagetypeinfo`` text.

The records are ``allocator_model.kernel.vmstat``'s (which also prints them as the
kernel does); laying a node out from them is ``proclayout``.

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
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..kernel.vmstat import PAGETYPEINFO_LIST_CAP, BlockRow, BuddyinfoRow, FreeRow, PagetypeInfo


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
