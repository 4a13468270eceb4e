"""What a server allows, and how a refusal is said.

``Settings`` holds every limit and policy of a server (``buddyscope serve --help``);
``CommandError`` is a refused command or request (an ``error`` message, or a 4xx with
its sentence); ``model_error`` says which refusal an exception of the model or the
timeline is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from allocator_model import (
    ConfigError,
    Event,
    InvalidFree,
    ModelError,
    OutOfMemory,
    UnknownMigratetype,
    UnknownZone,
)
from allocator_model.sources.source import ScenarioNotFound

from . import protocol as p
from .sources import StepBudget
from .steps import SYNTHETIC_KINDS, TimelineError
from .timeline import CheckpointPolicy


def _model_kinds() -> list[str]:
    kinds: list[str] = []
    stack: list[type[Event]] = list(Event.__subclasses__())
    while stack:
        cls = stack.pop()
        kind = getattr(cls, "kind", None)
        if isinstance(kind, str) and kind not in kinds:
            kinds.append(kind)
        stack.extend(cls.__subclasses__())
    return sorted(kinds)


EVENT_KINDS: Final = tuple(sorted({*_model_kinds(), *SYNTHETIC_KINDS}))


@dataclass(frozen=True)
class Settings:
    """Limits and policies of a server; all configurable (``buddyscope serve --help``)."""

    max_sessions: int = 32
    max_pages_per_zone: int = 1 << 22
    #: A session's zones together; a real machine's /proc snapshot may have zones of
    #: this size (a 64 GiB machine), far over the per-zone cap of synthetic sessions.
    max_pages_per_session: int = 1 << 24
    #: The live sessions' pages together (about 16 bytes of model per page).
    max_pages_total: int = 1 << 26
    max_zones: int = 8
    #: Blocks one step may allocate, free or touch (its work and events grow with them).
    max_step_blocks: int = 1 << 14
    #: Events one new step may emit and CPU seconds it may take; over either it is
    #: undone and refused (``limit``).
    max_step_events: int = StepBudget.events
    max_step_seconds: float = StepBudget.seconds
    #: What one comparison (GET /api/compare: three models side by side) may take.
    max_compare_steps: int = 50_000
    max_compare_pages: int = 1 << 22
    max_compare_seconds: float = 120.0
    max_timeline_steps: int = 200_000
    max_viewers: int = 200
    #: Quotas of one client: sessions it created that are live, websocket connections it
    #: holds (both by peer address), and connections controlling one session (by token).
    max_sessions_per_client: int = 8
    max_connections_per_client: int = 64
    max_connections_per_token: int = 8
    max_message_bytes: int = 64 * 1024
    max_speed: float = 200.0
    #: Answers (ack/error) a client may have waiting before its commands wait too.
    queue_messages: int = 32
    #: A client's queued state messages may hold this many bytes; beyond, they are
    #: dropped for one snapshot when it reads again.
    queue_bytes: int = 8 << 20
    #: A client that takes longer to accept one message does not read: it is closed
    #: (CLOSE_NOT_READING) ...
    send_timeout_s: float = 20.0
    #: ... and its connection cut this much later if it has not taken the close frame.
    stall_grace_s: float = 5.0
    #: A follower's messages are written at most this often, those queued meanwhile in
    #: one write: the controller's pace does not depend on how many follow.
    follower_flush_s: float = 0.05
    max_branches: int = 16
    max_marks: int = 2000
    session_idle_s: float = 900.0
    run_to_max_steps: int = 100_000
    run_to_max_seconds: float = 5.0
    default_speed: float = 4.0
    max_upload_bytes: int = 10 << 20
    live: bool = True
    live_root: str = "/"
    live_interval_s: float = 1.0
    live_frames: bool = True  # read /proc/kpageflags too (root only; about a second here)
    #: A classroom server (``--shared``): saved sessions are listed and opened only by
    #: their owners (single-user default: anybody who reaches the server may).
    shared: bool = False
    checkpoint: CheckpointPolicy = field(default_factory=CheckpointPolicy)

    def limits(self) -> p.Limits:
        return p.Limits(
            list_ends=p.LIST_ENDS,
            max_message_bytes=self.max_message_bytes,
            max_sessions=self.max_sessions,
            max_pages_per_zone=self.max_pages_per_zone,
            max_timeline_steps=self.max_timeline_steps,
            max_viewers=self.max_viewers,
            max_speed=self.max_speed,
            queue_messages=self.queue_messages,
            queue_bytes=self.queue_bytes,
        )


class CommandError(Exception):
    """A refused command: becomes an ``error`` message; the session is untouched.
    ``problems`` (``invalid_file``) lists every problem of a source text; ``field`` is
    the configuration field that held it."""

    def __init__(
        self,
        code: str,
        message: str,
        http_status: int | None = None,
        problems: list[str] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.problems = problems
        self.field = field


def model_error(exc: Exception) -> CommandError:
    """The protocol error for an exception the model (or timeline) raised."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    if isinstance(exc, TimelineError):
        return CommandError(exc.code, text)
    if isinstance(exc, InvalidFree):
        return CommandError("invalid_free", text)
    if isinstance(exc, OutOfMemory):
        return CommandError("out_of_memory", text)
    if isinstance(exc, ConfigError | ScenarioNotFound):
        return CommandError("invalid_config", text)
    if isinstance(exc, UnknownZone | UnknownMigratetype):
        return CommandError("out_of_range", text)
    if isinstance(exc, ModelError):
        return CommandError("model_error", text)
    return CommandError("out_of_range", text)
