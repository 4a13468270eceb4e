"""Tests of allocator_model.sources.procfs: the /proc parsers on the samples and on what
other kernels print, their errors (each names its line) and the consistency check."""

from __future__ import annotations

import pytest
from procsamples import NO_CMA, WITH_CMA, sample

from allocator_model.kernel.vmstat import PAGETYPEINFO_LIST_CAP, BuddyinfoRow, format_pagetypeinfo
from allocator_model.sources.procfs import (
    ProcParseError,
    consistency,
    parse_buddyinfo,
    parse_pagetypeinfo,
)

# --------------------------------------------------------------------------------------
# Parsing details


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


def test_a_pageblock_order_of_three_digits_is_not_read() -> None:
    text = "Page block order: 999\nPages per block:  512\n"
    with pytest.raises(ProcParseError, match='line 1: expected "Page block order: <n>"'):
        parse_pagetypeinfo(text)
