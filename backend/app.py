"""The FastAPI application: health check, websocket, and the static page.

``create_app()`` builds an app around one scenario (built once, at startup, by the
lifespan handler).  Routers stay small; shared state is reached through dependencies.
The static files are mounted LAST and at ``/``: a ``Mount("/")`` also matches
websocket scopes, so anything mounted after it would never be reached.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, WebSocket, WebSocketDisconnect
from fastapi.requests import HTTPConnection
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ValidationError

from . import __version__
from .protocol import (
    PROTOCOL_VERSION,
    Ack,
    Error,
    GetSnapshot,
    Hello,
    Limits,
    Ping,
    client_message_adapter,
)
from .scenarios import Scenario, build_default
from .snapshot import LIST_ENDS, build_snapshot

log = logging.getLogger("buddyscope")

#: ``frontend/`` next to ``backend/`` in the source tree (the project is installed
#: editable, so this is the checkout).  ``BUDDYSCOPE_FRONTEND`` overrides it.
DEFAULT_FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"


@dataclass
class AppState:
    scenario: Scenario
    list_ends: int


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


health_router = APIRouter()


@health_router.get("/healthz")
async def healthz(state: StateDep) -> Health:
    return Health(
        status="ok",
        version=__version__,
        protocol_version=PROTOCOL_VERSION,
        scenario=state.scenario.name,
    )


ws_router = APIRouter()


class _Connection:
    """One websocket client: numbers its messages and answers its commands."""

    def __init__(self, websocket: WebSocket, state: AppState) -> None:
        self.websocket = websocket
        self.state = state
        self.seq = 0

    async def send(self, message: BaseModel) -> None:
        await self.websocket.send_text(message.model_dump_json())

    async def send_snapshot(self) -> None:
        self.seq += 1
        scenario = self.state.scenario
        await self.send(
            build_snapshot(
                scenario.node,
                seq=self.seq,
                scenario=scenario.name,
                step=scenario.steps,
                ends=self.state.list_ends,
            )
        )

    async def handle(self, text: str) -> None:
        try:
            command = client_message_adapter.validate_json(text)
        except ValidationError as exc:
            await self.send(
                Error(id=_guess_id(text), code="bad_message", message=_first_error(exc))
            )
            return
        if isinstance(command, GetSnapshot):
            await self.send_snapshot()
            await self.send(Ack(id=command.id))
        elif isinstance(command, Ping):
            await self.send(Ack(id=command.id))


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def _guess_id(text: str) -> int | None:
    """The ``id`` of a command that failed validation, when it can still be read."""
    try:
        raw: Any = json.loads(text)
    except ValueError:
        return None
    ident = raw.get("id") if isinstance(raw, dict) else None
    return ident if isinstance(ident, int) and not isinstance(ident, bool) else None


@ws_router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket, state: StateDep) -> None:
    await websocket.accept()
    conn = _Connection(websocket, state)
    try:
        await conn.send(
            Hello(server=f"buddyscope {__version__}", limits=Limits(list_ends=state.list_ends))
        )
        await conn.send_snapshot()
        while True:
            text = await websocket.receive_text()
            try:
                await conn.handle(text)
            except WebSocketDisconnect:
                raise
            except Exception as exc:  # answer every command, even when the server is at fault
                log.exception("command failed: %.200s", text)
                await conn.send(Error(id=_guess_id(text), code="internal", message=repr(exc)))
    except WebSocketDisconnect:
        return


def create_app(
    scenario_factory: Callable[[], Scenario] = build_default,
    *,
    list_ends: int = LIST_ENDS,
    static_dir: Path | None = None,
) -> FastAPI:
    """Build the app.  ``scenario_factory`` runs once, when the app starts."""
    static = static_dir if static_dir is not None else frontend_dir()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scenario = scenario_factory()
        log.info("scenario %r ready after %d operations", scenario.name, scenario.steps)
        app.state.buddyscope = AppState(scenario=scenario, list_ends=list_ends)
        yield

    app = FastAPI(title="buddyscope", version=__version__, lifespan=lifespan)
    app.include_router(health_router)
    app.include_router(ws_router)
    # Last: Mount("/") would otherwise also swallow /ws (it matches websocket scopes).
    app.mount("/", StaticFiles(directory=static, html=True), name="frontend")
    return app
