"""Bad input and safety: nothing a client sends crashes the server or corrupts a session.

Limits are enforced with clear errors, oversized messages close the socket with 1009,
and a property test throws random (valid, invalid and garbage) messages at a session:
every message gets exactly one answer, the connection survives, the model's invariants
hold, and the state rebuilt from the frames equals a fresh snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.websockets import WebSocketDisconnect
from wirehelp import Mirror, command, open_session, receive, until_answer

from allocator_model.sources.builtin import build_small
from backend.app import create_app
from backend.audience import Client, Frame
from backend.protocol import CLIENT_TYPES
from backend.session import EVENT_KINDS, Settings
from backend.timeline import CheckpointPolicy

pytestmark = pytest.mark.timeout(600)


def small_app(**limits: Any) -> TestClient:
    return TestClient(
        create_app(build_small, settings=Settings(**limits), allowed_hosts=("testserver",))
    )


def test_an_oversized_message_closes_the_socket_with_1009() -> None:
    with small_app(max_message_bytes=1000) as client, client.websocket_connect("/ws") as ws:
        hello, _ = open_session(ws)
        assert hello["limits"]["max_message_bytes"] == 1000
        _, ack = command(ws, 1, type="ping", session=hello["session"])
        assert ack["type"] == "ack"
        ws.send_text(json.dumps({"type": "ping", "pad": "x" * 1000}))
        with pytest.raises(WebSocketDisconnect) as exc:
            receive(ws)
        assert exc.value.code == 1009
    # multi-byte characters count as bytes
    with small_app(max_message_bytes=1000) as client, client.websocket_connect("/ws") as ws:
        open_session(ws)
        ws.send_text('{"type": "ping", "x": "' + "é" * 600 + '"}')
        with pytest.raises(WebSocketDisconnect) as exc:
            receive(ws)
        assert exc.value.code == 1009


def test_the_session_limit_is_enforced_with_a_clear_error() -> None:
    with small_app(max_sessions=2) as client:
        with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
            open_session(a)
            open_session(b)
            with client.websocket_connect("/ws") as c:
                err = receive(c)
                assert err["code"] == "limit" and "2 sessions" in err["message"]
                with pytest.raises(WebSocketDisconnect) as exc:
                    receive(c)
                assert exc.value.code == 1013
        # nobody watches them any more: the oldest idle one makes room
        with client.websocket_connect("/ws") as d:
            assert open_session(d)[0]["role"] == "controller"


def test_the_viewer_limit_is_enforced() -> None:
    with small_app(max_viewers=2) as client, client.websocket_connect("/ws") as boss:
        sid = open_session(boss)[0]["session"]
        with client.websocket_connect(f"/ws?session={sid}") as fan:
            open_session(fan)
            with client.websocket_connect(f"/ws?session={sid}") as extra:
                err = receive(extra)
                assert err["code"] == "limit" and "2 viewers" in err["message"]


def test_zone_size_and_timeline_length_limits() -> None:
    limits = {"max_pages_per_zone": 8192, "max_timeline_steps": 330}
    with small_app(**limits) as client, client.websocket_connect("/ws") as ws:
        _, snap = open_session(ws)
        _, err = command(ws, 1, type="configure", pages=16384)
        assert err["code"] == "limit" and "at most 8192" in err["message"]
        frames, ack = command(ws, 2, type="configure", pages=8192)
        assert ack["type"] == "ack"
        assert frames[0]["zones"][0]["spanned_pages"] == 8192
        n = snap["step"]
        while n < 330:
            _, ack = command(ws, 3, type="alloc", order=0)
            assert ack["type"] == "ack"
            n += 1
        _, err = command(ws, 4, type="alloc", order=0)
        assert err["code"] == "limit" and "330 steps" in err["message"]


def test_origins_can_be_allowed_explicitly() -> None:
    app = create_app(
        build_small, allowed_origins=("http://proxy.example",), allowed_hosts=("testserver",)
    )
    with TestClient(app) as client:
        with client.websocket_connect("/ws", headers={"origin": "http://proxy.example"}) as ws:
            assert open_session(ws)[0]["role"] == "controller"
        with (
            pytest.raises(WebSocketDisconnect),
            client.websocket_connect("/ws", headers={"origin": "http://other.example"}),
        ):
            pass


# --- the bounded queue -------------------------------------------------------------------


class _Msg:
    type = "delta"

    def __init__(self, n: int) -> None:
        self.n = n

    def model_dump_json(self, warnings: bool = False) -> str:
        return f'{{"type":"delta","seq":0,"n":{self.n}}}'


def frame(n: int) -> Frame:
    return Frame(_Msg(n), version=n)  # type: ignore[arg-type]


def test_a_full_queue_drops_state_messages_and_asks_for_a_resync() -> None:
    one = len(frame(0))
    client = Client("follower", max_bytes=4 * one)
    client.reply('{"type":"ack","id":1}')
    for n in range(4):
        client.offer(frame(n))
    assert len(client.queue) == 5 and not client.needs_resync
    client.offer(frame(99))  # over its bytes
    assert client.needs_resync and client.resyncs == 1
    assert list(client.queue) == ['{"type":"ack","id":1}']  # answers are kept
    for n in range(100):
        client.offer(frame(n))  # nothing piles up while a resync is due
    assert len(client.queue) == 1
    assert client.take() is None  # the resync snapshot comes first


def test_a_queue_is_bounded_by_bytes_not_by_messages() -> None:
    client = Client("follower", max_bytes=100 * len(frame(99)))
    for n in range(100):
        client.offer(frame(n))  # many small messages fit
    assert len(client.queue) == 100 and not client.needs_resync


def test_frames_are_numbered_per_connection() -> None:
    client = Client("follower")
    for n in range(3):
        client.offer(frame(n))
    texts = []
    while (item := client.take()) is not None:
        assert not isinstance(item, str)
        texts.append(item[0].render(item[1]))
    assert [json.loads(t)["seq"] for t in texts] == [1, 2, 3]
    assert [json.loads(t)["n"] for t in texts] == [0, 1, 2]


# --- the socket, fuzzed ------------------------------------------------------------------

_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=8),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
    st.integers(-(2**70), 2**70),
)
_fields: dict[str, st.SearchStrategy[Any]] = {
    "id": st.integers(0, 1000) | _junk,
    "step": st.integers(-3, 400) | _junk,
    "order": st.integers(-1, 12) | _junk,
    "pfn": st.integers(0, 4200) | _junk,
    "migratetype": st.sampled_from(["Movable", "Unmovable", "Reclaimable", "CMA", "x"]),
    "zone": st.sampled_from(["Normal", "DMA", "?"]) | st.none(),
    "seconds": st.floats(0, 3) | _junk,
    "speed": st.floats(0.5, 300) | _junk,
    "value": st.floats(0.5, 300) | _junk,
    "kind": st.sampled_from([*EVENT_KINDS[:6], "report", "nope"]),
    "kinds": st.lists(st.sampled_from(["merge", "report", "x"]), max_size=2),
    "on": st.booleans() | _junk,
    "branch": st.integers(0, 4) | _junk,
    "scenario": st.sampled_from(["small", "buddy-basics", "v2-merge", "nope"]),
    "hinting": st.sampled_from(["none", "hinting-v2", "reporting", "bogus"]),
    "kernel": st.sampled_from(["5.3", "5.7", "5.10", "4.19"]),
    "constants": st.dictionaries(st.sampled_from(["capacity", "hwm", "zzz"]), st.integers(0, 64)),
    "seed": st.integers(0, 5) | _junk,
    "pages": st.sampled_from([4096, 8192, 3, 10**9]),
    "session": st.text(max_size=4),
}
_command = st.fixed_dictionaries(
    {"type": st.sampled_from([t for t in CLIENT_TYPES if t != "play"])}, optional=_fields
)
_garbage = st.one_of(
    st.text(max_size=40),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids),
        max_leaves=8,
    ).map(json.dumps),
)


def _typed(name: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"type": st.just(name), **fields})


_valid = st.one_of(
    _typed("step"),
    _typed("step"),
    _typed("back"),
    _typed("first"),
    _typed("last"),
    _typed("seek", step=st.integers(0, 330)),
    _typed(
        "alloc", order=st.integers(0, 10), migratetype=st.sampled_from(["Movable", "Unmovable"])
    ),
    _typed("free", pfn=st.integers(0, 4096), order=st.integers(0, 4)),
    _typed("touch", pfn=st.integers(0, 4096), order=st.integers(0, 2)),
    _typed("advance", seconds=st.floats(0, 3)),
    _typed("configure", hinting=st.sampled_from(["none", "hinting-v2", "reporting"])),
    _typed("configure", scenario=st.sampled_from(["small", "buddy-basics", "v2-merge"])),
    _typed("configure", seed=st.integers(0, 3)),
    _typed("reset"),
    _typed("branch", branch=st.integers(0, 3)),
    _typed("run_to", kind=st.sampled_from(["merge", "split", "report", "flag_set"])),
    _typed("breakpoints", kinds=st.lists(st.sampled_from(["merge", "report"]), max_size=2)),
    _typed("follow", on=st.booleans()),
    _typed("speed", value=st.floats(0.5, 100)),
    _typed("pause"),
    _typed("get_snapshot"),
)
_message = st.one_of(
    _valid.map(json.dumps),
    _valid.map(json.dumps),
    _valid.map(json.dumps),
    _command.map(json.dumps),
    _garbage,
    st.binary(max_size=20),
)


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[TestClient]:
    limits = Settings(
        max_pages_per_zone=8192,
        run_to_max_steps=200,
        max_timeline_steps=2000,
        checkpoint=CheckpointPolicy(budget_s=1e-3, min_gap=16, max_gap=64),
    )
    with TestClient(
        create_app(build_small, settings=limits, allowed_hosts=("testserver",))
    ) as client:
        yield client


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messages=st.lists(_message, max_size=25))
def test_nothing_a_client_sends_breaks_the_session(
    fuzz_client: TestClient, messages: list[str | bytes]
) -> None:
    with fuzz_client.websocket_connect("/ws") as ws:
        hello, snap = open_session(ws)
        mirror = Mirror(snap)
        for message in messages:
            if isinstance(message, bytes):
                ws.send_bytes(message)
            else:
                ws.send_text(message)
            frames, answer = until_answer(ws)  # exactly one answer per message
            for f in frames:
                mirror.apply(f)
            if answer["type"] == "ack" and answer["seq"] is not None:
                assert answer["seq"] == mirror.seq
        ws.send_json({"type": "follow", "on": True, "id": 1})  # back to the session's view
        frames, _ = until_answer(ws)
        for f in frames:
            mirror.apply(f)
        frames, _ = command(ws, 2, type="get_snapshot")
        fresh = Mirror(frames[0] | {"seq": 1})
        if mirror.seq:
            assert mirror.state() == fresh.state()
        session = fuzz_client.app.state.buddyscope.manager.get(hello["session"])  # type: ignore[attr-defined]
        session.view.node.check()  # the model's invariants hold
