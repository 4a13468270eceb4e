"""A seeded fuzz of the REST API and the websocket (issue 15's acceptance).

Hypothesis (derandomized: the same cases every run) sends over 10,000 requests and
commands: any JSON, and near-valid ones built from the real field names with hostile
values (lone surrogates, NaN, 2**64, huge counts, deep nesting).  Every answer must be
a refusal with a sentence or a success, never an internal error (a 5xx other than the
documented 503, or an ``internal`` error frame), and a refused one must leave the
server exactly as it was: the same sessions, and the controlled session at the same
step, branch, timeline and free lists.  The server runs small limits so a case that
is accepted stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wirehelp import open_session

from allocator_model.sources.builtin import build_small
from backend.app import create_app
from backend.protocol import CLIENT_TYPES
from backend.session import Session, Settings

pytestmark = pytest.mark.timeout(900)

#: Cases per test; four tests give 10,000.
CASES = 2500

FUZZ = settings(
    max_examples=CASES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

LIMITS = Settings(
    max_sessions=6,
    max_pages_per_zone=1 << 13,
    max_pages_per_session=1 << 14,
    max_pages_total=1 << 17,
    max_timeline_steps=400,
    run_to_max_steps=50,
    max_step_blocks=256,
    max_compare_steps=0,
    live=False,
)

HOSTILE_TEXT = ["\ud800", "\udfff", "a\ud800b", "", " ", "x" * 300, "..", "Normal", "Movable"]
text = st.one_of(st.text(max_size=12), st.sampled_from(HOSTILE_TEXT))
number = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-2, max_value=5000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 2**31, 2**32, 2**53, 2**63, 2**64, -1, 1e308, 0.5]),
)
scalar = st.one_of(st.none(), st.booleans(), number, text)
json_value = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)

FIELDS = [
    "id", "order", "migratetype", "zone", "count", "pfn", "step", "kind", "speed", "value",
    "seconds", "scenario", "hinting", "kernel", "constants", "seed", "pcp", "pages",
    "workload", "buddyinfo", "pagetypeinfo", "trace", "on", "reply", "kinds", "branch",
    "session", "name", "replace",
]  # fmt: skip
KINDS = ["merge", "split", "report", "refault", "teleport", "\ud800"]
field_value = st.one_of(
    scalar,
    json_value,
    st.sampled_from(
        [
            "Node 0, zone Normal 4294967296 1 1 1 1 1 1 1 1 1 1",
            "Node 0, zone Normal 1 2 3 4 5 6 7 8 9 10 2",
            '{"workload": [{"op": "alloc", "order": 0, "count": 1000000}]}',
            '{"workload": [{"op": "advance", "seconds": 1}], "title": "\\ud800"}',
            "x-1 [000] 1.0: mm_page_alloc: pfn=1 order=0 migratetype=1",
            {"delay_s": float("nan")},
            {"capacity": 2**63},
            *KINDS,
            *("none", "hinting-v2", "reporting", "5.3", "5.7", "5.10", "small", "buddy-basics"),
        ]
    ),
)
near_valid = st.dictionaries(st.sampled_from(FIELDS), field_value, max_size=4)
command = st.one_of(
    st.builds(lambda t, rest: {**rest, "type": t}, st.sampled_from(CLIENT_TYPES), near_valid),
    json_value,
)


def dumps(doc: Any) -> str:
    """JSON as Python writes it: lone surrogates escaped, NaN and Infinity as such."""
    return json.dumps(doc)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(build_small, settings=LIMITS, allowed_hosts=("testserver",))
    with TestClient(app) as c:
        yield c


def session_ids(client: TestClient) -> list[str]:
    return sorted(client.app.state.buddyscope.manager.sessions)  # type: ignore[attr-defined]


def fingerprint(session: Session) -> tuple[Any, ...]:
    view = session.view
    return (
        view.pos,
        view.length,
        view.branch.id,
        sorted(session.branches),
        view.branch.plan.config.model_dump_json(),
        session.speed,
        sorted(session.breakpoints),
        session.quiz_on,
        view.node.buddyinfo(),
    )


def check_rest(client: TestClient, method: str, url: str, body: str | None) -> None:
    before = session_ids(client)
    headers = {"content-type": "application/json"} if body is not None else {}
    raw = body.encode("utf-8", "surrogatepass") if body is not None else None  # bytes as sent
    r = client.request(method, url, content=raw, headers=headers)
    assert r.status_code < 500 or r.status_code == 503, (url, body, r.text)
    if r.status_code >= 400:
        assert session_ids(client) == before, (url, body, r.text)
        detail = r.json()["detail"]
        assert detail, r.text
    r.content.decode("utf-8")  # the answer is Unicode text


ROUTES = [
    "/api/sessions",
    "/api/sessions/from-workload",
    "/api/sessions/import",
    "/api/saved/x/open",
]


@FUZZ
@given(route=st.sampled_from(ROUTES), doc=json_value)
def test_rest_any_json(client: TestClient, route: str, doc: Any) -> None:
    check_rest(client, "POST", route, dumps(doc))


@FUZZ
@given(doc=near_valid, raw=st.booleans())
def test_rest_near_valid_configurations(client: TestClient, doc: dict[str, Any], raw: bool) -> None:
    doc.pop("id", None)
    if raw and isinstance(doc.get("workload"), str):
        check_rest(client, "POST", "/api/sessions/from-workload", doc["workload"])
    else:
        check_rest(client, "POST", "/api/sessions", dumps(doc))


@pytest.fixture(scope="module")
def controlled(client: TestClient) -> Iterator[tuple[Any, Session]]:
    with client.websocket_connect("/ws") as ws:
        hello, _ = open_session(ws)
        session = client.app.state.buddyscope.manager.get(hello["session"])  # type: ignore[attr-defined]
        yield ws, session


def answer_of(ws: Any) -> dict[str, Any]:
    """The next ack or error (the frames before it are not this suite's subject)."""
    while True:
        msg: dict[str, Any] = json.loads(ws.receive_text())
        if msg["type"] in ("ack", "error"):
            return msg


def check_command(ws: Any, session: Session, text: str) -> None:
    before = fingerprint(session)
    ws.send_text(text)
    answer = answer_of(ws)
    assert answer["code"] != "internal" if answer["type"] == "error" else True, answer
    if answer["type"] == "error":
        assert answer["message"], answer
        assert fingerprint(session) == before, (text, answer)
    if session.playing:  # play is accepted: stop it so the next case starts still
        ws.send_text('{"type": "pause"}')
        answer_of(ws)


@FUZZ
@given(cmd=command)
def test_websocket_commands(controlled: tuple[Any, Session], cmd: Any) -> None:
    ws, session = controlled
    check_command(ws, session, dumps(cmd))


@FUZZ
@given(cmd=command, cut=st.integers(min_value=0, max_value=40))
def test_websocket_broken_frames(controlled: tuple[Any, Session], cmd: Any, cut: int) -> None:
    ws, session = controlled
    text = dumps(cmd)
    check_command(ws, session, text[: max(1, len(text) - cut)] if cut else "[" * 1000)
