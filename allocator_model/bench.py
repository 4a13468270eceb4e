"""``buddyscope bench`` / ``python -m allocator_model.bench``: the model's speed and size.

The workload is a seeded random mix of allocations and frees of orders 0..10 on one
1,048,576-page (4 GiB) zone.  Orders follow a geometric distribution (each order half
as likely as the one below, so most requests are small, as in a real kernel), the mix
keeps the zone about half full, and a free picks a random live allocation.  The op
sequence is generated before the clock starts, so only the model is timed.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

from .errors import OutOfMemory
from .node import Node, ZoneSpec

BENCH_PAGES = 1 << 20


def _orders(rng: random.Random, n: int) -> list[int]:
    weights = [2.0**-k for k in range(11)]
    return rng.choices(range(11), weights=weights, k=n)


class PlainBuddy:
    """The yardstick: a textbook binary buddy allocator with none of the kernel's work.

    One set of free block addresses per order, lowest-address-agnostic; no zones,
    migratetypes, list order, watermarks, per-page state or validation.  The spec's
    speed target is relative to allocators like this one, so the bench measures both
    in the same run and reports the ratio (this machine is shared and noisy).
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


def run_script(node: Node | PlainBuddy, script: list[int]) -> float:
    """Replay ``script`` against ``node``; return the seconds spent."""
    live_pfn: list[int] = []
    live_order: list[int] = []
    alloc, free = node.alloc, node.free
    events = node.events if isinstance(node, Node) else None
    t0 = time.perf_counter()
    for op in script:
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
    return time.perf_counter() - t0


def measure(ops: int = 300_000, seed: int = 0, hinting: str = "none") -> dict[str, Any]:
    spec = [ZoneSpec("Normal", 0, BENCH_PAGES)]
    script = make_script(ops, seed, BENCH_PAGES)
    gc.collect()
    t0 = time.perf_counter()
    node = Node(zones=spec, events=False, hinting=hinting, seed=seed)
    create_s = time.perf_counter() - t0

    tracemalloc.start()
    sized = Node(zones=spec, events=False, hinting=hinting, seed=seed)
    run_script(sized, script[: ops // 10])
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del sized

    secs_plain = run_script(PlainBuddy(BENCH_PAGES), script)
    secs_off = run_script(node, script)
    t0 = time.perf_counter()
    states = node.page_states()
    snapshot_s = time.perf_counter() - t0
    assert sum(len(v) for v in states.values()) == BENCH_PAGES

    node_on = Node(zones=spec, events=True, hinting=hinting, seed=seed)
    secs_on = run_script(node_on, script)
    return {
        "pages": BENCH_PAGES,
        "ops": ops,
        "hinting": hinting,
        "plain_buddy_ops_per_s": round(ops / secs_plain),
        "ops_per_s_events_off": round(ops / secs_off),
        "slowdown_vs_plain": round(secs_off / secs_plain, 2),
        "ops_per_s_events_on": round(ops / secs_on),
        "bytes_per_page": round(current / BENCH_PAGES, 2),
        "node_create_s": round(create_s, 4),
        "snapshot_s": round(snapshot_s, 4),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="buddyscope bench", description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=300_000, help="operations per run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    result = measure(args.ops, args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
