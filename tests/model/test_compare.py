"""``allocator_model.lab.compare``: the memory returned over time (``returned_at``) agrees
with each run's series and totals, at times that make sense for both v2's 100 ms delay
and reporting's 2 s passes; the table every front end shows has those rows."""

from __future__ import annotations

import pytest

from allocator_model.lab.compare import (
    ROWS,
    SAMPLE_OFFSETS_S,
    StrategyResult,
    compare,
    format_table,
    run_strategy,
    sample_times,
    table,
)
from allocator_model.sources.workload import BUILTIN, expand


def returned_scan(r: StrategyResult, t: float) -> int:
    """Pages discarded by ``t``: the last series sample at or before it (a plain scan)."""
    value = 0
    for when, returned, _resident, _refaults in r.series:
        if when > t:
            break
        value = returned
    return value


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_samples_agree_with_the_series_and_the_totals(name: str) -> None:
    results = compare(name, seed=2)
    times = [(at.t_s, at.when) for at in results[0].returned_at]
    assert times == sample_times(results) and times == sorted(times)
    last_free = max(r.last_free_s for r in results if r.last_free_s is not None)
    assert [t for t, when in times if when != "all drained"] == [
        round(last_free + off, 6) for off in SAMPLE_OFFSETS_S
    ]
    for r in results:
        assert [(at.t_s, at.when) for at in r.returned_at] == times  # common rows
        pages = [at.pages for at in r.returned_at]
        assert pages == [returned_scan(r, t) for t, _ in times]
        assert pages == sorted(pages)  # cumulative
        assert pages[-1] == r.returned_pages == r.series[-1][1]  # nothing after the drain
        if r.drained_s is not None and r.drained_s >= last_free:
            assert r.drain_time_s == pytest.approx(r.drained_s - r.last_free_s)
    reports = [r.drained_s for r in results if r.drained_s is not None]
    drained = [at for at in results[0].returned_at if at.when == "all drained"]
    if reports and max(reports) > last_free:
        assert [at.t_s for at in drained] == [round(max(reports), 6)]


def test_v2_gives_back_within_half_a_second_reporting_in_passes_2_s_apart() -> None:
    results = {r.strategy: r for r in compare("idle", seed=1)}
    none, v2, rep = results["none"], results["hinting-v2"], results["reporting"]
    at = {a.when: a.pages for a in v2.returned_at}
    rep_at = {a.when: a.pages for a in rep.returned_at}
    total = 200 * 1024
    assert at["last free"] == rep_at["last free"] == 0
    assert at["last free + 0.5 s"] == total and rep_at["last free + 0.5 s"] == 0
    assert 0 < rep_at["last free + 2.5 s"] < total  # one pass, its budget spent
    assert at["all drained"] == rep_at["all drained"] == total
    assert rep.drained_s == max(a.t_s for a in rep.returned_at if a.when == "all drained")
    assert all(a.pages == 0 for a in none.returned_at)


def test_the_times_start_at_the_last_free_not_the_end_of_the_workload() -> None:
    # buffer-reuse frees at t=0 and again (half the buffer) at t=15, and ends at t=25.
    results = compare("buffer-reuse")
    assert {r.last_free_s for r in results} == {15.0} and results[0].workload_end_s == 25.0
    assert results[0].returned_at[0].t_s == 15.0
    v2, rep = results[1], results[2]
    assert v2.returned_at[1].when == "last free + 0.5 s"
    assert v2.returned_at[1].pages > rep.returned_at[1].pages  # v2 acted, reporting not yet


def test_a_workload_without_frees_and_a_short_drain() -> None:
    ops = expand([{"op": "alloc", "order": 3, "count": 4}, {"op": "advance", "seconds": 1}])
    r = run_strategy("reporting", ops, drain_limit_s=5.0)
    # Reporting still reports the boot memory (never touched: nothing to discard).
    assert r.last_free_s is None and r.drain_time_s is None and r.returned_pages == 0
    assert r.drained_s is not None and 2 < r.drained_s < 6 and r.until_s == 6.0
    # From the end of the workload; +10 s and +60 s are past the end of the run.
    assert [(a.t_s, a.when) for a in r.returned_at] == [
        (1.0, "end"), (1.5, "end + 0.5 s"), (3.5, "end + 2.5 s"),
        (round(r.drained_s, 6), "all drained"),
    ]  # fmt: skip


def test_the_table_has_the_samples_then_the_totals() -> None:
    results = compare("idle", seed=1)
    rows = table(results)
    n = len(results[0].returned_at)
    assert [label for label, _ in rows[n:]] == [label for label, _ in ROWS]
    assert rows[1] == ("returned by t=0.500 s (last free + 0.5 s), MiB", ["0.0", "800.0", "0.0"])
    assert all(len(values) == 3 for _, values in rows)
    lines = format_table(results).splitlines()
    assert lines[0].split() == ["none", "hinting-v2", "reporting"]
    assert [line.split()[-3:] for line in lines[1:]] == [values for _, values in rows]
