"""``buddyscope bench`` / ``python -m allocator_model.lab.bench``: the model's speed and size.

The workload is a seeded random mix of allocations and frees of orders 0..10 on one
1,048,576-page (4 GiB) zone.  Orders follow a geometric distribution (each order half
as likely as the one below, so most requests are small, as in a real kernel), the mix
keeps the zone about half full, and a free picks a random live allocation.  The op
sequence is generated before the clock starts, so only the model is timed.

Every figure comes from one run of this script, so that ratios compare like with like
on a shared, noisy machine:

* ops/s of the model with events off and on, and of ``PlainBuddy`` (a textbook buddy
  allocator) on the same script, as a yardstick;
* ops/s with ``hinting="hinting-v2"`` and ``"reporting"``: the same script, with virtual
  time passing (``SECONDS_PER_OP`` per op), so their workers run during the workload;
* bytes of model state per page, node creation time, per-page snapshot time;
* draining an idle 4 GiB guest: after the workload, free everything and advance the
  clock until the strategy is idle; every block of order >= the reporting/hinting
  order is then hinted or reported (``drain_*_unflagged`` counts those that are not).

Speeds are process CPU time (one core, whatever else the machine runs); node creation,
snapshot and drain times are real time, as the targets ask.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any, Protocol

from ..kernel.errors import OutOfMemory
from ..kernel.node import Node, ZoneSpec

BENCH_PAGES = 1 << 20
# Virtual time per op in the runs with hinting/reporting: 100 us, i.e. a guest doing
# 10,000 allocations and frees a second.  300,000 ops span 30 s of guest time: reporting
# passes run 2 s after a request, hinting-v2's worker 100 ms after one.
SECONDS_PER_OP = 1e-4
TICK_OPS = 1000  # the clock advances every TICK_OPS ops (TICK_OPS * SECONDS_PER_OP)
DRAIN_STEP_S = 1.0  # the drain advances the clock a second at a time


def _orders(rng: random.Random, n: int) -> list[int]:
    weights = [2.0**-k for k in range(11)]
    return rng.choices(range(11), weights=weights, k=n)


class PlainBuddy:
    """The yardstick: a textbook binary buddy allocator with none of the kernel's work.

    One set of free block addresses per order, lowest-address-agnostic; no zones,
    migratetypes, list order, watermarks, per-page state, host or validation.  It does
    far less per op than the model (or than the plain Python buddy allocators, with
    free lists and checks, that the speed target is relative to), so the ratio to it is
    a floor for the cost of faithfulness, measured in the same run.
    """

    def __init__(self, pages: int, max_order: int = 11) -> None:
        self.max_order = max_order
        self.free_sets: list[set[int]] = [set() for _ in range(max_order)]
        top = 1 << (max_order - 1)
        self.free_sets[max_order - 1].update(range(0, pages - pages % top, top))

    def alloc(self, order: int) -> int:
        free_sets = self.free_sets
        for k in range(order, self.max_order):
            if free_sets[k]:
                pfn = free_sets[k].pop()
                while k > order:
                    k -= 1
                    free_sets[k].add(pfn + (1 << k))
                return pfn
        raise OutOfMemory("plain buddy allocator is full")

    def free(self, pfn: int, order: int) -> None:
        free_sets = self.free_sets
        top = self.max_order - 1
        while order < top:
            buddy = pfn ^ (1 << order)
            if buddy not in free_sets[order]:
                break
            free_sets[order].remove(buddy)
            pfn &= buddy
            order += 1
        free_sets[order].add(pfn)


class Allocator(Protocol):
    """What a script replays against: the model, ``PlainBuddy``, or another allocator
    (``bench/plain_buddy.py``'s sorted-array one)."""

    def alloc(self, order: int, /) -> int: ...

    def free(self, pfn: int, order: int, /) -> None: ...


def make_script(ops: int, seed: int, pages: int) -> list[int]:
    """The op sequence: ``order`` (>= 0) allocates, ``~slot`` (< 0) frees a live slot.

    It keeps the zone about half full and frees a random live allocation; decided up
    front (as if every allocation succeeds), so the timed loop only calls the model.
    """
    rng = random.Random(seed)
    orders = _orders(rng, ops)
    target = pages // 2
    live: list[int] = []  # orders of live allocations, by slot (swap-remove)
    used = 0
    script: list[int] = []
    for k in range(ops):
        if live and (used > target or rng.random() < 0.4):
            j = int(rng.random() * len(live))
            used -= 1 << live[j]
            live[j] = live[-1]
            live.pop()
            script.append(~j)
        else:
            live.append(orders[k])
            used += 1 << orders[k]
            script.append(orders[k])
    return script


class Replay:
    """Replays a script; ``live`` holds the (pfn, order) of what is still allocated."""

    def __init__(self) -> None:
        self.live_pfn: list[int] = []  # -1 for an allocation that failed
        self.live_order: list[int] = []

    def run(self, node: Allocator, script: list[int], seconds_per_op: float = 0.0) -> float:
        """Replay ``script``; return the process CPU seconds spent.

        With ``seconds_per_op`` the node's clock advances every ``TICK_OPS`` ops, which
        runs the hinting/reporting work due by then (timed with the ops).
        """
        live_pfn, live_order = self.live_pfn, self.live_order
        alloc, free = node.alloc, node.free
        events = node.events if isinstance(node, Node) else None
        advance = node.advance if isinstance(node, Node) and seconds_per_op else None
        step = TICK_OPS if advance is not None else max(len(script), 1)
        chunks = [script[k : k + step] for k in range(0, len(script), step)]
        t0 = time.process_time()
        for chunk in chunks:
            for op in chunk:
                if op >= 0:
                    try:
                        live_pfn.append(alloc(op))
                    except OutOfMemory:
                        live_pfn.append(-1)
                    live_order.append(op)
                else:
                    j = ~op
                    pfn = live_pfn[j]
                    if pfn >= 0:
                        free(pfn, live_order[j])
                    live_pfn[j] = live_pfn[-1]
                    live_order[j] = live_order[-1]
                    live_pfn.pop()
                    live_order.pop()
                    if events is not None and len(events) > 100_000:
                        events.clear()
            if advance is not None:
                advance(step * seconds_per_op)
        return time.process_time() - t0

    def live(self) -> list[tuple[int, int]]:
        return [(p, k) for p, k in zip(self.live_pfn, self.live_order, strict=True) if p >= 0]


def run_script(node: Allocator, script: list[int], seconds_per_op: float = 0.0) -> float:
    """Replay ``script`` against ``node``; return the process CPU seconds spent."""
    return Replay().run(node, script, seconds_per_op)


def _ops_per_s(
    make: Any, script: list[int], seconds_per_op: float = 0.0
) -> tuple[float, Allocator]:
    gc.collect()
    node = make()
    return len(script) / run_script(node, script, seconds_per_op), node


def _unflagged(node: Node, min_order: int) -> tuple[int, int, list[str]]:
    """(free blocks of order >= min_order, how many are not hinted/reported, their zones)."""
    blocks = unflagged = 0
    zones: list[str] = []
    for z in node.zones:
        flagged = set(z.flagged_heads())
        for order in range(min_order, z.max_order):
            for mt in range(z.nr_mt):
                for i in z.lists.iterate(z.lists.sentinel(order, mt)):
                    blocks += 1
                    if i not in flagged:
                        unflagged += 1
                        if z.name not in zones:
                            zones.append(z.name)
    return blocks, unflagged, zones


def drain_idle_guest(hinting: str, script: list[int], seed: int) -> dict[str, Any]:
    """A busy 4 GiB guest (``default_zones``) goes idle: free everything, then advance
    the clock until the strategy has nothing left to do.  Real and CPU seconds."""
    node = Node(events=False, hinting=hinting, seed=seed)
    replay = Replay()
    replay.run(node, script, SECONDS_PER_OP)
    live = replay.live()
    gc.collect()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for pfn, order in live:
        node.free(pfn, order)
    virtual = 0.0
    while node.next_work_ns() is not None:  # every pass, to the end
        node.advance(DRAIN_STEP_S)
        virtual += DRAIN_STEP_S
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    min_order = node.hinting_state().get("min_order", node.hinting_state().get("order"))
    assert isinstance(min_order, int)
    blocks, unflagged, zones = _unflagged(node, min_order)
    key = hinting.replace("-", "_")
    return {
        f"drain_{key}_s": round(wall, 3),
        f"drain_{key}_cpu_s": round(cpu, 3),
        f"drain_{key}_virtual_s": virtual,
        f"drain_{key}_blocks": blocks,
        f"drain_{key}_unflagged": unflagged,
        f"drain_{key}_unflagged_zones": ",".join(zones) or "-",
    }


def measure(
    ops: int = 300_000, seed: int = 0, hinting: str = "none", drain: bool = True
) -> dict[str, Any]:
    """One run of every figure.  ``hinting`` is the strategy of the main runs."""
    spec = [ZoneSpec("Normal", 0, BENCH_PAGES)]
    script = make_script(ops, seed, BENCH_PAGES)
    gc.collect()
    t0 = time.perf_counter()
    node = Node(zones=spec, events=False, hinting=hinting, seed=seed)
    create_s = time.perf_counter() - t0
    del node

    tracemalloc.start()
    sized = Node(zones=spec, events=False, hinting=hinting, seed=seed)
    run_script(sized, script[: ops // 10])
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del sized

    def model(strategy: str, events: bool) -> Node:
        return Node(zones=spec, events=events, hinting=strategy, seed=seed)

    plain, _ = _ops_per_s(lambda: PlainBuddy(BENCH_PAGES), script)
    off, node_off = _ops_per_s(lambda: model(hinting, False), script, SECONDS_PER_OP)
    assert isinstance(node_off, Node)
    t0 = time.perf_counter()
    states = node_off.page_states()
    snapshot_s = time.perf_counter() - t0
    assert sum(len(v) for v in states.values()) == BENCH_PAGES
    del node_off, states
    on, _ = _ops_per_s(lambda: model(hinting, True), script, SECONDS_PER_OP)
    v2, _ = _ops_per_s(lambda: model("hinting-v2", False), script, SECONDS_PER_OP)
    rep, _ = _ops_per_s(lambda: model("reporting", False), script, SECONDS_PER_OP)
    result: dict[str, Any] = {
        "pages": BENCH_PAGES,
        "ops": ops,
        "hinting": hinting,
        "plain_buddy_ops_per_s": round(plain),
        "ops_per_s_events_off": round(off),
        "slowdown_vs_plain": round(plain / off, 2),
        "ops_per_s_events_on": round(on),
        "ops_per_s_hinting_v2": round(v2),
        "hinting_v2_vs_events_off": round(v2 / off, 3),
        "ops_per_s_reporting": round(rep),
        "reporting_vs_events_off": round(rep / off, 3),
        "bytes_per_page": round(current / BENCH_PAGES, 2),
        "node_create_s": round(create_s, 4),
        "snapshot_s": round(snapshot_s, 4),
    }
    if drain:
        for strategy in ("hinting-v2", "reporting"):
            result.update(drain_idle_guest(strategy, script, seed))
    return result


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each numeric figure's median over runs (other values from the first run)."""
    out: dict[str, Any] = {}
    for key, first in runs[0].items():
        values = [r[key] for r in runs]
        numeric = isinstance(first, int | float) and not isinstance(first, bool)
        out[key] = statistics.median(values) if numeric and len(runs) > 1 else first
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="buddyscope bench", description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=300_000, help="operations per run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=1, help="report the median of N runs")
    parser.add_argument("--no-drain", action="store_true", help="skip the idle-guest drains")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    runs = [measure(args.ops, args.seed, drain=not args.no_drain) for _ in range(args.runs)]
    result = median_of(runs)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>34}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
