"""Hostile input: texts whose size is implied by a number, limits, and bad requests.

Every refusal here is a 4xx with a sentence, spends no memory on what it refuses, and
leaves the server as it was.  Memory is measured (tracemalloc's peak over the request,
the app running in this process), never time.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from wirehelp import command, open_session, until_answer

from allocator_model.sources.builtin import build_small
from backend.app import create_app
from backend.session import Settings, plan_from_config
from backend.sources import SessionConfig, StepBudget
from backend.steps import TimelineError
from backend.timeline import CheckpointPolicy, start_branch

pytestmark = pytest.mark.timeout(600)

#: The issue's 53-byte text: one line claiming 2**32 free order-0 pages.
HUGE_PROC = "Node 0, zone Normal 4294967296 1 1 1 1 1 1 1 1 1 1"

#: A refusal may parse, validate and answer; it must not build anything per page.
SMALL_PEAK = 32 << 20


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(build_small, allowed_hosts=("testserver",))) as c:
        yield c


def peak_of(fn: Callable[[], Any]) -> tuple[Any, int]:
    """``fn()`` and the most memory Python held above the start while it ran."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        return result, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def sessions(client: TestClient) -> list[str]:
    return sorted(client.app.state.buddyscope.manager.sessions)  # type: ignore[attr-defined]


def refused(r: Any, status: int) -> str:
    """The sentence of a refusal (a ``detail`` string), after checking its status."""
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail
    return detail


@pytest.mark.parametrize("count", [2**32, 10**7])
@pytest.mark.parametrize("route", ["from-proc", "sessions"])
def test_a_proc_text_claiming_billions_of_pages_is_refused_before_any_is_built(
    client: TestClient, count: int, route: str
) -> None:
    text = HUGE_PROC.replace("4294967296", str(count))
    before = sessions(client)

    def post() -> Any:
        if route == "from-proc":
            return client.post("/api/sessions/from-proc", content=text.encode())
        return client.post("/api/sessions", json={"buddyinfo": text})

    r, peak = peak_of(post)
    detail = refused(r, 409)
    assert "pages together" in detail and "per session" in detail
    assert peak < SMALL_PEAK, f"refusing it held {peak >> 20} MiB"
    assert sessions(client) == before


def test_a_configure_to_such_a_text_is_refused_and_changes_nothing(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        open_session(ws)
        (frames, answer), peak = peak_of(
            lambda: command(ws, 1, type="configure", buddyinfo=HUGE_PROC)
        )
        assert answer["type"] == "error" and answer["code"] == "limit", answer
        assert "per session" in answer["message"] and frames == []
        assert peak < SMALL_PEAK, f"refusing it held {peak >> 20} MiB"
        _, ack = command(ws, 2, type="back")
        assert ack["type"] == "ack"


# --- what no request may carry: lone surrogates, NaN, huge integers, deep nesting -----

WORKLOAD = '{"workload": [{"op": "advance", "seconds": 1}]}'
#: A workload file whose title is a lone surrogate (a JSON escape inside the file).
SURROGATE_FILE = WORKLOAD.replace("{", '{"title": "\\ud800", ', 1)
JSON = {"content-type": "application/json"}

#: (route, raw JSON body): each a 422 before anything is created.
BAD_BODIES = [
    ("/api/sessions", b'{"scenario": "\\ud800"}'),
    ("/api/sessions", b'{"constants": {"\\udfff": 1}}'),
    ("/api/sessions", b'{"hinting": "reporting", "constants": {"delay_s": NaN}}'),
    ("/api/sessions", b'{"hinting": "reporting", "constants": {"delay_s": Infinity}}'),
    ("/api/sessions", b'{"hinting": "reporting", "constants": {"capacity": 9223372036854775808}}'),
    ("/api/sessions", b'{"seed": 18446744073709551616}'),
    ("/api/sessions", b"[" * 1000),
    ("/api/sessions", b'{"a":' * 70 + b"1" + b"}" * 70),
    (
        "/api/sessions",
        json.dumps({"workload": SURROGATE_FILE}).encode(),
    ),
    ("/api/sessions/import", b'{"name": "\\ud800", "branches": []}'),
    ("/api/sessions/from-workload", SURROGATE_FILE.encode()),
    ("/api/sessions/from-workload", b'{"workload": [{"op": "advance", "seconds": NaN}]}'),
    ("/api/sessions/from-workload", b'{"seed": 99999999999999999999, ' + WORKLOAD[1:].encode()),
    ("/api/sessions/from-workload", b"[" * 1000),
    ("/api/sessions/from-workload", b'{"workload": ' + b"[" * 900 + b"]" * 900 + b"}"),
]


@pytest.mark.parametrize(("route", "body"), BAD_BODIES)
def test_a_body_no_field_means_is_a_422_sentence_that_echoes_nothing(
    client: TestClient, caplog: pytest.LogCaptureFixture, route: str, body: bytes
) -> None:
    before = sessions(client)
    caplog.clear()
    r = client.post(route, content=body, headers=JSON)
    assert r.status_code in (400, 422), r.text
    assert sessions(client) == before
    detail = r.json()["detail"]
    problems = [detail] if isinstance(detail, str) else [d["msg"] for d in detail]
    assert problems and all(isinstance(m, str) and m for m in problems)
    for raw in ("\\ud800", "\\udfff", "99999999999", "9223372036854775808", "[[[["):
        assert raw not in r.text
    assert "input" not in r.text
    assert len(caplog.records) <= 1 and all(len(rec.getMessage()) < 400 for rec in caplog.records)
    assert client.get("/api/sessions").status_code == 200


def test_a_validation_422_names_the_field_not_the_value(client: TestClient) -> None:
    r = client.post("/api/sessions", json={"seed": 2**40, "kernel": "x" * 50})
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["detail"]] == [["body", "kernel"], ["body", "seed"]]
    assert str(2**40) not in r.text and "xxxx" not in r.text


WS_BAD = [
    json.dumps({"type": "configure", "id": 1, "workload": SURROGATE_FILE}),
    '{"type": "configure", "id": 1, "scenario": "\\ud800"}',
    '{"type": "configure", "id": 1, "hinting": "reporting", "constants": {"delay_s": NaN}}',
    '{"type": "configure", "id": 1, "constants": {"capacity": 9223372036854775808}}',
    '{"type": "alloc", "id": 1, "order": 0, "count": 18446744073709551616}',
    '{"type": "seek", "id": 1, "step": 1e400}',
    "[" * 1000,
]


@pytest.mark.parametrize("text", WS_BAD)
def test_a_command_no_field_means_is_refused_and_changes_nothing(
    client: TestClient, text: str
) -> None:
    with client.websocket_connect("/ws") as ws:
        _, snap = open_session(ws)
        ws.send_text(text)
        _, answer = until_answer(ws)
        assert answer["type"] == "error" and answer["code"] != "internal", answer
        assert "\\ud800" not in answer["message"]
        # the session is as it was: the same snapshot when asked again
        _, ack = command(ws, 2, type="seek", step=snap["step"])
        assert ack["type"] == "ack"
    (sid,) = sessions(client)
    info = client.get(f"/api/sessions/{sid}").json()
    assert (info["scenario"], info["step"], info["branches"]) == ("small", snap["step"], 1)
    assert client.get("/api/sessions").status_code == 200


def test_a_run_to_that_finds_nothing_leaves_the_view_and_the_timeline_as_they_were() -> None:
    settings = Settings(run_to_max_steps=300)
    app = create_app(build_small, settings=settings, allowed_hosts=("testserver",))
    with TestClient(app) as c, c.websocket_connect("/ws") as ws:
        _, snap = open_session(ws)
        (sid,) = sessions(c)
        before = c.get(f"/api/sessions/{sid}").json()
        frames, answer = command(ws, 1, type="run_to", kind="refault")  # none: no hinting
        assert answer["type"] == "error" and answer["code"] == "not_found", answer
        assert f"the view stays at step {snap['step']}" in answer["message"]
        assert frames == []
        assert c.get(f"/api/sessions/{sid}").json() == before
        frames, _ = command(ws, 2, type="get_snapshot")
        assert frames[0]["step"] == snap["step"]
        assert frames[0]["timeline_length"] == snap["timeline_length"]
        assert frames[0]["zones"] == snap["zones"]


# --- sizes implied by numbers: zones, counts, expansions, and the server's budget -------


def workload(ops: list[dict[str, Any]], **fields: Any) -> str:
    return json.dumps({"workload": ops, **fields})


ZONES_8X4M = [[f"Z{i}", i << 22, 1 << 22] for i in range(8)]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (workload([{"op": "alloc", "order": 0, "count": 1_000_000}]), "per step"),
        (
            workload(
                [
                    {
                        "op": "repeat",
                        "times": 100,
                        "ops": [{"op": "alloc", "order": 0, "count": 1000}],
                    },
                    {"op": "free_all"},
                ]
            ),
            "per step",
        ),
        (
            workload(
                [{"op": "repeat", "times": 100_000, "ops": [{"op": "random", "steps": 100_000}]}]
            ),
            "more than 200000 steps",
        ),
        (workload([{"op": "advance", "seconds": 1}], config={"zones": ZONES_8X4M}), "per session"),
        (
            workload(
                [{"op": "advance", "seconds": 1}],
                config={"zones": [[f"Z{i}", i * 1024, 1024] for i in range(24)]},
            ),
            "24 zones",
        ),
    ],
)
def test_a_workload_whose_numbers_imply_too_much_is_refused_before_it_runs(
    client: TestClient, text: str, says: str
) -> None:
    before = sessions(client)
    r, peak = peak_of(lambda: client.post("/api/sessions", json={"workload": text}))
    assert r.status_code in (409, 422), r.text
    assert says in r.text
    assert peak < SMALL_PEAK, f"refusing it held {peak >> 20} MiB"
    assert sessions(client) == before


def test_a_step_over_the_event_budget_is_undone_and_refused() -> None:
    """A step that emits more events than a step may is refused with a sentence, and the
    session is as it was: the same step, timeline and pages."""
    app = create_app(
        build_small,
        settings=Settings(max_step_events=6),
        allowed_hosts=("testserver",),
        default_config=SessionConfig(workload=workload([{"op": "advance", "seconds": 0}])),
    )
    with TestClient(app) as c, c.websocket_connect("/ws") as ws:
        _, snap = open_session(ws)
        # Splitting an order-10 block down to one page: ten splits and their list moves.
        frames, answer = command(ws, 1, type="alloc", order=0)
        assert answer["type"] == "error" and answer["code"] == "limit", answer
        assert "alloc order 0 Movable would make" in answer["message"]
        assert "allows 6 events" in answer["message"] and "undone" in answer["message"]
        assert frames == []  # nothing was broadcast
        frames, _ = command(ws, 2, type="get_snapshot")
        again = frames[-1]
        for key in ("step", "timeline_length", "clock", "zones", "host", "branch"):
            assert again[key] == snap[key], key
        # A step within the budget still goes.
        _, answer = command(ws, 3, type="alloc", order=10)
        assert answer["type"] == "ack", answer


def test_a_step_over_the_cpu_budget_is_undone_and_refused() -> None:
    plan = plan_from_config(SessionConfig(scenario="small"), Settings())
    plan = replace(plan, budget=StepBudget(seconds=1e-9))  # every step takes longer
    policy = CheckpointPolicy()
    view = start_branch(0, plan, policy)
    before = [(bytes(z.page_state), list(z.nr_free)) for z in view.node.zones]
    with pytest.raises(TimelineError) as exc:
        view.forward(
            ("alloc", 0, "Movable", None), extend=True, policy=CheckpointPolicy(), max_steps=9
        )
    assert exc.value.code == "limit"
    assert "allows 262144 events and 1e-09 s per step" in str(exc.value)
    assert (view.pos, view.length) == (0, 0)
    assert [(bytes(z.page_state), list(z.nr_free)) for z in view.node.zones] == before


def test_repeats_of_nothing_expand_to_nothing_at_once(client: TestClient) -> None:
    nothing = {
        "op": "repeat",
        "times": 100_000,
        "ops": [{"op": "repeat", "times": 100_000, "ops": []}],
    }
    text = workload([nothing, {"op": "advance", "seconds": 1}])
    r = client.post("/api/sessions", json={"workload": text})
    assert r.status_code == 201, r.text
    # The whole workload is recorded when it opens: the advance is its one step.
    assert r.json()["session"]["timeline_length"] == 1


def test_the_servers_page_budget_refuses_a_session_or_a_configure_over_it() -> None:
    settings = Settings(max_pages_total=3 * 4096)
    app = create_app(build_small, settings=settings, allowed_hosts=("testserver",))
    with TestClient(app) as c:
        assert c.post("/api/sessions", json={"scenario": "small"}).status_code == 201
        assert c.post("/api/sessions", json={"scenario": "small"}).status_code == 201
        r = c.post("/api/sessions", json={"scenario": "small", "pages": 8192})
        assert r.status_code == 503 and "allows 12288 in all" in r.json()["detail"]
        before = sessions(c)
        with c.websocket_connect("/ws") as ws:  # the third small session fits
            open_session(ws)
            _, answer = command(ws, 1, type="configure", pages=8192)
            assert answer["type"] == "error" and answer["code"] == "limit", answer
            assert "allows 12288 in all" in answer["message"]
            _, ack = command(ws, 2, type="configure", pages=2048)
            assert ack["type"] == "ack"
        assert len(sessions(c)) == len(before) + 1


def test_a_real_machines_zone_may_be_far_larger_than_a_synthetic_one() -> None:
    """A /proc snapshot is bounded by the session's pages, not by the per-zone cap of
    synthetic sessions: a 25 GiB machine's Normal zone loads on a default server."""
    defaults = Settings()
    assert defaults.max_pages_per_session >= (64 << 30) // 4096 > defaults.max_pages_per_zone
    settings = Settings(max_pages_per_zone=4096, max_pages_per_session=1 << 16)
    app = create_app(build_small, settings=settings, allowed_hosts=("testserver",))
    big = "Node 0, zone Normal 5 4 3 2 1 0 0 0 0 0 40\n"  # 40 MAX_ORDER blocks: 41 Ki pages
    with TestClient(app) as c:
        r = c.post("/api/sessions", json={"buddyinfo": big})
        assert r.status_code == 201, r.text
        synthetic = c.post("/api/sessions", json={"scenario": "small", "pages": 8192})
        assert synthetic.status_code == 409 and "per zone" in synthetic.json()["detail"]
        too_big = big.replace(" 40\n", " 100\n")
        r = c.post("/api/sessions", json={"buddyinfo": too_big})
        assert r.status_code == 409 and "per session" in r.json()["detail"]


# --- /api/compare: a budget, off the event loop, stopped when nobody waits ---------------


def test_a_comparison_over_the_budget_is_refused_with_409() -> None:
    settings = Settings(max_compare_steps=100, max_compare_pages=1 << 20)
    app = create_app(build_small, settings=settings, allowed_hosts=("testserver",))
    with TestClient(app) as c:
        r = c.get("/api/compare", params={"scenario": "default"})
        assert r.status_code == 409 and "compares at most 100" in r.json()["detail"]
        big = workload(
            [{"op": "advance", "seconds": 1}], config={"zones": [["Normal", 0, 1 << 21]]}
        )
        sid = c.post("/api/sessions", json={"workload": big}).json()["id"]
        r = c.get("/api/compare", params={"session": sid})
        assert r.status_code == 409 and "nodes of at most 1048576" in r.json()["detail"]


def test_a_comparison_over_its_time_budget_stops_with_409() -> None:
    settings = Settings(max_compare_seconds=0)
    app = create_app(build_small, settings=settings, allowed_hosts=("testserver",))
    with TestClient(app) as c:
        r = c.get("/api/compare", params={"workload": "idle"})
        assert r.status_code == 409 and "took longer than 0 s" in r.json()["detail"]
        assert c.get("/healthz").status_code == 200


def test_a_comparison_stops_when_its_client_goes() -> None:
    """The worker thread is told to stop once the request is disconnected."""
    from allocator_model.lab.compare import ComparisonStopped
    from backend.comparison import _run_compare

    asked: list[bool] = []

    class Gone:
        async def is_disconnected(self) -> bool:
            return True

    def run(stop: Callable[[], bool]) -> None:
        released = threading.Event()
        while not stop():  # until the client's departure is seen
            released.wait(0.01)
        asked.append(True)
        raise ComparisonStopped("stopped")

    settings = Settings(max_compare_seconds=3600)
    with pytest.raises(HTTPException):
        asyncio.run(_run_compare(Gone(), settings, run))  # type: ignore[arg-type]
    assert asked == [True]


def test_compare_stops_between_operations() -> None:
    from allocator_model.lab.compare import ComparisonStopped, compare

    calls: list[int] = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(ComparisonStopped, match="none: stopped"):
        compare("random-mix", stop=stop)
    assert len(calls) == 4


# --- the CLI: a hostile file gets one line and status 2, read no further than its cap --


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["simulate", "--trace", "/dev/zero"], "longer than the 8388608 characters"),
        (["compare", "--trace", "/dev/zero"], "longer than the 8388608 characters"),
        (["simulate", "--buddyinfo", "HUGE"], "per session"),
        (["simulate", "--workload", "DEEP"], "nested deeper than 64 levels"),
        (["simulate", "--workload", "BIGINT"], "an integer beyond 64 bits"),
        (["compare", "--workload", "MANY"], "per step"),
        (["simulate", "--buddyinfo", "/nonexistent/buddyinfo"], "cannot read"),
    ],
)
def test_a_hostile_file_gets_one_line_and_status_2(
    tmp_path: Path, args: list[str], says: str
) -> None:
    files = {
        "HUGE": HUGE_PROC,
        "DEEP": "[" * 1000,
        "BIGINT": workload([{"op": "alloc", "order": 0, "count": 2**64}]),
        "MANY": workload([{"op": "alloc", "order": 0, "count": 1_000_000}]),
    }
    for i, arg in enumerate(args):
        if arg in files:
            path = tmp_path / arg
            path.write_text(files[arg])
            args[i] = str(path)
    # The command in a child that prints its own peak RSS (KiB) once it returns: VmHWM,
    # not ru_maxrss, which Linux carries over an exec from the forking pytest process
    # (hundreds of MiB after the browser tests).
    child = (
        "import sys\n"
        "from backend.cli import main\n"
        "status = main(sys.argv[1:])\n"
        "status_lines = open('/proc/self/status').read().splitlines()\n"
        "print(next(ln.split()[1] for ln in status_lines if ln.startswith('VmHWM:')))\n"
        "sys.exit(status)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", child, *args], capture_output=True, text=True, timeout=300
    )
    err = run.stderr
    assert run.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith(f"buddyscope {args[0]}: error: "), err
    assert says in err
    peak_kib = int(run.stdout)
    assert peak_kib < 200 << 10, f"it held {peak_kib >> 10} MiB"


def test_a_trace_timestamp_no_clock_can_hold_is_a_skipped_line() -> None:
    from allocator_model.sources.trace import parse_trace

    alloc = "x-1 [000] 1.0: mm_page_alloc: pfn=1 order=0 migratetype=1\n"
    free = "x-1 [000] 1" + "0" * 400 + ".0: mm_page_free: pfn=1 order=0\n"
    imported = parse_trace(alloc + free)
    assert imported.unknown_lines == 1 and imported.unknown_examples == [2]
    assert [op["op"] for op in imported.ops] == ["alloc"]


def test_a_refused_creation_evicts_nobody() -> None:
    settings = Settings(max_sessions=1)
    app = create_app(build_small, settings=settings, allowed_hosts=("testserver",))
    with TestClient(app) as c:
        assert c.post("/api/sessions", json={"scenario": "small"}).status_code == 201
        before = sessions(c)
        r = c.post("/api/sessions", json={"scenario": "small", "pages": 1 << 30})
        assert r.status_code == 409 and "per zone" in r.json()["detail"]
        assert sessions(c) == before
