"""The session's node at its current step as the kernel shows it: /proc/buddyinfo,
/proc/pagetypeinfo, and one page frame (what the inspector and the map's hover ask)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from .common import R404, TEXT, SessionId, problem, session_of

router = APIRouter()


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
