"""REST: scenarios, sessions, export/import, saved sessions (SQLite), /proc text, /metrics."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from wirehelp import command, open_session

from allocator_model.sources.builtin import build_small
from backend.app import create_app
from backend.session import Session
from backend.store import Store
from backend.timeline import View

pytestmark = pytest.mark.timeout(600)


def session_of(client: TestClient, sid: str) -> Session:
    session = client.app.state.buddyscope.manager.get(sid)  # type: ignore[attr-defined]
    assert session is not None
    return session


def test_scenarios_lists_builtin_and_library(small_client: TestClient) -> None:
    got = small_client.get("/api/scenarios").json()
    names = [s["name"] for s in got]
    assert names[:2] == ["default", "small"]
    assert {"buddy-basics", "reporting-passes", "v2-merge"} <= set(names)
    small = got[1]
    assert small["start_at_end"] is True and small["steps"] == 320 and small["source"] == "builtin"


def test_create_get_list_and_delete(small_client: TestClient) -> None:
    r = small_client.post("/api/sessions", json={"scenario": "v2-merge"})
    assert r.status_code == 201, r.text
    created = r.json()
    sid, token = created["id"], created["token"]
    assert created["ws"] == f"/ws?session={sid}&token={token}"
    assert created["session"]["scenario"] == "v2-merge" and created["session"]["step"] == 0
    assert small_client.get(f"/api/sessions/{sid}").json()["id"] == sid
    assert small_client.get("/api/sessions").json() == []  # ids only to token holders
    other = small_client.post("/api/sessions", json={}).json()
    small_client.post("/api/sessions", json={})  # a third, whose token nobody gives
    tokens = {"X-Buddyscope-Token": f"{other['token']}, {token}"}
    listed = small_client.get("/api/sessions", headers=tokens).json()
    assert sorted(s["id"] for s in listed) == sorted([sid, other["id"]])
    assert "token" not in listed[0]
    with small_client.websocket_connect(created["ws"]) as ws:
        assert open_session(ws)[0]["role"] == "controller"
    assert small_client.delete(f"/api/sessions/{sid}").status_code == 403
    bad = {"X-Buddyscope-Token": "nope"}
    assert small_client.delete(f"/api/sessions/{sid}", headers=bad).status_code == 403
    ok = {"X-Buddyscope-Token": token}
    assert small_client.delete(f"/api/sessions/{sid}", headers=ok).status_code == 204
    r = small_client.get(f"/api/sessions/{sid}")
    assert r.status_code == 404 and "no session" in r.json()["detail"]


def test_bad_configurations_are_refused_with_a_sentence(small_client: TestClient) -> None:
    r = small_client.post("/api/sessions", json={"scenario": "nope"})
    assert r.status_code == 409 and "unknown scenario" in r.json()["detail"]
    r = small_client.post("/api/sessions", json={"scenario": "small", "pages": 2**30})
    assert r.status_code == 409 and "at most" in r.json()["detail"]
    r = small_client.post("/api/sessions", json={"kernel": "2.6"})
    assert r.status_code == 422


def test_proc_text_is_the_models(small_client: TestClient) -> None:
    sid = small_client.post("/api/sessions", json={"scenario": "small"}).json()["id"]
    node = session_of(small_client, sid).view.node
    r = small_client.get(f"/api/sessions/{sid}/buddyinfo")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text == node.buddyinfo()
    assert re.match(r"Node 0, zone +Normal( +\d+){11}", r.text)
    r = small_client.get(f"/api/sessions/{sid}/pagetypeinfo")
    assert r.text == node.pagetypeinfo() and "Free pages count per migrate type" in r.text
    assert small_client.get("/api/sessions/nope/buddyinfo").status_code == 404


def _busy_session(client: TestClient) -> tuple[str, str]:
    """A session with a fork, a configure branch, breakpoints; left in the past."""
    with client.websocket_connect("/ws") as ws:
        hello, snap = open_session(ws)
        command(ws, 1, type="seek", step=snap["step"] - 5)
        command(ws, 2, type="alloc", order=2)
        command(ws, 3, type="configure", hinting="reporting", kernel="5.7")
        command(ws, 4, type="advance", seconds=3)
        command(ws, 5, type="step")
        command(ws, 6, type="breakpoints", kinds=["report"])
        command(ws, 7, type="speed", value=7)
        command(ws, 8, type="back")
    return hello["session"], hello["token"]


def fingerprint(view: View) -> tuple[Any, ...]:
    node = view.node
    return (view.pos, view.length, node.clock_ns, node.page_states(), node.buddyinfo(),
            node.host.stats(), repr(node.hinting_state()))  # fmt: skip


def test_export_then_import_is_exact(small_client: TestClient) -> None:
    sid, _ = _busy_session(small_client)
    doc = small_client.get(f"/api/sessions/{sid}/export").json()
    assert doc["format"] == "buddyscope-session" and doc["version"] == 1
    assert len(doc["branches"]) == 3 and doc["breakpoints"] == ["report"] and doc["speed"] == 7
    assert doc["branches"][0]["log"] == [320]  # runs of automatic steps are one number
    assert len(str(doc)) < 3000  # small
    r = small_client.post("/api/sessions/import", json=doc)
    assert r.status_code == 201, r.text
    new_id = r.json()["id"]
    old, new = session_of(small_client, sid), session_of(small_client, new_id)
    assert fingerprint(new.view) == fingerprint(old.view)
    assert new.view.branch.id == old.view.branch.id
    for bid, branch in old.branches.items():
        assert new.branches[bid].log == branch.log
        assert new.branches[bid].plan.config == branch.plan.config
        assert fingerprint(View.at(new.branches[bid], len(branch))) == fingerprint(
            View.at(branch, len(branch))
        )
    # ... and the import exports the same document
    assert small_client.get(f"/api/sessions/{new_id}/export").json() == doc


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"format": "other"}, 422, "format"),
        ({"current": {"branch": 9, "step": 0}}, 409, "branch 9"),
        ({"current": {"branch": 0, "step": 10**6}}, 409, "beyond"),
        ({"branches": []}, 422, "branches"),
        ({"breakpoints": ["nope"]}, 409, "nope"),
    ],
)
def test_bad_imports_are_refused(
    small_client: TestClient, change: dict[str, Any], status: int, needle: str
) -> None:
    doc = {
        "format": "buddyscope-session",
        "version": 1,
        "current": {"branch": 0, "step": 0},
        "branches": [
            {"id": 0, "config": {"scenario": "small"}, "log": [3, ["alloc", 0, "Movable", None]]}
        ],
    }
    r = small_client.post("/api/sessions/import", json={**doc, **change})
    assert r.status_code == status, r.text
    assert needle in r.text


def test_bad_logs_are_refused(small_client: TestClient) -> None:
    for log in ([["teleport", 1]], [0], [["free", -1, 0]], [["alloc", 0]], [10**9]):
        doc = {
            "current": {"branch": 0, "step": 0},
            "branches": [{"id": 0, "config": {"scenario": "small"}, "log": log}],
        }
        r = small_client.post("/api/sessions/import", json=doc)
        assert r.status_code in (409, 422), (log, r.text)


def test_saved_sessions_survive_a_restart(tmp_path: Path) -> None:
    with TestClient(
        create_app(build_small, data_dir=tmp_path, allowed_hosts=("testserver",))
    ) as client:
        sid, token = _busy_session(client)
        r = client.post(f"/api/sessions/{sid}/save", json={"name": "lecture 3"})
        assert r.status_code == 403
        r = client.post(
            f"/api/sessions/{sid}/save",
            json={"name": "lecture 3"},
            headers={"X-Buddyscope-Token": token},
        )
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "lecture 3" and r.json()["scenario"] == "small"
        owner = {"X-Buddyscope-Owner": r.json()["owner_key"]}
        before = fingerprint(session_of(client, sid).view)
    assert (tmp_path / "sessions.sqlite3").exists()
    with TestClient(
        create_app(build_small, data_dir=tmp_path, allowed_hosts=("testserver",))
    ) as client:
        assert client.get("/healthz").json()["sessions"] == 0
        saved = client.get("/api/saved").json()
        assert [s["name"] for s in saved] == ["lecture 3"]
        r = client.post("/api/saved/lecture 3/open")
        assert r.status_code == 201, r.text
        new = session_of(client, r.json()["id"])
        assert new.name == "lecture 3"
        assert fingerprint(new.view) == before
        assert client.post("/api/saved/nothing/open").status_code == 404
        assert client.delete("/api/saved/lecture 3").status_code == 403  # not the owner
        assert client.delete("/api/saved/lecture 3", headers=owner).status_code == 204
        assert client.get("/api/saved").json() == []
        assert client.delete("/api/saved/lecture 3", headers=owner).status_code == 404


def test_a_crash_mid_write_loses_nothing_saved_before(tmp_path: Path) -> None:
    db = tmp_path / "sessions.sqlite3"
    store = Store(db)
    store.save("kept", "small", 1, '{"x": 1}')
    store.close()
    writer = textwrap.dedent(
        f"""
        import sys
        from backend.store import Store
        store = Store({str(db)!r})
        print("ready", flush=True)
        n = 0
        while True:
            n += 1
            store.save(f"big{{n % 5}}", "small", n, "x" * 2_000_000, replace=True)
            print("wrote", n, flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    while proc.stdout.readline().strip() != "wrote 3":
        pass  # the next save is under way when the kill lands
    os.kill(proc.pid, signal.SIGKILL)  # in the middle of some write
    proc.wait(timeout=30)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    store = Store(db)
    assert store.load("kept") == '{"x": 1}'
    for info in store.list():
        doc = store.load(info.name)
        assert doc is not None and (info.name == "kept" or len(doc) == 2_000_000)
    store.close()


def test_metrics_in_prometheus_format(small_client: TestClient) -> None:
    r = small_client.post("/api/sessions", json={"scenario": "reporting-passes"})
    sid, token = r.json()["id"], r.json()["token"]
    with small_client.websocket_connect(f"/ws?session={sid}&token={token}") as ws:
        open_session(ws)
        command(ws, 1, type="run_to", kind="flag_set")
    session = session_of(small_client, sid)
    node, label = session.view.node, session.label
    r = small_client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert sid not in text  # the id grants watching: metrics name sessions by their label
    z = node.zone("Normal")
    for order in range(node.max_order):
        line = f'node_buddyinfo_blocks{{node="0",session="{label}",size="{order}",zone="Normal"}}'
        assert f"{line} {float(z.nr_free[order])}" in text, line
    flagged = sum(
        float(m.group(1))
        for m in re.finditer(rf'buddyscope_flagged_blocks\{{.*session="{label}".*\}} (\S+)', text)
    )
    assert flagged == len(z.flagged_heads()) > 0
    resident = node.host.backing["Normal"].count(1)
    assert (
        f'buddyscope_host_resident_pages{{session="{label}",zone="Normal"}} {float(resident)}'
        in text
    )
    stats = node.host.stats()
    assert f'buddyscope_report_calls_total{{session="{label}"}} {float(stats.report_calls)}' in text
    assert "buddyscope_sessions 1.0" in text
