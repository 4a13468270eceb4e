"""The websocket over real TCP (uvicorn on loopback): slow, stalled and vanishing clients.

A stalled follower (a raw socket that completes the handshake and never reads) must
not delay the controller or a fast follower, must not make its queue grow, and gets a
resync snapshot; a client that disappears mid-send leaves no traceback in the log.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect
from wirehelp import LiveServer, Mirror, serve

from allocator_model.sources.builtin import build_small
from backend.app import create_app
from backend.audience import Frame
from backend.protocol import server_message_adapter
from backend.session import Settings

pytestmark = pytest.mark.timeout(600)


def recv(ws: ClientConnection) -> dict[str, Any]:
    text = ws.recv(timeout=30)
    assert isinstance(text, str)
    server_message_adapter.validate_json(text)
    msg: dict[str, Any] = json.loads(text)
    return msg


def call(ws: ClientConnection, ident: int, **fields: Any) -> list[dict[str, Any]]:
    ws.send(json.dumps({**fields, "id": ident}))
    got = []
    while True:
        msg = recv(ws)
        got.append(msg)
        if msg["type"] in ("ack", "error") and msg.get("id") == ident:
            return got


def raw_follower(live: LiveServer, sid: str, rcvbuf: int = 4096) -> socket.socket:
    """A follower that completes the websocket handshake and then never reads."""
    host, port = live.url.split("//")[1].rstrip("/").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect((host, int(port)))
    sock.sendall(
        f"GET /ws?session={sid} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    return sock


@pytest.fixture(scope="module")
def live() -> Any:
    # No send timeout within a test: the stalled follower must stay to be looked at.
    limits = Settings(queue_bytes=2 << 20, send_timeout_s=3600)
    with serve(create_app(build_small, settings=limits)) as server:
        yield server


def test_a_stalled_follower_is_resynced_and_delays_nobody(live: LiveServer) -> None:
    with connect(live.ws_url, max_size=None) as boss:
        hello = recv(boss)
        sid = hello["session"]
        recv(boss)
        call(boss, 1, type="configure", pages=262144)  # big snapshots fill buffers fast
        stalled = raw_follower(live, sid)
        fast = connect(f"{live.ws_url}?session={sid}", max_size=None).__enter__()
        got: list[dict[str, Any]] = []
        done = threading.Event()

        def read_fast() -> None:
            recv(fast)
            mirror = Mirror(recv(fast))
            while not done.is_set() or got[-1:] != [{"type": "end"}]:
                msg = recv(fast)
                mirror.apply(msg)  # checks seq == previous + 1
                got.append({"type": msg["type"], "step": msg["step"]})
                if msg["type"] == "snapshot" and msg["step"] == 0 and done.is_set():
                    got.append({"type": "end"})
                    return

        reader = threading.Thread(target=read_fast, daemon=True)
        reader.start()
        session = live.state.manager.get(sid)
        assert session is not None
        # Delays nobody: the controller's 60 commands are all answered while the stalled
        # follower reads nothing (were it waited for, call() would never return).  No
        # clock is read: on a loaded machine the reader may fall behind too, and then it
        # is resynced like any slow client, which the mirror checks (seq in order).
        for n in range(30):  # 60 snapshots of ~700 KB each
            call(boss, 10 + n, type="back")
            call(boss, 100 + n, type="step")
        done.set()
        call(boss, 999, type="first")
        reader.join()  # it ends on the last snapshot, step 0 (pytest-timeout bounds it)
        assert got[-2:] == [{"type": "snapshot", "step": 0}, {"type": "end"}]
        followers = [c for c in session.clients if not c.is_controller]
        stalled_client = min(followers, key=lambda c: c.sent_frames)
        assert stalled_client.sent_frames < 30  # it read almost nothing ...
        assert stalled_client.resyncs >= 1  # ... so it was told to resync (3 snapshots
        # fit in its 2 MiB; 8 small messages fit too: the bound is bytes, not messages)
        assert stalled_client.queued_bytes <= 2 << 20  # bounded in bytes
        stalled.close()
        fast.close()


def test_a_client_vanishing_mid_send_leaves_no_traceback(
    live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with connect(live.ws_url, max_size=None) as boss:
        hello = recv(boss)
        sid = hello["session"]
        recv(boss)
        call(boss, 1, type="configure", pages=262144)
        for _ in range(3):
            sock = raw_follower(live, sid)
            time.sleep(0)  # let the server start sending
            call(boss, 2, type="back")
            # reset (RST) instead of a polite close, while snapshots are in flight
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            call(boss, 3, type="step")
        session = live.state.manager.get(sid)
        assert session is not None
        while len(session.clients) > 1:  # until the server saw both resets
            call(boss, 4, type="ping")
        assert len(session.clients) == 1
        assert call(boss, 5, type="ping")[-1]["type"] == "ack"
    bad = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert bad == [], [r.getMessage() for r in bad]


def test_the_server_compresses_frames_for_clients_that_ask(live: LiveServer) -> None:
    """Browsers negotiate permessage-deflate; a 1M-page snapshot then crosses the wire in
    kilobytes (docs/performance.md)."""
    with connect(live.ws_url, max_size=None) as ws:  # compression="deflate" by default
        assert ws.response is not None
        assert "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")
        assert recv(ws)["type"] == "hello"


def test_followers_share_one_encoding_of_each_message(live: LiveServer) -> None:
    """Every state message is encoded once, however many follow (and each follower
    still gets every one, in order)."""
    with connect(live.ws_url, max_size=None) as boss:
        sid = recv(boss)["session"]
        recv(boss)
        call(boss, 100, type="first")  # the scenario opens at its end: steps replay it
        fans = [
            connect(f"{live.ws_url}?session={sid}", max_size=None, compression=None).__enter__()
            for _ in range(3)
        ]
        mirrors = []
        for fan in fans:
            assert recv(fan)["type"] == "hello"
            mirrors.append(Mirror(recv(fan)))
        before = Frame.encodes
        for n in range(10):
            call(boss, n, type="step")
        assert Frame.encodes - before == 10  # one delta each, for the four of them
        for fan, mirror in zip(fans, mirrors, strict=True):
            for _ in range(10):
                msg = recv(fan)
                mirror.apply(msg)  # in order, nothing lost
                assert msg["type"] == "delta"
            fan.close()
