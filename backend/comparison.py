"""GET /api/compare: one workload under each strategy, side by side.

The same function and table as ``buddyscope compare`` (``headless.compare_plan``), for
a scenario, a built-in workload or the source a live session runs.  A comparison runs
three models, so one runs at a time, within the server's budget (steps, pages, seconds),
stopped when its client goes away; results are cached by what they depend on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from allocator_model import ModelError

from .badinput import refuse_bad_json
from .configure import plan_from_config
from .rest.common import R404, Problem, problem, session_of
from .settings import CommandError
from .sources import SessionConfig, plan_for

router = APIRouter(prefix="/api", tags=["scenarios"], dependencies=[Depends(refuse_bad_json)])



class ReturnedAtOut(BaseModel):
    """``allocator_model.lab.compare.ReturnedAt``: memory returned by one sample time."""

    t_s: float = Field(description="Virtual time, seconds")
    when: str = Field(description='What the time is: "last free + 2.5 s", "all drained", ...')
    pages: int = Field(description="Pages the host had discarded by then (cumulative)")


class CompareResult(BaseModel):
    """``allocator_model.lab.compare.StrategyResult``: one strategy's run."""

    strategy: str
    returned_pages: int = Field(description="Pages discarded by the host, cumulative")
    resident_pages: int = Field(description="Host-resident pages at the end")
    report_calls: int
    pages_reported: int
    isolated_blocks: int
    isolated_pages: int
    refaults: int
    allocations_taking_flagged: int = Field(
        description="Allocations that had to take a hinted/reported block"
    )
    failed_allocations: int
    drain_time_s: float | None = Field(description="Idle guest: last free -> last report")
    workload_end_s: float
    last_free_s: float | None = Field(description="The guest's last free (None: never)")
    drained_s: float | None = Field(description="The last report (None: no report)")
    until_s: float = Field(description="The run stopped here: nothing changes after it")
    returned_at: list[ReturnedAtOut] = Field(
        description="Memory returned by each of the comparison's common sample times"
    )
    series: list[tuple[float, int, int, int]] = Field(
        description="(time s, returned pages, resident pages, refaults) after every "
        "operation and work item"
    )


class CompareRow(BaseModel):
    label: str
    values: list[str] = Field(description="One formatted value per strategy, in order")


class CompareOut(BaseModel):
    what: str = Field(description="The scenario, built-in workload or session compared")
    seed: int
    kernel: str
    strategies: list[str]
    results: list[CompareResult]
    rows: list[CompareRow] = Field(
        description="The table `buddyscope compare` prints (allocator_model.lab.compare.table)"
    )
    command: str = Field(
        description="The command line that prints the same table (FILE: the workload "
        "file or trace the session was loaded from)"
    )
    notes: list[str] = Field(description="What the comparison leaves out of the session")


def _compare_budget(plan: Any, settings: Any) -> None:
    """Refuse (409) a comparison over the server's budget, from its sizes alone."""
    steps = len(plan.source.workload)
    if steps > settings.max_compare_steps:
        raise problem(
            409,
            f"the workload has {steps} operations; this server compares at most "
            f"{settings.max_compare_steps} (run buddyscope compare on your own machine)",
        )
    pages = sum(n for _, n in plan.source.sizes())
    if pages > settings.max_compare_pages:
        raise problem(
            409,
            f"the node has {pages} pages; this server compares nodes of at most "
            f"{settings.max_compare_pages} (run buddyscope compare on your own machine)",
        )


async def _run_compare(request: Request, settings: Any, run: Callable[..., Any]) -> Any:
    """``run(stop=...)`` in a worker thread, stopped when the client goes away (or this
    request is cancelled) or after ``max_compare_seconds`` (409): a comparison nobody
    waits for does not hold the comparison lock for minutes."""
    from allocator_model.lab.compare import ComparisonStopped

    gone = threading.Event()
    deadline = time.monotonic() + settings.max_compare_seconds

    def stop() -> bool:
        return gone.is_set() or time.monotonic() > deadline

    task = asyncio.ensure_future(asyncio.to_thread(run, stop=stop))
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=0.5)
            if not task.done() and await request.is_disconnected():
                gone.set()
        return task.result()
    except ComparisonStopped:
        raise problem(
            409,
            f"the comparison took longer than {settings.max_compare_seconds:g} s, this "
            "server's budget (run buddyscope compare on your own machine)",
        ) from None
    finally:
        gone.set()  # cancelled with the request: the thread stops at its next check


@router.get(
    "/compare",
    summary="One workload under each strategy, side by side (allocator_model.lab.compare)",
    description="Exactly one of `scenario` (any scenario of GET /api/scenarios), `workload` "
    "(a built-in workload: buffer-reuse, idle, random-mix) or `session` (the source a live "
    "session runs, with its seed, kernel, size and per-cpu lists).  The same function and "
    "table as `buddyscope compare` (`command` is the equivalent command line); results "
    "are cached.",
    tags=["scenarios"],
    responses={
        **R404,
        409: {"model": Problem, "description": "Nothing to compare, or the model refuses"},
    },
)
async def compare_strategies(
    request: Request,
    scenario: Annotated[str | None, Query(max_length=100)] = None,
    workload: Annotated[str | None, Query(max_length=100)] = None,
    session: Annotated[str | None, Query(max_length=64)] = None,
    seed: Annotated[int | None, Query(ge=0, le=2**32 - 1)] = None,
    kernel: Annotated[Literal["5.7", "5.10", "6.12"] | None, Query()] = None,
) -> CompareOut:
    from allocator_model.lab.compare import table

    from .headless import (
        UsageError,
        compare_command,
        compare_kernel,
        compare_notes,
        compare_plan,
        workload_plan,
    )

    given = [x for x in (scenario, workload, session) if x is not None]
    if len(given) != 1:
        raise problem(409, "give exactly one of scenario, workload and session")
    settings = request.app.state.buddyscope.settings
    own_operations = 0
    notes: list[str] = []
    if workload is not None:
        try:
            plan = workload_plan(workload, seed or 0)
        except UsageError as exc:
            raise problem(404, str(exc)) from None
        what = f"workload {workload}"
    elif scenario is not None:
        try:
            plan = await asyncio.to_thread(
                plan_from_config, SessionConfig(scenario=scenario, seed=seed), settings
            )
        except CommandError as exc:
            raise problem(404 if exc.code == "invalid_config" else 409, exc.message) from None
        what = f"scenario {scenario}"
    else:
        assert session is not None
        live = session_of(request, session)
        async with live.lock:
            branch = live.view.branch
            base = branch.plan
            own_operations = sum(1 for cmd in branch.log if cmd[0] != "next")
        if base.source.start is not None:
            raise problem(409, "a session started from /proc has no workload to compare")
        plan = base
        if seed is not None:
            config = base.config.model_copy(update={"seed": seed})
            plan = await asyncio.to_thread(plan_for, config)
        what = f"session {session} ({base.config.scenario})"
        if plan.config.workload is not None:
            notes.append("FILE is the workload file this session was loaded from.")
        elif plan.config.trace is not None:
            notes.append("FILE is the kmem trace this session replays.")
    chosen = compare_kernel(plan, kernel)
    _compare_budget(plan, settings)
    # What compare_plan() reads: not the strategy or constants a session runs.
    config = plan.config.model_copy(update={"hinting": None, "constants": {}})
    what_runs = f"{config.model_dump_json()}|{plan.source.seed}|{chosen}"
    key = hashlib.sha256(what_runs.encode()).hexdigest()
    state = request.app.state.buddyscope
    async with state.compare_lock:  # one comparison at a time: each runs three models
        results = state.compare_cache.get(key)
        if results is None:
            try:
                results = await _run_compare(request, settings, partial(compare_plan, plan, chosen))
            except (ModelError, ValueError) as exc:
                raise problem(409, f"the model refuses the comparison: {exc}") from None
            state.compare_cache[key] = results
            if len(state.compare_cache) > 16:
                state.compare_cache.pop(next(iter(state.compare_cache)))
    return CompareOut(
        what=what,
        seed=plan.source.seed,
        kernel=chosen,
        strategies=[r.strategy for r in results],
        results=[CompareResult(**dataclasses.asdict(r)) for r in results],
        rows=[CompareRow(label=label, values=values) for label, values in table(results)],
        command=compare_command(plan, chosen),
        notes=[*compare_notes(plan, chosen, own_operations), *notes],
    )
