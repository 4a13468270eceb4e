"""Hostile input: texts whose size is implied by a number, limits, and bad requests.

Every refusal here is a 4xx with a sentence, spends no memory on what it refuses, and
leaves the server as it was.  Memory is measured (tracemalloc's peak over the request,
the app running in this process), never time.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from wirehelp import command, open_session

from backend.app import create_app
from backend.scenarios import build_small

pytestmark = pytest.mark.timeout(120)

#: The issue's 53-byte text: one line claiming 2**32 free order-0 pages.
HUGE_PROC = "Node 0, zone Normal 4294967296 1 1 1 1 1 1 1 1 1 1"

#: A refusal may parse, validate and answer; it must not build anything per page.
SMALL_PEAK = 32 << 20


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(build_small)) as c:
        yield c


def peak_of(fn: Callable[[], Any]) -> tuple[Any, int]:
    """``fn()`` and the most memory Python held above the start while it ran."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        return result, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def sessions(client: TestClient) -> list[str]:
    return sorted(client.app.state.buddyscope.manager.sessions)  # type: ignore[attr-defined]


def refused(r: Any, status: int) -> str:
    """The sentence of a refusal (a ``detail`` string), after checking its status."""
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail
    return detail


@pytest.mark.parametrize("count", [2**32, 10**7])
@pytest.mark.parametrize("route", ["from-proc", "sessions"])
def test_a_proc_text_claiming_billions_of_pages_is_refused_before_any_is_built(
    client: TestClient, count: int, route: str
) -> None:
    text = HUGE_PROC.replace("4294967296", str(count))
    before = sessions(client)

    def post() -> Any:
        if route == "from-proc":
            return client.post("/api/sessions/from-proc", content=text.encode())
        return client.post("/api/sessions", json={"buddyinfo": text})

    r, peak = peak_of(post)
    detail = refused(r, 409)
    assert "zone Normal" in detail and "per zone" in detail
    assert peak < SMALL_PEAK, f"refusing it held {peak >> 20} MiB"
    assert sessions(client) == before


def test_a_configure_to_such_a_text_is_refused_and_changes_nothing(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        open_session(ws)
        (frames, answer), peak = peak_of(
            lambda: command(ws, 1, type="configure", buddyinfo=HUGE_PROC)
        )
        assert answer["type"] == "error" and answer["code"] == "limit", answer
        assert "per zone" in answer["message"] and frames == []
        assert peak < SMALL_PEAK, f"refusing it held {peak >> 20} MiB"
        _, ack = command(ws, 2, type="back")
        assert ack["type"] == "ack"
