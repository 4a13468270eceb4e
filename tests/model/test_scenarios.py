"""Every scenario of the library runs and shows what it claims."""

from __future__ import annotations

from typing import Any

import pytest

from allocator_model import Node
from allocator_model.events import Event
from allocator_model.fragmentation import unusable_free_index, unusable_index_text
from allocator_model.quiz import ask
from allocator_model.scenario import Scenario, ScenarioError, library, load
from allocator_model.workload import Runner


def run(name: str, **overrides: Any) -> tuple[Node, Runner, list[list[Event]]]:
    sc = load(name)
    node = sc.node(**overrides)
    runner = Runner()
    steps = []
    for op in sc.ops():
        runner.apply(node, op)
        node.check()
        steps.append(node.take_events())
    return node, runner, steps


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


def test_library_has_the_twelve_scenarios_with_notes() -> None:
    lib = library()
    assert len(lib) == 12
    for sc in lib.values():
        assert sc.title and sc.summary and sc.look_for
        info = sc.summary_dict()
        assert info["steps"] >= 1


def test_1_buddy_basics() -> None:
    node, _, steps = run("buddy-basics")
    assert kinds(steps[1]).count("split") == 10
    assert kinds(steps[3]).count("merge") == 10
    assert node.zone("Normal").nr_free == [0] * 10 + [1]


def test_2_head_or_tail() -> None:
    _, _, steps = run("head-or-tail")
    ends = [e.to_dict()["end"] for e in steps[3] + steps[5] if e.kind == "list_add"]
    assert ends == ["head", "tail"]


def test_3_migratetypes_steal_and_retype() -> None:
    node, _, steps = run("migratetypes")
    assert "fallback" in kinds(steps[3]) and "pageblock_retype" in kinds(steps[3])
    assert 0 in node.zone("Normal").pageblock_mt  # an Unmovable pageblock now exists


def test_4_v2_threshold() -> None:
    _, _, steps = run("v2-threshold")
    assert "request" not in kinds(steps[5])  # 31 frees
    assert "request" in kinds(steps[7])  # the 32nd
    reports = [e.to_dict() for e in steps[8] if e.kind == "report"]
    assert [len(r["blocks"]) for r in reports] == [32]


def test_5_v2_boundary_warm_pages_first() -> None:
    _, _, steps = run("v2-boundary")
    assert "flag_clear" not in kinds(steps[9])  # the unhinted head
    assert "flag_clear" in kinds(steps[10]) and "refault" in kinds(steps[10])


def test_6_v2_merge_clears_and_rehints() -> None:
    _, _, steps = run("v2-merge")
    assert kinds(steps[5]).index("flag_clear") < kinds(steps[5]).index("merge")
    hinted = [e.to_dict() for e in steps[8] if e.kind == "flag_set"]
    assert hinted and all(h["order"] == 10 for h in hinted)


def test_7_reporting_passes() -> None:
    node, _, steps = run("reporting-passes")
    assert [len(e.to_dict()["blocks"]) for e in steps[4] if e.kind == "report"] == [32, 32]
    assert [len(e.to_dict()["blocks"]) for e in steps[6] if e.kind == "report"] == [32, 4]
    assert "rotate" in kinds(steps[4])
    assert node.hinting_state()["state"] == "IDLE"
    # The narration's pass numbers are the model's: pass 1 is the registration's.
    said = [e.to_dict()["message"] for st in steps for e in st if e.kind == "state"]
    passes = [m[m.index("(pass") :] for m in said if "(pass" in m]
    assert passes == [
        "(pass 1 starts)",
        "(pass 1 is done)",
        "(pass 2 starts)",
        "(pass 3 starts)",
        "(pass 3 is done)",
    ]
    phases = [op["text"] for op in load("reporting-passes").workload if op["op"] == "phase"]
    assert phases[1].startswith("Pass 2 is over: 64 blocks") and phases[2].startswith("Pass 3")


def test_8_zone_gate() -> None:
    node, _, steps = run("zone-gate")
    assert not node.zone("DMA").flagged_heads()
    assert node.zone("DMA32").flagged_heads()
    skips = [e.to_dict() for e in steps[5] if e.kind == "zone_skip"]
    assert {s["zone"] for s in skips} >= {"DMA", "Normal"}
    assert not any(e.to_dict()["zone"] == "Normal" for e in steps[5] if e.kind == "report")


def test_9_side_by_side() -> None:
    sc = load("v2-vs-merged")
    assert sc.compare == ["hinting-v2", "reporting"]
    results = {}
    for strategy in sc.compare:
        node, _, _ = run("v2-vs-merged", hinting=strategy)
        results[strategy] = node.host.stats()
    assert all(r.discarded_pages > 0 and r.refaults > 0 for r in results.values())


def test_10_hildenbrand() -> None:
    v2, _, _ = run("hildenbrand")
    rep, _, _ = run("hildenbrand", hinting="reporting", kernel="5.10")
    assert v2.page(0).head_page_type_value == 0xFFFFFE7F
    assert rep.page(0).head_page_type_value == 0xFFFFFF7F
    assert "not recognised as free" in v2.page(0).kdump_view


def test_11_host_memory_falls_and_rises() -> None:
    sc = load("buffer-reuse")
    node = sc.node()
    runner = Runner()
    resident = []
    for op in sc.ops():
        runner.apply(node, op)
        resident.append(node.host.resident_pages)
    low = min(resident)
    assert resident.index(low) < len(resident) - 1
    assert max(resident[resident.index(low) :]) > low  # it rises again
    assert node.host.refaults > 0


def test_12_fragmentation_index() -> None:
    node, _, _ = run("fragmentation")
    nr = node.zone("Normal").nr_free
    assert unusable_free_index(nr, 0) == 0
    assert unusable_free_index(nr, 10) > unusable_free_index(nr, 3)
    text = unusable_index_text([("Normal", nr)])
    assert text.startswith("Node 0, zone   Normal 0.000 ")


def test_quiz_answers_come_from_the_model() -> None:
    sc = load("head-or-tail")
    node = sc.node()
    runner = Runner()
    ops = sc.ops()
    for op in ops[:5]:
        runner.apply(node, op)
    q = ask(node, runner, ops[5], "which_end", "Head or tail?")
    assert q.answer == "tail" and q.choices == ["head", "tail"]
    assert q.check("Tail") and not q.check("head")
    before = node.zone("Normal").free_list(1, "Movable")
    assert node.zone("Normal").free_list(1, "Movable") == before  # the dry run changed nothing


def test_quiz_about_the_next_pass_without_an_operation() -> None:
    sc = load("reporting-passes")
    node = sc.node()
    runner = Runner()
    ops = sc.ops()
    for op in ops[:4]:  # up to and including the 100 frees: a pass is requested
        runner.apply(node, op)
    q = ask(node, runner, None, "blocks_reported")
    assert q.answer == "64"


def test_scenario_file_errors_are_specific(tmp_path: Any) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"name": "x", "title": "t", "summary": "s",\n'
        ' "look_for": "l", "workload": [{"op": "jump"}]}'
    )
    with pytest.raises(ScenarioError, match="unknown operation 'jump'"):
        Scenario.from_file(str(bad))
    bad.write_text('{"name": "x",\n "title": }')
    with pytest.raises(ScenarioError, match="line 2"):
        Scenario.from_file(str(bad))
    with pytest.raises(ScenarioError, match="unknown scenario"):
        load("nope")


def test_the_teachers_list_names_every_scenario() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "scenarios.md").read_text()
    for name, sc in library().items():
        assert f"`{name}`" in doc and sc.title in doc, f"docs/scenarios.md lacks {name}"
