"""Alexander Duyck's "Hinted pages" (``[PATCH v2 4/5]``, July 2019; never merged).

The seed design, followed literally (spec §2): a hinted free block carries
``PageHinted`` - the Offline page *type* set together with Buddy - and a per-list
``boundary[order - PAGE_HINTING_MIN_ORDER][migratetype]`` splits each list of the zone
being processed into an unhinted front and a hinted tail.  ``get_unhinted_tail``
makes every tail insert land just before the boundary, so hinted blocks stay together
at the tail and allocations, which take the head, reuse warm pages first.

``hinted_pages[]`` counts hinted blocks per order and lives in the zone (outside
``free_area`` in the patch, to avoid false sharing).  A free whose final order is at
least ``PAGE_HINTING_MIN_ORDER`` requests hinting once the zone holds at least
``PAGE_HINTING_HWM`` (32) unhinted blocks of that order; the worker starts 100 ms
later and cycles one zone at a time: fill a 32-entry batch from just before the
boundary (orders 10 then 9, migratetypes 5..0), hand it to the host, put every block
back behind the boundary, repeat while the zone stays REQUESTED.

As in ``reporting.py`` the worker is split into work items (fill, report, drain) on
the virtual clock, and all state is plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import events as ev
from .assumptions import REPORT_LATENCY_S
from .errors import InvariantViolation
from .pagestate import PS_FREE, PS_ISOLATED
from .strategy import Strategy, constants_table, make_constants, mark_flagged, put_back

if TYPE_CHECKING:
    from .node import Node
    from .zone import Zone

NSEC = 1_000_000_000
ZONE_PAGE_HINTING_REQUESTED = 1
ZONE_PAGE_HINTING_ACTIVE = 2


@dataclass(frozen=True)
class HintingConstants:
    """Every constant of the v2 design; the defaults are the patch's."""

    # PAGE_HINTING_MIN_ORDER = pageblock_order (None: the node's pageblock_order).
    min_order: int | None = None
    # PAGE_HINTING_HWM: unhinted blocks of one order needed to request hinting.
    hwm: int = 32
    # phdev->capacity = VIRTIO_BALLOON_ARRAY_HINTS_MAX: blocks per batch.
    capacity: int = 32
    # schedule_delayed_work(&phdev->work, HZ / 10).
    delay_s: float = 0.1
    # Not a kernel constant: the modelled host round trip of one batch ([inf]).
    report_latency_s: float = REPORT_LATENCY_S

    @classmethod
    def from_options(cls, options: dict[str, Any], max_order: int) -> HintingConstants:
        return make_constants(cls, options, "hinting-v2", max_order)


KERNEL_HINTING = HintingConstants()


class HintingV2(Strategy):
    name = "hinting-v2"

    def __init__(self, options: dict[str, Any], max_order: int, pageblock_order: int) -> None:
        self.constants = HintingConstants.from_options(dict(options), max_order)
        c = self.constants
        self.min_order = pageblock_order if c.min_order is None else c.min_order
        self.capacity = c.capacity
        self.refcnt = 0
        self.node: Node | None = None
        self.zone_flags: list[int] = []
        self.hinted_pages: list[list[int] | None] = []  # zone->hinted_pages, NULL until used
        self.boundary: list[list[int]] = []  # for the zone being processed, local indices
        self.active_zone = -1
        self.process_zone = 0  # where page_hinting_process stands
        self.phase = "idle"  # idle | fill | report | drain
        self.batch: list[tuple[int, int, int]] = []  # (index, order, cached migratetype)
        # A work item queued while the worker runs starts again once it finishes (a
        # workqueue never runs one work item twice at the same time).
        self.rerun = False

    # --- startup and requests ------------------------------------------------------------

    def attach(self, node: Node) -> None:
        """``page_hinting_startup``: request every populated zone, then enable notify."""
        self.node = node
        self.zone_flags = [0] * len(node.zones)
        self.hinted_pages = [None] * len(node.zones)
        for z in node.zones:
            self._request(z, "page_hinting_startup(): every populated zone is requested")
        for z in node.zones:
            z.notify_order = self.min_order

    def notify_free(self, zone: Zone, order: int) -> None:
        """``page_hinting_notify_free``: 32 unhinted blocks of this order request hinting."""
        if self.zone_flags[zone.index] & ZONE_PAGE_HINTING_REQUESTED:
            return
        hinted = self._hinted(zone.index, order)
        if zone.nr_free[order] < hinted + self.constants.hwm:
            return
        self._request(
            zone,
            f"zone {zone.name} has {zone.nr_free[order] - hinted} unhinted order-{order} blocks "
            f"(>= {self.constants.hwm})",
        )

    def _hinted(self, zone_index: int, order: int) -> int:
        counts = self.hinted_pages[zone_index]
        return 0 if counts is None else counts[order - self.min_order]

    def _request(self, zone: Zone, reason: str) -> None:
        """``__page_hinting_request``: REQUESTED, and the first request schedules work."""
        node = self._node()
        self._set_flag(zone, ZONE_PAGE_HINTING_REQUESTED, True, reason.split(":")[0])
        self.refcnt += 1
        when = None
        if self.refcnt == 1:  # atomic_fetch_inc(&refcnt) == 0
            node.schedule(
                round(self.constants.delay_s * NSEC), "hinting: process", self._work_process
            )
            when = node.clock + self.constants.delay_s
        if node.events is not None:
            node.events.append(
                ev.Request(
                    fn="__page_hinting_request",
                    zone=zone.name,
                    order=None,
                    reason=reason,
                    scheduled_at=when,
                )
            )

    def _node(self) -> Node:
        assert self.node is not None, "strategy not attached"
        return self.node

    def _set_flag(self, zone: Zone, bit: int, on: bool, reason: str) -> None:
        flags = self.zone_flags[zone.index]
        new = flags | bit if on else flags & ~bit
        if new == flags:
            return
        self.zone_flags[zone.index] = new
        node = self._node()
        if node.events is not None:
            name = (
                "ZONE_PAGE_HINTING_REQUESTED"
                if bit == ZONE_PAGE_HINTING_REQUESTED
                else "ZONE_PAGE_HINTING_ACTIVE"
            )
            node.events.append(
                ev.StateChange(
                    fn="page_hinting_cycle"
                    if bit == ZONE_PAGE_HINTING_ACTIVE
                    else "__page_hinting_request",
                    zone=zone.name,
                    what=name,
                    old="set" if not on else "clear",
                    new="set" if on else "clear",
                    reason=reason,
                )
            )

    # --- the worker: page_hinting_process and page_hinting_cycle --------------------------

    def _work_process(self) -> None:
        """``page_hinting_process``: start at the first zone and cycle REQUESTED zones."""
        if self.phase != "idle":
            self.rerun = True
            return
        self.process_zone = 0
        self._next_cycle(first=True)

    def _worker_done(self) -> None:
        self.phase = "idle"
        if self.rerun:
            self.rerun = False
            self._work_process()

    def _next_cycle(self, first: bool = False) -> None:
        """The do-while of ``page_hinting_process``, up to the next cycle or the exit."""
        node = self._node()
        nzones = len(node.zones)
        for _ in range(2 * nzones + 1):
            if not first:
                self.process_zone = (self.process_zone + 1) % nzones
                if self.refcnt == 0:
                    self._worker_done()
                    return
            first = False
            if self.zone_flags[self.process_zone] & ZONE_PAGE_HINTING_REQUESTED:
                self._cycle_start(node.zones[self.process_zone])
                return
        self._worker_done()

    def _cycle_start(self, zone: Zone) -> None:
        """Populate metadata, reset every boundary to its list head, set ACTIVE, fill."""
        if self.hinted_pages[zone.index] is None:
            self.hinted_pages[zone.index] = [0] * (zone.max_order - self.min_order)
        lists = zone.lists
        self.boundary = [
            [lists.sentinel(k, mt) for mt in range(zone.nr_mt)]
            for k in range(self.min_order, zone.max_order)
        ]
        self.active_zone = zone.index
        self._set_flag(
            zone,
            ZONE_PAGE_HINTING_ACTIVE,
            True,
            "page_hinting_cycle() starts; boundaries reset to the list heads",
        )
        zone.tail_anchor = self._tail_anchor
        self._work_fill()

    def _tail_anchor(self, order: int, mt: int) -> int:
        """``get_unhinted_tail``: the boundary for orders >= min while ACTIVE."""
        if order < self.min_order:
            return self._zone().lists.sentinel(order, mt)
        return self.boundary[order - self.min_order][mt]

    def _zone(self) -> Zone:
        return self._node().zones[self.active_zone]

    def _work_fill(self) -> None:
        """``page_hinting_fill``: orders 10 then 9, migratetypes 5..0, up to capacity."""
        node = self._node()
        zone = self._zone()
        self.phase = "fill"
        self.batch = []
        full = False
        for order in range(zone.max_order - 1, self.min_order - 1, -1):
            for mt in range(zone.nr_mt - 1, -1, -1):
                while len(self.batch) < self.capacity:
                    if not self._get_unhinted_page(zone, order, mt):
                        break
                if len(self.batch) == self.capacity:
                    full = True
                    break
            if full:
                break
        if not full:
            self._set_flag(
                zone,
                ZONE_PAGE_HINTING_REQUESTED,
                False,
                f"the fill found only {len(self.batch)} unhinted blocks",
            )
            self.refcnt -= 1
        if self.batch:
            self.phase = "report"
            node.schedule(0, "hinting: react", self._work_report)
        else:
            self._cycle_end()

    def _get_unhinted_page(self, zone: Zone, order: int, mt: int) -> bool:
        """``get_unhinted_page``: take the block just before the boundary (or the head)."""
        lists = zone.lists
        sentinel = lists.sentinel(order, mt)
        k = order - self.min_order
        i: int = lists.prev[self.boundary[k][mt]]
        if i == sentinel:
            return False
        if zone.flags[i]:
            i = lists.next[sentinel]
            if zone.flags[i]:
                self._move_boundary(zone, order, mt, i, "the whole list is hinted")
                return False
        zone.del_page_from_free_list(i, order, "taken for hinting")
        zone.nr_free_pages -= 1 << order
        zone.paint(i, order, PS_ISOLATED)
        self.batch.append((i, order, mt))
        node = self._node()
        if node.events is not None:
            node.events.append(
                ev.Isolate(
                    fn="get_unhinted_page",
                    zone=zone.name,
                    pfn=zone.start_pfn + i,
                    order=order,
                    migratetype=zone.mt_name(mt),
                    slot=len(self.batch) - 1,
                    reason="the unhinted block just before the boundary",
                )
            )
        return True

    def _move_boundary(self, zone: Zone, order: int, mt: int, to: int, reason: str) -> None:
        self.boundary[order - self.min_order][mt] = to
        node = self._node()
        if node.events is not None:
            node.events.append(
                ev.BoundaryMove(
                    fn="page_hinting_add_to_boundary",
                    zone=zone.name,
                    order=order,
                    migratetype=zone.mt_name(mt),
                    pfn=None if zone.lists.is_sentinel(to) else zone.start_pfn + to,
                    reason=reason,
                )
            )

    def _work_report(self) -> None:
        """``react()``: the host discards the batch; the guest waits for the ack."""
        node = self._node()
        zone = self._zone()
        freed = node.host.report([(zone, i, k) for i, k, _ in self.batch])
        if node.events is not None:
            node.events.append(
                ev.Report(
                    fn="virtballoon_page_hinting_react",
                    zone=zone.name,
                    blocks=[(zone.start_pfn + i, k) for i, k, _ in self.batch],
                    pages=sum(1 << k for _, k, _ in self.batch),
                    discarded=freed,
                )
            )
        self.phase = "drain"
        node.schedule(
            round(self.constants.report_latency_s * NSEC), "hinting: drain", self._work_drain
        )

    def _work_drain(self) -> None:
        """``page_hinting_drain``: ``put_hinted_page`` for every block, in batch order."""
        node = self._node()
        zone = self._zone()
        isolated = zone.nr_isolate_pageblock > 0
        for i, order, cached_mt in self.batch:
            mt = cached_mt
            if isolated or mt == zone.mt_isolate:
                mt = zone.get_pageblock_migratetype(i)
            head, final, whole = put_back(
                node,
                zone,
                i,
                order,
                mt,
                "put_hinted_page",
                True,
                "a hinted put-back always goes to the tail, just before the boundary",
            )
            if whole:
                counts = self.hinted_pages[zone.index]
                assert counts is not None
                counts[order - self.min_order] += 1
                self._move_boundary(
                    zone, order, mt, i, "the block it returned is now the first hinted one"
                )
                mark_flagged(node, zone, i, order, mt, "SetPageHinted", "hinted")
            elif node.events is not None:
                node.events.append(
                    ev.FlagSkip(
                        fn="put_hinted_page",
                        zone=zone.name,
                        pfn=zone.start_pfn + i,
                        order=order,
                        reason=(
                            f"it merged into the unhinted order-{final} block at pfn "
                            f"{ev.hexpfn(head)}"
                        ),
                    )
                )
        self.batch = []
        if self.zone_flags[zone.index] & ZONE_PAGE_HINTING_REQUESTED:
            self.phase = "fill"
            node.schedule(0, "hinting: fill", self._work_fill)
        else:
            self._cycle_end()

    def _cycle_end(self) -> None:
        zone = self._zone()
        self._set_flag(zone, ZONE_PAGE_HINTING_ACTIVE, False, "page_hinting_cycle() ends")
        zone.tail_anchor = None
        self.active_zone = -1
        self._next_cycle()

    # --- hooks ---------------------------------------------------------------------------

    def clear_flag(self, zone: Zone, i: int, order: int, reason: str) -> None:
        """``clear_page_hinted``: advance the boundary if it points here, count down."""
        mt = zone.free_mt[i]
        if self.active_zone == zone.index and order >= self.min_order:
            k = order - self.min_order
            if self.boundary[k][mt] == i:
                self._move_boundary(
                    zone, order, mt, zone.lists.next[i], "the block it pointed at leaves the list"
                )
        zone.unflag_block(i, order)
        counts = self.hinted_pages[zone.index]
        assert counts is not None
        counts[order - self.min_order] -= 1
        zone.paint(i, order, PS_FREE)
        node = self._node()
        if node.events is not None:
            node.events.append(
                ev.FlagClear(
                    fn="clear_page_hinted",
                    zone=zone.name,
                    pfn=zone.start_pfn + i,
                    order=order,
                    migratetype=zone.mt_name(mt),
                    flag="hinted",
                    reason=reason,
                )
            )

    def on_move(self, zone: Zone, i: int, order: int, from_mt: int, to_mt: int) -> None:
        """``move_to_free_list`` clears the hint: "cheaper to just process this page again"."""
        self.clear_flag(zone, i, order, "moved to another migratetype list")

    def in_flight(self, zone: Zone) -> list[tuple[int, int]]:
        if self.active_zone != zone.index or self.phase not in ("report", "drain"):
            return []
        return [(i, k) for i, k, _ in self.batch]

    # --- invariants (spec §5, 13-24) -------------------------------------------------------

    def check(self, node: Node) -> None:
        requested = 0
        for z in node.zones:
            flags = self.zone_flags[z.index]
            if flags & ZONE_PAGE_HINTING_REQUESTED:
                requested += 1
            if flags & ZONE_PAGE_HINTING_ACTIVE and self.active_zone != z.index:
                raise InvariantViolation("17", f"zone {z.name} is ACTIVE outside its cycle")
            counts = [0] * (z.max_order - self.min_order)
            for i in z.flagged_heads():
                k = z.buddy_order[i] - 1
                if k < self.min_order:
                    raise InvariantViolation(
                        "13",
                        f"zone {z.name}: hinted pfn {z.start_pfn + i} is not a free block "
                        f"of order >= {self.min_order}",
                    )
                counts[k - self.min_order] += 1
            stored = self.hinted_pages[z.index] or [0] * len(counts)
            if counts != stored:
                raise InvariantViolation(
                    "14", f"zone {z.name}: hinted_pages is {stored}, the lists hold {counts}"
                )
            if self.active_zone == z.index:
                self._check_boundaries(z)
        if requested != self.refcnt:
            raise InvariantViolation(
                "20", f"refcnt is {self.refcnt} but {requested} zones are REQUESTED"
            )

    def _check_boundaries(self, z: Zone) -> None:
        """Invariant 18, as the v2 code guarantees it: from the boundary to the tail,
        every block is hinted.

        The spec states more (the entries before the boundary are all unhinted), but
        ``page_hinting_populate_metadata`` resets every boundary to the list head at the
        start of each cycle while blocks hinted by earlier cycles stay on the lists, so
        they can lie in front of the boundary; ``get_unhinted_page`` copes by falling
        back to the list head.  See V2_SUFFIX_ONLY_WHILE_ACTIVE in assumptions.py.
        """
        for k in range(self.min_order, z.max_order):
            for mt in range(z.nr_mt):
                b = self.boundary[k - self.min_order][mt]
                if z.lists.is_sentinel(b):
                    continue
                entries = z.lists.iterate(z.lists.sentinel(k, mt))
                if b not in entries:
                    raise InvariantViolation(
                        "18", f"zone {z.name}: boundary[{k}][{mt}] is not on its list"
                    )
                if not all(z.flags[i] for i in entries[entries.index(b) :]):
                    raise InvariantViolation(
                        "18",
                        f"zone {z.name}: an unhinted block lies behind the boundary of the "
                        f"order-{k} {z.mt_name(mt)} list",
                    )

    def state(self) -> dict[str, Any]:
        node = self._node()
        zones = {}
        for z in node.zones:
            flags = self.zone_flags[z.index]
            zones[z.name] = {
                "requested": bool(flags & ZONE_PAGE_HINTING_REQUESTED),
                "active": bool(flags & ZONE_PAGE_HINTING_ACTIVE),
                "hinted_pages": self.hinted_pages[z.index],
            }
        boundaries: dict[int, dict[str, int | None]] = {}
        if self.active_zone >= 0:
            z = node.zones[self.active_zone]
            for k in range(self.min_order, z.max_order):
                row = self.boundary[k - self.min_order]
                boundaries[k] = {
                    z.mt_name(mt): None if z.lists.is_sentinel(b) else z.start_pfn + b
                    for mt, b in enumerate(row)
                }
        active = node.zones[self.active_zone] if self.active_zone >= 0 else None
        return {
            "strategy": self.name,
            "refcnt": self.refcnt,
            "phase": self.phase,
            "min_order": self.min_order,
            "zones": zones,
            "active_zone": active.name if active is not None else None,
            "boundaries": boundaries,
            "batch": [(active.start_pfn + i, k) for i, k, _ in self.batch]
            if active is not None
            else [],
            "constants": constants_table(
                self.constants, KERNEL_HINTING, {"min_order": node.pageblock_order}
            ),
        }
