"""Turn the state of an ``allocator_model.Node`` into protocol messages.

Only the model's public API is used (``node.zones``, ``zone.nr_free``,
``zone.free_list``, ``zone.free_list_ends``, ``zone.free_list_index``,
``zone.flagged_count``, ``zone.flags``, ``zone.page_state``, ``zone.pageblock_mt``,
``node.host``, ``node.hinting_state()``).  Nothing is recomputed that the model decided.

Per-page state travels as bytes (base64, one byte per page); free lists as their two
ends (``LIST_ENDS`` pfns each), their length, their flagged count and, in v2's active
zone, where the boundary stands (its index and neighbours, wherever it lies).  A
``Tracker`` remembers what a connection's view last sent, so a ``delta`` carries only
the lists the step's events touched (or whose boundary moved, appeared or went) and the
byte ranges of per-page arrays that differ.

Messages are built with ``model_construct`` (no validation: the inputs come from the
model, and a snapshot of a million pages is validated in tests, not on every send), and
serialised once per broadcast into an ``audience.Frame`` whose ``seq`` is filled in per
connection.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from typing import Any, Final

from allocator_model import Node, Zone
from allocator_model.kernel.fragmentation import unusable_free_index

from .protocol import (
    LIST_ENDS,
    FreeList,
    FreeListSlice,
    HostStats,
    ListBoundary,
    PcpList,
    PcpSet,
    SessionConfigView,
    SourceInfo,
    Watermarks,
    ZoneDelta,
    ZoneSnapshot,
)
from .sources import Plan

#: Most events sent in one delta; a huge step (a long reporting pass) says how many
#: more there were in ``events_dropped``.
MAX_DELTA_EVENTS: Final = 4000


def b64(data: bytes | bytearray) -> str:
    return base64.b64encode(data).decode("ascii")


#: v2's boundaries of one zone: (order, migratetype) -> the pfn the boundary points at
#: (None: the list head sentinel, after the tail).  Empty unless the zone is being hinted.
Boundaries = Mapping[tuple[int, str], int | None]


def boundaries_of(hinting: Mapping[str, Any], zone: str) -> dict[tuple[int, str], int | None]:
    """The boundaries ``node.hinting_state()`` reports for ``zone``."""
    if hinting.get("strategy") != "hinting-v2" or hinting.get("active_zone") != zone:
        return {}
    return {
        (int(order), mt): pfn
        for order, row in hinting.get("boundaries", {}).items()
        for mt, pfn in row.items()
    }


def list_boundary(
    zone: Zone, order: int, migratetype: str, length: int, pfn: int | None, last: int | None
) -> ListBoundary:
    """Where a boundary stands in its list (``last``: the list's tail pfn)."""
    flags, base = zone.flags, zone.start_pfn
    if pfn is None:  # the list head sentinel: after the tail
        index, flagged_before, before = length, zone.flagged_count(order, migratetype), last
    else:
        index, flagged_before, before, _ = zone.free_list_index(order, migratetype, pfn, length)
    return ListBoundary.model_construct(
        index=index,
        before=before,
        before_flagged=None if before is None else flags[before - base] != 0,
        after=pfn,
        after_flagged=None if pfn is None else flags[pfn - base] != 0,
        flagged_before=flagged_before,
    )


def free_list_view(
    zone: Zone,
    order: int,
    migratetype: str,
    ends: int = LIST_ENDS,
    length: int | None = None,
    boundaries: Boundaries | None = None,
) -> FreeList:
    """One list as sent.  Without ``length`` the list is walked (snapshots); with it, only
    its ends are read (deltas, where the tracker keeps lengths from the events).  A list
    named in ``boundaries`` carries its boundary."""
    head: list[int]
    tail: list[int]
    if length is None:
        pfns = zone.free_list(order, migratetype)
        n = len(pfns)
        if n <= 2 * ends:
            head, tail = pfns, []
        else:
            head, tail = pfns[:ends], pfns[n - ends :]
    else:
        n = length
        if n <= 2 * ends:
            head, _ = zone.free_list_ends(order, migratetype, 2 * ends)
            tail = []
        else:
            head, tail = zone.free_list_ends(order, migratetype, ends)
    flags = zone.flags
    base = zone.start_pfn
    boundary = None
    if n and boundaries and (order, migratetype) in boundaries:
        last = tail[-1] if tail else head[-1]
        pfn = boundaries[order, migratetype]
        boundary = list_boundary(zone, order, migratetype, n, pfn, last)
    return FreeList.model_construct(
        order=order,
        migratetype=migratetype,
        length=n,
        head=head,
        tail=tail,
        head_flagged=[flags[p - base] != 0 for p in head],
        tail_flagged=[flags[p - base] != 0 for p in tail],
        flagged=zone.flagged_count(order, migratetype) if n else 0,
        boundary=boundary,
    )


def zone_lists(
    zone: Zone,
    max_order: int,
    migratetypes: Sequence[str],
    ends: int,
    boundaries: Boundaries | None = None,
) -> list[FreeList]:
    out: list[FreeList] = []
    for order in range(max_order):
        if zone.nr_free[order] == 0:
            continue
        for mt in migratetypes:
            fl = free_list_view(zone, order, mt, ends, boundaries=boundaries)
            if fl.length:
                out.append(fl)
    return out


LEGACY_ENDS: Final = 8


def legacy_free_lists(
    lists: Sequence[FreeList], max_order: int, migratetypes: Sequence[str]
) -> dict[str, list[FreeListSlice]]:
    """The first slice's ``free_lists`` (deprecated), derived from the sent lists."""
    empty = FreeListSlice.model_construct(count=0, head=[], tail=[])
    out = {mt: [empty] * max_order for mt in migratetypes}
    for fl in lists:
        if fl.length <= 2 * LEGACY_ENDS:
            sl = FreeListSlice.model_construct(count=fl.length, head=list(fl.head), tail=[])
        else:
            tail = fl.tail if fl.tail else fl.head  # a list of <= 32 entries is all in head
            sl = FreeListSlice.model_construct(
                count=fl.length, head=fl.head[:LEGACY_ENDS], tail=tail[-LEGACY_ENDS:]
            )
        out[fl.migratetype][fl.order] = sl
    return out


def unusable_index(nr_free: Sequence[int]) -> list[int]:
    """The zone's unusable free space index for every order, in thousandths."""
    return [unusable_free_index(nr_free, order) for order in range(len(nr_free))]


def source_view(plan: Plan) -> SourceInfo | None:
    info = plan.source.describe()
    return SourceInfo.model_validate(info) if info else None


def zone_snapshot(
    zone: Zone, node: Node, ends: int = LIST_ENDS, hinting: Mapping[str, Any] | None = None
) -> ZoneSnapshot:
    """``hinting``: ``node.hinting_state()`` when the caller has it already."""
    wm = zone.watermarks
    state = node.hinting_state() if hinting is None else hinting
    lists = zone_lists(
        zone, node.max_order, node.migratetypes, ends, boundaries_of(state, zone.name)
    )
    return ZoneSnapshot.model_construct(
        name=zone.name,
        start_pfn=zone.start_pfn,
        spanned_pages=zone.spanned_pages,
        managed_pages=zone.managed_pages,
        nr_free=list(zone.nr_free),
        nr_free_pages=zone.nr_free_pages,
        watermarks=Watermarks.model_construct(min=wm.min, low=wm.low, high=wm.high),
        lists=lists,
        pageblock_mt=b64(zone.pageblock_mt),
        page_state=b64(zone.page_state),
        host_backing=b64(node.host.backing[zone.name]),
        unusable_index=unusable_index(zone.nr_free),
        pcp=pcp_view(zone, node),
        free_pages=zone.nr_free_pages,
        free_lists=legacy_free_lists(lists, node.max_order, node.migratetypes),
    )


#: Head pfns sent per per-cpu list (the lane shows the next blocks to be handed out).
PCP_PFNS = 8


def pcp_view(zone: Zone, node: Node) -> list[PcpSet]:
    """Each CPU's per-cpu lists of ``zone`` (none when the lists are off)."""
    names = node.migratetypes
    base = zone.start_pfn
    out: list[PcpSet] = []
    for cpu, pcps in enumerate(node.pcp_sets):
        pcp = pcps.get(zone.name)
        if pcp is None:
            continue
        lists = [
            PcpList.model_construct(
                order=order,
                migratetypes=[names[mt] for mt in mts],
                blocks=len(lst),
                pfns=[base + i for i in islice(lst, PCP_PFNS)],
            )
            for (order, mts), lst in zip(pcp.list_keys(), pcp.lists, strict=True)
        ]
        out.append(
            PcpSet.model_construct(
                cpu=cpu,
                count=pcp.count,
                high=pcp.high,
                batch=pcp.batch,
                high_min=pcp.high_min,
                high_max=pcp.high_max,
                lists=lists,
            )
        )
    return out


def pcp_key(zone: Zone, node: Node) -> tuple[Any, ...]:
    """Everything ``pcp_view`` reads, as plain tuples: equal keys, equal views.  Deltas
    compare keys and build the view only when it changed (building one is ~30 model
    constructions, and any per-cpu event re-reads every zone's lists)."""
    return tuple(
        (
            cpu,
            pcp.count,
            pcp.high,
            pcp.batch,
            pcp.high_min,
            pcp.high_max,
            tuple(pcp.list_keys()),
            tuple((len(lst), tuple(islice(lst, PCP_PFNS))) for lst in pcp.lists),
        )
        for cpu, pcps in enumerate(node.pcp_sets)
        if (pcp := pcps.get(zone.name)) is not None
    )


def config_view(plan: Plan, node: Node, hinting: dict[str, Any]) -> SessionConfigView:
    cfg = plan.config
    return SessionConfigView.model_construct(
        scenario=cfg.scenario,
        kernel=node.kernel,
        hinting=node.hinting,
        pcp=node.pcp_enabled,
        cpus=node.cpus,
        what_if=node.what_if,
        seed=plan.source.seed,
        pages=cfg.pages,
        max_order=node.max_order,
        pageblock_order=node.pageblock_order,
        migratetypes=list(node.migratetypes),
        constants=list(hinting.get("constants", [])),
        hinting_options=dict(plan.source.node_options.get("hinting_options", {})),
        source=source_view(plan),
    )


def host_stats(node: Node) -> HostStats:
    s = node.host.stats()
    return HostStats.model_construct(
        resident_pages=s.resident_pages,
        discarded_pages=s.discarded_pages,
        refaults=s.refaults,
        report_calls=s.report_calls,
        pages_reported=s.pages_reported,
    )


def event_dicts(
    synthetic: list[dict[str, Any]], events: Iterable[Any], limit: int = MAX_DELTA_EVENTS
) -> tuple[list[dict[str, Any]], int]:
    """The step's events as JSON-safe dicts (backend narration first), and how many were
    left out beyond ``limit``."""
    out = list(synthetic)
    dropped = 0
    for e in events:
        if len(out) < limit:
            out.append(e.to_dict())
        else:
            dropped += 1
    return out, dropped


# --- deltas ------------------------------------------------------------------------------


def diff_ranges(prev: bytearray, cur: bytes | bytearray, fine: int = 64) -> list[tuple[int, bytes]]:
    """Ranges where ``cur`` differs from ``prev``, as ``(offset, bytes)``: each ``fine``
    bytes (from offset 0) that differ, adjacent ones merged; ``prev`` is updated to
    equal ``cur``.

    Found by halving: a range that is equal is skipped whole, one that differs is
    split in two (on a multiple of ``fine``), so a step that changed a few blocks costs
    a few dozen comparisons of a 1 MB array.  Each is one ``memcmp`` with no copy:
    ``cur.startswith(view of prev, at)``, where slicing both would copy them."""
    spans: list[list[int]] = []
    with memoryview(prev) as old:

        def scan(a: int, b: int) -> None:
            if cur.startswith(old[a:b], a):
                return
            if b - a <= fine:
                if spans and spans[-1][1] == a:
                    spans[-1][1] = b
                else:
                    spans.append([a, b])
                return
            mid = a + max(1, (b - a) // fine // 2) * fine
            scan(a, mid)
            scan(mid, b)

        scan(0, len(cur))
    out: list[tuple[int, bytes]] = []
    for c, d in spans:
        chunk = bytes(cur[c:d])
        prev[c:d] = chunk
        out.append((c, chunk))
    return out


_LIST_KEYS: Final = ("migratetype", "from_migratetype", "to_migratetype")
#: Events after which a zone's per-cpu lists are read again.
_PCP_KINDS: Final = frozenset({"pcp_add", "pcp_del", "pcp_refill", "pcp_drain"})


class Tracker:
    """What one view last sent, to compute the next delta."""

    def __init__(self, node: Node) -> None:
        self.page = {z.name: bytearray(z.page_state) for z in node.zones}
        self.host = {z.name: bytearray(node.host.backing[z.name]) for z in node.zones}
        self.pageblock = {z.name: bytearray(z.pageblock_mt) for z in node.zones}
        self.counts = {z.name: (list(z.nr_free), z.nr_free_pages) for z in node.zones}
        # Length of each free list, kept from the list_add/list_del/list_move events (the
        # model emits one for every change of list membership); filled in on first use.
        self.lengths: dict[tuple[str, int, str], int] = {}
        # v2's boundaries as last sent, per zone; a list whose boundary appears, goes or
        # points elsewhere is sent again even when its entries did not change.
        hinting = node.hinting_state()
        self.boundaries = {z.name: boundaries_of(hinting, z.name) for z in node.zones}
        self.pcp = {z.name: pcp_key(z, node) for z in node.zones}

    def _count(self, events: Sequence[dict[str, Any]]) -> None:
        lengths = self.lengths
        for e in events:
            kind = e["kind"]
            if kind == "list_add" or kind == "list_del":
                key = (e["zone"], e["order"], e["migratetype"])
                if key in lengths:
                    lengths[key] += 1 if kind == "list_add" else -1
            elif kind == "list_move":
                key = (e["zone"], e["order"], e["from_migratetype"])
                if key in lengths:
                    lengths[key] -= 1
                key = (e["zone"], e["order"], e["to_migratetype"])
                if key in lengths:
                    lengths[key] += 1

    def _length(self, zone: Zone, order: int, migratetype: str) -> int:
        key = (zone.name, order, migratetype)
        n = self.lengths.get(key)
        if n is None:
            n = self.lengths[key] = len(zone.free_list(order, migratetype))
        return n

    def zone_deltas(
        self,
        node: Node,
        events: Sequence[dict[str, Any]],
        ends: int = LIST_ENDS,
        hinting: Mapping[str, Any] | None = None,
        complete: bool = True,
    ) -> list[ZoneDelta]:
        """The zones a step changed.  ``events`` are the step's events; when some were
        left out (``complete`` false: a huge step), every list is read again instead of
        trusting the counts kept from them.  ``hinting``: ``node.hinting_state()``."""
        self._count(events)
        state = node.hinting_state() if hinting is None else hinting
        dirty: dict[str, set[tuple[int, str]]] = {}
        if complete:
            for e in events:
                zone = e.get("zone")
                order = e.get("order")
                if zone is None or order is None:
                    continue
                for key in _LIST_KEYS:
                    mt = e.get(key)
                    if mt is not None:
                        dirty.setdefault(zone, set()).add((order, mt))
        else:
            self.lengths.clear()
            every = {(k, mt) for k in range(node.max_order) for mt in node.migratetypes}
            dirty = {z.name: set(every) for z in node.zones}
        out: list[ZoneDelta] = []
        pcp_touched = node.pcp_enabled and any(e["kind"] in _PCP_KINDS for e in events)
        for z in node.zones:
            name = z.name
            pcp: list[PcpSet] | None = None
            if pcp_touched or not complete:
                seen = pcp_key(z, node)
                if seen != self.pcp[name]:
                    self.pcp[name] = seen
                    pcp = pcp_view(z, node)
            base = z.start_pfn
            boundaries = boundaries_of(state, name)
            sent = self.boundaries[name]
            if boundaries != sent:
                lists = dirty.setdefault(name, set())
                for at in boundaries.keys() | sent.keys():
                    if at not in boundaries or at not in sent or boundaries[at] != sent[at]:
                        lists.add(at)
                self.boundaries[name] = boundaries
            pages = diff_ranges(self.page[name], z.page_state)
            host = diff_ranges(self.host[name], node.host.backing[name])
            blocks = diff_ranges(self.pageblock[name], z.pageblock_mt, fine=16)
            counts = (list(z.nr_free), z.nr_free_pages)
            changed_lists = [
                free_list_view(z, order, mt, ends, self._length(z, order, mt), boundaries)
                for order, mt in sorted(dirty.get(name, ()))
            ]
            if not (
                pages
                or host
                or blocks
                or changed_lists
                or counts != self.counts[name]
                or pcp is not None
            ):
                continue
            self.counts[name] = counts
            out.append(
                ZoneDelta.model_construct(
                    name=name,
                    nr_free=counts[0],
                    nr_free_pages=counts[1],
                    lists=changed_lists,
                    page_ranges=[(base + off, b64(chunk)) for off, chunk in pages],
                    host_ranges=[(base + off, b64(chunk)) for off, chunk in host],
                    unusable_index=unusable_index(counts[0]),
                    pageblock_ranges=[(off, b64(chunk)) for off, chunk in blocks],
                    pcp=pcp,
                )
            )
        return out
