"""What every REST router shares: the error shape and its documented status codes, the
session id and control token parameters, finding a session, and the answer that
describes one (``SessionInfo``) or a new one (``Created``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, HTTPException, Path, Request
from pydantic import BaseModel, Field

from ..protocol import SourceInfo
from ..session import Session
from ..settings import CommandError

SessionId = Annotated[str, Path(min_length=1, max_length=64, description="Session id")]
Token = Annotated[
    str | None,
    Header(alias="X-Buddyscope-Token", description="The session's control token"),
]


class Problem(BaseModel):
    detail: str


class SessionInfo(BaseModel):
    id: str
    label: str = Field(description="The session's label in /metrics (not reversible to the id)")
    name: str
    scenario: str
    source: SourceInfo | None = Field(default=None, description="What the session runs")
    quiz: bool = Field(default=False, description="Quiz mode is on")
    first_own_step: int | None = Field(
        default=None,
        description="The first step of the current branch made by a command of the user's "
        "own (alloc, free, touch, advance), which no scenario address replays; null: none",
    )
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


def problem(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


_STATUS = {"not_found": 404, "not_controller": 403}


def from_command(exc: CommandError) -> HTTPException:
    """Well-formed requests the server cannot honour (a configuration the model refuses,
    a size over a limit) are 409 Conflict; a full server is 503.  A source text that
    cannot be loaded is 422 with one entry per problem (FastAPI's validation format)."""
    if exc.code == "invalid_file":
        problems = exc.problems or [exc.message]
        detail = [
            {"loc": ["body", exc.field or "body"], "msg": msg, "type": "invalid_file"}
            for msg in problems
        ]
        return HTTPException(status_code=422, detail=detail)
    status = exc.http_status or _STATUS.get(exc.code, 409)
    return problem(status, exc.message)


def manager(request: Request) -> Any:
    return request.app.state.buddyscope.manager


def session_of(request: Request, sid: str) -> Session:
    session: Session | None = manager(request).get(sid)
    if session is None:
        raise problem(404, f"no session {sid!r} on this server (it may have expired)")
    return session


def controlled(request: Request, sid: str, token: str | None) -> Session:
    session = session_of(request, sid)
    if not session.check_token(token):
        raise problem(403, "this needs the session's control token (X-Buddyscope-Token)")
    return session


async def session_info(session: Session) -> SessionInfo:
    async with session.lock:
        return SessionInfo(**session.info(), label=session.label)


async def created(session: Session) -> Created:
    return Created(
        id=session.id,
        token=session.token,
        ws=f"/ws?session={session.id}&token={session.token}",
        follow=f"/ws?session={session.id}",
        session=await session_info(session),
    )


Responses = dict[int | str, dict[str, Any]]
R404: Responses = {404: {"model": Problem, "description": "No such session"}}
R403: Responses = {403: {"model": Problem, "description": "Missing or wrong control token"}}
R400: Responses = {
    409: {"model": Problem, "description": "A configuration the model refuses, or over a limit"}
}
R409_NAME: Responses = {
    409: {"model": Problem, "description": "A saved session of that name exists (no replace)"}
}
R503: Responses = {
    503: {"model": Problem, "description": "The server runs its maximum of sessions"}
}
R413: Responses = {
    413: {"model": Problem, "description": "The request body is over the upload limit"}
}
R415: Responses = {
    415: {"model": Problem, "description": "A form content type without X-Buddyscope-Client"}
}
TEXT: Responses = {
    200: {
        "content": {"text/plain": {"schema": {"type": "string"}}},
        "description": "Text in the kernel's format",
    }
}
