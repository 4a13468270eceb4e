"""Workload expansion/running and the strategy comparison."""

from __future__ import annotations

import pytest

from allocator_model import Node, ZoneSpec
from allocator_model.lab.compare import compare, format_table
from allocator_model.sources.workload import BUILTIN, Runner, WorkloadError, expand


def test_expand_is_deterministic_and_flat() -> None:
    ops = [
        {"op": "repeat", "times": 2, "ops": [{"op": "alloc", "order": 1, "label": "a"}]},
        {"op": "random", "steps": 50, "label": "r"},
    ]
    a, b = expand(ops, seed=4), expand(ops, seed=4)
    assert a == b and len(a) == 52
    assert all(op["op"] in ("alloc", "free_pick") for op in a)
    assert expand(ops, seed=5) != a


@pytest.mark.parametrize(
    ("ops", "words"),
    [
        ([{"op": "allocate"}], "workload[0]: unknown operation 'allocate'"),
        ([{"op": "repeat", "times": "2", "ops": []}], "field 'times' must be an integer"),
        (
            [{"op": "repeat", "times": 1, "ops": [{"op": "random", "steps": 3, "alloc_ratio": 2}]}],
            "workload[0].ops[0]: 'alloc_ratio' must be between 0 and 1",
        ),
        ([{"order": 3}], 'an operation is an object with an "op" name'),
    ],
)
def test_expand_errors_name_the_operation(ops: list[dict[str, object]], words: str) -> None:
    with pytest.raises(WorkloadError) as err:
        expand(ops)  # type: ignore[arg-type]
    assert words in str(err.value)


def test_runner_labels_and_frees() -> None:
    node = Node(zones=[ZoneSpec("N", 0, 4096)], min_free_kbytes=0)
    runner = Runner()
    runner.apply(node, {"op": "alloc", "order": 2, "count": 10, "label": "buf"})
    assert len(runner.labels["buf"]) == 10
    assert (
        runner.apply(node, {"op": "free", "label": "buf", "fraction": 0.5})
        == "freed 5 blocks of 'buf'"
    )
    runner.apply(node, {"op": "free_pick", "label": "buf", "pick": 0.99})
    assert len(runner.labels["buf"]) == 4
    assert sorted(runner.labels["buf"]) == [5, 6, 7, 8]  # sequence 9 was the pick
    runner.apply(node, {"op": "free", "label": "buf", "start": 5, "stride": 2, "count": 2})
    assert sorted(runner.labels["buf"]) == [6, 8]
    pfn, order = runner.live("buf")[0]
    assert runner.apply(node, {"op": "touch", "pfn": pfn, "order": order}).startswith("touched")
    runner.apply(node, {"op": "free_all"})
    node.check()
    assert node.zone("N").nr_free_pages == 4096
    msg = runner.apply(node, {"op": "alloc", "order": 10, "count": 9, "label": "big"})
    assert "allocated 4 of 9" in msg and runner.failed_allocations == 5


def test_compare_shows_the_strategies_differ() -> None:
    results = {r.strategy: r for r in compare("idle", seed=1)}
    none, v2, rep = results["none"], results["hinting-v2"], results["reporting"]
    assert none.returned_pages == 0 and none.report_calls == 0
    # 200 order-10 blocks were touched then freed: both designs give them all back.
    assert v2.returned_pages == rep.returned_pages == 200 * 1024
    # v2 drains in one cycle 100 ms after the request; reporting's budget takes
    # passes 2 s apart (ceil(nr_free/512) + 1 batches per list and pass).
    assert v2.drain_time_s is not None and rep.drain_time_s is not None
    assert v2.drain_time_s < 1 < rep.drain_time_s
    table = format_table(list(results.values()))
    assert "memory returned to the host (MiB)" in table and "800.0" in table


def test_buffer_reuse_refaults() -> None:
    results = {r.strategy: r for r in compare("buffer-reuse")}
    assert results["none"].refaults == 0
    assert results["reporting"].refaults > 0  # the buffer was discarded, then touched
    assert results["reporting"].allocations_taking_flagged > 0


def test_builtin_workloads_run() -> None:
    for name in BUILTIN:
        for r in compare(name, strategies=["reporting"]):
            assert r.series and r.series[-1][0] >= r.workload_end_s
