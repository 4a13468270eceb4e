"""The buddy allocator's rules, as exact tests (spec §1.4, §1.5, §1.6, §1.7, §5)."""

from __future__ import annotations

import json

import pytest
from fingerprint import fingerprint

from allocator_model import (
    ConfigError,
    InvalidFree,
    Node,
    OutOfMemory,
    UnknownMigratetype,
    UnknownZone,
    ZoneSpec,
)
from allocator_model.kernel.config import MIGRATE_MOVABLE, MIGRATE_UNMOVABLE
from allocator_model.sources.procfs import parse_buddyinfo, parse_pagetypeinfo


def one_block_zone(**kw: object) -> Node:
    """A zone holding exactly one free order-10 block at pfn 0 (scenarios 41-42)."""
    return Node(zones=[ZoneSpec("Normal", 0, 1024)], min_free_kbytes=0, **kw)  # type: ignore[arg-type]


def kinds(node: Node) -> list[str]:
    return [e.kind for e in node.take_events()]


# --- scenario 41/42 and the worked example of §1.5 ------------------------------------


def test_scenario_41_split_cascade() -> None:
    node = one_block_zone()
    z = node.zone("Normal")
    assert z.nr_free == [0] * 10 + [1]
    assert z.nr_free(10) == 1 and z.nr_free(0) == 0  # the API form: nr_free(order)
    with pytest.raises(ValueError, match="out of range"):
        z.nr_free(11)
    assert node.alloc(0) == 0
    node.check()
    assert z.nr_free == [1] * 10 + [0]
    for k in range(10):
        assert z.free_list(k, "Movable") == [1 << k]
    assert node.buddyinfo() == "Node 0, zone   Normal" + "      1" * 10 + "      0 \n"
    events = node.take_events()
    splits = [e for e in events if e.kind == "split"]
    assert [e.to_dict()["half_pfn"] for e in splits] == [512, 256, 128, 64, 32, 16, 8, 4, 2, 1]
    adds = [e for e in events if e.kind == "list_add"]
    assert all(e.to_dict()["end"] == "head" and e.fn == "add_to_free_list" for e in adds)
    assert events[-1].kind == "alloc" and "pfn 0" in events[-1].message


def test_scenario_42_merge_back() -> None:
    node = one_block_zone()
    pfn = node.alloc(0)
    node.take_events()
    node.free(pfn, 0)
    node.check()
    z = node.zone("Normal")
    assert z.nr_free == [0] * 10 + [1]
    assert z.free_list(10, "Movable") == [0]
    events = node.take_events()
    merges = [e.to_dict() for e in events if e.kind == "merge"]
    assert [(m["pfn"], m["buddy"], m["order"]) for m in merges] == [
        (0, 1 << k, k) for k in range(10)
    ]
    assert events[-1].kind == "list_add"
    assert "MAX_ORDER - 2" in events[-1].message or ">= 9" in events[-1].message


def test_worked_example_expand_order3_to_order1() -> None:
    # §1.5: allocating order 1 from an order-3 block at pfn 0 returns pfn 0 and frees
    # pfn 4-7 as order 2 and pfn 2-3 as order 1.
    node = Node(zones=[ZoneSpec("T", 0, 8)], max_order=4, pageblock_order=3, min_free_kbytes=0)
    z = node.zone("T")
    assert z.nr_free == [0, 0, 0, 1]
    assert node.alloc(1) == 0
    assert z.free_list(2, "Movable") == [4]
    assert z.free_list(1, "Movable") == [2]
    assert z.nr_free == [0, 1, 1, 0]
    node.check()


def test_allocation_takes_the_head_of_the_smallest_list() -> None:
    node = one_block_zone()
    z = node.zone("Normal")
    first = node.alloc(0)
    second = node.alloc(0)  # order-0 list holds pfn 1 only
    assert (first, second) == (0, 1)
    third = node.alloc(0)  # order-0 empty: split the order-1 head (pfn 2)
    assert third == 2
    assert z.free_list(0, "Movable") == [3]
    # Invariant 8: an order-2 request takes the head of the order-2 list (pfn 4).
    assert node.alloc(2) == 4
    node.check()


# --- head/tail placement (invariant 10) --------------------------------------------------


def test_buddy_merge_likely_puts_block_at_tail() -> None:
    node = one_block_zone()
    z = node.zone("Normal")
    for _ in range(4):
        node.alloc(0)  # pfn 0..3; free: 4(o2), 8(o3), ...
    node.free(1, 0)  # buddy 0 allocated; order-1 buddy (pfn 2) allocated -> head
    assert z.free_list(0, "Movable") == [1]
    node.take_events()
    node.free(0, 0)  # merges with 1 -> order 1 at 0; order-2 buddy pfn 4 is free -> tail
    events = node.take_events()
    add = [e for e in events if e.kind == "list_add"][-1].to_dict()
    assert add["end"] == "tail" and add["order"] == 1 and add["pfn"] == 0
    assert "buddy_merge_likely" in add["reason"]
    node.check()


def test_order_9_and_10_always_go_to_the_head() -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 4096)], min_free_kbytes=0, kernel="5.7")
    z = node.zone("Normal")
    blocks = [node.alloc(9) for _ in range(8)]  # take every order-9 block
    node.free(blocks[0], 9)  # buddy allocated -> order 9 -> head
    node.free(blocks[2], 9)
    assert z.free_list(9, "Movable") == [blocks[2], blocks[0]]
    node.check()


@pytest.mark.parametrize(("kernel", "ascending"), [("5.3", False), ("5.7", False), ("5.10", True)])
def test_boot_order_follows_kernel_version(kernel: str, ascending: bool) -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 8192)], kernel=kernel)
    heads = node.zone("Normal").free_list(10, "Movable")
    assert sorted(heads) == [k * 1024 for k in range(8)]
    assert heads == sorted(heads, reverse=not ascending)


def test_zone_not_starting_at_zero_and_odd_size() -> None:
    node = Node(zones=[ZoneSpec("DMA", 1, 4095)])
    z = node.zone("DMA")
    assert z.nr_free == [1] * 10 + [3]
    assert [z.free_list(k, "Movable") for k in range(4)] == [[1], [2], [4], [8]]
    node.check()
    # pfn 1's buddy (pfn 0) lies outside the zone: freeing pfn 1 never merges down
    node.alloc(0, zone="DMA")
    node.take_events()
    node.free(1, 0)
    stop = next(e for e in node.take_events() if e.kind == "merge_stop")
    assert "outside zone DMA" in stop.message
    node.check()


# --- fallback and stealing (§1.6) -------------------------------------------------------------


def test_unmovable_request_steals_a_whole_pageblock() -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 2048)], min_free_kbytes=0, kernel="5.7")
    z = node.zone("Normal")
    pfn = node.alloc(0, "Unmovable")
    events = node.take_events()
    assert [e.kind for e in events if e.kind in ("fallback", "pageblock_retype")] == [
        "fallback",
        "pageblock_retype",
        "pageblock_retype",
    ]
    # The order-10 head (pfn 0 under 5.7's head placement? no: 5.7 boots to the head, so
    # the last block freed, pfn 1024, is the head) was stolen; both its pageblocks are
    # Unmovable now and its split halves sit on Unmovable lists.
    assert pfn == 1024
    assert list(z.pageblock_mt) == [1, 1, 0, 0]
    assert z.free_list(9, "Unmovable") == [1536]
    assert z.free_list(10, "Movable") == [0]
    node.check()


def test_movable_request_prefers_smallest_block_when_it_cannot_steal() -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 2048)], min_free_kbytes=0)
    z = node.zone("Normal")
    # Make an Unmovable pageblock with some free small blocks in it.
    u = [node.alloc(0, "Unmovable") for _ in range(3)]
    node.free(u[1], 0)
    # Empty the Movable lists completely.
    movable = []
    while True:
        try:
            movable.append(node.alloc(0, "Movable"))
        except OutOfMemory:
            if not z.watermark_boost:
                break
            node.advance(1)  # the steal boosted the watermarks: let kswapd reset them
        if z.nr_free_pages == 0:
            break
    node.check()
    assert all(not z.free_list(k, "Movable") for k in range(11))


def test_movable_fallback_takes_from_other_types_before_oom() -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 1024)], min_free_kbytes=0)
    z = node.zone("Normal")
    # Unmovable allocation claims the only pageblocks; then Movable must fall back.
    node.alloc(0, "Unmovable")
    assert set(z.pageblock_mt) == {0}
    node.take_events()
    node.alloc(3, "Movable")
    events = node.take_events()
    fallback = next(e.to_dict() for e in events if e.kind == "fallback")
    assert fallback["start_migratetype"] == "Movable"
    assert fallback["fallback_migratetype"] == "Unmovable"
    node.check()


def test_nofragment_fallback_floor_and_the_watermark_before_it() -> None:
    """5.x ``__rmqueue_fallback`` with ALLOC_NOFRAGMENT searches down to pageblock_order
    even when the request is larger, so called on its own it steals blocks too small to
    satisfy the request and re-types their pageblocks.  Only a caller that skips the
    watermarks (ALLOC_NO_WATERMARKS) reaches it so: get_page_from_freelist first asks
    ``__zone_watermark_ok``, whose high-order part finds no free block of order >= 3 and
    skips the zone, so through the allocator the request fails with nothing changed."""
    node = Node(
        zones=[ZoneSpec("DMA", 0, 1), ZoneSpec("DMA32", 1, 1), ZoneSpec("Normal", 2, 8)],
        max_order=4,
        pageblock_order=0,
        kernel="5.3",
        min_free_kbytes=0,
        cma=False,
    )
    normal = node.zone("Normal")
    assert set(normal.pageblock_mt) == {MIGRATE_MOVABLE}
    node.take_events()
    before = fingerprint(node)
    with pytest.raises(OutOfMemory, match="no free block of order >= 3"):
        node.alloc(3, "Unmovable")
    assert fingerprint(node) == before
    # __rmqueue itself, as an ALLOC_NO_WATERMARKS caller would reach it
    assert normal.rmqueue(3, MIGRATE_UNMOVABLE, True) == -1
    steals = [e.to_dict() for e in node.take_events() if e.kind == "fallback"]
    assert [s["current_order"] for s in steals] == [2, 1, 1]  # all smaller than 3
    assert set(normal.pageblock_mt) == {MIGRATE_UNMOVABLE}
    assert normal.nr_free_pages == 8
    node.check()


# --- watermarks and the zonelist ------------------------------------------------------------


def test_zonelist_walks_from_highest_zone() -> None:
    node = Node()
    pfn = node.alloc(0)
    assert node.zone_of(pfn) is node.zone("Normal")
    dma = node.alloc(0, zone="DMA")
    assert node.zone_of(dma) is node.zone("DMA")


def test_watermark_min_stops_allocation_with_a_clear_reason() -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 1024)], min_free_kbytes=512)
    z = node.zone("Normal")
    assert z.watermarks.min == 128
    taken = 0
    with pytest.raises(OutOfMemory) as err:
        while True:
            node.alloc(0)
            taken += 1
    # __zone_watermark_ok: an order-0 request needs free > min, so it stops at min.
    assert z.nr_free_pages == z.watermarks.min
    assert taken == 1024 - 128
    assert "min watermark (128 pages)" in str(err.value)
    assert "no reclaim" in str(err.value)
    node.check()


def test_falls_back_to_lower_zone_when_normal_hits_low_watermark() -> None:
    node = Node(
        zones=[ZoneSpec("DMA32", 0, 1024), ZoneSpec("Normal", 1024, 1024)], min_free_kbytes=1024
    )
    normal = node.zone("Normal")
    low = normal.watermarks.low
    while normal.nr_free_pages > low:
        assert node.zone_of(node.alloc(0)) is normal
    # The fast path skips Normal at its low watermark and uses DMA32.
    assert node.zone_of(node.alloc(0)) is node.zone("DMA32")


def test_watermarks_match_this_machines_zoneinfo() -> None:
    """__setup_per_zone_wmarks, checked against the live kernel's own numbers."""
    try:
        with open("/proc/zoneinfo") as f:
            text = f.read()
        with open("/proc/sys/vm/min_free_kbytes") as f:
            min_free_kbytes = int(f.read())
        with open("/proc/sys/vm/watermark_scale_factor") as f:
            wsf = int(f.read())
    except OSError as exc:
        pytest.skip(f"no /proc/zoneinfo here: {exc}")
    from allocator_model.kernel.watermarks import zone_watermarks

    zones: dict[str, dict[str, int]] = {}
    current: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("Node "):
            current = {}
            zones[line.split()[-1]] = current
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("min", "low", "high", "managed", "boost"):
            current[parts[0]] = int(parts[1])
    populated = {k: v for k, v in zones.items() if v.get("managed")}
    if not populated or any(v.get("boost") for v in populated.values()):
        pytest.skip("no populated zone, or watermarks are boosted right now")
    lowmem = sum(v["managed"] for v in populated.values())
    for name, v in populated.items():
        marks = zone_watermarks(v["managed"], lowmem, min_free_kbytes, wsf)
        assert (marks.min, marks.low, marks.high) == (v["min"], v["low"], v["high"]), name


# --- per-cpu lists ------------------------------------------------------------------------


def test_pcp_free_parks_and_drains_in_batches() -> None:
    node = Node(
        zones=[ZoneSpec("Normal", 0, 1024)], min_free_kbytes=0, pcp=True, pcp_batch=4, pcp_high=8
    )
    z = node.zone("Normal")
    pcp = node.pcps["Normal"]
    first = node.alloc(0)  # empty pcp list: rmqueue_bulk pulls a batch of 4
    assert first == 0
    assert pcp.count == 3
    assert z.nr_free_pages == 1024 - 4
    node.check()
    pages = [first] + [node.alloc(0) for _ in range(11)]
    node.take_events()
    for p in pages[:7]:
        node.free(p, 0)
    assert pcp.count == 7  # one short of high: nothing went back to buddy
    node.free(pages[7], 0)  # count reaches high=8: free_pcppages_bulk(batch=4)
    assert pcp.count == 4
    kinds_ = kinds(node)
    assert "pcp_drain" in kinds_
    node.check()
    node.drain_pcp()
    assert pcp.count == 0
    node.check()


def test_pcp_pages_are_not_in_nr_free() -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 1024)], min_free_kbytes=0, pcp=True, pcp_batch=8)
    node.alloc(0)
    z = node.zone("Normal")
    assert sum(n << k for k, n in enumerate(z.nr_free)) == 1024 - 8
    assert node.page(1).state == "pcp"


# --- bad input leaves the node exactly as it was ------------------------------------------


def _busy_node() -> Node:
    node = Node(
        zones=[ZoneSpec("DMA", 16, 1000), ZoneSpec("Normal", 2048, 3000)], min_free_kbytes=0
    )
    node.alloc(3)
    node.alloc(0, "Unmovable")
    p = node.alloc(2)
    node.free(p, 2)
    return node


@pytest.mark.parametrize(
    ("call", "exc", "words"),
    [
        (lambda n, p: n.free(p + 8, 3), InvalidFree, "double free"),
        (lambda n, p: n.free(p + 12, 2), InvalidFree, "double free"),
        (lambda n, p: n.free(p + 1, 0), InvalidFree, "not the start of an allocation"),
        (lambda n, p: n.free(p, 2), InvalidFree, "wrong order"),
        (lambda n, p: n.free(p + 1, 3), InvalidFree, "not aligned"),
        (lambda n, p: n.free(10, 0), InvalidFree, "outside every zone"),
        (lambda n, p: n.free(p, 11), InvalidFree, "out of range"),
        (lambda n, p: n.free(p, -1), InvalidFree, "out of range"),
        (lambda n, p: n.free("12", 0), InvalidFree, "integer"),
        (lambda n, p: n.alloc(11), ValueError, "order"),
        (lambda n, p: n.alloc(0, "Moveable"), UnknownMigratetype, "unknown migratetype"),
        (lambda n, p: n.alloc(0, "Isolate"), UnknownMigratetype, "cannot allocate"),
        (lambda n, p: n.alloc(0, zone="HighMem"), UnknownZone, "unknown zone"),
        (lambda n, p: n.alloc(10, zone="DMA"), OutOfMemory, "below its min watermark"),
        (lambda n, p: n.alloc(9, zone="DMA"), OutOfMemory, "no free block of order >= 9"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(call, exc, words) -> None:  # type: ignore[no-untyped-def]
    node = _busy_node()
    held = node.alloc(3)  # an allocated order-3 block; the one after it is free
    assert node.page(held + 8).state == "free"
    node.take_events()
    before = fingerprint(node)
    with pytest.raises(exc) as err:
        call(node, held)
    assert words in str(err.value)
    assert fingerprint(node) == before
    node.check()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"kernel": "4.19"}, "unknown kernel version"),
        ({"hinting": "balloon"}, "unknown hinting strategy"),
        ({"zones": []}, "at least one zone"),
        ({"zones": [ZoneSpec("Normal", 0, 0)]}, "pages must be"),
        ({"zones": [ZoneSpec("A", 0, 100), ZoneSpec("B", 50, 100)]}, "must not overlap"),
        ({"zones": [ZoneSpec("A", 0, 100), ZoneSpec("A", 100, 100)]}, "used twice"),
        ({"zones": [ZoneSpec("Too long name", 0, 100)]}, "zone name"),
        ({"pageblock_order": 11}, "pageblock_order"),
        ({"max_order": 0}, "max_order"),
        ({"min_free_kbytes": -1}, "min_free_kbytes"),
    ],
)
def test_impossible_configuration(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as err:
        Node(**kwargs)  # type: ignore[arg-type]
    assert words in str(err.value)


# --- determinism, formats, inspection ----------------------------------------------------


def _script(node: Node) -> list[str]:
    live = []
    for k in range(300):
        if live and node.random.random() < 0.45:
            pfn, order = live.pop(node.random.randrange(len(live)))
            node.free(pfn, order)
        else:
            order = node.random.choice([0, 0, 1, 2, 3, 9])
            mt = node.random.choice(["Movable", "Unmovable", "Reclaimable"])
            live.append((node.alloc(order, mt), order))
        if k % 10 == 0:
            node.check()
    return [json.dumps(e.to_dict(), sort_keys=True) for e in node.take_events()]


def test_same_seed_same_events_byte_for_byte() -> None:
    spec = [ZoneSpec("DMA32", 0, 4096), ZoneSpec("Normal", 4096, 4096)]
    a = _script(Node(zones=spec, seed=7, min_free_kbytes=0, pcp=True))
    b = _script(Node(zones=spec, seed=7, min_free_kbytes=0, pcp=True))
    c = _script(Node(zones=spec, seed=8, min_free_kbytes=0, pcp=True))
    assert a == b
    assert a != c
    assert all(json.loads(line)["message"] for line in a)


def test_buddyinfo_and_pagetypeinfo_agree() -> None:
    node = Node(
        zones=[ZoneSpec("DMA32", 0, 4096), ZoneSpec("Normal", 4096, 4096)], min_free_kbytes=0
    )
    _script(node)
    rows = parse_buddyinfo(node.buddyinfo())
    info = parse_pagetypeinfo(node.pagetypeinfo())
    assert [r.zone for r in rows] == ["DMA32", "Normal"]
    for row in rows:
        z = node.zone(row.zone)
        assert list(row.counts) == z.nr_free
        per_type = [r for r in info.free if r.zone == row.zone]
        assert [sum(r.counts[k] for r in per_type) for k in range(11)] == z.nr_free
        for r in per_type:
            assert list(r.counts) == [len(z.free_list(k, r.migratetype)) for k in range(11)]


def test_clock_counts_integer_nanoseconds() -> None:
    node = one_block_zone()
    for _ in range(1000):
        node.advance(0.001)
    assert node.clock_ns == 1_000_000_000
    assert node.clock == 1.0
    with pytest.raises(ValueError):
        node.advance(-1)


def test_page_inspection() -> None:
    node = one_block_zone()
    node.alloc(0)
    info = node.page(0)
    assert (info.state, info.block_pfn, info.block_order, info.migratetype) == (
        "allocated",
        0,
        0,
        "Movable",
    )
    info = node.page(700)
    assert (info.state, info.block_pfn, info.block_order, info.list_migratetype) == (
        "free",
        512,
        9,
        "Movable",
    )


def test_cma_off_lists_five_migratetypes() -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 1024)], cma=False)
    assert node.migratetypes == ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate")
    assert "CMA" not in node.pagetypeinfo()
