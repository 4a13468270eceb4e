"""from_buddyinfo: a node whose free lists match a real snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator_model import ConfigError, from_buddyinfo
from allocator_model.sources.procfs import parse_pagetypeinfo

DATA = Path(__file__).parent / "data"


def test_round_trips_this_machines_sample_files() -> None:
    buddy = (DATA / "buddyinfo.txt").read_text()
    ptype = (DATA / "pagetypeinfo.txt").read_text()
    node = from_buddyinfo(buddy, ptype)
    node.check()
    assert node.buddyinfo() == buddy
    assert node.migratetypes == parse_pagetypeinfo(ptype).migratetypes  # no CMA here
    ours = parse_pagetypeinfo(node.pagetypeinfo())
    theirs = parse_pagetypeinfo(ptype)
    assert ours.free == theirs.free
    assert ours.blocks == theirs.blocks
    # Zones sit one after the other from pfn 0, in the file's order.
    starts = [z.start_pfn for z in node.zones]
    assert starts[0] == 0 and starts == sorted(starts)


def test_buddyinfo_alone_and_a_strategy() -> None:
    buddy = (DATA / "buddyinfo.txt").read_text()
    node = from_buddyinfo(buddy, hinting="reporting", events=False)
    assert node.buddyinfo() == buddy
    node.advance(60)
    node.check()
    normal = node.zone("Normal")
    assert normal.flagged_heads()  # the snapshot's free high-order blocks get reported


def test_live_files_when_readable() -> None:
    try:
        buddy = Path("/proc/buddyinfo").read_text()
        ptype = Path("/proc/pagetypeinfo").read_text()
    except OSError as exc:
        pytest.skip(f"cannot read this machine's /proc files: {exc}")
    node = from_buddyinfo(buddy, ptype)
    node.check()
    # buddyinfo and pagetypeinfo are read at different instants on a live system;
    # the node follows buddyinfo's counts.
    assert node.buddyinfo() == buddy


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "cannot read the snapshot"),
        ("Node zero, zone Normal 1 2 3\n", "cannot read the snapshot: line 1"),
    ],
)
def test_bad_snapshots(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        from_buddyinfo(text)


def test_a_kernel_with_fewer_orders() -> None:
    node = from_buddyinfo("Node 0, zone   Normal      1      2      3 \n")
    assert node.max_order == 3 and node.pageblock_order == 2
    assert node.zone("Normal").nr_free == [1, 2, 3]


def test_two_nodes_are_refused() -> None:
    text = (DATA / "buddyinfo_cma.txt").read_text()
    with pytest.raises(ConfigError, match="several NUMA nodes"):
        from_buddyinfo(text)
