"""Property tests of the snapshot: what the page is sent is what the model holds."""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator_model import Node, OutOfMemory, ZoneSpec
from backend.scenarios import build_default, build_small, default_workload
from backend.snapshot import build_snapshot, slice_list

pytestmark = pytest.mark.timeout(120)


@given(st.lists(st.integers(min_value=0, max_value=1 << 20)), st.integers(1, 12))
def test_slice_keeps_both_ends_and_the_count(pfns: list[int], ends: int) -> None:
    s = slice_list(pfns, ends)
    assert s.count == len(pfns)
    assert s.head == pfns[: len(s.head)]
    assert s.tail == pfns[len(pfns) - len(s.tail) :]
    if len(pfns) <= 2 * ends:
        assert (s.head, s.tail) == (pfns, [])
    else:
        assert len(s.head) == len(s.tail) == ends


def test_slice_needs_at_least_one_end() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        slice_list([1, 2, 3], 0)


# One step of a random workload: allocate (order, type) or free the k-th live block.
_step = st.one_of(
    st.tuples(st.just("alloc"), st.integers(0, 10), st.sampled_from(["Movable", "Unmovable"])),
    st.tuples(st.just("free"), st.integers(0, 1 << 16), st.none()),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(_step, max_size=60))
def test_snapshot_matches_the_model_after_any_workload(
    steps: list[tuple[str, int, str | None]],
) -> None:
    node = Node(zones=[ZoneSpec("Normal", start_pfn=0, pages=4096)], seed=1, events=False)
    live: list[tuple[int, int]] = []
    for kind, n, mt in steps:
        if kind == "alloc":
            assert mt is not None
            with contextlib.suppress(OutOfMemory):
                live.append((node.alloc(order=n, migratetype=mt), n))
        elif live:
            pfn, order = live.pop(n % len(live))
            node.free(pfn, order)
    snap = build_snapshot(node, seq=1, scenario="prop", step=len(steps), ends=2)
    (zone_state,) = snap.zones
    zone = node.zone("Normal")
    assert zone_state.nr_free == [zone.nr_free[o] for o in range(node.max_order)]
    for order in range(node.max_order):
        # pagetypeinfo and buddyinfo agree: the lists of one order add up to nr_free.
        per_type = sum(lists[order].count for lists in zone_state.free_lists.values())
        assert per_type == zone_state.nr_free[order]
    allocated = sum(1 << order for _, order in live)
    assert zone_state.free_pages == zone.spanned_pages - allocated


def _parse_buddyinfo(text: str) -> dict[str, list[int]]:
    rows = {}
    for line in text.splitlines():
        m = re.fullmatch(r"Node 0, zone +(\S+) +((?:\d+ +)+)", line)
        assert m, f"not a buddyinfo line: {line!r}"
        rows[m.group(1)] = [int(x) for x in m.group(2).split()]
    return rows


@pytest.mark.parametrize("build", [build_default, build_small], ids=["default", "small"])
def test_snapshot_agrees_with_proc_buddyinfo(build: object) -> None:
    scenario = build()  # type: ignore[operator]
    snap = build_snapshot(scenario.node, seq=1, scenario=scenario.name, step=scenario.steps)
    assert _parse_buddyinfo(scenario.node.buddyinfo()) == {z.name: z.nr_free for z in snap.zones}


def test_the_default_workload_is_reproducible_and_interesting() -> None:
    assert default_workload(7) == default_workload(7)
    assert default_workload(7) != default_workload(8)
    a, b = build_default(), build_default()
    snap_a = build_snapshot(a.node, seq=1, scenario="a", step=a.steps)
    snap_b = build_snapshot(b.node, seq=1, scenario="b", step=b.steps)
    assert snap_a.zones == snap_b.zones
    for zone in snap_a.zones:
        # Something on the lists at every order of every zone except the very top ones.
        assert all(n > 0 for n in zone.nr_free[:7]), (zone.name, zone.nr_free)
        used_types = [mt for mt, lists in zone.free_lists.items() if any(s.count for s in lists)]
        assert {"Movable", "Unmovable"} <= set(used_types), zone.name
