"""The FastAPI application: health check, websocket, schema, and the static page.

``create_app()`` builds an app; the lifespan handler builds the default scenario once and
starts the session manager.  Routers stay small; shared state is reached through
dependencies.  The static files are mounted LAST and at ``/``: a ``Mount("/")`` also
matches websocket scopes, so anything mounted after it would never be reached.

The websocket (``/ws``) runs two tasks per connection: a receive loop that validates and
runs commands, and a sender that drains the connection's bounded queue (see
``audience``).  When the receive loop ends (the tab closed), the sender is
cancelled; a send to a closed socket ends the sender quietly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, FastAPI, Response, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.requests import HTTPConnection
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ValidationError

from allocator_model.sources.builtin import BuiltScenario, build_default

from . import __version__, badinput
from .audience import Client, send_loop
from .comparison import router as compare_router
from .configure import configure_changes, merge_config, plan_from_config
from .guard import Guard, HostPolicy, peer_of
from .live import LiveHub
from .live import router as live_router
from .manager import SessionManager
from .metrics import router as metrics_router
from .practice import router as practice_router
from .protocol import (
    CLIENT_TYPES,
    CLOSE_BAD_QUERY,
    CLOSE_NOT_FOUND,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TRY_LATER,
    PROTOCOL_VERSION,
    Configure,
    Error,
    Hello,
    client_message_adapter,
)
from .rest import router as rest_router
from .schema import schema_hash as protocol_schema_hash
from .schema import schema_text
from .session import Session
from .settings import CommandError, Settings
from .snapshot import source_view
from .sources import SessionConfig
from .store import DB_NAME, Store, server_key

log = logging.getLogger("buddyscope")

#: ``frontend/`` next to ``backend/`` in the source tree (the project is installed
#: editable, so this is the checkout).  ``BUDDYSCOPE_FRONTEND`` overrides it.
DEFAULT_FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"

#: ``/ws`` query parameters: joining a session, or the configuration of a new one (the
#: shareable URL's names; ``strategy`` is ``configure``'s ``hinting``).  With
#: ``session`` and ``token``, the configuration is what to reopen that session as when
#: this server no longer has it (a restart).
JOIN_PARAMS: Final = ("session", "token")
CONFIG_PARAMS: Final = {
    "scenario": "scenario",
    "seed": "seed",
    "strategy": "hinting",
    "kernel": "kernel",
    "pages": "pages",
    "constants": "constants",
}

#: ``constants=name:value,name:value``: the strategy constants a session sets.
_CONSTANT = re.compile(r"([a-z][a-z0-9_]{0,39}):(-?\d{1,15}(?:\.\d{1,15})?)")
MAX_CONSTANTS: Final = 16


def parse_constants(text: str) -> dict[str, int | float]:
    """``constants``' query form (``capacity:16,delay_ms:2.5``) as ``configure``'s
    ``constants``; raises ``ValueError`` saying what is wrong."""
    out: dict[str, int | float] = {}
    items = text.split(",") if text else []
    if len(items) > MAX_CONSTANTS:
        raise ValueError(f"{len(items)} constants; at most {MAX_CONSTANTS}")
    for item in items:
        m = _CONSTANT.fullmatch(item)
        if m is None:
            raise ValueError(
                f"{item[:40]!r} is not name:number (a lower-case name, a decimal number)"
            )
        name, value = m.groups()
        if name in out:
            raise ValueError(f"constant {name!r} is given twice")
        out[name] = float(value) if "." in value else int(value)
    if not out:
        raise ValueError("no constants: give name:number pairs separated by commas")
    return out


@dataclass
class AppState:
    scenario: BuiltScenario
    settings: Settings
    manager: SessionManager
    default_config: SessionConfig
    store: Store
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    live: LiveHub | None = None
    compare_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    compare_cache: dict[str, Any] = field(default_factory=dict)
    #: Open websocket connections per client address (Settings.max_connections_per_client).
    connections: Counter[str] = field(default_factory=Counter)

    @property
    def list_ends(self) -> int:
        return self.settings.limits().list_ends


def frontend_dir() -> Path:
    path = Path(os.environ.get("BUDDYSCOPE_FRONTEND", DEFAULT_FRONTEND_DIR))
    if not (path / "index.html").is_file():
        raise RuntimeError(
            f"buddyscope: no index.html in {path}; install the project from its source "
            "checkout (pip install -e .) or set BUDDYSCOPE_FRONTEND to the frontend folder"
        )
    return path


def get_state(conn: HTTPConnection) -> AppState:
    state: AppState = conn.app.state.buddyscope
    return state


StateDep = Annotated[AppState, Depends(get_state)]


class Health(BaseModel):
    status: str
    version: str
    protocol_version: int
    scenario: str
    sessions: int


health_router = APIRouter()


@health_router.get("/healthz")
async def healthz(state: StateDep) -> Health:
    return Health(
        status="ok",
        version=__version__,
        protocol_version=PROTOCOL_VERSION,
        scenario=state.default_config.scenario,
        sessions=len(state.manager.sessions),
    )


@health_router.get(
    "/api/schema",
    summary="JSON schema of the websocket protocol",
    responses={200: {"content": {"application/json": {}}, "description": "JSON schema"}},
)
async def api_schema() -> Response:
    return Response(schema_text(), media_type="application/json")


# --- websocket -----------------------------------------------------------------------------

ws_router = APIRouter()


def _error_text(code: str, message: str, ident: int | None = None) -> str:
    return Error(id=ident, code=code, message=message).model_dump_json()  # type: ignore[arg-type]


def _guess_id(raw: Any) -> int | None:
    ident = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(ident, int) and not isinstance(ident, bool) and 0 <= ident <= 2**53:
        return ident
    return None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = [str(x) for x in err["loc"]]
    if loc and loc[0] in CLIENT_TYPES:
        loc = loc[1:]  # the union member's tag adds nothing for the reader
    where = ".".join(loc)
    msg = str(err["msg"])
    return f"field {where!r}: {msg}" if where else msg


def query_config(
    query: list[tuple[str, str]], default: SessionConfig, settings: Settings
) -> SessionConfig | None:
    """The configuration a ``/ws`` query asks a new session to run (None: the server's
    default), checked as ``configure`` checks it; raises ``CommandError``.  Next to
    ``session`` and ``token`` it is what that session reopens as if it is gone.

    ``pages`` without ``scenario`` opens a one-zone session of that many pages (the
    benchmarks' ``?pages=N``): the default scenario when it has one zone, else
    ``small``.
    """
    names = [name for name, _ in query]
    for name in names:
        if name not in JOIN_PARAMS and name not in CONFIG_PARAMS:
            raise CommandError(
                "invalid_field",
                f"unknown query parameter {name[:40]!r}; /ws takes "
                + ", ".join([*JOIN_PARAMS, *CONFIG_PARAMS]),
            )
        if names.count(name) > 1:
            raise CommandError("invalid_field", f"query parameter {name!r} is given twice")
    given = dict(query)
    if "token" in given and "session" not in given:
        raise CommandError("invalid_field", "token goes with session=: it controls that session")
    wanted: dict[str, Any] = {CONFIG_PARAMS[k]: v for k, v in given.items() if k in CONFIG_PARAMS}
    if not wanted:
        return None
    if "session" in given and "token" not in given:
        raise CommandError(
            "invalid_field",
            "scenario, seed, strategy, kernel, pages and constants open a new session; "
            "session= alone follows an existing one: give one or the other (next to "
            "session= and token= they say how to reopen a session the server lost)",
        )
    if "constants" in wanted:
        try:
            wanted["constants"] = parse_constants(wanted["constants"])
        except ValueError as exc:
            raise CommandError("invalid_field", f"query parameter 'constants': {exc}") from None
    try:
        cmd = Configure.model_validate({"type": "configure", **wanted}, strict=False)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = {v: k for k, v in CONFIG_PARAMS.items()}.get(str(err["loc"][0]), "?")
        raise CommandError("invalid_field", f"query parameter {field!r}: {err['msg']}") from None
    changes = configure_changes(cmd)
    one_zone = "pages" in changes and "scenario" not in changes
    if one_zone and len(plan_from_config(default, settings).source.sizes()) > 1:
        changes["scenario"] = "small"
    return merge_config(default, changes)


async def _refuse(websocket: WebSocket, exc: CommandError, close: int) -> None:
    await websocket.send_text(_error_text(exc.code, exc.message))
    await websocket.close(close)


async def _open_session(
    websocket: WebSocket, state: AppState
) -> tuple[Session, str] | tuple[None, None]:
    """The session this connection asked for and its role; or an error sent and closed."""
    params = websocket.query_params
    sid = params.get("session")
    token = params.get("token")
    manager = state.manager
    try:
        config = await asyncio.to_thread(
            query_config, params.multi_items(), state.default_config, state.settings
        )
    except CommandError as exc:
        await _refuse(websocket, exc, CLOSE_BAD_QUERY)
        return None, None
    if sid is None or (manager.get(sid) is None and token is not None and config is not None):
        # A new session; or the reopening of one this server lost (a restart), under the
        # same id, by the holder of its token (tokens are HMACs of the id: they outlive
        # the session), so its followers find it again.
        if sid is not None and not manager.token_valid(sid, token):
            await websocket.send_text(
                _error_text("not_controller", "wrong control token for this session")
            )
            await websocket.close(CLOSE_POLICY)
            return None, None
        try:
            session = await manager.create(
                config or state.default_config, reopen=sid, peer=peer_of(websocket)
            )
        except CommandError as exc:
            # A full server is worth another try later; a configuration it refuses is not.
            await _refuse(
                websocket, exc, CLOSE_TRY_LATER if exc.http_status == 503 else CLOSE_BAD_QUERY
            )
            return None, None
        return session, "controller"
    found = manager.get(sid)
    if found is None:
        await websocket.send_text(
            _error_text(
                "not_found", f"no session {sid[:64]!r} on this server (it may have expired)"
            )
        )
        await websocket.close(CLOSE_NOT_FOUND)
        return None, None
    if len(found.clients) >= state.settings.max_viewers:
        await websocket.send_text(
            _error_text("limit", f"session has the maximum of {state.settings.max_viewers} viewers")
        )
        await websocket.close(CLOSE_TRY_LATER)
        return None, None
    if token is None:
        return found, "follower"
    if not found.check_token(token):
        await websocket.send_text(
            _error_text("not_controller", "wrong control token for this session")
        )
        await websocket.close(CLOSE_POLICY)
        return None, None
    most = state.settings.max_connections_per_token
    if sum(1 for c in found.clients if c.is_controller) >= most:
        await _refuse(
            websocket,
            CommandError(
                "limit", f"this session's token already has {most} connections; close one first"
            ),
            CLOSE_TRY_LATER,
        )
        return None, None
    return found, "controller"


async def _receiver(
    websocket: WebSocket, session: Session, client: Client, state: AppState
) -> None:
    limit = state.settings.max_message_bytes
    max_replies = state.settings.queue_messages
    while True:
        while client.pending_replies >= max_replies and not client.closed:
            client.drained.clear()
            await client.drained.wait()
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if session.deleted:
            await websocket.close(CLOSE_NOT_FOUND, "the session was deleted")
            return
        text = message.get("text")
        if text is None:
            data = message.get("bytes") or b""
            if len(data) > limit:
                await websocket.close(CLOSE_TOO_BIG, "message too big")
                return
            client.reply(_error_text("bad_message", "send JSON text frames, not binary ones"))
            continue
        if len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit:
            await websocket.close(CLOSE_TOO_BIG, f"message over {limit} bytes")
            return
        await _handle_text(text, session, client)


async def _handle_text(text: str, session: Session, client: Client) -> None:
    try:
        raw = badinput.loads(text)
    except ValueError as exc:
        client.reply(_error_text("bad_message", f"not JSON: {str(exc)[:200]}"))
        return
    bad = badinput.bad_value_sentence(raw)
    if bad is not None:
        client.reply(_error_text("bad_message", f"refused: {bad}", _guess_id(raw)))
        return
    ident = _guess_id(raw)
    if not isinstance(raw, dict):
        client.reply(_error_text("bad_message", 'a command is a JSON object with a "type"'))
        return
    kind = raw.get("type")
    if kind not in CLIENT_TYPES:
        shown = json.dumps(kind)[:80] if not isinstance(kind, str) else repr(kind[:80])
        client.reply(
            _error_text(
                "unknown_type",
                f"unknown command type {shown}; commands are {', '.join(CLIENT_TYPES)}",
                ident,
            )
        )
        return
    try:
        cmd = client_message_adapter.validate_python(raw)
    except ValidationError as exc:
        client.reply(_error_text("invalid_field", f"{kind}: {_first_error(exc)}", ident))
        return
    if cmd.session is not None and cmd.session != session.id:
        client.reply(
            _error_text(
                "wrong_session",
                "this command names another session than the one this connection watches",
                ident,
            )
        )
        return
    try:
        await session.handle(client, cmd)
    except Exception:  # answer every command, even when the server is at fault
        # The details go to the log only: an exception's text may hold paths or data.
        log.exception("command failed: %.200s", text)
        client.reply(
            _error_text("internal", "the server failed on this command (see its log)", ident)
        )


@ws_router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket, state: StateDep) -> None:
    peer = peer_of(websocket)
    most = state.settings.max_connections_per_client
    await websocket.accept()
    if state.connections[peer] >= most:
        message = f"this client already holds {most} connections; close one first"
        await _refuse(websocket, CommandError("limit", message), CLOSE_TRY_LATER)
        return
    state.connections[peer] += 1
    try:
        await _serve(websocket, state)
    finally:
        state.connections[peer] -= 1
        if not state.connections[peer]:
            del state.connections[peer]


async def _serve(websocket: WebSocket, state: AppState) -> None:
    try:
        session, role = await _open_session(websocket, state)
        if session is None or role is None:
            return
        client = Client(role, state.settings.queue_bytes)
        hello = Hello(
            server=f"buddyscope {__version__}",
            session=session.id,
            role=role,  # type: ignore[arg-type]
            token=session.token if role == "controller" else None,
            limits=state.settings.limits(),
            schema_hash=protocol_schema_hash(),
            source=source_view(session.plan),
        )
        await websocket.send_text(hello.model_dump_json())
        await session.attach(client)
    except (WebSocketDisconnect, RuntimeError, OSError):
        return
    sender = asyncio.create_task(send_loop(websocket, client, session.resync_frame, state.settings))
    receiver = asyncio.create_task(_receiver(websocket, session, client, state))
    try:
        # The receive loop ends the connection; or the sender, when the peer stalled.
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        if receiver not in done and not client.stalled:
            await asyncio.wait({receiver})
    finally:
        session.detach(client)
        client.wake.set()
        for task in (sender, receiver):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    exc = None if receiver.cancelled() else receiver.exception()
    if isinstance(exc, WebSocketDisconnect | RuntimeError | OSError):
        log.debug("receiver of session %s stops: %r", session.id, exc)
    elif exc is not None:
        log.error("receiver of session %s failed", session.id, exc_info=exc)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413 before any route reads them
    (uploads of workload files, /proc snapshots and traces; imports)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any) -> None:
        text = json.dumps(
            {"detail": f"the request body is over this server's limit of {self.limit} bytes"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(text)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": text})


def create_app(
    scenario_factory: Callable[[], BuiltScenario] = build_default,
    *,
    settings: Settings | None = None,
    static_dir: Path | None = None,
    bind_host: str = "127.0.0.1",
    allowed_hosts: tuple[str, ...] = (),
    allowed_origins: tuple[str, ...] = (),
    default_config: SessionConfig | None = None,
    data_dir: Path | None = None,
) -> FastAPI:
    """Build the app.  ``scenario_factory`` runs once, when the app starts; new sessions
    run its scenario unless ``default_config`` says otherwise.  Saved sessions go to
    ``data_dir/sessions.sqlite3`` and the key of the control tokens to
    ``data_dir/server.key`` (both kept in memory when ``data_dir`` is None)."""
    static = static_dir if static_dir is not None else frontend_dir()
    limits = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scenario = scenario_factory()
        log.info("scenario %r ready after %d operations", scenario.name, scenario.steps)
        config = default_config or SessionConfig(scenario=scenario.name, seed=scenario.seed)
        manager = SessionManager(limits, await asyncio.to_thread(server_key, data_dir))
        store = Store(data_dir / DB_NAME if data_dir is not None else ":memory:")
        state = AppState(scenario, limits, manager, config, store)
        if limits.live:
            state.live = LiveHub(limits.live_root, limits.live_interval_s, limits.live_frames)
        app.state.buddyscope = state
        # Build the default session's start once, so the first page load is quick.
        await asyncio.to_thread(manager._build_view, _plan(config, limits))
        state.tasks.append(asyncio.create_task(manager.reap_forever()))
        try:
            yield
        finally:
            for task in state.tasks:
                task.cancel()
            if state.live is not None:
                await state.live.close()
            await manager.shutdown()
            store.close()

    app = FastAPI(title="buddyscope", version=__version__, lifespan=lifespan)
    app.add_exception_handler(RequestValidationError, badinput.validation_problem)
    app.add_middleware(BodyLimit, limit=limits.max_upload_bytes)
    # Outermost (added last): a refused Host, Origin or form is answered before any body.
    app.add_middleware(Guard, policy=HostPolicy(bind_host, allowed_hosts, allowed_origins))
    app.include_router(health_router)
    app.include_router(rest_router)
    app.include_router(compare_router)
    app.include_router(metrics_router)
    app.include_router(live_router)
    app.include_router(practice_router)
    app.include_router(ws_router)
    # Last: Mount("/") would otherwise also swallow /ws (it matches websocket scopes).
    app.mount("/", StaticFiles(directory=static, html=True), name="frontend")
    return app


def _plan(config: SessionConfig, settings: Settings) -> Any:
    return plan_from_config(config, settings)
