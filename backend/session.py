"""Sessions: a timeline, the viewers that watch it, and play.

A ``Session`` owns the branches of its timeline and one *main view* (the position
everybody following sees).  Connections are ``Client`` objects: the controller (it knows
the session's control token) moves the main view and changes the session; followers
watch, and a follower that navigates gets its own view of the same timeline until it
follows again.

Every state change is broadcast as one ``Frame`` (serialised once) to the queue of
each client following the main view (``audience``: queues bounded in bytes, resync,
clients that do not read).

Model work (steps, seeks, snapshots) runs in a worker thread under the session's lock,
so the event loop keeps serving other sessions while a long seek or a replay runs.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Final, TypeVar

from pydantic import ValidationError

from allocator_model import (
    ConfigError,
    Event,
    InvalidFree,
    ModelError,
    OutOfMemory,
    UnknownMigratetype,
    UnknownZone,
)
from allocator_model.sources.source import ScenarioNotFound, SourceError
from allocator_model.sources.workload import max_step_blocks

from . import protocol as p
from .audience import Client, Frame
from .export import (
    ExportBranch,
    ExportDoc,
    Position,
    decode_log,
    encode_log,
    pack_texts,
    unpack_texts,
)
from .quizmode import Pending, next_question
from .snapshot import Tracker, config_view, event_dicts, host_stats, zone_snapshot
from .sources import TEXT_FIELDS, Plan, SessionConfig, StepBudget, plan_for
from .timeline import (
    SYNTHETIC_KINDS,
    Branch,
    CheckpointPolicy,
    Cmd,
    StepOutcome,
    TimelineError,
    View,
    build_branch,
    kind_bit,
    mask_of,
    open_branch,
    replay_under,
    run_workload,
)

log = logging.getLogger("buddyscope.session")

T = TypeVar("T")

#: Work under this much CPU time runs on the event loop (``Session._run_light``).
INLINE_CPU_S: Final = 0.002

#: Event kinds shown as marks on the seek bar (plus the session's breakpoints).
MARK_KINDS: Final = frozenset({"phase", "report", "boundary", "state", "refault"})


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


# --- clients --------------------------------------------------------------------------------


def _ident(cmd: Any) -> int | None:
    ident = getattr(cmd, "id", None)
    return ident if isinstance(ident, int) else None


# --- sessions --------------------------------------------------------------------------------

#: Characters of a control token: 24 bytes of the HMAC (192 bits), base64url.
TOKEN_CHARS: Final = 32


def control_token(key: bytes, sid: str) -> str:
    """The control token of session ``sid``: HMAC-SHA256 of the id under the server's
    key (store.server_key), truncated to 192 bits, base64url.  Only the key's holder can
    make one, so it cannot be guessed from the id; and since it is derived, not stored,
    a server restarted with the same key recognises the tokens it issued before."""
    mac = hmac.new(key, b"buddyscope control token\0" + sid.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode()[:TOKEN_CHARS]


class Session:
    def __init__(self, sid: str, token: str, settings: Settings, view: View, name: str) -> None:
        self.id = sid
        self.token = token
        self.settings = settings
        self.name = name  # saved name, or ""
        self.view = view
        self.branches: dict[int, Branch] = {view.branch.id: view.branch}
        self.next_branch = view.branch.id + 1
        self.tracker = Tracker(view.node)
        self.playing = False
        self.speed = settings.default_speed
        self.breakpoints: frozenset[str] = frozenset()
        self.lock = asyncio.Lock()
        self.clients: set[Client] = set()
        self.play_task: asyncio.Task[None] | None = None
        self.version = 0
        self.last_active = time.monotonic()
        self.created = time.time()
        self._frames: dict[tuple[int, str], Frame] = {}
        self.deltas_sent = 0
        #: Refuses a plan this session may not switch to (its server's page budget).
        self.fits: Callable[[Plan], None] = lambda plan: None
        self.resyncs = 0
        self.deleted = False
        self.peer = ""  # the address that created it (quotas)
        self.controlled = False  # a controller has connected: never evicted to make room
        self.quiz_on = False
        self.quiz_right = 0
        self.quiz_asked = 0
        self.question: Pending | None = None
        # What the main view's current step did (its snapshot repeats it).
        self.shown: StepOutcome | None = None
        self._light_cost = 0.0  # CPU seconds the last step or delta took (_run_light)

    # -- plumbing ------------------------------------------------------------------------

    @property
    def plan(self) -> Plan:
        return self.view.branch.plan

    @property
    def label(self) -> str:
        """The session's name in /metrics: a digest of its token, so a scrape neither
        shows the id (which grants watching) nor lets anyone work back to it."""
        digest = hashlib.sha256(b"buddyscope metrics label\0" + self.token.encode())
        return digest.hexdigest()[:16]

    def check_token(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.token.encode())

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    async def _run_light(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (a step, or building its delta) on the event loop while such work
        has been taking under ``INLINE_CPU_S`` of CPU, else in a worker thread.  Handing
        every step of play to a thread and back costs two wake-ups of a thread by the
        OS, which on a busy machine are most of a step's time."""
        cost = self._light_cost

        def timed() -> T:
            start = time.thread_time()
            try:
                return fn()
            finally:
                self._light_cost = time.thread_time() - start

        return timed() if cost < INLINE_CPU_S else await asyncio.to_thread(timed)

    def _following(self) -> list[Client]:
        return [c for c in self.clients if c.following]

    def _broadcast(self, frame: Frame) -> None:
        for c in self._following():
            c.offer(frame)

    def _new_branch_id(self) -> int:
        bid = self.next_branch
        self.next_branch += 1
        return bid

    def _add_branch(self, branch: Branch) -> None:
        self.branches[branch.id] = branch
        limit = self.settings.max_branches
        if len(self.branches) <= limit:
            return
        in_use = {self.view.branch.id} | {c.view.branch.id for c in self.clients if c.view}
        for bid in sorted(self.branches):
            if len(self.branches) <= limit:
                break
            if bid not in in_use:
                del self.branches[bid]

    def quiz_state(self) -> p.QuizState:
        return p.QuizState.model_construct(
            on=self.quiz_on,
            score=self.quiz_score(),
            question=self.question.wire if self.question is not None else None,
        )

    def quiz_score(self) -> p.QuizScore:
        return p.QuizScore.model_construct(right=self.quiz_right, asked=self.quiz_asked)

    def _notify(self, message: p.Question | p.Reveal) -> None:
        """A quiz message to everybody following the session (never dropped)."""
        text = message.model_dump_json()
        for c in self._following():
            c.reply(text)

    def branch_infos(self) -> list[p.BranchInfo]:
        return [
            p.BranchInfo.model_construct(
                id=b.id, parent=b.parent, fork_step=b.fork_step, length=len(b), reason=b.reason
            )
            for b in self.branches.values()
        ]

    # -- messages ------------------------------------------------------------------------

    def build_snapshot(
        self, view: View, reason: str, following: bool, shown: StepOutcome | None = None
    ) -> p.Snapshot:
        """``shown``: what the view's current step did (None: nothing to narrate)."""
        node = view.node
        hinting = node.hinting_state()
        marks, truncated = self.marks_of(view)
        events, dropped = event_dicts(shown.events, shown.model_events) if shown else ([], 0)
        return p.Snapshot.model_construct(
            type="snapshot",
            seq=0,
            reason=reason,
            session=self.id,
            step=view.pos,
            timeline_length=view.length,
            playing=self.playing and following,
            speed=self.speed,
            clock=node.clock,
            op=view.ws.wl_index,
            config=config_view(view.branch.plan, node, hinting),
            zones=[zone_snapshot(z, node, hinting=hinting) for z in node.zones],
            hinting=hinting,
            host=host_stats(node),
            breakpoints=sorted(self.breakpoints),
            marks=marks,
            marks_truncated=truncated,
            chapters=[
                p.Chapter.model_construct(step=c.step, title=c.title, notes=c.notes)
                for c in view.branch.chapters()
            ],
            events=events,
            events_dropped=dropped,
            setup=(
                p.SetupInfo.model_construct(steps=setup.steps, text=setup.text)
                if (setup := view.branch.setup).steps
                else None
            ),
            branch=view.branch.id,
            branches=self.branch_infos(),
            following=following,
            quiz=self.quiz_state(),
            scenario=view.branch.plan.config.scenario,
            max_order=node.max_order,
            pageblock_order=node.pageblock_order,
            migratetypes=list(node.migratetypes),
        )

    def marks_of(self, view: View) -> tuple[list[p.Mark], bool]:
        """The seek bar's marks of a view: notable steps and the breakpoints' steps."""
        kinds = MARK_KINDS | self.breakpoints
        marks, truncated = view.branch.marks(frozenset(kinds), self.settings.max_marks)
        return [p.Mark.model_construct(step=s, kind=k) for s, k in marks], truncated

    def build_delta(
        self,
        view: View,
        tracker: Tracker,
        outcome: StepOutcome | None,
        following: bool,
        with_marks: bool = False,
    ) -> p.Delta:
        """``with_marks``: carry the breakpoints and the marks (after ``breakpoints``)."""
        node = view.node
        hinting = node.hinting_state()
        if outcome is None:
            events: list[dict[str, Any]] = []
            dropped = 0
            zones: list[p.ZoneDelta] = []
        else:
            events, dropped = event_dicts(outcome.events, outcome.model_events)
            zones = tracker.zone_deltas(node, events, hinting=hinting, complete=not dropped)
        marks, truncated = self.marks_of(view) if with_marks else (None, None)
        mark = None
        if outcome is not None and view.pos == view.length:
            kind = view.branch.mark_at(view.pos, MARK_KINDS | self.breakpoints)
            if kind is not None:
                mark = p.Mark.model_construct(step=view.pos, kind=kind)
        return p.Delta.model_construct(
            type="delta",
            seq=0,
            session=self.id,
            step=view.pos,
            timeline_length=view.length,
            clock=node.clock,
            op=view.ws.wl_index,
            events=events,
            events_dropped=dropped,
            playing=self.playing and following,
            speed=self.speed,
            zones=zones,
            hinting=hinting,
            host=host_stats(node),
            branch=view.branch.id,
            following=following,
            quiz=self.quiz_state(),
            breakpoints=sorted(self.breakpoints) if with_marks else None,
            marks=marks,
            marks_truncated=truncated,
            mark=mark,
        )

    def _main_snapshot_frame(self, reason: str) -> Frame:
        key = (self.version, reason)
        frame = self._frames.get(key)
        if frame is None:
            self.tracker = Tracker(self.view.node)
            frame = Frame(self.build_snapshot(self.view, reason, True, self.shown), self.version)
            self._frames = {key: frame}
        return frame

    async def _broadcast_snapshot(self, reason: str) -> None:
        self.version += 1
        frame = await self._run(lambda: self._main_snapshot_frame(reason))
        self._broadcast(frame)

    async def _broadcast_step(self, outcome: StepOutcome | None) -> None:
        def build() -> Frame:
            return Frame(self.build_delta(self.view, self.tracker, outcome, True), self.version)

        if outcome is not None:
            self.shown = outcome
        self.version += 1
        frame = await self._run_light(build)
        self.deltas_sent += 1
        self._broadcast(frame)
        if self.view.checkpoint_due:  # taken after the delta is on its way
            await self._run(self.view.flush_checkpoint)

    async def resync_frame(self, client: Client) -> Frame:
        """A fresh snapshot for a client that fell behind (called by its sender)."""
        async with self.lock:
            self.resyncs += 1
            client.needs_resync = False
            client.drop_frames()  # anything queued before now is covered by the snapshot
            if client.following:
                return await self._run(lambda: self._main_snapshot_frame("resync"))
            assert client.view is not None
            view = client.view
            client.tracker = Tracker(view.node)
            return Frame(await self._run(lambda: self.build_snapshot(view, "resync", False)))

    def _send_own_snapshot(
        self, client: Client, reason: str, shown: StepOutcome | None = None
    ) -> Frame:
        if client.following:
            return self._main_snapshot_frame(reason)
        assert client.view is not None
        client.tracker = Tracker(client.view.node)
        return Frame(self.build_snapshot(client.view, reason, False, shown))

    # -- connect ---------------------------------------------------------------------------

    async def attach(self, client: Client) -> None:
        async with self.lock:
            self.clients.add(client)
            self.controlled = self.controlled or client.is_controller
            self.last_active = time.monotonic()
            frame = await self._run(lambda: self._main_snapshot_frame("connect"))
            client.offer(frame)

    def detach(self, client: Client) -> None:
        client.closed = True
        self.clients.discard(client)
        self.last_active = time.monotonic()

    # -- commands ----------------------------------------------------------------------------

    async def handle(self, client: Client, cmd: Any) -> None:
        """Run one validated command; always answers with ack or error."""
        ident = _ident(cmd)
        self.last_active = time.monotonic()
        try:
            async with self.lock:
                await self._dispatch(client, cmd)
        except CommandError as exc:
            client.error(ident, exc.code, exc.message, exc.problems)
            return
        client.ack(ident)

    async def _dispatch(self, client: Client, cmd: Any) -> None:
        if isinstance(cmd, p.Ping):
            return
        if isinstance(cmd, p.GetSnapshot):
            client.offer(await self._run(lambda: self._send_own_snapshot(client, "request")))
            return
        if isinstance(cmd, p.Follow):
            await self._follow(client, cmd.on)
            return
        if isinstance(cmd, p.Step | p.Back | p.First | p.Last | p.Seek | p.Align | p.RunTo):
            if not client.is_controller:
                await self._navigate_own(client, cmd)
                return
            await self._navigate_main(cmd)
            return
        if not client.is_controller:
            raise CommandError(
                "not_controller",
                f"only the session's controller can {cmd.type}; followers can step, go back, "
                "seek and follow",
            )
        if self.question is not None:
            if isinstance(cmd, p.Play | p.AllocCmd | p.FreeCmd | p.TouchCmd | p.Advance):
                raise self._pending_error()
            if isinstance(cmd, p.Reset | p.Configure | p.SwitchBranch):
                self.question = None  # the view jumps: the question no longer applies
        if isinstance(cmd, p.Quiz):
            await self._quiz(cmd.on)
        elif isinstance(cmd, p.Answer | p.Skip):
            await self._answer(cmd.reply if isinstance(cmd, p.Answer) else None)
        elif isinstance(cmd, p.Play):
            await self._play(cmd.speed)
        elif isinstance(cmd, p.Pause):
            await self._pause()
        elif isinstance(cmd, p.Speed):
            self._set_speed(cmd.value)
            await self._broadcast_step(None)
        elif isinstance(cmd, p.Breakpoints):
            await self._set_breakpoints(cmd.kinds)
        elif isinstance(cmd, p.Reset):
            await self._reset()
        elif isinstance(cmd, p.Configure):
            await self._configure(cmd)
        elif isinstance(cmd, p.SwitchBranch):
            await self._switch_branch(cmd.branch)
        elif isinstance(cmd, p.AllocCmd | p.FreeCmd | p.TouchCmd | p.Advance):
            await self._act(self._command_tuple(cmd))
        else:  # pragma: no cover - the union is exhaustive
            raise CommandError("unknown_type", f"unhandled command {cmd.type!r}")

    async def _set_breakpoints(self, kinds: list[str]) -> None:
        """New breakpoints: every viewer gets a delta (no events) with them and the marks
        of the view it is looking at, so seek bars and breakpoint lists stay in step."""
        self.breakpoints = frozenset(self._check_kind(k) for k in kinds)
        self.version += 1  # a cached snapshot holds the old breakpoints and marks
        self._broadcast(await self._run(partial(self._marks_frame, self.view, self.tracker, True)))
        for client in list(self.clients):
            if client.following or client.view is None or client.tracker is None:
                continue
            client.offer(
                await self._run(partial(self._marks_frame, client.view, client.tracker, False))
            )

    def _marks_frame(self, view: View, tracker: Tracker, following: bool) -> Frame:
        return Frame(self.build_delta(view, tracker, None, following, with_marks=True))

    def _check_kind(self, kind: str) -> str:
        if kind not in EVENT_KINDS:
            raise CommandError(
                "out_of_range", f"unknown event kind {kind!r}; kinds are {', '.join(EVENT_KINDS)}"
            )
        return kind

    def _command_tuple(self, cmd: Any) -> Cmd:
        node = self.view.node
        if isinstance(cmd, p.Advance):
            return ("advance", round(cmd.seconds * 1_000_000_000))
        if cmd.order >= node.max_order:
            raise CommandError(
                "out_of_range", f"order must be 0..{node.max_order - 1}, got {cmd.order}"
            )
        if isinstance(cmd, p.AllocCmd):
            return ("alloc", cmd.order, cmd.migratetype, cmd.zone)
        if isinstance(cmd, p.FreeCmd):
            return ("free", cmd.pfn, cmd.order)
        return ("touch", cmd.pfn, cmd.order)

    # quiz mode

    def _pending_error(self) -> CommandError:
        assert self.question is not None
        return CommandError(
            "question_pending",
            f"quiz: answer or skip the question about step {self.question.wire.step} first",
        )

    async def _quiz(self, on: bool) -> None:
        if on != self.quiz_on:
            self.quiz_on = on
            self.question = None
            await self._broadcast_step(None)

    async def _ask_before_step(self) -> bool:
        """In quiz mode, send the next step's question (if it has one) instead of
        stepping; returns whether it did."""
        if not self.quiz_on:
            return False
        view = self.view
        pending = await self._guarded(lambda: next_question(view))
        if pending is None:
            return False
        self.question = pending
        self._notify(p.Question.model_construct(type="question", question=pending.wire))
        return True

    async def _answer(self, reply: str | None) -> None:
        pending = self.question
        view = self.view
        if pending is None or (pending.branch, pending.pos) != (view.branch.id, view.pos):
            self.question = None
            raise CommandError(
                "no_question",
                "quiz: no question is waiting" + ("" if self.quiz_on else " (quiz mode is off)"),
            )
        correct = reply is not None and pending.question.check(reply)
        self.quiz_asked += 1
        self.quiz_right += int(correct)
        self.question = None
        self._notify(
            p.Reveal.model_construct(
                type="reveal",
                step=pending.wire.step,
                kind=pending.question.kind,
                reply=reply,
                correct=correct,
                answer=pending.question.answer,
                explain=pending.question.explain,
                score=self.quiz_score(),
            )
        )
        await self._step_main()

    async def _step_main(self) -> None:
        view = self.view
        s = self.settings

        def step() -> StepOutcome:
            return view.forward(
                None,
                extend=True,
                policy=s.checkpoint,
                max_steps=s.max_timeline_steps,
                defer_checkpoint=True,
            )

        outcome = await self._guarded(step)
        await self._broadcast_step(outcome)

    # navigation of the main view (controller)

    async def _navigate_main(self, cmd: Any) -> None:
        view = self.view
        if self.question is not None:
            if isinstance(cmd, p.Step | p.RunTo):
                raise self._pending_error()
            self.question = None  # a jump: the question no longer applies
        if isinstance(cmd, p.Step):
            if not await self._ask_before_step():
                await self._step_main()
            return
        if isinstance(cmd, p.RunTo):
            await self._run_to(self._check_kind(cmd.kind))
            return
        target = self._target(view, cmd)
        self.shown = await self._guarded(lambda: view.arrive(target))
        await self._broadcast_snapshot("seek")

    def _target(self, view: View, cmd: Any) -> int:
        if isinstance(cmd, p.Back):
            if view.pos == 0:
                raise CommandError("out_of_range", "already at step 0: nothing before it")
            return view.pos - 1
        if isinstance(cmd, p.First):
            return 0
        if isinstance(cmd, p.Last):
            return view.length
        if isinstance(cmd, p.Align):
            # Seconds on the wire are floats: 1 µs of slack keeps the same moment.
            return view.branch.moment_step(cmd.op, round(cmd.clock * 1_000_000_000) + 1_000)
        target: int = cmd.step
        if target > view.length:
            raise CommandError(
                "out_of_range", f"step {target} is beyond the end of the timeline ({view.length})"
            )
        return target

    async def _guarded(self, fn: Callable[[], T]) -> T:
        try:
            return await self._run(fn)
        except (ModelError, ValueError, KeyError, TimelineError) as exc:
            raise model_error(exc) from None

    async def _run_to(self, kind: str) -> None:
        view = self.view
        s = self.settings
        bit = kind_bit(kind)

        def search() -> tuple[int | None, str]:
            found = view.branch.find_kind(view.pos, bit)
            if found is not None:
                return found, ""
            if view.pos < view.length:
                view.seek(view.length)
            deadline = time.monotonic() + s.run_to_max_seconds
            for _ in range(s.run_to_max_steps):
                try:
                    view.forward(
                        None, extend=True, policy=s.checkpoint, max_steps=s.max_timeline_steps
                    )
                except TimelineError as exc:
                    return None, str(exc)
                if view.branch.masks[view.pos - 1] & bit:
                    return view.pos, ""
                if time.monotonic() > deadline:
                    break
            return None, f"no {kind!r} event within the steps searched"

        start, length = view.pos, view.length
        found, why = await self._guarded(search)
        if found is None:
            reached = view.pos

            def stay() -> None:  # an error changes nothing: back to where it was
                view.seek(start)
                view.branch.truncate(length)

            await self._guarded(stay)
            raise CommandError(
                "not_found", f"{why} (searched to step {reached}); the view stays at step {start}"
            )
        if found - 1 != view.pos:
            self.shown = await self._guarded(lambda: view.arrive(found - 1))
            await self._broadcast_snapshot("seek")
        outcome = await self._guarded(
            lambda: view.forward(
                None, extend=True, policy=s.checkpoint, max_steps=s.max_timeline_steps
            )
        )
        await self._broadcast_step(outcome)

    # navigation of a follower's own view

    async def _navigate_own(self, client: Client, cmd: Any) -> None:
        if client.following:
            main = self.view
            client.view = await self._run(main.clone)
            client.tracker = Tracker(client.view.node)
            client.following = False
        view = client.view
        tracker = client.tracker
        assert view is not None and tracker is not None
        s = self.settings
        if isinstance(cmd, p.Step):
            outcome = await self._guarded(
                lambda: view.forward(
                    None, extend=False, policy=s.checkpoint, max_steps=s.max_timeline_steps
                )
            )
            client.offer(
                Frame(await self._run(lambda: self.build_delta(view, tracker, outcome, False)))
            )
            return
        if isinstance(cmd, p.RunTo):
            kind = self._check_kind(cmd.kind)
            found = view.branch.find_kind(view.pos, kind_bit(kind))
            if found is None:
                raise CommandError(
                    "not_found", f"no {kind!r} event in the recorded timeline after step {view.pos}"
                )
            target = found
        else:
            target = self._target(view, cmd)
        shown = await self._guarded(lambda: view.arrive(target))
        client.offer(await self._run(lambda: self._send_own_snapshot(client, "seek", shown)))

    async def _follow(self, client: Client, on: bool) -> None:
        if client.is_controller:
            if not on:
                raise CommandError(
                    "not_controller",
                    "the controller's view is the session; open the session as a follower "
                    "to look around on your own",
                )
            return
        if on and not client.following:
            client.following = True
            client.view = None
            client.tracker = None
            client.offer(await self._run(lambda: self._main_snapshot_frame("follow")))
        elif not on and client.following:
            client.view = await self._run(self.view.clone)
            client.tracker = Tracker(client.view.node)
            client.following = False

    # play

    def _set_speed(self, value: float) -> None:
        if not 0 < value <= self.settings.max_speed:
            raise CommandError(
                "out_of_range",
                f"speed must be above 0 and at most {self.settings.max_speed:g} steps/s, "
                f"got {value:g}",
            )
        self.speed = float(value)

    async def _play(self, speed: float | None) -> None:
        if speed is not None:
            self._set_speed(speed)
        if not self.playing:
            self.playing = True
            self.play_task = asyncio.create_task(self._play_loop(), name=f"play {self.id}")
        await self._broadcast_step(None)

    async def _pause(self) -> None:
        was = self.playing
        self._stop_play()
        if was:
            await self._broadcast_step(None)

    def _stop_play(self) -> None:
        self.playing = False
        task = self.play_task
        self.play_task = None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _play_loop(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        s = self.settings
        try:
            while self.playing:
                deadline += 1.0 / self.speed
                delay = deadline - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    deadline = loop.time()  # fell behind: do not burst
                async with self.lock:
                    if not self.playing:
                        break
                    view = self.view
                    try:
                        asked = await self._ask_before_step()
                    except CommandError:
                        asked = False
                    if asked:  # quiz mode: play stops at a question
                        self.playing = False
                        await self._broadcast_step(None)
                        break

                    def step(view: View = view) -> StepOutcome:
                        return view.forward(
                            None,
                            extend=True,
                            policy=s.checkpoint,
                            max_steps=s.max_timeline_steps,
                            defer_checkpoint=True,
                        )

                    try:
                        outcome = await self._run_light(step)
                    except (ModelError, ValueError, KeyError, TimelineError):
                        self.playing = False
                        await self._broadcast_step(None)
                        break
                    if self.breakpoints and view.branch.masks[view.pos - 1] & mask_of(
                        list(self.breakpoints)
                    ):
                        self.playing = False
                    await self._broadcast_step(outcome)
        except asyncio.CancelledError:
            raise
        except Exception:  # never let a play loop die silently
            log.exception("play loop of session %s failed", self.id)
            self.playing = False
        finally:
            if self.play_task is asyncio.current_task():
                self.play_task = None

    # changing the timeline

    async def _act(self, cmd: Cmd) -> None:
        """A user command: at the end of the branch it extends it; in the past it forks."""
        view = self.view
        s = self.settings
        parent = view.branch
        forked = view.pos < view.length
        if forked:
            view.branch = parent.fork(self._new_branch_id(), view.pos, "fork")

        def act() -> StepOutcome:
            return view.forward(
                cmd,
                extend=True,
                policy=s.checkpoint,
                max_steps=s.max_timeline_steps,
                defer_checkpoint=True,
            )

        try:
            outcome = await self._guarded(act)
        except CommandError:
            if forked:
                view.branch = parent
            raise
        if forked:
            self._add_branch(view.branch)
        await self._broadcast_step(outcome)

    async def _new_timeline(
        self, plan: Plan, reason: str, upto: int | None, moment: int | None = None
    ) -> None:
        """A new branch of ``plan`` replaying the current one's first ``upto`` steps, or
        from its start (at ``moment`` steps after the unfolded start, if given)."""
        s = self.settings
        bid = self._new_branch_id()
        parent = self.view.branch

        def build() -> View:
            if upto is not None:
                view = replay_under(bid, plan, parent, upto, s.checkpoint, reason)
                # A lesson: the rest of it recorded, its length known.
                if not plan.source.start_at_end:
                    run_workload(view, s.checkpoint, s.max_timeline_steps)
                    view.seek(upto)
                return view
            view = open_branch(bid, plan, s.checkpoint, s.max_timeline_steps, reason)
            view.branch.parent = parent.id
            if moment is not None:
                view.seek(min(max(0, moment - view.branch.setup.steps), view.length))
            return view

        view = await self._guarded(build)
        # All or nothing: if the new view's snapshot cannot be built, the session stays
        # on its old view and branches (an error changes nothing).
        saved = self.view, dict(self.branches), self.tracker, self._frames, self.version
        self.view = view
        self.shown = None
        self._add_branch(view.branch)
        self.version += 1
        try:
            frame = await self._run(lambda: self._main_snapshot_frame(reason))
        except Exception:
            self.view, self.branches, self.tracker, self._frames, self.version = saved
            raise
        self._stop_play()
        self._broadcast(frame)

    async def _reset(self) -> None:
        await self._new_timeline(self.plan, "reset", None)

    async def _configure(self, cmd: p.Configure) -> None:
        old = self.plan.config
        changes = configure_changes(cmd)
        if not changes:
            raise CommandError("invalid_field", "configure needs at least one field to change")
        config = merge_config(old, changes)
        plan = await self._run(lambda: plan_from_config(config, self.settings))
        self.fits(plan)
        same = all(getattr(config, k) == getattr(old, k) for k in _SOURCE_KEYS)
        if same and config.fold_setup != old.fold_setup:
            # The same moment, counted from the other starting state.
            moment = self.view.pos + self.view.branch.setup.steps
            await self._new_timeline(plan, "configure", None, moment)
            return
        await self._new_timeline(plan, "configure", self.view.pos if same else None)

    async def _switch_branch(self, bid: int) -> None:
        branch = self.branches.get(bid)
        if branch is None:
            raise CommandError(
                "not_found", f"no branch {bid}; branches are {sorted(self.branches)}"
            )
        step = min(self.view.pos, len(branch))
        view = await self._guarded(lambda: View.at(branch, step))
        self._stop_play()
        self.view = view
        self.shown = None
        await self._broadcast_snapshot("branch")

    async def shutdown(self) -> None:
        self._stop_play()

    # -- export ----------------------------------------------------------------------------

    def export_doc(self) -> ExportDoc:
        """The session as a small exact document (call under the lock).  Source texts
        (workload files, /proc snapshots, traces) are stored once, in ``files``."""
        files: dict[str, str] = {}
        return ExportDoc(
            name=self.name,
            current=Position(branch=self.view.branch.id, step=self.view.pos),
            speed=self.speed,
            breakpoints=sorted(self.breakpoints),
            branches=[
                ExportBranch(
                    id=b.id,
                    parent=b.parent,
                    fork_step=b.fork_step,
                    reason=b.reason,
                    config=pack_texts(b.plan.config, files),
                    log=encode_log(b.log),
                )
                for b in self.branches.values()
            ],
            files=files,
        )

    def info(self) -> dict[str, Any]:
        view = self.view
        return {
            "id": self.id,
            "name": self.name,
            "scenario": view.branch.plan.config.scenario,
            "step": view.pos,
            "timeline_length": view.length,
            "branch": view.branch.id,
            "branches": len(self.branches),
            "viewers": len(self.clients),
            "playing": self.playing,
            "speed": self.speed,
            "clock": view.node.clock,
            "created": self.created,
            "source": view.branch.plan.source.describe(),
            "quiz": self.quiz_on,
            "first_own_step": next(
                (i for i, cmd in enumerate(view.branch.log, 1) if cmd[0] != "next"), None
            ),
        }


_SOURCE_KEYS: Final = ("scenario", *TEXT_FIELDS)


def configure_changes(cmd: p.Configure) -> dict[str, Any]:
    """The fields a ``configure`` command sets."""
    return cmd.model_dump(exclude={"type", "id", "session"}, exclude_none=True, exclude_unset=True)


def merge_config(old: SessionConfig, changes: dict[str, Any]) -> SessionConfig:
    """``old`` with ``changes`` applied as ``configure`` applies them; raises
    ``CommandError`` (``invalid_config``) for a combination that is not a configuration."""
    if any(k in changes and changes[k] != getattr(old, k) for k in _SOURCE_KEYS):
        # A new source (scenario or text) starts over: nothing of the old one is kept.
        base: dict[str, Any] = {k: changes[k] for k in _SOURCE_KEYS if k in changes}
    else:
        base = old.model_dump()
        if "hinting" in changes and changes["hinting"] != old.hinting:
            base["constants"] = {}
    base.update(changes)
    if "constants" in changes:
        base["constants"] = {
            **(old.constants if "hinting" not in changes else {}),
            **changes["constants"],
        }
    try:
        return SessionConfig.model_validate(base)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = str(err["msg"]).removeprefix("Value error, ")
        raise CommandError("invalid_config", message) from None


def plan_from_config(config: SessionConfig, settings: Settings) -> Plan:
    """Resolve a configuration and check it against the server's limits (parses a
    source text: call it in a worker thread for big ones)."""
    try:
        plan = plan_for(config, settings.max_timeline_steps)
    except ScenarioNotFound as exc:
        raise CommandError("invalid_config", str(exc)) from None
    except SourceError as exc:
        what = {"workload": "workload file", "trace": "trace"}.get(exc.field, exc.field)
        n = len(exc.problems)
        raise CommandError(
            "invalid_file",
            f"the {what} cannot be loaded ({n} problem{'s' if n != 1 else ''}): "
            + "; ".join(exc.problems[:3])
            + ("; ..." if n > 3 else ""),
            http_status=422,
            problems=exc.problems,
            field=exc.field,
        ) from None
    except (ModelError, ValueError) as exc:
        raise CommandError("invalid_config", str(exc)) from None
    check_size(plan, settings)
    return replace(plan, budget=StepBudget(settings.max_step_events, settings.max_step_seconds))


def check_size(plan: Plan, settings: Settings) -> None:
    """Refuse a plan over the server's limits, from its sizes alone (nothing is built)."""
    s = settings
    sizes = plan.source.sizes()
    if len(sizes) > s.max_zones:
        raise CommandError(
            "limit", f"{len(sizes)} zones; this server allows at most {s.max_zones} per session"
        )
    for name, pages in sizes:
        if plan.source.start is None and pages > s.max_pages_per_zone:
            raise CommandError(
                "limit",
                f"zone {name} would have {pages} pages; this server allows at most "
                f"{s.max_pages_per_zone} per zone",
            )
    total = sum(pages for _, pages in sizes)
    if total > s.max_pages_per_session:
        raise CommandError(
            "limit",
            f"the zones would have {total} pages together; this server allows at most "
            f"{s.max_pages_per_session} per session",
        )
    index, blocks = max_step_blocks(list(plan.source.workload))
    if blocks > s.max_step_blocks:
        raise CommandError(
            "limit",
            f"workload operation {index} would allocate, free or touch up to {blocks} blocks "
            f"in one step; this server allows {s.max_step_blocks} per step: split it into "
            "steps (smaller counts, or a repeat)",
        )


class SessionManager:
    """All live sessions of a server, with the limits on them."""

    def __init__(self, settings: Settings, key: bytes | None = None) -> None:
        self.settings = settings
        self._key = key if key is not None else secrets.token_bytes(32)
        self.sessions: dict[str, Session] = {}
        self._templates: dict[str, tuple[Branch, View]] = {}
        self._create_lock = asyncio.Lock()

    def get(self, sid: str) -> Session | None:
        return self.sessions.get(sid)

    def token_for(self, sid: str) -> str:
        return control_token(self._key, sid)

    def token_valid(self, sid: str, token: str | None) -> bool:
        """Whether ``token`` controls the session ``sid``, live or not (a session lost in
        a restart is reopened under its id by whoever holds its token)."""
        return token is not None and hmac.compare_digest(
            token.encode(), self.token_for(sid).encode()
        )

    def _fits(self, plan: Plan, leaving: Session | None = None) -> None:
        """Refuse ``plan`` if the live sessions' pages (but ``leaving``'s) and its own
        would be over the server's total."""
        pages = sum(n for _, n in plan.source.sizes())
        used = sum(
            sum(n for _, n in s.plan.source.sizes())
            for s in self.sessions.values()
            if s is not leaving
        )
        if used + pages > self.settings.max_pages_total:
            raise CommandError(
                "limit",
                f"this server's sessions model {used} pages and this one would add {pages}; "
                f"it allows {self.settings.max_pages_total} in all: try a smaller "
                "configuration or later",
                http_status=503,
            )

    def _register(self, session: Session) -> None:
        session.fits = partial(self._fits, leaving=session)
        self.sessions[session.id] = session

    def _new_id(self, reopen: str | None) -> str:
        return reopen if reopen is not None else secrets.token_urlsafe(12)

    def _evict_idle(self) -> None:
        now = time.monotonic()
        for sid, session in list(self.sessions.items()):
            if not session.clients and now - session.last_active > self.settings.session_idle_s:
                session._stop_play()
                del self.sessions[sid]

    def _room(self, peer: str) -> None:
        """Make room for a session of ``peer``, or refuse (503).  Only a session nobody
        watches, that does not play and was not saved can go: first the longest-idle of
        ``peer``'s own when it runs its quota; when the server is full, one of its own
        or one nobody ever controlled, so one client cannot push out others' work."""
        self._evict_idle()
        s = self.settings

        def idle(session: Session) -> bool:
            return not session.clients and not session.playing and not session.name

        own = [x for x in self.sessions.values() if x.peer == peer]
        if len(own) >= s.max_sessions_per_client:
            victims = [x for x in own if idle(x)]
            if not victims:
                raise CommandError(
                    "limit",
                    f"this client already runs {len(own)} sessions (the most one address may), "
                    "all in use; close one or try again later",
                    http_status=503,
                )
            self._evict(min(victims, key=lambda x: x.last_active))
        if len(self.sessions) < s.max_sessions:
            return
        victims = [
            x for x in self.sessions.values() if idle(x) and (x.peer == peer or not x.controlled)
        ]
        if victims:
            self._evict(min(victims, key=lambda x: (x.peer != peer, x.last_active)))
            return
        raise CommandError(
            "limit",
            f"this server already runs {s.max_sessions} sessions, all in use; "
            "try again later or follow an existing session",
            http_status=503,
        )

    def _evict(self, session: Session) -> None:
        session._stop_play()
        del self.sessions[session.id]

    def _build_view(self, plan: Plan) -> View:
        """The initial view of a plan; the start of each configuration is built once."""
        s = self.settings
        key = plan.config.model_dump_json()
        template = self._templates.get(key)
        if template is None:
            view = open_branch(0, plan, s.checkpoint, s.max_timeline_steps)
            template = (view.branch, view.clone())
            if len(self._templates) >= 8:
                self._templates.pop(next(iter(self._templates)))
            self._templates[key] = template
        branch, view = template
        copy_branch = branch.fork(0, len(branch), "start")
        copy_branch.parent = None
        copy_branch.fork_step = 0
        clone = view.clone()
        clone.branch = copy_branch
        return clone

    async def create(
        self,
        config: SessionConfig | None = None,
        name: str = "",
        reopen: str | None = None,
        peer: str = "",
    ) -> Session:
        """A new session running ``config``.  ``reopen``: the id of a session this server
        no longer has (lost in a restart), to reopen under that id (the caller has checked
        its token); if a session of that id is live again by now, it is the answer."""
        config = config or SessionConfig()
        async with self._create_lock:
            if reopen is not None and reopen in self.sessions:
                return self.sessions[reopen]
            plan = await asyncio.to_thread(plan_from_config, config, self.settings)
            self._fits(plan)
            try:
                view = await asyncio.to_thread(self._build_view, plan)
            except (ModelError, ValueError, KeyError) as exc:
                raise model_error(exc) from None
            self._room(peer)  # only now: a refused configuration evicts nobody
            sid = self._new_id(reopen)
            session = Session(sid, self.token_for(sid), self.settings, view, name)
            session.peer = peer
            self._register(session)
            return session

    def _views_from_doc(self, doc: ExportDoc) -> tuple[dict[int, Branch], View]:
        s = self.settings
        if len(doc.branches) > s.max_branches:
            raise CommandError(
                "limit", f"{len(doc.branches)} branches; this server keeps {s.max_branches}"
            )
        branches: dict[int, Branch] = {}
        for eb in doc.branches:
            if eb.id in branches:
                raise CommandError("invalid_field", f"branch {eb.id} appears twice")
            try:
                config = unpack_texts(eb.config, doc.files)
            except ValueError as exc:
                raise CommandError("invalid_field", f"branch {eb.id}: {exc}") from None
            plan = plan_from_config(config, s)
            self._fits(plan)
            try:
                log = decode_log(eb.log, s.max_timeline_steps)
            except ValueError as exc:
                raise CommandError("limit", f"branch {eb.id}: {exc}") from None
            view = build_branch(eb.id, plan, log, s.checkpoint, eb.reason)
            view.branch.parent = eb.parent
            view.branch.fork_step = eb.fork_step
            branches[eb.id] = view.branch
        current = branches.get(doc.current.branch)
        if current is None:
            raise CommandError("invalid_field", f"current branch {doc.current.branch} is missing")
        if doc.current.step > len(current):
            raise CommandError(
                "out_of_range",
                f"current step {doc.current.step} is beyond branch {current.id} ({len(current)})",
            )
        return branches, View.at(current, doc.current.step)

    async def import_doc(
        self, doc: ExportDoc, name: str | None = None, reopen: str | None = None, peer: str = ""
    ) -> Session:
        """A new live session from an export document (every branch is replayed);
        ``reopen`` as for ``create``."""
        for kind in doc.breakpoints:
            if kind not in EVENT_KINDS:
                raise CommandError("out_of_range", f"unknown event kind {kind!r}")
        if not 0 < doc.speed <= self.settings.max_speed:
            raise CommandError("out_of_range", f"speed {doc.speed:g} is out of range")
        async with self._create_lock:
            if reopen is not None and reopen in self.sessions:
                return self.sessions[reopen]
            try:
                branches, view = await asyncio.to_thread(self._views_from_doc, doc)
            except (ModelError, ValueError, KeyError) as exc:
                raise model_error(exc) from None
            self._room(peer)  # only now: a refused document evicts nobody
            sid = self._new_id(reopen)
            session = Session(
                sid,
                self.token_for(sid),
                self.settings,
                view,
                doc.name if name is None else name,
            )
            session.branches = branches
            session.next_branch = max(branches) + 1
            session.speed = doc.speed
            session.breakpoints = frozenset(doc.breakpoints)
            session.peer = peer
            self._register(session)
            return session

    async def remove(self, sid: str) -> bool:
        session = self.sessions.pop(sid, None)
        if session is None:
            return False
        session.deleted = True
        await session.shutdown()
        for client in session.clients:
            client.closed = True
            client.wake.set()
        return True

    async def shutdown(self) -> None:
        for session in self.sessions.values():
            await session.shutdown()
        self.sessions.clear()

    async def reap_forever(self, interval: float = 30.0) -> None:
        while True:
            await asyncio.sleep(interval)
            async with self._create_lock:
                self._evict_idle()


__all__ = [
    "EVENT_KINDS",
    "Client",
    "CommandError",
    "Session",
    "SessionManager",
    "Settings",
    "control_token",
]
