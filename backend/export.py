"""Export and import of a session as a small, exact JSON document.

The document holds what the timeline needs and nothing the model computes: per branch
its configuration (scenario, overrides, seed) and its command log, plus where the
session stands.  Runs of automatic steps are stored as one integer, so a 100,000-step
playback is a few bytes.  Importing replays every branch (the model is deterministic),
so the imported session is step for step the one that was exported.

    {"format": "buddyscope-session", "version": 1, "name": "lecture 3",
     "current": {"branch": 1, "step": 2401}, "speed": 4.0, "breakpoints": ["report"],
     "branches": [
       {"id": 0, "parent": null, "fork_step": 0, "reason": "start",
        "config": {"scenario": "default", "seed": 2019, ...}, "log": [2400]},
       {"id": 1, "parent": 0, "fork_step": 2390, "reason": "fork",
        "config": {...}, "log": [2390, ["alloc", 3, "Movable", null]]}]}

A session loaded from a text (a workload file, a ``/proc`` snapshot, a trace) stores the
text once in ``files`` (by sha256); each branch's configuration refers to it as
``"@file:sha256:<hex>"``, so ten branches of a trace session do not hold ten traces.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .sources import FILE_REF, MAX_TRACE_CHARS, TEXT_FIELDS, SessionConfig, text_ref
from .steps import NEXT, Cmd

FORMAT = "buddyscope-session"


def encode_log(log: list[Cmd]) -> list[Any]:
    out: list[Any] = []
    for cmd in log:
        if cmd == NEXT:
            if out and isinstance(out[-1], int):
                out[-1] += 1
            else:
                out.append(1)
        else:
            out.append(list(cmd))
    return out


def _command(item: list[Any]) -> Cmd:
    if not item or not isinstance(item[0], str):
        raise ValueError("a command is a list starting with its name")
    kind = item[0]

    def is_int(v: Any, lo: int = 0) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= 2**52

    if kind == "alloc" and len(item) == 4:
        _, order, mt, zone = item
        ok_zone = zone is None or (isinstance(zone, str) and len(zone) <= 32)
        if is_int(order) and order < 64 and isinstance(mt, str) and len(mt) <= 32 and ok_zone:
            return ("alloc", order, mt, zone)
    elif kind in ("free", "touch") and len(item) == 3:
        if is_int(item[1]) and is_int(item[2]) and item[2] < 64:
            return (kind, item[1], item[2])
    elif kind == "advance" and len(item) == 2 and is_int(item[1]) and item[1] <= 86400 * 10**9:
        return ("advance", item[1])
    raise ValueError(f"not a valid command: {str(item)[:80]}")


def decode_log(log: list[Any], limit: int) -> list[Cmd]:
    out: list[Cmd] = []
    for item in log:
        if isinstance(item, int) and not isinstance(item, bool):
            if item < 1 or len(out) + item > limit:
                raise ValueError(f"a run of {item} steps is out of range (limit {limit})")
            out.extend([NEXT] * item)
        elif isinstance(item, list | tuple):
            out.append(_command(list(item)))
        else:
            raise ValueError("a log entry is a step count or a command list")
        if len(out) > limit:
            raise ValueError(f"the log has more than {limit} steps")
    return out


def pack_texts(config: SessionConfig, files: dict[str, str]) -> SessionConfig:
    """``config`` with its source texts moved into ``files`` (referred to by hash)."""
    update: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        text = getattr(config, name)
        if text is not None:
            ref = text_ref(text)
            files[ref.removeprefix(FILE_REF)] = text
            update[name] = ref
    return config.model_copy(update=update) if update else config


def unpack_texts(config: SessionConfig, files: dict[str, str]) -> SessionConfig:
    """The inverse of ``pack_texts``; raises ``ValueError`` for a missing or altered file."""
    update: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = getattr(config, name)
        if isinstance(value, str) and value.startswith(FILE_REF):
            key = value.removeprefix(FILE_REF)
            text = files.get(key)
            if text is None:
                raise ValueError(f"{name} refers to a file that is not in 'files'")
            if text_ref(text) != value:
                raise ValueError(f"the file of {name} does not match its sha256")
            update[name] = text
    return SessionConfig.model_validate({**config.model_dump(), **update}) if update else config


_Int = Annotated[int, Field(ge=0, le=2**52)]
_Order = Annotated[int, Field(ge=0, le=63)]
_Name = Annotated[str, Field(max_length=32)]
AllocEntry = tuple[Literal["alloc"], _Order, _Name, _Name | None]
FreeEntry = tuple[Literal["free", "touch"], _Int, _Order]
AdvanceEntry = tuple[Literal["advance"], Annotated[int, Field(ge=0, le=86400 * 10**9)]]
LogEntry = (
    Annotated[int, Field(ge=1, le=10**7, description="this many automatic steps")]
    | AllocEntry
    | FreeEntry
    | AdvanceEntry
)


class ExportBranch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=0, le=2**31)
    parent: int | None = Field(default=None, ge=0, le=2**31)
    fork_step: int = Field(default=0, ge=0, le=2**31)
    reason: Annotated[str, Field(max_length=32)] = "start"
    config: SessionConfig
    log: list[LogEntry] = Field(
        description="Steps: an integer n is n automatic steps; a list is one command"
    )


class Position(BaseModel):
    model_config = ConfigDict(extra="forbid")

    branch: int = Field(ge=0)
    step: int = Field(ge=0)


class ExportDoc(BaseModel):
    """A whole session, as ``GET /api/sessions/{id}/export`` returns it."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["buddyscope-session"] = "buddyscope-session"
    version: Literal[1] = 1
    name: Annotated[str, Field(max_length=100)] = ""
    current: Position
    speed: float = Field(default=4.0, gt=0, le=1e6)
    breakpoints: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=64
    )
    branches: list[ExportBranch] = Field(min_length=1, max_length=64)
    files: dict[
        Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=MAX_TRACE_CHARS)]
    ] = Field(
        default_factory=dict,
        max_length=64,
        description="Source texts by sha256 (hex); configurations refer to them as "
        '"@file:sha256:<hex>"',
    )
