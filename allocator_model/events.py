"""Typed events: the single source for animation, narration and the log.

Every mutation of the model appends one event, in order.  An event carries the data a
view needs (zone, pfn, order, migratetype, which end of which list), the kernel
function it stands for (``fn``) and a one-line ``message`` for a student.  Messages
are built on demand from the fields, so emitting is cheap, and ``Node(events=False)``
skips the objects altogether for bulk runs.

``to_dict()`` is the wire form; it is deterministic (fields in declaration order), so
the same seed and commands give the same event stream byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

_FIELD_NAMES: dict[type[Event], tuple[str, ...]] = {}


def _pages(order: int) -> str:
    n = 1 << order
    return "1 page" if n == 1 else f"{n} pages"


@dataclass(slots=True, kw_only=True)
class Event:
    """Base of every event.  ``kind`` names the class on the wire."""

    kind: ClassVar[str] = "event"
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
        for name in names:
            out[name] = getattr(self, name)
        out["message"] = self.message
        return out


# --- requests ------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Alloc(Event):
    kind: ClassVar[str] = "alloc"
    pfn: int
    order: int
    migratetype: str

    @property
    def message(self) -> str:
        return (
            f"allocated an order-{self.order} {self.migratetype} block "
            f"({_pages(self.order)}) at pfn {self.pfn} from zone {self.zone}"
        )


@dataclass(slots=True, kw_only=True)
class Free(Event):
    kind: ClassVar[str] = "free"
    pfn: int
    order: int
    migratetype: str

    @property
    def message(self) -> str:
        return (
            f"freeing the order-{self.order} block at pfn {self.pfn} "
            f"(its pageblock is {self.migratetype})"
        )


@dataclass(slots=True, kw_only=True)
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


@dataclass(slots=True, kw_only=True)
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
            where = f"the tail of the unhinted part (just before hinted pfn {self.before})"
        text = (
            f"order-{self.order} block at pfn {self.pfn} goes to {where} "
            f"of the {self.migratetype} order-{self.order} list"
        )
        return f"{text}: {self.reason}" if self.reason else text


@dataclass(slots=True, kw_only=True)
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
            f"order-{self.order} block at pfn {self.pfn} taken {where} "
            f"of the {self.migratetype} order-{self.order} list ({self.reason})"
        )


@dataclass(slots=True, kw_only=True)
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
            f"order-{self.order} block at pfn {self.pfn} moves from the "
            f"{self.from_migratetype} list to the {self.end} of the "
            f"{self.to_migratetype} list"
        )


# --- buddy mechanics -------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
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
            f"split the order-{self.order} block at pfn {self.pfn}: keep the lower half "
            f"(pfn {self.pfn}), the upper half (pfn {self.half_pfn}, order {lo}) is free"
        )


@dataclass(slots=True, kw_only=True)
class Merge(Event):
    kind: ClassVar[str] = "merge"
    pfn: int
    buddy: int
    order: int

    @property
    def message(self) -> str:
        head = self.pfn & self.buddy
        return (
            f"pfn {self.pfn} (order {self.order}) merges with its free buddy pfn "
            f"{self.buddy} = {self.pfn} ^ {1 << self.order}: one order-{self.order + 1} "
            f"block at pfn {head}"
        )


@dataclass(slots=True, kw_only=True)
class MergeStop(Event):
    kind: ClassVar[str] = "merge_stop"
    pfn: int
    order: int
    buddy: int | None
    reason: str

    @property
    def message(self) -> str:
        return f"no merge for the order-{self.order} block at pfn {self.pfn}: {self.reason}"


@dataclass(slots=True, kw_only=True)
class PageblockRetype(Event):
    kind: ClassVar[str] = "pageblock_retype"
    pfn: int
    from_migratetype: str
    to_migratetype: str
    reason: str

    @property
    def message(self) -> str:
        return (
            f"pageblock at pfn {self.pfn} changes type {self.from_migratetype} -> "
            f"{self.to_migratetype} ({self.reason})"
        )


@dataclass(slots=True, kw_only=True)
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


@dataclass(slots=True, kw_only=True)
class PcpAdd(Event):
    kind: ClassVar[str] = "pcp_add"
    pfn: int
    migratetype: str
    end: str
    count: int

    @property
    def message(self) -> str:
        return (
            f"page {self.pfn} parked at the {self.end} of the {self.migratetype} "
            f"per-cpu list ({self.count} pages there)"
        )


@dataclass(slots=True, kw_only=True)
class PcpDel(Event):
    kind: ClassVar[str] = "pcp_del"
    pfn: int
    migratetype: str
    end: str
    count: int
    reason: str

    @property
    def message(self) -> str:
        return (
            f"page {self.pfn} leaves the {self.end} of the {self.migratetype} per-cpu "
            f"list ({self.reason}; {self.count} left)"
        )


@dataclass(slots=True, kw_only=True)
class PcpRefill(Event):
    kind: ClassVar[str] = "pcp_refill"
    migratetype: str
    count: int

    @property
    def message(self) -> str:
        return (
            f"the {self.migratetype} per-cpu list was empty: rmqueue_bulk moved "
            f"{self.count} order-0 pages from the buddy lists to it"
        )


@dataclass(slots=True, kw_only=True)
class PcpDrain(Event):
    kind: ClassVar[str] = "pcp_drain"
    count: int
    reason: str

    @property
    def message(self) -> str:
        return f"{self.count} per-cpu pages go back to the buddy lists ({self.reason})"


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
)
