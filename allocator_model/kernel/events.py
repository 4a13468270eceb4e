"""Typed events: the single source for animation, narration and the log.

Every mutation of the model appends one event, in order.  An event carries the data a
view needs (zone, pfn, order, migratetype, which end of which list), the kernel
function it stands for (``fn``) and a one-line ``message`` for a student.  Messages
are built on demand from the fields, so emitting is cheap, and ``Node(events=False)``
skips the objects altogether for bulk runs.

``to_dict()`` is the wire form; it is deterministic (fields in declaration order), so
the same seed and commands give the same event stream byte for byte.

An event's fields are ``fn``, ``zone``, then the class's own, in declaration order.
The allocator's hot paths (``zone.py``, ``node.py``) pass them positionally in that
order, e.g. ``ev.Merge(fn, zone, pfn, buddy, order)``: CPython builds a dict for
keyword arguments to a class, which makes ``ListAdd(fn=..., ...)`` about 2.5 times as
expensive to construct.  Everywhere else keywords read better and are used.

Why one file of ~600 lines: it is one catalogue, an event class per kind, each a few
lines of fields and the sentence a student reads.  The backend's ``EVENT_KINDS`` (the
"run to" and breakpoint kinds) is read off its subclasses, and a reader checking what
the model can say looks in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

_FIELD_NAMES: dict[type[Event], tuple[str, ...]] = {}


def hexpfn(pfn: int) -> str:
    """A pfn as the kernel prints one in its traces (``pfn=0x16000``): every message
    names pfns this way, as the page's chips do."""
    return f"{pfn:#x}"


def _pages(order: int) -> str:
    n = 1 << order
    return "1 page" if n == 1 else f"{n} pages"


@dataclass(slots=True)
class Event:
    """Base of every event.  ``kind`` names the class on the wire."""

    kind: ClassVar[str] = "event"
    # Fields left out of the wire form while they are None: facts only some
    # configurations have (a pcp list's order and CPU exist from 6.12 / with cpus > 1),
    # so that the events of the others stay exactly as they were.
    optional: ClassVar[tuple[str, ...]] = ()
    fn: str
    zone: str

    @property
    def message(self) -> str:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        cls = type(self)
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = tuple(f.name for f in fields(cls))
            _FIELD_NAMES[cls] = names
        out: dict[str, Any] = {"kind": self.kind}
        optional = self.optional
        for name in names:
            value = getattr(self, name)
            if value is None and name in optional:
                continue
            out[name] = value
        out["message"] = self.message
        return out


# --- requests ------------------------------------------------------------------------


@dataclass(slots=True)
class Alloc(Event):
    kind: ClassVar[str] = "alloc"
    pfn: int
    order: int
    migratetype: str

    @property
    def message(self) -> str:
        return (
            f"allocated an order-{self.order} {self.migratetype} block "
            f"({_pages(self.order)}) at pfn {hexpfn(self.pfn)} from zone {self.zone}"
        )


@dataclass(slots=True)
class Free(Event):
    kind: ClassVar[str] = "free"
    pfn: int
    order: int
    migratetype: str

    @property
    def message(self) -> str:
        return (
            f"freeing the order-{self.order} block at pfn {hexpfn(self.pfn)} "
            f"(its pageblock is {self.migratetype})"
        )


@dataclass(slots=True)
class ZoneSkip(Event):
    """A zone on the zonelist could not serve the request in one pass of the allocator."""

    kind: ClassVar[str] = "zone_skip"
    order: int
    free_pages: int
    mark: str
    mark_pages: int
    reason: str

    @property
    def message(self) -> str:
        return f"zone {self.zone} skipped for an order-{self.order} request: {self.reason}"


# --- free lists --------------------------------------------------------------------------


@dataclass(slots=True)
class ListAdd(Event):
    """A block went onto ``free_area[order].free_list[migratetype]``.

    ``end`` is "head" or "tail"; with v2 hinting active a tail insert lands just
    before the boundary, which ``before`` names (the pfn of the first hinted block).
    """

    kind: ClassVar[str] = "list_add"
    pfn: int
    order: int
    migratetype: str
    end: str
    before: int | None = None
    reason: str = ""

    @property
    def message(self) -> str:
        where = f"the {self.end}"
        if self.before is not None:
            where = f"the tail of the unhinted part (just before hinted pfn {hexpfn(self.before)})"
        text = (
            f"order-{self.order} block at pfn {hexpfn(self.pfn)} goes to {where} "
            f"of the {self.migratetype} order-{self.order} list"
        )
        return f"{text}: {self.reason}" if self.reason else text


@dataclass(slots=True)
class ListDel(Event):
    """A block left its free list; ``end`` says where it was: head, tail, middle or only."""

    kind: ClassVar[str] = "list_del"
    pfn: int
    order: int
    migratetype: str
    end: str
    reason: str

    @property
    def message(self) -> str:
        where = "as the only entry" if self.end == "only" else f"from the {self.end}"
        return (
            f"order-{self.order} block at pfn {hexpfn(self.pfn)} taken {where} "
            f"of the {self.migratetype} order-{self.order} list ({self.reason})"
        )


@dataclass(slots=True)
class ListMove(Event):
    """``move_to_free_list``: a free block changes migratetype list (pageblock steal)."""

    kind: ClassVar[str] = "list_move"
    pfn: int
    order: int
    from_migratetype: str
    to_migratetype: str
    end: str

    @property
    def message(self) -> str:
        return (
            f"order-{self.order} block at pfn {hexpfn(self.pfn)} moves from the "
            f"{self.from_migratetype} list to the {self.end} of the "
            f"{self.to_migratetype} list"
        )


# --- buddy mechanics -------------------------------------------------------------------


@dataclass(slots=True)
class Split(Event):
    """``expand``: a block is halved; the upper half goes back on a free list."""

    kind: ClassVar[str] = "split"
    pfn: int
    order: int
    half_pfn: int
    migratetype: str

    @property
    def message(self) -> str:
        lo = self.order - 1
        return (
            f"split the order-{self.order} block at pfn {hexpfn(self.pfn)}: keep the lower "
            f"half (pfn {hexpfn(self.pfn)}), the upper half (pfn {hexpfn(self.half_pfn)}, "
            f"order {lo}) is free"
        )


@dataclass(slots=True)
class Merge(Event):
    kind: ClassVar[str] = "merge"
    pfn: int
    buddy: int
    order: int

    @property
    def message(self) -> str:
        head = self.pfn & self.buddy
        return (
            f"pfn {hexpfn(self.pfn)} (order {self.order}) merges with its free buddy pfn "
            f"{hexpfn(self.buddy)} = {hexpfn(self.pfn)} ^ {1 << self.order:#x}: one "
            f"order-{self.order + 1} "
            f"block at pfn {hexpfn(head)}"
        )


@dataclass(slots=True)
class MergeStop(Event):
    kind: ClassVar[str] = "merge_stop"
    pfn: int
    order: int
    buddy: int | None
    reason: str

    @property
    def message(self) -> str:
        return f"no merge for the order-{self.order} block at pfn {hexpfn(self.pfn)}: {self.reason}"


@dataclass(slots=True)
class PageblockRetype(Event):
    kind: ClassVar[str] = "pageblock_retype"
    pfn: int
    from_migratetype: str
    to_migratetype: str
    reason: str

    @property
    def message(self) -> str:
        return (
            f"pageblock at pfn {hexpfn(self.pfn)} changes type {self.from_migratetype} -> "
            f"{self.to_migratetype} ({self.reason})"
        )


@dataclass(slots=True)
class Fallback(Event):
    """``__rmqueue_fallback``: the requested type was empty, so steal from another."""

    kind: ClassVar[str] = "fallback"
    order: int
    current_order: int
    start_migratetype: str
    fallback_migratetype: str
    whole_block: bool

    @property
    def message(self) -> str:
        how = "may claim the whole pageblock" if self.whole_block else "takes a single block"
        return (
            f"no {self.start_migratetype} block of order >= {self.order}: falls back to "
            f"the {self.fallback_migratetype} order-{self.current_order} list and {how}"
        )


# --- per-cpu lists ---------------------------------------------------------------------


def _pcp_list(migratetype: str, order: int | None, cpu: int | None) -> str:
    """'the Movable per-cpu list', with the order (6.12) and the CPU (cpus > 1)."""
    what = migratetype if order is None else f"{migratetype} order-{order}"
    return f"the {what} per-cpu list" + ("" if cpu is None else f" of CPU {cpu}")


def _pcp_block(pfn: int, order: int | None) -> str:
    return f"page {hexpfn(pfn)}" if not order else f"order-{order} block {hexpfn(pfn)}"


@dataclass(slots=True)
class PcpAdd(Event):
    kind: ClassVar[str] = "pcp_add"
    optional: ClassVar[tuple[str, ...]] = ("order", "cpu")
    pfn: int
    migratetype: str
    end: str
    count: int  # entries on the list after the add
    order: int | None = None
    cpu: int | None = None

    @property
    def message(self) -> str:
        unit = "pages" if not self.order else "blocks"
        return (
            f"{_pcp_block(self.pfn, self.order)} parked at the {self.end} of "
            f"{_pcp_list(self.migratetype, self.order, self.cpu)} ({self.count} {unit} there)"
        )


@dataclass(slots=True)
class PcpDel(Event):
    kind: ClassVar[str] = "pcp_del"
    optional: ClassVar[tuple[str, ...]] = ("order", "cpu")
    pfn: int
    migratetype: str
    end: str
    count: int  # entries left on the list
    reason: str
    order: int | None = None
    cpu: int | None = None

    @property
    def message(self) -> str:
        return (
            f"{_pcp_block(self.pfn, self.order)} leaves the {self.end} of "
            f"{_pcp_list(self.migratetype, self.order, self.cpu)} "
            f"({self.reason}; {self.count} left)"
        )


@dataclass(slots=True)
class PcpRefill(Event):
    kind: ClassVar[str] = "pcp_refill"
    optional: ClassVar[tuple[str, ...]] = ("order", "cpu")
    migratetype: str
    count: int  # blocks moved
    order: int | None = None
    cpu: int | None = None

    @property
    def message(self) -> str:
        what = "order-0 pages" if not self.order else f"order-{self.order} blocks"
        return (
            f"{_pcp_list(self.migratetype, self.order, self.cpu)} was empty: rmqueue_bulk "
            f"moved {self.count} {what} from the buddy lists to it"
        )


@dataclass(slots=True)
class PcpDrain(Event):
    kind: ClassVar[str] = "pcp_drain"
    optional: ClassVar[tuple[str, ...]] = ("cpu",)
    count: int  # pages
    reason: str
    cpu: int | None = None

    @property
    def message(self) -> str:
        whose = "per-cpu" if self.cpu is None else f"per-cpu (CPU {self.cpu})"
        return f"{self.count} {whose} pages go back to the buddy lists ({self.reason})"


@dataclass(slots=True)
class WatermarkBoost(Event):
    kind: ClassVar[str] = "watermark_boost"
    old_boost: int
    boost: int

    @property
    def message(self) -> str:
        if not self.boost:
            return (
                f"zone {self.zone}: kswapd finds the node balanced and resets the watermark "
                f"boost of {self.old_boost} pages"
            )
        return (
            f"zone {self.zone}: a fallback stole from inside another type's pageblock, so its "
            f"watermarks are boosted by {self.boost} pages (was {self.old_boost}) until kswapd "
            "resets them"
        )


CORE_EVENT_TYPES: tuple[type[Event], ...] = (
    Alloc,
    Free,
    ZoneSkip,
    ListAdd,
    ListDel,
    ListMove,
    Split,
    Merge,
    MergeStop,
    PageblockRetype,
    Fallback,
    PcpAdd,
    PcpDel,
    PcpRefill,
    PcpDrain,
    WatermarkBoost,
)


# --- hinting (v2) and reporting (merged) ------------------------------------------------


@dataclass(slots=True)
class Request(Event):
    """Somebody asked for a hinting/reporting pass (``__page_*_request``)."""

    kind: ClassVar[str] = "request"
    order: int | None
    reason: str
    scheduled_at: float | None

    @property
    def message(self) -> str:
        when = (
            f"work scheduled at t={self.scheduled_at:.3f} s"
            if self.scheduled_at is not None
            else "work already pending or running"
        )
        return f"{self.reason}; {when}"


@dataclass(slots=True)
class StateChange(Event):
    """A zone flag (v2: REQUESTED/ACTIVE) or the reporting state machine changed."""

    kind: ClassVar[str] = "state"
    what: str
    old: str
    new: str
    reason: str

    @property
    def message(self) -> str:
        where = f" ({self.zone})" if self.zone else ""
        return f"{self.what}{where}: {self.old} -> {self.new} ({self.reason})"


@dataclass(slots=True)
class BoundaryMove(Event):
    """v2: ``boundary[order - 9][mt]`` now points at ``pfn`` (None: the list head)."""

    kind: ClassVar[str] = "boundary"
    order: int
    migratetype: str
    pfn: int | None
    reason: str

    @property
    def message(self) -> str:
        at = "the list head (nothing hinted)" if self.pfn is None else f"pfn {hexpfn(self.pfn)}"
        return (
            f"boundary of the {self.migratetype} order-{self.order} list moves to {at}: "
            f"{self.reason}"
        )


@dataclass(slots=True)
class Isolate(Event):
    """A free block was taken off its list into the batch for the host."""

    kind: ClassVar[str] = "isolate"
    pfn: int
    order: int
    migratetype: str
    slot: int
    reason: str

    @property
    def message(self) -> str:
        return (
            f"order-{self.order} {self.migratetype} block at pfn {hexpfn(self.pfn)} goes into "
            f"batch slot {self.slot} ({self.reason})"
        )


@dataclass(slots=True)
class IsolateFail(Event):
    kind: ClassVar[str] = "isolate_fail"
    pfn: int
    order: int
    reason: str

    @property
    def message(self) -> str:
        return (
            f"could not isolate the order-{self.order} block at pfn {hexpfn(self.pfn)}: "
            f"{self.reason}"
        )


@dataclass(slots=True)
class Rotate(Event):
    """``list_rotate_to_front``: the first block not yet processed becomes the head."""

    kind: ClassVar[str] = "rotate"
    pfn: int
    order: int
    migratetype: str

    @property
    def message(self) -> str:
        return (
            f"rotate the {self.migratetype} order-{self.order} list so that pfn {hexpfn(self.pfn)} "
            "is its head (the next pass resumes there)"
        )


@dataclass(slots=True)
class Report(Event):
    """One round trip to the host with a batch; the host discards what is resident."""

    kind: ClassVar[str] = "report"
    blocks: list[tuple[int, int]]
    pages: int
    discarded: int

    @property
    def message(self) -> str:
        return (
            f"report {len(self.blocks)} blocks ({self.pages} pages) from zone {self.zone} to "
            f"the host, which discards {self.discarded} resident pages"
        )


@dataclass(slots=True)
class Putback(Event):
    kind: ClassVar[str] = "putback"
    pfn: int
    order: int
    migratetype: str

    @property
    def message(self) -> str:
        return (
            f"order-{self.order} block at pfn {hexpfn(self.pfn)} comes back from the host to the "
            f"{self.migratetype} free list"
        )


@dataclass(slots=True)
class FlagSet(Event):
    kind: ClassVar[str] = "flag_set"
    pfn: int
    order: int
    migratetype: str
    flag: str

    @property
    def message(self) -> str:
        return f"order-{self.order} block at pfn {hexpfn(self.pfn)} is now {self.flag}"


@dataclass(slots=True)
class FlagClear(Event):
    kind: ClassVar[str] = "flag_clear"
    pfn: int
    order: int
    migratetype: str
    flag: str
    reason: str

    @property
    def message(self) -> str:
        return (
            f"order-{self.order} block at pfn {hexpfn(self.pfn)} is no longer {self.flag} "
            f"({self.reason})"
        )


@dataclass(slots=True)
class FlagSkip(Event):
    """A block came back but is not flagged (it merged, or the report failed)."""

    kind: ClassVar[str] = "flag_skip"
    pfn: int
    order: int
    reason: str

    @property
    def message(self) -> str:
        return (
            f"the order-{self.order} block at pfn {hexpfn(self.pfn)} is not flagged: {self.reason}"
        )


@dataclass(slots=True)
class Refault(Event):
    """The guest touched pages the host had discarded: zero-filled faults on the host."""

    kind: ClassVar[str] = "refault"
    pfn: int
    order: int
    pages: int

    @property
    def message(self) -> str:
        return (
            f"touching the block at pfn {hexpfn(self.pfn)} faults {self.pages} discarded pages "
            "back in on the host (zero-filled)"
        )


HINTING_EVENT_TYPES: tuple[type[Event], ...] = (
    Request,
    StateChange,
    BoundaryMove,
    Isolate,
    IsolateFail,
    Rotate,
    Report,
    Putback,
    FlagSet,
    FlagClear,
    FlagSkip,
    Refault,
)
