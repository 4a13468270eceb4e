"""The workload/scenario file format: schema, validation errors with lines, running."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from allocator_model.sources.workload import Runner, WorkloadError, expand
from backend.workload_file import (
    WorkloadFileError,
    as_scenario,
    json_paths_to_lines,
    load_workload,
    workload_schema,
)

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "workload.schema.json"


def test_checked_in_schema_is_current() -> None:
    on_disk = json.loads(SCHEMA_FILE.read_text())
    assert on_disk == workload_schema(), (
        "docs/workload.schema.json is stale: regenerate it with "
        "python -m backend.workload_file > docs/workload.schema.json"
    )


def test_every_shipped_scenario_is_a_valid_file() -> None:
    folder = resources.files("allocator_model.sources") / "scenarios"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".json"))
    assert len(names) == 12
    for name in names:
        wf = load_workload((folder / name).read_text(), name)
        assert wf.title and wf.look_for


def test_every_shipped_phase_has_presenter_notes_and_bad_notes_are_refused() -> None:
    folder = resources.files("allocator_model.sources") / "scenarios"
    for entry in folder.iterdir():
        if not entry.name.endswith(".json"):
            continue
        wf = load_workload(entry.read_text(), entry.name)
        phases = [op for op in as_scenario(wf).workload if op["op"] == "phase"]
        assert phases and all(op.get("notes") for op in phases), entry.name
    text = """{"workload": [
  {"op": "phase", "text": "Fill", "notes": "Point at the lists."},
  {"op": "phase", "text": "Free", "notes": ""},
  {"op": "phase", "text": "Idle", "notes": 3}
]}"""
    with pytest.raises(WorkloadFileError) as err:
        load_workload(text, "notes.json")
    problems = err.value.problems
    assert any(p.startswith("line 3: workload.1.notes:") for p in problems), problems
    assert any(p.startswith("line 4: workload.2.notes:") for p in problems), problems
    assert len(problems) == 2
    # The model, loading a scenario without the backend, refuses them too.
    for bad in ("", 3, "   "):
        with pytest.raises(WorkloadError, match="'notes' must be a non-empty string"):
            expand([{"op": "phase", "text": "Fill", "notes": bad}], 0)
    assert expand([{"op": "phase", "text": "Fill", "notes": "Ask."}], 0)[0]["notes"] == "Ask."


def test_errors_name_line_and_field_and_nothing_runs() -> None:
    text = """{
  "name": "x",
  "workload": [
    {"op": "alloc", "order": 3, "count": 0},
    {"op": "advance", "seconds": "soon"},
    {"op": "jump"},
    {"op": "repeat", "times": 2, "ops": [{"op": "free", "fraction": 2}]}
  ],
  "config": {"kernel": "4.19"}
}"""
    with pytest.raises(WorkloadFileError) as err:
        load_workload(text, "bad.json")
    problems = err.value.problems
    assert "line 4: workload.0.count: Input should be greater than or equal to 1" in problems
    assert any(p.startswith("line 5: workload.1.seconds:") for p in problems)
    assert any(p.startswith("line 6: workload.2:") and "'jump'" in p for p in problems)
    assert any(p.startswith("line 7: workload.3.ops.0.fraction:") for p in problems)
    assert any(p.startswith("line 9: config.kernel:") for p in problems)


def test_orders_are_checked_against_the_configuration() -> None:
    text = (
        '{"config": {"max_order": 4, "pageblock_order": 2},\n'
        ' "workload": [\n {"op": "alloc", "order": 5}]}'
    )
    with pytest.raises(
        WorkloadFileError, match=r"line 3: workload.0.order: 5 is above the largest order 3"
    ):
        load_workload(text)


def test_malformed_json_points_at_the_line() -> None:
    with pytest.raises(WorkloadFileError, match="line 2 column"):
        load_workload('{"workload": [\n {"op": "alloc", "order": }]}')


def test_a_loaded_file_runs_on_the_model() -> None:
    text = json.dumps(
        {
            "seed": 3,
            "config": {
                "zones": [["Normal", 0, 4096]],
                "min_free_kbytes": 0,
                "hinting": "reporting",
                "hinting_options": {"order": 3},
            },
            "workload": [
                {
                    "op": "repeat",
                    "times": 3,
                    "ops": [{"op": "alloc", "order": 3, "count": 4, "label": "a"}],
                },
                {"op": "free", "label": "a", "start": 0, "stride": 2},
                {"op": "advance", "seconds": 5},
            ],
        }
    )
    sc = as_scenario(load_workload(text))
    node = sc.node()
    runner = Runner()
    for op in sc.ops():
        runner.apply(node, op)
        node.check()
    assert node.host.report_calls > 0


def test_json_paths_to_lines() -> None:
    lines = json_paths_to_lines('{"a": [1,\n 2, {"b":\n "x"}],\n "c": "}"}')
    assert lines[("a", 1)] == 2 and lines[("a", 2, "b")] == 3 and lines[("c",)] == 4
