"""Generated practice (the OSTEP habit: ``-s SEED``, answers checked by the model).

``exercise(kind, seed)`` builds a toy zone, runs a setup drawn from the seed on it and
asks what the allocator does next.  The same kind and seed give the same exercise, byte
for byte, on any machine: the only randomness is ``random.Random`` seeded from them.
The answer is never computed beside the model: it is read from the events of a dry run
(``quiz.ask``, or the first reporting pass for ``report``), and those events, in the
kernel's words, are the explanation.

Kinds:

* ``pfn``    - which pfn an allocation returns (``__rmqueue_smallest`` takes the head of
  the smallest non-empty list, ``expand`` keeps the lower half);
* ``end``    - head or tail: where a freed block goes (``buddy_merge_likely``);
* ``merge``  - the order a freed block reaches (one ``__free_one_page`` merge at a time);
* ``report`` - which blocks the next free page reporting pass puts in its first batch
  (``page_reporting_cycle``: each list from the head, reported blocks skipped).

The toy zone is small enough to read whole: 256 pages at pfn 0x1000, ``MAX_ORDER`` 6
(blocks of up to 32 pages), ``pageblock_order`` 4, Linux 5.10 rules, no per-cpu lists,
``min_free_kbytes`` 16.  ``report`` runs free page reporting with a batch capacity of 4
instead of the kernel's 32, so that a batch is a handful of blocks.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any, Final

from ..kernel.errors import ModelError
from ..kernel.events import Event, hexpfn
from ..kernel.node import Node, ZoneSpec
from ..sources.workload import Runner
from .quiz import Question, ask, read_int

KINDS: Final = ("pfn", "end", "merge", "report")
SEED_LIMIT: Final = 2**32  # seeds are 0 .. 2**32 - 1, as the CLI's --seed

ZONE: Final = "Normal"
START_PFN: Final = 0x1000
PAGES: Final = 256
MAX_ORDER: Final = 6
PAGEBLOCK_ORDER: Final = 4
KERNEL: Final = "5.10"
MIN_FREE_KBYTES: Final = 16
REPORT_CAPACITY: Final = 4

TITLES: Final = {
    "pfn": "which pfn does the allocation get?",
    "end": "head or tail of the free list?",
    "merge": "how far does the freed block merge?",
    "report": "which blocks go in the next report batch?",
}
HINTS: Final = {
    "pfn": "__rmqueue_smallest() takes the head of the smallest non-empty free list of at "
    "least the order asked for; expand() keeps the lower half and puts each upper half at "
    "the head of its list.",
    "end": "__free_one_page() merges first. Then buddy_merge_likely(): when the buddy of the "
    "block one order up is free, the block goes to the tail (it may merge soon); otherwise to "
    f"the head. From order MAX_ORDER - 2 = {MAX_ORDER - 2} it always goes to the head.",
    "merge": "The buddy of the block at pfn p of order k is at p ^ (1 << k). The block merges "
    "while that buddy is a free block of the same order, up to order MAX_ORDER - 1 = "
    f"{MAX_ORDER - 1}.",
    "report": "page_reporting_cycle() walks the lists of order >= page_reporting_order "
    f"({PAGEBLOCK_ORDER}) from the head, order by order and migratetype by migratetype, "
    f"skips blocks already reported, and isolates blocks until {REPORT_CAPACITY} fill the "
    "batch.",
}

_PFNS = re.compile(r"[\s,;]+")


class PracticeError(ModelError, ValueError):
    """A kind, seed or reply that names no exercise or answer (nothing changes)."""


@dataclass(frozen=True)
class Verdict:
    """The model's word on a reply."""

    right: bool
    reply: str


@dataclass(frozen=True)
class Exercise:
    """One generated exercise: what is shown, what is asked, and the model's answer."""

    kind: str
    seed: int
    ask: str
    setup: tuple[str, ...]  # what the guest did before the question, one line each
    before: dict[str, Any]  # the toy zone when asked (``picture``)
    after: dict[str, Any]  # the toy zone once the operation (or the batch) is done
    choices: tuple[str, ...]  # named answers (buttons); empty: a typed number or pfns
    answer: str
    events: tuple[dict[str, Any], ...]  # the dry run's events: the explanation
    key: int  # the index in ``events`` of the event that carries the answer
    question: Question | None = field(default=None, repr=False)  # quiz-backed kinds

    def check(self, reply: str) -> Verdict:
        """The model's verdict on ``reply``; a reply that is no answer at all raises
        ``PracticeError`` saying what an answer looks like."""
        text = reply.strip()
        if not text:
            raise PracticeError("the reply is empty: " + answer_help(self.kind))
        if len(text) > 200:
            raise PracticeError(f"the reply is {len(text)} characters long; 200 at most")
        if self.kind == "report":
            return Verdict(set(read_pfns(text)) == set(read_pfns(self.answer)), text)
        if self.kind == "end" and text.lower() not in self.choices:
            raise PracticeError(f"{text!r} is not one of {', '.join(self.choices)}")
        if self.kind != "end" and read_int(text) is None:
            raise PracticeError(f"{text!r} has no number in it: " + answer_help(self.kind))
        assert self.question is not None
        return Verdict(self.question.check(text), text)

    def to_dict(self, reveal: bool = False) -> dict[str, Any]:
        """The wire form: the exercise; with ``reveal``, its answer and explanation too."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "seed": self.seed,
            "title": TITLES[self.kind],
            "ask": self.ask,
            "setting": setting(self.kind),
            "setup": list(self.setup),
            "before": self.before,
            "choices": list(self.choices),
            "answer_help": answer_help(self.kind),
            "hint": HINTS[self.kind],
        }
        if reveal:
            out |= {
                "answer": self.answer,
                "events": list(self.events),
                "key": self.key,
                "after": self.after,
            }
        return out


def setting(kind: str) -> str:
    text = (
        f"A toy zone {ZONE} of {PAGES} pages from pfn {hexpfn(START_PFN)}; MAX_ORDER "
        f"{MAX_ORDER} (the largest block is order {MAX_ORDER - 1}, {1 << (MAX_ORDER - 1)} "
        f"pages), pageblock_order {PAGEBLOCK_ORDER}; Linux {KERNEL} rules, no per-cpu lists."
    )
    if kind == "report":
        text += (
            f" Free page reporting: page_reporting_order {PAGEBLOCK_ORDER}, a batch of "
            f"{REPORT_CAPACITY} blocks (the kernel's PAGE_REPORTING_CAPACITY is 32)."
        )
    return text


def answer_help(kind: str) -> str:
    return {
        # Formats only: an example pfn would read as a hint (0x1010 is some seeds' answer).
        "pfn": "answer with a pfn, in hex (0x…) or decimal",
        "end": "answer head or tail",
        "merge": f"answer with an order, 0 to {MAX_ORDER - 1}",
        "report": "answer with the batch's pfns, in hex (0x…) or decimal, separated by commas",
    }[kind]


def read_pfns(text: str) -> list[int]:
    """The pfns of a reply such as ``0x1000, 0x1020`` (hex or decimal)."""
    out: list[int] = []
    for token in _PFNS.split(text.strip().lower()):
        if not token or token == "pfn":
            continue
        try:
            out.append(int(token, 16) if token.startswith("0x") else int(token))
        except ValueError:
            raise PracticeError(f"{token!r} is not a pfn: {answer_help('report')}") from None
    return out


def check_kind_seed(kind: object, seed: object) -> tuple[str, int]:
    if kind not in KINDS:
        raise PracticeError(f"unknown exercise kind {kind!r}: use one of {', '.join(KINDS)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
        raise PracticeError(f"seed must be a whole number from 0 to {SEED_LIMIT - 1}, got {seed!r}")
    return str(kind), seed


def exercise(kind: str, seed: int) -> Exercise:
    """The exercise of ``kind`` generated from ``seed`` (the same every time)."""
    kind, seed = check_kind_seed(kind, seed)
    # A string seed is hashed with SHA-512 by random.seed: stable across runs and
    # machines, and different kinds of the same seed do not share a setup.
    rng = random.Random(f"buddyscope-practice:{kind}:{seed}")
    for _ in range(64):  # a setup that leaves nothing to ask about is drawn again
        made = _report(rng, seed) if kind == "report" else _buddy(rng, seed, kind)
        if made is not None:
            return made
    raise AssertionError(f"no {kind} exercise after 64 setups from seed {seed}")


# --- the toy zone -------------------------------------------------------------------


def _node(reporting: bool) -> Node:
    return Node(
        zones=[ZoneSpec(ZONE, START_PFN, PAGES)],
        kernel=KERNEL,
        max_order=MAX_ORDER,
        pageblock_order=PAGEBLOCK_ORDER,
        min_free_kbytes=MIN_FREE_KBYTES,
        hinting="reporting" if reporting else "none",
        hinting_options={"capacity": REPORT_CAPACITY} if reporting else None,
    )


def picture(node: Node, allocated: list[tuple[int, int]]) -> dict[str, Any]:
    """The toy zone as the page draws it: every free list head -> tail (reported blocks
    marked) and the zone's blocks in pfn order (free, reported or allocated)."""
    z = node.zone(ZONE)
    lists: list[dict[str, Any]] = []
    blocks: list[dict[str, Any]] = [
        {"pfn": pfn, "order": order, "state": "allocated"} for pfn, order in allocated
    ]
    for order in range(node.max_order):
        for mt in node.migratetypes:
            pfns = z.free_list(order, mt)
            if not pfns:
                continue
            entries = [{"pfn": pfn, "reported": node.page(pfn).reported} for pfn in pfns]
            lists.append({"order": order, "migratetype": mt, "blocks": entries})
            blocks += [
                {"pfn": e["pfn"], "order": order, "state": "reported" if e["reported"] else "free"}
                for e in entries
            ]
    blocks.sort(key=lambda b: int(b["pfn"]))
    return {
        "zone": ZONE,
        "start_pfn": START_PFN,
        "pages": PAGES,
        "max_order": node.max_order,
        "clock": node.clock,
        "lists": lists,
        "blocks": blocks,
    }


def _setup(
    rng: random.Random, node: Node, runner: Runner, allocs: int, orders: list[int]
) -> list[str]:
    """Allocate ``allocs`` blocks, then free about half of them: holes to reason about."""
    lines: list[str] = []
    for _ in range(allocs):
        order = rng.choice(orders)
        before = len(runner.live("guest"))
        runner.apply(node, {"op": "alloc", "order": order, "label": "guest"})
        if len(runner.live("guest")) == before:
            continue  # out of memory: the guest asks for no more
        pfn = runner.live("guest")[-1][0]
        lines.append(f"allocate an order-{order} Movable block: it gets pfn {hexpfn(pfn)}")
    live = runner.live("guest")
    for pfn, order in rng.sample(live, k=min(len(live) // 2 + 1, len(live) - 1, rng.randint(2, 4))):
        runner.apply(node, {"op": "free", "pfn": pfn, "order": order})
        lines.append(f"free the order-{order} block at pfn {hexpfn(pfn)}")
    node.take_events()
    return lines


def _exercise(
    kind: str,
    seed: int,
    ask_text: str,
    setup: list[str],
    before: dict[str, Any],
    after: dict[str, Any],
    answer: str,
    events: tuple[dict[str, Any], ...],
    key_kind: str,
    question: Question | None,
) -> Exercise:
    picks = [i for i, e in enumerate(events) if e["kind"] == key_kind]
    return Exercise(
        kind=kind,
        seed=seed,
        ask=ask_text,
        setup=tuple(setup),
        before=before,
        after=after,
        choices=CHOICES.get(kind, ()),
        answer=answer,
        events=events,
        # the allocation itself; the list insert that ends the free; the batch
        key=picks[0] if key_kind != "list_add" else picks[-1],
        question=question,
    )


CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "end": ("head", "tail"),
    "merge": tuple(str(k) for k in range(MAX_ORDER)),
}


# --- pfn, end, merge: one buddy operation -------------------------------------------


def _buddy(rng: random.Random, seed: int, kind: str) -> Exercise | None:
    node = _node(reporting=False)
    runner = Runner()
    setup = _setup(rng, node, runner, rng.randint(5, 9), [0, 0, 1, 1, 2, 3])
    before = picture(node, runner.live("guest"))
    options: list[tuple[Question, dict[str, Any]]] = []
    if kind == "pfn":
        order = rng.choice([0, 1, 1, 2, 2, 3])
        op: dict[str, Any] = {"op": "alloc", "order": order, "label": "guest"}
        text = f"The guest allocates an order-{order} Movable block. Which pfn does it get?"
        made = _dry(node, runner, op, "which_pfn", text)
        if made is None:
            return None
        q = made
    else:  # end, merge: free one of the live blocks, chosen so that every answer comes up
        for pfn, order in runner.live("guest"):
            op = {"op": "free", "pfn": pfn, "order": order}
            text = f"The guest frees the order-{order} block at pfn {hexpfn(pfn)}. " + (
                "Does __free_one_page() put the resulting block at the head or the tail of "
                "its free list?"
                if kind == "end"
                else "What order is the block __free_one_page() puts on a free list?"
            )
            made = _dry(node, runner, op, "which_end" if kind == "end" else "merge_order", text)
            if made is not None:
                options.append((made, op))
        if not options:
            return None
        if kind == "end":
            want = rng.choice(["head", "tail"])
            pool = [o for o in options if o[0].answer == want] or options
        else:  # mostly blocks that merge, now and then one that cannot
            merging = [o for o in options if int(o[0].answer) > int(o[1]["order"])]
            pool = merging if merging and rng.random() < 0.8 else options
        q, op = pool[rng.randrange(len(pool))]
    runner.apply(node, op)  # the dry run was on a copy: now the zone itself, for 'after'
    node.take_events()
    after = picture(node, runner.live("guest"))
    answer = q.answer
    if kind == "pfn":
        got = read_int(answer)
        assert got is not None
        answer = f"pfn {hexpfn(got)}"
    key_kind = "alloc" if kind == "pfn" else "list_add"
    return _exercise(kind, seed, q.ask, setup, before, after, answer, q.events, key_kind, q)


def _dry(node: Node, runner: Runner, op: dict[str, Any], kind: str, text: str) -> Question | None:
    try:
        q = ask(node, runner, op, kind, text)
    except ModelError:
        return None  # out of memory: not this one
    return None if q.answer == "none" else q


# --- report: the next batch ---------------------------------------------------------


def _report(rng: random.Random, seed: int) -> Exercise | None:
    node = _node(reporting=True)
    runner = Runner()
    node.take_events()
    setup = _setup(rng, node, runner, rng.randint(7, 12), [4, 4, 4, 4, 3, 2, 1])
    # the first pass (asked for at registration) reports what is free; then the guest
    # frees more and takes some back, and a free of order >= 4 asks for the next pass
    first_pass = START_SECONDS
    node.advance(first_pass)
    setup.append(
        f"wait until t = {first_pass:g} s: the first pass (asked for when the device "
        f"registered) reports every free block of order >= {PAGEBLOCK_ORDER}"
    )
    live = runner.live("guest")
    for pfn, order in rng.sample(live, k=rng.randint(len(live) // 2, max(len(live) - 1, 0))):
        runner.apply(node, {"op": "free", "pfn": pfn, "order": order})
        setup.append(f"free the order-{order} block at pfn {hexpfn(pfn)}")
    for _ in range(rng.randint(0, 2)):
        order = rng.choice([0, 1, 2])
        before_n = len(runner.live("guest"))
        runner.apply(node, {"op": "alloc", "order": order, "label": "guest"})
        if len(runner.live("guest")) > before_n:
            pfn = runner.live("guest")[-1][0]
            setup.append(f"allocate an order-{order} Movable block: it gets pfn {hexpfn(pfn)}")
    node.take_events()
    state = node.hinting_state()
    if state["state"] != "REQUESTED" or state["phase"] != "idle" or state["next_run"] is None:
        return None  # no pass asked for: nothing to predict
    before = picture(node, runner.live("guest"))
    events = _first_batch(node)
    batch = report_batch(events)
    if not batch:
        return None  # the zone is below the watermark gate: no batch
    wire = tuple(e.to_dict() for e in events)
    text = (
        f"The next reporting pass runs at t = {state['next_run']:g} s. Which blocks does "
        f"page_reporting_cycle() put in its first batch (up to {REPORT_CAPACITY})?"
    )
    answer = ", ".join(hexpfn(pfn) for pfn in batch)
    after = picture(node, runner.live("guest"))
    return _exercise("report", seed, text, setup, before, after, answer, wire, "report", None)


#: When the setup lets the first reporting pass (due 2 s after registration) run.
START_SECONDS: Final = 3


def _first_batch(node: Node) -> list[Event]:
    """Run the node's delayed work until the next pass has put its first batch back
    (started, filled, reported, drained), and return the events."""
    out: list[Event] = []
    reported = False
    while node.run_next_work() is not None:
        out += node.take_events()
        reported = reported or any(e.kind == "report" for e in out)
        if reported and node.hinting_state()["phase"] != "drain":
            break
        if not reported and node.hinting_state()["phase"] == "idle":
            break  # the pass ended without a batch
    return out


def report_batch(events: list[Event]) -> list[int]:
    """The pfns of the first ``report`` event's batch, in the order they were isolated
    (the batch fills from its end, ``sgl[--offset]``)."""
    for e in events:
        if e.kind == "report":
            return [pfn for pfn, _ in reversed(e.to_dict()["blocks"])]
    return []
