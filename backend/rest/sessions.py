"""Live sessions: create one (from a scenario, an uploaded workload file, /proc text or
trace, this machine, or an export document), list those whose tokens a request holds,
get one, delete one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Query, Request, Response
from pydantic import ValidationError

from allocator_model import ModelError
from allocator_model.sources.source import split_proc_text

from ..export import ExportDoc
from ..guard import peer_of
from ..session import Session
from ..settings import CommandError
from ..sources import SessionConfig
from .common import (
    R400,
    R403,
    R404,
    R413,
    R415,
    R503,
    Created,
    Problem,
    SessionId,
    SessionInfo,
    Token,
    controlled,
    created,
    from_command,
    manager,
    problem,
    session_info,
    session_of,
)

router = APIRouter()

#: Tokens one ``GET /api/sessions`` may name.
MAX_LISTED_TOKENS = 32
Tokens = Annotated[
    str | None,
    Header(
        alias="X-Buddyscope-Token",
        description=f"Control tokens, separated by commas (at most {MAX_LISTED_TOKENS})",
        max_length=MAX_LISTED_TOKENS * 33,
    ),
]


@router.get(
    "/sessions",
    summary="The live sessions whose control tokens the request names (how many there are "
    "in all: GET /healthz)",
    description="An id is what lets anybody watch a session, so the list shows only the "
    "sessions of the tokens in X-Buddyscope-Token; none without one.",
)
async def list_sessions(request: Request, tokens: Tokens = None) -> list[SessionInfo]:
    held = [t.strip() for t in (tokens or "").split(",") if t.strip()][:MAX_LISTED_TOKENS]
    sessions: list[Session] = list(manager(request).sessions.values())
    return [await session_info(s) for s in sessions if any(s.check_token(t) for t in held)]


@router.post(
    "/sessions",
    status_code=201,
    summary="Create a session; the answer carries its control token",
    description="From a scenario name, or from one source text: `workload` (a workload or "
    "scenario file), `buddyinfo` (+ `pagetypeinfo`) or `trace`.  A text that cannot be "
    "loaded is refused with 422 and one entry per problem, naming its line and field.",
    responses={**R400, **R503, **R413},
)
async def create_session(
    request: Request, config: Annotated[SessionConfig | None, Body()] = None
) -> Created:
    return await _create(request, config or SessionConfig())


async def _create(request: Request, config: SessionConfig) -> Created:
    try:
        session = await manager(request).create(config, peer=peer_of(request))
    except CommandError as exc:
        raise from_command(exc) from None
    return await created(session)


class _Overrides:
    """Query parameters of the upload routes: the user's overrides of the source."""

    def __init__(
        self,
        kernel: Annotated[Literal["5.3", "5.7", "5.10", "6.12"] | None, Query()] = None,
        hinting: Annotated[Literal["none", "hinting-v2", "reporting"] | None, Query()] = None,
        seed: Annotated[int | None, Query(ge=0, le=2**32 - 1)] = None,
    ) -> None:
        given = (("kernel", kernel), ("hinting", hinting), ("seed", seed))
        self.fields: dict[str, Any] = {k: v for k, v in given if v is not None}


def _raw_body(media: str, description: str) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {media: {"schema": {"type": "string"}}},
        }
    }
    if media == "text/plain":  # what any site's form can post: backend/guard.py
        extra["parameters"] = [
            {
                "name": "X-Buddyscope-Client",
                "in": "header",
                "required": True,
                "description": "Any value (e.g. curl): a text/plain body without an "
                "X-Buddyscope-... header is refused with 415, as a cross-site form could send it",
                "schema": {"type": "string", "pattern": "^[a-z]{1,16}$"},
            }
        ]
    return extra


async def _text(request: Request) -> str:
    return (await request.body()).decode("utf-8", "replace")


def _config(fields: dict[str, Any]) -> SessionConfig:
    try:
        return SessionConfig.model_validate(fields)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        if any(e["type"] == "string_too_long" for e in errors):
            raise problem(413, "the text is over this server's limit for it") from None
        detail = [{**e, "loc": ["body", *e["loc"]]} for e in errors]
        raise HTTPException(422, detail=detail) from None


@router.post(
    "/sessions/from-workload",
    status_code=201,
    summary="Create a session from a workload or scenario file (the file is the body)",
    responses={**R400, **R503, **R413},
    openapi_extra=_raw_body("application/json", "The file, as is (docs/workload.schema.json)"),
)
async def create_from_workload(
    request: Request, overrides: Annotated[_Overrides, Depends()]
) -> Created:
    return await _create(request, _config({**overrides.fields, "workload": await _text(request)}))


@router.post(
    "/sessions/from-proc",
    status_code=201,
    summary="Create a session from /proc/buddyinfo, optionally followed by /proc/pagetypeinfo",
    description="The body is `cat /proc/buddyinfo` or `cat /proc/buddyinfo /proc/pagetypeinfo` "
    "of any machine; the node starts with exactly its free lists.",
    responses={**R400, **R503, **R413, **R415},
    openapi_extra=_raw_body("text/plain", "buddyinfo text, then optionally pagetypeinfo text"),
)
async def create_from_proc(
    request: Request, overrides: Annotated[_Overrides, Depends()]
) -> Created:
    buddyinfo, pagetypeinfo = split_proc_text(await _text(request))
    fields = {**overrides.fields, "buddyinfo": buddyinfo, "pagetypeinfo": pagetypeinfo}
    return await _create(request, _config(fields))


@router.post(
    "/sessions/from-machine",
    status_code=201,
    summary="Create a session seeded from this server's machine, frame by frame",
    description="The server reads its own /proc/kpageflags (root), /proc/zoneinfo and "
    "/proc/pagetypeinfo now: the node starts with every free block at its real pfn and "
    "order with its real reported mark, the zones' spans, holes, managed pages and "
    "watermarks, pageblock types matched to pagetypeinfo; on the newest kernel rules. "
    "No body. 404 when the live view is off; 409 when the machine cannot be read so, or "
    "the server reads counts only (the detail says why).",
    responses={
        **R400,
        **R503,
        404: {"model": Problem, "description": "The live host view is turned off on this server"},
    },
)
async def create_from_machine(
    request: Request, overrides: Annotated[_Overrides, Depends()]
) -> Created:
    from ..live import read_machine

    try:
        text = await read_machine(request)
    except ModelError as exc:
        raise problem(409, str(exc)) from None
    return await _create(request, _config({**overrides.fields, "machine": text}))


@router.post(
    "/sessions/from-trace",
    status_code=201,
    summary="Create a session that replays a kmem page trace (trace-cmd report / perf script)",
    description="The answer's `session.source.trace` says what was imported: events, lines "
    "skipped, frees of pages allocated before the trace began.",
    responses={**R400, **R503, **R413, **R415},
    openapi_extra=_raw_body("text/plain", "trace-cmd report or perf script output"),
)
async def create_from_trace(
    request: Request, overrides: Annotated[_Overrides, Depends()]
) -> Created:
    return await _create(request, _config({**overrides.fields, "trace": await _text(request)}))


@router.post(
    "/sessions/import",
    status_code=201,
    summary="Create a session from an export document (every branch is replayed)",
    responses={**R400, **R503},
)
async def import_session(request: Request, doc: ExportDoc) -> Created:
    try:
        session = await manager(request).import_doc(doc, peer=peer_of(request))
    except CommandError as exc:
        raise from_command(exc) from None
    return await created(session)


@router.get("/sessions/{sid}", summary="One session", responses=R404)
async def get_session(request: Request, sid: SessionId) -> SessionInfo:
    return await session_info(session_of(request, sid))


@router.delete(
    "/sessions/{sid}", status_code=204, summary="Delete a session", responses={**R403, **R404}
)
async def delete_session(request: Request, sid: SessionId, token: Token = None) -> Response:
    controlled(request, sid, token)
    await manager(request).remove(sid)
    return Response(status_code=204)
