"""Property tests of the snapshot: what the page is sent is what the model holds."""

from __future__ import annotations

import base64
import contextlib
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from allocator_model import Node, OutOfMemory, ZoneSpec
from allocator_model.sources.builtin import build_default, build_small, default_workload
from backend.protocol import LIST_ENDS, FreeList
from backend.snapshot import (
    Tracker,
    diff_ranges,
    event_dicts,
    free_list_view,
    pcp_view,
    zone_snapshot,
)

pytestmark = pytest.mark.timeout(600)


@given(st.lists(st.integers(0, 4), max_size=300), st.integers(1, 12))
def test_free_list_view_keeps_both_ends_and_the_length(orders: list[int], ends: int) -> None:
    node = Node(zones=[ZoneSpec("Normal", start_pfn=0, pages=4096)], events=False)
    live = [node.alloc(o) for o in orders if o < 3]
    for pfn in live[::2]:
        node.free(pfn, node.page(pfn).block_order)
    zone = node.zone("Normal")
    for order in range(node.max_order):
        full = zone.free_list(order, "Movable")
        fl = free_list_view(zone, order, "Movable", ends)
        FreeList.model_validate(fl.model_dump())  # the invariants of the message hold
        assert fl.length == len(full)
        assert fl.head == full[: len(fl.head)] and fl.tail == full[len(full) - len(fl.tail) :]
        if len(full) <= 2 * ends:
            assert (fl.head, fl.tail) == (full, [])
        else:
            assert len(fl.head) == len(fl.tail) == ends


@given(st.binary(max_size=9000), st.lists(st.tuples(st.integers(0, 8999), st.binary(max_size=70))))
def test_diff_ranges_finds_every_change(before: bytes, writes: list[tuple[int, bytes]]) -> None:
    cur = bytearray(before)
    for at, data in writes:
        cur[at : at + len(data)] = data[: max(0, len(cur) - at)]
    cur = cur[: len(before)]
    prev = bytearray(before)
    rebuilt = bytearray(before)
    for off, chunk in diff_ranges(prev, cur, fine=16):
        rebuilt[off : off + len(chunk)] = chunk
    assert rebuilt == cur and prev == cur


@given(
    st.integers(1, 70_000),
    st.lists(st.tuples(st.integers(0, 70_000), st.integers(1, 70)), max_size=8),
    st.sampled_from([16, 64]),
)
def test_diff_ranges_sends_exactly_the_fine_chunks_that_differ(
    size: int, flips: list[tuple[int, int]], fine: int
) -> None:
    # The protocol's ranges: every ``fine`` bytes (from offset 0) that differ, adjacent
    # ones merged; however the arrays are compared, these are what is sent.
    before = bytes(k % 251 for k in range(size))
    cur = bytearray(before)
    for at, length in flips:  # each inverts a run of bytes: runs shorter than a chunk
        for k in range(at % len(cur), min(at % len(cur) + length, len(cur))):
            cur[k] ^= 0xFF
    expected: list[list[int]] = []
    for c in range(0, len(cur), fine):
        d = min(c + fine, len(cur))
        if before[c:d] != cur[c:d]:
            if expected and expected[-1][1] == c:
                expected[-1][1] = d
            else:
                expected.append([c, d])
    got = diff_ranges(bytearray(before), cur, fine=fine)
    assert [(off, len(chunk)) for off, chunk in got] == [(c, d - c) for c, d in expected]
    assert all(chunk == cur[off : off + len(chunk)] for off, chunk in got)


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
    zone = node.zone("Normal")
    zone_state = zone_snapshot(zone, node, ends=2)
    assert zone_state.nr_free == [zone.nr_free[o] for o in range(node.max_order)]
    for order in range(node.max_order):
        # pagetypeinfo and buddyinfo agree: the lists of one order add up to nr_free.
        per_type = sum(fl.length for fl in zone_state.lists if fl.order == order)
        assert per_type == zone_state.nr_free[order]
    allocated = sum(1 << order for _, order in live)
    assert zone_state.nr_free_pages == zone.spanned_pages - allocated
    states = base64.b64decode(zone_state.page_state)
    assert states.count(1) == allocated  # one byte per page: 1 = allocated


_ALLOC0 = ("alloc", 0, "Movable")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(_step, min_size=1, max_size=4), max_size=60), st.integers(1, 2))
@example([[_ALLOC0] * 5, [("free", 0, None)], [_ALLOC0, ("free", 1, None)]], 1)
def test_deltas_carry_the_per_cpu_lists_exactly_when_they_changed(
    steps: list[list[tuple[str, int, str | None]]], cpus: int
) -> None:
    # A step of several operations can leave a per-cpu list as long as it was, with
    # other blocks at its head: the delta must still carry it.
    zones = [
        ZoneSpec("DMA", start_pfn=0, pages=2048),
        ZoneSpec("Normal", start_pfn=2048, pages=4096),
    ]
    node = Node(zones=zones, seed=1, kernel="6.12", pcp=True, pcp_high=64, pcp_batch=8, cpus=cpus)
    tracker = Tracker(node)
    shown = {z.name: pcp_view(z, node) for z in node.zones}
    live: list[tuple[int, int]] = []
    for ops in steps:
        for kind, n, mt in ops:
            if kind == "alloc":
                assert mt is not None
                with contextlib.suppress(OutOfMemory):
                    live.append((node.alloc(order=n % 4, migratetype=mt), n % 4))
            elif live:
                pfn, order = live.pop(n % len(live))
                node.free(pfn, order)
        events, _ = event_dicts([], node.take_events())
        sent = {d.name: d.pcp for d in tracker.zone_deltas(node, events)}
        for z in node.zones:
            now = pcp_view(z, node)
            if now == shown[z.name]:
                assert sent.get(z.name) is None
            else:
                assert sent.get(z.name) == now
                shown[z.name] = now


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
    zones = [zone_snapshot(z, scenario.node) for z in scenario.node.zones]
    assert _parse_buddyinfo(scenario.node.buddyinfo()) == {z.name: z.nr_free for z in zones}


def test_the_default_workload_is_reproducible_and_interesting() -> None:
    assert default_workload(7) == default_workload(7)
    assert default_workload(7) != default_workload(8)
    a, b = build_default(), build_default()
    zones_a = [zone_snapshot(z, a.node) for z in a.node.zones]
    assert zones_a == [zone_snapshot(z, b.node) for z in b.node.zones]
    for zone in zones_a:
        # Something on the lists at every order of every zone except the very top ones.
        assert all(n > 0 for n in zone.nr_free[:7]), (zone.name, zone.nr_free)
        assert {"Movable", "Unmovable"} <= {fl.migratetype for fl in zone.lists}, zone.name
    # ... and long lists that travel as their two ends
    assert any(fl.length > 2 * LIST_ENDS for zone in zones_a for fl in zone.lists)


def test_the_deprecated_free_lists_are_both_ends_of_every_list() -> None:
    """The first slice's page reads ``free_lists``: 8 pfns from each end, every order."""
    scenario = build_default()
    node = scenario.node
    for zone in node.zones:
        snap = zone_snapshot(zone, node)
        assert snap.free_pages == zone.nr_free_pages
        assert snap.free_lists is not None
        for mt in node.migratetypes:
            slices = snap.free_lists[mt]
            assert len(slices) == node.max_order
            for order, sl in enumerate(slices):
                full = zone.free_list(order, mt)
                assert sl.count == len(full)
                if len(full) <= 16:
                    assert (sl.head, sl.tail) == (full, [])
                else:
                    assert (sl.head, sl.tail) == (full[:8], full[-8:]), (zone.name, mt, order)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans()), max_size=200), st.integers(1, 20))
def test_list_ends_read_without_a_walk_equal_the_public_list(
    ops: list[tuple[int, bool]], n: int
) -> None:
    node = Node(zones=[ZoneSpec("Normal", start_pfn=4096, pages=8192)], hinting="reporting")
    live: list[tuple[int, int]] = []
    for order, free in ops:
        if free and live:
            pfn, o = live.pop(order % len(live))
            node.free(pfn, o)
        else:
            with contextlib.suppress(OutOfMemory):
                live.append((node.alloc(order, "Unmovable" if order == 3 else "Movable"), order))
    node.advance(5)  # reporting rotates and flags lists
    zone = node.zone("Normal")
    for order in range(node.max_order):
        for mt in node.migratetypes:
            full = zone.free_list(order, mt)
            head, tail = zone.free_list_ends(order, mt, n)
            assert head == full[:n] and tail == full[max(len(full) - n, 0) :]
            assert free_list_view(zone, order, mt, n, len(full)) == free_list_view(
                zone, order, mt, n
            )
