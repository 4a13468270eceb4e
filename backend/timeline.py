"""The timeline: a session's log of steps, checkpoints, exact seek, and branches.

A *step* is what a learner sees as one move.  The log records the command that made
each step, never its result, because the model is deterministic: replaying the same
commands on the same configuration yields the same state and the same events.

What each command does is ``steps.py`` (``execute``), which also holds the commands'
forms, the state beside the node a step depends on (``WorkState``) and the setup fold.

Checkpoints (the node and the workload runner, pickled and compressed) are taken as
the log grows, whenever the model time spent since the last one reaches a budget, so
that ``seek`` = restore the nearest checkpoint at or before the target + replay at most
one budget's worth of steps.  Going back and forward again therefore yields identical
events.

A scenario's *setup* (the automatic steps before its first narrated phase: a boot's
hinting or reporting passes, the allocations that build the starting picture) is folded
into the branch's starting state unless the configuration says ``fold_setup: false``:
step 0 is the state the lesson starts from, and step 1 its first move (``Setup``).

Acting in the past forks: the new ``Branch`` shares the log prefix (and the
checkpoints up to the fork) with its parent, which is kept unchanged so the user can
return to it.  Changing the configuration makes a branch that replays the same
commands under the new rules; a command that no longer applies (a free of a block that
is not allocated there, say) becomes a step that only narrates why it did nothing, so
step numbers stay aligned with the parent.
"""

from __future__ import annotations

import copy
import pickle
import re
import time
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from allocator_model import Node

from .sources import Plan
from .steps import (
    NEXT,
    Cmd,
    Setup,
    TimelineError,
    WorkState,
    describe,
    execute,
    execute_recorded,
    initial_state,
)

#: Characters of a chapter's title taken from its phase's text.
CHAPTER_TITLE_CHARS: Final = 90
#: A phase that opens with "Title: " names its chapter (the library's phases all do).
_TITLE_PREFIX: Final = re.compile(r"([A-Z0-9][^:.]{1,38}): \S")


class ChapterMark(NamedTuple):
    """A narrated phase of a branch: its step, its title, and the presenter's notes the
    scenario gives it (what to point at, what to ask the class), if any."""

    step: int
    title: str
    notes: str | None = None


def chapter_title(text: str) -> str:
    """A phase's text as a chapter title: its "Title: " prefix, else its first sentence
    cut at a word."""
    named = _TITLE_PREFIX.match(text)
    if named:
        return named.group(1)
    first = text.split(". ", 1)[0].rstrip(".")
    if len(first) <= CHAPTER_TITLE_CHARS:
        return first
    return first[:CHAPTER_TITLE_CHARS].rsplit(" ", 1)[0] + "…"


# --- kinds of events, as bits ----------------------------------------------------------

_KIND_BITS: dict[str, int] = {}


def kind_bit(kind: str) -> int:
    """A bit per event kind (63 distinct kinds, then they share the last bit)."""
    bit = _KIND_BITS.get(kind)
    if bit is None:
        bit = 1 << min(len(_KIND_BITS), 63)
        _KIND_BITS[kind] = bit
    return bit


def mask_of(kinds: Iterator[str] | list[str]) -> int:
    m = 0
    for k in kinds:
        m |= kind_bit(k)
    return m


# --- checkpoints and branches ------------------------------------------------------------


class Checkpoint:
    """The node and work state at one step, pickled and zlib-compressed (immutable).

    A 1M-page node pickles to ~16 MB of mostly repetitive arrays that compress to a few
    hundred KB; restoring costs a few tens of milliseconds.  A node that cannot be
    pickled (a future model change) falls back to ``copy.deepcopy``.
    """

    __slots__ = ("_blob", "_copy")

    def __init__(self, node: Node, ws: WorkState) -> None:
        self._blob: bytes | None = None
        self._copy: tuple[Node, WorkState] | None = None
        try:
            self._blob = zlib.compress(pickle.dumps((node, ws), protocol=5), 1)
        except (pickle.PicklingError, TypeError, AttributeError):
            self._copy = copy.deepcopy((node, ws))

    @property
    def nbytes(self) -> int:
        return len(self._blob) if self._blob is not None else 0

    def restore(self) -> tuple[Node, WorkState]:
        if self._blob is not None:
            node, ws = pickle.loads(zlib.decompress(self._blob))
            return node, ws
        assert self._copy is not None
        return copy.deepcopy(self._copy)


@dataclass(frozen=True)
class CheckpointPolicy:
    """When to checkpoint: after ``budget_s`` of model time (at least ``min_gap`` steps
    apart unless the steps were very expensive), and at least every ``max_gap`` steps."""

    budget_s: float = 0.05
    min_gap: int = 64
    max_gap: int = 4096


class Branch:
    """One line of history: a plan (configuration + workload) and a log of commands."""

    def __init__(
        self,
        bid: int,
        plan: Plan,
        *,
        parent: int | None = None,
        fork_step: int = 0,
        reason: str = "start",
        setup: Setup | None = None,
    ) -> None:
        self.id = bid
        self.plan = plan
        self.setup = setup or Setup()
        self.parent = parent
        self.fork_step = fork_step
        self.reason = reason
        self.log: list[Cmd] = []
        self.masks = array("Q")
        # The moment after each step, (workload operations done, clock ns): ``align``.
        self.ops = array("Q")
        self.clocks = array("Q")
        self.checkpoints: dict[int, Checkpoint] = {}
        self.cost_since_checkpoint = 0.0
        self.total_cost = 0.0
        self._marks_cache: tuple[int, frozenset[str], int, list[tuple[int, str]], bool] | None = (
            None
        )
        self._chapters_cache: tuple[int, list[ChapterMark]] | None = None

    def __len__(self) -> int:
        return len(self.log)

    def nearest_checkpoint(self, step: int) -> int:
        best = 0
        for k in self.checkpoints:
            if best < k <= step:
                best = k
        return best

    def last_checkpoint(self) -> int:
        return max(self.checkpoints)

    def checkpoint_bytes(self) -> int:
        return sum(c.nbytes for c in self.checkpoints.values())

    def record(
        self,
        cmd: Cmd,
        mask: int,
        cost_s: float,
        node: Node,
        ws: WorkState,
        policy: CheckpointPolicy,
        defer: bool = False,
    ) -> bool:
        """Append a step just executed (``node``/``ws`` are the state after it).  Returns
        whether a checkpoint is due; with ``defer`` the caller takes it later (after
        sending the step's delta) with ``checkpoint_now``."""
        self.log.append(cmd)
        self.masks.append(mask)
        self.ops.append(ws.wl_index)
        self.clocks.append(node.clock_ns)
        self.cost_since_checkpoint += cost_s
        self.total_cost += cost_s
        n = len(self.log)
        gap = n - self.last_checkpoint()
        cost = self.cost_since_checkpoint
        if (
            gap >= policy.max_gap
            or (gap >= policy.min_gap and cost >= policy.budget_s)
            or cost >= 4 * policy.budget_s  # an expensive step: never replay it twice
        ):
            if defer:
                return True
            self.checkpoint_now(node, ws)
        return False

    def checkpoint_now(self, node: Node, ws: WorkState) -> None:
        """Checkpoint the state at the end of the log."""
        self.checkpoints[len(self.log)] = Checkpoint(node, ws)
        self.cost_since_checkpoint = 0.0

    def truncate(self, step: int) -> None:
        """Forget the steps after ``step`` (a search that ran past the end and found
        nothing takes its steps back: a refused command changes nothing)."""
        if step >= len(self.log):
            return
        mean = self.total_cost / len(self.log)
        del self.log[step:]
        del self.masks[step:]
        del self.ops[step:]
        del self.clocks[step:]
        self.checkpoints = {k: c for k, c in self.checkpoints.items() if k <= step}
        self.cost_since_checkpoint = (step - self.last_checkpoint()) * mean
        self.total_cost = step * mean
        self._marks_cache = None
        self._chapters_cache = None

    def fork(self, bid: int, step: int, reason: str) -> Branch:
        """A new branch sharing this one's first ``step`` steps."""
        child = Branch(
            bid, self.plan, parent=self.id, fork_step=step, reason=reason, setup=self.setup
        )
        child.log = self.log[:step]
        child.masks = self.masks[:step]
        child.ops = self.ops[:step]
        child.clocks = self.clocks[:step]
        child.checkpoints = {k: c for k, c in self.checkpoints.items() if k <= step}
        mean = self.total_cost / len(self.log) if self.log else 0.0
        child.cost_since_checkpoint = (step - child.last_checkpoint()) * mean
        child.total_cost = step * mean
        return child

    def find_kind(self, start: int, bits: int) -> int | None:
        """First recorded step after ``start`` (1-based step numbers) with a kind in bits."""
        masks = self.masks
        for i in range(start, len(masks)):
            if masks[i] & bits:
                return i + 1
        return None

    def chapters(self) -> list[ChapterMark]:
        """Each step that narrates a phase: the lesson's chapters.  The k-th phase step
        after the setup is the k-th phase operation after it (whose notes it carries)."""
        n = len(self.log)
        cache = self._chapters_cache
        if cache is not None and cache[0] == n:
            return cache[1]
        rest = self.plan.source.workload[self.setup.ops :]
        phases = [op for op in rest if op.get("op") == "phase"]
        bit = kind_bit("phase")
        out: list[ChapterMark] = []
        for i, m in enumerate(self.masks):
            if m & bit:
                k = len(out)
                if k < len(phases):
                    op = phases[k]
                    title = chapter_title(str(op.get("title") or op.get("text", "")))
                    out.append(ChapterMark(i + 1, title, op.get("notes")))
                else:
                    out.append(ChapterMark(i + 1, "phase"))
        self._chapters_cache = (n, out)
        return out

    def moment_step(self, op: int, clock_ns: int) -> int:
        """The last step at or before the moment (``op`` workload operations done, the
        clock at ``clock_ns``): where another strategy's session is "at the same time".
        Both grow with the step, so it is a binary search; 0 if even step 1 is later."""
        lo, hi = 0, len(self.log)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.ops[mid - 1] <= op and self.clocks[mid - 1] <= clock_ns:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def mark_at(self, step: int, kinds: frozenset[str]) -> str | None:
        """The kind ``marks`` gives ``step`` (1-based), or None: the same rule, one step."""
        if not 1 <= step <= len(self.masks):
            return None
        m = self.masks[step - 1]
        for k in sorted(kinds):
            if m & kind_bit(k):
                return k
        return None

    def marks(self, kinds: frozenset[str], limit: int) -> tuple[list[tuple[int, str]], bool]:
        """(step, kind) for steps with an event of one of ``kinds``, at most ``limit``."""
        cache = self._marks_cache
        n = len(self.log)
        if cache is not None and cache[0] == n and cache[1] == kinds and cache[2] == limit:
            return cache[3], cache[4]
        wanted = [(kind_bit(k), k) for k in sorted(kinds)]
        bits = 0
        for b, _ in wanted:
            bits |= b
        out: list[tuple[int, str]] = []
        truncated = False
        masks = self.masks
        for i in range(n):
            m = masks[i]
            if m & bits:
                for b, k in wanted:
                    if m & b:
                        out.append((i + 1, k))
                        break
                if len(out) >= limit:
                    truncated = True
                    break
        self._marks_cache = (n, kinds, limit, out, truncated)
        return out, truncated


# --- a position on a branch --------------------------------------------------------------


@dataclass
class StepOutcome:
    """What one step forward produced."""

    events: list[dict[str, Any]]
    model_events: list[Any]
    new: bool


class View:
    """A node at one position of one branch: the session's, or a detached viewer's."""

    def __init__(self, branch: Branch, pos: int, node: Node, ws: WorkState) -> None:
        self.branch = branch
        self.pos = pos
        self.node = node
        self.ws = ws
        self.checkpoint_due = False

    def flush_checkpoint(self) -> None:
        """Take a checkpoint a deferred ``forward`` left due (if still at that step)."""
        if self.checkpoint_due:
            self.checkpoint_due = False
            if self.pos == self.length and self.pos not in self.branch.checkpoints:
                self.branch.checkpoint_now(self.node, self.ws)

    @classmethod
    def at(cls, branch: Branch, step: int) -> View:
        base = branch.nearest_checkpoint(step)
        node, ws = branch.checkpoints[base].restore()
        view = cls(branch, base, node, ws)
        view._replay_to(step)
        return view

    def clone(self) -> View:
        node, ws = copy.deepcopy((self.node, self.ws))
        return View(self.branch, self.pos, node, ws)

    @property
    def length(self) -> int:
        return len(self.branch.log)

    def _replay_to(self, target: int) -> None:
        log = self.branch.log
        plan = self.branch.plan
        node, ws = self.node, self.ws
        while self.pos < target:
            execute_recorded(node, ws, plan, log[self.pos])
            self.pos += 1
            if node.events is not None and len(node.events) > 10_000:
                node.take_events()
        node.take_events()

    def _undo(self) -> None:
        """Back to the state at ``pos`` after a step ran there that is not recorded."""
        target = self.pos
        base = self.branch.nearest_checkpoint(target)
        self.node, self.ws = self.branch.checkpoints[base].restore()
        self.pos = base
        self._replay_to(target)

    def seek(self, target: int) -> None:
        """Exact: the nearest checkpoint at or before ``target`` (or the current position
        if that is nearer) and a replay of the steps in between."""
        if not 0 <= target <= self.length:
            raise TimelineError(
                "out_of_range", f"step {target} is outside the timeline 0..{self.length}"
            )
        if target == self.pos:
            return
        self.flush_checkpoint()
        base = self.branch.nearest_checkpoint(target)
        if not (self.pos < target and self.pos >= base):
            self.node, self.ws = self.branch.checkpoints[base].restore()
            self.pos = base
        self._replay_to(target)

    def arrive(self, target: int) -> StepOutcome | None:
        """``seek`` that replays step ``target`` last, so that what it did (its events,
        exactly as going forward showed them) is known; None at step 0."""
        if target == 0 or not 0 < target <= self.length:
            self.seek(target)
            return None
        self.seek(target - 1)
        return self.forward(None, extend=False, policy=CheckpointPolicy(), max_steps=0)

    def forward(
        self,
        cmd: Cmd | None,
        *,
        extend: bool,
        policy: CheckpointPolicy,
        max_steps: int,
        defer_checkpoint: bool = False,
    ) -> StepOutcome:
        """One step: the next recorded one (``cmd`` None, inside the log), or ``cmd`` (or
        the automatic next step) recorded at the end of the branch."""
        self.flush_checkpoint()  # an earlier deferred one, before the state moves on
        node, ws = self.node, self.ws
        node.take_events()
        if cmd is None and self.pos < self.length:
            synthetic = execute_recorded(node, ws, self.branch.plan, self.branch.log[self.pos])
            self.pos += 1
            return StepOutcome(synthetic, node.take_events(), new=False)
        if not extend:
            raise TimelineError(
                "end_of_timeline",
                f"this view is at the end of the recorded timeline (step {self.pos}); only "
                "the session's controller can add steps",
            )
        assert self.pos == self.length, "record only at the end of a branch"
        if self.length >= max_steps:
            raise TimelineError(
                "limit",
                f"the timeline is full ({max_steps} steps); reset or seek back and fork",
            )
        command = NEXT if cmd is None else cmd
        t0, cpu0 = time.perf_counter(), time.thread_time()
        synthetic = execute(node, ws, self.branch.plan, command)
        cost, cpu = time.perf_counter() - t0, time.thread_time() - cpu0
        events = node.take_events()
        budget = self.branch.plan.budget
        if len(events) + len(synthetic) > budget.events or cpu > budget.seconds:
            self._undo()
            what = "the next step" if cmd is None else describe(cmd)
            raise TimelineError(
                "limit",
                f"{what} would make {len(events) + len(synthetic)} events in "
                f"{cpu:.2f} s of CPU; this server allows {budget.events} events and "
                f"{budget.seconds:g} s per step, so it was undone: do it in smaller steps",
            )
        mask = mask_of([e["kind"] for e in synthetic]) | mask_of([e.kind for e in events])
        self.pos += 1
        due = self.branch.record(command, mask, cost, node, ws, policy, defer_checkpoint)
        self.checkpoint_due = due
        return StepOutcome(synthetic, events, new=True)


def start_branch(bid: int, plan: Plan, policy: CheckpointPolicy, reason: str = "start") -> View:
    """A new branch at step 0 of ``plan`` (with its step-0 checkpoint)."""
    node, ws, setup = initial_state(plan)
    branch = Branch(bid, plan, reason=reason, setup=setup)
    branch.checkpoints[0] = Checkpoint(node, ws)
    return View(branch, 0, node, ws)


def run_workload(view: View, policy: CheckpointPolicy, max_steps: int) -> None:
    """Record ``next`` steps until the workload (and any advance it started) is over."""
    ws = view.ws
    workload = view.branch.plan.source.workload
    while ws.wl_index < len(workload) or ws.advance_target_ns is not None:
        view.forward(None, extend=True, policy=policy, max_steps=max_steps)
        ws = view.ws


def open_branch(
    bid: int, plan: Plan, policy: CheckpointPolicy, max_steps: int, reason: str = "start"
) -> View:
    """A new branch with its whole workload recorded, so that its length and chapters
    are known from the start; the view is at step 0 (at the end for a plan that starts
    at its end)."""
    view = start_branch(bid, plan, policy, reason)
    run_workload(view, policy, max_steps)
    if not plan.source.start_at_end:
        view.seek(0)
    return view


def build_branch(
    bid: int, plan: Plan, log: list[Cmd], policy: CheckpointPolicy, reason: str = "start"
) -> View:
    """A branch of ``plan`` that records ``log`` (commands that no longer apply become
    narrated no-op steps); the view is left at its end."""
    view = start_branch(bid, plan, policy, reason)
    branch = view.branch
    node, ws = view.node, view.ws
    for cmd in log:
        t0 = time.perf_counter()
        synthetic = execute_recorded(node, ws, plan, cmd)
        cost = time.perf_counter() - t0
        events = node.take_events()
        mask = mask_of([e["kind"] for e in synthetic]) | mask_of([e.kind for e in events])
        view.pos += 1
        branch.record(cmd, mask, cost, node, ws, policy)
    return view


def replay_under(
    bid: int, plan: Plan, parent: Branch, upto: int, policy: CheckpointPolicy, reason: str
) -> View:
    """A branch with a new plan that replays ``parent``'s first ``upto`` commands."""
    view = build_branch(bid, plan, parent.log[:upto], policy, reason)
    view.branch.parent = parent.id
    view.branch.fork_step = 0
    return view
