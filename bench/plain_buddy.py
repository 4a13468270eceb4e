"""The model next to a plain buddy allocator: `.venv/bin/python bench/plain_buddy.py`.

Issue 12 asks how fast the model is against "a plain sorted-array Python buddy
allocator with none of the kernel's bookkeeping".  ``SortedArrayBuddy`` below is one,
written for this comparison: one sorted Python list of free block offsets per order,
the lowest free address taken first (address-ordered first fit, which is what keeping
the arrays sorted is for), a split inserting the upper half in order, a free looking its
buddy up by bisection.  No zones, migratetypes, list order, pcp lists, watermarks,
per-page state, host, events or argument checks.

Both run the same seeded script in one process, interleaved ``--rounds`` times so that
both see the same machine: ``allocator_model.lab.bench``'s ``make_script`` (a random mix
of allocations and frees of orders 0-10, geometric, keeping a 4 GiB zone about half
full) replayed by its ``Replay``.  Speeds are process CPU time.  The model runs as the
bench's main figure does (one 1,048,576-page Normal zone, Linux 5.10 rules, events off)
and as the dashboard's default session does (three zones of a 4 GiB guest, 6.12 rules,
per-cpu lists, free page reporting with its clock ticking as in the bench).

The model runs twice, as the reference (the source tree's pure Python) and as ``make
compiled``'s mypyc build (``build/compiled``, or ``--compiled DIR``; ``--compiled none``
leaves it out).  One process cannot import both builds of ``allocator_model``, so every
measurement is a child process of its own (``--child``, the script generated before its
clock starts), the children interleaved round by round; each child reports which build
it imported and the parent checks that it is the one asked for.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from bisect import bisect_left, insort
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import allocator_model.kernel.zone
from allocator_model.kernel.errors import OutOfMemory
from allocator_model.kernel.node import Node, ZoneSpec
from allocator_model.lab.bench import BENCH_PAGES, SECONDS_PER_OP, Replay, make_script

MAX_ORDER = 11  # orders 0..10, as the model's default
COMPILED = Path(__file__).resolve().parents[1] / "build" / "compiled"  # make compiled


class SortedArrayBuddy:
    """A binary buddy allocator over ``pages`` pages: ``free_lists[k]`` is the sorted
    list of the offsets of the free blocks of order ``k``."""

    def __init__(self, pages: int, max_order: int = MAX_ORDER) -> None:
        self.max_order = max_order
        top = 1 << (max_order - 1)
        self.pages = pages - pages % top  # whole top-order blocks only
        self.free_lists: list[list[int]] = [[] for _ in range(max_order)]
        self.free_lists[max_order - 1] = list(range(0, self.pages, top))

    def alloc(self, order: int) -> int:
        """The lowest free block of the smallest order >= ``order`` that has one, split
        down to ``order``; return its offset."""
        free_lists = self.free_lists
        for k in range(order, self.max_order):
            blocks = free_lists[k]
            if blocks:
                offset = blocks.pop(0)
                while k > order:
                    k -= 1
                    insort(free_lists[k], offset + (1 << k))  # the upper half stays free
                return offset
        raise OutOfMemory(f"no free block of order >= {order}")

    def free(self, offset: int, order: int) -> None:
        """Give back the order-``order`` block at ``offset``, merging with free buddies."""
        free_lists = self.free_lists
        top = self.max_order - 1
        while order < top:
            blocks = free_lists[order]
            buddy = offset ^ (1 << order)
            # The buddy is adjacent, so nothing of this order lies between the two: where
            # the buddy is or would be in the list is also the block's own place.
            j = bisect_left(blocks, buddy)
            if j == len(blocks) or blocks[j] != buddy:
                blocks.insert(j, offset)
                return
            del blocks[j]
            offset &= buddy
            order += 1
        insort(free_lists[top], offset)  # top-order blocks never merge

    def free_pages(self) -> int:
        return sum(len(blocks) << k for k, blocks in enumerate(self.free_lists))

    def check(self, allocated: Sequence[tuple[int, int]]) -> None:
        """Raise AssertionError unless the free lists are sorted, aligned, fully merged
        and, with the ``(offset, order)`` blocks ``allocated``, tile the pages exactly."""
        covered: list[tuple[int, int]] = []
        top = self.max_order - 1
        for k, blocks in enumerate(self.free_lists):
            assert blocks == sorted(set(blocks)), f"order-{k} list not sorted or repeats"
            present = set(blocks)
            for offset in blocks:
                assert offset % (1 << k) == 0, f"order-{k} block {offset} misaligned"
                buddy = offset ^ (1 << k)
                assert k == top or buddy not in present, f"order-{k} {offset} not merged"
                covered.append((offset, offset + (1 << k)))
        for offset, k in allocated:
            assert offset % (1 << k) == 0, f"allocated order-{k} block {offset} misaligned"
            covered.append((offset, offset + (1 << k)))
        covered.sort()
        end = 0
        for start, stop in covered:
            assert start == end, f"pages {min(start, end)}..{max(start, end)} overlap or leak"
            end = stop
        assert end == self.pages, f"blocks cover {end} of {self.pages} pages"


def _one_zone(pages: int) -> Node:
    return Node(zones=[ZoneSpec("Normal", 0, pages)], events=False)


def _default_session(pages: int) -> Node:
    del pages  # the default guest's own three zones (4 GiB)
    return Node(events=False, kernel="6.12", hinting="reporting")


RUNNERS: dict[str, tuple[Callable[[int], Any], float]] = {
    "sorted_array_buddy": (SortedArrayBuddy, 0.0),
    "model_one_zone_5_10": (_one_zone, 0.0),
    "model_default_session": (_default_session, SECONDS_PER_OP),
}
# The model's runners again on the compiled build: (its name in the results, the runner)
COMPILED_RUNNERS = {
    "compiled_one_zone_5_10": "model_one_zone_5_10",
    "compiled_default_session": "model_default_session",
}


def _build() -> str:
    """Which build of the model this process imported."""
    return "compiled" if allocator_model.kernel.zone.__file__.endswith(".so") else "reference"


def _cpu_s(name: str, pages: int, script: list[int]) -> float:
    make, seconds_per_op = RUNNERS[name]
    gc.collect()
    allocator = make(pages)
    t0 = time.process_time()
    Replay().run(allocator, script, seconds_per_op)
    return time.process_time() - t0


def _child_cpu_s(
    runner: str, build: str, compiled: Path | None, ops: int, seed: int, pages: int
) -> float:
    """One measurement in a child process importing the reference or the compiled build."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    if build == "compiled":
        assert compiled is not None
        env.update(PYTHONPATH=str(compiled), PYTHONSAFEPATH="1")
    argv = [sys.executable, __file__, "--child", runner, "--ops", str(ops), "--seed", str(seed)]
    out = subprocess.run(
        [*argv, "--pages", str(pages)], capture_output=True, text=True, env=env, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"{runner} ({build}): the child failed:\n{out.stderr[-2000:]}")
    child = json.loads(out.stdout)
    if child["build"] != build:
        raise SystemExit(f"{runner}: asked for the {build} build, the child imported the "
                         f"{child['build']} one (is {compiled} built? make compiled)")  # fmt: skip
    return float(child["cpu_s"])


def measure(
    ops: int, rounds: int, seed: int, pages: int = BENCH_PAGES, compiled: Path | None = None
) -> dict[str, Any]:
    """Best and median ops/s of each runner over ``rounds`` interleaved rounds, and the
    model's ratios to the plain allocator (best against best, median against median);
    with ``compiled`` (a ``make compiled`` tree) the model's runners on that build too."""
    runs = [(name, name, "reference") for name in RUNNERS]
    if compiled is not None:
        runs += [(name, runner, "compiled") for name, runner in COMPILED_RUNNERS.items()]
    times: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    for _ in range(rounds):
        for name, runner, build in runs:
            times[name].append(_child_cpu_s(runner, build, compiled, ops, seed, pages))
    result: dict[str, Any] = {"ops": ops, "rounds": rounds, "pages": pages}
    for name, seconds in times.items():
        seconds.sort()
        result[f"{name}_ops_per_s_best"] = round(ops / seconds[0])
        result[f"{name}_ops_per_s_median"] = round(ops / seconds[len(seconds) // 2])
    for name in times:
        if name != "sorted_array_buddy":
            for which in ("best", "median"):
                plain = result[f"sorted_array_buddy_ops_per_s_{which}"]
                result[f"{name}_vs_plain_{which}"] = round(
                    result[f"{name}_ops_per_s_{which}"] / plain, 3
                )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=300_000, help="operations per run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--pages",
        type=int,
        default=BENCH_PAGES,
        help="pages of the script's zone (default 4 GiB; the default session is always its "
        "own 4 GiB guest)",
    )
    parser.add_argument(
        "--compiled",
        default=str(COMPILED),
        help="make compiled's tree to run the model on as well (default build/compiled if "
        "it is built; 'none' runs the reference only)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--child", choices=RUNNERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        script = make_script(args.ops, args.seed, args.pages)
        print(json.dumps({"build": _build(), "cpu_s": _cpu_s(args.child, args.pages, script)}))
        return 0
    compiled = None if args.compiled == "none" else Path(args.compiled).resolve()
    if compiled is not None and not (compiled / "allocator_model").is_dir():
        if args.compiled != str(COMPILED):
            raise SystemExit(f"{compiled} has no allocator_model: run make compiled")
        print("build/compiled is not built (make compiled): the reference only", file=sys.stderr)
        compiled = None
    result = measure(args.ops, args.rounds, args.seed, args.pages, compiled)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>40}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
