"""Tests of allocator_model.sources.procfs: /proc formats, parsers, consistency and plan_layout.

Fixed samples in tests/model/data:

* buddyinfo.txt / pagetypeinfo.txt - copied from the development machine (kernel 6.18,
  no CONFIG_CMA: 5 migratetypes), read back to back and consistent with each other.
* buddyinfo_cma.txt / pagetypeinfo_cma.txt - hand-made with printf-style formatting:
  CONFIG_CMA (6 migratetypes), two nodes, a ``>100000`` capped list, and a
  CONFIG_PAGE_OWNER "Number of mixed blocks" section.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator_model.kernel.vmstat import (
    PAGETYPEINFO_LIST_CAP,
    BlockRow,
    BuddyinfoRow,
    FreeRow,
    PagetypeInfo,
    format_buddyinfo,
    format_pagetypeinfo,
    pagetypeinfo_of,
    snapshot_pagetypeinfo,
)
from allocator_model.sources.procfs import (
    ProcParseError,
    consistency,
    parse_buddyinfo,
    parse_pagetypeinfo,
)
from allocator_model.sources.proclayout import LayoutTooLarge, ZonePlan, layout_sizes, plan_layout

DATA = Path(__file__).parent / "data"
NO_CMA = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate")
WITH_CMA = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate")


def sample(name: str) -> str:
    return (DATA / name).read_text()


def read_proc(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        pytest.skip(f"{path} does not exist on this machine (not Linux, or no procfs)")
    except PermissionError:
        pytest.skip(f"{path} is not readable here (it is mode 0400 since Linux 5.4: run as root)")


# --------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("name", ["buddyinfo.txt", "buddyinfo_cma.txt"])
def test_buddyinfo_sample_round_trips(name: str) -> None:
    text = sample(name)
    assert format_buddyinfo(parse_buddyinfo(text)) == text


@pytest.mark.parametrize("name", ["pagetypeinfo.txt", "pagetypeinfo_cma.txt"])
def test_pagetypeinfo_sample_round_trips(name: str) -> None:
    text = sample(name)
    assert format_pagetypeinfo(parse_pagetypeinfo(text)) == text


def test_live_buddyinfo_round_trips() -> None:
    text = read_proc("/proc/buddyinfo")
    assert format_buddyinfo(parse_buddyinfo(text)) == text


def test_live_pagetypeinfo_round_trips() -> None:
    text = read_proc("/proc/pagetypeinfo")
    assert format_pagetypeinfo(parse_pagetypeinfo(text)) == text


def test_live_files_plan() -> None:
    rows = parse_buddyinfo(read_proc("/proc/buddyinfo"))
    info = parse_pagetypeinfo(read_proc("/proc/pagetypeinfo"))
    # Read one after the other, the files may disagree a little: buddyinfo rules.
    check_plan(plan_layout(rows, info), rows, info, exact_types=not consistency(rows, info))


# --------------------------------------------------------------------------------------
# Formatting and parsing details


def test_format_buddyinfo_exact_bytes() -> None:
    rows = [
        BuddyinfoRow(0, "DMA", (1, 1, 0, 0, 2, 1, 1, 0, 1, 1, 3)),
        BuddyinfoRow(1, "Normal", (124994, 5, 0, 0, 0, 0, 0, 0, 0, 0, 1790)),
    ]
    assert format_buddyinfo(rows) == (
        "Node 0, zone      DMA      1      1      0      0      2      1      1"
        "      0      1      1      3 \n"
        "Node 1, zone   Normal 124994      5      0      0      0      0      0"
        "      0      0      0   1790 \n"
    )


def test_format_pagetypeinfo_exact_bytes() -> None:
    info = PagetypeInfo(
        pageblock_order=9,
        pages_per_block=512,
        migratetypes=("Unmovable", "Movable"),
        orders=3,
        free=(
            FreeRow(0, "DMA", "Unmovable", (1, 0, 2)),
            FreeRow(0, "DMA", "Movable", (100000, 7, 0), (True, False, False)),
        ),
        blocks=(BlockRow(0, "DMA", (1, 7)),),
    )
    assert format_pagetypeinfo(info) == (
        "Page block order: 9\n"
        "Pages per block:  512\n"
        "\n"
        "Free pages count per migrate type at order       0      1      2 \n"
        "Node    0, zone      DMA, type    Unmovable      1      0      2 \n"
        "Node    0, zone      DMA, type      Movable >100000      7      0 \n"
        "\n"
        "Number of blocks type     Unmovable      Movable \n"
        "Node 0, zone      DMA            1            7 \n"
    )


def test_parse_machine_sample() -> None:
    rows = parse_buddyinfo(sample("buddyinfo.txt"))
    assert [(r.node, r.zone) for r in rows] == [(0, "DMA"), (0, "DMA32"), (0, "Normal")]
    assert rows[0].counts == (0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3)
    info = parse_pagetypeinfo(sample("pagetypeinfo.txt"))
    assert info.pageblock_order == 9 and info.pages_per_block == 512
    assert info.migratetypes == NO_CMA
    assert info.orders == 11
    assert len(info.free) == 3 * 5 and len(info.blocks) == 3
    assert info.block_counts(0, "DMA") == {
        "Unmovable": 1,
        "Movable": 7,
        "Reclaimable": 0,
        "HighAtomic": 0,
        "Isolate": 0,
    }
    assert info.mixed_blocks == ()
    assert consistency(rows, info) == []


def test_parse_cma_sample() -> None:
    info = parse_pagetypeinfo(sample("pagetypeinfo_cma.txt"))
    assert info.migratetypes == WITH_CMA
    assert info.zones() == [(0, "DMA"), (0, "DMA32"), (0, "Normal"), (1, "Normal")]
    movable = info.free_rows(1, "Normal")["Movable"]
    assert movable.counts[0] == PAGETYPEINFO_LIST_CAP and movable.capped[0]
    assert not any(movable.capped[1:])
    assert not any(c for r in info.free if r is not movable for c in r.capped)
    assert [b.zone for b in info.mixed_blocks] == ["DMA", "DMA32", "Normal", "Normal"]
    assert info.block_counts(1, "Normal") == {
        "Unmovable": 310,
        "Movable": 15610,
        "Reclaimable": 84,
        "HighAtomic": 0,
        "CMA": 128,
        "Isolate": 0,
    }
    rows = parse_buddyinfo(sample("buddyinfo_cma.txt"))
    assert rows[-1] == BuddyinfoRow(
        1, "Normal", (124994, 40641, 9141, 2112, 614, 150, 33, 9, 4, 2, 5180)
    )
    # The capped list makes the sum a lower bound, which buddyinfo satisfies.
    assert consistency(rows, info) == []


def test_mixed_blocks_section_is_tolerated() -> None:
    text = sample("pagetypeinfo.txt") + (
        "\nNumber of mixed blocks    Unmovable      Movable  Reclaimable   HighAtomic"
        "      Isolate \n"
        "Node 0, zone      DMA            1            0            0            0            0 \n"
        "Node 0, zone    DMA32            0            2            0            0            0 \n"
        "Node 0, zone   Normal            3           40            1            0            0 \n"
    )
    info = parse_pagetypeinfo(text)
    assert info.free == parse_pagetypeinfo(sample("pagetypeinfo.txt")).free
    assert len(info.mixed_blocks) == 3
    assert consistency(parse_buddyinfo(sample("buddyinfo.txt")), info) == []
    assert format_pagetypeinfo(info) == text


def test_parsers_accept_stripped_whitespace_and_old_kernels() -> None:
    # No trailing blanks (copied from a mail), 12 orders, pre-5.4 types, no cap.
    text = (
        "Page block order: 10\n"
        "Pages per block: 1024\n"
        "\n"
        "Free pages count per migrate type at order 0 1 2 3 4 5 6 7 8 9 10 11\n"
        "Node 0, zone Normal, type Unmovable 1 2 3 4 5 6 7 8 9 10 11 12\n"
        "Node 0, zone Normal, type Reclaimable 0 0 0 0 0 0 0 0 0 0 0 0\n"
        "Node 0, zone Normal, type Movable 150000 0 0 0 0 0 0 0 0 0 0 1\n"
        "Node 0, zone Normal, type Reserve 0 0 0 0 0 0 0 0 0 0 0 0\n"
        "Node 0, zone Normal, type Isolate 0 0 0 0 0 0 0 0 0 0 0 0\n"
        "\n"
        "Number of blocks type Unmovable Reclaimable Movable Reserve Isolate\n"
        "Node 0, zone Normal 3 0 40 1 0\n"
    )
    info = parse_pagetypeinfo(text)
    assert info.orders == 12 and info.pageblock_order == 10
    assert info.migratetypes == ("Unmovable", "Reclaimable", "Movable", "Reserve", "Isolate")
    assert info.free_rows(0, "Normal")["Movable"].counts[0] == 150000
    assert parse_buddyinfo("Node 0, zone Normal 1 2 3\n\n")[0].counts == (1, 2, 3)


def test_free_row_from_list_lengths_applies_the_kernel_cap() -> None:
    row = FreeRow.from_list_lengths(0, "Normal", "Movable", [99999, 100000, 250000, 0])
    assert row.counts == (99999, 100000, 100000, 0)
    assert row.capped == (False, True, True, False)
    assert FreeRow(0, "Normal", "Movable", (1, 2)).capped == (False, False)
    with pytest.raises(ValueError):
        FreeRow(0, "Normal", "Movable", (1, 2), (True,))
    with pytest.raises(ValueError):
        BuddyinfoRow(0, "Normal", (1, -2))


@dataclass
class FakeZone:
    name: str
    start_pfn: int
    spanned_pages: int
    lengths: dict[tuple[int, int], int]
    blocks: list[int]
    max_order: int = 11
    pageblock_order: int = 9

    def list_length(self, order: int, mt: int) -> int:
        return self.lengths.get((order, mt), 0)

    def get_pageblock_migratetype(self, i: int) -> int:
        return self.blocks[((self.start_pfn + i) >> 9) - (self.start_pfn >> 9)]


@dataclass
class FakeNode:
    zones: list[FakeZone]
    migratetypes: tuple[str, ...] = WITH_CMA
    pageblock_order: int = 9
    max_order: int = 11


def test_pagetypeinfo_of_a_model_node() -> None:
    dma = FakeZone("DMA", 1, 4095, {(9, 1): 1, (10, 1): 3, (8, 0): 1}, [0] + [1] * 7)
    normal = FakeZone("Normal", 4096, 2048, {(0, 1): 250000, (3, 2): 4}, [1, 1, 2, 5])
    text = pagetypeinfo_of(FakeNode([dma, normal]))
    info = parse_pagetypeinfo(text)
    assert info == snapshot_pagetypeinfo(FakeNode([dma, normal]))
    assert info.block_counts(0, "DMA") == dict(zip(WITH_CMA, (1, 7, 0, 0, 0, 0), strict=True))
    assert info.block_counts(0, "Normal") == dict(zip(WITH_CMA, (0, 2, 1, 0, 0, 1), strict=True))
    assert "type      Movable >100000      0" in text
    assert info.free_rows(0, "Normal")["Reclaimable"].counts[3] == 4


# --------------------------------------------------------------------------------------
# Errors


def error_of(parse: object, text: str) -> ProcParseError:
    assert callable(parse)
    with pytest.raises(ProcParseError) as exc:
        parse(text)
    assert isinstance(exc.value, ValueError)
    return exc.value


def edited(name: str, line: int, new: str | None) -> str:
    """The sample with 1-based ``line`` replaced (``None`` deletes it)."""
    lines = sample(name).splitlines(keepends=True)
    if new is None:
        del lines[line - 1]
    else:
        lines[line - 1] = new + "\n"
    return "".join(lines)


BUDDY_LINE = (
    "Node 0, zone   Normal   1931    961    641    438    217     94     31     14      4      1"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            edited("buddyinfo.txt", 3, BUDDY_LINE),
            'line 3: expected "Node <n>, zone <name>" followed by 11 counts, got '
            "'Node 0, zone   Normal   1931",
        ),
        (
            "hello\n",
            'line 1: expected "Node <n>, zone <name>" followed by one count per order, '
            "got 'hello'",
        ),
        ("", 'line 1: expected "Node <n>, zone <name>" followed by one count per order, got end'),
        ("Node 0, zone DMA 1 2 3\nNode 0, zone DMA 1 2 x\n", "line 2: expected"),
        (
            "Node 0, zone DMA 1 2 3\n\nNode 0, zone DMA 1 2 3\n",
            "line 3: expected a zone not listed before (Node 0, zone DMA is on line 1)",
        ),
    ],
)
def test_buddyinfo_errors_name_the_line(text: str, message: str) -> None:
    err = error_of(parse_buddyinfo, text)
    assert str(err).startswith(message), str(err)


PTI = "pagetypeinfo.txt"  # lines 5..9 = DMA Unmovable..Isolate, 10..14 DMA32, 15..19 Normal,
# 20 = "" (blank), 21 = "Number of blocks type", 22..24 = block rows.  Line numbers count
# the lines of the edited text, blank ones included.


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (edited(PTI, 1, "Page block order: x"), 'line 1: expected "Page block order: <n>"'),
        (edited(PTI, 2, None), 'line 3: expected "Pages per block:  512", got \'Free pages'),
        (edited(PTI, 2, "Pages per block:  500"), 'line 2: expected "Pages per block:  512"'),
        (
            edited(PTI, 4, "Free pages count per migrate type at order 0 1 3"),
            'line 4: expected "Free pages count per migrate type at order" followed by 0 1 2',
        ),
        (
            edited(PTI, 6, "Node    0, zone      DMA, type      Movable      0      0"),
            'line 6: expected "Node <n>, zone <name>, type <migratetype>" followed by 11 counts',
        ),
        (
            edited(PTI, 6, "Node    0, zone      DMA, type      Movable  1 2 3 4 5 6 7 8 9 10 1x"),
            "line 6: expected",
        ),
        (
            edited(PTI, 5, "Node    0, zone      DMA, type     Movable   0 0 0 0 0 0 0 0 1 0 0"),
            'line 5: expected "Node    0, zone      DMA, type    Unmovable" (the "Number of '
            'blocks type" header on line 21 lists Unmovable, Movable',
        ),
        (edited(PTI, 9, None), 'line 9: expected "Node    0, zone      DMA, type      Isolate"'),
        (
            edited(PTI, 23, "Node 0, zone   Normal            0         1528 0 0 0"),
            'line 23: expected "Node 0, zone    DMA32" followed by 5 block counts',
        ),
        (
            edited(PTI, 22, "Node 0, zone      DMA            1            7"),
            'line 22: expected "Node 0, zone      DMA" followed by 5 block counts',
        ),
        (
            edited(PTI, 24, None),
            'line 24: expected "Node 0, zone   Normal" followed by 5 block '
            "counts, got end of input",
        ),
        (
            sample(PTI) + "hello\n",
            'line 25: expected "Page block order: <n>" (the next node\'s section), "Number of '
            "mixed blocks\" or the end of the file, got 'hello'",
        ),
        (
            sample(PTI) + sample(PTI),
            "line 29: expected a node without a section yet (node 0's section starts on line 5)",
        ),
        (
            edited(
                PTI,
                21,
                "Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic",
            ),
            "line 9: expected a zone not listed before in this section (zone DMA)",
        ),
        ("", 'line 1: expected "Page block order: <n>", got end of input'),
    ],
)
def test_pagetypeinfo_errors_name_the_line(text: str, message: str) -> None:
    err = error_of(parse_pagetypeinfo, text)
    assert str(err).startswith(message), str(err)
    assert err.line == int(message.split()[1].rstrip(":"))


def test_consistency_reports_mismatches() -> None:
    rows = parse_buddyinfo(sample("buddyinfo.txt"))
    info = parse_pagetypeinfo(sample("pagetypeinfo.txt"))
    bad = [
        rows[0],
        BuddyinfoRow(0, "DMA32", (3, *rows[1].counts[1:])),
        BuddyinfoRow(0, "HighMem", (0,) * 11),
    ]
    assert consistency(bad, info) == [
        "Node 0, zone DMA32, order 0: buddyinfo 3, sum over migratetypes in pagetypeinfo 2",
        "Node 0, zone HighMem: in buddyinfo but not in pagetypeinfo",
        "Node 0, zone Normal: in pagetypeinfo but not in buddyinfo",
    ]
    cma_rows = parse_buddyinfo(sample("buddyinfo_cma.txt"))
    cma = parse_pagetypeinfo(sample("pagetypeinfo_cma.txt"))
    low = BuddyinfoRow(1, "Normal", (99999, *cma_rows[3].counts[1:]))
    assert consistency([*cma_rows[:3], low], cma) == [
        "Node 1, zone Normal, order 0: buddyinfo 99999, pagetypeinfo at least 101538 "
        "(a list was capped at 100000)"
    ]


# --------------------------------------------------------------------------------------
# Hypothesis round trips

NAME = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    min_size=1,
    max_size=14,
).filter(lambda s: s[0].isalpha())
COUNT = st.one_of(st.integers(0, 99), st.integers(0, 10**7))


@st.composite
def buddyinfo_rows(draw: st.DrawFn) -> list[BuddyinfoRow]:
    orders = draw(st.integers(1, 16))
    keys = draw(
        st.lists(st.tuples(st.integers(0, 1100), NAME), min_size=1, max_size=6, unique=True)
    )
    return [
        BuddyinfoRow(n, z, tuple(draw(st.lists(COUNT, min_size=orders, max_size=orders))))
        for n, z in keys
    ]


@st.composite
def pagetypeinfos(draw: st.DrawFn) -> PagetypeInfo:
    pbo = draw(st.integers(0, 13))
    orders = draw(st.integers(1, 16))
    types = tuple(draw(st.lists(NAME, min_size=1, max_size=7, unique=True)))
    nodes = draw(st.lists(st.integers(0, 1100), min_size=1, max_size=3, unique=True))
    free: list[FreeRow] = []
    blocks: list[BlockRow] = []
    mixed: list[BlockRow] = []
    for node in nodes:
        zones = draw(st.lists(NAME, min_size=1, max_size=4, unique=True))
        page_owner = draw(st.booleans())
        for z in zones:
            for t in types:
                capped = tuple(draw(st.lists(st.booleans(), min_size=orders, max_size=orders)))
                counts = tuple(PAGETYPEINFO_LIST_CAP if c else draw(COUNT) for c in capped)
                free.append(FreeRow(node, z, t, counts, capped))
        for z in zones:
            blocks.append(
                BlockRow(
                    node, z, tuple(draw(st.lists(COUNT, min_size=len(types), max_size=len(types))))
                )
            )
            if page_owner:
                mixed.append(
                    BlockRow(
                        node,
                        z,
                        tuple(draw(st.lists(COUNT, min_size=len(types), max_size=len(types)))),
                    )
                )
    return PagetypeInfo(pbo, 1 << pbo, types, orders, tuple(free), tuple(blocks), tuple(mixed))


@given(buddyinfo_rows())
def test_buddyinfo_round_trip_property(rows: list[BuddyinfoRow]) -> None:
    text = format_buddyinfo(rows)
    assert parse_buddyinfo(text) == rows
    assert all(line.endswith(" ") for line in text.splitlines())


@given(pagetypeinfos())
def test_pagetypeinfo_round_trip_property(info: PagetypeInfo) -> None:
    text = format_pagetypeinfo(info)
    assert parse_pagetypeinfo(text) == info
    assert format_pagetypeinfo(parse_pagetypeinfo(text)) == text


# --------------------------------------------------------------------------------------
# plan_layout


def min_hosting_pageblocks(counts: Sequence[int], pbo: int) -> int:
    """Fewest not-free pageblocks that hold ``counts[0..pbo-1]`` free blocks, no buddies.

    A not-free node of size 2**j hosts at most one free block of order j-1 (its free
    half); the other half is not free.  Going up: need[j] >= counts[j-1] and
    2*need[j] - counts[j-1] >= need[j-1].  (Checked by brute force below.)
    """
    need = 0
    for k in range(pbo):
        need = max(counts[k], -(-(need + counts[k]) // 2))
    return need


def hosting_feasible(regions: int, counts: Sequence[int], pbo: int, top: int) -> bool:
    """Can ``regions`` top-order blocks hold ``counts[pbo..top]`` as free blocks, no buddies?"""
    h = regions - counts[top]
    if h < 0:
        return False
    for j in range(top, pbo, -1):
        c = counts[j - 1]
        if c > h:
            return False
        h = 2 * h - c
    return True


def check_plan(
    plans: Sequence[ZonePlan],
    rows: Sequence[BuddyinfoRow],
    info: PagetypeInfo | None,
    *,
    max_order: int = 11,
    pageblock_order: int = 9,
    default: str = "Movable",
    exact_types: bool = True,
) -> None:
    """Constraints (a)-(f) of plan_layout, and the counts of the files."""
    top = max_order - 1
    region = 1 << top
    pbo = pageblock_order
    per_block = 1 << pbo
    assert [(p.node, p.name) for p in plans] == [(r.node, r.zone) for r in rows]
    start = 0
    for plan, row in zip(plans, rows, strict=True):
        where = f"zone {row.zone}"
        assert plan.start_pfn == start and start % region == 0, where
        assert plan.pages > 0 and plan.pages % region == 0, where  # (f) whole top blocks
        assert len(plan.pageblock_types) * per_block == plan.pages, where
        assert list(plan.free_blocks) == sorted(plan.free_blocks), where  # documented order
        end = start + plan.pages
        heads: set[tuple[int, int]] = set()
        by_order: Counter[int] = Counter()
        by_type: dict[str, list[int]] = {}
        prev_end = start
        for pfn, order, mt in plan.free_blocks:
            assert 0 <= order < max_order, (where, pfn, order)
            assert pfn % (1 << order) == 0, (where, pfn, order)  # (a) aligned
            assert pfn >= prev_end, (where, pfn, order)  # (b) no overlap (sorted)
            prev_end = pfn + (1 << order)
            assert prev_end <= end, (where, pfn, order)
            first = (pfn - start) >> pbo
            span = 1 << (order - pbo) if order >= pbo else 1
            assert set(plan.pageblock_types[first : first + span]) == {mt}, (where, pfn)  # (d)
            heads.add((pfn, order))
            by_order[order] += 1
            by_type.setdefault(mt, [0] * max_order)[order] += 1
        for pfn, order in heads:  # (c) no two free buddies of the same order
            if order < top:
                assert (pfn ^ (1 << order), order) not in heads, (where, pfn, order)
        want = (list(row.counts) + [0] * max_order)[:max_order]
        assert [by_order[k] for k in range(max_order)] == want, where

        zone_info = info.free_rows(row.node, row.zone) if info is not None else {}
        file_blocks = info.block_counts(row.node, row.zone) if zone_info and info else None
        if not zone_info:
            assert set(plan.pageblock_types) == {default}, where
            assert set(by_type) <= {default}, where
        elif exact_types:
            for t, r in zone_info.items():
                got = by_type.get(t, [0] * max_order)
                want_t = (list(r.counts) + [0] * max_order)[:max_order]
                assert got == want_t, (where, t)
        # (e) pageblocks per migratetype: the file's count, or the minimum needed.
        have = Counter(plan.pageblock_types)
        wanted = dict(file_blocks or {})
        need = {
            t: sum(c[k] << (k - pbo) for k in range(pbo, max_order))
            + min_hosting_pageblocks(c, pbo)
            for t, c in by_type.items()
        }
        base = 0
        for t in set(have) | set(wanted) | set(need):
            expect = max(wanted.get(t, 0), need.get(t, 0))
            base += expect
            if t == default:
                assert have[t] >= expect, (where, t)
            else:
                assert have[t] == expect, (where, t, have[t], expect)
            if file_blocks is not None and have[t] > wanted.get(t, 0):
                assert any(t in n for n in plan.notes), (where, t, plan.notes)
        # (f) as large as the file says, as small as the layout allows.
        assert plan.pages >= sum(wanted.values()) * per_block, where
        if plan.pages - region >= max(base, 1) * per_block:
            totals = [by_order[k] for k in range(max_order)]
            assert not hosting_feasible(plan.pages // region - 1, totals, pbo, top), where
            if info is not None:
                assert plan.notes, where
        start = end


def test_plan_machine_sample_matches_the_files() -> None:
    rows = parse_buddyinfo(sample("buddyinfo.txt"))
    info = parse_pagetypeinfo(sample("pagetypeinfo.txt"))
    plans = plan_layout(rows, info)
    check_plan(plans, rows, info)
    for plan in plans:
        assert plan.notes == ()
        assert Counter(plan.pageblock_types) == {
            t: n for t, n in (info.block_counts(plan.node, plan.name) or {}).items() if n
        }
    assert [(p.name, p.start_pfn, p.pages) for p in plans] == [
        ("DMA", 0, 4096),
        ("DMA32", 4096, 1528 * 512),
        ("Normal", 4096 + 1528 * 512, 1088 * 512),
    ]
    # ZONE_DMA: 3 free order-10 Movable blocks at the top, the order-9 one next to the
    # Unmovable pageblock that holds the order-8 block (its buddy holds allocated pages).
    assert plans[0].free_blocks == (
        (256, 8, "Unmovable"),
        (512, 9, "Movable"),
        (1024, 10, "Movable"),
        (2048, 10, "Movable"),
        (3072, 10, "Movable"),
    )
    assert plans[0].pageblock_types == ("Unmovable",) + ("Movable",) * 7
    assert plan_layout(rows, info) == plans  # deterministic


def test_plan_cma_sample() -> None:
    rows = parse_buddyinfo(sample("buddyinfo_cma.txt"))
    info = parse_pagetypeinfo(sample("pagetypeinfo_cma.txt"))
    plans = plan_layout(rows, info)
    # The capped Movable list gets its real length from buddyinfo.
    check_plan(plans, rows, info, exact_types=False)
    node1 = plans[3]
    assert (node1.node, node1.name) == (1, "Normal")
    movable0 = sum(1 for _, k, t in node1.free_blocks if k == 0 and t == "Movable")
    assert movable0 == 124994 - 1021 - 500 - 17
    assert any("capped" in n for n in node1.notes)
    # Node 0 Normal has an odd number of pageblocks: one Movable pageblock is added.
    assert plans[2].notes == (
        "Node 0, zone Normal: added 1 allocated Movable pageblock(s) to round the zone up to "
        "whole order-10 blocks",
    )
    assert Counter(plans[1].pageblock_types) == {
        "Unmovable": 4,
        "Movable": 1500,
        "Reclaimable": 8,
        "CMA": 16,
    }
    cma = [(p, k) for p, k, t in plans[1].free_blocks if t == "CMA"]
    assert len(cma) == 8 and all(k == 10 for _, k in cma)


def test_plan_without_pagetypeinfo_is_minimal_and_default_typed() -> None:
    rows = parse_buddyinfo(sample("buddyinfo.txt"))
    plans = plan_layout(rows, None, default_migratetype="Unmovable")
    check_plan(plans, rows, None, default="Unmovable")
    assert plans[0].pages == 4096  # 3 order-10 + an order-9 and order-8 pair region
    assert all(p.notes == () for p in plans)


def test_plan_notes_when_the_file_has_too_few_pageblocks() -> None:
    rows = [BuddyinfoRow(0, "Normal", (4, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1))]
    info = PagetypeInfo(
        9,
        512,
        ("Unmovable", "Movable"),
        11,
        (
            FreeRow(0, "Normal", "Unmovable", (4,) + (0,) * 10),
            FreeRow(0, "Normal", "Movable", (0,) * 9 + (3, 1)),
        ),
        (BlockRow(0, "Normal", (0, 2)),),
    )
    plans = plan_layout(rows, info)
    check_plan(plans, rows, info)
    notes = plans[0].notes
    assert any("Unmovable needs 1 pageblocks" in n for n in notes), notes
    assert any("Movable needs 5 pageblocks" in n for n in notes), notes


def test_plan_reconciles_files_read_at_different_times() -> None:
    rows = parse_buddyinfo(sample("buddyinfo.txt"))
    info = parse_pagetypeinfo(sample("pagetypeinfo.txt"))
    later = [rows[0], rows[1], BuddyinfoRow(0, "Normal", (2000, 950, *rows[2].counts[2:]))]
    plans = plan_layout(later, info)
    check_plan(plans, later, info, exact_types=False)
    assert len(plans[2].notes) == 2
    assert "order 0" in plans[2].notes[0] and "order 1" in plans[2].notes[1]


def test_plan_rejects_impossible_arguments() -> None:
    rows = parse_buddyinfo(sample("buddyinfo.txt"))
    info = parse_pagetypeinfo(sample("pagetypeinfo.txt"))
    with pytest.raises(ValueError, match="pageblock_order=9"):
        plan_layout(rows, info, pageblock_order=10)
    with pytest.raises(ValueError, match="pass max_order=11"):
        plan_layout(rows, None, max_order=10)
    with pytest.raises(ValueError, match="pageblock_order must be"):
        plan_layout(rows, None, pageblock_order=11)
    # Orders beyond max_order are fine when empty.
    short = [BuddyinfoRow(0, "Normal", (1, 0, 0, 0))]
    check_plan(
        plan_layout(short, None, max_order=3, pageblock_order=1),
        short,
        None,
        max_order=3,
        pageblock_order=1,
    )


def test_plan_of_a_large_zone() -> None:
    # A 4 GiB zone worth of fragmentation (not timed; runs in well under a second).
    rows = [
        BuddyinfoRow(0, "Normal", (200000, 80000, 30000, 10000, 3000, 1000, 300, 100, 30, 10, 20))
    ]
    check_plan(plan_layout(rows, None), rows, None)


def one_pageblock_vectors(pbo: int) -> set[tuple[int, ...]]:
    """Every (count per order < pbo) a single not-entirely-free pageblock can hold."""

    def options(j: int) -> set[tuple[tuple[int, ...], bool]]:
        unit = tuple(int(k == j) for k in range(pbo))
        out = {(unit, True), ((0,) * pbo, False)}
        if j:
            sub = options(j - 1)
            for (a, fa), (b, fb) in itertools.product(sub, repeat=2):
                if not (fa and fb):  # two free halves would be buddies
                    out.add((tuple(x + y for x, y in zip(a, b, strict=True)), False))
        return out

    return {v for v, free in options(pbo) if not free}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_min_hosting_pageblocks_matches_brute_force(data: st.DataObject) -> None:
    pbo = data.draw(st.integers(1, 3))
    target = tuple(data.draw(st.lists(st.integers(0, 5), min_size=pbo, max_size=pbo)))
    vectors = [
        v for v in one_pageblock_vectors(pbo) if all(a <= b for a, b in zip(v, target, strict=True))
    ]
    reach = {(0,) * pbo}
    n = 0
    while target not in reach:
        reach = {
            tuple(a + b for a, b in zip(r, v, strict=True))
            for r in reach
            for v in vectors
            if all(a + b <= c for a, b, c in zip(r, v, target, strict=True))
        }
        n += 1
    assert min_hosting_pageblocks(target, pbo) == n
    # ... and plan_layout uses exactly that many pageblocks for a non-default type.
    counts = (*target, 0, 0)
    rows = [BuddyinfoRow(0, "Normal", counts)]
    info = PagetypeInfo(
        pbo,
        1 << pbo,
        ("Unmovable", "Movable"),
        pbo + 2,
        (
            FreeRow(0, "Normal", "Unmovable", counts),
            FreeRow(0, "Normal", "Movable", (0,) * (pbo + 2)),
        ),
        (BlockRow(0, "Normal", (0, 0)),),
    )
    plan = plan_layout(rows, info, max_order=pbo + 2, pageblock_order=pbo)[0]
    assert plan.pageblock_types.count("Unmovable") == n


@st.composite
def layout_inputs(
    draw: st.DrawFn,
) -> tuple[list[BuddyinfoRow], PagetypeInfo | None, int, int, str, bool]:
    max_order = draw(st.integers(1, 11))
    pbo = draw(st.integers(0, max_order - 1))
    types = draw(st.sampled_from([NO_CMA, WITH_CMA, ("Movable",), ("Unmovable", "Movable")]))
    default = draw(st.sampled_from([*types, "Movable", "Other"]))
    nzones = draw(st.integers(1, 3))
    small = st.one_of(st.just(0), st.integers(0, 6), st.integers(0, 60))
    rows: list[BuddyinfoRow] = []
    free: list[FreeRow] = []
    blocks: list[BlockRow] = []
    for z in range(nzones):
        node, name = z // 2, f"Z{z}"
        per_type = {
            t: [draw(small) if k < 8 else draw(st.integers(0, 4)) for k in range(max_order)]
            for t in types
        }
        for t in types:
            free.append(FreeRow(node, name, t, tuple(per_type[t])))
        blocks.append(BlockRow(node, name, tuple(draw(st.integers(0, 50)) for _ in types)))
        totals = [sum(per_type[t][k] for t in types) for k in range(max_order)]
        rows.append(BuddyinfoRow(node, name, tuple(totals)))
    info = PagetypeInfo(pbo, 1 << pbo, types, max_order, tuple(free), tuple(blocks))
    with_info = draw(st.booleans())
    skew = draw(st.booleans()) and with_info
    if skew:  # buddyinfo read at another moment than pagetypeinfo
        rows = [
            BuddyinfoRow(
                r.node, r.zone, tuple(max(0, c + draw(st.integers(-3, 3))) for c in r.counts)
            )
            for r in rows
        ]
    return rows, info if with_info else None, max_order, pbo, default, not skew


@settings(max_examples=300, deadline=None)
@given(layout_inputs())
def test_plan_layout_property(
    args: tuple[list[BuddyinfoRow], PagetypeInfo | None, int, int, str, bool],
) -> None:
    rows, info, max_order, pbo, default, exact = args
    plans = plan_layout(
        rows, info, max_order=max_order, pageblock_order=pbo, default_migratetype=default
    )
    check_plan(
        plans,
        rows,
        info,
        max_order=max_order,
        pageblock_order=pbo,
        default=default,
        exact_types=exact,
    )


@pytest.mark.parametrize("name", ["", "_cma"])
def test_layout_sizes_are_plan_layouts_zones(name: str) -> None:
    rows = parse_buddyinfo((DATA / f"buddyinfo{name}.txt").read_text())
    info = parse_pagetypeinfo((DATA / f"pagetypeinfo{name}.txt").read_text())
    node = rows[0].node
    rows = [r for r in rows if r.node == node]
    for pti in (None, info):
        plans = plan_layout(rows, pti, pageblock_order=info.pageblock_order)
        sizes = layout_sizes(rows, pti, pageblock_order=info.pageblock_order)
        assert [(s.name, s.start_pfn, s.pages, s.notes) for s in sizes] == [
            (p.name, p.start_pfn, p.pages, p.notes) for p in plans
        ]


def test_a_zone_over_max_pages_is_refused_before_any_block_is_placed() -> None:
    rows = parse_buddyinfo("Node 0, zone Normal 4294967296 1 1 1 1 1 1 1 1 1 1")
    (size,) = layout_sizes(rows, None)
    assert size.pages == 8589936640
    with pytest.raises(LayoutTooLarge, match=r"zone Normal.*8589936640 pages.*1024 allowed"):
        plan_layout(rows, None, max_pages=1024)


@pytest.mark.parametrize(
    "text",
    [
        "Node 0, zone Normal " + "1" * 21 + " 0",
        "Node 0, zone Normal " + " ".join(["1"] * 65),
    ],
)
def test_numbers_no_kernel_prints_are_refused(text: str) -> None:
    try:
        rows = parse_buddyinfo(text)
    except ProcParseError:
        return
    with pytest.raises(ValueError, match=r"max_order must be in 1\.\.64"):
        layout_sizes(rows, None, pageblock_order=9, max_order=len(rows[0].counts))


def test_a_pageblock_order_of_three_digits_is_not_read() -> None:
    text = "Page block order: 999\nPages per block:  512\n"
    with pytest.raises(ProcParseError, match='line 1: expected "Page block order: <n>"'):
        parse_pagetypeinfo(text)
