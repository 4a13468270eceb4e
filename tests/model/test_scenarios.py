"""The scenario library: loading, quiz answers, file errors, the teachers' list.

What each scenario claims is checked in ``test_scenario_claims.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from allocator_model.lab.quiz import ask
from allocator_model.sources.scenario import Scenario, ScenarioError, library, load
from allocator_model.sources.workload import Runner


def test_library_has_the_twelve_scenarios_with_notes() -> None:
    lib = library()
    assert len(lib) == 12
    for sc in lib.values():
        assert sc.title and sc.summary and sc.look_for
        info = sc.summary_dict()
        assert info["steps"] >= 1


def test_quiz_answers_come_from_the_model() -> None:
    sc = load("head-or-tail")
    node = sc.node()
    runner = Runner()
    ops = sc.ops()
    for op in ops[:9]:
        runner.apply(node, op)
    before = node.zone("Normal").free_list(1, "Movable")
    q = ask(node, runner, ops[9], "which_end", "Head or tail?")
    assert q.answer == "tail" and q.choices == ["head", "tail"]
    assert q.check("Tail") and not q.check("head")
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
