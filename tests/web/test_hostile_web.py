"""Issue 15, what a hostile web page (or a hostile classroom neighbour) must not do:
DNS rebinding (point 2), cross-site requests (3), saved sessions of others (4), stalled
followers (5), taking every slot (7), session ids (9), look-alike names (12), files (13).

Each test drives the app as an attacker would and checks both the refusal and that
nothing in the server changed.
"""

from __future__ import annotations

import io
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.websockets import WebSocketDisconnect
from wirehelp import open_session, serve

from allocator_model.sources.builtin import build_small
from backend import cli
from backend.app import create_app
from backend.audience import CLOSE_NOT_READING, Client, Frame
from backend.cli import parse_args
from backend.guard import HostPolicy, host_name
from backend.names import normalise, skeleton
from backend.session import Settings
from backend.store import KeyExposed, server_key

pytestmark = pytest.mark.timeout(600)

EVIL = "evil.example:8000"
BUDDYINFO = "Node 0, zone   Normal " + " ".join(["8", "4", "2", "1"] + ["0"] * 7) + "\n"


class Snapshotish(BaseModel):
    """A message numbered as a snapshot is: ``type`` and ``seq`` first."""

    type: str = "snapshot"
    seq: int = 0
    n: int
    text: str

    def __init__(self, n: int, text: str) -> None:
        super().__init__(n=n, text=text)


def _client(hosts: tuple[str, ...] = (), **kw: Any) -> TestClient:
    return TestClient(create_app(build_small, allowed_hosts=("testserver", *hosts), **kw))


@pytest.fixture
def client() -> Iterator[TestClient]:
    with _client() as c:
        yield c


def _sessions(client: TestClient) -> int:
    return len(client.app.state.buddyscope.manager.sessions)  # type: ignore[attr-defined]


# --- point 2: DNS rebinding -------------------------------------------------------------


def test_a_rebound_host_name_gets_nothing(client: TestClient) -> None:
    """A page on evil.example re-pointed at 127.0.0.1: Host and Origin agree, and yet
    neither the websockets nor the REST routes answer it."""
    page = {"host": EVIL, "origin": f"http://{EVIL}"}
    for path in ("/ws", "/ws/live"):
        with (
            pytest.raises(WebSocketDisconnect) as exc,
            client.websocket_connect(path, headers=page),
        ):
            pass
        assert exc.value.code == 1008
    before = _sessions(client)
    r = client.get("/api/sessions", headers=page)
    assert r.status_code == 400 and "evil.example" in r.json()["detail"]
    assert "--allow-host" in r.json()["detail"]
    assert client.post("/api/sessions", json={}, headers=page).status_code == 400
    assert client.delete("/api/saved/x", headers={"host": EVIL}).status_code == 400
    assert client.get("/metrics", headers={"host": EVIL}).status_code == 400
    assert _sessions(client) == before
    # The same requests under this server's own name work.
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
        assert open_session(ws)[0]["role"] == "controller"


def test_allow_host_adds_a_name_and_origins_must_match_the_host() -> None:
    with _client(("lab.example",)) as c:
        r = c.get("/api/sessions", headers={"host": "lab.example:8000"})
        assert r.status_code == 200
        # An allowed Host does not make any Origin acceptable: it must be that host.
        r = c.post(
            "/api/sessions",
            json={},
            headers={"host": "lab.example:8000", "origin": "http://testserver"},
        )
        assert r.status_code == 403
        r = c.post(
            "/api/sessions",
            json={},
            headers={"host": "lab.example:8000", "origin": "http://lab.example:8000"},
        )
        assert r.status_code == 201


def test_the_host_policy() -> None:
    local = HostPolicy("127.0.0.1")
    for ok in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000", "app.localhost", "127.0.0.2"):
        assert local.host_allowed(ok), ok
    for bad in ("evil.example", "evil.example:8000", "192.168.1.10:8000", "", "localhost.evil"):
        assert not local.host_allowed(bad), bad
    # Bound to every address: an address literal cannot be a rebound name.
    anywhere = HostPolicy("0.0.0.0", hosts=["lab.example"])
    assert anywhere.host_allowed("192.168.1.10:8000") and anywhere.host_allowed("lab.example")
    assert not anywhere.host_allowed("evil.example")
    assert HostPolicy("10.0.0.5").host_allowed("10.0.0.5:80")
    assert not HostPolicy("10.0.0.5").host_allowed("10.0.0.6:80")
    assert host_name("[::1]:8000") == "::1" and host_name("LocalHost.:80") == "localhost"
    assert local.origin_allowed(None, "localhost:8000", "http")
    assert local.origin_allowed("http://localhost:8000", "localhost:8000", "http")
    assert not local.origin_allowed("http://localhost:8001", "localhost:8000", "http")
    assert not local.origin_allowed("null", "localhost:8000", "http")
    assert HostPolicy(origins=["https://proxy.example/"]).origin_allowed(
        "https://proxy.example", "localhost:8000", "http"
    )


def test_serve_passes_allow_host() -> None:
    args = parse_args(["serve", "--allow-host", "lab.example", "--allow-host", "pc7"])
    assert args.allow_host == ["lab.example", "pc7"]


# --- point 3: cross-site requests --------------------------------------------------------


def test_a_foreign_origin_changes_nothing(client: TestClient) -> None:
    foreign = {"origin": "http://evil.example"}
    before = _sessions(client)
    assert client.post("/api/sessions", json={}, headers=foreign).status_code == 403
    r = client.post(
        "/api/sessions/from-proc",
        content=BUDDYINFO,
        headers={**foreign, "content-type": "text/plain", "x-buddyscope-client": "x"},
    )
    assert r.status_code == 403 and "another origin" in r.json()["detail"]
    assert client.delete("/api/saved/x", headers=foreign).status_code == 403
    assert _sessions(client) == before


@pytest.mark.parametrize(
    "kind",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
def test_a_cross_site_form_post_is_refused(client: TestClient, kind: str) -> None:
    """What <form enctype=text/plain> (or a no-Origin browser) can send without asking:
    no session is created, uploaded, opened or deleted."""
    before = _sessions(client)
    for path, body in (
        ("/api/sessions", '{"scenario": "small", "x": "="}'),
        ("/api/sessions/from-proc", BUDDYINFO),
        ("/api/sessions/from-workload", "{}"),
        ("/api/saved/x/open", ""),
    ):
        r = client.post(path, content=body, headers={"content-type": kind})
        assert r.status_code == 415, (path, r.text)
        assert "X-Buddyscope-Client" in r.json()["detail"]
    assert _sessions(client) == before


def test_json_or_the_custom_header_passes(client: TestClient) -> None:
    assert client.post("/api/sessions", json={}).status_code == 201
    r = client.post(
        "/api/sessions/from-proc",
        content=BUDDYINFO,
        headers={"content-type": "text/plain", "x-buddyscope-client": "curl"},
    )
    assert r.status_code == 201, r.text
    # What the page sends (frontend/lib/sources.js uploadRequest).
    r = client.post(
        "/api/sessions/from-proc",
        content=BUDDYINFO,
        headers={
            "content-type": "text/plain",
            "x-buddyscope-client": "page",
            "origin": "http://testserver",
        },
    )
    assert r.status_code == 201, r.text


# --- point 4: saved sessions have owners -------------------------------------------------


def _new(client: TestClient) -> dict[str, Any]:
    r = client.post("/api/sessions", json={})
    assert r.status_code == 201
    created: dict[str, Any] = r.json()
    return created


def _save(
    client: TestClient, created: dict[str, Any], name: str, owner: str | None = None, **body: Any
) -> Any:
    headers = {"x-buddyscope-token": created["token"]}
    if owner is not None:
        headers["x-buddyscope-owner"] = owner
    return client.post(
        f"/api/sessions/{created['id']}/save", json={"name": name, **body}, headers=headers
    )


def _saved(client: TestClient) -> list[str]:
    return [e["name"] for e in client.get("/api/saved").json()]


def test_a_saved_entry_belongs_to_its_owner_key(client: TestClient) -> None:
    alice, mallory = _new(client), _new(client)
    r = _save(client, alice, "lecture 3")
    assert r.status_code == 200
    key = r.json()["owner_key"]
    assert len(key) >= 32
    # Mallory's own session token does not replace Alice's entry, nor does a guessed key.
    for owner in (None, "A" * 32):
        r = _save(client, mallory, "lecture 3", owner, replace=True)
        assert r.status_code == 403 and "owner key" in r.json()["detail"]
    # ... and deleting needs the key too.
    assert client.delete("/api/saved/lecture 3").status_code == 403
    r = client.delete("/api/saved/lecture 3", headers={"x-buddyscope-owner": "B" * 40})
    assert r.status_code == 403
    assert client.get("/api/saved").json()[0]["name"] == "lecture 3"
    # The owner replaces (from any session) and deletes with the key.
    assert _save(client, mallory, "lecture 3", key, replace=True).json()["owner_key"] == key
    assert (
        client.delete("/api/saved/lecture 3", headers={"x-buddyscope-owner": key}).status_code
        == 204
    )
    assert _saved(client) == []


def test_one_owner_key_keeps_several_entries(client: TestClient) -> None:
    created = _new(client)
    key = _save(client, created, "one").json()["owner_key"]
    assert _save(client, created, "two", key).json()["owner_key"] == key
    assert client.delete("/api/saved/two", headers={"x-buddyscope-owner": key}).status_code == 204
    r = _save(client, created, "three", "short")
    assert r.status_code == 403 and "not an owner key" in r.json()["detail"]


def test_listing_and_opening_are_the_owners_on_a_shared_server() -> None:
    with _client(settings=Settings(shared=True)) as c:
        created = _new(c)
        key = _save(c, created, "mine").json()["owner_key"]
        other = _save(c, created, "theirs").json()["owner_key"]
        own = {"x-buddyscope-owner": key}
        assert [e["name"] for e in c.get("/api/saved", headers=own).json()] == ["mine"]
        assert c.get("/api/saved").json() == []
        r = c.post("/api/saved/theirs/open", headers=own)
        assert r.status_code == 403 and "shared" in r.json()["detail"]
        assert c.post("/api/saved/mine/open", headers=own).status_code == 201
        r = c.post("/api/saved/theirs/open", headers={"x-buddyscope-owner": other})
        assert r.status_code == 201
    # Single-user default: the list and opening are public.
    with _client() as c:
        created = _new(c)
        _save(c, created, "mine")
        assert _saved(c) == ["mine"]
        assert c.post("/api/saved/mine/open").status_code == 201


def test_shared_quotas_and_the_send_timeout_are_serve_flags() -> None:
    args = parse_args(
        ["serve", "--shared", "--send-timeout", "2.5", "--max-sessions-per-client", "3",
         "--max-connections-per-client", "9", "--max-connections-per-token", "2"]
    )  # fmt: skip
    assert args.shared and args.send_timeout == 2.5
    assert (args.max_sessions_per_client, args.max_connections_per_client) == (3, 9)
    assert args.max_connections_per_token == 2
    assert not parse_args(["serve"]).shared


# --- point 12: look-alike names ----------------------------------------------------------


def test_look_alike_names_are_one_name(client: TestClient) -> None:
    created = _new(client)
    key = _save(client, created, "lecture 3").json()["owner_key"]
    # Trailing space: the same name (taken); a Cyrillic ie, case, doubled spaces, a
    # full-width digit, a Greek upsilon: confusable with it.
    assert _save(client, created, "lecture 3 ", key).status_code == 409
    for name in ("l\u0435cture 3", "Lecture 3", "lecture  3", "lecture \uff13", "lect\u03c5re 3"):
        r = _save(client, created, name, key)
        assert r.status_code == 409, name
        assert "looks like the saved session 'lecture 3'" in r.json()["detail"] or (
            "exists already" in r.json()["detail"]
        )
    r = _save(client, created, "l\u0435cture 3", key)
    assert "looks like the saved session 'lecture 3'" in r.json()["detail"]
    assert _saved(client) == ["lecture 3"]
    # Saved normalised: opening and deleting find it under either spelling of one name.
    r = _save(client, created, " lecture 4 ", key)
    assert r.json()["name"] == "lecture 4"
    assert client.post("/api/saved/lecture 4 /open").status_code == 201
    assert (
        client.delete("/api/saved/lecture 4", headers={"x-buddyscope-owner": key}).status_code
        == 204
    )


def test_the_skeleton() -> None:
    assert skeleton("l\u0435cture 3") == skeleton("lecture 3") == skeleton(" LECTURE\t3")
    assert skeleton("\u0406nfo") == skeleton("Info") == skeleton("lnfo")
    assert skeleton("v0") == skeleton("vo") and skeleton("lecture 3") != skeleton("lecture 4")
    assert normalise("\uff4c\uff45\uff43 \uff13 ") == "lec 3"


# --- point 13: files ----------------------------------------------------------------------


def test_saved_sessions_and_the_key_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with _client(data_dir=data) as c:
        _save(c, _new(c), "traces")
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for f in data.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f.name
    # A database left readable by an older version is made private again.
    (data / "sessions.sqlite3").chmod(0o644)
    with _client(data_dir=data):
        pass
    assert stat.S_IMODE((data / "sessions.sqlite3").stat().st_mode) == 0o600


def test_a_readable_server_key_is_refused(tmp_path: Path) -> None:
    server_key(tmp_path)
    (tmp_path / "server.key").chmod(0o644)
    with pytest.raises(KeyExposed, match="chmod 600"):
        server_key(tmp_path)
    err = io.StringIO()
    args = parse_args(["serve", "--no-open", "--data-dir", str(tmp_path), "--port", "1"])
    assert cli.serve(args, out=io.StringIO(), err=err) == 2
    assert "can be read by other users" in err.getvalue() and "Traceback" not in err.getvalue()


def test_an_internal_error_does_not_echo_the_exception(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.session import Session

    async def broken(self: Session, client: Any, cmd: Any) -> None:
        raise RuntimeError("/home/alice/secret.trace: boom")

    monkeypatch.setattr(Session, "handle", broken)
    with client.websocket_connect("/ws") as ws:
        open_session(ws)
        ws.send_json({"type": "ping", "id": 1})
        err = ws.receive_json()
    assert err["code"] == "internal" and "secret" not in err["message"]
    assert "boom" not in err["message"]


# --- point 9: session ids stay with their holders ----------------------------------------


def test_ids_are_listed_only_to_token_holders_and_not_in_metrics(client: TestClient) -> None:
    mine, theirs = _new(client), _new(client)
    assert client.get("/api/sessions").json() == []
    bad = {"x-buddyscope-token": "nope," + "x" * 32}
    assert client.get("/api/sessions", headers=bad).json() == []
    listed = client.get("/api/sessions", headers={"x-buddyscope-token": mine["token"]}).json()
    assert [s["id"] for s in listed] == [mine["id"]]
    assert client.get("/healthz").json()["sessions"] == 2  # how many, for anybody
    text = client.get("/metrics").text
    assert mine["id"] not in text and theirs["id"] not in text
    assert f'session="{listed[0]["label"]}"' in text  # the holder finds its own


# --- point 7: one client cannot take every slot ------------------------------------------


QUOTAS = Settings(
    max_sessions=3,
    max_sessions_per_client=2,
    max_connections_per_client=2,
    max_connections_per_token=1,
)


def test_one_address_cannot_push_out_others_sessions() -> None:
    app = create_app(build_small, allowed_hosts=("testserver",), settings=QUOTAS)
    with (
        TestClient(app, client=("10.0.0.1", 1)) as alice,
        TestClient(app, client=("10.0.0.2", 2)) as mallory,
    ):
        sessions = app.state.buddyscope.manager.sessions
        # Alice worked on one (controlled, now closed) and saved another.
        worked = _new(alice)
        with alice.websocket_connect(worked["ws"]) as ws:
            open_session(ws)
        kept = _new(alice)
        assert _save(alice, kept, "homework").status_code == 200
        # Mallory makes 40 sessions: only its own make room for its own.
        made = [mallory.post("/api/sessions", json={}) for _ in range(40)]
        assert all(r.status_code == 201 for r in made)
        assert worked["id"] in sessions and kept["id"] in sessions
        assert sum(1 for s in sessions.values() if s.peer == "10.0.0.2") == 1
        # Watched, its own cannot make room either: a clear 503, nothing evicted.
        with mallory.websocket_connect(made[-1].json()["ws"]) as ws:
            open_session(ws)
            r = mallory.post("/api/sessions", json={})
            assert r.status_code == 503 and "3 sessions, all in use" in r.json()["detail"]
        assert set(sessions) == {worked["id"], kept["id"], made[-1].json()["id"]}


def test_an_address_runs_at_most_its_quota() -> None:
    app = create_app(build_small, allowed_hosts=("testserver",), settings=QUOTAS)
    with TestClient(app, client=("10.0.0.1", 1)) as c:
        a, b = _new(c), _new(c)
        with c.websocket_connect(a["ws"]) as wa, c.websocket_connect(b["ws"]) as wb:
            open_session(wa)
            open_session(wb)
            r = c.post("/api/sessions", json={})
            assert r.status_code == 503 and "already runs 2 sessions" in r.json()["detail"]


def test_connections_are_counted_by_address_and_by_token() -> None:
    app = create_app(build_small, allowed_hosts=("testserver",), settings=QUOTAS)
    with TestClient(app, client=("10.0.0.1", 1)) as c:
        created = _new(c)
        with c.websocket_connect(created["ws"]) as boss:
            open_session(boss)
            # A second controller on the same token: over its quota of one.
            with c.websocket_connect(created["ws"]) as again:
                err = again.receive_json()
                assert err["code"] == "limit" and "token" in err["message"]
                with pytest.raises(WebSocketDisconnect) as exc:
                    again.receive_json()
                assert exc.value.code == 1013
            with c.websocket_connect(created["follow"]) as fan:
                open_session(fan)
                # The address's third connection.
                with c.websocket_connect(created["follow"]) as third:
                    err = third.receive_json()
                    assert err["code"] == "limit" and "2 connections" in err["message"]
        with c.websocket_connect(created["follow"]) as fan:  # closed ones count no more
            open_session(fan)


# --- point 5: followers that do not read -------------------------------------------------


def test_a_client_queue_is_bounded_in_bytes() -> None:
    client = Client("follower", max_bytes=10_000)
    for n in range(3):
        client.offer(Frame(Snapshotish(n, "x" * 4000)))
    assert client.needs_resync and client.resyncs == 1  # the third would pass 10,000 bytes
    assert not client.queue and client.queued_bytes == 0
    client.needs_resync = False
    client.offer(Frame(Snapshotish(9, "y")))
    assert client.queued_bytes == len(client.queue[0])  # type: ignore[arg-type]


def test_followers_in_step_share_one_encoding() -> None:
    before = Frame.encodes
    frame = Frame(Snapshotish(1, "z" * 100_000))
    assert Frame.encodes == before + 1
    assert frame.render(7) is frame.render(7)
    assert frame.wire(7) is frame.wire(7)  # the same bytes for every connection at seq 7
    assert frame.render(8).startswith('{"type":"snapshot","seq":8,')
    assert frame.wire(8).endswith(frame.render(8).encode())
    assert Frame.encodes == before + 1


def _ws_frames(stream: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of each server frame after the handshake's answer."""
    data = stream[stream.index(b"\r\n\r\n") + 4 :]
    frames, i = [], 0
    while i < len(data):
        opcode, n = data[i] & 0x0F, data[i + 1] & 0x7F
        i += 2
        if n >= 126:
            size = 2 if n == 126 else 8
            n, i = int.from_bytes(data[i : i + size], "big"), i + size
        frames.append((opcode, data[i : i + n]))
        i += n
    return frames


def test_a_client_that_does_not_read_is_dropped_and_nobody_waits() -> None:
    from test_live_ws import call, raw_follower, recv
    from websockets.sync.client import connect

    # The grace is long: the test reads what the stalled client left unread, at its pace.
    app = create_app(build_small, settings=Settings(send_timeout_s=1.0, stall_grace_s=600))
    with serve(app) as live, connect(live.ws_url, max_size=None) as boss:
        sid = recv(boss)["session"]
        recv(boss)
        call(boss, 1, type="configure", pages=262144)  # ~700 KB snapshots
        stalled = raw_follower(live, sid)
        session = live.state.manager.get(sid)
        assert session is not None
        while len(session.clients) < 2:
            call(boss, 2, type="ping")
        follower = next(c for c in session.clients if not c.is_controller)
        n = 0
        while follower in session.clients:  # the controller goes on meanwhile
            n += 1
            call(boss, 10 + n, type="seek", step=n % 2)
        assert follower.stalled and follower.closed
        assert call(boss, 3, type="ping")[-1]["type"] == "ack"
        # What it had not read ends with a close frame that says why; then the server
        # closes the connection.
        stalled.settimeout(60)
        stream = b""
        while chunk := stalled.recv(1 << 16):
            stream += chunk
        stalled.close()
        opcode, payload = _ws_frames(stream)[-1]
        assert opcode == 8
        assert int.from_bytes(payload[:2], "big") == CLOSE_NOT_READING == 4408
        assert payload[2:].decode() == "closed: nothing read for 1 s"
