"""``from_buddyinfo``: start a node from a real machine's free lists.

The free counts come from ``/proc/buddyinfo`` (and, when given, the per-migratetype
counts and pageblock types from ``/proc/pagetypeinfo``); ``proclayout.plan_layout`` decides
where every free block sits.  Everything that is not free becomes allocated order-0
pages of its pageblock's type, touched (resident on the host), since a snapshot says
nothing about how that memory was allocated.  Free pages start not backed on the host.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ..kernel.config import MIGRATE_MOVABLE
from ..kernel.errors import ConfigError
from ..kernel.node import Node, ZoneSpec
from ..kernel.pagestate import FILLS, PS_ALLOCATED, PS_FREE
from ..kernel.perpage import per_page_from
from .procfs import ProcParseError, parse_buddyinfo, parse_pagetypeinfo
from .proclayout import ZonePlan, plan_layout


def from_buddyinfo(text: str, pagetypeinfo: str | None = None, **options: Any) -> Node:
    """A node whose free lists match a real ``/proc/buddyinfo`` (and pagetypeinfo).

    Zones are laid out consecutively from pfn 0 in the file's order; see
    ``proclayout.plan_layout`` for where the blocks go.  ``options`` are as for ``Node``.
    """
    if "zones" in options:
        raise ConfigError("from_buddyinfo() takes its zones from the file; do not pass zones=")
    try:
        rows = parse_buddyinfo(text)
        info = parse_pagetypeinfo(pagetypeinfo) if pagetypeinfo is not None else None
    except ProcParseError as exc:
        raise ConfigError(f"cannot read the snapshot: {exc}") from None
    if not rows:
        raise ConfigError("the buddyinfo text holds no zone line")
    if len({r.node for r in rows}) > 1:
        raise ConfigError("the snapshot has several NUMA nodes; the model has one node")
    max_order = len(rows[0].counts)
    if "max_order" in options and options["max_order"] != max_order:
        raise ConfigError(
            f"the buddyinfo lines have {max_order} orders, not max_order={options['max_order']}"
        )
    if (
        info is not None
        and options.get("pageblock_order", info.pageblock_order) != info.pageblock_order
    ):
        raise ConfigError(
            f"pageblock_order={options['pageblock_order']} disagrees with the pagetypeinfo's "
            f"'Page block order: {info.pageblock_order}'"
        )
    options = dict(options, max_order=max_order)
    # Without pagetypeinfo, a kernel with fewer orders has pageblock_order = MAX_ORDER - 1.
    options.setdefault("pageblock_order", min(9, max_order - 1))
    if info is not None:
        options["pageblock_order"] = info.pageblock_order
        cma = "CMA" in info.migratetypes
        if options.get("cma", cma) != cma:
            raise ConfigError("cma= disagrees with the pagetypeinfo's migratetypes")
        options["cma"] = cma
    try:
        plans = plan_layout(
            rows, info, max_order=max_order, pageblock_order=options.get("pageblock_order", 9)
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    zones = [ZoneSpec(p.name, p.start_pfn, p.pages) for p in plans]
    return Node(zones=zones, _populate=partial(populate, plans=plans), **options)


def populate(node: Node, plans: list[ZonePlan]) -> None:
    """Lay out allocated memory and the planned free blocks (instead of booting)."""
    for z, plan in zip(node.zones, plans, strict=True):
        n = z.spanned_pages
        names = node.mts.names
        for b, mt_name in enumerate(plan.pageblock_types):
            mt = names.index(mt_name)
            z.pageblock_mt[b] = mt
        if z.pageblock_mt.count(z.mt_isolate):
            z.nr_isolate_pageblock = z.pageblock_mt.count(z.mt_isolate)
        # Every page an allocated order-0 block but the free ones (laid out in a bytearray,
        # then stored in the build's per-page storage: perpage.py)
        allocated = bytearray(b"\x01") * n
        z.page_state[:] = bytes([PS_ALLOCATED]) * n
        for i in range(n):
            z.alloc_mt[i] = z.get_pageblock_migratetype(i) if z.pageblock_mt else MIGRATE_MOVABLE
        for pfn, order, mt_name in plan.free_blocks:
            i = pfn - z.start_pfn
            size = 1 << order
            allocated[i : i + size] = bytes(size)
            z.page_state[i : i + size] = FILLS[PS_FREE][order]
            mt = names.index(mt_name)
            z.add_to_free_list_tail(i, order, mt, "from the snapshot")
            if mt != z.mt_isolate:
                z.nr_free_pages += size
        z.alloc_order = per_page_from(allocated)
        start = allocated.find(1)
        while start >= 0:
            node.host.touch(z, start, 0)
            start = allocated.find(1, start + 1)
