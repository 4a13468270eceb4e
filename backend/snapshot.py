"""Turn the state of an ``allocator_model.Node`` into protocol messages.

Only the model's public API is used: ``node.zones``, ``zone.nr_free[order]`` and
``zone.free_list(order, migratetype)``.  Nothing is recomputed that the model decided;
``free_pages`` is plain arithmetic over ``nr_free`` so the page does not have to do it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from allocator_model import Node, Zone

from .protocol import FreeListSlice, Snapshot, ZoneState

#: Most pfns sent from each end of one free list (``Limits.list_ends``).
LIST_ENDS: Final = 8


def slice_list(pfns: Sequence[int], ends: int = LIST_ENDS) -> FreeListSlice:
    """Keep both ends of a head -> tail list and the total count.

    >>> slice_list([5, 6, 7], ends=1)
    FreeListSlice(count=3, head=[5], tail=[7])
    """
    if ends < 1:
        raise ValueError(f"ends must be at least 1, got {ends}")
    count = len(pfns)
    if count <= 2 * ends:
        return FreeListSlice(count=count, head=list(pfns), tail=[])
    return FreeListSlice(count=count, head=list(pfns[:ends]), tail=list(pfns[count - ends :]))


def zone_state(zone: Zone, max_order: int, migratetypes: Sequence[str], ends: int) -> ZoneState:
    nr_free = [zone.nr_free[order] for order in range(max_order)]
    return ZoneState(
        name=zone.name,
        start_pfn=zone.start_pfn,
        spanned_pages=zone.spanned_pages,
        nr_free=nr_free,
        free_pages=sum(n << order for order, n in enumerate(nr_free)),
        free_lists={
            mt: [slice_list(zone.free_list(order, mt), ends) for order in range(max_order)]
            for mt in migratetypes
        },
    )


def build_snapshot(
    node: Node, *, seq: int, scenario: str, step: int, ends: int = LIST_ENDS
) -> Snapshot:
    migratetypes = list(node.migratetypes)
    return Snapshot(
        seq=seq,
        scenario=scenario,
        step=step,
        max_order=node.max_order,
        pageblock_order=node.pageblock_order,
        migratetypes=migratetypes,
        zones=[zone_state(z, node.max_order, migratetypes, ends) for z in node.zones],
    )
