"""Hypothesis: random alloc/free sequences, bad inputs included, on odd zones.

After every step ``check()`` holds (spec §5 invariants 1-12), buddyinfo and
pagetypeinfo agree, and a refused call left the node exactly as it was (an allocation
that runs out of memory may have re-typed pageblocks on the way, as the kernel does).
"""

from __future__ import annotations

import contextlib

from fingerprint import fingerprint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator_model import ModelError, Node, OutOfMemory, ZoneSpec
from allocator_model.sources.procfs import parse_buddyinfo, parse_pagetypeinfo

MTS = ["Unmovable", "Movable", "Reclaimable"]


@st.composite
def layouts(draw: st.DrawFn) -> dict[str, object]:
    max_order = draw(st.integers(2, 11))
    pageblock_order = draw(st.integers(0, max_order - 1))
    nzones = draw(st.integers(1, 3))
    zones = []
    start = draw(st.integers(0, 3000))
    for k in range(nzones):
        pages = draw(st.integers(1, 3000))
        zones.append(ZoneSpec(["DMA", "DMA32", "Normal"][k], start, pages))
        start += pages + draw(st.integers(0, 700))
    return {
        "zones": zones,
        "max_order": max_order,
        "pageblock_order": pageblock_order,
        "kernel": draw(st.sampled_from(["5.3", "5.7", "5.10"])),
        "pcp": draw(st.booleans()),
        "cma": draw(st.booleans()),
        "min_free_kbytes": draw(st.sampled_from([0, 16, None])),
        "pcp_batch": draw(st.sampled_from([None, 1, 3])),
    }


step = st.one_of(
    st.tuples(st.just("alloc"), st.integers(-1, 11), st.sampled_from([*MTS, "Isolate", "x"])),
    st.tuples(st.just("free"), st.integers(0, 400), st.integers(-1, 3)),
    st.tuples(st.just("bad_free"), st.integers(-5, 12000), st.integers(-1, 11)),
    st.tuples(st.just("drain"), st.just(0), st.just(0)),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(layouts(), st.lists(step, min_size=1, max_size=120))
def test_random_sequences_keep_every_invariant(
    layout: dict[str, object], steps: list[tuple[str, int, object]]
) -> None:
    pcp_batch = layout.pop("pcp_batch")
    node = Node(**layout, pcp_batch=pcp_batch if layout["pcp"] else None)  # type: ignore[arg-type]
    node.check()
    live: list[tuple[int, int]] = []
    for kind, a, b in steps:
        node.take_events()
        before = fingerprint(node)
        try:
            if kind == "alloc":
                pfn = node.alloc(a, str(b))
                live.append((pfn, a))
            elif kind == "free" and live:
                pfn, order = live[a % len(live)]
                if isinstance(b, int) and b >= 0:
                    order = b  # sometimes the wrong order on purpose
                node.free(pfn, order)
                live.remove((pfn, order))
            elif kind == "bad_free":
                node.free(a, int(b))  # usually not an allocated head
                live = [x for x in live if x != (a, b)]
            elif kind == "drain":
                node.drain_pcp()
        except OutOfMemory:
            # 5.x __rmqueue_fallback may re-type pageblocks before the request finally
            # fails (see test_nofragment_fallback_can_retype_before_oom); nothing else may
            # change, and then only with fallback events saying so.
            kinds = {e.kind for e in node.take_events()}
            if fingerprint(node) != before:
                assert "fallback" in kinds, f"{kind}({a}, {b}) failed but changed the node"
        except (ModelError, ValueError):
            assert fingerprint(node) == before, f"{kind}({a}, {b}) failed but changed the node"
        node.check()
    _formats_agree(node)
    for pfn, order in live:
        node.free(pfn, order)
        node.check()
    node.drain_pcp()
    node.check()
    # With everything returned, every zone is back to its boot shape: only blocks that
    # cannot merge further (top order, or buddies outside the zone) remain.
    for z in node.zones:
        assert z.nr_free_pages == z.managed_pages


def _formats_agree(node: Node) -> None:
    rows = parse_buddyinfo(node.buddyinfo())
    info = parse_pagetypeinfo(node.pagetypeinfo())
    assert [r.zone for r in rows] == [z.name for z in node.zones]
    for row in rows:
        z = node.zone(row.zone)
        assert list(row.counts) == z.nr_free
        per_type = [r for r in info.free if r.zone == row.zone]
        assert len(per_type) == len(node.migratetypes)
        for k in range(node.max_order):
            assert sum(r.counts[k] for r in per_type) == z.nr_free[k]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5000), st.integers(0, 5000), st.sampled_from(["5.3", "5.7", "5.10"]))
def test_boot_frees_largest_aligned_blocks(pages: int, start: int, kernel: str) -> None:
    node = Node(zones=[ZoneSpec("Normal", start, pages)], kernel=kernel)
    node.check()
    z = node.zone("Normal")
    # Every free block is the largest aligned block that fits at its position.
    blocks = sorted((pfn, k) for k in range(11) for pfn in z.free_list(k, "Movable"))
    pos = start
    for pfn, k in blocks:
        assert pfn == pos
        top = 10 if pfn == 0 else min(10, (pfn & -pfn).bit_length() - 1)
        while pfn + (1 << top) > start + pages:
            top -= 1
        assert k == top
        pos += 1 << k
    assert pos == start + pages


@st.composite
def hinted_layouts(draw: st.DrawFn) -> dict[str, object]:
    hinting = draw(st.sampled_from(["hinting-v2", "reporting"]))
    small = draw(st.booleans())
    if small:  # a teaching zone: low orders and tiny batches so every path runs
        options: dict[str, object] = {"capacity": draw(st.sampled_from([1, 2, 4]))}
        options["order" if hinting == "reporting" else "min_order"] = draw(st.integers(2, 4))
        if hinting == "hinting-v2":
            options["hwm"] = draw(st.integers(1, 4))
        zones = [ZoneSpec("Normal", draw(st.integers(0, 64)), draw(st.integers(64, 2048)))]
        extra = {"max_order": 6, "pageblock_order": draw(st.integers(2, 5))}
    else:
        options = {}
        zones = [ZoneSpec("DMA32", 0, 40000), ZoneSpec("Normal", 40960, 40000)]
        extra = {}
    return {
        "zones": zones,
        "hinting": hinting,
        "hinting_options": options,
        "kernel": draw(st.sampled_from(["5.7", "5.10"])),
        "pcp": draw(st.booleans()),
        "min_free_kbytes": 0,
        **extra,
    }


timed_step = st.one_of(
    st.tuples(st.just("alloc"), st.integers(0, 10), st.sampled_from(MTS)),
    st.tuples(st.just("free"), st.integers(0, 400), st.just(0)),
    st.tuples(st.just("work"), st.integers(1, 3), st.just(0)),
    st.tuples(st.just("advance"), st.integers(0, 3000), st.just(0)),
    st.tuples(st.just("touch"), st.integers(0, 400), st.just(0)),
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hinted_layouts(), st.lists(timed_step, min_size=1, max_size=150))
def test_hinting_and_reporting_keep_every_invariant_as_time_passes(
    layout: dict[str, object], steps: list[tuple[str, int, object]]
) -> None:
    node = Node(**layout)  # type: ignore[arg-type]
    node.check()
    live: list[tuple[int, int]] = []
    for kind, a, b in steps:
        if kind == "alloc":
            order = min(a, node.max_order - 1)
            with contextlib.suppress(ModelError):
                live.append((node.alloc(order, str(b)), order))
        elif kind == "free" and live:
            pfn, order = live.pop(a % len(live))
            node.free(pfn, order)
        elif kind == "touch" and live:
            node.touch(*live[a % len(live)])
        elif kind == "work":
            for _ in range(a):
                node.run_next_work()
                node.check()
        elif kind == "advance":
            node.advance(a / 1000)
        node.check()
        stats = node.host.stats()
        assert 0 <= stats.resident_pages <= sum(z.spanned_pages for z in node.zones)
    _formats_agree(node)
    for pfn, order in live:
        node.free(pfn, order)
    node.drain_pcp()
    node.advance(300)
    node.check()
    # Idle convergence (invariant 39): nothing is in flight and, once idle, every block
    # at or above the strategy's order is flagged unless a watermark or threshold stops it.
    assert all(not node.strategy.in_flight(z) for z in node.zones)
