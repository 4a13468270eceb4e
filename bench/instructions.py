"""Instructions per operation under callgrind: `.venv/bin/python bench/instructions.py`.

CPU time on this shared two-core machine swings by ±20 % from run to run; the number of
instructions a replay executes does not.  For each configuration this runs a child
process under ``valgrind --tool=callgrind`` that builds the allocator and the script
first, then replays the script (``allocator_model.lab.bench``'s ``make_script`` and
``run_script``: the bench's mix of orders 0-10 on a 4 GiB zone's worth of requests)
inside one ``functools.reduce`` call.  Callgrind collects only inside that C function
(``--collect-atstart=no --toggle-collect=functools_reduce``), so imports, boot and the
script's generation are not counted.  ``--tree DIR`` imports ``allocator_model`` from
another checkout (``git archive REV allocator_model | tar -x -C DIR``), to put a
before and an after side by side.

Configurations: ``default`` is ``Node(events=False)`` (whatever the tree's default guest
is), ``session`` the dashboard's default session (Linux 6.12 rules, free page
reporting, per-cpu lists, three zones; its clock ticks as in the bench), ``one-zone``
the bench's main figure (one 4 GiB Normal zone, 5.10, no pcp lists), ``sorted-array``
``bench/plain_buddy.py``'s plain allocator and ``sets`` the bench's ``PlainBuddy``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CONFIGS = ("default", "session", "one-zone", "sorted-array", "sets")
HERE = Path(__file__).resolve().parent


def _replay(config: str, ops: int) -> None:
    """The child: build, then replay inside functools.reduce (what callgrind counts)."""
    from allocator_model.kernel.node import Node, ZoneSpec
    from allocator_model.lab.bench import (
        BENCH_PAGES,
        SECONDS_PER_OP,
        PlainBuddy,
        make_script,
        run_script,
    )

    script = make_script(ops, 0, BENCH_PAGES)
    tick = 0.0
    allocator: Any
    if config == "default":
        allocator = Node(events=False)
    elif config == "session":
        allocator = Node(events=False, kernel="6.12", hinting="reporting")
        tick = SECONDS_PER_OP
    elif config == "one-zone":
        allocator = Node(zones=[ZoneSpec("Normal", 0, BENCH_PAGES)], events=False)
    elif config == "sorted-array":
        sys.path.insert(0, str(HERE))
        from plain_buddy import SortedArrayBuddy

        allocator = SortedArrayBuddy(BENCH_PAGES)
    else:
        allocator = PlainBuddy(BENCH_PAGES)
    functools.reduce(lambda _a, _b: run_script(allocator, script, tick), [0, 0])


def instructions_per_op(config: str, ops: int, tree: str | None = None) -> int:
    """Run one configuration under callgrind; its replay's instructions per op."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    env = dict(os.environ, PYTHONHASHSEED="0")  # the same dict layouts every run
    if tree is not None:
        env["PYTHONPATH"] = str(Path(tree).resolve())
    out = subprocess.run(
        [valgrind, "--tool=callgrind", "--collect-atstart=no",
         "--toggle-collect=functools_reduce", "--callgrind-out-file=/dev/null",
         sys.executable, __file__, "--child", config, "--ops", str(ops)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode != 0 or found is None:
        raise SystemExit(f"{config}: the child failed:\n{out.stderr[-2000:]}")
    collected = int(found.group(1))
    if collected == 0:
        raise SystemExit("nothing collected: is this Python's functools_reduce symbol stripped?")
    return round(collected / ops)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", choices=[[], *CONFIGS], default=[])
    parser.add_argument("--ops", type=int, default=30_000, help="operations replayed")
    parser.add_argument("--tree", help="import allocator_model from this directory")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--child", choices=CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _replay(args.child, args.ops)
        return 0
    result = {c: instructions_per_op(c, args.ops, args.tree) for c in args.configs or CONFIGS}
    if args.json:
        print(json.dumps(result))
    else:
        for config, count in result.items():
            print(f"{config:>14}: {count:,} instructions per op")
    return 0


if __name__ == "__main__":
    sys.exit(main())
