"""Sessions: a timeline, the viewers that watch it, and the commands that change it.

``Session`` is the whole session: its state and audience (``sessionstate``), quiz mode
(``quizsession``), play and navigation (``player``), and here the dispatch of commands,
changes to the timeline (actions, forks, reset, configure, branches), followers' own
views, and export.  ``manager.SessionManager`` holds a server's sessions.
"""

from __future__ import annotations

import time
from typing import Any

from . import protocol as p
from .audience import Client, Frame
from .configure import SOURCE_KEYS, configure_changes, merge_config, plan_from_config
from .export import ExportBranch, ExportDoc, Position, encode_log, pack_texts
from .player import Player
from .settings import EVENT_KINDS, CommandError, Settings
from .snapshot import Tracker
from .sources import Plan
from .steps import Cmd
from .timeline import View, kind_bit, open_branch, replay_under, run_workload


def _ident(cmd: Any) -> int | None:
    ident = getattr(cmd, "id", None)
    return ident if isinstance(ident, int) else None


class Session(Player):
    """A live session: ``handle`` runs one validated command of one of its clients."""

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
        elif isinstance(cmd, p.Substep):
            self._show_substep(client, cmd.step, cmd.index)
        elif isinstance(cmd, p.AllocCmd | p.FreeCmd | p.TouchCmd | p.Advance):
            await self._act(self._command_tuple(cmd))
        else:  # pragma: no cover - the union is exhaustive
            raise CommandError("unknown_type", f"unhandled command {cmd.type!r}")

    def _show_substep(self, sender: Client, step: int, index: int) -> None:
        """The controller's walk of a step, to the others following (never dropped, like
        the quiz's messages: a lecture's followers see each event it points at)."""
        self.substep = (step, index) if index >= 0 else None
        shown = p.SubstepShown.model_construct(type="substep", step=step, index=index)
        text = shown.model_dump_json()
        for c in self._following():
            if c is not sender:
                c.reply(text)

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
            self.tell_substep(client)
        elif not on and client.following:
            client.view = await self._run(self.view.clone)
            client.tracker = Tracker(client.view.node)
            client.following = False

    async def _act(self, cmd: Cmd) -> None:
        """A user command: at the end of the branch it extends it; in the past it forks."""
        view = self.view
        parent = view.branch
        forked = view.pos < view.length
        if forked:
            view.branch = parent.fork(self._new_branch_id(), view.pos, "fork")

        try:
            outcome = await self._guarded(lambda: self._record(view, cmd))
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
        same = all(getattr(config, k) == getattr(old, k) for k in SOURCE_KEYS)
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


__all__ = [
    "EVENT_KINDS",
    "CommandError",
    "Session",
    "Settings",
    "plan_from_config",
]
