"""A session's configuration (the ``/ws`` query, a REST body, a ``configure``) mapped
onto ``allocator_model.sources``.

``SessionConfig`` is what a request may say: a named scenario or one source text
(``workload``: a workload or scenario file; ``buddyinfo`` + optional ``pagetypeinfo``;
``trace``), and the user's overrides.  ``plan_for`` opens the source with the model's
opener for its kind and applies the overrides (``Source.configured``); the ``Plan`` is
that ``Source`` plus the configuration it came from (kept for exports, reopening and
the settings form).  Nothing is decided here that the model decides: this module only
checks request shapes and limits and maps them.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from allocator_model.sources.machine import MAX_SEED_CHARS
from allocator_model.sources.source import (
    Source,
    SourceError,
    from_machine,
    from_proc,
    from_scenario,
    from_trace,
    scenario,
)
from allocator_model.sources.workload import MAX_EXPANDED

from .workload_file import WorkloadFile, WorkloadFileError, as_scenario, load_workload

#: Largest texts a session may be loaded from (characters).  The server's request body
#: limit (``Settings.max_upload_bytes``) applies on top of these.
MAX_WORKLOAD_CHARS: Final = 1 << 20
MAX_PROC_CHARS: Final = 1 << 20
MAX_TRACE_CHARS: Final = 8 << 20

#: The configuration fields that hold a source text (``pagetypeinfo`` goes with
#: ``buddyinfo``).
SOURCE_KINDS: Final = ("workload", "buddyinfo", "trace", "machine")
TEXT_FIELDS: Final = ("workload", "buddyinfo", "pagetypeinfo", "trace", "machine")

#: In an export document, a text is stored once in ``files`` and referred to as this
#: prefix + its sha256.
FILE_REF: Final = "@file:sha256:"


def text_ref(text: str) -> str:
    return FILE_REF + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@functools.lru_cache(maxsize=16)
def workload_file(text: str) -> WorkloadFile:
    """The validated file (callers must not change it: it is cached)."""
    try:
        return load_workload(text, "workload")
    except WorkloadFileError as exc:
        raise SourceError("workload", exc.problems) from None


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
    machine: str | None = Field(
        default=None,
        max_length=MAX_SEED_CHARS,
        description="A machine read frame by frame (POST /api/sessions/from-machine makes "
        "one): a buddyscope-machine/1 document",
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
    """What a session runs: the model's ``Source``, the configuration it came from and
    the server's budget for one step."""

    config: SessionConfig
    source: Source
    budget: StepBudget = field(default_factory=StepBudget)


def open_source(config: SessionConfig, max_steps: int = MAX_EXPANDED) -> Source:
    """The source a configuration names, before the user's overrides."""
    if config.workload is not None:
        return from_scenario(as_scenario(workload_file(config.workload)), config.seed, max_steps)
    if config.trace is not None:
        return from_trace(config.trace, config.seed, max_steps)
    if config.buddyinfo is not None:
        return from_proc(config.buddyinfo, config.pagetypeinfo, config.seed)
    if config.machine is not None:
        return from_machine(config.machine, config.seed)
    return scenario(config.scenario, config.seed, max_steps)


def plan_for(config: SessionConfig, max_steps: int = MAX_EXPANDED) -> Plan:
    """Resolve ``config``; raises ``ScenarioNotFound``, ``SourceError`` (a source text
    that cannot be loaded, or a workload of more than ``max_steps`` operations) or
    ``ConfigError``/``ValueError``."""
    source = open_source(config, max_steps).configured(
        kernel=config.kernel,
        hinting=config.hinting,
        constants=config.constants,
        pcp=config.pcp,
        cpus=config.cpus,
        pages=config.pages,
    )
    return Plan(config, source)
