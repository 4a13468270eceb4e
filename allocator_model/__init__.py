"""allocator_model: a faithful, fast, event-emitting model of the Linux buddy allocator.

Public API (scripts, notebooks, the backend and tests use only this)::

    from allocator_model import Node, ZoneSpec, from_buddyinfo
    node = Node(zones=[ZoneSpec("Normal", start_pfn=0, pages=262144)], kernel="5.10")
    pfn = node.alloc(order=0, migratetype="Movable")
    node.free(pfn, order=0)
    node.zone("Normal").free_list(0, "Movable")
    print(node.buddyinfo())
    node = from_buddyinfo(open("/proc/buddyinfo").read())  # a real machine's free lists

Deliberate simplifications versus the kernel (5.3 / 5.7 / 5.10 / 6.12, x86-64, 4 KiB
pages; docs/model.md has the rules of each version):

* One NUMA node.  A zone's holes and memblock reservations are one thing to the model
  (``ZoneSpec.absent``): frames the buddy allocator never manages, shown as allocated.
* One CPU by default (``cpus`` gives more, each with its own per-cpu lists); a call
  that names no CPU runs on the next in turn.  6.12's pcp ``high`` tunes itself as the
  operations make it (``nr_pcp_high``, ``nr_pcp_alloc``, ``nr_pcp_free``,
  ZONE_BELOW_HIGH), but vmstat's ``decay_pcp_high`` and ZONE_RECLAIM_ACTIVE never run.
* No reclaim or compaction: an allocation that cannot be met at the min watermark (plus
  the zone's ``lowmem_reserve`` and watermark boost) raises ``OutOfMemory``.
* kswapd does not reclaim: a watermark boost (``boost_watermark``) is reset a set time
  after the last boost (``KSWAPD_BOOST_RESET`` in assumptions.py), standing for a
  kswapd that finds the node balanced.
* No high-atomic reserve (``reserve_highatomic_pageblock``,
  ``unreserve_highatomic_pageblock``) and no ALLOC_HARDER/ALLOC_HIGH requests that dip
  below min: every request is an ordinary GFP_KERNEL/GFP_USER-like one.  No CMA areas:
  with CONFIG_CMA the CMA lists exist but stay empty (a /proc snapshot may fill them);
  requests are Unmovable, Movable or Reclaimable only, and 6.12's ``__rmqueue`` does not
  send movable requests to CMA first when most free pages are CMA.
* 6.15+ (``__rmqueue_claim``/``__rmqueue_steal``, ``defrag_mode``) is not modelled.
* Transparent hugepages only raise ``min_free_kbytes`` (khugepaged's
  ``set_recommended_min_free_kbytes``); no huge page is ever allocated by the model.
* Page shuffling (``page_alloc.shuffle``) is off, as it is by default.
* Guard pages (``debug_guardpage_minorder``), page poisoning, compaction capture and
  memory hotplug are not modelled.
* Details the spec marks [mem]/[inf] are collected in ``assumptions.py``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Where each public name lives.  A name's module is imported when the name is first
# used (PEP 562), not when the package is: ``buddyscope live --once`` needs only the
# /proc parsers and the kpageflags decoder, and building the kernel model's classes
# (node, zone, the event catalogue) cost it ~90 ms of its 1 s budget.
_HOMES = {
    "ZoneSpec": "kernel.config",
    "ConfigError": "kernel.errors",
    "InvalidFree": "kernel.errors",
    "InvariantViolation": "kernel.errors",
    "ModelError": "kernel.errors",
    "OutOfMemory": "kernel.errors",
    "UnknownMigratetype": "kernel.errors",
    "UnknownZone": "kernel.errors",
    "Event": "kernel.events",
    "hexpfn": "kernel.events",
    "Node": "kernel.node",
    "PageInfo": "kernel.node",
    "default_zones": "kernel.node",
    "ListPosition": "kernel.zone",
    "Zone": "kernel.zone",
    "from_buddyinfo": "sources.fromproc",
}

if TYPE_CHECKING:
    from .kernel.config import ZoneSpec
    from .kernel.errors import (
        ConfigError,
        InvalidFree,
        InvariantViolation,
        ModelError,
        OutOfMemory,
        UnknownMigratetype,
        UnknownZone,
    )
    from .kernel.events import Event, hexpfn
    from .kernel.node import Node, PageInfo, default_zones
    from .kernel.zone import ListPosition, Zone
    from .sources.fromproc import from_buddyinfo


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # the next use is a plain global
    return value


__all__ = [
    "ConfigError",
    "Event",
    "InvalidFree",
    "InvariantViolation",
    "ListPosition",
    "ModelError",
    "Node",
    "OutOfMemory",
    "PageInfo",
    "UnknownMigratetype",
    "UnknownZone",
    "Zone",
    "ZoneSpec",
    "default_zones",
    "from_buddyinfo",
    "hexpfn",
]
