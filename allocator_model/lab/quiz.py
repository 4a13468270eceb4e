"""Quiz mode (the OSTEP habit): ask about the next step, then reveal and score.

``ask`` runs the next operation on a deep copy of the node and reads the answer from
the events it produced, so the answer is what the model will do - never a separate
guess.  Question kinds:

* ``which_pfn``        - the pfn the (first) allocation of the step returns;
* ``which_end``        - head or tail: where the step's last list insert goes;
* ``which_list``       - the order and migratetype of that list;
* ``which_migratetype``- the migratetype of that list;
* ``merge_order``      - the order of the block the step's free ends up as;
* ``will_merge``       - yes/no: does the step merge anything;
* ``requests``         - yes/no: does the step request hinting/reporting;
* ``blocks_reported``  - how many blocks the next hinting/reporting pass reports.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..kernel.events import Event, hexpfn
from ..sources.workload import Runner, WorkloadError

if TYPE_CHECKING:
    from ..kernel.node import Node

KINDS = (
    "which_pfn", "which_end", "which_list", "which_migratetype", "merge_order", "will_merge",
    "requests", "blocks_reported",
)  # fmt: skip
CHOICES: dict[str, list[str]] = {
    "which_end": ["head", "tail"],
    "will_merge": ["yes", "no"],
    "requests": ["yes", "no"],
}


_INT = re.compile(r"(0x[0-9a-f]+|\d+)")
_LIST = re.compile(r"(\d+)\D+?([a-z]+)\s*$")
#: Kinds whose answer is a number, however it is written.
_NUMBERS = ("which_pfn", "merge_order", "blocks_reported")


def read_int(text: str) -> int | None:
    """The first whole number in ``text``, decimal or ``0x`` hex (None: there is none)."""
    m = _INT.search(text.lower())
    if m is None:
        return None
    return int(m.group(1), 16) if m.group(1).startswith("0x") else int(m.group(1))


@dataclass(frozen=True)
class Question:
    """A question with the model's answer; ``events`` are the dry run's events (wire
    form), the whole explanation of which ``explain`` is the telling line."""

    kind: str
    ask: str
    answer: str
    choices: list[str]
    explain: str
    events: tuple[dict[str, Any], ...] = ()

    def check(self, reply: str) -> bool:
        """Whether ``reply`` says the answer: exact (any case), or for numbers the number
        ("4096", "0x1000" and "pfn 4096" all answer "pfn 0x1000"), for lists the order and
        migratetype ("9 Movable", "order 9, movable")."""
        got = reply.strip().lower()
        want = self.answer.lower()
        if got == want:
            return True
        if self.kind in _NUMBERS:
            a = read_int(got)
            return a is not None and a == read_int(want)
        if self.kind == "which_list":
            a_m, b_m = _LIST.search(got), _LIST.search(want)
            return a_m is not None and b_m is not None and a_m.groups() == b_m.groups()
        return False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ask": self.ask, "choices": self.choices}


def ask(
    node: Node, runner: Runner, op: dict[str, Any] | None, kind: str, text: str = ""
) -> Question:
    """The question about applying ``op`` next, with its answer from a dry run.

    ``op=None`` asks about what happens next without an operation (with
    ``blocks_reported``: the next hinting/reporting pass as things stand).
    """
    if kind not in KINDS:
        raise WorkloadError(f"unknown question kind {kind!r}: use one of {', '.join(KINDS)}")
    twin = copy.deepcopy(node)
    twin_runner = copy.deepcopy(runner)
    twin.take_events()
    if op is not None:
        twin_runner.apply(twin, op)
    events = twin.take_events()
    if kind == "blocks_reported":
        events += run_first_pass(twin)
    answer, explain = _answer(kind, events)
    return Question(
        kind,
        text or kind.replace("_", " "),
        answer,
        CHOICES.get(kind, []),
        explain,
        tuple(e.to_dict() for e in events),
    )


def run_first_pass(node: Node) -> list[Event]:
    """Run delayed work until the first hinting/reporting pass or cycle is over."""
    out: list[Event] = []
    started = False
    for _ in range(100_000):
        if node.run_next_work() is None:
            break
        events = node.take_events()
        out += events
        for e in events:
            d = e.to_dict()
            if (
                e.kind == "state"
                and d["new"] in ("ACTIVE", "set")
                and "ACTIVE" in (d["new"] + d["what"])
            ):
                started = True
        if started and node.hinting_state().get("phase") == "idle":
            break
    return out


def _answer(kind: str, events: list[Event]) -> tuple[str, str]:
    dicts = [e.to_dict() for e in events]
    adds = [d for d in dicts if d["kind"] == "list_add"]
    if kind == "which_pfn":
        allocs = [d for d in dicts if d["kind"] == "alloc"]
        if not allocs:
            return "none", "the step allocates nothing"
        return f"pfn {hexpfn(allocs[0]['pfn'])}", allocs[0]["message"]
    if kind in ("which_end", "which_list", "which_migratetype", "merge_order"):
        if not adds:
            return "none", "the step puts no block on a free list"
        last = adds[-1]
        value = {
            "which_end": str(last["end"]),
            "which_list": f"order-{last['order']} {last['migratetype']}",
            "which_migratetype": str(last["migratetype"]),
            "merge_order": str(last["order"]),
        }[kind]
        return value, last["message"]
    if kind == "will_merge":
        merges = [d for d in dicts if d["kind"] == "merge"]
        return ("yes", merges[0]["message"]) if merges else ("no", "no buddy was free")
    if kind == "requests":
        requests = [d for d in dicts if d["kind"] == "request"]
        return ("yes", requests[0]["message"]) if requests else ("no", "no pass was requested")
    blocks = sum(len(d["blocks"]) for d in dicts if d["kind"] == "report")
    return str(blocks), f"{blocks} blocks went to the host in that pass"
