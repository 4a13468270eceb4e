"""A session written out: its export document, saved by name, and its current branch as a
scenario file (downloaded, or saved by name as an entry that replays it)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from ..export import ExportDoc, pack_texts
from ..scenario_export import ExportError, branch_to_scenario
from ..session import Session
from ..sources import SessionConfig
from ..workload_file import WorkloadFile
from .common import (
    R403,
    R404,
    R409_NAME,
    Problem,
    SessionId,
    Token,
    controlled,
    problem,
    session_of,
)
from .saved import OwnerKey, SaveAnswer, SaveRequest, save

router = APIRouter()


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
    session = controlled(request, sid, token)
    store = request.app.state.buddyscope.store
    async with session.lock:
        doc = session.export_doc().model_copy(update={"name": body.name})
        scenario = session.view.branch.plan.config.scenario
        steps = session.view.length
    saved = await asyncio.to_thread(
        save, store, body.name, scenario, steps, doc, body.replace, owner
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
    session = controlled(request, sid, token)
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
        save, store, body.name, "workload", exported.steps, doc, body.replace, owner
    )
    return SavedScenarioOut(**saved.model_dump(), notes=exported.notes)
