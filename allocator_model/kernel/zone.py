"""One zone: ``free_area[]``, pageblock migratetypes and the buddy algorithm.

Read this next to ``mm/page_alloc.c`` of 5.3-5.10 and 6.12: the methods carry the
kernel's names (``__free_one_page``, ``__rmqueue_smallest``, ``expand``,
``__rmqueue_fallback``, ``steal_suitable_fallback``, ``move_freepages_block``) and do
the same steps in the same order; where 6.12 differs (``KernelRules``) the method says
so.  Everything is indexed by the zone-local page index ``i = pfn - start_pfn``;
buddy arithmetic is done on absolute pfns because alignment is absolute.

Hooks for hinting/reporting strategies (see ``strategy.py``) sit where the kernel
calls into ``page_hinting``/``page_reporting``: removal of a flagged block from a
list, a move between lists, the tail insertion point, and the notify at the end of a
free.

This file is long on purpose: it is one family of kernel functions, those of
``mm/page_alloc.c`` that act on one zone's free lists, kept together and in the kernel's
order so that it reads next to the kernel file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Self

from . import events as ev
from .config import (
    MIGRATE_HIGHATOMIC,
    MIGRATE_MOVABLE,
    MIGRATE_PCPTYPES,
    MIGRATE_RECLAIMABLE,
    MIGRATE_UNMOVABLE,
    KernelRules,
    Migratetypes,
)
from .freecounts import FreeCounts
from .freelist import FreeLists
from .pagestate import FILLS, PS_FREE, PS_ISOLATED, PS_PCP
from .perpage import heads, per_page_bytes, per_page_from, zeroed
from .watermarks import WATERMARK_BOOST_FACTOR, Watermarks, boosted

if TYPE_CHECKING:
    from .pcp import PerCpuPages
    from .strategy import Strategy

_FREE_FILL: Final = FILLS[PS_FREE]


class ListPosition(NamedTuple):
    """Where a free block sits in its list (``Zone.free_list_index``)."""

    position: int  # index from the head, 0-based
    flagged_before: int  # flagged blocks in front of it
    before: int | None  # pfn just in front of it (None: it is the head)
    after: int | None  # pfn just behind it (None: it is the tail)


# What a zone pickles and copies: every slot but ``page_state_view`` (a memoryview can be
# neither) and the aliases ``next`` and ``prev`` of its free lists' links (the compiled
# build's vectors cannot be pickled; FreeLists pickles them as arrays); ``__setstate__``
# makes them again.  A constant of its own because a
# mypyc-compiled Zone (``make compiled``) has no ``__slots__`` attribute to read.
_STATE = (
    "absent",
    "alloc_mt",
    "alloc_order",
    "below_high",
    "boosted",
    "buddy_order",
    "claim_or_take",
    "end_pfn",
    "events",
    "first_pageblock",
    "flagged_counts",
    "flags",
    "free_counts",
    "free_mt",
    "index",
    "isolation_check_order",
    "lists",
    "lowmem_reserve",
    "managed_pages",
    "max_order",
    "merge_type_check_order",
    "mt_cma",
    "mt_isolate",
    "mts",
    "name",
    "notify_order",
    "nr_free_pages",
    "nr_isolate_pageblock",
    "nr_mt",
    "page_state",
    "pageblock_mt",
    "pageblock_order",
    "per_cpu_pageset",
    "rules",
    "spanned_pages",
    "start_pfn",
    "strategy",
    "tail_anchor",
    "watermark_boost",
    "watermark_boost_factor",
    "watermarks",
    "wmark_high",
    "wmark_low",
    "wmark_min",
)


# The per-page arrays whose storage is the build's (perpage.py).
_PER_PAGE: Final = ("alloc_mt", "alloc_order", "buddy_order", "flags", "free_mt")


class Zone:
    """A zone's free lists and per-page state.  Mutate it only through ``Node``."""

    # Slots, not a __dict__: CPython 3.11 reads and writes attributes of an instance
    # with more than ~30 of them through a slower path, and the hot paths use a zone's
    # attributes dozens of times per allocation.
    __slots__ = (*_STATE, "next", "page_state_view", "prev")

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:  # see Node.__new__ (make compiled)
        return super().__new__(cls)

    def __init__(
        self,
        name: str,
        start_pfn: int,
        pages: int,
        *,
        index: int,
        max_order: int,
        pageblock_order: int,
        migratetypes: Migratetypes,
        rules: KernelRules,
        events: list[ev.Event] | None,
        absent: tuple[tuple[int, int], ...] = (),
    ) -> None:
        self.name = name
        self.index = index  # position in the node, lowest zone first (zone_idx)
        self.start_pfn = start_pfn
        self.spanned_pages = pages
        # (start_pfn, pages) ranges the buddy allocator never manages: holes in the
        # memory map and memblock reservations.  Watermarks, reserves and pcp sizes
        # follow the managed pages, as zone_managed_pages() does in the kernel.
        self.absent = absent
        self.managed_pages = pages - sum(n for _, n in absent)
        self.end_pfn = start_pfn + pages
        self.max_order = max_order
        self.pageblock_order = pageblock_order
        self.mts = migratetypes
        self.rules = rules
        # 6.10+ fallbacks claim the pageblock or take one block (rules.freelist_hygiene,
        # read on every __rmqueue)
        self.claim_or_take = rules.freelist_hygiene
        self.events = events
        nmt = migratetypes.count
        self.nr_mt = nmt
        self.mt_isolate = migratetypes.isolate
        self.mt_cma = migratetypes.cma

        # Per page (zone-local index).  Head pages carry the block's data, as in the
        # kernel: buddy_order = PageBuddy + page_private (order + 1, 0 = not a free head).
        # (The storage of these five is the build's: perpage.py.)
        self.buddy_order = zeroed(pages)
        self.alloc_order = zeroed(pages)  # order + 1 at the head of an allocated block
        self.alloc_mt = zeroed(pages)  # migratetype the allocation asked for
        self.free_mt = zeroed(pages)  # list a free head is on / pcp cached type (page->index)
        self.flags = zeroed(pages)  # strategy flag (PageHinted / PG_reported), head only
        self.page_state = bytearray(pages)  # memory-map colour of every frame
        # Painting a block through a memoryview takes half the time of a bytearray
        # slice assignment; the view is rebuilt, not pickled (see __getstate__).
        self.page_state_view = memoryview(self.page_state)
        self.lists = FreeLists(pages, max_order, nmt)
        self.next = self.lists.next  # hot-path aliases of the list arrays
        self.prev = self.lists.prev
        # __free_one_page merges freely below this order; from it on, each step first
        # checks pageblock isolation (5.x: max_order = min(MAX_ORDER, pageblock_order + 1))
        # or, from 5.18, compares the two pageblocks' types once the buddy is found.
        never = 1 << 30
        if rules.merge_only_mergeable:
            self.isolation_check_order = never
            self.merge_type_check_order = pageblock_order
        else:
            self.isolation_check_order = min(max_order - 1, pageblock_order)
            self.merge_type_check_order = never
        self.free_counts = [0] * max_order  # free_area[order].nr_free, all migratetypes
        # Free blocks carrying the strategy's flag, per list (order * nr_mt + migratetype):
        # kept by flag_block/unflag_block and move_to_free_list, read in O(1).
        self.flagged_counts = [0] * (max_order * nmt)

        first_block = start_pfn >> pageblock_order
        last_block = (self.end_pfn - 1) >> pageblock_order
        self.first_pageblock = first_block
        self.pageblock_mt = bytearray([MIGRATE_MOVABLE]) * (last_block - first_block + 1)
        self.nr_isolate_pageblock = 0

        self.nr_free_pages = 0  # vmstat NR_FREE_PAGES of this zone
        self.watermarks = Watermarks(0, 0, 0)  # _watermark[], without the boost
        self.watermark_boost = 0
        self.watermark_boost_factor = WATERMARK_BOOST_FACTOR  # the node's sysctl
        self.boosted = False  # ZONE_BOOSTED_WATERMARK: kswapd is to be woken
        # ZONE_BELOW_HIGH (6.7+): an allocation found the zone below its high watermark;
        # the pcp lists then shrink their high on frees until a drain lifts it again.
        self.below_high = False
        # Hot-path copies of min/low/high_wmark_pages(): mark + boost.
        self.wmark_min = self.wmark_low = self.wmark_high = 0
        # lowmem_reserve[j]: extra free pages kept against requests preferring zone j
        self.lowmem_reserve = [0] * (index + 1)
        # zone->per_cpu_pageset: each CPU's per_cpu_pages of this zone (set by the node
        # when the per-cpu lists are on; the same objects as node.pcp_sets[cpu][name])
        self.per_cpu_pageset: tuple[PerCpuPages, ...] = ()

        # Strategy hooks; ``None``/impossible values keep the hot path free of calls.
        self.strategy: Strategy | None = None
        self.tail_anchor: Callable[[int, int], int] | None = None
        self.notify_order = 1 << 30

    def __getstate__(self) -> dict[str, Any]:
        state = {name: getattr(self, name) for name in _STATE}
        for name in _PER_PAGE:  # one byte per page on both builds (perpage.py)
            state[name] = per_page_bytes(state[name])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, per_page_from(value) if name in _PER_PAGE else value)
        self.page_state_view = memoryview(self.page_state)
        self.next = self.lists.next
        self.prev = self.lists.prev

    @property
    def nr_free(self) -> FreeCounts:
        """Blocks on the free lists of each order, all migratetypes (a copy)."""
        return FreeCounts(self.free_counts)

    def set_watermarks(self, marks: Watermarks) -> None:
        """``__setup_per_zone_wmarks`` for this zone: new marks, and no boost."""
        self.watermarks = marks
        self.set_watermark_boost(0)

    def set_watermark_boost(self, boost: int) -> None:
        self.watermark_boost = boost
        self.wmark_min = self.watermarks.min + boost
        self.wmark_low = self.watermarks.low + boost
        self.wmark_high = self.watermarks.high + boost

    def boost_watermark(self) -> None:
        """``boost_watermark``: a fallback stole from a pageblock of another type, so
        raise min/low/high by a pageblock (up to watermark_boost_factor of high) and
        ask for kswapd (``ZONE_BOOSTED_WATERMARK``)."""
        boost = boosted(
            self.watermark_boost,
            self.watermarks.high,
            self.managed_pages,
            self.pageblock_order,
            self.rules.boost_needs_four_pageblocks,
            self.watermark_boost_factor,
        )
        if boost == self.watermark_boost:
            return
        old = self.watermark_boost
        self.set_watermark_boost(boost)
        self.boosted = True
        if self.events is not None:
            self.events.append(
                ev.WatermarkBoost(fn="boost_watermark", zone=self.name, old_boost=old, boost=boost)
            )

    # --- small helpers -----------------------------------------------------------------

    def contains(self, pfn: int) -> bool:
        return self.start_pfn <= pfn < self.end_pfn

    def pageblock_index(self, i: int) -> int:
        return ((self.start_pfn + i) >> self.pageblock_order) - self.first_pageblock

    def get_pageblock_migratetype(self, i: int) -> int:
        return self.pageblock_mt[
            ((self.start_pfn + i) >> self.pageblock_order) - self.first_pageblock
        ]

    def mt_name(self, mt: int) -> str:
        return self.mts.names[mt]

    def free_list(self, order: int, migratetype: str) -> list[int]:
        """Head pfns of ``free_area[order].free_list[migratetype]``, head -> tail."""
        mt = self.mts.index(migratetype)
        self._check_order(order)
        base = self.start_pfn
        return [base + i for i in self.lists.iterate(self.lists.sentinel(order, mt))]

    def free_list_ends(self, order: int, migratetype: str, n: int) -> tuple[list[int], list[int]]:
        """The first ``n`` and the last ``n`` head pfns of a list (both head -> tail).

        Reads only the ends of the intrusive list, so a view of a list with a hundred
        thousand blocks costs O(n).  On a list shorter than 2n the two parts overlap.
        """
        mt = self.mts.index(migratetype)
        self._check_order(order)
        s = self.lists.sentinel(order, mt)
        nxt, prv, base = self.lists.next, self.lists.prev, self.start_pfn
        head: list[int] = []
        i: int = nxt[s]
        while i != s and len(head) < n:
            head.append(base + i)
            i = nxt[i]
        tail: list[int] = []
        i = prv[s]
        while i != s and len(tail) < n:
            tail.append(base + i)
            i = prv[i]
        tail.reverse()
        return head, tail

    def free_list_index(self, order: int, migratetype: str, pfn: int, length: int) -> ListPosition:
        """Where the free block at ``pfn`` sits in its list: its index from the head, the
        flagged blocks in front of it, and the pfns just in front of it and behind it.

        ``length`` is the list's length, which the caller keeps (the model counts free
        blocks per order, not per list).  The walk goes both ways from the block and
        stops at the nearer end, so it costs twice the distance to that end.
        """
        mt = self.mts.index(migratetype)
        self._check_order(order)
        i = pfn - self.start_pfn
        if not (0 <= i < self.spanned_pages and self.buddy_order[i] == order + 1):
            raise ValueError(
                f"pfn {ev.hexpfn(pfn)} is not a free order-{order} block of zone {self.name}"
            )
        if self.free_mt[i] != mt:
            raise ValueError(f"pfn {ev.hexpfn(pfn)} is on the {self.mt_name(self.free_mt[i])} list")
        nxt, prv, flags, pages = self.lists.next, self.lists.prev, self.flags, self.lists.pages
        base = self.start_pfn
        p, n = prv[i], nxt[i]
        before = None if p >= pages else base + p
        after = None if n >= pages else base + n
        back = fwd = i  # back walks towards the head, fwd towards the tail
        front = behind = 0  # entries passed on each side
        front_flagged: int = flags[i]
        behind_flagged: int = flags[i]
        while True:
            back = prv[back]
            if back >= pages:  # reached the head: every entry in front was counted
                return ListPosition(front, front_flagged - flags[i], before, after)
            front += 1
            front_flagged += flags[back]
            fwd = nxt[fwd]
            if fwd >= pages:  # reached the tail: count from that end
                flagged = self.flagged_counts[order * self.nr_mt + mt]
                return ListPosition(length - behind - 1, flagged - behind_flagged, before, after)
            behind += 1
            behind_flagged += flags[fwd]

    def list_length(self, order: int, mt: int) -> int:
        return self.lists.length(self.lists.sentinel(order, mt))

    def _check_order(self, order: int) -> None:
        if not 0 <= order < self.max_order:
            raise ValueError(f"order {order} is out of range 0..{self.max_order - 1}")

    def free_pages_in_lists(self) -> int:
        return sum(n << k for k, n in enumerate(self.free_counts))

    # --- list primitives (include/linux/mmzone.h, mm/page_alloc.c) --------------------

    def add_to_free_list(self, i: int, order: int, mt: int, reason: str) -> None:
        """``add_to_free_list``: insert at the head."""
        self.lists.add_head(i, self.lists.sentinel(order, mt))
        self.buddy_order[i] = order + 1
        self.free_mt[i] = mt
        self.free_counts[order] += 1
        if self.events is not None:
            pfn = self.start_pfn + i
            name = self.mts.names[mt]
            self.events.append(
                ev.ListAdd("add_to_free_list", self.name, pfn, order, name, "head", None, reason)
            )

    def add_to_free_list_tail(self, i: int, order: int, mt: int, reason: str) -> None:
        """``add_to_free_list_tail``: insert at the tail (v2: before the boundary)."""
        s = self.lists.sentinel(order, mt)
        at = s if self.tail_anchor is None else self.tail_anchor(order, mt)
        self.lists.add_before(i, at)
        self.buddy_order[i] = order + 1
        self.free_mt[i] = mt
        self.free_counts[order] += 1
        if self.events is not None:
            pfn = self.start_pfn + i
            name = self.mts.names[mt]
            before = None if at == s else self.start_pfn + at
            self.events.append(
                ev.ListAdd(
                    "add_to_free_list_tail", self.name, pfn, order, name, "tail", before, reason
                )
            )

    def del_page_from_free_list(self, i: int, order: int, reason: str) -> None:
        """``del_page_from_free_list``: unlink, clear PageBuddy and the hint/report flag."""
        if self.events is not None:
            pfn = self.start_pfn + i
            name = self.mts.names[self.free_mt[i]]
            end = self.lists.end_of(i)
            self.events.append(
                ev.ListDel("del_page_from_free_list", self.name, pfn, order, name, end, reason)
            )
        if self.flags[i]:
            assert self.strategy is not None
            self.strategy.clear_flag(self, i, order, reason)
        self.lists.unlink(i)
        self.buddy_order[i] = 0
        self.free_counts[order] -= 1

    def move_to_free_list(self, i: int, order: int, mt: int) -> None:
        """``move_to_free_list``: head of the new list before 5.10, tail from 5.10."""
        old = self.free_mt[i]
        if self.flags[i]:
            assert self.strategy is not None
            self.strategy.on_move(self, i, order, old, mt)
        self.lists.unlink(i)
        if self.rules.move_to_tail:
            s = self.lists.sentinel(order, mt)
            at = s if self.tail_anchor is None else self.tail_anchor(order, mt)
            self.lists.add_before(i, at)
            end = "tail"
        else:
            self.lists.add_head(i, self.lists.sentinel(order, mt))
            end = "head"
        self.free_mt[i] = mt
        if self.flags[i]:  # PG_reported survives the move: it is counted on the new list
            counts = self.flagged_counts
            counts[order * self.nr_mt + old] -= 1
            counts[order * self.nr_mt + mt] += 1
        if self.events is not None:
            self.events.append(
                ev.ListMove(
                    fn="move_to_free_list",
                    zone=self.name,
                    pfn=self.start_pfn + i,
                    order=order,
                    from_migratetype=self.mts.names[old],
                    to_migratetype=self.mts.names[mt],
                    end=end,
                )
            )

    def set_pageblock_migratetype(self, i: int, mt: int, reason: str) -> None:
        b = self.pageblock_index(i)
        old = self.pageblock_mt[b]
        if old == mt:
            return
        iso = self.mt_isolate
        if old == iso:
            self.nr_isolate_pageblock -= 1
        if mt == iso:
            self.nr_isolate_pageblock += 1
        self.pageblock_mt[b] = mt
        if self.events is not None:
            self.events.append(
                ev.PageblockRetype(
                    fn="set_pageblock_migratetype",
                    zone=self.name,
                    pfn=(self.first_pageblock + b) << self.pageblock_order,
                    from_migratetype=self.mts.names[old],
                    to_migratetype=self.mts.names[mt],
                    reason=reason,
                )
            )

    # --- freeing: __free_one_page ------------------------------------------------------

    def free_one_page(
        self,
        pfn: int,
        order: int,
        mt: int,
        to_tail: bool = False,
        notify: bool = True,
        tail_reason: str = "FPI_TO_TAIL",
    ) -> tuple[int, int]:
        """``__free_one_page``: merge with free buddies, then put the block on a list.

        Returns the (pfn, order) of the final block.  ``to_tail`` is FPI_TO_TAIL (or
        v2's hinted put-back); ``notify`` is false for put-backs (FPI_SKIP_REPORT_NOTIFY).
        Pass those by keyword.  (They are not keyword-only because Python looks up a
        keyword-only default in a dict on every call, and this call is frequent.)

        This is the model's hottest path.  With events off and no flagged block in the
        way, the list operations of ``del_page_from_free_list`` and ``add_to_free_list``
        are written out inline (the methods run in every other case).
        """
        base = self.start_pfn
        i = pfn - base
        pages = 1 << order
        if order:
            self.page_state_view[i : i + pages] = _FREE_FILL[order]
        else:
            self.page_state[i] = PS_FREE  # one byte: an index store is ~10x a slice's speed
        if mt != self.mt_isolate:
            self.nr_free_pages += pages  # __mod_zone_freepage_state

        n = self.spanned_pages
        bo = self.buddy_order
        nxt = self.next
        prv = self.prev
        nr_free = self.free_counts
        events = self.events
        top = self.max_order - 1  # MAX_ORDER - 1: no merging beyond
        # 5.x merges freely below pageblock_order; from there on each step is first
        # refused between an isolated and a normal pageblock (the kernel's outer loop
        # around continue_merging).  5.18+ compares the buddy's pageblock type instead.
        check_isolation_from = self.isolation_check_order
        check_types_from = self.merge_type_check_order
        while order < top:
            if (
                order >= check_isolation_from
                and self.nr_isolate_pageblock
                and self._isolation_blocks_merge(pfn, order, mt)
            ):
                break
            buddy = pfn ^ (1 << order)  # __find_buddy_pfn
            bi = buddy - base
            # page_is_buddy: in this zone, PageBuddy, same order
            if bi < 0 or bi >= n or bo[bi] != order + 1:
                if events is not None:
                    why = self._why_not_buddy(buddy, order)
                    events.append(
                        ev.MergeStop("__free_one_page", self.name, pfn, order, buddy, why)
                    )
                break
            if order >= check_types_from:  # 5.18+, from pageblock_order up
                retype = self._merge_buddy_type(pfn, order, mt, bi)
                if retype < 0:
                    break
                self.del_page_from_free_list(bi, order, "merging with its buddy")
                if retype:
                    # 6.10 "mm: page_alloc: fix up block types when merging compatible
                    # blocks": the buddy's pageblock takes this block's type, so that an
                    # expand() of the merged block later puts its halves on the right
                    # lists.  (The kernel retypes the buddy's first pageblock, which on
                    # x86-64 is all of it; the model retypes each, for configurations
                    # with smaller orders.)
                    self.change_pageblock_range(
                        bi, order, mt, "__free_one_page() merges it with a block of this type"
                    )
            # del_page_from_free_list(buddy)
            elif events is not None or self.flags[bi]:
                self.del_page_from_free_list(bi, order, "merging with its buddy")
            else:
                p_: int = prv[bi]
                n_: int = nxt[bi]
                nxt[p_] = n_
                prv[n_] = p_
                bo[bi] = 0
                nr_free[order] -= 1
            if events is not None:
                events.append(ev.Merge("__free_one_page", self.name, pfn, buddy, order))
            pfn &= buddy  # combined_pfn = buddy_pfn & pfn
            order += 1
        else:  # the loop ran out: the block is as large as blocks get
            if events is not None:
                why = f"order {order} is the largest (MAX_ORDER - 1)"
                events.append(ev.MergeStop("__free_one_page", self.name, pfn, order, None, why))

        i = pfn - base
        # done_merging: choose the end of the list
        if to_tail:
            tail = True
        elif order >= top - 1:  # order >= MAX_ORDER - 2
            tail = False
        else:
            # buddy_merge_likely: is the buddy of the next-higher block already free?
            combined = pfn & ~(1 << order)
            hb = (combined ^ (1 << (order + 1))) - base
            tail = combined >= base and 0 <= hb < n and bo[hb] == order + 2
        if events is not None or self.tail_anchor is not None:
            why = self._placement_reason(pfn, order, to_tail, tail, tail_reason)
            if tail:
                self.add_to_free_list_tail(i, order, mt, why)
            else:
                self.add_to_free_list(i, order, mt, why)
        else:
            s = n + order * self.nr_mt + mt  # the sentinel of free_list[mt] at order
            if tail:  # list_add_tail
                p_ = prv[s]
                nxt[p_] = i
                prv[i] = p_
                nxt[i] = s
                prv[s] = i
            else:  # list_add
                n_ = nxt[s]
                nxt[i] = n_
                prv[i] = s
                prv[n_] = i
                nxt[s] = i
            bo[i] = order + 1
            self.free_mt[i] = mt
            nr_free[order] += 1
        if notify and order >= self.notify_order:
            assert self.strategy is not None
            self.strategy.notify_free(self, order)
        return pfn, order

    def _isolation_blocks_merge(self, pfn: int, order: int, mt: int) -> bool:
        buddy = pfn ^ (1 << order)
        bi = buddy - self.start_pfn
        if not 0 <= bi < self.spanned_pages:
            return False
        buddy_mt = self.get_pageblock_migratetype(bi)
        iso = self.mt_isolate
        if mt == buddy_mt or (mt != iso and buddy_mt != iso):
            return False
        self._merge_stop(pfn, order, buddy, "one pageblock is isolated and the other is not")
        return True

    def _merge_stop(self, pfn: int, order: int, buddy: int, reason: str) -> None:
        """Tell that ``__free_one_page`` stops merging between two pageblocks."""
        if self.events is not None:
            self.events.append(
                ev.MergeStop("__free_one_page", self.name, pfn, order, buddy, reason)
            )

    def _merge_buddy_type(self, pfn: int, order: int, mt: int, bi: int) -> int:
        """5.18+ ``__free_one_page`` from pageblock_order up: 0 when the free buddy's
        pageblock has this block's type, 1 when it must be retyped to merge (both types
        mergeable), -1 when the merge stops (one is HighAtomic, CMA or Isolate)."""
        buddy_mt = self.get_pageblock_migratetype(bi)
        if buddy_mt == mt:
            return 0
        if mt < MIGRATE_PCPTYPES and buddy_mt < MIGRATE_PCPTYPES:  # migratetype_is_mergeable
            return 1
        if self.events is not None:
            self._merge_stop(
                pfn,
                order,
                self.start_pfn + bi,
                f"its buddy's pageblock is {self.mt_name(buddy_mt)} and this one "
                f"{self.mt_name(mt)}: {self.mt_name(max(mt, buddy_mt))} pageblocks never "
                "merge with another type",
            )
        return -1

    def _placement_reason(
        self, pfn: int, order: int, to_tail: bool, tail: bool, tail_reason: str
    ) -> str:
        if to_tail:
            return tail_reason
        if order >= self.max_order - 2:
            return f"buddy_merge_likely() is false at order >= {self.max_order - 2}"
        higher_buddy = (pfn & ~(1 << order)) ^ (1 << (order + 1))
        if tail:
            return (
                f"buddy_merge_likely(): the order-{order + 1} buddy pfn {ev.hexpfn(higher_buddy)} "
                "is free, so keep this block for a coming merge"
            )
        return f"buddy_merge_likely(): the order-{order + 1} buddy is not free"

    def _why_not_buddy(self, buddy: int, order: int) -> str:
        """Explain, for the narration, why ``buddy`` cannot merge (events only)."""
        if not self.contains(buddy):
            return f"its buddy pfn {ev.hexpfn(buddy)} lies outside zone {self.name}"
        bi = buddy - self.start_pfn
        state = self.page_state[bi]
        if state == PS_PCP:
            return f"its buddy pfn {ev.hexpfn(buddy)} sits on a per-cpu list, not on a buddy list"
        if state == PS_ISOLATED:
            return f"its buddy pfn {ev.hexpfn(buddy)} is isolated (in flight to the host)"
        base, bo, ao = self.start_pfn, self.buddy_order, self.alloc_order
        for k in range(self.max_order):  # the block that holds the buddy: its head and order
            head = buddy & ~((1 << k) - 1)
            hi = head - base
            if hi < 0:
                break
            if bo[hi] == k + 1:
                return (
                    f"its buddy pfn {ev.hexpfn(buddy)} is free but inside the order-{k} block at "
                    f"pfn {ev.hexpfn(head)}"
                )
            if ao[hi] == k + 1:
                return (
                    f"its buddy pfn {ev.hexpfn(buddy)} is allocated (order-{k} block at pfn "
                    f"{ev.hexpfn(head)})"
                )
        return f"its buddy pfn {ev.hexpfn(buddy)} is not a free order-{order} block"

    # --- allocating: __rmqueue_smallest, expand, __rmqueue_fallback ---------------------

    def expand(self, i: int, low: int, high: int, mt: int) -> None:
        """``expand``: halve down to ``low``; each upper half goes to the head of its list."""
        size = 1 << high
        events = self.events
        nxt, prv = self.next, self.prev
        bo, fmt, nr_free = self.buddy_order, self.free_mt, self.free_counts
        nmt, pages = self.nr_mt, self.lists.pages
        while high > low:
            high -= 1
            size >>= 1
            if events is not None:
                pfn = self.start_pfn + i
                name = self.mts.names[mt]
                events.append(ev.Split("expand", self.name, pfn, high + 1, pfn + size, name))
                self.add_to_free_list(
                    i + size, high, mt, "expand() puts the upper half at the head"
                )
                continue
            # add_to_free_list(&page[size], high, mt)
            j = i + size
            s = pages + high * nmt + mt
            n_: int = nxt[s]
            nxt[j] = n_
            prv[j] = s
            prv[n_] = j
            nxt[s] = j
            bo[j] = high + 1
            fmt[j] = mt
            nr_free[high] += 1

    def rmqueue_smallest(self, order: int, mt: int) -> int:
        """``__rmqueue_smallest``: the head of the smallest non-empty list of type ``mt``."""
        nxt = self.next
        nmt = self.nr_mt
        current = order
        s = self.spanned_pages + order * nmt + mt  # the sentinel of free_list[mt] at order
        i: int = nxt[s]
        while i == s:  # empty: try the next order up (a while loop costs less than a range)
            current += 1
            if current == self.max_order:
                return -1
            s += nmt
            i = nxt[s]
        # del_page_from_free_list(page, zone, current_order)
        if self.events is not None or self.flags[i]:
            self.del_page_from_free_list(i, current, "allocation takes the list head")
        else:
            n_: int = nxt[i]
            nxt[s] = n_
            self.prev[n_] = s
            self.buddy_order[i] = 0
            self.free_counts[current] -= 1
        if current > order:
            self.expand(i, order, current, mt)
        return i

    def rmqueue(self, order: int, mt: int, nofragment: bool) -> int:
        """``__rmqueue``: own type first, then CMA for movable, then a fallback.

        5.x: the fallback moves a block to this type's lists and the search runs again.
        6.12: ``__rmqueue_fallback`` returns the block itself (or the smallest one of
        this type once it claimed a whole pageblock).  (6.12's balancing of movable
        requests into CMA when more than half the free pages are CMA is not modelled.)
        """
        if self.claim_or_take:
            i = self.rmqueue_smallest(order, mt)
            if i < 0 and mt == MIGRATE_MOVABLE and self.mt_cma >= 0:
                i = self.rmqueue_smallest(order, self.mt_cma)
            if i < 0:
                i = self.rmqueue_fallback_claim(order, mt, nofragment)
            return i
        while True:
            i = self.rmqueue_smallest(order, mt)
            if i >= 0:
                return i
            if mt == MIGRATE_MOVABLE and self.mt_cma >= 0:
                i = self.rmqueue_smallest(order, self.mt_cma)
                if i >= 0:
                    return i
            if not self.rmqueue_fallback(order, mt, nofragment):
                return -1

    def _find_suitable_fallback(self, order: int, mt: int) -> tuple[int, bool]:
        """``find_suitable_fallback(only_stealable=false)``: (fallback type or -1, can_steal)."""
        if self.free_counts[order] == 0:
            return -1, False
        for fmt in self.mts.fallbacks(mt):
            if self.lists.is_empty(self.lists.sentinel(order, fmt)):
                continue
            return fmt, self._can_steal_fallback(order, mt)
        return -1, False

    def _can_steal_fallback(self, order: int, start_mt: int) -> bool:
        pbo = self.pageblock_order
        if order >= pbo:
            return True
        return order >= pbo // 2 or start_mt in (MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE)

    def _fallback_search(
        self, order: int, start_mt: int, nofragment: bool
    ) -> tuple[int, int, bool]:
        """The search of ``__rmqueue_fallback``: the block it steals, as (head index,
        order, whether the whole pageblock may be taken: can_steal), or (-1, -1, False).

        The largest block of a fallback type first; a movable request that may not
        claim the whole pageblock takes the smallest suitable block instead, to avoid
        spreading fragmentation.  ALLOC_NOFRAGMENT keeps the search at pageblock_order
        and above (6.12: only for requests smaller than a pageblock).
        """
        pbo = self.pageblock_order
        if nofragment and (order < pbo or not self.rules.nofragment_floor_below_pageblock):
            min_order = pbo
        else:
            min_order = order
        found = -1
        current = self.max_order - 1
        can_steal = False
        while current >= min_order:
            found, can_steal = self._find_suitable_fallback(current, start_mt)
            if found >= 0:
                break
            current -= 1
        if found < 0:
            return -1, -1, False
        if not can_steal and start_mt == MIGRATE_MOVABLE and current > order:
            for current in range(order, self.max_order):
                found, can_steal = self._find_suitable_fallback(current, start_mt)
                if found >= 0:
                    break
        i = self.lists.first(self.lists.sentinel(current, found))
        if self.events is not None:
            self.events.append(
                ev.Fallback(
                    fn="__rmqueue_fallback",
                    zone=self.name,
                    order=order,
                    current_order=current,
                    start_migratetype=self.mts.names[start_mt],
                    fallback_migratetype=self.mts.names[found],
                    whole_block=can_steal,
                )
            )
        return i, current, can_steal

    def rmqueue_fallback(self, order: int, start_mt: int, nofragment: bool) -> bool:
        """``__rmqueue_fallback`` (5.x): steal a block of a fallback type onto this
        type's lists (the caller's search then runs again)."""
        i, current, can_steal = self._fallback_search(order, start_mt, nofragment)
        if i < 0:
            return False
        self._steal_suitable_fallback(i, current, start_mt, can_steal)
        return True

    def rmqueue_fallback_claim(self, order: int, start_mt: int, nofragment: bool) -> int:
        """``__rmqueue_fallback`` (6.12): the block taken for the request, or -1."""
        i, current, can_steal = self._fallback_search(order, start_mt, nofragment)
        if i < 0:
            return -1
        return self._steal_suitable_fallback_612(i, current, order, start_mt, can_steal)

    def _steal_suitable_fallback(
        self, i: int, order: int, start_mt: int, whole_block: bool
    ) -> None:
        """``steal_suitable_fallback`` (5.x)."""
        old = self.get_pageblock_migratetype(i)
        pbo = self.pageblock_order
        if old != MIGRATE_HIGHATOMIC:
            if order >= pbo:
                self.change_pageblock_range(i, order, start_mt, "fallback takes a whole pageblock")
            else:
                # A steal from inside another type's pageblock: boost the watermarks to
                # push reclaim (and so reduce future fallbacks).
                self.boost_watermark()
            if order < pbo and whole_block:
                free_pages, movable = self.move_freepages_block(i, start_mt)
                if free_pages:
                    alike = self._alike_pages(start_mt, old, free_pages, movable)
                    if free_pages + alike >= 1 << (pbo - 1):
                        self.set_pageblock_migratetype(
                            i,
                            start_mt,
                            f"{free_pages} free + {alike} compatible pages >= half a pageblock",
                        )
                    return
        self.move_to_free_list(i, order, start_mt)

    def _alike_pages(self, start_mt: int, block_mt: int, free_pages: int, movable: int) -> int:
        """Pages of the pageblock compatible with the request (steal_suitable_fallback)."""
        if start_mt == MIGRATE_MOVABLE:
            return movable
        if block_mt == MIGRATE_MOVABLE:
            return (1 << self.pageblock_order) - (free_pages + movable)
        return 0

    def _steal_suitable_fallback_612(
        self, i: int, current: int, order: int, start_mt: int, whole_block: bool
    ) -> int:
        """``steal_suitable_fallback`` (6.12): claim the pageblock or take one block.

        A block of a pageblock or more is taken and its pageblocks retyped.  A smaller
        one boosts the watermarks; if the pageblock may be claimed and at least half of
        it is free or compatible, every free block of it moves to this type's lists,
        the pageblock is retyped, and the request takes the smallest block of its type.
        Otherwise the one block is taken from the fallback list, its split halves go
        back to that type's lists and nothing else moves: free lists keep matching
        their pageblock's type (5.x moved the whole pageblock's free blocks either way).
        """
        block_type = self.get_pageblock_migratetype(i)
        pbo = self.pageblock_order
        if block_type != MIGRATE_HIGHATOMIC:
            if current >= pbo:
                self.del_page_from_free_list(i, current, "fallback takes a whole pageblock")
                self.change_pageblock_range(
                    i, current, start_mt, "fallback takes a whole pageblock"
                )
                self.expand(i, order, current, start_mt)
                return i
            self.boost_watermark()
            counted = self.prep_move_freepages_block(i) if whole_block else None
            if counted is not None:
                start, free_pages, movable = counted
                alike = self._alike_pages(start_mt, block_type, free_pages, movable)
                if free_pages + alike >= 1 << (pbo - 1):
                    self.move_freepages_block_612(
                        start,
                        block_type,
                        start_mt,
                        f"{free_pages} free + {alike} compatible pages >= half a pageblock",
                    )
                    return self.rmqueue_smallest(order, start_mt)
        # page_del_and_expand(zone, page, order, current_order, block_type)
        self.del_page_from_free_list(
            i, current, "fallback takes one block and leaves the pageblock's type"
        )
        self.expand(i, order, current, block_type)
        return i

    def change_pageblock_range(self, i: int, order: int, mt: int, reason: str) -> None:
        pbo = self.pageblock_order
        for k in range(1 << max(order - pbo, 0)):
            self.set_pageblock_migratetype(i + (k << pbo), mt, reason)

    def move_freepages_block(self, i: int, mt: int) -> tuple[int, int]:
        """``move_freepages_block`` (5.x): move every free block of ``i``'s pageblock to ``mt``.

        Returns (pages moved, pages of movable allocations seen).  Allocated pages count
        as movable when their allocation asked for Movable (the kernel tests PageLRU or
        __PageMovable, which the model approximates this way).
        """
        pbo = self.pageblock_order
        base = self.start_pfn
        start = ((base + i) >> pbo << pbo) - base
        end = start + (1 << pbo) - 1
        if start < 0:
            start = i
        if end >= self.spanned_pages:
            return 0, 0
        moved, movable = self._free_and_movable(start, end + 1)
        bo = self.buddy_order
        for j in heads(bo, start, end + 1):  # the free blocks, ascending
            self.move_to_free_list(j, bo[j] - 1, mt)
        return moved, movable

    def _free_and_movable(self, start: int, end: int) -> tuple[int, int]:
        """Free pages and pages of movable allocations in ``[start, end)``, walked block
        by block as ``move_freepages``/``prep_move_freepages_block`` walk the pfns."""
        free = movable = 0
        bo, ao, amt = self.buddy_order, self.alloc_order, self.alloc_mt
        j = start
        while j < end:
            k = bo[j]
            if k:
                free += 1 << (k - 1)
                j += 1 << (k - 1)
                continue
            a = ao[j]
            if a:
                if amt[j] == MIGRATE_MOVABLE:
                    movable += 1 << (a - 1)
                j += 1 << (a - 1)
                continue
            j += 1
        return free, movable

    def pageblock_start_in_zone(self, i: int) -> int:
        """The first index of ``i``'s pageblock, or -1 when the pageblock straddles the
        zone's edge (6.12 ``prep_move_freepages_block`` then refuses to move it)."""
        pbo = self.pageblock_order
        start = ((self.start_pfn + i) >> pbo << pbo) - self.start_pfn
        if start < 0 or start + (1 << pbo) > self.spanned_pages:
            return -1
        return start

    def prep_move_freepages_block(self, i: int) -> tuple[int, int, int] | None:
        """``prep_move_freepages_block`` (6.12): (first index of ``i``'s pageblock, free
        pages, pages of movable allocations) without moving anything, or None when the
        pageblock straddles the zone's edge.  Movable pages as in ``move_freepages_block``."""
        start = self.pageblock_start_in_zone(i)
        if start < 0:
            return None
        free, movable = self._free_and_movable(start, start + (1 << self.pageblock_order))
        return start, free, movable

    def move_freepages_block_612(self, start: int, old_mt: int, new_mt: int, reason: str) -> int:
        """``__move_freepages_block`` (6.12): move the free blocks of the pageblock at
        ``start`` from ``old_mt``'s lists to the tail of ``new_mt``'s and retype it."""
        bo = self.buddy_order
        moved = 0
        # The kernel walks the pfns one by one; the free heads are the non-zero values.
        for j in heads(bo, start, start + (1 << self.pageblock_order)):
            k: int = bo[j] - 1
            self.move_to_free_list(j, k, new_mt)
            moved += 1 << k
        self.set_pageblock_migratetype(start, new_mt, reason)
        return moved

    # --- watermarks ----------------------------------------------------------------------

    def watermark_ok(self, order: int, mark: int) -> bool:
        """``__zone_watermark_ok`` (no ALLOC_HIGH/HARDER, no lowmem_reserve, no CMA areas).

        Free pages after taking the block must stay above ``mark``; a high-order request
        also needs one free block of at least that order on an Unmovable, Movable or
        Reclaimable list.
        """
        if self.nr_free_pages - ((1 << order) - 1) <= mark:
            return False
        return order == 0 or self.has_block(order)

    def has_block(self, order: int, cma: bool = False) -> bool:
        """The high-order part of ``__zone_watermark_ok``: a free block of at least
        ``order`` on an Unmovable, Movable or Reclaimable list, or with ``cma``
        (ALLOC_CMA: a movable request) on the CMA list."""
        nxt = self.next
        nmt = self.nr_mt
        counts = self.free_counts
        s = self.spanned_pages + order * nmt  # the sentinel of free_list[0] at order
        c = self.mt_cma if cma else -1
        for o in range(order, self.max_order):
            # MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE (MIGRATE_PCPTYPES)
            if counts[o] and (
                nxt[s] != s
                or nxt[s + 1] != s + 1
                or nxt[s + 2] != s + 2
                or (c >= 0 and nxt[s + c] != s + c)
            ):
                return True
            s += nmt
        return False

    def flag_block(self, i: int, order: int) -> None:
        """Set the strategy's flag on the free block at ``i`` (on its list, order ``order``)."""
        self.flags[i] = 1
        self.flagged_counts[order * self.nr_mt + self.free_mt[i]] += 1

    def unflag_block(self, i: int, order: int) -> None:
        """Clear the strategy's flag of the free block at ``i`` (still on its list)."""
        self.flags[i] = 0
        self.flagged_counts[order * self.nr_mt + self.free_mt[i]] -= 1

    def flagged_count(self, order: int, migratetype: str) -> int:
        """Blocks of ``free_area[order].free_list[migratetype]`` carrying the strategy's
        flag (hinted in v2, ``PG_reported`` when reporting), in O(1)."""
        self._check_order(order)
        return self.flagged_counts[order * self.nr_mt + self.mts.index(migratetype)]

    def flagged_per_order(self) -> list[int]:
        """Flagged free blocks of each order, all migratetypes (v2: ``hinted_pages[]``
        from ``min_order`` on)."""
        nmt, counts = self.nr_mt, self.flagged_counts
        return [sum(counts[k * nmt : (k + 1) * nmt]) for k in range(self.max_order)]

    def flagged_heads(self) -> list[int]:
        """Indices of the blocks a strategy has flagged (hinted or reported)."""
        return heads(self.flags, 0, self.spanned_pages)

    def page_state_bytes(self) -> bytes:
        return bytes(self.page_state)

    # --- isolation for hinting/reporting (__isolate_free_page, __putback_isolated_page) --

    def isolate_free_page(self, i: int, order: int, reason: str) -> bool:
        """``__isolate_free_page``: take a free block off its list for the host.

        Refused (False) when it would take the zone below its min watermark.  Blocks of
        at least half a pageblock have their pageblocks set to Movable.
        """
        mt = self.get_pageblock_migratetype(i)
        if mt != self.mt_isolate:
            if not self.watermark_ok(0, self.wmark_min + (1 << order)):
                return False
            self.nr_free_pages -= 1 << order
        self.del_page_from_free_list(i, order, reason)
        self.page_state[i : i + (1 << order)] = FILLS[PS_ISOLATED][order]
        if order >= self.pageblock_order - 1:
            pbo = self.pageblock_order
            keep = (self.mt_isolate, self.mt_cma, MIGRATE_HIGHATOMIC)
            why = "__isolate_free_page() of at least half a pageblock"
            for k in range(1 << max(order - pbo, 0)):
                j = i + (k << pbo)
                block_mt = self.get_pageblock_migratetype(j)
                if block_mt in keep:
                    continue
                if not self.rules.freelist_hygiene:
                    self.set_pageblock_migratetype(j, MIGRATE_MOVABLE, why)
                    continue
                # 6.10+: move_freepages_block() - the rest of a half pageblock moves to
                # the tail of the Movable lists with its pageblock (even when it is
                # Movable already, list_move_tail moves its free blocks to the tail).
                start = self.pageblock_start_in_zone(j)
                if start >= 0:
                    self.move_freepages_block_612(start, block_mt, MIGRATE_MOVABLE, why)
        return True

    def paint(self, i: int, order: int, state: int) -> None:
        self.page_state[i : i + (1 << order)] = FILLS[state][order]
