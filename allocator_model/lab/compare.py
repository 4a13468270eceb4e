"""Run one workload under each strategy and compare what the host gets back.

``compare()`` is the single implementation behind ``buddyscope compare``, the
backend and the page.  For each strategy it builds the same node, applies the same
expanded workload (same seed), then lets the idle guest drain: it runs the pending
hinting/reporting work until none is left (or ``drain_limit_s`` of virtual time
passes), and measures:

* memory returned to the host over time (discarded pages, resident pages), and how
  much it had got back at a few common times after the guest's last free (see
  ``SAMPLE_OFFSETS_S``);
* report calls and pages reported; blocks and pages isolated for the host;
* refaults (guest touches of discarded pages);
* allocations that had to take a hinted/reported block (the cost of hinting);
* the virtual time from the guest's last free to the last report (time to drain).

Every strategy runs on the same kernel rules (5.7 or 5.10: 5.3 has no reporting), with
one CPU's per-cpu lists; v2 hinting on those rules is a labelled "what if"
(``what_if_notes``).

``table()`` turns the results into the rows every front end shows (the command line's
``format_table``, the REST endpoint and the page), so they all print the same figures.
"""

from __future__ import annotations

import argparse
import bisect
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..kernel.node import STRATEGIES, Node, ZoneSpec, what_if
from ..sources.workload import BUILTIN, Runner, WorkloadError, expand

# A 1 GiB guest in one zone: large enough for the reporting zone gate, small enough
# to run with events on in well under a second per strategy.
COMPARE_ZONES = (ZoneSpec("Normal", 0, 262144),)

#: When to read "memory returned so far", as offsets from the guest's last free (the
#: start of the final idle stretch, when both designs have the most to give back).
#: Not the end of the workload: the built-in workloads and the scenarios end with 10 to
#: 60 s of idle ``advance``, by which time every strategy has long finished.  The offsets
#: fall between the kernel's delays, never on them: +0.5 s is after v2's 100 ms delay and
#: its one cycle of batches but before reporting's 2 s delay; +2.5 s is after reporting's
#: first pass; +10 s after five passes 2 s apart (a 1 GiB idle guest needs four); +60 s
#: is the long run.  The time the last strategy's last report happened ("all drained")
#: is added to these.
SAMPLE_OFFSETS_S: tuple[float, ...] = (0.0, 0.5, 2.5, 10.0, 60.0)


@dataclass(frozen=True)
class ReturnedAt:
    """Memory the host had got back (discarded pages, cumulative) by virtual time ``t_s``."""

    t_s: float
    when: str  # what the time is: "last free", "last free + 0.5 s", "all drained"
    pages: int


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
    drain_time_s: float | None = None  # last free -> last report; None: no report after it
    workload_end_s: float = 0.0
    last_free_s: float | None = None  # the guest's last free; None: it never freed
    drained_s: float | None = None  # the last report; None: no report at all
    until_s: float = 0.0  # the run stopped here (nothing changes after the last sample)
    returned_at: list[ReturnedAt] = field(default_factory=list)  # see SAMPLE_OFFSETS_S
    series: list[tuple[float, int, int, int]] = field(
        default_factory=list
    )  # t, returned, resident, refaults: after every operation and work item


class ComparisonStopped(Exception):
    """``stop()`` said to give up (the caller's budget ran out, or nobody waits)."""


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
    stop: Callable[[], bool] | None = None,
) -> StrategyResult:
    """One strategy's run; ``stop`` is asked after every operation and work item and
    ends the run with :class:`ComparisonStopped` when it says so."""
    # One CPU's per-cpu lists unless the options say otherwise, as on a real kernel.
    options = {"pcp": True, **(node_options or {})}
    node = Node(zones=zones, kernel=kernel, hinting=strategy, seed=seed, **options)
    runner = Runner()
    result = StrategyResult(strategy)

    def consume() -> None:
        for e in node.take_events():
            kind = e.kind
            if kind == "isolate":
                result.isolated_blocks += 1
                result.isolated_pages += 1 << e.to_dict()["order"]
            elif kind == "report":
                result.drained_s = node.clock
            elif kind == "free":
                result.last_free_s = node.clock
            elif kind == "flag_clear" and e.to_dict()["reason"] == "allocation takes the list head":
                result.allocations_taking_flagged += 1
        host = node.host
        result.series.append((node.clock, host.discarded_pages, host.resident_pages, host.refaults))
        if stop is not None and stop():
            raise ComparisonStopped(f"{strategy}: stopped at {node.clock:.6g} s")

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
    result.until_s = node.clock
    idle, drained = result.last_free_s, result.drained_s
    if idle is not None and drained is not None and drained >= idle:
        result.drain_time_s = round(drained - idle, 6)
    host = node.host.stats()
    result.returned_pages = host.discarded_pages
    result.resident_pages = host.resident_pages
    result.report_calls = host.report_calls
    result.pages_reported = host.pages_reported
    result.refaults = host.refaults
    result.failed_allocations = runner.failed_allocations
    sample_returned([result])
    return result


def compare(
    workload: str | list[dict[str, Any]],
    seed: int = 0,
    strategies: Sequence[str] = STRATEGIES,
    stop: Callable[[], bool] | None = None,
    **options: Any,
) -> list[StrategyResult]:
    """The same workload (same seed) under each strategy (``stop``: see run_strategy)."""
    ops = expand(_load(workload), seed)
    results = [run_strategy(s, ops, seed=seed, stop=stop, **options) for s in strategies]
    sample_returned(results)
    return results


def what_if_notes(strategies: Sequence[str], kernel: str) -> list[str]:
    """The comparison's strategies that run on base rules no kernel paired them with
    (v2 hinting on 5.7 or 5.10): every strategy runs on the same ``kernel`` rules, which
    compares the strategies alone; the notes say so."""
    notes = []
    for strategy in strategies:
        note = what_if(strategy, kernel)
        if note is not None:
            notes.append(
                f"{note}. Every strategy here runs on the same Linux {kernel} base rules, so "
                "the comparison is of the strategies alone."
            )
    return notes


def sample_times(results: Sequence[StrategyResult]) -> list[tuple[float, str]]:
    """The common (time, what it is) pairs at which the results are read: the offsets of
    ``SAMPLE_OFFSETS_S`` after the guest's last free (the end of the workload if it
    never freed), then the last report of any strategy, in time order and within every
    run."""
    if not results:
        return []
    frees = [r.last_free_s for r in results if r.last_free_s is not None]
    base, name = (max(frees), "last free") if frees else (results[0].workload_end_s, "end")
    until = min(r.until_s for r in results)
    times = [
        (round(base + off, 6), name if off == 0 else f"{name} + {off:g} s")
        for off in SAMPLE_OFFSETS_S
        if base + off <= until
    ]
    reports = [r.drained_s for r in results if r.drained_s is not None]
    if reports and base < max(reports) <= until:
        last = round(max(reports), 6)
        if all(t != last for t, _ in times):
            times.append((last, "all drained"))
    return sorted(times)


def returned_by(result: StrategyResult, t_s: float) -> int:
    """Pages the host had discarded by virtual time ``t_s``: the last sample of the
    series at or before it (the series holds the state after every operation and work
    item, so the value holds until the next sample)."""
    k = bisect.bisect_right(result.series, t_s, key=lambda p: p[0])
    return result.series[k - 1][1] if k else 0


def sample_returned(results: Sequence[StrategyResult]) -> None:
    """Fill each result's ``returned_at`` at the results' common ``sample_times``."""
    times = sample_times(results)
    for r in results:
        r.returned_at = [ReturnedAt(t, when, returned_by(r, t)) for t, when in times]


def _mib(pages: int) -> str:
    return f"{pages * 4 / 1024:.1f}"


def table(results: Sequence[StrategyResult]) -> list[tuple[str, list[str]]]:
    """(label, one formatted value per result) for every row of the comparison: memory
    returned by each common sample time, then the totals of ``ROWS``.  The command
    line, the REST endpoint and the page all show these rows."""
    rows: list[tuple[str, list[str]]] = []
    if results:
        for k, at in enumerate(results[0].returned_at):
            label = f"returned by t={at.t_s:.3f} s ({at.when}), MiB"
            rows.append((label, [_mib(r.returned_at[k].pages) for r in results]))
    rows.extend((label, [fmt(r) for r in results]) for label, fmt in ROWS)
    return rows


ROWS: tuple[tuple[str, Callable[[StrategyResult], str]], ...] = (
    ("memory returned to the host (MiB)", lambda r: _mib(r.returned_pages)),
    ("host-resident at the end (MiB)", lambda r: _mib(r.resident_pages)),
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
    rows = table(results)
    width = max(len(label) for label, _ in rows)
    cols = [r.strategy for r in results]
    colw = max(12, *(len(c) for c in cols))
    lines = [" " * width + "  " + "  ".join(c.rjust(colw) for c in cols)]
    for label, values in rows:
        lines.append(label.ljust(width) + "  " + "  ".join(v.rjust(colw) for v in values))
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
    parser.add_argument("--kernel", default="5.10", choices=("5.7", "5.10", "6.12"))
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
    for note in what_if_notes([r.strategy for r in results], args.kernel):
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps([asdict(r) for r in results]))
    else:
        print(format_table(results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
