"""``Node.check()``: the rules of spec §5 as executable checks.

Numbers in ``InvariantViolation.rule`` are the spec's invariant numbers, so a failing
test names the kernel rule that broke.  The checks walk every list and every page:
they are meant for tests and debug runs, not for the hot path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import perpage
from .config import MIGRATE_PCPTYPES
from .errors import InvariantViolation
from .pagestate import PS_ALLOCATED, PS_FLAGGED, PS_FREE, PS_ISOLATED, PS_PCP

if TYPE_CHECKING:
    from .node import Node
    from .zone import Zone


def _fail(rule: str, zone: Zone, message: str) -> InvariantViolation:
    return InvariantViolation(rule, f"zone {zone.name}: {message}")


def check_node(node: Node) -> None:
    for zone in node.zones:
        _check_zone(node, zone)
    node.strategy.check(node)


def _claim(zone: Zone, seen: bytearray, i: int, order: int, what: str) -> None:
    n = 1 << order
    if i < 0 or i + n > zone.spanned_pages:
        raise _fail(
            "3", zone, f"{what} at pfn {zone.start_pfn + i} (order {order}) runs outside the zone"
        )
    if any(seen[i : i + n]):
        raise _fail(
            "3", zone, f"{what} at pfn {zone.start_pfn + i} (order {order}) overlaps another block"
        )
    seen[i : i + n] = b"\x01" * n


def _check_zone(node: Node, zone: Zone) -> None:
    base, n = zone.start_pfn, zone.spanned_pages
    lists = zone.lists
    nxt, prv = lists.next, lists.prev
    seen = bytearray(n)
    counted_free = 0
    nonisolate_free = 0
    heads = 0
    flagged = [0] * len(zone.flagged_counts)
    hygiene = zone.rules.freelist_hygiene
    for order in range(zone.max_order):
        blocks = 0
        for mt in range(zone.nr_mt):
            s = lists.sentinel(order, mt)
            prev = s
            i: int = nxt[s]
            steps = 0
            while i != s:
                steps += 1
                if steps > n or i >= n:
                    raise _fail("4", zone, f"order-{order} {zone.mt_name(mt)} list is corrupt")
                if prv[i] != prev:
                    raise _fail("4", zone, f"broken prev link at pfn {base + i}")
                pfn = base + i
                if pfn & ((1 << order) - 1):
                    raise _fail("1", zone, f"free order-{order} block at pfn {pfn} is misaligned")
                if zone.buddy_order[i] != order + 1:
                    raise _fail(
                        "2",
                        zone,
                        f"pfn {pfn} on the order-{order} list has order {zone.buddy_order[i] - 1}",
                    )
                if zone.free_mt[i] != mt:
                    raise _fail(
                        "4",
                        zone,
                        f"pfn {pfn} is on the {zone.mt_name(mt)} list but "
                        f"records {zone.mt_name(zone.free_mt[i])}",
                    )
                if hygiene:
                    _check_pageblock_types(zone, i, order, mt)
                _claim(zone, seen, i, order, "free block")
                want = PS_FLAGGED if zone.flags[i] else PS_FREE
                if zone.page_state.count(want, i, i + (1 << order)) != 1 << order:
                    raise _fail(
                        "3", zone, f"pages of the free block at pfn {pfn} are not all shown as free"
                    )
                _check_not_buddies(zone, i, order)
                if zone.flags[i]:
                    flagged[order * zone.nr_mt + mt] += 1
                blocks += 1
                counted_free += 1 << order
                if mt != zone.mt_isolate:
                    nonisolate_free += 1 << order
                prev, i = i, nxt[i]
        if blocks != zone.nr_free[order]:
            raise _fail(
                "4", zone, f"nr_free[{order}] = {zone.nr_free[order]} but the lists hold {blocks}"
            )
        heads += blocks
    if n - perpage.per_page_bytes(zone.buddy_order).count(0) != heads:
        raise _fail("4", zone, "a page is marked PageBuddy but is on no free list")
    if flagged != zone.flagged_counts:
        k = next(k for k, c in enumerate(flagged) if c != zone.flagged_counts[k])
        order, mt = divmod(k, zone.nr_mt)
        raise _fail(
            "14",
            zone,
            f"the order-{order} {zone.mt_name(mt)} list holds {flagged[k]} flagged blocks but "
            f"flagged_count says {zone.flagged_counts[k]}",
        )

    pcp_pages = 0
    for cpu, pcps in enumerate(node.pcp_sets):
        pcp = pcps.get(zone.name)
        if pcp is None:
            continue
        if zone.per_cpu_pageset[cpu] is not pcp:
            raise _fail("5", zone, f"zone.per_cpu_pageset[{cpu}] is not CPU {cpu}'s pcp")
        on_lists = 0
        for pindex, lst in enumerate(pcp.lists):
            order = pcp.pindex_to_order(pindex) if node.rules.high_order_pcp else 0
            for i in lst:
                _claim(zone, seen, i, order, "per-cpu block")
                if zone.page_state.count(PS_PCP, i, i + (1 << order)) != 1 << order:
                    raise _fail("3", zone, f"per-cpu block {base + i} is not shown as per-cpu")
                on_lists += 1 << order
        if on_lists != pcp.count:
            raise _fail(
                "5", zone, f"CPU {cpu}'s pcp count {pcp.count} but its lists hold {on_lists}"
            )
        pcp_pages += on_lists

    flight = 0
    for i, order in node.strategy.in_flight(zone):
        _claim(zone, seen, i, order, "isolated block")
        if zone.page_state.count(PS_ISOLATED, i, i + (1 << order)) != 1 << order:
            raise _fail("3", zone, f"isolated block at pfn {base + i} is not shown as isolated")
        flight += 1 << order

    allocated = 0
    ao = zone.alloc_order
    for j in perpage.heads(ao, 0, zone.spanned_pages):
        order = ao[j] - 1
        _claim(zone, seen, j, order, "allocated block")
        if zone.page_state.count(PS_ALLOCATED, j, j + (1 << order)) != 1 << order:
            raise _fail("3", zone, f"allocated block at pfn {base + j} is not shown as allocated")
        allocated += 1 << order

    if counted_free + pcp_pages + flight + allocated != zone.managed_pages:
        raise _fail(
            "5",
            zone,
            f"free {counted_free} + per-cpu {pcp_pages} + in flight {flight} + allocated "
            f"{allocated} != managed {zone.managed_pages}",
        )
    if nonisolate_free != zone.nr_free_pages:
        raise _fail(
            "12",
            zone,
            f"NR_FREE_PAGES is {zone.nr_free_pages} but the non-Isolate "
            f"lists hold {nonisolate_free} pages",
        )
    if zone.nr_isolate_pageblock != zone.pageblock_mt.count(zone.mt_isolate):
        raise _fail("11", zone, "the isolated-pageblock count is stale")


def _check_pageblock_types(zone: Zone, i: int, order: int, mt: int) -> None:
    """6.10+ (freelist_hygiene): a free block is on the list of its pageblocks' type."""
    pbo = zone.pageblock_order
    for k in range(1 << max(order - pbo, 0)):
        block_mt = zone.get_pageblock_migratetype(i + (k << pbo))
        if block_mt != mt:
            raise _fail(
                "4",
                zone,
                f"free order-{order} block at pfn {zone.start_pfn + i} is on the "
                f"{zone.mt_name(mt)} list but its pageblock is {zone.mt_name(block_mt)} "
                "(6.10+ keeps them equal)",
            )


def _check_not_buddies(zone: Zone, i: int, order: int) -> None:
    """Rule 7: no two free blocks of equal order below the top are buddies."""
    if order >= zone.max_order - 1:
        return
    pfn = zone.start_pfn + i
    buddy = pfn ^ (1 << order)
    bi = buddy - zone.start_pfn
    if not 0 <= bi < zone.spanned_pages or zone.buddy_order[bi] != order + 1:
        return
    if order >= zone.pageblock_order:
        a = zone.get_pageblock_migratetype(i)
        b = zone.get_pageblock_migratetype(bi)
        iso = zone.mt_isolate
        if a != b and (a == iso or b == iso):
            return  # merging is legitimately blocked next to an isolated pageblock
        if a != b and zone.rules.merge_only_mergeable and max(a, b) >= MIGRATE_PCPTYPES:
            return  # 5.18+: HighAtomic and CMA pageblocks keep to themselves too
    raise _fail(
        "7",
        zone,
        f"free order-{order} blocks at pfn {pfn} and {buddy} are buddies but did not merge",
    )
