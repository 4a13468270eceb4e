"""The timeline player of a session: play at a speed, breakpoints, and moving the main
view (step, back, first, last, seek, run to an event)."""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from typing import Any, Final

from allocator_model import ModelError

from . import protocol as p
from .audience import Frame
from .quizsession import QuizSession
from .settings import CommandError
from .snapshot import Tracker
from .steps import TimelineError
from .timeline import View, kind_bit, mask_of

log = logging.getLogger("buddyscope.session")

#: How far behind its schedule play may fall and catch up (the late steps come one
#: after another, the event loop served between them); further behind, a long step or
#: a busy machine, the schedule starts again from now rather than bursting.
CATCH_UP_S: Final = 0.1


def pace(deadline: float, now: float, period: float) -> tuple[float, float]:
    """The next step's deadline after ``deadline``'s, and how long to wait for it.

    A step a little late (the event loop was busy, the process waited for a core) is
    made up for, so play keeps its speed on average: a step that only started late used
    to move the whole schedule back, and at 200 steps/s on a shared machine play ran at
    about 188."""
    deadline += period
    if deadline < now - CATCH_UP_S:
        deadline = now
    return deadline, max(0.0, deadline - now)


class Player(QuizSession):
    """Play and navigation of the main view (the controller's)."""

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
        try:
            while self.playing:
                deadline, delay = pace(deadline, loop.time(), 1.0 / self.speed)
                await asyncio.sleep(delay)  # 0 when late: still lets others run first
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

                    try:
                        outcome = await self._run_light(partial(self._record, view))
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
