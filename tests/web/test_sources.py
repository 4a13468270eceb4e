"""Sessions from a workload/scenario file, a /proc snapshot of any machine, or a kmem
trace: over REST (JSON and raw uploads), the websocket's ``configure``, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from wirehelp import command, open_session, receive

from allocator_model import from_buddyinfo
from allocator_model.sources.builtin import build_small
from allocator_model.sources.trace import parse_trace, sample_trace
from allocator_model.sources.workload import expand
from backend.app import create_app
from backend.session import Session, Settings
from backend.timeline import CheckpointPolicy, View, run_workload, start_branch
from backend.workload_file import as_scenario, load_workload

pytestmark = pytest.mark.timeout(600)

DATA = Path(__file__).resolve().parents[1] / "model" / "data"
BUDDYINFO = (DATA / "buddyinfo.txt").read_text()
PAGETYPEINFO = (DATA / "pagetypeinfo.txt").read_text()

WORKLOAD = {
    "name": "two-halves",
    "title": "Two halves",
    "look_for": "the second free merges",
    "seed": 5,
    "config": {"zones": [["Normal", 0, 4096]], "min_free_kbytes": 0, "hinting": "reporting"},
    "workload": [
        {"op": "phase", "text": "allocate two order-3 blocks"},
        {"op": "alloc", "order": 3, "count": 2, "label": "a"},
        {"op": "free", "label": "a", "count": 1},
        {"op": "free", "label": "a"},
        {"op": "advance", "seconds": 3},
    ],
    "questions": [{"before_step": 3, "kind": "will_merge", "ask": "Merge?"}],
}
BAD_WORKLOAD = """{
  "name": "broken",
  "workload": [
    {"op": "alloc", "order": 3, "count": 0},
    {"op": "jump"}
  ],
  "config": {"kernel": "4.19"}
}"""


def session_of(client: TestClient, sid: str) -> Session:
    session = client.app.state.buddyscope.manager.get(sid)  # type: ignore[attr-defined]
    assert session is not None
    return session


def noisy_trace() -> str:
    """The shipped sample plus lines a real report has: junk, and a free of a page
    allocated before the trace began."""
    lines = sample_trace().splitlines()
    lines.insert(3, "CPU 0 is empty")
    lines.insert(5, "   <idle>-0     [000]  1000.000000: sched_switch: prev_comm=swapper")
    lines.append(
        " kworker-77  [000]  1010.000000: mm_page_free: page=0xffffea0000abcd00 pfn=999999 order=0"
    )
    return "\n".join(lines) + "\n"


# --- workload files -------------------------------------------------------------------


def test_a_workload_file_makes_a_session(small_client: TestClient) -> None:
    text = json.dumps(WORKLOAD, indent=1)
    r = small_client.post("/api/sessions", json={"workload": text})
    assert r.status_code == 201, r.text
    created = r.json()
    source = created["session"]["source"]
    assert created["session"]["scenario"] == "workload"
    assert (source["kind"], source["name"], source["questions"]) == ("workload", "two-halves", 1)
    assert source["look_for"] == "the second free merges"
    session = session_of(small_client, created["id"])
    wf = load_workload(text)
    assert list(session.plan.source.workload) == expand(as_scenario(wf).workload, 5)
    node = session.view.node
    assert [z.name for z in node.zones] == ["Normal"] and node.hinting == "reporting"
    with small_client.websocket_connect(created["ws"]) as ws:
        hello, snap = open_session(ws)
        assert hello["source"]["name"] == "two-halves"
        assert snap["config"]["source"] == hello["source"]
        assert snap["step"] == 0 and snap["timeline_length"] == 6  # recorded at the start
        frames, ack = command(ws, 1, type="step")
        assert ack["type"] == "ack" and frames[0]["events"][0]["kind"] == "phase"
    # the raw upload route takes the file as it is, with overrides as query parameters
    r = small_client.post(
        "/api/sessions/from-workload?kernel=5.7&seed=9",
        content=text,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 201, r.text
    other = session_of(small_client, r.json()["id"])
    assert other.view.node.kernel == "5.7" and other.plan.source.seed == 9


def test_a_bad_workload_file_is_refused_whole_with_lines_and_fields(
    small_client: TestClient,
) -> None:
    for response in (
        small_client.post("/api/sessions", json={"workload": BAD_WORKLOAD}),
        small_client.post("/api/sessions/from-workload", content=BAD_WORKLOAD),
    ):
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        msgs = [d["msg"] for d in detail]
        assert all(d["type"] == "invalid_file" for d in detail)
        assert any(m.startswith("line 4: workload.0.count:") for m in msgs), msgs
        assert any(m.startswith("line 5: workload.1:") and "'jump'" in m for m in msgs)
        assert any(m.startswith("line 7: config.kernel:") for m in msgs)
    assert small_client.get("/healthz").json()["sessions"] == 0  # nothing half-loaded
    r = small_client.post("/api/sessions/from-workload", content="{not json")
    assert r.status_code == 422 and "line 1 column 2" in r.json()["detail"][0]["msg"]


def test_configure_loads_a_file_or_answers_one_error_with_every_problem(
    small_client: TestClient,
) -> None:
    with small_client.websocket_connect("/ws") as ws:
        _, snap = open_session(ws)
        before = (snap["step"], snap["timeline_length"], snap["config"]["scenario"])
        frames, err = command(ws, 1, type="configure", workload=BAD_WORKLOAD)
        assert frames == [] and err["type"] == "error" and err["code"] == "invalid_file"
        assert len(err["problems"]) == 3 and "line 4" in err["message"]
        assert any(p.startswith("line 7: config.kernel") for p in err["problems"])
        frames, ack = command(ws, 2, type="get_snapshot")
        snap = frames[0]
        assert (snap["step"], snap["timeline_length"], snap["config"]["scenario"]) == before
        frames, ack = command(ws, 3, type="configure", workload=json.dumps(WORKLOAD))
        assert ack["type"] == "ack", ack
        snap = frames[-1]
        assert snap["reason"] == "configure" and snap["config"]["source"]["name"] == "two-halves"
        assert snap["step"] == 0 and snap["config"]["hinting"] == "reporting"
        for n in range(4):
            command(ws, 10 + n, type="step")
        # a change of kernel keeps the file and replays its steps under the new rules
        frames, ack = command(ws, 20, type="configure", kernel="5.7")
        snap = frames[-1]
        assert snap["step"] == 4 and snap["config"]["kernel"] == "5.7"
        assert snap["config"]["source"]["kind"] == "workload"
        # a named scenario replaces the file entirely
        frames, ack = command(ws, 21, type="configure", scenario="buddy-basics")
        snap = frames[-1]
        assert snap["config"]["source"]["kind"] == "scenario"
        assert snap["config"]["scenario"] == "buddy-basics" and snap["config"]["kernel"] == "5.10"
        frames, err = command(ws, 22, type="configure", workload="{}", trace="x")
        assert err["code"] == "invalid_config" and "one source" in err["message"]


# --- /proc snapshots --------------------------------------------------------------------


def test_a_buddyinfo_snapshot_makes_a_session_with_its_free_lists(
    small_client: TestClient,
) -> None:
    r = small_client.post(
        "/api/sessions",
        json={"buddyinfo": BUDDYINFO, "pagetypeinfo": PAGETYPEINFO, "hinting": "reporting"},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["session"]["source"]["kind"] == "buddyinfo"
    assert "DMA32" in created["session"]["source"]["summary"]
    sid = created["id"]
    text = small_client.get(f"/api/sessions/{sid}/buddyinfo").text
    assert text == from_buddyinfo(BUDDYINFO, PAGETYPEINFO).buddyinfo()
    assert text.split() == BUDDYINFO.split()  # the machine's own counts
    node = session_of(small_client, sid).view.node
    assert node.hinting == "reporting"
    # the raw route takes `cat /proc/buddyinfo /proc/pagetypeinfo`
    r = small_client.post(
        "/api/sessions/from-proc?hinting=reporting", content=BUDDYINFO + PAGETYPEINFO
    )
    assert r.status_code == 201, r.text
    again = session_of(small_client, r.json()["id"]).view.node
    assert again.pagetypeinfo() == node.pagetypeinfo()
    r = small_client.post("/api/sessions/from-proc", content=BUDDYINFO)
    assert r.status_code == 201 and r.json()["session"]["source"]["kind"] == "buddyinfo"


def test_bad_or_too_big_snapshots_are_refused() -> None:
    settings = Settings(max_pages_per_session=100_000)
    with TestClient(
        create_app(build_small, settings=settings, allowed_hosts=("testserver",))
    ) as client:
        r = client.post("/api/sessions/from-proc", content="Node 0, zone Normal 1 2 x\n")
        assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("line 1:")
        broken = PAGETYPEINFO.replace("Pages per block:", "Pages per blok:")
        r = client.post("/api/sessions", json={"buddyinfo": BUDDYINFO, "pagetypeinfo": broken})
        assert r.status_code == 422 and "line 2" in r.json()["detail"][0]["msg"]
        r = client.post("/api/sessions", json={"pagetypeinfo": PAGETYPEINFO})
        assert r.status_code == 422 and "goes with buddyinfo" in r.text
        r = client.post("/api/sessions", json={"buddyinfo": BUDDYINFO, "pages": 4096})
        assert r.status_code == 409 and "zone sizes" in r.json()["detail"]
        r = client.post("/api/sessions", json={"buddyinfo": BUDDYINFO})
        assert r.status_code == 409 and "at most 100000 per session" in r.json()["detail"]
        assert client.get("/healthz").json()["sessions"] == 0


def test_uploads_over_the_limit_are_refused_with_413() -> None:
    with TestClient(
        create_app(
            build_small, settings=Settings(max_upload_bytes=2000), allowed_hosts=("testserver",)
        )
    ) as client:
        r = client.post("/api/sessions/from-trace", content=sample_trace())
        assert r.status_code == 413 and "2000 bytes" in r.json()["detail"]
        r = client.post("/api/sessions", json={"trace": "x" * 3000})
        assert r.status_code == 413
        assert client.post("/api/sessions", json={"scenario": "small"}).status_code == 201


# --- traces ------------------------------------------------------------------------------


def test_a_trace_session_says_what_was_imported(small_client: TestClient) -> None:
    text = noisy_trace()
    expected = parse_trace(text)
    assert expected.unknown_lines == 2 and expected.unmatched_frees == 1
    r = small_client.post("/api/sessions/from-trace?hinting=reporting", content=text)
    assert r.status_code == 201, r.text
    created = r.json()
    trace = created["session"]["source"]["trace"]
    assert trace["events"] == dict(expected.events)
    assert trace["unknown_lines"] == 2 and trace["unknown_examples"] == expected.unknown_examples
    assert trace["unmatched_frees"] == 1 and trace["steps"] == len(expected.ops)
    assert trace["summary"] == expected.summary()
    with small_client.websocket_connect(created["ws"]) as ws:
        hello, snap = open_session(ws)
        assert hello["source"]["trace"] == trace and snap["config"]["source"]["trace"] == trace
        assert snap["config"]["hinting"] == "reporting"
    session = session_of(small_client, created["id"])
    assert list(session.plan.source.workload) == expected.ops
    # the replay runs: every traced allocation is a model allocation
    view = start_branch(0, session.plan, CheckpointPolicy())
    run_workload(view, CheckpointPolicy(), 10**6)
    allocs = expected.events["mm_page_alloc"]
    assert sum(len(live) for live in view.ws.runner.labels.values()) <= allocs
    r = small_client.post("/api/sessions/from-trace", content="hello\nworld\n")
    assert r.status_code == 422 and "no kmem:mm_page_alloc" in r.json()["detail"][0]["msg"]


def test_trace_sessions_export_their_text_once(small_client: TestClient) -> None:
    created = small_client.post("/api/sessions", json={"trace": sample_trace()}).json()
    with small_client.websocket_connect(created["ws"]) as ws:
        open_session(ws)
        for n in range(3):
            command(ws, n, type="step")
        command(ws, 10, type="configure", hinting="reporting")
        command(ws, 11, type="configure", kernel="5.7")
    doc = small_client.get(f"/api/sessions/{created['id']}/export").json()
    assert len(doc["branches"]) == 3 and len(doc["files"]) == 1
    (sha,) = doc["files"]
    assert all(b["config"]["trace"] == f"@file:sha256:{sha}" for b in doc["branches"])
    assert len(json.dumps(doc)) < len(sample_trace()) + 3000
    r = small_client.post("/api/sessions/import", json=doc)
    assert r.status_code == 201, r.text
    old = session_of(small_client, created["id"])
    new = session_of(small_client, r.json()["id"])
    assert new.view.node.buddyinfo() == old.view.node.buddyinfo()
    assert new.plan.config == old.plan.config and new.view.pos == old.view.pos
    assert small_client.get(f"/api/sessions/{r.json()['id']}/export").json() == doc
    tampered = {**doc, "files": {sha: sample_trace() + "\n"}}
    r = small_client.post("/api/sessions/import", json=tampered)
    assert r.status_code == 409 and "does not match" in r.json()["detail"]


# --- the command line --------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("buddyscope")
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=120, check=False
    )


def _end_of(plan_fields: dict[str, Any]) -> View:
    from backend.sources import SessionConfig, plan_for

    view = start_branch(0, plan_for(SessionConfig(**plan_fields)), CheckpointPolicy())
    run_workload(view, CheckpointPolicy(), 10**6)
    return view


def test_simulate_takes_traces_snapshots_and_files(tmp_path: Path) -> None:
    trace = tmp_path / "host.trace"
    trace.write_text(noisy_trace())
    result = run_cli("simulate", "--trace", str(trace), "--strategy", "reporting")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout == _end_of({"trace": noisy_trace(), "hinting": "reporting"}).node.buddyinfo()
    )
    assert "1 frees of pages allocated before the trace began" in result.stderr
    result = run_cli("simulate", "--trace", str(trace), "--format", "json", "--until", "5")
    doc = json.loads(result.stdout)
    assert doc["steps"] == 5 and doc["source"]["trace"]["unknown_lines"] == 2

    bi, pti = tmp_path / "buddyinfo", tmp_path / "pagetypeinfo"
    bi.write_text(BUDDYINFO)
    pti.write_text(PAGETYPEINFO)
    result = run_cli("simulate", "--buddyinfo", str(bi), "--pagetypeinfo", str(pti))
    assert result.returncode == 0, result.stderr
    assert result.stdout == from_buddyinfo(BUDDYINFO, PAGETYPEINFO).buddyinfo()
    result = run_cli(
        "simulate", "--buddyinfo", str(bi), "--format", "pagetypeinfo", "--strategy", "reporting"
    )
    assert result.stdout == from_buddyinfo(BUDDYINFO, hinting="reporting").pagetypeinfo()

    wl = tmp_path / "w.json"
    wl.write_text(json.dumps(WORKLOAD))
    result = run_cli("simulate", "--workload", str(wl))
    assert result.stdout == _end_of({"workload": json.dumps(WORKLOAD)}).node.buddyinfo()

    for args, needle in (
        (["--pagetypeinfo", str(pti)], "--pagetypeinfo goes with --buddyinfo"),
        (["--trace", str(tmp_path / "none")], "cannot read"),
        (["--buddyinfo", str(pti)], "line 1"),
        (["--trace", str(bi)], "no kmem:mm_page_alloc"),
        (["--trace", str(trace), "--buddyinfo", str(bi)], "not allowed with"),
    ):
        result = run_cli("simulate", *args)
        assert result.returncode == 2 and needle in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1


def test_live_command_delegates_to_the_model(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "buddyinfo").write_text(BUDDYINFO)
    result = run_cli("live", "--once", "--format", "json", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [r["zone"] for r in data["buddyinfo"]] == ["DMA", "DMA32", "Normal"]
    assert any("pagetypeinfo does not exist" in m for m in data["messages"])
    result = run_cli("live", "--once", "--root", str(tmp_path))
    assert "free blocks per order" in result.stdout and "note:" in result.stdout
    help_text = run_cli("live", "--help").stdout
    assert "usage: buddyscope live" in help_text and "--once" in help_text
    assert "live" in run_cli("--help").stdout


def test_hello_of_the_default_session_names_its_scenario(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as ws:
        hello = receive(ws)
        assert hello["source"]["kind"] == "scenario" and hello["source"]["name"] == "small"
