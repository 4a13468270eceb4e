"""Where a node and its workload come from: one interface for every kind of input.

A ``Source`` is what a session, ``buddyscope simulate`` and ``buddyscope compare`` run:
the node to start from (booted from ``node_options``, or laid out by a ``start`` such as
a ``/proc`` snapshot), the workload as primitive operations (one per timeline step) and
what to tell the reader about it (``info``).  Each kind of input has one opener, and
every opener refuses bad input before anything is built, with ``SourceError`` (one
sentence per problem) or ``ScenarioNotFound``:

* ``scenario(name)``: a built-in scenario ("default", "small") or one of the library;
* ``from_scenario(sc)``: the contents of a workload or scenario file (an upload);
* ``from_trace(text)``: ``trace-cmd report`` / ``perf script`` text of the kmem events;
* ``from_proc(buddyinfo, pagetypeinfo)``: a real machine's free lists, no workload.

``Source.configured`` then applies a user's overrides (kernel, strategy, constants,
per-cpu lists, size of the last zone).  A new way to start a node (this machine, frame
by frame) is a ``NodeStart``: its zone sizes, known before any memory is spent, and a
``build`` that lays the node out.  Parsing is cached by text, so configuring or
importing the same text again does not parse it again.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, Protocol

from ..kernel.errors import ConfigError
from ..kernel.node import Node, ZoneSpec, default_kernel, default_zones
from .builtin import (
    BUILTIN_INFO,
    BUILTIN_LOOK_FOR,
    DEFAULT_SEED,
    builtin_ops,
    builtin_options,
    to_workload,
)
from .fromproc import from_buddyinfo
from .machine import machine_start, newest_kernel
from .procfs import ProcParseError, parse_buddyinfo, parse_pagetypeinfo
from .proclayout import ZoneSize, layout_sizes
from .scenario import Scenario, library
from .trace import TraceImport, parse_trace
from .workload import MAX_EXPANDED, WorkloadError, expand


class SourceError(ValueError):
    """A source text that cannot be loaded: ``problems`` has one sentence per problem,
    ``field`` names the input (``workload``, ``trace``, ``buddyinfo``, ``pagetypeinfo``)."""

    def __init__(self, field: str, problems: list[str]) -> None:
        super().__init__(f"{field}: " + "; ".join(problems))
        self.field = field
        self.problems = problems


class ScenarioNotFound(ValueError):
    """No built-in or library scenario has that name."""


class NodeStart(Protocol):
    """A node's starting state other than a boot (a ``/proc`` snapshot, this machine)."""

    def zone_sizes(self) -> tuple[tuple[str, int], ...]:
        """(zone, pages) of the node ``build`` lays out, known without building it."""
        ...

    def build(self, options: Mapping[str, Any]) -> Node:
        """The node in this state; ``options`` are ``Node``'s, without ``zones``."""
        ...


@dataclass(frozen=True)
class SourceInfo:
    """What a source is, for the reader (``SourceInfo`` on the wire)."""

    kind: str
    name: str
    title: str = ""
    summary: str = ""
    look_for: str = ""
    questions: int = 0
    trace: dict[str, Any] | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """A node to start from and the workload to run on it.

    ``start_at_end``: a session opens after the whole workload (the built-in scenarios)
    rather than before it.  ``questions`` are quiz questions (``before_step`` = workload
    operation index); ``compare`` the strategies a side-by-side view shows.  Treat
    ``node_options`` and the workload's operations as read only: sources are shared.
    """

    node_options: Mapping[str, Any]
    workload: tuple[dict[str, Any], ...]
    seed: int
    start_at_end: bool = False
    info: SourceInfo | None = None
    questions: tuple[dict[str, Any], ...] = ()
    compare: tuple[str, ...] = ()
    start: NodeStart | None = None

    def describe(self) -> dict[str, Any]:
        """``info`` as plain data (``{}`` when there is none)."""
        if self.info is None:
            return {}
        return {**asdict(self.info), "notes": list(self.info.notes)}

    def new_node(self) -> Node:
        if self.start is not None:
            return self.start.build(self.node_options)
        return Node(**self.node_options)

    def sizes(self) -> list[tuple[str, int]]:
        """(zone, pages) of the node this source builds, without building it."""
        if self.start is not None:
            return list(self.start.zone_sizes())
        zones = self.node_options.get("zones") or default_zones()
        return [(z.name, z.pages) for z in zones]

    def configured(
        self,
        *,
        kernel: str | None = None,
        hinting: str | None = None,
        constants: Mapping[str, int | float] | None = None,
        pcp: bool | None = None,
        cpus: int | None = None,
        pages: int | None = None,
    ) -> Source:
        """This source with a user's overrides (``None``: as the source says).  A new
        strategy drops the source's constants.  v2 picked without a kernel runs on its
        own base (``V2_KERNEL``, 5.3), not on the kernel the source chose for its own
        strategy: v2 on other rules is a what-if the user asks for by naming the kernel.
        ``pages`` resizes the last zone."""
        options = dict(self.node_options)
        if kernel is not None:
            options["kernel"] = kernel
        if hinting is not None and hinting != options.get("hinting", "none"):
            options["hinting"] = hinting
            options.pop("hinting_options", None)
            if hinting == "hinting-v2" and kernel is None:
                options.pop("kernel", None)
        if constants:
            options["hinting_options"] = {**options.get("hinting_options", {}), **constants}
        if pcp is not None:
            options["pcp"] = pcp
        if cpus is not None:
            options["cpus"] = cpus
        if pages is not None:
            if self.start is not None:
                raise ConfigError("a /proc snapshot sets its own zone sizes: leave pages out")
            zones = list(options.get("zones") or default_zones())
            last = zones[-1]
            zones[-1] = ZoneSpec(last.name, last.start_pfn, pages)
            options["zones"] = zones
        return replace(self, node_options=options)


def kernel_of(options: Mapping[str, Any]) -> str:
    """The kernel rules ``Node(**options)`` runs: the options' own, else ``Node``'s default
    for their strategy (5.3 for v2 hinting, 5.10 otherwise)."""
    return str(options.get("kernel") or default_kernel(str(options.get("hinting", "none"))))


# --- scenarios ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioInfo:
    """One entry of the scenario picker."""

    name: str
    title: str
    summary: str
    source: Literal["builtin", "library"]
    seed: int
    hinting: str
    kernel: str
    steps: int
    start_at_end: bool


@functools.cache
def _library() -> dict[str, Scenario]:
    return library()


def scenario_names() -> list[str]:
    return [*BUILTIN_INFO, *_library()]


def scenario_infos() -> list[ScenarioInfo]:
    """Every scenario a session can run: the built-in ones, then the model's library."""
    infos = [
        ScenarioInfo(
            name,
            title,
            summary,
            "builtin",
            DEFAULT_SEED,
            str(builtin_options(name).get("hinting", "none")),
            kernel_of(builtin_options(name)),
            len(builtin_ops(name, DEFAULT_SEED)),
            True,
        )
        for name, (title, summary) in BUILTIN_INFO.items()
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
                kernel_of(sc.config),
                len(sc.ops()),
                False,
            )
        )
    return infos


def scenario(name: str, seed: int | None = None, max_steps: int = MAX_EXPANDED) -> Source:
    """A built-in or library scenario (``seed``: instead of the scenario's own)."""
    if name in BUILTIN_INFO:
        seed = DEFAULT_SEED if seed is None else seed
        options: dict[str, Any] = {"seed": seed, **builtin_options(name)}
        title, summary = BUILTIN_INFO[name]
        info = SourceInfo("scenario", name, title, summary, look_for=BUILTIN_LOOK_FOR.get(name, ""))
        workload = tuple(to_workload(builtin_ops(name, seed)))
        return Source(options, workload, seed, start_at_end=True, info=info)
    if name in _library():
        return _scenario_source(_library()[name], "scenario", name, seed, max_steps)
    raise ScenarioNotFound(
        f"unknown scenario {name!r}; choose one of {', '.join(scenario_names())}"
    )


def from_scenario(sc: Scenario, seed: int | None = None, max_steps: int = MAX_EXPANDED) -> Source:
    """A workload or scenario file's contents; a workload over ``max_steps`` operations
    is a ``SourceError``."""
    try:
        return _scenario_source(sc, "workload", sc.name, seed, max_steps)
    except WorkloadError as exc:
        raise SourceError("workload", [str(exc)]) from None


def _scenario_source(
    sc: Scenario, kind: str, name: str, seed: int | None, max_steps: int
) -> Source:
    seed = sc.seed if seed is None else seed
    workload = tuple(expand(sc.workload, seed, max_steps))
    questions = tuple(dict(q) for q in sc.questions)
    info = SourceInfo(kind, name, sc.title, sc.summary, sc.look_for, len(questions))
    return Source(
        sc.node_options(seed=seed),
        workload,
        seed,
        info=info,
        questions=questions,
        compare=tuple(sc.compare),
    )


# --- a kmem trace ------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def trace_import(text: str) -> TraceImport:
    """The parsed trace (cached; read only).  A text without a single page event is
    refused: it is almost certainly not a trace of the kmem events."""
    imported = parse_trace(text)
    if not imported.events:
        where = ", ".join(str(n) for n in imported.unknown_examples)
        raise SourceError(
            "trace",
            [
                "no kmem:mm_page_alloc, mm_page_free or mm_page_free_batched event found "
                f"({imported.unknown_lines} other lines"
                + (f", e.g. line {where}" if where else "")
                + "); record one with trace-cmd record -e kmem:mm_page_alloc "
                "-e kmem:mm_page_free -e kmem:mm_page_free_batched, then trace-cmd report"
            ],
        )
    return imported


def trace_summary(imported: TraceImport) -> dict[str, Any]:
    return {
        "events": dict(sorted(imported.events.items())),
        "unknown_lines": imported.unknown_lines,
        "unknown_examples": list(imported.unknown_examples),
        "unmatched_frees": imported.unmatched_frees,
        "duration_s": imported.duration_s,
        "steps": len(imported.ops),
        "summary": imported.summary(),
    }


def from_trace(text: str, seed: int | None = None, max_steps: int = MAX_EXPANDED) -> Source:
    """A recorded trace replayed as a workload on the default node."""
    imported = trace_import(text)
    seed = 0 if seed is None else seed
    summary = trace_summary(imported)
    info = SourceInfo(
        "trace",
        "trace",
        "A recorded kmem page trace, replayed",
        summary["summary"],
        trace=summary,
    )
    try:
        workload = tuple(expand(imported.ops, seed, max_steps))
    except WorkloadError as exc:
        raise SourceError("trace", [str(exc)]) from None
    return Source({"seed": seed}, workload, seed, info=info)


# --- a /proc snapshot --------------------------------------------------------------------


@dataclass(frozen=True)
class ProcStart:
    """A node laid out from ``/proc/buddyinfo`` (+ ``/proc/pagetypeinfo``) text."""

    buddyinfo: str
    pagetypeinfo: str | None
    sizes: tuple[ZoneSize, ...]

    def zone_sizes(self) -> tuple[tuple[str, int], ...]:
        return tuple((z.name, z.pages) for z in self.sizes)

    def build(self, options: Mapping[str, Any]) -> Node:
        return from_buddyinfo(self.buddyinfo, self.pagetypeinfo, **options)


@functools.lru_cache(maxsize=8)
def proc_start(buddyinfo: str, pagetypeinfo: str | None) -> ProcStart:
    """Parse the snapshot and size its zones from the counts alone (no block is placed
    and no node built), so that its errors and its zone sizes are known, and can be
    checked against a memory limit, before any memory is spent on its blocks."""
    try:
        rows = parse_buddyinfo(buddyinfo)
    except ProcParseError as exc:
        raise SourceError("buddyinfo", [str(exc)]) from None
    if not rows:
        raise SourceError("buddyinfo", ["no 'Node N, zone NAME  counts...' line found"])
    if len({r.node for r in rows}) > 1:
        raise SourceError(
            "buddyinfo",
            ["the snapshot has several NUMA nodes; the model has one: keep one node's lines"],
        )
    info = None
    if pagetypeinfo is not None:
        try:
            info = parse_pagetypeinfo(pagetypeinfo)
        except ProcParseError as exc:
            raise SourceError("pagetypeinfo", [str(exc)]) from None
    max_order = len(rows[0].counts)
    pageblock_order = info.pageblock_order if info is not None else min(9, max_order - 1)
    try:
        sizes = layout_sizes(rows, info, max_order=max_order, pageblock_order=pageblock_order)
    except ValueError as exc:
        raise SourceError("pagetypeinfo" if info is not None else "buddyinfo", [str(exc)]) from None
    return ProcStart(buddyinfo, pagetypeinfo, tuple(sizes))


def from_proc(buddyinfo: str, pagetypeinfo: str | None = None, seed: int | None = None) -> Source:
    """A node with exactly a real machine's free lists, and no workload."""
    start = proc_start(buddyinfo, pagetypeinfo)
    seed = 0 if seed is None else seed
    zones = ", ".join(f"{name} ({pages} pages)" for name, pages in start.zone_sizes())
    info = SourceInfo(
        "buddyinfo",
        "buddyinfo",
        "A real machine's free lists",
        f"/proc/buddyinfo{' and pagetypeinfo' if pagetypeinfo else ''}: zones {zones}",
        notes=tuple(n for z in start.sizes for n in z.notes),
    )
    return Source({"seed": seed}, (), seed, info=info, start=start)


def from_machine(text: str, seed: int | None = None) -> Source:
    """A node laid out as a machine was, frame by frame (``machine.py``: a seed
    document, ``machineread.read_seed_text``), running the newest kernel rules with free
    page reporting unless the configuration says otherwise; no workload."""
    try:
        start = machine_start(text)
    except ConfigError as exc:
        raise SourceError("machine", [str(exc)]) from None
    seed = 0 if seed is None else seed
    machine = start.seed
    info = SourceInfo(
        "machine",
        "machine",
        "This machine, frame by frame",
        f"{machine.summary()}; on Linux {newest_kernel()} rules (the newest the model has)",
        look_for="Free blocks sit where they were; the reported ones carry their mark. The "
        "model's rules run forward from there: allocate, free, and watch what it reports.",
        notes=machine.notes,
    )
    return Source({"seed": seed}, (), seed, info=info, start=start)


def split_proc_text(text: str) -> tuple[str, str | None]:
    """``cat /proc/buddyinfo /proc/pagetypeinfo``: the buddyinfo lines, then the
    pagetypeinfo from its ``Page block order:`` line (if there is one)."""
    marker = text.find("Page block order:")
    if marker < 0:
        return text, None
    return text[:marker], text[marker:]
