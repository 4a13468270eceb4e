"""The two built-in scenarios, "default" and "small": a node plus a seeded workload.

A workload here is a plain list of operations (``Alloc`` / ``Free``) generated from a
seed before anything runs, then applied in order.  Because the model is deterministic,
the same scenario always produces the same free lists; a session's timeline replays a
prefix of the same list (as primitive workload operations, ``to_workload``) to reach
any step.

The embedded default workload ("default") runs on the model's default node (zones DMA,
DMA32 and Normal).  It allocates a mix of small blocks with a realistic skew towards
order 0 and the Movable type, plus a few requests pinned to the DMA and DMA32 zones, and
then frees a random 60 % of them.  The frees leave holes whose buddies are still
allocated, so every order from 0 up has something on its free lists, the way a real
machine looks after it has been running a while.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ..kernel.node import Node, ZoneSpec

DEFAULT_SEED: Final = 2019

#: The default session's rules: a guest of today, an LTS kernel whose virtio-balloon
#: device reports free pages (the 2019 scenarios keep the kernels of their time).
DEFAULT_GUEST: Final[dict[str, Any]] = {"kernel": "6.12", "hinting": "reporting"}

# Order distribution of the default workload: mostly single pages, a tail of larger
# requests (order 3 is PAGE_ALLOC_COSTLY_ORDER; order 9 is a transparent huge page).
_ORDER_WEIGHTS: Final = {0: 40, 1: 18, 2: 14, 3: 12, 4: 6, 5: 4, 6: 2, 9: 4}
_MIGRATETYPE_WEIGHTS: Final = {"Movable": 70, "Unmovable": 20, "Reclaimable": 10}


@dataclass(frozen=True)
class Alloc:
    """``node.alloc(order, migratetype, zone)``; its result is remembered by index."""

    order: int
    migratetype: str
    zone: str | None = None


@dataclass(frozen=True)
class Free:
    """Free the block returned by the ``alloc_index``-th ``Alloc`` of the workload."""

    alloc_index: int


Op = Alloc | Free


@dataclass
class BuiltScenario:
    """A node after a built-in workload ran on it."""

    name: str
    description: str
    seed: int
    node: Node
    ops: tuple[Op, ...]
    steps: int = 0
    allocated: list[tuple[int, int]] = field(default_factory=list)


def default_workload(
    seed: int = DEFAULT_SEED, allocs: int = 1500, max_alloc_order: int = 9, zones: bool = True
) -> list[Op]:
    """A reproducible list of allocations followed by frees of a random 60 % of them.

    ``max_alloc_order`` drops larger requests (for small zones); with ``zones=False`` no
    request is pinned to the DMA or DMA32 zone.
    """
    rng = random.Random(seed)
    weights = {o: w for o, w in _ORDER_WEIGHTS.items() if o <= max_alloc_order}
    orders = list(weights)
    order_weights = list(weights.values())
    types = list(_MIGRATETYPE_WEIGHTS)
    type_weights = list(_MIGRATETYPE_WEIGHTS.values())
    ops: list[Op] = []
    for _ in range(allocs):
        order = rng.choices(orders, order_weights)[0]
        migratetype = rng.choices(types, type_weights)[0]
        where = rng.random()
        zone = None
        if zones:
            zone = "DMA" if where < 0.03 and order <= 3 else "DMA32" if where < 0.25 else None
        ops.append(Alloc(order, migratetype, zone))
    survivors = list(range(allocs))
    rng.shuffle(survivors)
    ops.extend(Free(i) for i in survivors[: allocs * 6 // 10])
    return ops


def apply(node: Node, ops: Sequence[Op]) -> list[tuple[int, int]]:
    """Run ``ops`` on ``node``; returns ``(pfn, order)`` of every allocation, by index."""
    allocated: list[tuple[int, int]] = []
    for op in ops:
        if isinstance(op, Alloc):
            pfn = node.alloc(order=op.order, migratetype=op.migratetype, zone=op.zone)
            allocated.append((pfn, op.order))
        else:
            pfn, order = allocated[op.alloc_index]
            node.free(pfn, order)
    return allocated


def _run(name: str, description: str, seed: int, node: Node, ops: Sequence[Op]) -> BuiltScenario:
    allocated = apply(node, ops)
    return BuiltScenario(name, description, seed, node, tuple(ops), len(ops), allocated)


def build_default(seed: int = DEFAULT_SEED) -> BuiltScenario:
    """The dashboard's default: the default node, as a guest of today runs it, after the
    default workload."""
    return _run(
        "default",
        "Default guest (DMA, DMA32, Normal) after 1500 seeded allocations and 900 frees",
        seed,
        Node(seed=seed, events=False, **DEFAULT_GUEST),
        default_workload(seed),
    )


def build_small(seed: int = DEFAULT_SEED) -> BuiltScenario:
    """One 16 MiB Normal zone and a short workload: quick to build, for tests and demos."""
    return _run(
        "small",
        "One 16 MiB Normal zone after 200 seeded allocations and 120 frees",
        seed,
        Node(zones=[ZoneSpec("Normal", start_pfn=0, pages=4096)], seed=seed, events=False),
        default_workload(seed, allocs=200, max_alloc_order=4, zones=False),
    )


SCENARIOS: Final[dict[str, Callable[[], BuiltScenario]]] = {
    "default": build_default,
    "small": build_small,
}


def to_workload(ops: Sequence[Op]) -> list[dict[str, Any]]:
    """The ``Alloc``/``Free`` list as primitive workload operations (one per step)."""
    out: list[dict[str, Any]] = []
    n = 0
    for op in ops:
        if isinstance(op, Alloc):
            item: dict[str, Any] = {
                "op": "alloc",
                "order": op.order,
                "migratetype": op.migratetype,
                "label": f"a{n}",
            }
            if op.zone is not None:
                item["zone"] = op.zone
            out.append(item)
            n += 1
        else:
            out.append({"op": "free", "label": f"a{op.alloc_index}"})
    return out


BUILTIN_INFO: Final = {
    "default": (
        "Default guest (DMA, DMA32, Normal): 1500 seeded allocations and 900 frees",
        "The model's default 4 GiB node after a realistic mix; opens at the end of the "
        "workload, so step back to watch it happen.",
    ),
    "small": (
        "One 16 MiB Normal zone: 200 seeded allocations and 120 frees",
        "Quick to build; for tests and demos.",
    ),
}

#: What the page's narration points a first-time user at.
BUILTIN_LOOK_FOR: Final = {
    "default": "free pages going back to the host. This guest runs Linux 6.12 with free "
    "page reporting, as a virtio-balloon guest does today: press play and its passes "
    'report the free pageblocks. Compare other rules under "scenario, strategy, kernel…", '
    'or open a lesson from the "scenarios ▾" button at the top (v2-boundary shows the '
    "2019 v2 boundary at work, reporting-passes free page reporting's passes).",
}


def builtin_options(name: str) -> dict[str, Any]:
    """Node options of a built-in scenario (besides its seed)."""
    if name == "small":
        return {"zones": [ZoneSpec("Normal", start_pfn=0, pages=4096)]}
    return dict(DEFAULT_GUEST)


@functools.lru_cache(maxsize=16)
def builtin_ops(name: str, seed: int) -> tuple[Op, ...]:
    if name == "default":
        return tuple(default_workload(seed))
    return tuple(default_workload(seed, allocs=200, max_alloc_order=4, zones=False))
