"""Free page reporting as merged in Linux 5.7 (``mm/page_reporting.c``).

Read next to the kernel file: ``_request`` is ``__page_reporting_request``,
``_process_zone``/``_cycle`` are ``page_reporting_process_zone``/``page_reporting_cycle``,
``_drain`` is ``page_reporting_drain``.  The kernel runs a whole pass in one work
function and sleeps inside ``prdev->report()``; the model splits the pass into work
items on the virtual clock so that a learner can stop between any two:

* ``fill``   - walk the lists, isolating unreported blocks into the 32-entry batch
  (filled from the end, ``sgl[--offset]``) until it is full, then rotate the next
  unreported block to the list head; or finish the zone's lists;
* ``report`` - the host round trip (``virtballoon_free_page_report``): the host
  discards the resident pages of the batch;
* ``drain``  - each block goes back with ``__putback_isolated_page`` and is marked
  PG_reported only if it is still a free block of the same order.

State is plain data (no generators or closures), so a node can be deep-copied for the
timeline's checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import events as ev
from .assumptions import REPORT_LATENCY_S
from .errors import ConfigError, InvariantViolation
from .pagestate import PS_FREE
from .strategy import Strategy, constants_table, make_constants, mark_flagged, put_back

if TYPE_CHECKING:
    from .node import Node
    from .zone import Zone

PAGE_REPORTING_IDLE = 0
PAGE_REPORTING_REQUESTED = 1
PAGE_REPORTING_ACTIVE = 2
STATE_NAMES = ("IDLE", "REQUESTED", "ACTIVE")
NSEC = 1_000_000_000


@dataclass(frozen=True)
class ReportingConstants:
    """Every constant of the pass; the defaults are the kernel's (see ``KERNEL``)."""

    # page_reporting_order (PAGE_REPORTING_MIN_ORDER = pageblock_order; module
    # parameter from 5.14).  None means pageblock_order of the node.
    order: int | None = None
    # PAGE_REPORTING_CAPACITY: scatterlist entries per report call.
    capacity: int = 32
    # PAGE_REPORTING_DELAY = 2 * HZ.
    delay_s: float = 2.0
    # budget = DIV_ROUND_UP(nr_free, capacity * budget_divisor): a sixteenth of a list.
    budget_divisor: int = 16
    # Not a kernel constant: the modelled time of one report round trip (virtqueue
    # kick, the host's madvise(MADV_DONTNEED) of the batch, the used-buffer interrupt).
    # 1 ms is an order of magnitude for a KVM host, an [inf] value (assumptions.py).
    report_latency_s: float = REPORT_LATENCY_S

    @classmethod
    def from_options(cls, options: dict[str, Any], max_order: int) -> ReportingConstants:
        c = make_constants(cls, options, "reporting", max_order)
        if c.capacity & (c.capacity - 1):
            raise ConfigError(
                f"capacity must be a power of two (the kernel relies on it), got {c.capacity}"
            )
        return c


KERNEL_REPORTING = ReportingConstants()


@dataclass
class _Scan:
    """Where the pass is: the kernel's loop variables, kept between work items."""

    zone: int = 0
    zone_started: bool = False
    order: int = 0
    mt: int = 0
    list_started: bool = False
    budget: int = 0
    offset: int = 0
    sgl: list[tuple[int, int]] = field(default_factory=list)  # (index, order) per slot
    leftover_reported: bool = False
    batch: list[tuple[int, int]] = field(default_factory=list)  # reported, awaiting drain
    batch_full: bool = False


class PageReporting(Strategy):
    name = "reporting"

    def __init__(self, options: dict[str, Any], max_order: int, pageblock_order: int) -> None:
        self.constants = ReportingConstants.from_options(dict(options), max_order)
        self.order = pageblock_order if self.constants.order is None else self.constants.order
        self.capacity = self.constants.capacity
        self.device_state = PAGE_REPORTING_IDLE
        self.scan = _Scan()
        self.phase = "idle"  # idle | fill | report | drain
        self.node: Node | None = None
        self.passes = 0

    # --- registration and requests ----------------------------------------------------

    def attach(self, node: Node) -> None:
        """``page_reporting_register``: enable notifications, then request a first pass."""
        if not node.rules.has_reporting:
            raise ConfigError(
                "free page reporting was merged in Linux 5.7; "
                f"kernel {node.kernel} does not have it"
            )
        self.node = node
        for z in node.zones:
            z.notify_order = self.order
        self._request("page_reporting_register(): the device asks for a first pass", None)

    def notify_free(self, zone: Zone, order: int) -> None:
        """``page_reporting_notify_free``: any free whose final order qualifies requests a pass."""
        if self.device_state == PAGE_REPORTING_REQUESTED:
            return
        self._request(f"an order-{order} free in zone {zone.name} requests reporting", zone)

    def _request(self, reason: str, zone: Zone | None) -> None:
        """``__page_reporting_request``: only IDLE -> REQUESTED schedules the worker."""
        node = self._node()
        old = self.device_state
        self.device_state = PAGE_REPORTING_REQUESTED
        self._emit_state(old, reason.split(":")[0])
        when = None
        if old == PAGE_REPORTING_IDLE:
            node.schedule(round(self.constants.delay_s * NSEC), "reporting: pass", self._work_pass)
            when = node.clock + self.constants.delay_s
        if node.events is not None:
            node.events.append(
                ev.Request(
                    fn="__page_reporting_request",
                    zone=zone.name if zone is not None else "",
                    order=None,
                    reason=reason,
                    scheduled_at=when,
                )
            )

    def _node(self) -> Node:
        assert self.node is not None, "strategy not attached"
        return self.node

    def _emit_state(self, old: int, reason: str) -> None:
        node = self._node()
        if node.events is not None and old != self.device_state:
            node.events.append(
                ev.StateChange(
                    fn="page_reporting_process",
                    zone="",
                    what="page reporting",
                    old=STATE_NAMES[old],
                    new=STATE_NAMES[self.device_state],
                    reason=reason,
                )
            )

    # --- the pass, one work item at a time ----------------------------------------------

    def _work_pass(self) -> None:
        """``page_reporting_process`` starts: state := ACTIVE, walk the zones."""
        old = self.device_state
        self.device_state = PAGE_REPORTING_ACTIVE
        self.passes += 1
        self._emit_state(old, f"pass {self.passes} starts")
        self.scan = _Scan()
        self._work_fill()

    def _work_fill(self) -> None:
        node = self._node()
        self.phase = "fill"
        outcome = self._scan()
        if outcome == "report":
            self.phase = "report"
            node.schedule(0, "reporting: report", self._work_report)
        else:
            self._end_pass()

    def _work_report(self) -> None:
        """``prdev->report()``: the host discards the batch (the zone lock is dropped)."""
        node = self._node()
        s = self.scan
        z = node.zones[s.zone]
        s.batch = [(i, k) for i, k in s.sgl[s.offset :] if i >= 0]
        freed = node.host.report([(z, i, k) for i, k in s.batch])
        if node.events is not None:
            node.events.append(
                ev.Report(
                    fn="virtballoon_free_page_report",
                    zone=z.name,
                    blocks=[(z.start_pfn + i, k) for i, k in s.batch],
                    pages=sum(1 << k for _, k in s.batch),
                    discarded=freed,
                )
            )
        if s.batch_full:
            s.offset = self.capacity  # *offset = PAGE_REPORTING_CAPACITY
            s.budget -= 1
        self.phase = "drain"
        node.schedule(
            round(self.constants.report_latency_s * NSEC), "reporting: drain", self._work_drain
        )

    def _work_drain(self) -> None:
        node = self._node()
        s = self.scan
        self._drain(node.zones[s.zone], s.batch)
        s.batch = []
        s.sgl = [(-1, 0)] * self.capacity
        if s.batch_full:
            s.batch_full = False
        else:
            s.leftover_reported = True
        self.phase = "fill"
        node.schedule(0, "reporting: fill", self._work_fill)

    def _end_pass(self) -> None:
        """End of ``page_reporting_process``: ACTIVE -> IDLE, or REQUESTED -> again in 2 s."""
        node = self._node()
        self.phase = "idle"
        if self.device_state == PAGE_REPORTING_ACTIVE:
            self.device_state = PAGE_REPORTING_IDLE
            self._emit_state(PAGE_REPORTING_ACTIVE, f"pass {self.passes} is done")
        else:
            node.schedule(round(self.constants.delay_s * NSEC), "reporting: pass", self._work_pass)
            if node.events is not None:
                node.events.append(
                    ev.Request(
                        fn="page_reporting_process",
                        zone="",
                        order=None,
                        reason=f"pass {self.passes} ends with reporting still requested",
                        scheduled_at=node.clock + self.constants.delay_s,
                    )
                )

    # --- page_reporting_process_zone / page_reporting_cycle -------------------------------

    def _scan(self) -> str:
        """Continue the pass; return "report" when a batch is ready, "end" when done."""
        node = self._node()
        s = self.scan
        while s.zone < len(node.zones):
            z = node.zones[s.zone]
            if not s.zone_started:
                mark = z.wmark_low + (self.capacity << self.order)
                if not z.watermark_ok(0, mark):
                    if node.events is not None:
                        node.events.append(
                            ev.ZoneSkip(
                                fn="page_reporting_process_zone",
                                zone=z.name,
                                order=self.order,
                                free_pages=z.nr_free_pages,
                                mark="low + capacity << order",
                                mark_pages=mark,
                                reason=(
                                    f"{z.nr_free_pages} free pages is not above the low "
                                    f"watermark + {self.capacity} << {self.order} = {mark}: "
                                    "the zone is skipped"
                                ),
                            )
                        )
                    s.zone += 1
                    continue
                s.zone_started = True
                s.order = self.order
                s.mt = 0
                s.offset = self.capacity
                s.sgl = [(-1, 0)] * self.capacity
                s.list_started = False
                s.leftover_reported = False
            while s.order < z.max_order:
                while s.mt < z.nr_mt:
                    if s.mt != z.mt_isolate and self._cycle(z):
                        return "report"
                    s.mt += 1
                    s.list_started = False
                s.order += 1
                s.mt = 0
            if s.offset < self.capacity and not s.leftover_reported:
                s.batch_full = False  # the partial batch left at the end of the zone
                return "report"
            s.zone += 1
            s.zone_started = False
        return "end"

    def _cycle(self, z: Zone) -> bool:
        """``page_reporting_cycle`` from the list head; True when a full batch is ready."""
        node = self._node()
        s = self.scan
        lists = z.lists
        sentinel = lists.sentinel(s.order, s.mt)
        if not s.list_started:
            if lists.is_empty(sentinel):
                return False
            per_call = self.capacity * self.constants.budget_divisor
            s.budget = -(-z.nr_free[s.order] // per_call)  # DIV_ROUND_UP
            s.list_started = True
        nxt = lists.next
        stop = sentinel
        i: int = nxt[sentinel]
        while i != sentinel:
            following = nxt[i]  # list_for_each_entry_safe
            if z.flags[i]:
                i = following
                continue
            if s.budget < 0:
                old = self.device_state
                self.device_state = PAGE_REPORTING_REQUESTED
                self._emit_state(old, f"the budget for the order-{s.order} list is used up")
                stop = i
                break
            if s.offset:
                if not z.isolate_free_page(i, s.order, "isolated for reporting"):
                    if node.events is not None:
                        node.events.append(
                            ev.IsolateFail(
                                fn="__isolate_free_page",
                                zone=z.name,
                                pfn=z.start_pfn + i,
                                order=s.order,
                                reason="the zone would fall below its min watermark",
                            )
                        )
                    stop = i
                    break
                s.offset -= 1
                s.sgl[s.offset] = (i, s.order)
                if node.events is not None:
                    node.events.append(
                        ev.Isolate(
                            fn="page_reporting_cycle",
                            zone=z.name,
                            pfn=z.start_pfn + i,
                            order=s.order,
                            migratetype=z.mt_name(s.mt),
                            slot=s.offset,
                            reason="an unreported block, taken from the head side",
                        )
                    )
                i = following
                continue
            # The batch is full and ``i`` is the first block not taken: make it the
            # head before the lock is dropped, then report.
            self._rotate(z, i, sentinel)
            s.batch_full = True
            return True
        if stop != sentinel:
            self._rotate(z, stop, sentinel)
        return False

    def _rotate(self, z: Zone, i: int, sentinel: int) -> None:
        if z.lists.next[sentinel] == i:
            return
        z.lists.rotate_to_front(i, sentinel)
        node = self._node()
        if node.events is not None:
            node.events.append(
                ev.Rotate(
                    fn="list_rotate_to_front",
                    zone=z.name,
                    pfn=z.start_pfn + i,
                    order=self.scan.order,
                    migratetype=z.mt_name(self.scan.mt),
                )
            )

    def _drain(self, z: Zone, batch: list[tuple[int, int]]) -> None:
        """``page_reporting_drain``: put every block back; flag it if it did not merge."""
        node = self._node()
        to_tail = node.rules.putback_to_tail
        for i, order in batch:
            mt = z.get_pageblock_migratetype(i)
            head, final, whole = put_back(
                node,
                z,
                i,
                order,
                mt,
                "__putback_isolated_page",
                to_tail,
                "__putback_isolated_page() uses FPI_TO_TAIL (5.10+)",
            )
            if whole:
                mark_flagged(node, z, i, order, mt, "__SetPageReported", "reported")
            elif node.events is not None:
                node.events.append(
                    ev.FlagSkip(
                        fn="page_reporting_drain",
                        zone=z.name,
                        pfn=z.start_pfn + i,
                        order=order,
                        reason=(
                            f"it merged into the order-{final} block at pfn {ev.hexpfn(head)}, "
                            "which a later pass reports at that order"
                        ),
                    )
                )

    # --- hooks --------------------------------------------------------------------------

    def clear_flag(self, zone: Zone, i: int, order: int, reason: str) -> None:
        """``del_page_from_free_list`` clears PG_reported (allocation, merge, isolation)."""
        zone.unflag_block(i, order)
        zone.paint(i, order, PS_FREE)
        node = self._node()
        if node.events is not None:
            node.events.append(
                ev.FlagClear(
                    fn="__ClearPageReported",
                    zone=zone.name,
                    pfn=zone.start_pfn + i,
                    order=order,
                    migratetype=zone.mt_name(zone.free_mt[i]),
                    flag="reported",
                    reason=reason,
                )
            )

    def on_move(self, zone: Zone, i: int, order: int, from_mt: int, to_mt: int) -> None:
        """``move_to_free_list`` keeps PG_reported: the block is still reported."""

    def in_flight(self, zone: Zone) -> list[tuple[int, int]]:
        node = self._node()
        s = self.scan
        if self.phase == "idle" or s.zone >= len(node.zones) or node.zones[s.zone] is not zone:
            return []
        return [(i, k) for i, k in s.sgl if i >= 0] if self.phase != "drain" else list(s.batch)

    # --- inspection ---------------------------------------------------------------------

    def check(self, node: Node) -> None:
        for z in node.zones:
            for i in z.flagged_heads():
                k = z.buddy_order[i] - 1
                if k < 0:
                    raise InvariantViolation(
                        "25", f"zone {z.name}: pfn {z.start_pfn + i} is reported but not free"
                    )
                if k < self.order:
                    raise InvariantViolation(
                        "25",
                        f"zone {z.name}: reported block at pfn {z.start_pfn + i} has order "
                        f"{k} < {self.order}",
                    )
        if (
            self.device_state != PAGE_REPORTING_IDLE
            and self.phase == "idle"
            and not any(label == "reporting: pass" for _, label in node.pending_work())
        ):
            raise InvariantViolation("27", "reporting is requested but no pass is scheduled")

    def state(self) -> dict[str, Any]:
        node = self._node()
        s = self.scan
        scanning = self.phase != "idle" and s.zone < len(node.zones)
        zone = node.zones[s.zone] if scanning else None
        return {
            "strategy": self.name,
            "state": STATE_NAMES[self.device_state],
            "phase": self.phase,
            "passes": self.passes,
            "order": self.order,
            "zone": zone.name if zone is not None else None,
            "list_order": s.order if scanning else None,
            "list_migratetype": zone.mt_name(s.mt)
            if zone is not None and s.mt < zone.nr_mt
            else None,
            "budget_left": s.budget if scanning and s.list_started else None,
            "batch": []
            if zone is None
            else [(zone.start_pfn + i, k) for i, k in self.in_flight(zone)],
            "constants": constants_table(
                self.constants, KERNEL_REPORTING, {"order": node.pageblock_order}
            ),
        }
