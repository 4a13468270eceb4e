"""What one step of a session does: the commands a timeline records, run on a node.

A timeline (``timeline.py``) logs the command that made each step, never its result;
this module is what replays one, so going back and forward yields the same events:

    ("next",)                     the next workload operation; when the workload is over,
                                  the next pending hinting/reporting work item (the clock
                                  jumps to it); while an ``advance`` is under way, its next
                                  due work item, or the clock reaching its target
    ("alloc", order, mt, zone)    a user's allocation
    ("free", pfn, order)          a user's free
    ("touch", pfn, order)         the guest writes a block
    ("advance", ns)               a user's "advance the clock by ns"; due work then runs
                                  one item per ``("next",)`` step

Besides the node, a step depends on the workload runner's place and the user's own
blocks (``WorkState``).  A scenario's setup (the automatic steps before its first
narrated phase) is folded into the starting state here (``fold_setup``), unless its
configuration says ``fold_setup: false``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Final

from allocator_model import ModelError, Node, hexpfn
from allocator_model.sources.workload import Runner

from .sources import Plan

Cmd = tuple[Any, ...]
NEXT: Final[Cmd] = ("next",)
NSEC: Final = 1_000_000_000

#: Event kinds the backend adds to the model's own (for narration and breakpoints).
SYNTHETIC_KINDS: Final = ("phase", "work", "clock", "step_error", "user")


class TimelineError(Exception):
    """A command the timeline refuses; ``code`` is the protocol's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class WorkState:
    """Everything besides the node that a step depends on (copied with checkpoints)."""

    runner: Runner = field(default_factory=Runner)
    wl_index: int = 0
    advance_target_ns: int | None = None
    user_allocs: int = 0
    # (pfn, order) -> (label, seq) of the runner's live blocks: derived, rebuilt on demand
    # (a user's free must drop the block from the workload's labels, and scanning every
    # label for each free costs ~30 ms with 250,000 live blocks).
    _owners: dict[tuple[int, int], tuple[str, int]] | None = field(default=None, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_owners"] = None  # not worth its bytes in a checkpoint
        return state

    def __deepcopy__(self, memo: dict[int, Any]) -> WorkState:
        return WorkState(
            copy.deepcopy(self.runner, memo), self.wl_index, self.advance_target_ns,
            self.user_allocs,
        )  # fmt: skip

    def workload_changed(self) -> None:
        self._owners = None

    def add_user_block(self, pfn: int, order: int) -> None:
        seq = self.user_allocs
        self.runner.labels.setdefault("user", {})[seq] = (pfn, order)
        self.user_allocs += 1
        if self._owners is not None:
            self._owners[(pfn, order)] = ("user", seq)

    def forget_block(self, pfn: int, order: int) -> None:
        """The block was freed by the user: it is no longer live under any label."""
        owners = self._owners
        if owners is None:
            owners = self._owners = {
                block: (label, seq)
                for label, live in self.runner.labels.items()
                for seq, block in live.items()
            }
        owner = owners.pop((pfn, order), None)
        if owner is not None:
            self.runner.labels[owner[0]].pop(owner[1], None)


def _event(kind: str, fn: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "fn": fn, "zone": None, "message": message, **extra}


# --- executing one step ----------------------------------------------------------------


def _continue_advance(node: Node, ws: WorkState) -> list[dict[str, Any]]:
    target = ws.advance_target_ns
    assert target is not None
    due = node.next_work_ns()
    if due is not None and due <= target:
        label = node.run_next_work()
        return [_event("work", str(label), f"delayed work runs at {node.clock:.6g} s: {label}")]
    if target > node.clock_ns:
        node.advance((target - node.clock_ns) / NSEC)
    ws.advance_target_ns = None
    return [_event("clock", "advance", f"the clock reaches {node.clock:.6g} s")]


def _start_advance(node: Node, ws: WorkState, ns: int) -> list[dict[str, Any]]:
    ws.advance_target_ns = node.clock_ns + ns
    return _continue_advance(node, ws)


def _next(node: Node, ws: WorkState, plan: Plan) -> list[dict[str, Any]]:
    if ws.advance_target_ns is not None:
        return _continue_advance(node, ws)
    workload = plan.source.workload
    if ws.wl_index < len(workload):
        n = ws.wl_index
        op = workload[n]
        ws.wl_index += 1
        ws.workload_changed()
        kind = op.get("op")
        where = f"workload operation {n}"
        try:
            if kind == "advance":
                seconds = op.get("seconds")
                if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                    raise ValueError(f"{where}: 'seconds' must be a number >= 0")
                return _start_advance(node, ws, round(seconds * NSEC))
            if kind == "touch" and "pfn" in op:  # a session's touch saved as a file
                pfn, order = op["pfn"], op.get("order", 0)
                node.touch(pfn, order)
                return [
                    _event(
                        "user", "workload", f"touched pfn {hexpfn(pfn)} (order {order})", op=kind
                    )
                ]
            summary = ws.runner.apply(node, op, where)
        except (ModelError, ValueError) as exc:
            return [_event("step_error", "workload", f"{where} did nothing: {exc}")]
        if kind == "phase":
            return [_event("phase", "workload", summary)]
        return [_event("user", "workload", summary, op=kind)]
    if node.next_work_ns() is not None:
        label = node.run_next_work()
        return [_event("work", str(label), f"delayed work runs at {node.clock:.6g} s: {label}")]
    raise TimelineError(
        "nothing_to_do",
        "nothing left to do: the workload is over and no hinting/reporting work is pending "
        "(advance the clock, or allocate or free something)",
    )


def execute(node: Node, ws: WorkState, plan: Plan, cmd: Cmd) -> list[dict[str, Any]]:
    """Apply one command; returns the backend's own narration events.

    Raises ``ModelError``/``ValueError``/``TimelineError`` with the node unchanged when
    the command does not apply (the caller then does not record it).
    """
    kind = cmd[0]
    if kind == "next":
        return _next(node, ws, plan)
    if kind == "alloc":
        _, order, mt, zone = cmd
        pfn = node.alloc(order, mt, zone)
        ws.add_user_block(pfn, order)
        return []
    if kind == "free":
        _, pfn, order = cmd
        node.free(pfn, order)  # raises with nothing changed if it does not apply
        ws.forget_block(pfn, order)
        return []
    if kind == "touch":
        _, pfn, order = cmd
        node.touch(pfn, order)
        return []
    if kind == "advance":
        return _start_advance(node, ws, int(cmd[1]))
    raise ValueError(f"unknown command {kind!r}")


def execute_recorded(node: Node, ws: WorkState, plan: Plan, cmd: Cmd) -> list[dict[str, Any]]:
    """Apply a command from the log: one that no longer applies becomes a narrated no-op."""
    try:
        return execute(node, ws, plan, cmd)
    except (ModelError, ValueError, TimelineError) as exc:
        return [_event("step_error", cmd[0], f"{describe(cmd)} did nothing here: {exc}")]


def describe(cmd: Cmd) -> str:
    kind = cmd[0]
    if kind == "alloc":
        zone = f" from zone {cmd[3]}" if cmd[3] else ""
        return f"alloc order {cmd[1]} {cmd[2]}{zone}"
    if kind in ("free", "touch"):
        return f"{kind} pfn {hexpfn(cmd[1])} order {cmd[2]}"
    if kind == "advance":
        return f"advance {cmd[1] / NSEC:g} s"
    return "step"


# --- the setup folded into the starting state ------------------------------------------


@dataclass(frozen=True)
class Setup:
    """What the starting state of a branch already holds: ``steps`` automatic steps
    (workload operations ``0..ops-1``), and the narration of the phases among them."""

    steps: int = 0
    ops: int = 0
    text: str = ""


def _boot_ops(workload: tuple[dict[str, Any], ...]) -> int:
    """The leading phases and ``advance`` operations up to the last such advance: a
    scenario's boot (the device requesting every zone, the first passes), when the
    lesson goes on after it (otherwise the boot is the lesson)."""
    end = 0
    for i, op in enumerate(workload):
        kind = op.get("op")
        if kind == "advance":
            end = i + 1
        elif kind != "phase":
            return end
    return 0


def fold_setup(node: Node, ws: WorkState, plan: Plan) -> Setup:
    """Run the setup of ``plan`` on a fresh ``node``: every step up to the first phase
    after the boot (or the boot alone when no phase follows it), and never past an
    operation a quiz question asks about."""
    workload = plan.source.workload
    boot = _boot_ops(workload)
    first = next((i for i in range(boot, len(workload)) if workload[i].get("op") == "phase"), boot)
    # A quiz question asks about its operation as a step: it is never folded away.
    questions = plan.source.questions
    asked = [q["before_step"] for q in questions if isinstance(q.get("before_step"), int)]
    first = min([first, *asked])
    texts: list[str] = []
    steps = 0
    while ws.advance_target_ns is not None or ws.wl_index < first:
        for event in execute_recorded(node, ws, plan, NEXT):
            if event["kind"] == "phase":
                texts.append(event["message"])
        steps += 1
        node.take_events()
    return Setup(steps, ws.wl_index, " ".join(texts))


def initial_state(plan: Plan) -> tuple[Node, WorkState, Setup]:
    """The node and work state at step 0 of a branch of ``plan``, and what it folds."""
    node = plan.source.new_node()
    ws = WorkState()
    setup = fold_setup(node, ws, plan) if plan.config.fold_setup is not False else Setup()
    node.take_events()
    return node, ws, setup
