"""What a session can run: the scenarios, and the sample trace the load dialog fills in."""

from __future__ import annotations

import asyncio
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from allocator_model.sources.source import scenario_infos

router = APIRouter(tags=["scenarios"])


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


@router.get("/scenarios", summary="Scenarios a session can run")
async def list_scenarios() -> list[ScenarioOut]:
    return [ScenarioOut(**vars(info)) for info in scenario_infos()]


@router.get(
    "/examples/sample.trace",
    response_class=PlainTextResponse,
    summary="The sample kmem trace shipped with buddyscope (what the load dialog's example "
    "fills in)",
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
