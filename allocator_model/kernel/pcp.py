"""Per-cpu page lists (``struct per_cpu_pages``), one set per CPU and zone.

5.x: order-0 only.  A free parks at the head of its migratetype's list; when the
lists hold ``high`` pages, ``free_pcppages_bulk`` returns ``batch`` of them; an empty
list is refilled with ``batch`` pages by ``rmqueue_bulk``.

6.12 (``high_order_pcp``): one list per migratetype for each order up to
``PAGE_ALLOC_COSTLY_ORDER`` plus two for the THP order (``order_to_pindex``), counted
in pages.  ``high`` tunes itself between ``high_min`` and ``high_max`` (6.7,
``nr_pcp_high``), a refill grows with consecutive allocations (``alloc_factor``,
``nr_pcp_alloc``) and a drain with consecutive frees (``free_count``, ``nr_pcp_free``).

Pages on these lists are not on any free list, not in ``nr_free`` or NR_FREE_PAGES,
cannot merge and are never hinted or reported until drained (spec §1.7, a [mem]/[inf]
area: see ``PCP_LIST_ORDER`` and ``PCP_NOT_REPORTED`` in assumptions.py).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Final, Self

from .assumptions import PCP_FREE_HIGH_BATCH
from .config import MIGRATE_MOVABLE, MIGRATE_PCPTYPES, PAGE_ALLOC_COSTLY_ORDER, PAGE_SIZE

# zone_batchsize() (5.3 - 6.12 mm/page_alloc.c): "But no more than a meg."
PCP_BATCH_MAX_BYTES: Final = 1024 * 1024
# pageset_set_batch() (5.x): high = 6 * batch
PCP_HIGH_PER_BATCH: Final = 6
# CONFIG_PCP_BATCH_SCALE_MAX (6.7+ mm/Kconfig, default 5): how far alloc_factor and
# free_count may scale a batch.
PCP_BATCH_SCALE_MAX: Final = 5
# MIN_PERCPU_PAGELIST_HIGH_FRACTION (6.12 mm/page_alloc.c): high_max is this fraction
# of the zone's managed pages, split over its CPUs.
MIN_PERCPU_PAGELIST_HIGH_FRACTION: Final = 8
# pcp->flags (6.12 include/linux/mmzone.h)
PCPF_PREV_FREE_HIGH_ORDER: Final = 1
PCPF_FREE_HIGH_BATCH: Final = 2
# NR_LOWORDER_PCP_LISTS and NR_PCP_THP (6.12 include/linux/mmzone.h)
NR_LOWORDER_PCP_LISTS: Final = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1)
NR_PCP_THP: Final = 2


def zone_batchsize(managed_pages: int) -> int:
    """``zone_batchsize``: a quarter of 1/1024 of the zone, at most 1 MiB, as 2**n - 1.

    A zone of 1 GiB or more gets 63; a zone under 4096 pages gets 0 (5.x: ``high`` is
    then 0 and every free drains at once; 6.12 uses ``max(1, batch)``).  Pass
    ``pcp_batch``/``pcp_high`` to ``Node`` to teach with a small zone.
    """
    batch = managed_pages // 1024
    batch = min(batch, PCP_BATCH_MAX_BYTES // PAGE_SIZE)
    batch = max(batch // 4, 1)
    x = batch + batch // 2
    return (1 << (x.bit_length() - 1)) - 1  # rounddown_pow_of_two(x) - 1


def zone_highsize(total_pages: int, batch: int, cpus: int) -> int:
    """``zone_highsize`` (6.12): ``total_pages`` split over the node's CPUs, at least
    4 * batch.  ``total_pages`` is the low watermark for ``high_min`` and managed / 8
    for ``high_max``."""
    return max(total_pages // cpus, batch << 2)


def thp_pcp_order(pageblock_order: int, max_order: int) -> int:
    """The order of the THP lists (HPAGE_PMD_ORDER, which is pageblock_order on
    x86-64), or -1 when it has no lists of its own (a costly-or-smaller pageblock
    order, or none below the top order)."""
    if PAGE_ALLOC_COSTLY_ORDER < pageblock_order < max_order:
        return pageblock_order
    return -1


class PerCpuPages:
    """One CPU's ``pcp`` of one zone.

    5.x: three lists (Unmovable, Movable, Reclaimable), ``high`` fixed.  6.12: the
    lists of ``order_to_pindex`` and ``high`` between ``high_min`` and ``high_max``
    (equal when the user fixes it, as ``percpu_pagelist_high_fraction`` does).
    """

    __slots__ = (
        "alloc_factor",
        "batch",
        "count",
        "flags",
        "free_count",
        "high",
        "high_max",
        "high_min",
        "lists",
        "thp_order",
    )

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:  # see Node.__new__ (make compiled)
        return super().__new__(cls)

    def __init__(
        self,
        managed_pages: int,
        batch: int | None = None,
        high: int | None = None,
        *,
        high_order: bool = False,
        low_wmark: int = 0,
        cpus: int = 1,
        thp_order: int = -1,
    ) -> None:
        raw = zone_batchsize(managed_pages) if batch is None else batch
        self.batch = max(raw, 1)  # pageset_set_batch(): batch >= 1
        self.count = 0  # pages (5.x: order-0 pages; 6.12: 1 << order per entry)
        self.free_count = 0
        self.alloc_factor = 0
        self.thp_order = thp_order if high_order else -1
        self.flags = PCPF_FREE_HIGH_BATCH if high_order and PCP_FREE_HIGH_BATCH else 0
        if not high_order:
            self.high = PCP_HIGH_PER_BATCH * raw if high is None else high
            self.high_min = self.high_max = self.high
            self.lists: tuple[deque[int], ...] = tuple(deque() for _ in range(MIGRATE_PCPTYPES))
            return
        if high is None:
            # zone_set_pageset_high_and_batch(): auto-tuning between the two limits
            self.high_min = zone_highsize(low_wmark, self.batch, cpus)
            self.high_max = zone_highsize(
                managed_pages // MIN_PERCPU_PAGELIST_HIGH_FRACTION, self.batch, cpus
            )
        else:
            self.high_min = self.high_max = high  # a fixed high turns auto-tuning off
        # per_cpu_pages_init() zeroes pcp->high; it is clamped to high_min on first use.
        self.high = 0
        nlists = NR_LOWORDER_PCP_LISTS + (NR_PCP_THP if self.thp_order >= 0 else 0)
        self.lists = tuple(deque() for _ in range(nlists))

    def list_keys(self) -> list[tuple[int, tuple[int, ...]]]:
        """(order, migratetypes it serves) of each list, in list order: 5.x one order-0
        list per type; 6.12 by ``order_to_pindex``, the THP order's first list shared
        by Unmovable and Reclaimable."""
        if self.thp_order < 0 and len(self.lists) == MIGRATE_PCPTYPES:
            return [(0, (mt,)) for mt in range(MIGRATE_PCPTYPES)]
        keys: list[tuple[int, tuple[int, ...]]] = [
            (order, (mt,))
            for order in range(PAGE_ALLOC_COSTLY_ORDER + 1)
            for mt in range(MIGRATE_PCPTYPES)
        ]
        if self.thp_order >= 0:
            others = tuple(mt for mt in range(MIGRATE_PCPTYPES) if mt != MIGRATE_MOVABLE)
            keys += [(self.thp_order, others), (self.thp_order, (MIGRATE_MOVABLE,))]
        return keys

    # --- 6.12 mm/page_alloc.c --------------------------------------------------------

    def order_to_pindex(self, mt: int, order: int) -> int:
        """``order_to_pindex``: the list of (migratetype, order); the THP order has one
        list for Movable and one shared by the others."""
        if order > PAGE_ALLOC_COSTLY_ORDER:
            return NR_LOWORDER_PCP_LISTS + (mt == MIGRATE_MOVABLE)
        return MIGRATE_PCPTYPES * order + mt

    def pindex_to_order(self, pindex: int) -> int:
        if pindex >= NR_LOWORDER_PCP_LISTS:
            return self.thp_order
        return pindex // MIGRATE_PCPTYPES

    def clamp_high(self) -> int:
        """``pcp->high = clamp(pcp->high, high_min, high_max)``, as each user does first."""
        high = min(max(self.high, self.high_min), self.high_max)
        self.high = high
        return high

    def nr_pcp_high(self, below_high: bool, free_high: bool) -> int:
        """``nr_pcp_high``: the count at which a free drains, tuning ``high`` on the way
        (ZONE_RECLAIM_ACTIVE is never set: the model has no reclaim)."""
        high = min(max(self.high, self.high_min), self.high_max)  # clamp_high(), inline
        self.high = high
        if not high:
            return 0
        batch = self.batch
        if free_high:
            self.high = max(high - (batch << PCP_BATCH_SCALE_MAX), self.high_min)
            return 0
        if self.high_min == self.high_max:
            return high
        if below_high:
            self.high = max(high - max(self.free_count, batch), self.high_min)
            high = max(self.count, self.high_min)
        elif self.count >= high:
            need_high = self.free_count + batch  # room for a batch of frees
            if self.high < need_high:
                self.high = min(max(need_high, self.high_min), self.high_max)
        return high

    def nr_pcp_free(self, high: int, free_high: bool) -> int:
        """``nr_pcp_free``: how many pages a drain returns; more after consecutive frees."""
        batch = self.batch
        if free_high:
            return min(self.count, batch << PCP_BATCH_SCALE_MAX)
        if high < batch:
            return 1
        return min(max(self.free_count, batch), high - batch)  # clamp(free_count, ...)

    def nr_pcp_alloc(self, order: int, below_high: bool) -> int:
        """``nr_pcp_alloc``: how many blocks a refill takes; doubles with each refill
        that follows another without a free in between (``alloc_factor``)."""
        base_batch = self.batch
        high = self.clamp_high()
        if high < base_batch:
            return 1
        batch = base_batch if order else base_batch << self.alloc_factor
        if self.high_min != self.high_max and not below_high:
            high = self.high = min(high + batch, self.high_max)
        if not order:
            max_nr_alloc = max(high - self.count - base_batch, base_batch)
            if batch <= max_nr_alloc and self.alloc_factor < PCP_BATCH_SCALE_MAX:
                self.alloc_factor += 1
            batch = min(batch, max_nr_alloc)
        if batch > 1:
            batch = max(batch >> order, 2)
        return batch
