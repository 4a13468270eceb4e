"""Tests of allocator_model.kernel.vmstat: /proc/buddyinfo and /proc/pagetypeinfo printed
byte for byte (the samples, this machine's files and any rows read back to the same text),
the kernel's cap on a counted list, and a model node's pagetypeinfo."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st
from procsamples import WITH_CMA, read_proc, sample

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
from allocator_model.sources.procfs import parse_buddyinfo, parse_pagetypeinfo

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


# --------------------------------------------------------------------------------------
# Formatting details


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
