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

from pydantic import BaseModel, ConfigDict, Field, model_validator

from allocator_model import ConfigError, Node, ZoneSpec, default_zones
from allocator_model.sources.scenario import Scenario as LibraryScenario
from allocator_model.sources.scenario import library as scenario_library
from allocator_model.sources.workload import MAX_EXPANDED, WorkloadError, expand

from .sources import (
    MAX_PROC_CHARS,
    MAX_TRACE_CHARS,
    MAX_WORKLOAD_CHARS,
    SOURCE_KINDS,
    SourceError,
    proc_layout,
    source_info,
    trace_import,
    trace_summary,
    workload_file,
)
from .workload_file import node_options as file_node_options
from .workload_file import to_model_ops

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
    """The dashboard's default: the default node, as a guest of today runs it, after the
    default workload."""
    return _run(
        "default",
        "Default guest (DMA, DMA32, Normal) after 1500 seeded allocations and 900 frees",
        seed,
        Node(seed=seed, events=False, **DEFAULT_GUEST),
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
# model's workload format (``allocator_model.sources.workload``), and where the timeline starts.
# The built-in scenarios above become workloads whose labels name each allocation, so
# a free always frees the block its allocation returned.  The model's scenario library
# (``allocator_model/sources/scenarios/*.json``) provides the narrated teaching scenarios.


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
    Instead of a named scenario, a session can run from one source text: ``workload``
    (a workload or scenario file), ``buddyinfo`` (+ ``pagetypeinfo``) or ``trace``;
    ``scenario`` is then the source's kind (``"workload"``, ``"buddyinfo"``, ``"trace"``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str = Field(default="default", max_length=100)
    kernel: Literal["5.3", "5.7", "5.10", "6.12"] | None = None
    hinting: Literal["none", "hinting-v2", "reporting"] | None = None
    constants: dict[str, int | float] = Field(default_factory=dict)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    pcp: bool | None = None
    cpus: int | None = Field(default=None, ge=1, le=64)
    pages: int | None = Field(default=None, ge=1)
    workload: str | None = Field(
        default=None,
        max_length=MAX_WORKLOAD_CHARS,
        description="A workload or scenario file, as its JSON text (docs/workload.schema.json)",
    )
    buddyinfo: str | None = Field(
        default=None,
        max_length=MAX_PROC_CHARS,
        description="/proc/buddyinfo of any machine: the node starts with its free lists",
    )
    pagetypeinfo: str | None = Field(
        default=None,
        max_length=MAX_PROC_CHARS,
        description="/proc/pagetypeinfo of the same machine (optional, with buddyinfo)",
    )
    trace: str | None = Field(
        default=None,
        max_length=MAX_TRACE_CHARS,
        description="trace-cmd report / perf script text of kmem:mm_page_alloc/free events",
    )
    fold_setup: bool | None = Field(
        default=None,
        description="Fold the automatic steps before the first narrated phase into the "
        "starting state (the default); false shows them as steps",
    )

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        kinds = [k for k in SOURCE_KINDS if data.get(k) is not None]
        if len(kinds) > 1:
            raise ValueError(f"give one source, not {' and '.join(kinds)}")
        if data.get("pagetypeinfo") is not None and data.get("buddyinfo") is None:
            raise ValueError("pagetypeinfo goes with buddyinfo")
        if kinds:
            scenario = data.get("scenario")
            if scenario is None:
                data = {**data, "scenario": kinds[0]}
            elif scenario != kinds[0]:
                raise ValueError(
                    f"with {kinds[0]}, scenario must be {kinds[0]!r} or left out, not {scenario!r}"
                )
        return data

    @property
    def source_kind(self) -> str:
        for kind in SOURCE_KINDS:
            if getattr(self, kind) is not None:
                return kind
        return "scenario"


@dataclass(frozen=True)
class StepBudget:
    """What one new step may do: emit ``events`` events and take ``seconds`` of CPU.  A
    step over either is undone and refused (``timeline.View.forward``); the blocks one
    workload operation may touch are bounded before anything runs (``check_size``)."""

    events: int = 1 << 18
    seconds: float = 10.0


@dataclass(frozen=True)
class Plan:
    """A resolved configuration: how to build the node and what the workload is.

    ``source`` describes where it came from (``SourceInfo`` on the wire); ``questions``
    are the quiz questions of a scenario (``before_step`` = workload operation index);
    ``proc`` is the ``/proc`` text a node is built from instead of booting; ``zone_sizes``
    the zones' sizes when they are not in ``node_options`` (a ``/proc`` snapshot).
    """

    config: SessionConfig
    node_options: dict[str, Any]
    workload: tuple[dict[str, Any], ...]
    start_at_end: bool
    seed: int
    source: dict[str, Any] = field(default_factory=dict)
    questions: tuple[dict[str, Any], ...] = ()
    proc: tuple[str, str | None] | None = None
    zone_sizes: tuple[tuple[str, int], ...] = ()
    compare: tuple[str, ...] = ()
    budget: StepBudget = field(default_factory=StepBudget)

    def new_node(self) -> Node:
        if self.proc is not None:
            return Node.from_buddyinfo(self.proc[0], self.proc[1], **self.node_options)
        return Node(**self.node_options)

    def sizes(self) -> list[tuple[str, int]]:
        """(zone, pages) of the node this plan builds, without building it."""
        if self.zone_sizes:
            return list(self.zone_sizes)
        zones = self.node_options.get("zones") or default_zones()
        return [(z.name, z.pages) for z in zones]


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


#: The default session's rules: a guest of today, an LTS kernel whose virtio-balloon
#: device reports free pages (the 2019 scenarios keep the kernels of their time).
DEFAULT_GUEST: Final[dict[str, Any]] = {"kernel": "6.12", "hinting": "reporting"}

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

#: What the page's narration points a first-time user at.
_BUILTIN_LOOK_FOR: Final = {
    "default": "free pages going back to the host. This guest runs Linux 6.12 with free "
    "page reporting, as a virtio-balloon guest does today: press play and its passes "
    'report the free pageblocks. Compare other rules under "scenario, strategy, kernel…", '
    'or open a lesson from the "scenarios ▾" button at the top (v2-boundary shows the '
    "2019 v2 boundary at work, reporting-passes free page reporting's passes).",
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
            str(_builtin_options(name).get("hinting", "none")),
            str(_builtin_options(name).get("kernel", "5.10")),
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


def _builtin_options(name: str) -> dict[str, Any]:
    """Node options of a built-in scenario (besides its seed)."""
    if name == "small":
        return {"zones": [ZoneSpec("Normal", start_pfn=0, pages=4096)]}
    return dict(DEFAULT_GUEST)


def scenario_names() -> list[str]:
    return [*_BUILTIN_INFO, *_library()]


@functools.lru_cache(maxsize=16)
def _builtin_ops(name: str, seed: int) -> tuple[Op, ...]:
    if name == "default":
        return tuple(default_workload(seed))
    return tuple(default_workload(seed, allocs=200, max_alloc_order=4, zones=False))


def _from_sources(config: SessionConfig, max_steps: int) -> Plan | None:
    """The plan of a configuration with a source text (before the user's overrides)."""
    if config.workload is not None:
        wf = workload_file(config.workload)
        seed = wf.seed if config.seed is None else config.seed
        options = {**file_node_options(wf), "seed": seed}
        try:
            ops = tuple(expand(to_model_ops(wf), seed, max_steps))
        except WorkloadError as exc:
            raise SourceError("workload", [str(exc)]) from None
        questions = tuple(q.model_dump() for q in wf.questions)
        info = source_info(
            "workload",
            wf.name,
            title=wf.title,
            summary=wf.summary,
            look_for=wf.look_for,
            questions=len(questions),
        )
        return Plan(config, options, ops, False, seed, info, questions, compare=tuple(wf.compare))
    if config.trace is not None:
        imported = trace_import(config.trace)
        seed = 0 if config.seed is None else config.seed
        summary = trace_summary(imported)
        info = source_info(
            "trace",
            "trace",
            title="A recorded kmem page trace, replayed",
            summary=summary["summary"],
            trace=summary,
        )
        try:
            ops = tuple(expand(imported.ops, seed, max_steps))
        except WorkloadError as exc:
            raise SourceError("trace", [str(exc)]) from None
        return Plan(config, {"seed": seed}, ops, False, seed, info)
    if config.buddyinfo is not None:
        if config.pages is not None:
            raise ConfigError("a /proc snapshot sets its own zone sizes: leave pages out")
        layout = proc_layout(config.buddyinfo, config.pagetypeinfo)
        seed = 0 if config.seed is None else config.seed
        zones = ", ".join(f"{name} ({pages} pages)" for name, pages in layout.zone_sizes)
        info = source_info(
            "buddyinfo",
            "buddyinfo",
            title="A real machine's free lists",
            summary=f"/proc/buddyinfo{' and pagetypeinfo' if config.pagetypeinfo else ''}: "
            f"zones {zones}",
            notes=layout.notes,
        )
        return Plan(
            config,
            {"seed": seed},
            (),
            False,
            seed,
            info,
            proc=(config.buddyinfo, config.pagetypeinfo),
            zone_sizes=layout.zone_sizes,
        )
    return None


def plan_for(config: SessionConfig, max_steps: int = MAX_EXPANDED) -> Plan:
    """Resolve ``config``; raises ``ScenarioNotFound``, ``SourceError`` (a source text
    that cannot be loaded, or a workload of more than ``max_steps`` operations) or
    ``ConfigError``/``ValueError``."""
    name = config.scenario
    questions: tuple[dict[str, Any], ...] = ()
    compare: tuple[str, ...] = ()
    sourced = _from_sources(config, max_steps)
    if sourced is not None:
        plan = sourced
        options, workload, start_at_end, seed = (
            dict(plan.node_options), plan.workload, False, plan.seed,
        )  # fmt: skip
    elif name in _BUILTIN_INFO:
        seed = DEFAULT_SEED if config.seed is None else config.seed
        options = {"seed": seed, **_builtin_options(name)}
        workload = tuple(to_workload(_builtin_ops(name, seed)))
        start_at_end = True
        title, summary = _BUILTIN_INFO[name]
        info = source_info(
            "scenario", name, title=title, summary=summary, look_for=_BUILTIN_LOOK_FOR.get(name, "")
        )
    elif name in _library():
        sc = _library()[name]
        seed = sc.seed if config.seed is None else config.seed
        options = sc.node_options(seed=seed)
        workload = tuple(expand(sc.workload, seed, max_steps))
        start_at_end = False
        questions = tuple(dict(q) for q in sc.questions)
        compare = tuple(sc.compare)
        info = source_info(
            "scenario",
            name,
            title=sc.title,
            summary=sc.summary,
            look_for=sc.look_for,
            questions=len(questions),
        )
    else:
        raise ScenarioNotFound(
            f"unknown scenario {name!r}; choose one of {', '.join(scenario_names())}"
        )
    if config.kernel is not None:
        options["kernel"] = config.kernel
    if config.hinting is not None and config.hinting != options.get("hinting", "none"):
        options["hinting"] = config.hinting
        options.pop("hinting_options", None)
        if config.hinting == "hinting-v2" and config.kernel is None and name in _BUILTIN_INFO:
            options.pop("kernel", None)  # v2 on its own base (5.3), not the default guest's
    if config.constants:
        options["hinting_options"] = {**options.get("hinting_options", {}), **config.constants}
    if config.pcp is not None:
        options["pcp"] = config.pcp
    if config.cpus is not None:
        options["cpus"] = config.cpus
    if config.pages is not None:
        zones = list(options.get("zones") or default_zones())
        last = zones[-1]
        zones[-1] = ZoneSpec(last.name, last.start_pfn, config.pages)
        options["zones"] = zones
    if sourced is not None:
        return Plan(
            config,
            options,
            workload,
            start_at_end,
            seed,
            sourced.source,
            sourced.questions,
            sourced.proc,
            sourced.zone_sizes,
            sourced.compare,
        )
    return Plan(config, options, workload, start_at_end, seed, info, questions, compare=compare)
