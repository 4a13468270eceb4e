"""Quiz mode: which question comes before a step, and whether a reply is right.

A question is about the *next step* of a view when that step starts a workload
operation (a ``next`` step, new or recorded).  The scenario's own questions come first
(``before_step`` is the index of the workload operation); a scenario without questions
gets one generated for the operation:

* ``alloc``                            -> ``which_pfn`` or ``which_list`` (alternating);
* a free of a block of order >= the strategy's order (reporting's ``order``, v2's
  ``min_order``)                       -> ``requests``;
* another free (``free``, ``free_pick``, ``free_all``)
                                       -> ``will_merge``, ``which_end``, ``merge_order``
                                          (in turn);
* ``advance`` while hinting/reporting work falls due inside it and no pass is under way
                                       -> ``blocks_reported`` (how many blocks the next
                                          pass reports).

The answer always comes from ``allocator_model.lab.quiz.ask``: a dry run of the operation on
a deep copy of the node, so it is what the step then does.  Generated questions whose
dry run has no answer (``"none"``: an allocation that splits nothing, a free that goes
to a per-cpu list) fall back to the next kind, or are not asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from allocator_model import ModelError, Node
from allocator_model.lab.quiz import CHOICES, Question, ask
from allocator_model.sources.workload import Runner

from . import protocol as p
from .sources import Plan
from .steps import NEXT, NSEC
from .timeline import View

#: The dry run of ``blocks_reported`` for an ``advance``: apply nothing, then run delayed
#: work until the first pass is over (applying the whole advance would count every pass
#: inside it).
_NOTHING: Final = {"op": "phase", "text": "(quiz dry run)"}
_FREES: Final = ("free", "free_pick", "free_all")


@dataclass(frozen=True)
class Pending:
    """A question sent and waiting for its answer, at one position of one branch."""

    branch: int
    pos: int
    question: Question
    wire: p.QuizQuestion


def next_question(view: View) -> Pending | None:
    """The question to ask before the view's next step, or None."""
    plan = view.branch.plan
    if view.pos < view.length and view.branch.log[view.pos] != NEXT:
        return None  # a recorded command of the user's: not a workload operation
    ws = view.ws
    if ws.advance_target_ns is not None or ws.wl_index >= len(plan.source.workload):
        return None
    k = ws.wl_index
    op = plan.source.workload[k]
    node = view.node
    made: tuple[Question, str] | None
    if plan.source.questions:
        made = _scenario_question(plan, node, ws.runner, op, k)
    else:
        made = _generated_question(node, ws.runner, op, k)
    if made is None:
        return None
    question, origin = made
    wire = p.QuizQuestion(
        step=view.pos + 1,
        kind=question.kind,  # type: ignore[arg-type]
        ask=question.ask,
        choices=choices(question, node),
        origin=origin,  # type: ignore[arg-type]
        workload_op=k,
    )
    return Pending(view.branch.id, view.pos, question, wire)


def _dry_run(
    node: Node, runner: Runner, op: dict[str, Any], kind: str, text: str
) -> Question | None:
    target = _NOTHING if kind == "blocks_reported" and op.get("op") == "advance" else op
    try:
        return ask(node, runner, target, kind, text)
    except (ModelError, ValueError, KeyError):
        return None  # an operation the model's runner cannot dry-run: no question


def _scenario_question(
    plan: Plan, node: Node, runner: Runner, op: dict[str, Any], k: int
) -> tuple[Question, str] | None:
    for q in plan.source.questions:
        if q.get("before_step") == k:
            made = _dry_run(node, runner, op, str(q["kind"]), str(q.get("ask", "")))
            return None if made is None else (made, "scenario")
    return None


def _strategy_order(node: Node) -> int | None:
    state = node.hinting_state()
    for c in state.get("constants", []):
        if c.get("name") in ("order", "min_order"):
            return int(c["value"])
    return None


def _freed_order(runner: Runner, op: dict[str, Any]) -> int | None:
    """The largest order the free operation would free (None: it frees nothing)."""
    if op.get("op") == "free" and "pfn" in op:
        return int(op.get("order", 0))
    if op.get("op") == "free_all":
        blocks = [b for live in runner.labels.values() for b in live.values()]
    else:
        blocks = runner.live(str(op.get("label", "")))
    return max((order for _, order in blocks), default=None)


def _generated_question(
    node: Node, runner: Runner, op: dict[str, Any], k: int
) -> tuple[Question, str] | None:
    kind = op.get("op")
    texts: dict[str, str]
    if kind == "alloc":
        count = int(op.get("count", 1))
        what = (
            f"{count} order-{op.get('order', 0)} {op.get('migratetype', 'Movable')} "
            f"block{'s' if count != 1 else ''}"
        )
        first = "the first of them" if count != 1 else "it"
        texts = {
            "which_pfn": f"The guest allocates {what}. Which pfn does {first} get?",
            "which_list": f"The guest allocates {what}. A larger block is split: onto which "
            "free list (order and migratetype) goes the last half split off?",
        }
        order = ["which_pfn", "which_list"] if k % 2 == 0 else ["which_list", "which_pfn"]
    elif kind in _FREES:
        freed = _freed_order(runner, op)
        if freed is None:
            return None
        top = _strategy_order(node)
        several = kind == "free_all" or (
            kind == "free" and "pfn" not in op and op.get("count") != 1
        )
        block = "the last block freed" if several else "the freed block"
        each = "any block this step frees" if several else "the freed block"
        if top is not None and freed >= top:
            what = "hinting" if node.hinting == "hinting-v2" else "a reporting pass"
            texts = {
                "requests": f"This step frees order-{freed} blocks (the strategy acts from "
                f"order {top}). Will it request {what}?"
            }
            order = ["requests"]
        else:
            texts = {
                "will_merge": f"Will {each} merge with its buddy?",
                "which_end": f"Does {block} go to the head or the tail of its free list?",
                "merge_order": f"After any merges, what is the order of {block}'s free block?",
            }
            base = ["will_merge", "which_end", "merge_order"]
            order = base[k % 3 :] + base[: k % 3]
    elif kind == "advance":
        due = node.next_work_ns()
        seconds = op.get("seconds", 0)
        if (
            node.hinting == "none"
            or due is None
            or not isinstance(seconds, int | float)
            or due > node.clock_ns + round(seconds * NSEC)
            or node.hinting_state().get("phase") != "idle"
        ):
            return None
        what = "hinting cycle" if node.hinting == "hinting-v2" else "reporting pass"
        texts = {"blocks_reported": f"How many blocks will the next {what} report to the host?"}
        order = ["blocks_reported"]
    else:
        return None
    for qkind in order:
        made = _dry_run(node, runner, op, qkind, texts[qkind])
        if made is not None and made.answer != "none":
            return made, "generated"
    return None


def choices(question: Question, node: Node) -> list[str]:
    if question.choices:
        return list(question.choices)
    if question.kind == "merge_order":
        return [str(k) for k in range(node.max_order)]
    if question.kind == "which_migratetype":
        return list(node.migratetypes)
    return list(CHOICES.get(question.kind, []))
