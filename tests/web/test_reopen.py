"""Control tokens outlive a restart, so a lost session can be reopened under its own id;
``constants`` in the ``/ws`` query; and the saved-session routes' rules: names "." and
".." refused (the page's rule too), no silent overwrite, the name taken only once
written.

A restart is a second app on the same ``--data-dir`` (its ``server.key``).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from wirehelp import command, open_session, receive

from allocator_model.sources.builtin import build_small
from backend.app import create_app
from backend.manager import SessionManager
from backend.protocol import CLOSE_BAD_QUERY, CLOSE_POLICY
from backend.rest.saved import SaveRequest
from backend.store import KEY_NAME

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "X-Buddyscope-Token"
QUERY = "scenario=buddy-basics&seed=4&strategy=reporting&kernel=5.7&constants=capacity:16"


@contextmanager
def server(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(
        create_app(build_small, data_dir=data_dir, allowed_hosts=("testserver",))
    ) as client:
        yield client


def manager(client: TestClient) -> SessionManager:
    m: SessionManager = client.app.state.buddyscope.manager  # type: ignore[attr-defined]
    return m


def closed_with(client: TestClient, path: str) -> tuple[dict[str, Any], int]:
    """The error a /ws path gets and the close code that follows it."""
    with client.websocket_connect(path) as ws:
        err = receive(ws)
        assert err["type"] == "error", err
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_text()
    return err, exc.value.code


def test_tokens_are_derived_from_the_key_kept_in_the_data_dir(tmp_path: Path) -> None:
    with server(tmp_path) as client:
        created = client.post("/api/sessions", json={"scenario": "small"}).json()
        sid, token = created["id"], created["token"]
        assert len(token) == 32 and len(sid) == 16
        other = client.post("/api/sessions", json={"scenario": "small"}).json()
        assert other["token"] != token
    key = tmp_path / KEY_NAME
    assert len(key.read_bytes()) == 32
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with server(tmp_path) as client:
        # Restarted: the session is gone, its token is still recognised.
        assert manager(client).sessions == {}
        assert manager(client).token_valid(sid, token)
        assert not manager(client).token_valid(sid, other["token"])
        assert not manager(client).token_valid(sid, None)
    # Another data dir is another key: the token means nothing there.
    with server(tmp_path / "elsewhere") as client:
        assert not manager(client).token_valid(sid, token)


def test_a_damaged_key_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / KEY_NAME).write_bytes(b"short")
    (tmp_path / KEY_NAME).chmod(0o600)  # private, as a key must be (else refused for that)
    refused = pytest.raises(RuntimeError, match="holds 5 bytes, not a 32-byte buddyscope server")
    with refused, server(tmp_path):
        pass


def test_a_lost_session_reopens_under_its_id_for_its_token_only(tmp_path: Path) -> None:
    with server(tmp_path) as client, client.websocket_connect(f"/ws?{QUERY}") as ws:
        hello, snap = open_session(ws)
        sid, token = hello["session"], hello["token"]
        assert snap["config"]["hinting_options"] == {"capacity": 16}
    with server(tmp_path) as client:
        # A follower does not open anything: the session is not there (yet).
        err, code = closed_with(client, f"/ws?session={sid}")
        assert (err["code"], code) == ("not_found", 4404)
        # Without the token, or with another session's, nobody can claim the id.
        wrong = client.post("/api/sessions", json={"scenario": "small"}).json()["token"]
        err, code = closed_with(client, f"/ws?session={sid}&token={wrong}&{QUERY}")
        assert (err["code"], code) == ("not_controller", CLOSE_POLICY)
        err, code = closed_with(client, f"/ws?session={sid}&{QUERY}")
        assert err["code"] == "invalid_field" and code == CLOSE_BAD_QUERY
        assert "session= alone follows an existing one" in err["message"]
        assert sid not in manager(client).sessions
        # Without a configuration to reopen it as, a token alone finds nothing.
        err, code = closed_with(client, f"/ws?session={sid}&token={token}")
        assert (err["code"], code) == ("not_found", 4404)
        before = len(manager(client).sessions)
        with client.websocket_connect(f"/ws?session={sid}&token={token}&{QUERY}") as ws:
            hello, snap = open_session(ws)
            assert (hello["session"], hello["role"], hello["token"]) == (sid, "controller", token)
            assert snap["config"]["scenario"] == "buddy-basics"
            assert snap["config"]["hinting_options"] == {"capacity": 16}
            command(ws, 1, type="step")
            # Its followers find it again under the same id.
            with client.websocket_connect(f"/ws?session={sid}") as fan:
                hello2, snap2 = open_session(fan)
                assert (hello2["role"], hello2["token"], snap2["step"]) == ("follower", None, 1)
            # The same query while it is live joins it: no second session.
            with client.websocket_connect(f"/ws?session={sid}&token={token}&{QUERY}") as again:
                hello3, snap3 = open_session(again)
                assert hello3["role"] == "controller" and snap3["step"] == 1
        assert len(manager(client).sessions) == before + 1


def test_a_saved_session_reopens_under_the_lost_id(tmp_path: Path) -> None:
    with server(tmp_path) as client, client.websocket_connect("/ws?scenario=buddy-basics") as ws:
        hello, _ = open_session(ws)
        sid, token = hello["session"], hello["token"]
        command(ws, 1, type="step")
        command(ws, 2, type="alloc", order=3)
        r = client.post(
            f"/api/sessions/{sid}/save", json={"name": "lecture"}, headers={TOKEN: token}
        )
        assert r.status_code == 200, r.text
    with server(tmp_path) as client:
        path = "/api/saved/lecture/open"
        r = client.post(path, json={"session": sid})
        assert r.status_code == 403 and r.json() == {
            "detail": f"reopening session {sid!r} needs its control token"
        }
        assert manager(client).sessions == {}
        r = client.post(path, json={"session": sid}, headers={TOKEN: token})
        assert r.status_code == 201, r.text
        assert (r.json()["id"], r.json()["token"]) == (sid, token)
        session = manager(client).sessions[sid]
        assert session.name == "lecture" and session.view.pos == 2
        assert session.view.branch.log[1][0] == "alloc"
        # Asked again (a second tab of the teacher's): the live session, as it is.
        r = client.post(path, json={"session": sid}, headers={TOKEN: token})
        assert r.status_code == 201 and r.json()["id"] == sid
        assert list(manager(client).sessions) == [sid]
        # Without a body it is a new copy, as before.
        r = client.post(path)
        assert r.status_code == 201 and r.json()["id"] != sid


def test_the_first_own_step_is_in_the_session_info(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws?scenario=buddy-basics") as ws:
        hello, _ = open_session(ws)
        sid = hello["session"]
        info = small_client.get(f"/api/sessions/{sid}").json()
        assert info["first_own_step"] is None
        command(ws, 1, type="step")
        command(ws, 2, type="step")
        assert small_client.get(f"/api/sessions/{sid}").json()["first_own_step"] is None
        command(ws, 3, type="alloc", order=3)
        assert small_client.get(f"/api/sessions/{sid}").json()["first_own_step"] == 3


@pytest.mark.parametrize(
    ("constants", "code", "message"),
    [
        ("capacity", "invalid_field", "query parameter 'constants': 'capacity' is not name:number"),
        ("capacity:x", "invalid_field", "query parameter 'constants': 'capacity:x' is not"),
        ("Capacity:1", "invalid_field", "query parameter 'constants': 'Capacity:1' is not"),
        ("capacity:1,capacity:2", "invalid_field", "query parameter 'constants': constant 'cap"),
        (",".join(f"c{i}:1" for i in range(17)), "invalid_field", "query parameter 'constants'"),
        ("", "invalid_field", "query parameter 'constants': no constants"),
        ("nope:1", "invalid_config", "unknown reporting option(s) nope: choose from"),
    ],
)
def test_bad_constants_in_the_query_are_refused(
    small_client: TestClient, constants: str, code: str, message: str
) -> None:
    before = len(manager(small_client).sessions)
    err, close = closed_with(small_client, f"/ws?strategy=reporting&constants={constants}")
    assert close == CLOSE_BAD_QUERY
    assert err["code"] == code and message in err["message"], err
    assert len(manager(small_client).sessions) == before


def test_constants_in_the_query_are_configures(small_client: TestClient) -> None:
    query = "/ws?scenario=v2-boundary&constants=capacity:16,delay_s:2.5"
    with small_client.websocket_connect(query) as ws:
        _, snap = open_session(ws)
    with small_client.websocket_connect("/ws?scenario=v2-boundary") as ws:
        open_session(ws)
        frames, ack = command(ws, 1, type="configure", constants={"capacity": 16, "delay_s": 2.5})
        assert ack["type"] == "ack", ack
    assert snap["config"]["hinting_options"] == frames[0]["config"]["hinting_options"]
    assert snap["config"]["constants"] == frames[0]["config"]["constants"]


def page_name_problems(names: list[str]) -> list[str | None]:
    """frontend/lib/saved.js nameProblem, run by node."""
    script = (
        "import('./frontend/lib/saved.js').then((m) => console.log(JSON.stringify("
        f"{json.dumps(names)}.map((n) => m.nameProblem(n)))))"
    )
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )
    problems: list[str | None] = json.loads(out.stdout)
    return problems


def test_the_server_and_the_page_refuse_the_same_names() -> None:
    names = [".", "..", "...", ". .", "a.", "lecture 3", "a/b", "", "x" * 101, "é", "?"]
    page = page_name_problems(names)
    for name, problem in zip(names, page, strict=True):
        try:
            SaveRequest(name=name)
            server = None
        except ValueError as exc:
            server = str(exc)
        assert (server is None) == (problem is None), (name, server, problem)
    # "." and ".." in the same words.
    for name in (".", ".."):
        problem = page[names.index(name)]
        assert problem == f"“{name}” cannot be opened from an address: add a letter."


def test_dot_names_are_refused_by_the_save_routes(small_client: TestClient) -> None:
    created = small_client.post("/api/sessions", json={"scenario": "small"}).json()
    for route in ("save", "save-scenario"):
        r = small_client.post(
            f"/api/sessions/{created['id']}/{route}",
            json={"name": ".."},
            headers={TOKEN: created["token"]},
        )
        assert r.status_code == 422, r.text
        msg = r.json()["detail"][0]["msg"]
        assert "“..” cannot be opened from an address: add a letter." in msg
    assert small_client.get("/api/saved").json() == []


def test_saving_over_a_name_needs_replace(small_client: TestClient) -> None:
    a = small_client.post("/api/sessions", json={"scenario": "small"}).json()
    b = small_client.post("/api/sessions", json={"scenario": "buddy-basics"}).json()

    owner: dict[str, str] = {}

    def save(who: dict[str, Any], **body: Any) -> Any:
        return small_client.post(
            f"/api/sessions/{who['id']}/save", json=body, headers={TOKEN: who["token"], **owner}
        )

    r = save(a, name="lecture")
    assert r.status_code == 200
    owner["X-Buddyscope-Owner"] = r.json()["owner_key"]  # replacing needs the entry's key
    r = save(b, name="lecture")
    assert r.status_code == 409
    assert r.json() == {
        "detail": "a saved session named 'lecture' exists already; save again with"
        ' "replace": true to replace it, or choose another name'
    }
    # Refused: the saved entry and b are as they were.
    assert [s["scenario"] for s in small_client.get("/api/saved").json()] == ["small"]
    assert manager(small_client).sessions[b["id"]].name == ""
    r = save(b, name="lecture", replace=True)
    assert r.status_code == 200 and r.json()["scenario"] == "buddy-basics"
    assert manager(small_client).sessions[b["id"]].name == "lecture"
    # The scenario-file route keeps the same rule.
    with small_client.websocket_connect(f"/ws?session={b['id']}&token={b['token']}") as ws:
        open_session(ws)
        command(ws, 1, type="step")
    route = f"/api/sessions/{b['id']}/save-scenario"
    r = small_client.post(route, json={"name": "lecture"}, headers={TOKEN: b["token"], **owner})
    assert r.status_code == 409 and "exists already" in r.json()["detail"]
    r = small_client.post(
        route, json={"name": "lecture", "replace": True}, headers={TOKEN: b["token"], **owner}
    )
    assert r.status_code == 200 and r.json()["scenario"] == "workload"


def test_a_failed_write_leaves_the_session_unnamed(tmp_path: Path) -> None:
    app = create_app(build_small, data_dir=tmp_path, allowed_hosts=("testserver",))
    with TestClient(app, raise_server_exceptions=False) as client:
        created = client.post("/api/sessions", json={"scenario": "small"}).json()
        store = app.state.buddyscope.store

        def full_disk(*args: Any, **kwargs: Any) -> Any:
            raise OSError(28, "No space left on device")

        store.save = full_disk
        r = client.post(
            f"/api/sessions/{created['id']}/save",
            json={"name": "lecture"},
            headers={TOKEN: created["token"]},
        )
        assert r.status_code == 500
        assert manager(client).sessions[created["id"]].name == ""
