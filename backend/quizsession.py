"""Quiz mode of a session: the question before a step, the answer, the score."""

from __future__ import annotations

from . import protocol as p
from .quizmode import next_question
from .sessionstate import SessionState
from .settings import CommandError


class QuizSession(SessionState):
    """Quiz mode: before a step that has a question, the question goes to everybody
    following instead of the step; the answer (or a skip) reveals it and steps."""

    def _notify(self, message: p.Question | p.Reveal) -> None:
        """A quiz message to everybody following the session (never dropped)."""
        text = message.model_dump_json()
        for c in self._following():
            c.reply(text)

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
