"""A session saved as a scenario file: its command log becomes the workload, and the
file replays the same steps (GET /api/sessions/{id}/scenario, POST .../save-scenario,
then POST /api/saved/{name}/open)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from wirehelp import command, open_session

from backend.scenario_export import branch_to_scenario
from backend.session import Session
from backend.sources import SessionConfig, plan_for
from backend.steps import Cmd, execute_recorded, initial_state
from backend.timeline import CheckpointPolicy
from backend.workload_file import load_workload

pytestmark = pytest.mark.timeout(600)

TOKEN = "X-Buddyscope-Token"


def session_of(client: TestClient, sid: str) -> Session:
    session = client.app.state.buddyscope.manager.get(sid)  # type: ignore[attr-defined]
    assert session is not None
    return session


def states(config: SessionConfig, log: list[Cmd]) -> Iterator[tuple[Any, ...]]:
    """The state after each step of ``log`` (step 0 first), replayed from scratch."""
    plan = plan_for(config)
    node, ws, _ = initial_state(plan)

    def state() -> tuple[Any, ...]:
        node.take_events()
        return (node.clock_ns, node.page_states(), node.buddyinfo(), node.host.stats(),
                repr(node.hinting_state()))  # fmt: skip

    yield state()
    for cmd in log:
        execute_recorded(node, ws, plan, cmd)
        yield state()


def assert_same_steps(session: Session, text: str, step_map: list[int]) -> None:
    branch = session.view.branch
    original = list(states(branch.plan.config, branch.log))
    replay = list(states(SessionConfig(workload=text), [("next",)] * step_map[-1]))
    assert len(original) == len(step_map)
    for i, j in enumerate(step_map):
        assert original[i] == replay[j], f"step {i} (file step {j}) differs"


def drive(ws: Any, *commands: dict[str, Any]) -> None:
    for n, cmd in enumerate(commands, 100):
        _, answer = command(ws, n, **cmd)
        assert answer["type"] == "ack", (cmd, answer)


def test_a_played_session_becomes_a_file_with_the_same_steps(small_client: TestClient) -> None:
    created = small_client.post("/api/sessions", json={"scenario": "small"}).json()
    with small_client.websocket_connect(created["ws"]) as ws:
        _, snap = open_session(ws)
        assert snap["step"] == 320
        frames, _ = command(ws, 1, type="alloc", order=2, migratetype="Unmovable")
        pfn = next(e["pfn"] for e in frames[0]["events"] if e["kind"] == "alloc")
        drive(
            ws,
            {"type": "touch", "pfn": pfn, "order": 2},
            {"type": "free", "pfn": pfn, "order": 2},
            {"type": "advance", "seconds": 1.5},
        )
    r = small_client.get(f"/api/sessions/{created['id']}/scenario")
    assert r.status_code == 200, r.text
    assert "x-buddyscope-notes" not in r.headers  # nothing approximate
    doc = r.json()
    session = session_of(small_client, created["id"])
    assert doc["name"] == "small" and doc["seed"] == 2019
    assert doc["config"]["zones"] == [["Normal", 0, 4096]]
    ops = doc["workload"]
    assert ops[:2] == [dict(op) for op in session.plan.source.workload[:2]]  # labels carry over
    assert ops[320:] == [
        {"op": "alloc", "order": 2, "migratetype": "Unmovable", "label": "user"},
        {"op": "touch", "pfn": pfn, "order": 2},
        {"op": "free", "pfn": pfn, "order": 2},
        {"op": "advance", "seconds": 1.5},
    ]
    exported = branch_to_scenario(session.view.branch)
    assert exported.steps == len(session.view.branch.log) == 324
    assert exported.step_map == list(range(325)) and exported.notes == []
    assert json.loads(exported.text) == doc and load_workload(r.text).name == "small"
    assert_same_steps(session, exported.text, exported.step_map)


def test_commands_inside_an_advance_and_after_the_workload_cost_one_step_each(
    small_client: TestClient,
) -> None:
    created = small_client.post("/api/sessions", json={"scenario": "reporting-passes"}).json()
    session = session_of(small_client, created["id"])

    def run_out(ws: Any) -> None:
        _, answer = command(ws, 1, type="step")
        while answer["type"] == "ack":
            _, answer = command(ws, 1, type="step")
        assert answer["code"] == "nothing_to_do"

    with small_client.websocket_connect(created["ws"]) as ws:
        open_session(ws)
        drive(ws, *[{"type": "step"}] * 7)  # in the middle of the 2.5 s advance: pass 1
        assert session.view.ws.advance_target_ns is not None
        drive(ws, {"type": "alloc", "order": 0}, {"type": "alloc", "order": 1})
        run_out(ws)
        pfn, order = session.view.ws.runner.live("thp")[0]
        drive(ws, {"type": "free", "pfn": pfn, "order": order})  # requests a pass at +2 s
        drive(ws, {"type": "step"}, {"type": "step"})  # that pass, after the workload
        drive(ws, {"type": "alloc", "order": 2})
        run_out(ws)
    exported = branch_to_scenario(session.view.branch, "passes, annotated")
    assert len(exported.notes) == 2, exported.notes
    assert "during an advance" in exported.notes[0]
    assert "after the workload" in exported.notes[1]
    assert exported.steps == len(session.view.branch.log) + len(exported.notes)
    assert exported.file.name == "passes, annotated"
    assert exported.file.questions[0].before_step == 3  # the question's operation index
    assert_same_steps(session, exported.text, exported.step_map)
    r = small_client.get(f"/api/sessions/{created['id']}/scenario")
    assert "during an advance" in r.headers["x-buddyscope-notes"]


def test_save_as_scenario_and_reopen_gives_the_same_steps(small_client: TestClient) -> None:
    created = small_client.post("/api/sessions", json={"scenario": "head-or-tail"}).json()
    sid, token = created["id"], created["token"]
    with small_client.websocket_connect(created["ws"]) as ws:
        open_session(ws)
        drive(ws, *[{"type": "step"}] * 8, {"type": "alloc", "order": 3})
        drive(ws, *[{"type": "step"}] * 3, {"type": "back"}, {"type": "back"})
    r = small_client.post(f"/api/sessions/{sid}/save-scenario", json={"name": "my tail"})
    assert r.status_code == 403
    r = small_client.post(
        f"/api/sessions/{sid}/save-scenario", json={"name": "my tail"}, headers={TOKEN: token}
    )
    assert r.status_code == 200, r.text
    saved = r.json()
    assert saved["scenario"] == "workload" and saved["steps"] == 12 and saved["notes"] == []
    assert [s["name"] for s in small_client.get("/api/saved").json()] == ["my tail"]
    r = small_client.post("/api/saved/my tail/open")
    assert r.status_code == 201, r.text
    reopened = session_of(small_client, r.json()["id"])
    original = session_of(small_client, sid)
    assert reopened.plan.source.info.kind == "workload"
    assert reopened.view.length == 12 and reopened.view.pos == original.view.pos == 10
    text = reopened.plan.config.workload
    assert text is not None
    # the setup (operations 0-4) is step 0, so the user's alloc came before operation
    # 13: the question before operation 14 now precedes operation 15
    moved = [q["before_step"] for q in json.loads(text)["questions"]]
    assert [q["before_step"] for q in original.plan.source.questions] == [7, 9, 14]
    assert moved == [7, 9, 15]
    assert_same_steps(original, text, list(range(13)))
    # and the re-opened session is at the very same state
    node, again = original.view.node, reopened.view.node
    assert (node.buddyinfo(), node.page_states()) == (again.buddyinfo(), again.page_states())


def test_snapshot_sessions_have_no_scenario_file(small_client: TestClient) -> None:
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "model" / "data"
    created = small_client.post(
        "/api/sessions", json={"buddyinfo": (data / "buddyinfo.txt").read_text()}
    ).json()
    r = small_client.get(f"/api/sessions/{created['id']}/scenario")
    assert r.status_code == 409 and "/proc/buddyinfo" in r.json()["detail"]
    assert CheckpointPolicy()  # (the policy the replays above use by default)
