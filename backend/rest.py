"""The REST part: scenarios, sessions (create from a scenario, a workload file, a /proc
snapshot or a trace; list, get, delete, save, export, import, save as a scenario file),
saved sessions and the model's /proc text of a session (the side-by-side comparison is
``comparison.py``).

Reading a session takes its lock (model work runs in worker threads), so a request never
sees a half-applied step.  Controlling a session (delete, save) needs its control token
in the ``X-Buddyscope-Token`` header; watching (get, export, buddyinfo) needs only the
id.  Every error is ``{"detail": "a plain sentence"}`` with a documented status code.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, ValidationError, field_validator

from allocator_model import ModelError
from allocator_model.sources.source import scenario_infos, split_proc_text

from .badinput import refuse_bad_json
from .export import ExportDoc, pack_texts
from .guard import peer_of
from .names import normalise
from .protocol import SourceInfo
from .scenario_export import ExportError, branch_to_scenario
from .session import Session
from .settings import CommandError
from .sources import SessionConfig
from .store import (
    OWNER_KEY_CHARS,
    NameConfusable,
    NameTaken,
    NotOwner,
    new_owner_key,
    owner_digest,
)
from .workload_file import WorkloadFile

# Every JSON body is checked for what no field means (lone surrogates, NaN, huge
# integers, deep nesting) before a route reads it.
router = APIRouter(prefix="/api", tags=["sessions"], dependencies=[Depends(refuse_bad_json)])

SessionId = Annotated[str, Path(min_length=1, max_length=64, description="Session id")]
SavedName = Annotated[
    str, Path(min_length=1, max_length=100, description="Name the session was saved under")
]
Token = Annotated[
    str | None,
    Header(alias="X-Buddyscope-Token", description="The session's control token"),
]
OwnerKey = Annotated[
    str | None,
    Header(
        alias="X-Buddyscope-Owner",
        description="The owner key of saved sessions (the save answer's owner_key)",
    ),
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


class SaveRequest(BaseModel):
    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[\w .,:()+-]+$",
        description="Stored normalised (NFKC, trimmed); a name that looks like another saved "
        "name (backend/names.py) is refused with 409",
    )
    replace: bool = Field(
        default=False, description="Replace a saved session of that name (else 409)"
    )

    @field_validator("name")
    @classmethod
    def _addressable(cls, name: str) -> str:
        # The page's rule too (frontend/lib/saved.js nameProblem): a browser resolves "."
        # and ".." in /api/saved/{name} as path segments, so no address could open them.
        name = normalise(name)
        if name in (".", ".."):
            raise ValueError(f"“{name}” cannot be opened from an address: add a letter.")
        if not name:
            raise ValueError("a name needs more than white space")
        return name


class SavedOut(BaseModel):
    name: str
    saved_at: float
    scenario: str
    steps: int


class SaveAnswer(SavedOut):
    owner_key: str = Field(
        description="The entry's owner key, shown only here: replacing or deleting the entry "
        "(and, on a --shared server, listing and opening it) needs it in X-Buddyscope-Owner. "
        "Saving with an X-Buddyscope-Owner key of your own keeps all your entries under it"
    )


class ReopenRequest(BaseModel):
    session: str = Field(
        min_length=1,
        max_length=64,
        description="The id of a session this server lost (a restart): the copy opens under "
        "that id, so its followers find it again; needs that session's control token",
    )


_OWNER_KEY = re.compile(rf"[A-Za-z0-9_-]{{{OWNER_KEY_CHARS},64}}")


def _owner_key(given: str | None) -> str:
    """The caller's owner key, or a new one."""
    if given is None:
        return new_owner_key()
    if _OWNER_KEY.fullmatch(given) is None:
        raise problem(
            403,
            f"X-Buddyscope-Owner is not an owner key ({OWNER_KEY_CHARS} to 64 letters, digits, "
            "- and _, as a save answers with): send one you were given, or none for a new one",
        )
    return given


def _not_owner(name: str, what: str) -> HTTPException:
    return problem(
        403,
        f"the saved session {name!r} belongs to whoever saved it: {what} needs its owner "
        "key (X-Buddyscope-Owner, the owner_key its save answered with)",
    )


def _save(
    store: Any,
    name: str,
    scenario: str,
    steps: int,
    doc: ExportDoc,
    replace: bool,
    owner: str | None,
) -> SaveAnswer:
    key = _owner_key(owner)
    try:
        info = store.save(
            name, scenario, steps, doc.model_dump_json(), replace=replace, owner=owner_digest(key)
        )
    except NameTaken:
        raise problem(
            409,
            f"a saved session named {name!r} exists already; save again with "
            '"replace": true to replace it, or choose another name',
        ) from None
    except NameConfusable as exc:
        raise problem(
            409,
            f"{name!r} looks like the saved session {exc.args[0]!r} (the same letters to a "
            "reader); choose a name that differs in more than look-alike letters, case or "
            "spaces",
        ) from None
    except NotOwner:
        raise _not_owner(name, "replacing it") from None
    return SaveAnswer(**vars(info), owner_key=key)


def problem(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


_STATUS = {"not_found": 404, "not_controller": 403}


def _from_command(exc: CommandError) -> HTTPException:
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


def _manager(request: Request) -> Any:
    return request.app.state.buddyscope.manager


def session_of(request: Request, sid: str) -> Session:
    session: Session | None = _manager(request).get(sid)
    if session is None:
        raise problem(404, f"no session {sid!r} on this server (it may have expired)")
    return session


def _controlled(request: Request, sid: str, token: str | None) -> Session:
    session = session_of(request, sid)
    if not session.check_token(token):
        raise problem(403, "this needs the session's control token (X-Buddyscope-Token)")
    return session


async def _info(session: Session) -> SessionInfo:
    async with session.lock:
        return SessionInfo(**session.info(), label=session.label)


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


@router.get("/scenarios", summary="Scenarios a session can run", tags=["scenarios"])
async def list_scenarios() -> list[ScenarioOut]:
    return [ScenarioOut(**vars(info)) for info in scenario_infos()]


@router.get(
    "/examples/sample.trace",
    response_class=PlainTextResponse,
    summary="The sample kmem trace shipped with buddyscope (what the load dialog's example "
    "fills in)",
    tags=["scenarios"],
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "trace-cmd report text of kmem:mm_page_alloc/mm_page_free events",
        }
    },
)
async def sample_trace() -> PlainTextResponse:
    path = resources.files("allocator_model.sources") / "traces" / "sample.trace"
    return PlainTextResponse(await asyncio.to_thread(path.read_text))


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
    sessions: list[Session] = list(_manager(request).sessions.values())
    return [await _info(s) for s in sessions if any(s.check_token(t) for t in held)]


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
        session = await _manager(request).create(config, peer=peer_of(request))
    except CommandError as exc:
        raise _from_command(exc) from None
    return await _created(session)


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
    from .live import read_machine

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
        session = await _manager(request).import_doc(doc, peer=peer_of(request))
    except CommandError as exc:
        raise _from_command(exc) from None
    return await _created(session)


@router.get("/sessions/{sid}", summary="One session", responses=R404)
async def get_session(request: Request, sid: SessionId) -> SessionInfo:
    return await _info(session_of(request, sid))


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
    session = session_of(request, sid)
    async with session.lock:
        return session.export_doc()


@router.post(
    "/sessions/{sid}/save",
    summary="Save the session by name (survives a server restart)",
    description="A name saved already is refused with 409 unless the body says "
    '`"replace": true`.  The session takes the name once it is written.',
    responses={**R403, **R404, **R409_NAME},
)
async def save_session(
    request: Request, sid: SessionId, body: SaveRequest, token: Token = None, owner: OwnerKey = None
) -> SaveAnswer:
    session = _controlled(request, sid, token)
    store = request.app.state.buddyscope.store
    async with session.lock:
        doc = session.export_doc().model_copy(update={"name": body.name})
        scenario = session.view.branch.plan.config.scenario
        steps = session.view.length
    saved = await asyncio.to_thread(
        _save, store, body.name, scenario, steps, doc, body.replace, owner
    )
    session.name = body.name  # only now: a refused or failed write leaves it as it was
    return saved


class SaveScenarioRequest(SaveRequest):
    pass


class SavedScenarioOut(SaveAnswer):
    notes: list[str] = Field(description="Where the file's steps differ from the session's")


def _scenario_of(session: Session, name: str) -> Any:
    try:
        return branch_to_scenario(session.view.branch, name)
    except ExportError as exc:
        raise problem(409, str(exc)) from None


@router.get(
    "/sessions/{sid}/scenario",
    response_model=WorkloadFile,
    summary="The session's branch as a scenario file (its command log becomes the workload)",
    description="A workload/scenario file (docs/workload.schema.json) that replays the "
    "session's current branch step by step; the header X-Buddyscope-Notes lists where the "
    "file needs an extra step (a command in the middle of an advance).",
    responses={**R404, 409: {"model": Problem, "description": "No workload file form"}},
)
async def session_scenario(request: Request, sid: SessionId) -> Response:
    session = session_of(request, sid)
    async with session.lock:
        exported = await asyncio.to_thread(_scenario_of, session, session.name)
    headers = {"X-Buddyscope-Notes": " | ".join(exported.notes)} if exported.notes else None
    return Response(exported.text, media_type="application/json", headers=headers)


@router.post(
    "/sessions/{sid}/save-scenario",
    summary="Save the session's branch as a scenario file in the saved sessions",
    description="Opening the saved entry (POST /api/saved/{name}/open) runs the file: the same "
    "steps, recorded, at the same step.",
    responses={
        **R403,
        **R404,
        409: {"model": Problem, "description": "No workload file form, or the name is taken"},
    },
)
async def save_scenario(
    request: Request,
    sid: SessionId,
    body: SaveScenarioRequest,
    token: Token = None,
    owner: OwnerKey = None,
) -> SavedScenarioOut:
    session = _controlled(request, sid, token)
    store = request.app.state.buddyscope.store
    async with session.lock:
        exported = await asyncio.to_thread(_scenario_of, session, body.name)
        pos = exported.step_map[session.view.pos]
    files: dict[str, str] = {}
    config = pack_texts(SessionConfig(workload=exported.text), files)
    doc = ExportDoc.model_validate(
        {
            "name": body.name,
            "current": {"branch": 0, "step": pos},
            "branches": [
                {"id": 0, "config": config.model_dump(), "log": [exported.steps]},
            ],
            "files": files,
        }
    )
    saved = await asyncio.to_thread(
        _save, store, body.name, "workload", exported.steps, doc, body.replace, owner
    )
    return SavedScenarioOut(**saved.model_dump(), notes=exported.notes)


async def _proc_text(request: Request, sid: str, which: str) -> str:
    session = session_of(request, sid)
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


class PageOut(BaseModel):
    """``node.page(pfn)``: one page frame, its block, and its head page's bits."""

    pfn: int
    zone: str
    state: str
    allocated: bool
    block_pfn: int
    block_order: int
    migratetype: str
    list_migratetype: str | None
    hinted: bool
    reported: bool
    in_flight: bool
    host: str
    head_flags: list[str]
    head_page_type: list[str]
    head_page_type_value: int
    kdump_view: str
    list_index: int | None = Field(
        description="A free block's index in its free list, 0 at the head (null otherwise)"
    )
    list_length: int | None = Field(description="The length of that free list (null otherwise)")


@router.get(
    "/sessions/{sid}/page/{pfn}",
    summary="One page frame at the session's current step (flags, page_type, kdump view)",
    responses={**R404},
)
async def page_info(
    request: Request, sid: SessionId, pfn: Annotated[int, Path(ge=0, le=2**40)]
) -> PageOut:
    session = session_of(request, sid)
    async with session.lock:
        node = session.view.node
        try:
            info = node.page(pfn)
        except ValueError as exc:
            raise problem(404, str(exc)) from None
        index = length = None
        if info.list_migratetype is not None:
            zone, order, mt = node.zone(info.zone), info.block_order, info.list_migratetype
            length = zone.list_length(order, zone.mts.index(mt))
            index = zone.free_list_index(order, mt, info.block_pfn, length).position
    return PageOut(**dataclasses.asdict(info), list_index=index, list_length=length)


def _shared(request: Request) -> bool:
    shared: bool = request.app.state.buddyscope.settings.shared
    return shared


def _digest(owner: str | None) -> str | None:
    return owner_digest(owner) if owner is not None else None


@router.get(
    "/saved",
    summary="Saved sessions (on a --shared server: only those of X-Buddyscope-Owner)",
    tags=["saved"],
)
async def list_saved(request: Request, owner: OwnerKey = None) -> list[SavedOut]:
    store = request.app.state.buddyscope.store
    saved = await asyncio.to_thread(
        lambda: store.list(_digest(owner), check_owner=_shared(request))
    )
    return [SavedOut(**vars(s)) for s in saved]


@router.post(
    "/saved/{name}/open",
    status_code=201,
    summary="Open a saved session as a new live session",
    description='With a body `{"session": ID}` and ID\'s control token in '
    "X-Buddyscope-Token, the copy reopens session ID after a server restart under that "
    "same id (its followers find it again); if ID is live by now, the answer is that "
    "session as it is.",
    tags=["saved"],
    responses={**R403, **R404, **R400, **R503},
)
async def open_saved(
    request: Request,
    name: SavedName,
    body: Annotated[ReopenRequest | None, Body()] = None,
    token: Token = None,
    owner: OwnerKey = None,
) -> Created:
    manager = _manager(request)
    reopen = body.session if body is not None else None
    if reopen is not None and not manager.token_valid(reopen, token):
        raise problem(403, f"reopening session {reopen!r} needs its control token")
    store = request.app.state.buddyscope.store
    try:
        text = await asyncio.to_thread(
            lambda: store.load(name, _digest(owner), check_owner=_shared(request))
        )
    except NotOwner:
        raise _not_owner(name, "on this shared server, opening it") from None
    if text is None:
        raise problem(404, f"no saved session named {name!r}")
    doc = ExportDoc.model_validate_json(text)
    try:
        session = await manager.import_doc(doc, name=name, reopen=reopen, peer=peer_of(request))
    except CommandError as exc:
        raise _from_command(exc) from None
    return await _created(session)


@router.delete(
    "/saved/{name}",
    status_code=204,
    summary="Forget a saved session",
    tags=["saved"],
    responses={
        403: {"model": Problem, "description": "Not the owner key of the entry"},
        404: {"model": Problem, "description": "No such saved session"},
    },
)
async def delete_saved(request: Request, name: SavedName, owner: OwnerKey = None) -> Response:
    store = request.app.state.buddyscope.store
    try:
        deleted = await asyncio.to_thread(store.delete, name, _digest(owner))
    except NotOwner:
        raise _not_owner(name, "deleting it") from None
    if not deleted:
        raise problem(404, f"no saved session named {name!r}")
    return Response(status_code=204)
