"""The server's figures on a 1M-page zone, in process (``buddyscope bench --server``).

A seeded random mix of allocations and frees (orders 0..4) on one 1,048,576-page zone
with free page reporting, recorded as a timeline of ``steps`` steps with the server's
checkpoint policy; then:

* snapshot: build time (message + JSON) and size, raw and deflated (what a browser
  receives with permessage-deflate, which every browser negotiates);
* seek: random targets anywhere in the timeline (restore + replay), p50/p99/max;
* command -> delta: an alloc or free at the end of the timeline until its delta frame
  is ready to send (1000 commands; checkpoints are taken after the send, as the
  session does) (step + events + changed lists and byte ranges + JSON), p50/p99;
* memory of the checkpoints.

``bench/ws_load.py`` measures the same over real websockets with 100 followers.
"""

from __future__ import annotations

import random
import statistics
import time
import zlib
from typing import Any

from allocator_model import ZoneSpec
from allocator_model.sources.source import Source
from allocator_model.sources.workload import expand

from .audience import Frame
from .session import Session
from .settings import Settings
from .snapshot import Tracker
from .sources import Plan, SessionConfig
from .timeline import start_branch


def bench_plan(pages: int, steps: int, seed: int) -> Plan:
    """Fragment the zone first (fill a quarter with single pages, free every other one:
    a free list of pages/8 entries and alternating page states, the worst case for list
    walks and for compression), then a random mix of ``steps - 2`` operations."""
    ops: list[dict[str, Any]] = [
        {"op": "alloc", "order": 0, "count": pages // 4, "label": "fill"},
        {"op": "free", "label": "fill", "start": 0, "stride": 2, "count": pages // 8},
        {
            "op": "random",
            "steps": max(steps - 2, 0),
            "orders": [8, 4, 2, 1, 1],
            "migratetypes": {"Movable": 3, "Unmovable": 1},
            "alloc_ratio": 0.6,
            "label": "mix",
        },
    ]
    options = {"zones": [ZoneSpec("Normal", 0, pages)], "hinting": "reporting", "seed": seed}
    return Plan(SessionConfig(scenario="bench"), Source(options, tuple(expand(ops, seed)), seed))


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def _ms(x: float) -> float:
    return round(x * 1000, 2)


def server_figures(pages: int = 1 << 20, steps: int = 100_000, seed: int = 0) -> dict[str, Any]:
    settings = Settings(max_timeline_steps=max(steps * 2, 1000))
    policy = settings.checkpoint
    plan = bench_plan(pages, steps, seed)
    t0 = time.perf_counter()
    view = start_branch(0, plan, policy)
    for _ in range(steps):
        view.forward(None, extend=True, policy=policy, max_steps=settings.max_timeline_steps)
    record_s = time.perf_counter() - t0
    session = Session("bench", "token", settings, view, "")

    # snapshot
    builds = []
    text = ""
    for _ in range(5):
        t0 = time.perf_counter()
        text = Frame(session.build_snapshot(view, "request", True)).render(1)
        builds.append(time.perf_counter() - t0)
    raw = len(text.encode())
    deflated = len(zlib.compress(text.encode(), 6)) - 6  # permessage-deflate is raw deflate

    # seek anywhere
    rng = random.Random(seed)
    seeks = []
    for _ in range(60):
        target = rng.randrange(0, view.length + 1)
        t0 = time.perf_counter()
        view.seek(target)
        seeks.append(time.perf_counter() - t0)
    view.seek(view.length)

    # command -> delta frame
    tracker = Tracker(view.node)
    live: list[tuple[int, int]] = []
    cmd_times = []
    for k in range(1000):
        if live and (k % 2 or len(live) > 50):
            pfn, order = live.pop(rng.randrange(len(live)))
            cmd: tuple[Any, ...] = ("free", pfn, order)
        else:
            cmd = ("alloc", rng.choice([0, 0, 1, 2, 3]), "Movable", None)
        t0 = time.perf_counter()
        outcome = view.forward(
            cmd,
            extend=True,
            policy=policy,
            max_steps=settings.max_timeline_steps,
            defer_checkpoint=True,
        )
        frame = Frame(session.build_delta(view, tracker, outcome, following=True))
        frame.render(k + 2)
        cmd_times.append(time.perf_counter() - t0)
        view.flush_checkpoint()  # as the session does, after the delta is queued
        if cmd[0] == "alloc":
            alloc = next(e for e in outcome.model_events if e.kind == "alloc")
            live.append((alloc.pfn, alloc.order))

    branch = view.branch
    return {
        "pages": pages,
        "steps": steps,
        "record_steps_per_s": round(steps / record_s),
        "checkpoints": len(branch.checkpoints),
        "checkpoint_mb": round(branch.checkpoint_bytes() / 2**20, 1),
        "snapshot_build_ms_p50": _ms(statistics.median(builds)),
        "snapshot_build_ms_max": _ms(max(builds)),
        "snapshot_json_mb": round(raw / 2**20, 2),
        "snapshot_deflated_mb": round(deflated / 2**20, 3),
        "seek_ms_p50": _ms(statistics.median(seeks)),
        "seek_ms_p99": _ms(_pct(seeks, 0.99)),
        "seek_ms_max": _ms(max(seeks)),
        "command_to_delta_ms_p50": _ms(statistics.median(cmd_times)),
        "command_to_delta_ms_p99": _ms(_pct(cmd_times, 0.99)),
    }
