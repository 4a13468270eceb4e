"""The REST part: scenarios, sessions (create, list, get, delete, save, export, import),
saved sessions, and the model's /proc text of a session.

Reading a session takes its lock (model work runs in worker threads), so a request never
sees a half-applied step.  Controlling a session (delete, save) needs its control token
in the ``X-Buddyscope-Token`` header; watching (get, export, buddyinfo) needs only the
id.  Every error is ``{"detail": "a plain sentence"}`` with a documented status code.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Path, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from .export import ExportDoc
from .scenarios import SessionConfig, scenario_infos
from .session import CommandError, Session
from .store import SavedInfo

router = APIRouter(prefix="/api", tags=["sessions"])

SessionId = Annotated[str, Path(min_length=1, max_length=64, description="Session id")]
SavedName = Annotated[
    str, Path(min_length=1, max_length=100, description="Name the session was saved under")
]
Token = Annotated[
    str | None,
    Header(alias="X-Buddyscope-Token", description="The session's control token"),
]


class Problem(BaseModel):
    detail: str


class ScenarioOut(BaseModel):
    name: str
    title: str
    summary: str
    source: str = Field(description="builtin or library")
    seed: int
    hinting: str
    kernel: str
    steps: int = Field(description="Workload operations")
    start_at_end: bool = Field(description="A new session opens after the workload")


class SessionInfo(BaseModel):
    id: str
    name: str
    scenario: str
    step: int
    timeline_length: int
    branch: int
    branches: int
    viewers: int
    playing: bool
    speed: float
    clock: float
    created: float


class Created(BaseModel):
    id: str
    token: str = Field(description="Control token: keep it to control the session")
    ws: str = Field(description="Websocket path that controls this session")
    follow: str = Field(description="Websocket path that follows this session")
    session: SessionInfo


class SaveRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w .,:()+-]+$")


class SavedOut(BaseModel):
    name: str
    saved_at: float
    scenario: str
    steps: int


def _problem(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


_STATUS = {"not_found": 404, "not_controller": 403}


def _from_command(exc: CommandError) -> HTTPException:
    """Well-formed requests the server cannot honour (a configuration the model refuses,
    a size over a limit) are 409 Conflict; a full server is 503."""
    status = exc.http_status or _STATUS.get(exc.code, 409)
    return _problem(status, exc.message)


def _manager(request: Request) -> Any:
    return request.app.state.buddyscope.manager


def _session(request: Request, sid: str) -> Session:
    session: Session | None = _manager(request).get(sid)
    if session is None:
        raise _problem(404, f"no session {sid!r} on this server (it may have expired)")
    return session


def _controlled(request: Request, sid: str, token: str | None) -> Session:
    session = _session(request, sid)
    if not session.check_token(token):
        raise _problem(403, "this needs the session's control token (X-Buddyscope-Token)")
    return session


async def _info(session: Session) -> SessionInfo:
    async with session.lock:
        return SessionInfo(**session.info())


async def _created(session: Session) -> Created:
    return Created(
        id=session.id,
        token=session.token,
        ws=f"/ws?session={session.id}&token={session.token}",
        follow=f"/ws?session={session.id}",
        session=await _info(session),
    )


Responses = dict[int | str, dict[str, Any]]
R404: Responses = {404: {"model": Problem, "description": "No such session"}}
R403: Responses = {403: {"model": Problem, "description": "Missing or wrong control token"}}
R400: Responses = {
    409: {"model": Problem, "description": "A configuration the model refuses, or over a limit"}
}
R503: Responses = {
    503: {"model": Problem, "description": "The server runs its maximum of sessions"}
}
TEXT: Responses = {
    200: {
        "content": {"text/plain": {"schema": {"type": "string"}}},
        "description": "Text in the kernel's format",
    }
}


@router.get("/scenarios", summary="Scenarios a session can run", tags=["scenarios"])
async def list_scenarios() -> list[ScenarioOut]:
    return [ScenarioOut(**vars(info)) for info in scenario_infos()]


@router.get("/sessions", summary="Live sessions (no tokens)")
async def list_sessions(request: Request) -> list[SessionInfo]:
    sessions: list[Session] = list(_manager(request).sessions.values())
    return [await _info(s) for s in sessions]


@router.post(
    "/sessions",
    status_code=201,
    summary="Create a session; the answer carries its control token",
    responses={**R400, **R503},
)
async def create_session(
    request: Request, config: Annotated[SessionConfig | None, Body()] = None
) -> Created:
    try:
        session = await _manager(request).create(config or SessionConfig())
    except CommandError as exc:
        raise _from_command(exc) from None
    return await _created(session)


@router.post(
    "/sessions/import",
    status_code=201,
    summary="Create a session from an export document (every branch is replayed)",
    responses={**R400, **R503},
)
async def import_session(request: Request, doc: ExportDoc) -> Created:
    try:
        session = await _manager(request).import_doc(doc)
    except CommandError as exc:
        raise _from_command(exc) from None
    return await _created(session)


@router.get("/sessions/{sid}", summary="One session", responses=R404)
async def get_session(request: Request, sid: SessionId) -> SessionInfo:
    return await _info(_session(request, sid))


@router.delete(
    "/sessions/{sid}", status_code=204, summary="Delete a session", responses={**R403, **R404}
)
async def delete_session(request: Request, sid: SessionId, token: Token = None) -> Response:
    _controlled(request, sid, token)
    await _manager(request).remove(sid)
    return Response(status_code=204)


@router.get(
    "/sessions/{sid}/export", summary="The session as a small exact JSON document", responses=R404
)
async def export_session(request: Request, sid: SessionId) -> ExportDoc:
    session = _session(request, sid)
    async with session.lock:
        return session.export_doc()


@router.post(
    "/sessions/{sid}/save",
    summary="Save the session by name (survives a server restart)",
    responses={**R403, **R404},
)
async def save_session(
    request: Request, sid: SessionId, body: SaveRequest, token: Token = None
) -> SavedOut:
    session = _controlled(request, sid, token)
    store = request.app.state.buddyscope.store
    async with session.lock:
        session.name = body.name
        doc = session.export_doc()
        scenario = session.view.branch.plan.config.scenario
        steps = session.view.length
    saved: SavedInfo = await asyncio.to_thread(
        store.save, body.name, scenario, steps, doc.model_dump_json()
    )
    return SavedOut(**vars(saved))


async def _proc_text(request: Request, sid: str, which: str) -> str:
    session = _session(request, sid)
    async with session.lock:
        node = session.view.node
        fn = node.buddyinfo if which == "buddyinfo" else node.pagetypeinfo
        return await asyncio.to_thread(fn)


@router.get(
    "/sessions/{sid}/buddyinfo",
    response_class=Response,
    summary="/proc/buddyinfo of the session's node at its current step",
    responses={**TEXT, **R404},
)
async def buddyinfo(request: Request, sid: SessionId) -> PlainTextResponse:
    return PlainTextResponse(await _proc_text(request, sid, "buddyinfo"))


@router.get(
    "/sessions/{sid}/pagetypeinfo",
    response_class=Response,
    summary="/proc/pagetypeinfo of the session's node at its current step",
    responses={**TEXT, **R404},
)
async def pagetypeinfo(request: Request, sid: SessionId) -> PlainTextResponse:
    return PlainTextResponse(await _proc_text(request, sid, "pagetypeinfo"))


@router.get("/saved", summary="Saved sessions", tags=["saved"])
async def list_saved(request: Request) -> list[SavedOut]:
    saved = await asyncio.to_thread(request.app.state.buddyscope.store.list)
    return [SavedOut(**vars(s)) for s in saved]


@router.post(
    "/saved/{name}/open",
    status_code=201,
    summary="Open a saved session as a new live session",
    tags=["saved"],
    responses={**R404, **R400, **R503},
)
async def open_saved(request: Request, name: SavedName) -> Created:
    text = await asyncio.to_thread(request.app.state.buddyscope.store.load, name)
    if text is None:
        raise _problem(404, f"no saved session named {name!r}")
    doc = ExportDoc.model_validate_json(text)
    try:
        session = await _manager(request).import_doc(doc, name=name)
    except CommandError as exc:
        raise _from_command(exc) from None
    return await _created(session)


@router.delete(
    "/saved/{name}",
    status_code=204,
    summary="Forget a saved session",
    tags=["saved"],
    responses={404: {"model": Problem, "description": "No such saved session"}},
)
async def delete_saved(request: Request, name: SavedName) -> Response:
    if not await asyncio.to_thread(request.app.state.buddyscope.store.delete, name):
        raise _problem(404, f"no saved session named {name!r}")
    return Response(status_code=204)
