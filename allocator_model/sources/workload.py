"""Workloads: what the guest does, as a list of plain operations.

A workload is a list of dicts (JSON/YAML friendly).  ``expand`` flattens ``repeat``
and seeded ``random`` mixes into primitive operations, so that one primitive
operation is one step of a timeline and a run is exactly reproducible.  ``Runner``
applies them to a node; its state (the live allocations under each label) is plain
data, so it can be copied with the node for a timeline checkpoint.

Primitive operations::

    {"op": "alloc", "order": 0, "migratetype": "Movable", "zone": None, "count": 1,
     "label": "buf", "touch": True}
    {"op": "free", "label": "buf", "fraction": 1.0}    # the oldest part of a label
    {"op": "free", "label": "buf", "count": 3}         # the 3 oldest blocks
    {"op": "free", "label": "buf", "start": 0, "stride": 2, "count": 31}
                                                      # by allocation order: 0, 2, 4, ...
    {"op": "free", "pfn": 4096, "order": 0}            # one block by pfn
    {"op": "free_pick", "label": "mix", "pick": 0.37}  # one random live block
    {"op": "free_all"}
    {"op": "touch", "label": "buf"}                   # the guest writes it again
    {"op": "touch", "pfn": 4096, "order": 0}          # one allocated block
    {"op": "advance", "seconds": 2.5}
    {"op": "drain_pcp"}
    {"op": "phase", "text": "...", "notes": "..."}    # narration (notes: the presenter's)

Compound operations (expanded before running)::

    {"op": "repeat", "times": 3, "ops": [...]}
    {"op": "random", "steps": 1000, "orders": [8, 4, 2, 1], "migratetypes":
     {"Movable": 3, "Unmovable": 1}, "alloc_ratio": 0.6, "label": "mix"}

Validation with line-and-field messages lives in the backend's pydantic models; this
module checks what it needs and raises ``WorkloadError`` naming the operation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from ..kernel.errors import ModelError, OutOfMemory
from ..kernel.events import hexpfn

if TYPE_CHECKING:
    from ..kernel.node import Node

PRIMITIVE = ("alloc", "free", "free_pick", "free_all", "touch", "advance", "drain_pcp", "phase")
MAX_EXPANDED = 1_000_000


class WorkloadError(ModelError, ValueError):
    """A workload operation that cannot be expanded or applied."""


def _get(
    op: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = None
) -> Any:
    if key not in op:
        if default is None:
            raise WorkloadError(f"{where}: missing field {key!r}")
        return default
    value = op[key]
    if (
        isinstance(value, bool)
        and kind is not bool
        and bool not in (kind if isinstance(kind, tuple) else (kind,))
    ):
        raise WorkloadError(f"{where}: field {key!r} must be {_kind_name(kind)}, got {value!r}")
    if not isinstance(value, kind):
        raise WorkloadError(f"{where}: field {key!r} must be {_kind_name(kind)}, got {value!r}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(
        {
            "int": "an integer",
            "float": "a number",
            "str": "a string",
            "list": "a list",
            "dict": "an object",
            "bool": "true or false",
        }.get(k.__name__, k.__name__)
        for k in kinds
    )


def expanded_length(ops: list[dict[str, Any]], limit: int = MAX_EXPANDED) -> int:
    """How many primitive operations ``ops`` expands to, counted without expanding (so
    ``repeat`` 10**5 times ``repeat`` 10**5 times costs nothing); a count over ``limit``
    stops the counting and raises ``WorkloadError``."""
    total = 0
    # (operations, multiplier, where): each nested list counts times its repeats.
    stack: list[tuple[Any, int, str]] = [(ops, 1, "workload")]
    while stack:
        items, times, where = stack.pop()
        if not isinstance(items, list):
            raise WorkloadError(f"{where}: expected a list of operations")
        for n, op in enumerate(items):
            here = f"{where}[{n}]"
            kind = op.get("op") if isinstance(op, dict) else None
            if kind == "repeat":
                inner = _get(op, "times", int, here)
                if inner > 0:
                    stack.append((_get(op, "ops", list, here), times * inner, f"{here}.ops"))
                continue
            steps = _get(op, "steps", int, here) if kind == "random" else 1
            total += times * max(steps, 0)
            if total > limit:
                raise WorkloadError(f"{here}: the workload expands to more than {limit} steps")
    return total


def expand(
    ops: list[dict[str, Any]], seed: int = 0, limit: int = MAX_EXPANDED
) -> list[dict[str, Any]]:
    """Flatten ``repeat`` and ``random`` into primitive operations (deterministic).
    A workload of more than ``limit`` of them is refused before any is made."""
    expanded_length(ops, limit)
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    _expand_into(ops, rng, out, "workload")
    return out


def max_step_blocks(ops: list[dict[str, Any]]) -> tuple[int, int]:
    """``(index, blocks)``: the primitive operation of ``ops`` that may allocate, free
    or touch the most blocks in one step, and that many (an upper bound: a label holds
    at most what was allocated under it and not certainly freed since).  A step's work
    and events grow with it, so a server bounds it."""
    live: dict[str, int] = {}
    worst = (0, 0)
    for n, op in enumerate(ops):
        kind = op.get("op")
        label = op.get("label")
        if kind == "alloc":
            count = op.get("count", 1)
            blocks = count if isinstance(count, int) else 0
            key = label if isinstance(label, str) else "_"
            live[key] = live.get(key, 0) + blocks
        elif kind == "free_all":
            blocks = sum(live.values())
            live.clear()
        elif kind in ("free", "touch") and isinstance(label, str) and "pfn" not in op:
            have = live.get(label, 0)
            blocks = have
            count = op.get("count")
            if kind == "free" and isinstance(count, int):
                blocks = min(have, count)
                if "start" not in op and "stride" not in op:
                    live[label] = have - blocks  # the oldest ``count`` go
            elif kind == "free" and "start" not in op and "stride" not in op:
                # x - round(x * f) never decreases as x grows: ``have`` bounds what is left
                fraction = op.get("fraction", 1.0)
                if isinstance(fraction, int | float) and 0 <= fraction <= 1:
                    live[label] = have - round(have * fraction)
        elif kind == "free_pick" and isinstance(label, str):
            blocks = 1
            live[label] = max(0, live.get(label, 0) - 1)
        else:
            blocks = 1
        if blocks > worst[1]:
            worst = (n, blocks)
    return worst


def _expand_into(
    ops: list[dict[str, Any]], rng: random.Random, out: list[dict[str, Any]], where: str
) -> None:
    if not isinstance(ops, list):
        raise WorkloadError(f"{where}: expected a list of operations")
    for n, op in enumerate(ops):
        here = f"{where}[{n}]"
        if not isinstance(op, dict) or not isinstance(op.get("op"), str):
            raise WorkloadError(f'{here}: an operation is an object with an "op" name')
        kind = op["op"]
        if kind == "repeat":
            times = _get(op, "times", int, here)
            if times < 0:
                raise WorkloadError(f"{here}: field 'times' must be >= 0")
            inner = _get(op, "ops", list, here)
            if not expanded_length(inner):
                continue  # 10**5 repeats of nothing: nothing, at once
            for _ in range(times):
                _expand_into(inner, rng, out, f"{here}.ops")
        elif kind == "random":
            _expand_random(op, rng, out, here)
        elif kind in PRIMITIVE:
            if kind == "phase":
                _check_phase(op, here)
            out.append(dict(op))
        else:
            raise WorkloadError(
                f"{here}: unknown operation {kind!r}; use one of "
                + ", ".join((*PRIMITIVE, "repeat", "random"))
            )
        if len(out) > MAX_EXPANDED:
            raise WorkloadError(f"{here}: the workload expands to more than {MAX_EXPANDED} steps")


def _check_phase(op: dict[str, Any], where: str) -> None:
    """A phase narrates (``text``) and may carry presenter notes: what to point at and
    what to ask the class (shown in presenter mode)."""
    _get(op, "text", str, where)
    notes = op.get("notes")
    if notes is not None and (not isinstance(notes, str) or not notes.strip()):
        raise WorkloadError(f"{where}: 'notes' must be a non-empty string (presenter notes)")


def _expand_random(
    op: dict[str, Any], rng: random.Random, out: list[dict[str, Any]], where: str
) -> None:
    steps = _get(op, "steps", int, where)
    weights = _get(op, "orders", list, where, [8, 4, 2, 1])
    mts = _get(op, "migratetypes", dict, where, {"Movable": 1})
    ratio = float(_get(op, "alloc_ratio", (int, float), where, 0.6))
    label = _get(op, "label", str, where, "random")
    if (
        not weights
        or any(not isinstance(w, int | float) or w < 0 for w in weights)
        or not sum(weights)
    ):
        raise WorkloadError(
            f"{where}: 'orders' must be a list of non-negative weights, one per order"
        )
    if not 0 <= ratio <= 1:
        raise WorkloadError(f"{where}: 'alloc_ratio' must be between 0 and 1")
    names = list(mts)
    mt_weights = [mts[m] for m in names]
    for _ in range(steps):
        if rng.random() < ratio:
            order = rng.choices(range(len(weights)), weights=weights)[0]
            mt = rng.choices(names, weights=mt_weights)[0]
            out.append({"op": "alloc", "order": order, "migratetype": mt, "label": label})
        else:
            out.append({"op": "free_pick", "label": label, "pick": rng.random()})


@dataclass
class Runner:
    """Applies primitive operations; remembers the live blocks under each label.

    Each label maps allocation sequence numbers (0, 1, 2, ... in allocation order) to
    the live block, so ``free`` can pick blocks by their place in that order - e.g.
    every other block of a run of order-9 allocations, whose buddies stay allocated.
    """

    labels: dict[str, dict[int, tuple[int, int]]] = field(default_factory=dict)
    next_seq: dict[str, int] = field(default_factory=dict)
    failed_allocations: int = 0

    def live(self, label: str) -> list[tuple[int, int]]:
        return list(self.labels.get(label, {}).values())

    def apply(self, node: Node, op: dict[str, Any], where: str = "operation") -> str:
        """Apply one primitive operation; return a one-line summary."""
        kind = op.get("op")
        if kind == "alloc":
            return self._alloc(node, op, where)
        if kind == "free":
            return self._free(node, op, where)
        if kind == "free_pick":
            live = self.labels.get(_get(op, "label", str, where), {})
            if not live:
                return "nothing to free"
            pick = float(_get(op, "pick", (int, float), where))
            j = min(int(pick * len(live)), len(live) - 1)
            seq = next(islice(live, j, None))
            pfn, order = live[seq]
            node.free(pfn, order)
            del live[seq]
            return f"freed the order-{order} block at pfn {hexpfn(pfn)}"
        if kind == "free_all":
            n = 0
            for label in sorted(self.labels):
                for pfn, order in self.labels[label].values():
                    node.free(pfn, order)
                    n += 1
            self.labels.clear()
            return f"freed every allocation ({n} blocks)"
        if kind == "touch" and "pfn" in op:
            pfn = _get(op, "pfn", int, where)
            order = _get(op, "order", int, where, 0)
            node.touch(pfn, order)
            return f"touched the order-{order} block at pfn {hexpfn(pfn)}"
        if kind == "touch":
            label = _get(op, "label", str, where)
            for pfn, order in self.live(label):
                node.touch(pfn, order)
            return f"touched {label!r}"
        if kind == "advance":
            seconds = _get(op, "seconds", (int, float), where)
            if seconds < 0:
                raise WorkloadError(f"{where}: 'seconds' must be >= 0")
            node.advance(seconds)
            return f"advanced the clock by {seconds} s"
        if kind == "drain_pcp":
            node.drain_pcp()
            return "drained the per-cpu lists"
        if kind == "phase":
            return str(_get(op, "text", str, where))
        raise WorkloadError(f"{where}: {kind!r} is not a primitive operation (expand() first)")

    def _alloc(self, node: Node, op: dict[str, Any], where: str) -> str:
        order = _get(op, "order", int, where)
        count = _get(op, "count", int, where, 1)
        mt = _get(op, "migratetype", str, where, "Movable")
        zone = op.get("zone")
        touch = bool(op.get("touch", True))
        label = _get(op, "label", str, where, "_")
        got = self.labels.setdefault(label, {})
        seq = self.next_seq.get(label, 0)
        for done in range(count):
            try:
                got[seq] = (node.alloc(order, mt, zone, touch), order)
            except OutOfMemory:
                self.failed_allocations += count - done
                self.next_seq[label] = seq
                return f"allocated {done} of {count} order-{order} {mt} blocks: out of memory"
            seq += 1
        self.next_seq[label] = seq
        return f"allocated {count} order-{order} {mt} block{'s' if count != 1 else ''}"

    def _free(self, node: Node, op: dict[str, Any], where: str) -> str:
        if "pfn" in op:
            pfn = _get(op, "pfn", int, where)
            order = _get(op, "order", int, where, 0)
            node.free(pfn, order)
            for live in self.labels.values():
                for seq, block in list(live.items()):
                    if block == (pfn, order):
                        del live[seq]
            return f"freed the order-{order} block at pfn {hexpfn(pfn)}"
        label = _get(op, "label", str, where)
        live = self.labels.get(label, {})
        if "stride" in op or "start" in op:
            # by allocation order: blocks start, start + stride, ... (count of them)
            start = _get(op, "start", int, where, 0)
            stride = _get(op, "stride", int, where, 1)
            count = _get(op, "count", int, where, len(live))
            if stride < 1 or start < 0 or count < 0:
                raise WorkloadError(f"{where}: 'start'/'count' must be >= 0 and 'stride' >= 1")
            seqs = [s for s in range(start, start + stride * count, stride) if s in live]
        elif "count" in op:
            seqs = list(islice(live, _get(op, "count", int, where)))
        else:
            fraction = float(_get(op, "fraction", (int, float), where, 1.0))
            if not 0 <= fraction <= 1:
                raise WorkloadError(f"{where}: 'fraction' must be between 0 and 1")
            seqs = list(islice(live, round(len(live) * fraction)))
        for seq in seqs:
            pfn, order = live[seq]
            node.free(pfn, order)
            del live[seq]
        return f"freed {len(seqs)} block{'s' if len(seqs) != 1 else ''} of {label!r}"


# --- built-in workloads (used by ``compare`` and the scenario library) ------------------

BUILTIN: dict[str, list[dict[str, Any]]] = {
    "buffer-reuse": [
        {"op": "phase", "text": "The guest fills a large buffer (2 MiB blocks), touching it."},
        {"op": "alloc", "order": 9, "count": 160, "label": "buffer"},
        {"op": "phase", "text": "It frees the buffer and sits idle: hinting/reporting runs."},
        {"op": "free", "label": "buffer"},
        {"op": "advance", "seconds": 10},
        {"op": "phase", "text": "It allocates and touches the buffer again: refaults."},
        {"op": "alloc", "order": 9, "count": 160, "label": "buffer"},
        {"op": "advance", "seconds": 5},
        {"op": "free", "label": "buffer", "fraction": 0.5},
        {"op": "advance", "seconds": 10},
    ],
    "random-mix": [
        {"op": "phase", "text": "A seeded random mix of small and large allocations."},
        {
            "op": "random",
            "steps": 3000,
            "orders": [16, 8, 4, 2, 1, 1, 1, 1, 1, 2, 1],
            "migratetypes": {"Movable": 6, "Unmovable": 2, "Reclaimable": 1},
            "alloc_ratio": 0.55,
        },
        {"op": "advance", "seconds": 5},
        {"op": "free_all"},
        {"op": "phase", "text": "Everything is freed: the guest is idle."},
        {"op": "advance", "seconds": 60},
    ],
    "idle": [
        {"op": "phase", "text": "A guest that touched all its memory once, then went idle."},
        {"op": "alloc", "order": 10, "count": 200, "label": "warm"},
        {"op": "free", "label": "warm"},
        {"op": "advance", "seconds": 60},
    ],
}
