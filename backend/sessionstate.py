"""The state of a session and how it reaches its viewers.

A session owns the branches of its timeline and one *main view* (the position everybody
following sees).  Connections are ``audience.Client`` objects: the controller (it knows
the session's control token) moves the main view and changes the session; followers
watch, and a follower that navigates gets its own view of the same timeline until it
follows again.  Every state change is built once into a ``snapshot`` or ``delta`` and
broadcast to each client following the main view.

The commands are layered on this state, one concern a module: ``quizsession``
(quiz mode), ``player`` (play, speed, breakpoints, moving the main view), and
``session`` (changing the timeline, followers' own views, export, dispatch).

Model work (steps, seeks, snapshots) runs in a worker thread under the session's lock,
so the event loop keeps serving other sessions while a long seek or a replay runs; a
cheap step of play and its delta run on the loop (``_run_light``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

from allocator_model import ModelError

from . import protocol as p
from .audience import Client, Frame
from .quizmode import Pending
from .settings import EVENT_KINDS, CommandError, Settings, model_error
from .snapshot import Tracker, config_view, event_dicts, host_stats, zone_snapshot
from .sources import Plan
from .steps import Cmd, TimelineError
from .timeline import Branch, StepOutcome, View

T = TypeVar("T")

#: Work under this much CPU time runs on the event loop (``SessionState._run_light``).
INLINE_CPU_S: Final = 0.002

#: Event kinds shown as marks on the seek bar (plus the session's breakpoints).
MARK_KINDS: Final = frozenset({"phase", "report", "boundary", "state", "refault"})


class SessionState:
    """A session's timeline, audience and messages (the commands: subclasses)."""

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
        # The controller's pick while walking a step event by event (step, index): a
        # follower that joins, or follows again, at that step is shown it too.
        self.substep: tuple[int, int] | None = None
        self._light_cost = 0.0  # CPU seconds the last step or delta took (_run_light)

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

    async def _guarded(self, fn: Callable[[], T]) -> T:
        try:
            return await self._run(fn)
        except (ModelError, ValueError, KeyError, TimelineError) as exc:
            raise model_error(exc) from None

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

    def branch_infos(self) -> list[p.BranchInfo]:
        return [
            p.BranchInfo.model_construct(
                id=b.id, parent=b.parent, fork_step=b.fork_step, length=len(b), reason=b.reason
            )
            for b in self.branches.values()
        ]

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

    async def attach(self, client: Client) -> None:
        async with self.lock:
            self.clients.add(client)
            self.controlled = self.controlled or client.is_controller
            self.last_active = time.monotonic()
            frame = await self._run(lambda: self._main_snapshot_frame("connect"))
            client.offer(frame)
            if not client.is_controller:
                self.tell_substep(client)

    def tell_substep(self, client: Client) -> None:
        """A follower that arrives while the controller walks the step on screen is
        shown the event picked (after its snapshot: the page applies it to that step)."""
        if self.substep is not None and self.substep[0] == self.view.pos:
            step, index = self.substep
            shown = p.SubstepShown.model_construct(type="substep", step=step, index=index)
            client.reply(shown.model_dump_json())

    def detach(self, client: Client) -> None:
        client.closed = True
        self.clients.discard(client)
        self.last_active = time.monotonic()

    def _check_kind(self, kind: str) -> str:
        if kind not in EVENT_KINDS:
            raise CommandError(
                "out_of_range", f"unknown event kind {kind!r}; kinds are {', '.join(EVENT_KINDS)}"
            )
        return kind

    def _record(self, view: View, cmd: Cmd | None = None) -> StepOutcome:
        """One new step of the main ``view`` (``cmd``, or the next automatic one); its
        checkpoint, if one is due, is taken after its delta is on its way."""
        s = self.settings
        return view.forward(
            cmd,
            extend=True,
            policy=s.checkpoint,
            max_steps=s.max_timeline_steps,
            defer_checkpoint=True,
        )

    async def _step_main(self) -> None:
        view = self.view
        outcome = await self._guarded(lambda: self._record(view))
        await self._broadcast_step(outcome)
