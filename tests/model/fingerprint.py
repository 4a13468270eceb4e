"""A complete fingerprint of a node's state, to prove that a failed call changed nothing."""

from __future__ import annotations

from typing import Any

from allocator_model import Node


def fingerprint(node: Node) -> dict[str, Any]:
    zones = {}
    for z in node.zones:
        zones[z.name] = (
            bytes(z.buddy_order),
            bytes(z.alloc_order),
            bytes(z.alloc_mt),
            bytes(z.free_mt),
            bytes(z.flags),
            bytes(z.page_state),
            bytes(z.pageblock_mt),
            memoryview(z.lists.next).tobytes(),
            memoryview(z.lists.prev).tobytes(),
            tuple(z.nr_free),
            z.nr_free_pages,
            z.nr_isolate_pageblock,
        )
    pcps = {name: (p.count, tuple(tuple(lst) for lst in p.lists)) for name, p in node.pcps.items()}
    return {
        "zones": zones,
        "pcps": pcps,
        "clock": node.clock_ns,
        "work": node.pending_work(),
        "events": None if node.events is None else [e.to_dict() for e in node.events],
        "strategy": node.hinting_state() if hasattr(node, "hinting_state") else None,
        "random": node.random.getstate(),
    }
