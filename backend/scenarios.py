"""Scenarios: a node configuration plus a seeded workload applied through the public API.

A workload is a plain list of operations (``Alloc`` / ``Free``) generated from a seed
before anything runs, then applied in order.  Because the model is deterministic, the
same scenario always produces the same free lists; later, a session's timeline can
replay a prefix of the same list to reach any step.

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
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from allocator_model import Node, ZoneSpec, default_zones
from allocator_model.scenario import Scenario as LibraryScenario
from allocator_model.scenario import library as scenario_library
from allocator_model.workload import expand

DEFAULT_SEED: Final = 2019

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
class Scenario:
    """A node after a workload ran on it."""

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


def _run(name: str, description: str, seed: int, node: Node, ops: Sequence[Op]) -> Scenario:
    allocated = apply(node, ops)
    return Scenario(name, description, seed, node, tuple(ops), len(ops), allocated)


def build_default(seed: int = DEFAULT_SEED) -> Scenario:
    """The dashboard's default: the model's default node after the default workload."""
    return _run(
        "default",
        "Default guest (DMA, DMA32, Normal) after 1500 seeded allocations and 900 frees",
        seed,
        Node(seed=seed, events=False),
        default_workload(seed),
    )


def build_small(seed: int = DEFAULT_SEED) -> Scenario:
    """One 16 MiB Normal zone and a short workload: quick to build, for tests and demos."""
    return _run(
        "small",
        "One 16 MiB Normal zone after 200 seeded allocations and 120 frees",
        seed,
        Node(zones=[ZoneSpec("Normal", start_pfn=0, pages=4096)], seed=seed, events=False),
        default_workload(seed, allocs=200, max_alloc_order=4, zones=False),
    )


SCENARIOS: Final[dict[str, Callable[[], Scenario]]] = {
    "default": build_default,
    "small": build_small,
}


# --- scenarios for sessions ------------------------------------------------------------
#
# A session runs a *plan*: node options, a workload of primitive operations in the
# model's workload format (``allocator_model.workload``), and where the timeline starts.
# The built-in scenarios above become workloads whose labels name each allocation, so
# a free always frees the block its allocation returned.  The model's scenario library
# (``allocator_model/scenarios/*.json``) provides the narrated teaching scenarios.


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


class SessionConfig(BaseModel):
    """What a session runs: a scenario and the user's overrides of its configuration.

    ``None`` means "as the scenario says".  ``pages`` resizes the last (highest) zone.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str = "default"
    kernel: Literal["5.3", "5.7", "5.10"] | None = None
    hinting: Literal["none", "hinting-v2", "reporting"] | None = None
    constants: dict[str, int | float] = Field(default_factory=dict)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    pcp: bool | None = None
    pages: int | None = Field(default=None, ge=1)


@dataclass(frozen=True)
class Plan:
    """A resolved configuration: how to build the node and what the workload is."""

    config: SessionConfig
    node_options: dict[str, Any]
    workload: tuple[dict[str, Any], ...]
    start_at_end: bool
    seed: int

    def new_node(self) -> Node:
        return Node(**self.node_options)


@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    title: str
    summary: str
    source: Literal["builtin", "library"]
    seed: int
    hinting: str
    kernel: str
    steps: int
    start_at_end: bool


class ScenarioNotFound(ValueError):
    pass


@functools.cache
def _library() -> dict[str, LibraryScenario]:
    return scenario_library()


_BUILTIN_INFO: Final = {
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


def scenario_infos() -> list[ScenarioInfo]:
    """Every scenario a session can run: the built-in ones, then the model's library."""
    infos = [
        ScenarioInfo(
            name,
            title,
            summary,
            "builtin",
            DEFAULT_SEED,
            "none",
            "5.10",
            len(_builtin_ops(name, DEFAULT_SEED)),
            True,
        )
        for name, (title, summary) in _BUILTIN_INFO.items()
    ]
    for name, sc in _library().items():
        infos.append(
            ScenarioInfo(
                name,
                sc.title,
                sc.summary,
                "library",
                sc.seed,
                str(sc.config.get("hinting", "none")),
                str(sc.config.get("kernel", "5.10")),
                len(sc.ops()),
                False,
            )
        )
    return infos


def scenario_names() -> list[str]:
    return [*_BUILTIN_INFO, *_library()]


@functools.lru_cache(maxsize=16)
def _builtin_ops(name: str, seed: int) -> tuple[Op, ...]:
    if name == "default":
        return tuple(default_workload(seed))
    return tuple(default_workload(seed, allocs=200, max_alloc_order=4, zones=False))


def plan_for(config: SessionConfig) -> Plan:
    """Resolve ``config``; raises ``ScenarioNotFound`` or ``ConfigError``/``ValueError``."""
    name = config.scenario
    if name in _BUILTIN_INFO:
        seed = DEFAULT_SEED if config.seed is None else config.seed
        options: dict[str, Any] = {"seed": seed}
        if name == "small":
            options["zones"] = [ZoneSpec("Normal", start_pfn=0, pages=4096)]
        workload = tuple(to_workload(_builtin_ops(name, seed)))
        start_at_end = True
    elif name in _library():
        sc = _library()[name]
        seed = sc.seed if config.seed is None else config.seed
        options = sc.node_options(seed=seed)
        workload = tuple(expand(sc.workload, seed))
        start_at_end = False
    else:
        raise ScenarioNotFound(
            f"unknown scenario {name!r}; choose one of {', '.join(scenario_names())}"
        )
    if config.kernel is not None:
        options["kernel"] = config.kernel
    if config.hinting is not None and config.hinting != options.get("hinting", "none"):
        options["hinting"] = config.hinting
        options.pop("hinting_options", None)
    if config.constants:
        options["hinting_options"] = {**options.get("hinting_options", {}), **config.constants}
    if config.pcp is not None:
        options["pcp"] = config.pcp
    if config.pages is not None:
        zones = list(options.get("zones") or default_zones())
        last = zones[-1]
        zones[-1] = ZoneSpec(last.name, last.start_pfn, config.pages)
        options["zones"] = zones
    return Plan(config, options, workload, start_at_end, seed)
