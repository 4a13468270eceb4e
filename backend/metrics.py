"""``/metrics`` in Prometheus text format (``prometheus_client``).

Sessions are labelled by ``Session.label`` (a digest of the control token: neither the id,
which grants watching, nor the saved name, which a shared server keeps private); their
holder finds it in ``GET /api/sessions``.  Per session, zone and order, the model's free
blocks under the same name and labels as
node_exporter's buddyinfo collector (``node_buddyinfo_blocks{node, zone, size}``), so a
dashboard that graphs a fleet's buddyinfo can graph the model beside it; plus the
blocks carrying the strategy's flag (hinted / reported), host-resident and discarded
pages per zone, refaults and report calls per session, and the server's own counts.

Each session is read under its lock, so a scrape never sees a half-applied step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from allocator_model import Node

from .session import Session

router = APIRouter(tags=["metrics"])


@dataclass
class SessionFigures:
    session: str  # Session.label, not the id
    strategy: str
    step: int
    length: int
    viewers: int
    zones: list[dict[str, Any]] = field(default_factory=list)
    refaults: int = 0
    resyncs: int = 0
    deltas: int = 0
    report_calls: int = 0
    pages_reported: int = 0


def figures(session: Session) -> SessionFigures:
    """Everything the scrape shows of one session (call under its lock)."""
    view = session.view
    node: Node = view.node
    out = SessionFigures(session.label, node.hinting, view.pos, view.length, len(session.clients))
    for z in node.zones:
        backing = node.host.backing[z.name]
        out.zones.append(
            {
                "zone": z.name,
                "free": list(z.nr_free),
                # The model's per-list counts, as the snapshot's lists[].flagged carry them.
                "flagged": z.flagged_per_order(),
                "free_pages": z.nr_free_pages,
                "resident": backing.count(1),
                "discarded": backing.count(2),
            }
        )
    stats = node.host.stats()
    out.refaults = stats.refaults
    out.resyncs = session.resyncs
    out.deltas = session.deltas_sent
    out.report_calls = stats.report_calls
    out.pages_reported = stats.pages_reported
    return out


class _Snapshot(Collector):
    def __init__(self, sessions: list[SessionFigures]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        blocks = GaugeMetricFamily(
            "node_buddyinfo_blocks",
            "Free blocks per zone and order of the model (as node_exporter's buddyinfo)",
            labels=["session", "node", "zone", "size"],
        )
        flagged = GaugeMetricFamily(
            "buddyscope_flagged_blocks",
            "Free blocks carrying the strategy's flag (hinted in v2, reported in 5.7+)",
            labels=["session", "strategy", "zone", "order"],
        )
        free_pages = GaugeMetricFamily(
            "buddyscope_free_pages", "NR_FREE_PAGES per zone", labels=["session", "zone"]
        )
        resident = GaugeMetricFamily(
            "buddyscope_host_resident_pages",
            "Guest pages backed by host memory",
            labels=["session", "zone"],
        )
        discarded = GaugeMetricFamily(
            "buddyscope_host_discarded_pages",
            "Guest pages the host discarded after a report",
            labels=["session", "zone"],
        )
        refaults = CounterMetricFamily(
            "buddyscope_refaults", "Guest touches of discarded pages", labels=["session"]
        )
        calls = CounterMetricFamily(
            "buddyscope_report_calls", "Round trips to the host", labels=["session"]
        )
        reported = CounterMetricFamily(
            "buddyscope_pages_reported", "Pages reported to the host", labels=["session"]
        )
        steps = GaugeMetricFamily(
            "buddyscope_session_step", "Position in the timeline", labels=["session"]
        )
        length = GaugeMetricFamily(
            "buddyscope_session_timeline_steps", "Steps recorded", labels=["session"]
        )
        viewers = GaugeMetricFamily(
            "buddyscope_session_viewers", "Connections watching", labels=["session"]
        )
        resyncs = CounterMetricFamily(
            "buddyscope_session_resyncs",
            "Snapshots sent to clients that fell behind",
            labels=["session"],
        )
        deltas = CounterMetricFamily(
            "buddyscope_session_deltas", "Deltas broadcast", labels=["session"]
        )
        for s in self.sessions:
            for z in s.zones:
                for order, n in enumerate(z["free"]):
                    blocks.add_metric([s.session, "0", z["zone"], str(order)], n)
                for order, n in enumerate(z["flagged"]):
                    flagged.add_metric([s.session, s.strategy, z["zone"], str(order)], n)
                free_pages.add_metric([s.session, z["zone"]], z["free_pages"])
                resident.add_metric([s.session, z["zone"]], z["resident"])
                discarded.add_metric([s.session, z["zone"]], z["discarded"])
            refaults.add_metric([s.session], s.refaults)
            calls.add_metric([s.session], s.report_calls)
            reported.add_metric([s.session], s.pages_reported)
            steps.add_metric([s.session], s.step)
            length.add_metric([s.session], s.length)
            viewers.add_metric([s.session], s.viewers)
            resyncs.add_metric([s.session], s.resyncs)
            deltas.add_metric([s.session], s.deltas)
        sessions = GaugeMetricFamily("buddyscope_sessions", "Live sessions")
        sessions.add_metric([], len(self.sessions))
        yield from (blocks, flagged, free_pages, resident, discarded, refaults, calls, reported)
        yield from (steps, length, viewers, resyncs, deltas, sessions)


async def _gather(sessions: list[Session]) -> list[SessionFigures]:
    out = []
    for session in sessions:
        async with session.lock:
            out.append(await asyncio.to_thread(figures, session))
    return out


@router.get(
    "/metrics",
    summary="Prometheus metrics of every session",
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(request: Request) -> Response:
    sessions = list(request.app.state.buddyscope.manager.sessions.values())
    registry = CollectorRegistry()
    registry.register(_Snapshot(await _gather(sessions)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
