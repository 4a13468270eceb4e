"""Per-cpu page lists (``struct per_cpu_pages``, 5.x): order-0 only, one CPU.

Order-0 frees park at the head of a per-cpu list instead of reaching the buddy lists;
when the lists hold ``high`` pages, ``free_pcppages_bulk`` returns ``batch`` of them.
An empty list is refilled with ``batch`` pages by ``rmqueue_bulk``.  Pages on these
lists are not on any free list, not in ``nr_free`` or NR_FREE_PAGES, cannot merge and
are never hinted or reported until drained (spec §1.7, a [mem]/[inf] area: see
``PCP_LIST_ORDER`` and ``PCP_NOT_REPORTED`` in assumptions.py).
"""

from __future__ import annotations

from collections import deque

from .config import MIGRATE_PCPTYPES, PAGE_SIZE

# zone_batchsize() (5.3, 5.7, 5.10 mm/page_alloc.c): "But no more than a meg."
PCP_BATCH_MAX_BYTES = 1024 * 1024
# pageset_set_batch(): high = 6 * batch
PCP_HIGH_PER_BATCH = 6


def zone_batchsize(managed_pages: int) -> int:
    """``zone_batchsize`` (5.x): a quarter of 1/1024 of the zone, at most 1 MiB, as 2**n - 1.

    A zone of 1 GiB or more gets 63 (high 378); a zone under 4096 pages gets 0
    (``high`` is then 0 and every free drains at once).  Pass ``pcp_batch``/``pcp_high``
    to ``Node`` to teach with a small zone.
    """
    batch = managed_pages // 1024
    batch = min(batch, PCP_BATCH_MAX_BYTES // PAGE_SIZE)
    batch = max(batch // 4, 1)
    x = batch + batch // 2
    return (1 << (x.bit_length() - 1)) - 1  # rounddown_pow_of_two(x) - 1


class PerCpuPages:
    """One CPU's ``pcp`` of one zone: three lists (Unmovable, Movable, Reclaimable)."""

    __slots__ = ("batch", "count", "high", "lists")

    def __init__(
        self, managed_pages: int, batch: int | None = None, high: int | None = None
    ) -> None:
        raw = zone_batchsize(managed_pages) if batch is None else batch
        self.batch = max(raw, 1)  # pageset_set_batch(): high = 6 * batch, batch >= 1
        self.high = PCP_HIGH_PER_BATCH * raw if high is None else high
        self.count = 0
        self.lists: tuple[deque[int], ...] = tuple(deque() for _ in range(MIGRATE_PCPTYPES))
