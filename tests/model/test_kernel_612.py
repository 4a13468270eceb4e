"""The 6.12 rule set, checked against Linux 6.12's own source (issue 13 §1).

Each test names the file and function of Linux 6.12 (v6.12, "Baby Opossum Posse") it
follows; where the rule differs from 5.10 the test runs both and shows the difference.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator_model import Node, ZoneSpec
from allocator_model.kernel.config import kernel_rules
from allocator_model.kernel.errors import InvariantViolation
from allocator_model.kernel.pcp import zone_batchsize, zone_highsize

DATA = Path(__file__).parent / "data"


def _delta(after: list[int], before: list[int]) -> list[int]:
    return [a - b for a, b in zip(after, before, strict=True)]


def _one_zone(kernel: str, pages: int = 1024, **options: object) -> Node:
    return Node(zones=[ZoneSpec("N", 0, pages)], kernel=kernel, min_free_kbytes=0, **options)  # type: ignore[arg-type]


# --- per-cpu lists: mm/page_alloc.c pcp_allowed_order, order_to_pindex, nr_pcp_alloc -------


def test_pcp_lists_hold_orders_up_to_costly_and_the_thp_order() -> None:
    """6.12 mm/page_alloc.c free_unref_page: pcp_allowed_order() is true for orders
    <= PAGE_ALLOC_COSTLY_ORDER (3) and HPAGE_PMD_ORDER (9 on x86-64); other orders go to
    __free_pages_ok.  order_to_pindex(): one list per migratetype for each order up to
    3, then one THP list for Movable and one for the rest."""
    node = Node(kernel="6.12")
    pcp = node.pcps["Normal"]
    assert len(pcp.lists) == 3 * 4 + 2  # NR_LOWORDER_PCP_LISTS + NR_PCP_THP
    assert pcp.order_to_pindex(1, 9) == 13 and pcp.order_to_pindex(0, 9) == 12
    assert pcp.order_to_pindex(2, 9) == 12  # Reclaimable shares the non-movable THP list
    freed = {}
    for order in range(11):
        pfn = freed[order] = node.alloc(order)
        node.free(pfn, order)
        assert (node.page(pfn).state == "pcp") == (order <= 3 or order == 9), order
    inside = node.page(freed[9] + 5)  # a page inside the parked order-9 block
    assert (inside.state, inside.block_pfn, inside.block_order) == ("pcp", freed[9], 9)
    # 5.10 parks order 0 only.
    old = Node(kernel="5.10")
    pfn = old.alloc(1)
    old.free(pfn, 1)
    assert old.page(pfn).state == "free"


def test_refill_sizes_follow_nr_pcp_alloc() -> None:
    """6.12 mm/page_alloc.c nr_pcp_alloc: an order-0 refill takes batch << alloc_factor
    pages (63, then 126: alloc_factor grows by one per refill without a free between),
    and a high-order refill max(batch >> order, 2) blocks: 7 of order 3, 2 of order 9.
    Each refill first raises pcp->high by the batch (high_min != high_max)."""
    node = Node(kernel="6.12")
    z, pcp = node.zone("Normal"), node.pcps["Normal"]
    assert (pcp.batch, pcp.high_min, pcp.high_max) == (63, z.watermarks.low, 262144 // 8)
    before = z.nr_free
    node.alloc(0)
    assert _delta(z.nr_free, before) == [1, 0, 0, 0, 0, 0, 1, 1, 1, 1, -1]
    assert (pcp.count, pcp.alloc_factor, pcp.high) == (62, 1, pcp.high_min + 63)
    for _ in range(62):
        node.alloc(0)
    node.alloc(0)
    assert (pcp.count, pcp.alloc_factor) == (125, 2)  # 126 taken, one handed out
    node.alloc(3)
    assert len(pcp.lists[pcp.order_to_pindex(1, 3)]) == 7 - 1
    before = z.nr_free
    node.alloc(9)
    assert _delta(z.nr_free, before) == [0] * 10 + [-1]  # one order-10 block, both halves
    assert len(pcp.lists[pcp.order_to_pindex(1, 9)]) == 1


@pytest.mark.parametrize("name", ["zoneinfo.txt", "vm618/zoneinfo"])
def test_batch_and_high_limits_reproduce_this_vms_zoneinfo(name: str) -> None:
    """6.12 mm/page_alloc.c zone_set_pageset_high_and_batch: batch = zone_batchsize,
    high_min = zone_highsize(low watermark), high_max = zone_highsize(managed /
    MIN_PERCPU_PAGELIST_HIGH_FRACTION), each split over the node's CPUs and at least
    4 * batch.  Reproduces every pageset of this 2-CPU VM's /proc/zoneinfo."""
    zone: dict[str, int] = {}
    checked = 0
    for line in (DATA / name).read_text().splitlines():
        words = line.split()
        if line.startswith("Node "):
            zone = {}
        elif len(words) == 2 and words[0] in ("low", "managed"):
            zone[words[0]] = int(words[1])
        elif words and words[0] in ("batch:", "high_min:", "high_max:"):
            zone[words[0][:-1]] = int(words[1])
            if words[0] == "high_max:" and zone["managed"]:
                batch = max(1, zone_batchsize(zone["managed"]))
                assert zone["batch"] == batch
                assert zone["high_min"] == zone_highsize(zone["low"], batch, 2)
                assert zone["high_max"] == zone_highsize(zone["managed"] // 8, batch, 2)
                checked += 1
    assert checked >= 6  # DMA, DMA32, Normal on both CPUs


def test_node_pcp_limits_split_over_its_cpus() -> None:
    """zone_highsize: the same limits divided by the CPUs of the node."""
    one, two = Node(kernel="6.12"), Node(kernel="6.12", cpus=2)
    for z in one.zones:
        a, b = one.pcps[z.name], two.pcp_sets[1][z.name]
        assert b.high_min == max(a.high_min // 2, 4 * a.batch)
        assert b.high_max == max(z.managed_pages // 8 // 2, 4 * a.batch)


def test_high_tunes_itself_and_drains_follow_nr_pcp_free() -> None:
    """6.12 mm/page_alloc.c nr_pcp_alloc raises pcp->high by each refill's batch (up to
    high_max) while the zone is above its high watermark; free_unref_page_commit ->
    nr_pcp_high lets the lists grow to that high; then nr_pcp_free drains
    clamp(free_count, batch, high - batch) pages, and free_count saturates at
    batch << CONFIG_PCP_BATCH_SCALE_MAX (3 << 5 = 96)."""
    node = _one_zone("6.12", 1 << 14, pcp=True)
    pcp = node.pcps["N"]
    # low watermark 16 (min_free_kbytes 0: managed * watermark_scale_factor / 10000)
    assert (pcp.batch, pcp.high_min, pcp.high_max) == (3, 16, 2048)
    pfns = [node.alloc(0) for _ in range(3000)]
    assert (pcp.high, pcp.alloc_factor) == (2048, 5)  # refills of 3, 6, ..., 96 pages
    node.take_events()
    for pfn in pfns:
        node.free(pfn, 0)
    drains = [e.to_dict() for e in node.take_events() if e.kind == "pcp_drain"]
    assert len(drains) == 11 and {d["count"] for d in drains} == {96}
    assert pcp.count < pcp.high == 2048 and pcp.free_count == 96
    node.check()


def test_consecutive_high_order_frees_drain_harder() -> None:
    """6.12 free_unref_page_commit: a high-order free (1..3) that follows another while
    free_count >= batch and the lists hold a batch is ``free_high``: nr_pcp_high
    returns 0 and nr_pcp_free drains up to batch << CONFIG_PCP_BATCH_SCALE_MAX."""
    node = _one_zone("6.12", 1 << 14, pcp=True)
    pfns = [node.alloc(2) for _ in range(12)]
    node.take_events()
    for pfn in pfns:
        node.free(pfn, 2)
    reasons = [e.to_dict()["reason"] for e in node.take_events() if e.kind == "pcp_drain"]
    assert "consecutive high-order frees (free_high)" in reasons
    node.check()


def test_cpus_keep_their_own_lists() -> None:
    """mm/page_alloc.c free_unref_page / rmqueue_pcplist use this CPU's pageset: a page
    freed on CPU 1 waits on CPU 1's list; CPU 0's next allocation does not see it."""
    node = Node(kernel="6.12", cpus=2)
    base = node.zone("Normal").start_pfn
    pfn = node.alloc(0, cpu=0)
    node.free(pfn, 0, cpu=1)
    assert pfn - base in node.pcp_sets[1]["Normal"].lists[1]
    assert node.alloc(0, cpu=0) != pfn
    assert node.alloc(0, cpu=1) == pfn
    with pytest.raises(ValueError, match=r"cpu must be an integer 0\.\.1"):
        node.alloc(0, cpu=2)
    # Calls that name no CPU take the CPUs in turn.
    a = node.alloc(0)
    node.free(a, 0)  # the next call runs on the other CPU
    assert a - base in node.pcp_sets[1 - node._cpu_next]["Normal"].lists[1]
    events = [e.to_dict() for e in node.take_events() if e.kind == "pcp_add"]
    assert events[-1]["cpu"] in (0, 1) and events[-1]["order"] == 0


def test_5x_pcp_events_keep_their_fields() -> None:
    """The order and CPU of a pcp event exist on 6.12 and with cpus > 1; a one-CPU 5.x
    node's pcp events are exactly as before (the pinned event streams stay valid)."""
    node = Node(kernel="5.10")
    node.alloc(0)
    refill = next(e.to_dict() for e in node.take_events() if e.kind == "pcp_refill")
    assert "order" not in refill and "cpu" not in refill


# --- free lists match their pageblock (6.10, Johannes Weiner) ------------------------------


def _unmovable_pageblock_with_little_free(kernel: str) -> Node:
    """Pageblock 0 Unmovable with 127 free pages (orders 6..0), pageblock 1 allocated."""
    node = _one_zone(kernel)
    node.alloc(0, "Unmovable")  # the order-10 block is claimed for Unmovable
    node.alloc(9, "Unmovable")
    node.alloc(8, "Unmovable")
    node.alloc(7, "Unmovable")
    node.take_events()
    return node


def test_a_fallback_that_cannot_claim_moves_nothing() -> None:
    """6.12 mm/page_alloc.c steal_suitable_fallback: when fewer than half of the
    pageblock's pages are free or compatible, the fallback takes one block
    (page_del_and_expand with the block's own type) and every other free block stays on
    the Unmovable lists.  5.10 had already moved them all to Movable
    (move_freepages_block) and left the pageblock Unmovable: lists and pageblock
    disagreed."""

    def pages(node: Node, mt: str) -> int:
        return sum(len(node.zone("N").free_list(o, mt)) << o for o in range(11))

    new = _unmovable_pageblock_with_little_free("6.12")
    pfn = new.alloc(0, "Movable")
    assert new.page(pfn).migratetype == "Unmovable"
    assert (pages(new, "Unmovable"), pages(new, "Movable")) == (126, 0)
    new.check()

    old = _unmovable_pageblock_with_little_free("5.10")
    old.alloc(0, "Movable")
    zo = old.zone("N")
    assert zo.pageblock_mt[0] == zo.mts.index("Unmovable")
    assert (pages(old, "Unmovable"), pages(old, "Movable")) == (0, 126)  # moved, not claimed


def test_a_fallback_that_claims_retypes_and_takes_the_smallest() -> None:
    """6.12 steal_suitable_fallback: at least half free -> __move_freepages_block moves
    every free block of the pageblock to the tail of the new type's lists, retypes it,
    and __rmqueue_smallest takes the request from the new type's lists."""
    node = _one_zone("6.12")
    node.alloc(0, "Unmovable")  # pageblock 0: 511 free pages, Unmovable
    node.alloc(9, "Unmovable")  # pageblock 1 taken
    node.take_events()
    pfn = node.alloc(5, "Movable")
    kinds = [e.kind for e in node.take_events()]
    assert kinds.count("list_move") == 9 and "pageblock_retype" in kinds  # orders 8..0
    assert node.page(pfn).migratetype == "Movable"
    assert not any(node.zone("N").free_list(o, "Unmovable") for o in range(11))
    node.check()


def test_merging_across_pageblocks_retypes_the_buddy() -> None:
    """6.12 mm/page_alloc.c __free_one_page: from pageblock_order up, a buddy of another
    mergeable type merges and its pageblock takes the freed block's type ("mm:
    page_alloc: fix up block types when merging compatible blocks", e6cf9e1c4cde).
    5.10 merged and left the two pageblocks of different types under one free block."""
    for kernel, want in (("6.12", ["Movable", "Movable"]), ("5.10", ["Unmovable", "Movable"])):
        node = _one_zone(kernel)
        a = node.alloc(9, "Unmovable")  # claims both pageblocks (order 10), takes the first
        b = node.alloc(9, "Movable")  # claims the second back
        node.free(a, 9)
        node.free(b, 9)
        z = node.zone("N")
        assert [z.mt_name(t) for t in z.pageblock_mt] == want, kernel
        assert z.nr_free == [0] * 10 + [1]


def test_merging_stops_at_highatomic_and_cma_pageblocks() -> None:
    """6.12 __free_one_page (5.18 "mm: page_alloc: avoid merging non-fallbackable
    pageblocks with others", 1dd214b8f21c): migratetype_is_mergeable() is false for
    HighAtomic, CMA and Isolate, so such a pageblock never merges with another type;
    5.10 refused only Isolate."""
    for kernel, merged in (("6.12", False), ("5.10", True)):
        node = _one_zone(kernel)
        a, b = node.alloc(9), node.alloc(9)
        z = node.zone("N")
        z.set_pageblock_migratetype(b, z.mts.index("HighAtomic"), "a test's reserve")
        node.free(a, 9)
        node.free(b, 9)
        assert (z.nr_free[10] == 1) == merged, kernel


def test_isolating_half_a_pageblock_moves_its_rest() -> None:
    """6.12 mm/page_alloc.c __isolate_free_page: a block of at least half a pageblock
    retypes its pageblock Movable with move_freepages_block, so the pageblock's other
    free blocks follow to the Movable lists; 5.10 only set the pageblock type."""
    for kernel, moved in (("6.12", True), ("5.10", False)):
        node = _one_zone(kernel)
        node.alloc(0, "Unmovable")  # pageblock 0: free blocks of orders 0..8, Unmovable
        z = node.zone("N")
        assert z.isolate_free_page(256, 8, "a test isolates it")
        assert z.mt_name(z.pageblock_mt[0]) == "Movable"
        assert bool(z.free_list(7, "Movable")) == moved, kernel


def test_blocks_larger_than_a_pageblock_are_freed_pageblock_by_pageblock() -> None:
    """6.12 mm/page_alloc.c free_one_page -> split_large_buddy: an order-10 free is two
    order-9 __free_one_page calls (each with its pageblock's type) that merge again;
    boot memory (__free_pages_core -> __free_pages_ok) goes the same way."""
    node = _one_zone("6.12")
    pfn = node.alloc(10)
    node.take_events()
    node.free(pfn, 10)
    merges = [e.to_dict() for e in node.take_events() if e.kind == "merge"]
    assert [(m["pfn"], m["buddy"], m["order"]) for m in merges] == [(512, 0, 9)]
    node.check()


def test_nofragment_floor_only_below_a_pageblock() -> None:
    """6.12 mm/page_alloc.c __rmqueue_fallback: ALLOC_NOFRAGMENT raises the search floor
    to pageblock_order only for requests below it.  Asked for an order-10 Unmovable block
    on a Normal zone with only order-9 Movable blocks, 6.12's __rmqueue fails without
    touching a pageblock; 5.10's re-types the order-9 blocks' pageblocks on the way to
    failing.  (Through the allocator neither gets there: __zone_watermark_ok finds no
    block of order >= 10 first; test_kernel_fidelity.py.)"""
    for kernel, retyped in (("6.12", False), ("5.10", True)):
        node = Node(zones=[ZoneSpec("Normal", 0, 4096)], kernel=kernel, min_free_kbytes=0)
        blocks = [node.alloc(9) for _ in range(8)]
        for pfn in blocks[::2]:
            node.free(pfn, 9)
        z = node.zone("Normal")
        assert z.rmqueue(10, z.mts.index("Unmovable"), True) == -1
        assert (z.mts.index("Unmovable") in z.pageblock_mt) == retyped, kernel


def test_pcp_drain_uses_the_pageblock_type_of_now() -> None:
    """6.12 free_pcppages_bulk reads get_pfnblock_migratetype() at drain time ("mm:
    page_alloc: remove pcppage migratetype caching"): a page parked while its pageblock
    was Movable returns to the Unmovable lists if the pageblock changed meanwhile."""
    node = _one_zone("6.12", pcp=True)
    pfn = node.alloc(0)
    node.free(pfn, 0)
    z = node.zone("N")
    z.set_pageblock_migratetype(pfn - z.start_pfn, z.mts.index("Unmovable"), "a test")
    node.drain_pcp()
    assert node.page(pfn).list_migratetype is not None
    head = node.page(pfn).block_pfn
    assert z.free_mt[head - z.start_pfn] == z.mts.index("Unmovable")


# --- free page reporting (mm/page_reporting.c) --------------------------------------------


def test_page_reporting_order_is_a_parameter() -> None:
    """6.12 mm/page_reporting.c: page_reporting_order is a module parameter (5.14+),
    -1 until page_reporting_register() sets it to pageblock_order when the driver names
    no order (virtio-balloon on x86-64 does not); page_reporting_notify_free() and the
    pass start at that order.  Everything else in the file is as in 5.10."""
    node = _one_zone("6.12", 1 << 14, hinting="reporting", hinting_options={"order": 5})
    assert node.hinting_state()["order"] == 5
    pfn = node.alloc(5)
    node.free(pfn, 5)
    node.advance(10)
    assert node.page(pfn).reported
    default = _one_zone("6.12", 1 << 14, hinting="reporting")
    assert default.hinting_state()["order"] == 9


def test_rules_table() -> None:
    """KernelRules: 6.12 keeps every 5.10 placement rule and adds the 6.x ones."""
    old, new = kernel_rules("5.10"), kernel_rules("6.12")
    assert (new.boot_free_to_tail, new.putback_to_tail, new.move_to_tail) == (True, True, True)
    assert new.has_reporting and new.min_free_kbytes_max == old.min_free_kbytes_max
    assert new.high_order_pcp and new.freelist_hygiene and new.merge_only_mergeable
    assert not (old.high_order_pcp or old.freelist_hygiene or old.merge_only_mergeable)


def test_a_zone_reaches_its_per_cpu_lists_as_the_node_does_after_a_copy() -> None:
    """include/linux/mmzone.h struct zone: ``per_cpu_pageset`` (the hot paths take a
    CPU's lists through the zone, as ``this_cpu_ptr(zone->per_cpu_pageset)`` does).
    The zone's and the node's view are one object, also in a pickled or copied node
    (server checkpoints, forks), and ``check()`` fails when they part."""
    import copy
    import pickle

    node = Node(kernel="6.12", cpus=2)
    for order in (0, 1, 9, 0):
        node.alloc(order)
    for twin in (pickle.loads(pickle.dumps(node)), copy.deepcopy(node)):
        normal = twin.zone("Normal")
        assert all(a is b for a, b in zip(
            normal.per_cpu_pageset, (pcps["Normal"] for pcps in twin.pcp_sets), strict=True
        ))  # fmt: skip
        twin.free(twin.alloc(0, cpu=1), cpu=1)
        twin.check()
    broken = copy.deepcopy(node)
    normal = broken.zone("Normal")
    normal.per_cpu_pageset = (copy.copy(normal.per_cpu_pageset[0]), normal.per_cpu_pageset[1])
    with pytest.raises(InvariantViolation, match="per_cpu_pageset"):
        broken.check()
