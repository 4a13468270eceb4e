"""The REST part's OpenAPI document is accurate: schemathesis generates requests from it
against a live server and checks every answer against it (status codes, content types,
response schemas, no server errors).

(schemathesis' pytest plugin does not run under pytest 9 here, so each operation's
hypothesis strategy is driven directly.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from wirehelp import LiveServer, serve

from backend.app import create_app
from backend.scenarios import build_small
from backend.session import Settings

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def live_api() -> Iterator[LiveServer]:
    limits = Settings(max_sessions=8, max_pages_per_zone=65536, max_timeline_steps=5000)
    with serve(create_app(build_small, settings=limits)) as live:
        yield live


def _operations() -> list[str]:
    paths = create_app(build_small).openapi()["paths"]
    return [f"{method.upper()} {path}" for path, ops in paths.items() for method in ops]


def test_every_route_is_in_the_openapi_document() -> None:
    ops = set(_operations())
    for op in (
        "GET /healthz", "GET /api/schema", "GET /api/scenarios", "GET /api/sessions",
        "POST /api/sessions", "POST /api/sessions/import", "GET /api/sessions/{sid}",
        "DELETE /api/sessions/{sid}", "GET /api/sessions/{sid}/export",
        "POST /api/sessions/{sid}/save", "GET /api/sessions/{sid}/buddyinfo",
        "GET /api/sessions/{sid}/pagetypeinfo", "GET /api/saved",
        "POST /api/saved/{name}/open", "DELETE /api/saved/{name}", "GET /metrics",
    ):  # fmt: skip
        assert op in ops, op


@pytest.mark.parametrize("label", _operations())
def test_the_api_answers_as_its_openapi_says(live_api: LiveServer, label: str) -> None:
    schema = schemathesis.openapi.from_url(live_api.url + "openapi.json")
    operation = schema[label.split(" ", 1)[1]][label.split(" ", 1)[0]]
    base = live_api.url.rstrip("/")

    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        case.call_and_validate(base_url=base)

    check()
