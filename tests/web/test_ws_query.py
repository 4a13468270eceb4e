"""``/ws?scenario=&seed=&strategy=&kernel=&pages=`` opens a new session with that
configuration in one step (the page's shareable URL), checked as ``configure`` checks
it; and ``breakpoints`` reaches every viewer as a delta with the new marks.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from wirehelp import Mirror, command, open_session, receive

from backend.protocol import CLOSE_BAD_QUERY

pytestmark = pytest.mark.timeout(600)


def sessions(client: TestClient) -> int:
    return len(client.app.state.buddyscope.manager.sessions)  # type: ignore[attr-defined]


def refusal(client: TestClient, query: str) -> dict[str, Any]:
    """The error a /ws query gets; the socket then closes with 4400."""
    with client.websocket_connect("/ws" + query) as ws:
        err = receive(ws)
        assert err["type"] == "error", err
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_text()
        assert exc.value.code == CLOSE_BAD_QUERY
    return err


def test_the_query_opens_a_new_session_with_that_configuration(
    small_client: TestClient,
) -> None:
    before = sessions(small_client)
    query = "?scenario=v2-boundary&seed=3&strategy=reporting&kernel=5.7"
    with small_client.websocket_connect("/ws" + query) as ws:
        hello, snap = open_session(ws)
        assert hello["role"] == "controller" and hello["token"]
        assert hello["source"]["name"] == "v2-boundary"
        config = snap["config"]
        assert (config["scenario"], config["seed"], config["hinting"], config["kernel"]) == (
            "v2-boundary", 3, "reporting", "5.7",
        )  # fmt: skip
        # One session, started like that: no configure branch on top of a default one.
        assert sessions(small_client) == before + 1
        assert [b["reason"] for b in snap["branches"]] == ["start"]
        # The same as opening the default and sending configure.
    with small_client.websocket_connect("/ws") as ws:
        open_session(ws)
        frames, _ = command(
            ws, 1, type="configure", scenario="v2-boundary", seed=3, hinting="reporting",
            kernel="5.7",
        )  # fmt: skip
        assert frames[0]["config"] == config
        assert frames[0]["zones"] == snap["zones"]


def test_pages_alone_opens_a_one_zone_session_of_that_size(default_client: TestClient) -> None:
    with default_client.websocket_connect("/ws?pages=8192&strategy=hinting-v2") as ws:
        _, snap = open_session(ws)
        assert [(z["name"], z["spanned_pages"]) for z in snap["zones"]] == [("Normal", 8192)]
        assert snap["config"]["scenario"] == "small" and snap["config"]["pages"] == 8192
    # With a scenario, pages resizes its last zone, as configure does.
    with default_client.websocket_connect("/ws?scenario=default&pages=8192") as ws:
        _, snap = open_session(ws)
        assert [z["spanned_pages"] for z in snap["zones"]][-1] == 8192
        assert len(snap["zones"]) == 3


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ("?seed=x", "invalid_field", "query parameter 'seed': Input should be a valid integer"),
        ("?strategy=v2", "invalid_field", "query parameter 'strategy': Input should be 'none'"),
        ("?kernel=6.1", "invalid_field", "query parameter 'kernel': Input should be '5.3'"),
        ("?pages=0", "invalid_field", "query parameter 'pages': Input should be greater than"),
        ("?scenario=", "invalid_field", "query parameter 'scenario': String should have at"),
        ("?scenario=nope", "invalid_config", "unknown scenario 'nope'; choose one of default"),
        ("?pages=9999999", "limit", "zone Normal would have 9999999 pages; this server allows"),
        ("?color=red", "invalid_field", "unknown query parameter 'color'; /ws takes session,"),
        ("?seed=1&seed=2", "invalid_field", "query parameter 'seed' is given twice"),
        ("?token=abc", "invalid_field", "token goes with session="),
        ("?session=abc&seed=1", "invalid_field", "scenario, seed, strategy, kernel, pages and"),
        ("?constants=capacity", "invalid_field", "query parameter 'constants': 'capacity'"),
    ],
)
def test_a_bad_query_is_an_error_and_a_close_with_no_session_created(
    small_client: TestClient, query: str, code: str, message: str
) -> None:
    before = sessions(small_client)
    err = refusal(small_client, query)
    assert err["code"] == code and err["message"].startswith(message), err
    assert sessions(small_client) == before


def test_query_refusals_say_what_configure_says(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as ws:
        open_session(ws)
        for query, fields in (
            ("?scenario=nope", {"scenario": "nope"}),
            ("?pages=9999999", {"pages": 9999999}),
        ):
            _, answer = command(ws, 1, type="configure", **fields)
            err = refusal(small_client, query)
            assert (err["code"], err["message"]) == (answer["code"], answer["message"])
        # A wrong type: the same code and the same sentence about the field.
        _, answer = command(ws, 2, type="configure", kernel="6.1")
        err = refusal(small_client, "?kernel=6.1")
        assert answer["code"] == err["code"] == "invalid_field"
        assert answer["message"].split(": ", 2)[-1] == err["message"].split(": ", 1)[-1]


def test_breakpoints_reach_every_viewer_with_the_marks_they_make(
    small_client: TestClient,
) -> None:
    with small_client.websocket_connect("/ws?scenario=buffer-reuse") as boss:
        hello, snap = open_session(boss)
        sid = hello["session"]
        mirror = Mirror(snap)
        frames, _ = command(boss, 1, type="run_to", kind="refault")
        for f in frames:
            mirror.apply(f)
        refault_step = mirror.step
        with (
            small_client.websocket_connect(f"/ws?session={sid}") as fan,
            small_client.websocket_connect(f"/ws?session={sid}") as own,
        ):
            open_session(fan)
            open_session(own)
            command(own, 1, type="first")  # looks around on its own: a view at step 0
            frames, ack = command(boss, 2, type="breakpoints", kinds=["refault", "merge"])
            (delta,) = frames  # one state message, before the ack
            assert ack["seq"] == delta["seq"]
            mirror.apply(delta)
            assert delta["type"] == "delta" and delta["events"] == [] and delta["zones"] == []
            assert delta["step"] == refault_step
            assert delta["breakpoints"] == ["merge", "refault"]
            assert {"step": refault_step, "kind": "refault"} in delta["marks"]
            assert {m["kind"] for m in delta["marks"]} >= {"merge", "refault"}
            # What a fresh snapshot says, so the page needs nothing more.
            frames, _ = command(boss, 3, type="get_snapshot")
            assert delta["marks"] == frames[0]["marks"]
            assert delta["breakpoints"] == frames[0]["breakpoints"]
            assert delta["marks_truncated"] == frames[0]["marks_truncated"]
            # A follower gets the same delta; one on its own view, its view's marks.
            theirs = receive(fan)
            assert theirs["marks"] == delta["marks"]
            assert theirs["breakpoints"] == ["merge", "refault"]
            mine = receive(own)
            assert mine["step"] == 0 and mine["following"] is False
            assert mine["marks"] == delta["marks"]  # the same branch: the same marks
        # Ordinary deltas leave them out (null: unchanged).
        frames, _ = command(boss, 4, type="step")
        assert frames[0]["breakpoints"] is None and frames[0]["marks"] is None
        # Unknown kinds change nothing and send nothing.
        frames, err = command(boss, 5, type="breakpoints", kinds=["teapot"])
        assert frames == [] and err["code"] == "out_of_range"


def test_a_step_added_at_the_end_carries_its_seek_bar_mark(small_client: TestClient) -> None:
    """Marks of steps played or made past the recorded end reach the page with the step;
    stepping through recorded steps sends none (the snapshot listed them)."""
    with small_client.websocket_connect("/ws?scenario=buffer-reuse") as ws:
        _hello, snap = open_session(ws)
        assert snap["step"] == 0 and snap["timeline_length"] == 45  # recorded at the start
        for n in range(1, 4):
            command(ws, n, type="step")
        command(ws, 7, type="first")
        frames, _ = command(ws, 8, type="step")
        assert frames[0]["step"] == 1
        assert frames[0]["mark"] is None  # a recorded step: its mark came with the snapshot
        command(ws, 2, type="breakpoints", kinds=["alloc"])
        frames, _ = command(ws, 3, type="last")
        end = frames[0]["step"]
        assert end == 45
        frames, _ = command(ws, 4, type="alloc", order=0, migratetype="Movable")
        (delta,) = [f for f in frames if f["type"] == "delta"]
        assert delta["step"] == delta["timeline_length"] == end + 1
        assert delta["mark"] == {"step": end + 1, "kind": "alloc"}
        frames, _ = command(ws, 5, type="get_snapshot")
        assert frames[0]["marks"][-1] == delta["mark"]  # what a fresh snapshot would say
        frames, _ = command(ws, 6, type="advance", seconds=0.0)
        (delta,) = [f for f in frames if f["type"] == "delta"]
        kinds = {e["kind"] for e in delta["events"]}
        assert delta["mark"] is None or delta["mark"]["kind"] in kinds
