"""Tests of allocator_model.sources.proclayout: plan_layout and layout_sizes, the zones
laid out from /proc/buddyinfo (+ /proc/pagetypeinfo) against constraints (a)-(f)."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from procsamples import DATA, NO_CMA, WITH_CMA, read_proc, sample

from allocator_model.kernel.vmstat import BlockRow, BuddyinfoRow, FreeRow, PagetypeInfo
from allocator_model.sources.procfs import (
    ProcParseError,
    consistency,
    parse_buddyinfo,
    parse_pagetypeinfo,
)
from allocator_model.sources.proclayout import LayoutTooLarge, ZonePlan, layout_sizes, plan_layout


def test_live_files_plan() -> None:
    rows = parse_buddyinfo(read_proc("/proc/buddyinfo"))
    info = parse_pagetypeinfo(read_proc("/proc/pagetypeinfo"))
    # Read one after the other, the files may disagree a little: buddyinfo rules.
    check_plan(plan_layout(rows, info), rows, info, exact_types=not consistency(rows, info))


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
