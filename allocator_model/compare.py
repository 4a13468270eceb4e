"""Run one workload under each strategy and compare what the host gets back.

``compare()`` is the single implementation behind ``buddyscope compare``, the
backend and the page.  For each strategy it builds the same node, applies the same
expanded workload (same seed), then lets the idle guest drain: it runs the pending
hinting/reporting work until none is left (or ``drain_limit_s`` of virtual time
passes), and measures:

* memory returned to the host over time (discarded pages, resident pages);
* report calls and pages reported; blocks and pages isolated for the host;
* refaults (guest touches of discarded pages);
* allocations that had to take a hinted/reported block (the cost of hinting);
* the virtual time from the end of the workload to the last report (time to drain).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .node import STRATEGIES, Node, ZoneSpec
from .workload import BUILTIN, Runner, WorkloadError, expand

# A 1 GiB guest in one zone: large enough for the reporting zone gate, small enough
# to run with events on in well under a second per strategy.
COMPARE_ZONES = (ZoneSpec("Normal", 0, 262144),)


@dataclass
class StrategyResult:
    strategy: str
    returned_pages: int = 0  # discarded by the host, cumulative
    resident_pages: int = 0  # at the end
    report_calls: int = 0
    pages_reported: int = 0
    isolated_blocks: int = 0
    isolated_pages: int = 0
    refaults: int = 0
    allocations_taking_flagged: int = 0
    failed_allocations: int = 0
    drain_time_s: float | None = None  # last change of memory -> last report; None: no report
    workload_end_s: float = 0.0
    series: list[tuple[float, int, int, int]] = field(
        default_factory=list
    )  # t, returned, resident, refaults


def _load(workload: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(workload, str):
        if workload not in BUILTIN:
            raise WorkloadError(
                f"unknown workload {workload!r}: built-in ones are " + ", ".join(sorted(BUILTIN))
            )
        return BUILTIN[workload]
    return workload


def run_strategy(
    strategy: str,
    ops: list[dict[str, Any]],
    *,
    seed: int = 0,
    zones: Sequence[ZoneSpec] = COMPARE_ZONES,
    kernel: str = "5.10",
    drain_limit_s: float = 600.0,
    node_options: dict[str, Any] | None = None,
) -> StrategyResult:
    node = Node(zones=zones, kernel=kernel, hinting=strategy, seed=seed, **(node_options or {}))
    runner = Runner()
    result = StrategyResult(strategy)
    last_report: list[float] = []
    last_change = [0.0]  # when the guest last allocated or freed memory

    def consume() -> None:
        for e in node.take_events():
            kind = e.kind
            if kind == "isolate":
                result.isolated_blocks += 1
                result.isolated_pages += 1 << e.to_dict()["order"]
            elif kind == "report":
                last_report.append(node.clock)
            elif kind in ("alloc", "free"):
                last_change[0] = node.clock
            elif kind == "flag_clear" and e.to_dict()["reason"] == "allocation takes the list head":
                result.allocations_taking_flagged += 1
        host = node.host
        result.series.append((node.clock, host.discarded_pages, host.resident_pages, host.refaults))

    def run_work_until(target_s: float) -> None:
        """``advance`` one work item at a time, so each report is seen at its own time."""
        target = round(target_s * 1e9)
        while (due := node.next_work_ns()) is not None and due <= target:
            node.run_next_work()
            consume()
        node.advance_to_ns(target)

    consume()
    for n, op in enumerate(ops):
        if (
            op.get("op") == "advance"
            and isinstance(op.get("seconds"), int | float)
            and op["seconds"] >= 0
        ):
            run_work_until(node.clock + op["seconds"])
        else:
            runner.apply(node, op, f"operation {n}")
        consume()
    result.workload_end_s = end = node.clock
    run_work_until(end + drain_limit_s)
    reports_after_idle = [t for t in last_report if t >= last_change[0]]
    if reports_after_idle:
        result.drain_time_s = round(reports_after_idle[-1] - last_change[0], 6)
    host = node.host.stats()
    result.returned_pages = host.discarded_pages
    result.resident_pages = host.resident_pages
    result.report_calls = host.report_calls
    result.pages_reported = host.pages_reported
    result.refaults = host.refaults
    result.failed_allocations = runner.failed_allocations
    return result


def compare(
    workload: str | list[dict[str, Any]],
    seed: int = 0,
    strategies: Sequence[str] = STRATEGIES,
    **options: Any,
) -> list[StrategyResult]:
    """The same workload (same seed) under each strategy."""
    ops = expand(_load(workload), seed)
    return [run_strategy(s, ops, seed=seed, **options) for s in strategies]


ROWS: tuple[tuple[str, Callable[[StrategyResult], str]], ...] = (
    ("memory returned to the host (MiB)", lambda r: f"{r.returned_pages * 4 / 1024:.1f}"),
    ("host-resident at the end (MiB)", lambda r: f"{r.resident_pages * 4 / 1024:.1f}"),
    ("report calls", lambda r: str(r.report_calls)),
    ("pages reported", lambda r: str(r.pages_reported)),
    ("blocks isolated", lambda r: str(r.isolated_blocks)),
    ("refaults (pages)", lambda r: str(r.refaults)),
    ("allocations taking a hinted/reported block", lambda r: str(r.allocations_taking_flagged)),
    (
        "time to drain the idle guest (s)",
        lambda r: "-" if r.drain_time_s is None else f"{r.drain_time_s:.3f}",
    ),
)


def format_table(results: Sequence[StrategyResult]) -> str:
    width = max(len(label) for label, _ in ROWS)
    cols = [r.strategy for r in results]
    colw = max(12, *(len(c) for c in cols))
    lines = [" " * width + "  " + "  ".join(c.rjust(colw) for c in cols)]
    for label, fmt in ROWS:
        lines.append(label.ljust(width) + "  " + "  ".join(fmt(r).rjust(colw) for r in results))
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="buddyscope compare",
        description="Run one workload under each hinting strategy and compare the results.",
    )
    parser.add_argument(
        "--workload",
        default="buffer-reuse",
        help=f"built-in: {', '.join(sorted(BUILTIN))}, or a JSON file",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kernel", default="5.10", choices=("5.7", "5.10"))
    parser.add_argument("--json", action="store_true", help="print JSON (with the time series)")
    args = parser.parse_args(argv)
    workload: str | list[dict[str, Any]] = args.workload
    if args.workload not in BUILTIN:
        try:
            with open(args.workload) as f:
                workload = json.load(f)
        except (OSError, ValueError) as exc:
            parser.error(f"cannot read workload {args.workload!r}: {exc}")
    try:
        results = compare(workload, args.seed, kernel=args.kernel)
    except WorkloadError as exc:
        parser.error(str(exc))
    if args.json:
        print(json.dumps([asdict(r) for r in results]))
    else:
        print(format_table(results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
