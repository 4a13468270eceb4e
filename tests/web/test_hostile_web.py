"""Issue 15, what a hostile web page (or a hostile classroom neighbour) must not do:
DNS rebinding (point 2), cross-site requests (3), saved sessions of others (4), stalled
followers (5), taking every slot (7), session ids (9), look-alike names (12), files (13).

Each test drives the app as an attacker would and checks both the refusal and that
nothing in the server changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from wirehelp import open_session

from backend.app import create_app
from backend.cli import parse_args
from backend.guard import HostPolicy, host_name
from backend.scenarios import build_small

pytestmark = pytest.mark.timeout(120)

EVIL = "evil.example:8000"
BUDDYINFO = "Node 0, zone   Normal " + " ".join(["8", "4", "2", "1"] + ["0"] * 7) + "\n"


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
