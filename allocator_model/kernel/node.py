"""``Node``: the public face of the model (a NUMA node = ``pg_data_t`` with its zones).

Allocation walks the zonelist from the highest zone down, like ``get_page_from_freelist``:
first at the low watermark (with ``ALLOC_NOFRAGMENT`` when Normal is the preferred
zone), then without it, then the slow path at the min watermark.  No reclaim or
compaction runs, so a request that fails at min raises ``OutOfMemory``.

This file is long on purpose: it is one family of kernel functions, the node-wide side
of ``mm/page_alloc.c`` (boot, the zonelist walk and its watermark passes, the per-cpu
list paths, the free path and the validation in front of them, and the virtual clock
that runs delayed work such as kswapd's boost reset), kept together so that one
allocation or free reads top to bottom; one zone's lists are ``zone.py``.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn, Self

from . import events as ev
from .assumptions import KSWAPD_BOOST_RESET_S
from .config import (
    DEFAULT_MAX_ORDER,
    DEFAULT_PAGEBLOCK_ORDER,
    MIGRATE_MOVABLE,
    MIGRATE_PCPTYPES,
    PAGE_ALLOC_COSTLY_ORDER,
    Migratetypes,
    check_int,
    check_zone_specs,
    kernel_rules,
)
from .config import ZoneSpec as ZoneSpec  # re-exported: callers import it from here
from .errors import ConfigError, InvalidFree, OutOfMemory, UnknownMigratetype, UnknownZone
from .hinting_v2 import HintingV2
from .host import NAMES as HOST_STATE_NAMES
from .host import RESIDENT, RESIDENT_BLOCK, Host
from .pageflags import page_bits
from .pagestate import FILLS, PS_ALLOCATED, PS_ISOLATED, PS_PCP
from .pagestate import NAMES as PAGE_STATE_NAMES
from .pcp import (
    PCP_BATCH_SCALE_MAX,
    PCPF_FREE_HIGH_BATCH,
    PCPF_PREV_FREE_HIGH_ORDER,
    PerCpuPages,
    thp_pcp_order,
)
from .reporting import PageReporting
from .strategy import Strategy
from .vmstat import BuddyinfoRow, format_buddyinfo, pagetypeinfo_of
from .watermarks import (
    WATERMARK_BOOST_FACTOR,
    default_min_free_kbytes,
    lowmem_reserves,
    thp_recommended_min_free_kbytes,
    zone_watermarks,
)
from .zone import Zone

NSEC_PER_SEC: Final = 1_000_000_000
KSWAPD_BOOST_RESET_NS: Final = round(KSWAPD_BOOST_RESET_S * NSEC_PER_SEC)
_ALLOC_FILL: Final = FILLS[PS_ALLOCATED]
# (use the min watermark?, ALLOC_NOFRAGMENT?) for each pass of get_page_from_freelist
_PASSES_NOFRAG: Final = ((False, True), (False, False), (True, False))
_PASSES_PLAIN: Final = ((False, False), (True, False))
STRATEGIES: Final = ("none", "hinting-v2", "reporting")
# The most CPUs a node may have (each has a per-cpu list set in every zone).
MAX_CPUS: Final = 64
# The v2 "Hinted pages" patches were written against 2019 linux-next (about 5.3).
V2_KERNEL: Final = "5.3"


def default_kernel(hinting: str) -> str:
    """The kernel rules a node runs when none is named: 5.3 for v2 hinting (its own
    base), 5.10 otherwise."""
    return V2_KERNEL if hinting == "hinting-v2" else "5.10"


def what_if(hinting: str, kernel: str) -> str | None:
    """A sentence saying that v2 hinting on other kernel rules than 5.3's is an
    experiment no kernel ran, or None for a real pairing."""
    if hinting != "hinting-v2" or kernel == V2_KERNEL:
        return None
    return (
        f"what if: v2 hinting on Linux {kernel} rules, a pairing no kernel had (the v2 "
        f"patches were written against {V2_KERNEL}"
        + (
            ", where boot frees and move_to_free_list go to the list head, not the tail)"
            if kernel_rules(kernel).boot_free_to_tail
            else ")"
        )
    )


def default_zones() -> tuple[ZoneSpec, ...]:
    """A 4 GiB x86-64 guest on QEMU's pc machine: RAM below 3 GiB, the rest above 4 GiB.

    ZONE_DMA starts at pfn 1 (pfn 0 is never given to the allocator), DMA32 runs up to
    the PCI hole at 3 GiB and Normal holds the 1 GiB remapped above 4 GiB.
    """
    return (
        ZoneSpec("DMA", 1, 4095),
        ZoneSpec("DMA32", 4096, 786432 - 4096),
        ZoneSpec("Normal", 1048576, 262144),
    )


@dataclass(frozen=True, slots=True)
class PageInfo:
    """What the model knows about one page frame (``Node.page``)."""

    pfn: int
    zone: str
    state: str  # free | allocated | hinted | isolated | pcp
    allocated: bool
    block_pfn: int  # head of the block the page belongs to
    block_order: int
    migratetype: str  # the pageblock's migratetype
    list_migratetype: str | None  # the free list the block is on (free blocks)
    hinted: bool  # v2 PageHinted on the block's head
    reported: bool  # PG_reported on the block's head
    in_flight: bool  # isolated, with the host
    host: str  # not backed | resident | discarded
    head_flags: tuple[str, ...]  # page->flags bits of the head page the model tracks
    head_page_type: tuple[str, ...]  # page types set on the head page
    head_page_type_value: int  # the head's raw page_type word
    kdump_view: str  # what a kdump-style tool concludes about the head page


@dataclass(order=True)
class _Work:
    due_ns: int
    seq: int
    label: str = field(compare=False)
    fn: Callable[[], None] = field(compare=False)

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:  # see Node.__new__ (make compiled)
        return super().__new__(cls)


def _free_ints(pfn: object, order: object) -> tuple[int, int]:
    """``Node.free``'s arguments, if they are integers (an int subclass such as an IntEnum
    is one; a bool is not)."""
    if isinstance(pfn, bool) or not isinstance(pfn, int):
        raise InvalidFree(f"pfn must be an integer, got {pfn!r}")
    if isinstance(order, bool) or not isinstance(order, int):
        raise InvalidFree(f"order must be an integer, got {order!r}")
    return pfn, order


class Node:
    """A node of zones running the buddy allocator of one kernel version."""

    # Copies and unpickling (the server's timeline checkpoints) make an instance without
    # calling __init__.  A mypyc-compiled class (make compiled) does that only when it
    # defines __new__; without one its __new__ would run __init__ first.
    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        return super().__new__(cls)

    def __init__(
        self,
        zones: Sequence[ZoneSpec] | None = None,
        *,
        kernel: str | None = None,
        hinting: str = "none",
        pcp: bool | None = None,
        thp: bool | None = None,
        seed: int = 0,
        events: bool = True,
        max_order: int = DEFAULT_MAX_ORDER,
        pageblock_order: int = DEFAULT_PAGEBLOCK_ORDER,
        cma: bool = True,
        min_free_kbytes: int | None = None,
        watermark_scale_factor: int = 10,
        watermark_boost_factor: int = WATERMARK_BOOST_FACTOR,
        pcp_batch: int | None = None,
        pcp_high: int | None = None,
        cpus: int = 1,
        hinting_options: Mapping[str, Any] | None = None,
        host_resident_at_boot: bool = False,
        _populate: Callable[[Node], None] | None = None,
    ) -> None:
        if kernel is None:
            kernel = default_kernel(hinting)
        self.rules = kernel_rules(kernel)
        self.max_order = check_int("max_order", max_order, 1, 16)
        self.pageblock_order = check_int("pageblock_order", pageblock_order, 0, max_order - 1)
        self.seed = check_int("seed", seed, 0)
        self.watermark_scale_factor = check_int(
            "watermark_scale_factor", watermark_scale_factor, 1, 3000
        )
        # vm.watermark_boost_factor: 0 turns boost_watermark off
        self.watermark_boost_factor = check_int(
            "watermark_boost_factor", watermark_boost_factor, 0, 1 << 30
        )
        self.mts = Migratetypes.for_config(cma)
        # Real kernels never take or free single pages on the buddy lists directly: the
        # default guest runs with one CPU's per-cpu lists; hand-made zones (teaching the
        # raw buddy algorithm) without them unless asked for.
        self.pcp_enabled = zones is None if pcp is None else bool(pcp)
        # CPUs of the node, each with its own per-cpu lists in every zone.
        self.cpus = check_int("cpus", cpus, 1, MAX_CPUS)
        self.random = random.Random(seed)
        self.events: list[ev.Event] | None = [] if events else None
        self._clock_ns = 0
        self._work: list[_Work] = []
        self._work_seq = 0

        specs = tuple(default_zones() if zones is None else zones)
        check_zone_specs(specs)
        self.zones: tuple[Zone, ...] = tuple(
            Zone(
                s.name,
                s.start_pfn,
                s.pages,
                index=k,
                max_order=self.max_order,
                pageblock_order=self.pageblock_order,
                migratetypes=self.mts,
                rules=self.rules,
                events=self.events,
                absent=s.absent,
            )
            for k, s in enumerate(specs)
        )
        self._by_name = {z.name: z for z in self.zones}
        # The zonelist of a movable/kernel request: highest zone first.
        self._zonelist = tuple(reversed(self.zones))
        # ALLOC_NOFRAGMENT (alloc_flags_nofragment, 5.x): set whenever the preferred zone
        # is Normal.  Its "is DMA32 populated" test applies only when nr_online_nodes > 1,
        # so on this one-node model a Normal-only node gets it too.  The first pass then
        # only steals whole pageblocks.
        nofrag = self._zonelist[0].name == "Normal"
        self._passes = _PASSES_NOFRAG if nofrag else _PASSES_PLAIN
        self._alloc_mts = {name: k for k, name in enumerate(self.mts.names[:MIGRATE_PCPTYPES])}

        # Transparent hugepages (khugepaged running): on for the default guest, as on
        # most distributions' kernels; off for hand-made zones unless asked for.
        self.thp = zones is None if thp is None else bool(thp)
        if min_free_kbytes is None:
            self.min_free_kbytes = default_min_free_kbytes(
                sum(z.managed_pages for z in self.zones), self.rules.min_free_kbytes_max
            )
            self._setup_per_zone_wmarks()
            if self.thp:
                # khugepaged's start raises min_free_kbytes, and the watermarks with it.
                recommended = thp_recommended_min_free_kbytes(
                    [z.managed_pages for z in self.zones],
                    [z.watermarks.high for z in self.zones],
                    self.pageblock_order,
                )
                if recommended > self.min_free_kbytes:
                    self.min_free_kbytes = recommended
                    self._setup_per_zone_wmarks()
        else:
            # A value given here is the sysctl written after boot: it is used as it is.
            self.min_free_kbytes = check_int("min_free_kbytes", min_free_kbytes, 0)
            self._setup_per_zone_wmarks()
        for z in self.zones:
            z.watermark_boost_factor = self.watermark_boost_factor
        reserves = lowmem_reserves(
            [z.name for z in self.zones], [z.managed_pages for z in self.zones]
        )
        for z, reserve in zip(self.zones, reserves, strict=True):
            z.lowmem_reserve = reserve
        # kswapd's reset of boosted watermarks: when each boosted zone's boost is cleared
        # (see KSWAPD_BOOST_RESET in assumptions.py).
        self._boost_reset_ns: dict[int, int] = {}
        # pcp_sets[cpu][zone]: each CPU's per_cpu_pages; pcps is CPU 0's.
        self.pcp_sets: tuple[dict[str, PerCpuPages], ...] = ({},)
        high_order = self.rules.high_order_pcp
        thp_order = thp_pcp_order(self.pageblock_order, self.max_order)
        if self.pcp_enabled:
            if pcp_batch is not None:
                check_int("pcp_batch", pcp_batch, 1)
            if pcp_high is not None:
                check_int("pcp_high", pcp_high, 0)
            self.pcp_sets = tuple(
                {
                    z.name: PerCpuPages(
                        z.managed_pages,
                        pcp_batch,
                        pcp_high,
                        high_order=high_order,
                        low_wmark=z.watermarks.low,
                        cpus=self.cpus,
                        thp_order=thp_order,
                    )
                    for z in self.zones
                }
                for _ in range(self.cpus)
            )
        self.pcps = self.pcp_sets[0]
        for z in self.zones:
            if self.pcp_enabled:
                z.per_cpu_pageset = tuple(pcps[z.name] for pcps in self.pcp_sets)
        # pcp_allowed_order() for each order: 5.x order 0; 6.12 up to
        # PAGE_ALLOC_COSTLY_ORDER and the THP order.
        self._pcp_order = tuple(
            self.pcp_enabled
            and (k == 0 or (high_order and (k <= PAGE_ALLOC_COSTLY_ORDER or k == thp_order)))
            for k in range(self.max_order)
        )
        # 6.12's pcp->high tuning reads ZONE_BELOW_HIGH, which allocations keep.
        self._pcp_tuned = self.pcp_enabled and high_order
        self._cpu_next = 0  # the CPU the next call runs on when it names none

        self.host = Host(self.zones, resident_at_boot=host_resident_at_boot)
        self.strategy = self._make_strategy(hinting, hinting_options or {})
        for z in self.zones:
            z.strategy = self.strategy
        if _populate is None:
            for z in self.zones:
                self._boot_zone(z)
        else:  # a node seeded from a snapshot lays out its frames instead of booting
            _populate(self)
        if self.events is not None:
            self.events.clear()  # boot is the starting state, not a step
        self.strategy.attach(self)

    # --- construction ------------------------------------------------------------------

    def _setup_per_zone_wmarks(self) -> None:
        lowmem = sum(z.managed_pages for z in self.zones)
        for z in self.zones:
            z.set_watermarks(
                zone_watermarks(
                    z.managed_pages, lowmem, self.min_free_kbytes, self.watermark_scale_factor
                )
            )

    def _make_strategy(self, hinting: str, options: Mapping[str, Any]) -> Strategy:
        if hinting == "none":
            if options:
                raise ConfigError("hinting='none' takes no hinting_options")
            return Strategy()
        if hinting == "hinting-v2":
            return HintingV2(dict(options), self.max_order, self.pageblock_order)
        if hinting == "reporting":
            return PageReporting(dict(options), self.max_order, self.pageblock_order)
        raise ConfigError(
            f"unknown hinting strategy {hinting!r}: choose one of {', '.join(STRATEGIES)}"
        )

    def _boot_zone(self, z: Zone) -> None:
        """``memblock_free_all``: free the zone as the largest aligned blocks, ascending.

        5.10+ frees boot memory with FPI_TO_TAIL (``__free_pages_core``); earlier kernels
        use the ordinary head/tail rule.  6.12 frees a block larger than a pageblock one
        pageblock at a time (``split_large_buddy``), and the halves merge again.
        Reporting devices register later, so boot frees never notify (the static key is
        still off).
        """
        top = self.max_order - 1
        tail = self.rules.boot_free_to_tail
        chunk = self.pageblock_order if self.rules.freelist_hygiene else top
        # Absent frames are never freed: they stay as the allocator found them, taken.
        present = []
        at = z.start_pfn
        for start_pfn, pages in z.absent:
            i = start_pfn - z.start_pfn
            z.page_state[i : i + pages] = bytes([PS_ALLOCATED]) * pages
            present.append((at, start_pfn))
            at = start_pfn + pages
        present.append((at, z.end_pfn))
        for start, end in present:
            while start < end:
                order = top if start == 0 else min(top, (start & -start).bit_length() - 1)
                while start + (1 << order) > end:
                    order -= 1
                for part in range(start, start + (1 << order), 1 << min(order, chunk)):
                    z.free_one_page(
                        part,
                        min(order, chunk),
                        MIGRATE_MOVABLE,
                        to_tail=tail,
                        notify=False,
                        tail_reason="__free_pages_core() frees boot memory to the tail",
                    )
                start += 1 << order

    # --- lookups -----------------------------------------------------------------------

    @property
    def migratetypes(self) -> tuple[str, ...]:
        return self.mts.names

    @property
    def kernel(self) -> str:
        return self.rules.version

    @property
    def hinting(self) -> str:
        return self.strategy.name

    @property
    def what_if(self) -> str | None:
        """Why this strategy/kernel pairing never ran on a real kernel, or None."""
        return what_if(self.strategy.name, self.rules.version)

    def zone(self, name: str) -> Zone:
        z = self._by_name.get(name)
        if z is None:
            raise UnknownZone(
                f"unknown zone {name!r}: this node has " + ", ".join(x.name for x in self.zones)
            )
        return z

    def zone_of(self, pfn: int) -> Zone | None:
        for z in self.zones:
            if z.start_pfn <= pfn < z.end_pfn:
                return z
        return None

    # --- virtual time --------------------------------------------------------------------

    @property
    def clock(self) -> float:
        """Virtual time in seconds (kept as integer nanoseconds, so it never drifts)."""
        return self._clock_ns / NSEC_PER_SEC

    @property
    def clock_ns(self) -> int:
        return self._clock_ns

    def schedule(self, delay_ns: int, label: str, fn: Callable[[], None]) -> None:
        """``schedule_delayed_work``: run ``fn`` at clock + delay."""
        self._work_seq += 1
        heapq.heappush(self._work, _Work(self._clock_ns + delay_ns, self._work_seq, label, fn))

    def pending_work(self) -> list[tuple[float, str]]:
        return [(w.due_ns / NSEC_PER_SEC, w.label) for w in sorted(self._work)]

    def next_work_ns(self) -> int | None:
        return self._work[0].due_ns if self._work else None

    def advance(self, seconds: float) -> None:
        """Move the clock forward, running due delayed work in time order."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError(f"advance() needs a number of seconds >= 0, got {seconds!r}")
        target = self._clock_ns + round(seconds * NSEC_PER_SEC)
        self.advance_to_ns(target)

    def advance_to_ns(self, target_ns: int) -> None:
        while self._work and self._work[0].due_ns <= target_ns:
            work = heapq.heappop(self._work)
            self._run_kswapd(work.due_ns)
            self._clock_ns = max(self._clock_ns, work.due_ns)
            work.fn()
        self._run_kswapd(target_ns)
        self._clock_ns = max(self._clock_ns, target_ns)

    def run_next_work(self) -> str | None:
        """Run exactly one delayed work item (moving the clock to it); its label, or None."""
        if not self._work:
            return None
        work = heapq.heappop(self._work)
        self._run_kswapd(work.due_ns)
        self._clock_ns = max(self._clock_ns, work.due_ns)
        work.fn()
        return work.label

    def _wakeup_kswapd(self) -> None:
        """rmqueue's end: a zone with ZONE_BOOSTED_WATERMARK has the bit cleared and
        kswapd woken, which resets the boost ``KSWAPD_BOOST_RESET_S`` later."""
        for z in self.zones:
            if z.boosted:
                z.boosted = False
                self._boost_reset_ns[z.index] = self._clock_ns + KSWAPD_BOOST_RESET_NS

    def _run_kswapd(self, now_ns: int) -> None:
        """kswapd's ``balance_pgdat`` as the model has it: it reclaims nothing and
        clears the boost of every zone whose reset is due by ``now_ns``."""
        if not self._boost_reset_ns:
            return
        for index, due_ns in list(self._boost_reset_ns.items()):
            if due_ns <= now_ns:
                del self._boost_reset_ns[index]
                z = self.zones[index]
                if self.events is not None:
                    self.events.append(
                        ev.WatermarkBoost(
                            fn="balance_pgdat", zone=z.name, old_boost=z.watermark_boost, boost=0
                        )
                    )
                z.set_watermark_boost(0)

    def hinting_state(self) -> dict[str, Any]:
        """The strategy's state: zone flags, boundaries and counters (v2), or the
        reporting state machine; plus the next scheduled run on the virtual clock."""
        state = self.strategy.state()
        nxt = self.next_work_ns()
        state["next_run"] = None if nxt is None else nxt / NSEC_PER_SEC
        state["pending"] = [label for _, label in self.pending_work()]
        return state

    # --- events --------------------------------------------------------------------------

    def take_events(self) -> list[ev.Event]:
        """The events since the last call, oldest first (empty with ``events=False``)."""
        if self.events is None:
            return []
        out = list(self.events)
        self.events.clear()
        return out

    # --- allocation ------------------------------------------------------------------------

    def _alloc_arg_error(self, order: object, migratetype: object, zone: object) -> NoReturn:
        """Raise the specific error for a bad ``alloc()`` argument."""
        if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order < self.max_order:
            raise ValueError(f"order must be an integer 0..{self.max_order - 1}, got {order!r}")
        if not isinstance(migratetype, str):
            raise UnknownMigratetype(f"migratetype must be a name, got {migratetype!r}")
        mt = self.mts.index(migratetype)
        if mt >= MIGRATE_PCPTYPES:
            raise UnknownMigratetype(
                f"cannot allocate with migratetype {migratetype!r}: requests are Unmovable, "
                f"Movable or Reclaimable; {migratetype} blocks are only reached through "
                "reserves or fallbacks"
            )
        if zone is not None:
            self.zone(zone if isinstance(zone, str) else repr(zone))
        raise AssertionError("unreachable: the arguments are valid")

    def alloc(
        self,
        order: int = 0,
        migratetype: str = "Movable",
        zone: str | None = None,
        touch: bool = True,
        cpu: int | None = None,
    ) -> int:
        """Allocate a block of 2**order pages and return its first pfn.

        ``zone=None`` walks the zonelist from the highest zone down; ``zone="X"``
        allocates from zone X only.  Raises ``OutOfMemory`` naming why every zone failed.
        ``touch`` (the default) writes the pages, so the host backs them (``node.host``).
        ``cpu`` is the CPU the request runs on (its per-cpu lists); ``None`` takes the
        next CPU in turn (see PCP_CPU_ROUND_ROBIN in assumptions.py).

        Passes, as ``__alloc_pages_nodemask`` makes them: the fast path at the low
        watermark (first with ALLOC_NOFRAGMENT when it applies, then without), then the
        slow path at the min watermark, where the kernel would reclaim and the model
        gives up.
        """
        # Valid arguments cost a few cheap tests; anything else gets its specific error.
        try:
            mt = self._alloc_mts[migratetype]  # Unmovable, Movable or Reclaimable
        except (KeyError, TypeError):
            self._alloc_arg_error(order, migratetype, zone)
        if type(order) is not int or order < 0 or order >= self.max_order:
            self._alloc_arg_error(order, migratetype, zone)
        c = self._cpu_next if cpu is None else self._check_cpu(cpu)
        if zone is None:
            z = self._zonelist[0]
        else:
            only = self._by_name.get(zone) if isinstance(zone, str) else None
            if only is None:
                self._alloc_arg_error(order, migratetype, zone)
            z = only
        # Fast path: the preferred zone is above its low watermark and has a block on
        # the requested type's lists (what the first pass of get_page_from_freelist
        # would find).  Orders with per-cpu lists take those when they are on.
        i = -1
        pages = 1 << order
        left = z.nr_free_pages - pages + 1  # free pages after the allocation, plus one
        if left <= z.wmark_low:
            pass
        elif not self._pcp_tuned:  # 5.x
            if order or not self.pcp_enabled:
                i = z.rmqueue_smallest(order, mt)
                if i >= 0:
                    z.nr_free_pages -= pages
            elif self.events is None:
                # __rmqueue_pcplist from a list that has pages (events off: the general
                # path below does the same and tells it).
                pcp = z.per_cpu_pageset[c]
                lst = pcp.lists[mt]
                if lst:
                    i = lst.popleft()
                    pcp.count -= 1
        else:  # 6.12
            if not self._pcp_order[order]:
                # a block on the request's own lists is also the one zone_watermark_ok asks for
                i = z.rmqueue_smallest(order, mt)
                if i >= 0:
                    z.nr_free_pages -= pages
            elif self.events is None:
                pcp = z.per_cpu_pageset[c]
                # order_to_pindex(), inline for the orders up to COSTLY
                lst = pcp.lists[
                    MIGRATE_PCPTYPES * order + mt
                    if order <= PAGE_ALLOC_COSTLY_ORDER
                    else pcp.order_to_pindex(mt, order)
                ]
                # zone_watermark_ok's high-order part: a block on the buddy lists, even
                # though the request is served from the per-cpu list
                if lst and (not order or z.has_block(order)):
                    pcp.free_count >>= 1
                    i = lst.popleft()
                    pcp.count -= pages
            # ZONE_BELOW_HIGH, tested before the allocation, set once it succeeded (as
            # _get_page_from_freelist tests it; the preferred zone's own reserve is 0).
            # Its high-order part (a free block of >= order on an allowed list) holds
            # whenever the fast path succeeds, so only the free pages are left to test.
            if i >= 0 and left <= z.wmark_high and not z.below_high:
                z.below_high = True
        if i < 0:
            z, i = self._get_page_from_freelist(order, mt, migratetype, zone, c)
        if self.cpus > 1 and cpu is None:
            self._cpu_next = (c + 1) % self.cpus

        # prep_new_page: the block at i is now an allocated block of this order.
        z.alloc_order[i] = order + 1
        z.alloc_mt[i] = mt
        if order:
            z.page_state_view[i : i + pages] = _ALLOC_FILL[order]
        else:
            z.page_state[i] = PS_ALLOCATED  # one byte: an index store is ~10x a slice's speed
        pfn = z.start_pfn + i
        events = self.events
        # The guest writes the pages.  A block the host backs already (the common case)
        # has nothing to fault in, and that test is much cheaper than the call.
        if touch:
            mem = self.host.backing[z.name]
            if mem[i] != RESIDENT if not order else not mem.startswith(RESIDENT_BLOCK[order], i):
                refaults = self.host.touch(z, i, order)
                if refaults and events is not None:
                    self._refault_event(z, i, order, refaults)
        if events is not None:
            events.append(
                ev.Alloc("__alloc_pages_nodemask", z.name, pfn, order, self.mts.names[mt])
            )
        return pfn

    def _check_cpu(self, cpu: object) -> int:
        if type(cpu) is not int or not 0 <= cpu < self.cpus:
            raise ValueError(f"cpu must be an integer 0..{self.cpus - 1}, got {cpu!r}")
        return cpu

    def _get_page_from_freelist(
        self, order: int, mt: int, migratetype: str, zone: str | None, cpu: int
    ) -> tuple[Zone, int]:
        """Every pass over the zonelist; (zone, index) of the block taken, or OutOfMemory."""
        if zone is None:
            zonelist = self._zonelist
            passes = self._passes
        else:
            zonelist = (self._by_name[zone],)
            passes = _PASSES_NOFRAG if zone == "Normal" else _PASSES_PLAIN
        # classzone_idx: the preferred zone, whose lowmem_reserve[] entry each zone adds
        classzone = zonelist[0].index
        pcp = self._pcp_order[order]
        tuned = self._pcp_tuned
        set_below_high: list[Zone] | None = None  # undone if the request fails
        # Zones skipped on the way, told to the narration only if the request succeeds
        # (a failed request leaves the node exactly as it was, event list included).
        skipped: list[ev.Event] | None = [] if self.events is not None else None
        for use_min, nofragment in passes:
            for z in zonelist:
                if (
                    tuned
                    and not z.below_high
                    and not z.watermark_ok(order, z.wmark_high + z.lowmem_reserve[classzone])
                ):
                    # 6.7+: an allocation that finds the zone below its high watermark
                    # sets ZONE_BELOW_HIGH, which makes frees shrink pcp->high
                    z.below_high = True
                    set_below_high = [*(set_below_high or ()), z]
                # zone_watermark_ok: free pages after the allocation must stay above the
                # mark, and a high-order request needs a free block of at least its order
                # on an Unmovable, Movable or Reclaimable list (or CMA, for a movable
                # one).  Without that block the zone is skipped before rmqueue: under
                # ALLOC_NOFRAGMENT, 5.x's __rmqueue_fallback would otherwise search down to
                # pageblock_order and re-type smaller pageblocks for a request it cannot
                # serve.  The mark is min or low (+ the zone's watermark boost), plus the
                # zone's lowmem_reserve against requests that prefer a higher zone.
                mark = (z.wmark_min if use_min else z.wmark_low) + z.lowmem_reserve[classzone]
                if z.nr_free_pages - (1 << order) + 1 > mark and (
                    not order or z.has_block(order, mt == MIGRATE_MOVABLE)
                ):
                    start = len(self.events) if self.events is not None else 0
                    if pcp:
                        i = self._rmqueue_pcplist(z, order, mt, nofragment, cpu)
                    else:
                        i = z.rmqueue(order, mt, nofragment)
                        if i >= 0:
                            z.nr_free_pages -= 1 << order
                    if i >= 0:
                        if self.events is not None and skipped:
                            self.events[start:start] = skipped
                        self._wakeup_kswapd()
                        return z, i
                if skipped is not None:
                    skipped.append(
                        self._skip_event(z, order, mt, mark, use_min, nofragment, classzone)
                    )
        self._wakeup_kswapd()
        # A refused request changes nothing the caller can see (the kernel would leave
        # ZONE_BELOW_HIGH set; the next allocation sets it again).
        for z in set_below_high or ():
            z.below_high = False
        reasons = tuple(self._oom_reason(z, order, migratetype, classzone) for z in zonelist)
        raise OutOfMemory(
            f"cannot allocate an order-{order} {migratetype} block: "
            + "; ".join(reasons)
            + " (the model has no reclaim or compaction)",
            reasons,
        )

    def _refault_event(self, z: Zone, i: int, order: int, refaults: int) -> None:
        """A touch faulted pages back in that the host had discarded."""
        assert self.events is not None
        self.events.append(
            ev.Refault(
                fn="handle_mm_fault", zone=z.name, pfn=z.start_pfn + i, order=order, pages=refaults
            )
        )

    def touch(self, pfn: int, order: int = 0) -> None:
        """The guest writes the allocated block at ``pfn`` (a refault if the host dropped it)."""
        z = self.zone_of(pfn) if type(pfn) is int else None
        if z is None or type(order) is not int or not 0 <= order < self.max_order:
            raise ValueError(
                f"touch() needs a pfn inside a zone and an order, got {pfn!r}, {order!r}"
            )
        i = pfn - z.start_pfn
        if z.alloc_order[i] != order + 1:
            raise ValueError(
                f"pfn {ev.hexpfn(pfn)} is not an allocated order-{order} block: "
                "only allocated memory is touched"
            )
        refaults = self.host.touch(z, i, order)
        if refaults and self.events is not None:
            self._refault_event(z, i, order, refaults)

    def _oom_reason(self, z: Zone, order: int, migratetype: str, classzone: int) -> str:
        mark = z.wmark_min + z.lowmem_reserve[classzone]
        if z.nr_free_pages - (1 << order) + 1 <= mark:
            return (
                f"zone {z.name} has {z.nr_free_pages} free pages and taking {1 << order} "
                f"would leave it below its min watermark ({self._mark_text(z, mark, classzone)})"
            )
        return (
            f"zone {z.name} has no free block of order >= {order} that a {migratetype} "
            "request may use"
        )

    def _mark_text(self, z: Zone, mark: int, classzone: int) -> str:
        """A mark in words: its pages, and the boost and lowmem_reserve it includes."""
        parts = []
        if z.watermark_boost:
            parts.append(f"a boost of {z.watermark_boost}")
        reserve = z.lowmem_reserve[classzone]
        if reserve:
            preferred = self.zones[classzone].name
            parts.append(f"lowmem_reserve {reserve} against {preferred} requests")
        return f"{mark} pages" + (", with " + " and ".join(parts) if parts else "")

    def _skip_event(
        self,
        z: Zone,
        order: int,
        mt: int,
        mark: int,
        use_min: bool,
        nofragment: bool,
        classzone: int,
    ) -> ev.Event:
        if z.nr_free_pages - (1 << order) + 1 <= mark:
            reason = (
                f"{z.nr_free_pages} free pages; taking {1 << order} would leave it below its "
                f"{'min' if use_min else 'low'} watermark ({self._mark_text(z, mark, classzone)})"
            )
        elif nofragment and (not order or z.has_block(order, mt == MIGRATE_MOVABLE)):
            reason = (
                "no block on its own lists, and ALLOC_NOFRAGMENT allows only whole-pageblock steals"
            )
        else:  # zone_watermark_ok's high-order part, or no block rmqueue may take
            reason = f"no free block of order >= {order} that this request may use"
        return ev.ZoneSkip(
            fn="get_page_from_freelist",
            zone=z.name,
            order=order,
            free_pages=z.nr_free_pages,
            mark="min" if use_min else "low",
            mark_pages=mark,
            reason=reason,
        )

    def _pcp_event_keys(self, order: int, cpu: int) -> tuple[int | None, int | None]:
        """The ``order`` and ``cpu`` fields of pcp events: the order only where lists
        have orders (6.12), the CPU only where there is more than one."""
        return (order if self._pcp_tuned else None), (cpu if self.cpus > 1 else None)

    def _rmqueue_pcplist(self, z: Zone, order: int, mt: int, nofragment: bool, cpu: int) -> int:
        """``rmqueue_pcplist``/``__rmqueue_pcplist``: the head of the list, which an empty
        list first refills with ``rmqueue_bulk`` (the blocks keep physical order)."""
        pcp = z.per_cpu_pageset[cpu]
        tuned = self._pcp_tuned
        free_count = pcp.free_count
        if tuned:
            pcp.free_count >>= 1  # an allocation halves the run of frees
            lst = pcp.lists[pcp.order_to_pindex(mt, order)]
        else:
            lst = pcp.lists[mt]
        pages = 1 << order
        if not lst:
            saved = (free_count, pcp.high, pcp.alloc_factor)
            batch = pcp.nr_pcp_alloc(order, z.below_high) if tuned else pcp.batch
            got = 0
            fill = FILLS[PS_PCP][order]
            state, view, free_mt = z.page_state, z.page_state_view, z.free_mt
            for _ in range(batch):
                # __rmqueue: its first step (the request's own lists) called directly
                i = z.rmqueue_smallest(order, mt)
                if i < 0:
                    i = z.rmqueue(order, mt, nofragment)
                    if i < 0:
                        break
                lst.append(i)
                free_mt[i] = mt
                if order:
                    view[i : i + pages] = fill
                else:
                    state[i] = PS_PCP
                got += 1
            z.nr_free_pages -= got * pages
            pcp.count += got * pages
            if self.events is not None and got:
                o, c = self._pcp_event_keys(order, cpu)
                self.events.append(
                    ev.PcpRefill("rmqueue_bulk", z.name, self.mts.names[mt], got, o, c)
                )
            if not lst:
                # nothing to take: the tuning is left as it was (see _get_page_from_freelist)
                pcp.free_count, pcp.high, pcp.alloc_factor = saved
                return -1
        i = lst.popleft()
        pcp.count -= pages
        if self.events is not None:
            o, c = self._pcp_event_keys(order, cpu)
            self.events.append(
                ev.PcpDel(
                    "__rmqueue_pcplist",
                    z.name,
                    z.start_pfn + i,
                    self.mts.names[mt],
                    "head",
                    len(lst),
                    "allocation",
                    o,
                    c,
                )
            )
        return i

    # --- freeing ---------------------------------------------------------------------------

    def free(self, pfn: object, order: object = 0, cpu: int | None = None) -> None:
        """Free the allocated block of 2**order pages at ``pfn``.

        Raises ``InvalidFree`` (and changes nothing) for a double free, a pfn that is
        not the head of an allocated block, a wrong order, a misaligned or unknown pfn.
        ``cpu`` is the CPU the free runs on, as for ``alloc``.
        """
        # pfn and order are integers, typed object so that anything else reaches these
        # checks: a compiled build (make compiled) refuses an argument of the wrong type
        # with TypeError before the body runs, and the model's answer is InvalidFree.
        if type(pfn) is not int or type(order) is not int:
            pfn, order = _free_ints(pfn, order)  # InvalidFree, or an int subclass
        # Valid arguments cost a few cheap tests; anything else gets its specific error.
        # Most memory is allocated from the preferred (highest) zone, so look there first.
        preferred = self._zonelist[0]
        z: Zone | None = preferred
        if not preferred.start_pfn <= pfn < preferred.end_pfn:
            z = self.zone_of(pfn)
        # alloc_order holds order + 1 at an allocated head and 0 elsewhere
        if z is None or order < 0 or z.alloc_order[pfn - z.start_pfn] != order + 1:
            z, i = self._validate_free(pfn, order)  # raises with the specific reason
        c = self._cpu_next if cpu is None else self._check_cpu(cpu)
        if cpu is None and self.cpus > 1:
            self._cpu_next = (c + 1) % self.cpus
        i = pfn - z.start_pfn
        z.alloc_order[i] = 0
        # get_pfnblock_migratetype at free time
        mt = z.pageblock_mt[(pfn >> z.pageblock_order) - z.first_pageblock]
        if self.events is not None:
            self.events.append(ev.Free("__free_pages", z.name, pfn, order, self.mts.names[mt]))
        if self._pcp_order[order]:
            if self._pcp_tuned:
                self._free_unref_page_612(z, i, order, mt, c)
            else:
                self._free_unref_page(z, i, mt, c)
            return
        if order > z.pageblock_order and self.rules.freelist_hygiene:
            # 6.10+ free_one_page() -> split_large_buddy(): pageblock by pageblock, each
            # with its own pageblock's type; the parts merge again where they may.
            step = 1 << z.pageblock_order
            for part in range(pfn, pfn + (1 << order), step):
                block_mt = z.pageblock_mt[(part >> z.pageblock_order) - z.first_pageblock]
                z.free_one_page(part, z.pageblock_order, block_mt)
            return
        z.free_one_page(pfn, order, mt)

    def _validate_free(self, pfn: int, order: int) -> tuple[Zone, int]:
        if not 0 <= order < self.max_order:
            raise InvalidFree(f"order {order} is out of range: orders run 0..{self.max_order - 1}")
        z = self.zone_of(pfn)
        if z is None:
            spans = ", ".join(
                f"{x.name} {ev.hexpfn(x.start_pfn)}..{ev.hexpfn(x.end_pfn - 1)}" for x in self.zones
            )
            raise InvalidFree(f"pfn {ev.hexpfn(pfn)} is outside every zone ({spans})")
        if pfn & ((1 << order) - 1):
            raise InvalidFree(
                f"pfn {ev.hexpfn(pfn)} is not aligned for order {order}: an order-{order} block "
                f"starts at a multiple of {1 << order:#x}"
            )
        i = pfn - z.start_pfn
        a = z.alloc_order[i]
        if a == order + 1:
            return z, i
        if a:
            raise InvalidFree(
                f"wrong order: pfn {ev.hexpfn(pfn)} was allocated as an order-{a - 1} block, not "
                f"order {order}"
            )
        state = z.page_state[i]
        for start_pfn, pages in z.absent:
            if start_pfn <= pfn < start_pfn + pages:
                raise InvalidFree(
                    f"pfn {ev.hexpfn(pfn)} is absent from zone {z.name} (a hole or a reserved "
                    "range the buddy allocator never manages): it was never allocated"
                )
        if state == PS_PCP:
            raise InvalidFree(
                f"double free: pfn {ev.hexpfn(pfn)} is already free (on the per-cpu list)"
            )
        if state == PS_ISOLATED:
            raise InvalidFree(
                f"double free: pfn {ev.hexpfn(pfn)} is free and isolated (in flight to the host)"
            )
        head, k = self._block_of(z, i)
        if state == PS_ALLOCATED:
            raise InvalidFree(
                f"pfn {ev.hexpfn(pfn)} is not the start of an allocation: it lies inside the "
                f"order-{k} "
                f"block allocated at pfn {ev.hexpfn(z.start_pfn + head)}; free that pfn with order "
                f"{k}"
            )
        raise InvalidFree(
            f"double free: pfn {ev.hexpfn(pfn)} is already free (part of the free order-{k} block "
            f"at pfn {ev.hexpfn(z.start_pfn + head)})"
        )

    @staticmethod
    def _block_of(z: Zone, i: int) -> tuple[int, int]:
        """(head index, order) of the free or allocated block that holds page ``i``."""
        pfn = z.start_pfn + i
        for k in range(z.max_order):
            hi = (pfn & ~((1 << k) - 1)) - z.start_pfn
            if hi < 0:
                break
            if z.buddy_order[hi] == k + 1 or z.alloc_order[hi] == k + 1:
                return hi, k
        return i, 0

    def _pcp_add_event(self, z: Zone, i: int, mt: int, count: int, order: int, cpu: int) -> None:
        assert self.events is not None
        o, c = self._pcp_event_keys(order, cpu)
        self.events.append(
            ev.PcpAdd(
                "free_unref_page_commit",
                z.name,
                z.start_pfn + i,
                self.mts.names[mt],
                "head",
                count,
                o,
                c,
            )
        )

    def _free_unref_page(self, z: Zone, i: int, mt: int, cpu: int) -> None:
        """``free_unref_page_commit`` (5.x): park at the head of a per-cpu list; drain at high."""
        if mt >= MIGRATE_PCPTYPES:
            if mt == self.mts.isolate:
                z.free_one_page(z.start_pfn + i, 0, mt)
                return
            list_mt = MIGRATE_MOVABLE
        else:
            list_mt = mt
        pcp = z.per_cpu_pageset[cpu]
        pcp.lists[list_mt].appendleft(i)
        z.free_mt[i] = mt  # set_pcppage_migratetype: the pageblock type at free time
        z.page_state[i] = PS_PCP
        pcp.count += 1
        if self.events is not None:
            self._pcp_add_event(z, i, list_mt, len(pcp.lists[list_mt]), 0, cpu)
        if pcp.count >= pcp.high:
            self._free_pcppages_bulk(
                z, pcp, pcp.batch, f"the per-cpu lists reached high={pcp.high}", cpu
            )

    def _free_unref_page_612(self, z: Zone, i: int, order: int, mt: int, cpu: int) -> None:
        """``free_unref_page``/``free_unref_page_commit`` (6.12): park at the head of the
        (order, migratetype) list; when the lists reach the tuned ``high``, drain
        ``nr_pcp_free`` pages starting with this list, and a drain that lifts the zone
        above its high watermark clears ZONE_BELOW_HIGH."""
        if mt >= MIGRATE_PCPTYPES:
            if mt == self.mts.isolate:
                z.free_one_page(z.start_pfn + i, order, mt)
                return
            mt = MIGRATE_MOVABLE  # HighAtomic and CMA pages wait on the Movable lists
        pcp = z.per_cpu_pageset[cpu]
        pcp.alloc_factor >>= 1  # a free halves the refill's growth
        pindex = (
            MIGRATE_PCPTYPES * order + mt  # order_to_pindex(), inline for the orders up to COSTLY
            if order <= PAGE_ALLOC_COSTLY_ORDER
            else pcp.order_to_pindex(mt, order)
        )
        lst = pcp.lists[pindex]
        lst.appendleft(i)
        z.free_mt[i] = mt
        pages = 1 << order
        if order:
            z.page_state_view[i : i + pages] = FILLS[PS_PCP][order]
        else:
            z.page_state[i] = PS_PCP
        pcp.count += pages
        if self.events is not None:
            self._pcp_add_event(z, i, mt, len(lst), order, cpu)
        batch = pcp.batch
        free_high = False
        if order and order <= PAGE_ALLOC_COSTLY_ORDER:
            # Consecutive high-order frees without an allocation drain harder.
            free_high = (
                pcp.free_count >= batch
                and bool(pcp.flags & PCPF_PREV_FREE_HIGH_ORDER)
                and (not pcp.flags & PCPF_FREE_HIGH_BATCH or pcp.count >= batch)
            )
            pcp.flags |= PCPF_PREV_FREE_HIGH_ORDER
        elif pcp.flags & PCPF_PREV_FREE_HIGH_ORDER:
            pcp.flags &= ~PCPF_PREV_FREE_HIGH_ORDER
        if pcp.free_count < batch << PCP_BATCH_SCALE_MAX:
            pcp.free_count += pages
        high = pcp.high
        if (
            not free_high
            and not z.below_high
            and pcp.count < high <= pcp.high_max
            and high >= pcp.high_min
        ):
            return  # nr_pcp_high() would keep high as it is, and the lists are below it
        high = pcp.nr_pcp_high(z.below_high, free_high)
        if pcp.count >= high:
            reason = (
                "consecutive high-order frees (free_high)"
                if free_high
                else f"the per-cpu lists reached high={high}"
            )
            self._free_pcppages_bulk(z, pcp, pcp.nr_pcp_free(high, free_high), reason, cpu, pindex)
            # zone_watermark_ok(zone, 0, high_wmark_pages(zone), ZONE_MOVABLE, 0)
            if z.below_high and z.nr_free_pages > z.wmark_high + z.lowmem_reserve[-1]:
                z.below_high = False

    def _free_pcppages_bulk(
        self, z: Zone, pcp: PerCpuPages, count: int, reason: str, cpu: int, pindex: int = 0
    ) -> None:
        """``free_pcppages_bulk``: round-robin over the lists, from each list's tail.

        5.x takes up to a growing share of each list in turn and frees the pages with the
        type cached at free time; 6.12 starts with list ``pindex``, empties a list before
        the next and frees each block with its pageblock's type of now.
        """
        count = min(count, pcp.count)
        if count <= 0:
            return
        if self.events is not None:
            self.events.append(
                ev.PcpDrain(
                    "free_pcppages_bulk", z.name, count, reason, cpu if self.cpus > 1 else None
                )
            )
        if self._pcp_tuned:
            self._free_pcppages_bulk_612(z, pcp, count, cpu, pindex)
            return
        taken: list[int] = []
        mt = 0
        batch_free = 0
        while count:
            while True:
                batch_free += 1
                mt = (mt + 1) % MIGRATE_PCPTYPES
                if pcp.lists[mt]:
                    break
            if batch_free == MIGRATE_PCPTYPES:  # the only non-empty list: free from it
                batch_free = count
            lst = pcp.lists[mt]
            while True:
                i = lst.pop()
                pcp.count -= 1
                taken.append(i)
                if self.events is not None:
                    self.events.append(
                        ev.PcpDel(
                            "free_pcppages_bulk",
                            z.name,
                            z.start_pfn + i,
                            self.mts.names[mt],
                            "tail",
                            len(lst),
                            "returned to the buddy lists",
                            None,
                            cpu if self.cpus > 1 else None,
                        )
                    )
                count -= 1
                batch_free -= 1
                if not count or not batch_free or not lst:
                    break
        isolated = z.nr_isolate_pageblock > 0
        for i in taken:
            mt_i = z.get_pageblock_migratetype(i) if isolated else z.free_mt[i]
            z.free_one_page(z.start_pfn + i, 0, mt_i)

    def _free_pcppages_bulk_612(
        self, z: Zone, pcp: PerCpuPages, count: int, cpu: int, pindex: int
    ) -> None:
        lists = pcp.lists
        pindex -= 1  # the requested list is drained first
        events = self.events
        while count > 0:
            while True:
                pindex += 1
                if pindex == len(lists):
                    pindex = 0
                if lists[pindex]:
                    break
            lst = lists[pindex]
            order = pcp.pindex_to_order(pindex)
            pages = 1 << order
            while True:
                i = lst.pop()
                count -= pages
                pcp.count -= pages
                pfn = z.start_pfn + i
                # 6.10 "mm: page_alloc: remove pcppage migratetype caching": the
                # pageblock's type now, not the one at free time
                mt = z.pageblock_mt[(pfn >> z.pageblock_order) - z.first_pageblock]
                if events is not None:
                    events.append(
                        ev.PcpDel(
                            "free_pcppages_bulk",
                            z.name,
                            pfn,
                            self.mts.names[z.free_mt[i]],
                            "tail",
                            len(lst),
                            "returned to the buddy lists",
                            order,
                            cpu if self.cpus > 1 else None,
                        )
                    )
                z.free_one_page(pfn, order, mt)
                if count <= 0 or not lst:
                    break

    def drain_pcp(self, zone: str | None = None) -> None:
        """``drain_all_pages``: every CPU returns its per-cpu pages to the buddy lists
        (6.12 ``drain_pages_zone``: in chunks of at most batch << CONFIG_PCP_BATCH_SCALE_MAX)."""
        zones = self.zones if zone is None else (self.zone(zone),)
        for cpu, pcps in enumerate(self.pcp_sets):
            for z in zones:
                pcp = pcps.get(z.name)
                while pcp is not None and pcp.count:
                    chunk = pcp.count
                    if self._pcp_tuned:
                        chunk = min(chunk, pcp.batch << PCP_BATCH_SCALE_MAX)
                    self._free_pcppages_bulk(z, pcp, chunk, "drain_all_pages()", cpu)

    # --- inspection -------------------------------------------------------------------------

    def page(self, pfn: int) -> PageInfo:
        """Everything about one page frame, including the strategy's bits on its block head."""
        z = self.zone_of(pfn) if type(pfn) is int else None
        if z is None:
            raise ValueError(f"pfn {pfn!r} is outside every zone")
        i = pfn - z.start_pfn
        state = z.page_state[i]
        if state == PS_ISOLATED:
            head, k = self._in_flight_block(z, i)
        elif state == PS_PCP:
            head, k = self._pcp_block_of(z, i)
        else:
            head, k = self._block_of(z, i)
        free_head = z.buddy_order[head] == k + 1
        flagged = free_head and bool(z.flags[head])
        host = HOST_STATE_NAMES[self.host.state_of(z, i)]
        bits = page_bits(self.strategy.name, free_head, flagged, host)
        return PageInfo(
            pfn=pfn,
            zone=z.name,
            state=PAGE_STATE_NAMES[state],
            allocated=state == PS_ALLOCATED,
            block_pfn=z.start_pfn + head,
            block_order=k,
            migratetype=self.mts.names[z.get_pageblock_migratetype(i)],
            list_migratetype=self.mts.names[z.free_mt[head]] if free_head else None,
            hinted=flagged and self.strategy.name == "hinting-v2",
            reported=flagged and self.strategy.name == "reporting",
            in_flight=state == PS_ISOLATED,
            host=host,
            head_flags=bits.flags,
            head_page_type=bits.page_type,
            head_page_type_value=bits.page_type_value,
            kdump_view=bits.kdump_view,
        )

    def _pcp_block_of(self, z: Zone, i: int) -> tuple[int, int]:
        """(head index, order) of the per-cpu block holding page ``i`` (6.12 lists
        hold blocks up to the THP order)."""
        for pcps in self.pcp_sets:
            pcp = pcps[z.name]
            for pindex, lst in enumerate(pcp.lists):
                order = pcp.pindex_to_order(pindex) if self._pcp_tuned else 0
                head = ((z.start_pfn + i) & ~((1 << order) - 1)) - z.start_pfn
                if head in lst:
                    return head, order
        return i, 0

    def _in_flight_block(self, z: Zone, i: int) -> tuple[int, int]:
        for head, order in self.strategy.in_flight(z):
            if head <= i < head + (1 << order):
                return head, order
        return i, 0

    def nr_free_pages(self) -> int:
        """``NR_FREE_PAGES`` over all zones (what /proc/meminfo's MemFree shows)."""
        return sum(z.nr_free_pages for z in self.zones)

    def page_states(self) -> dict[str, bytes]:
        """One byte per page frame and zone (see ``pagestate``), for the memory map."""
        return {z.name: z.page_state_bytes() for z in self.zones}

    def check(self) -> None:
        """Raise ``InvariantViolation`` naming the first broken rule (spec §5)."""
        from .invariants import check_node

        check_node(self)

    # --- /proc formats ----------------------------------------------------------------------

    def buddyinfo(self) -> str:
        """``/proc/buddyinfo``, byte for byte."""
        return format_buddyinfo([BuddyinfoRow(0, z.name, tuple(z.nr_free)) for z in self.zones])

    def pagetypeinfo(self) -> str:
        """``/proc/pagetypeinfo``, byte for byte."""
        return pagetypeinfo_of(self)
