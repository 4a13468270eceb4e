"""The REST part's OpenAPI document is accurate: schemathesis generates requests from it
against a live server and checks every answer against it (status codes, content types,
response schemas, no server errors).

(schemathesis' pytest plugin does not run under pytest 9 here, so each operation's
hypothesis strategy is driven directly.)

Operations whose bodies carry a source text (a workload file, a /proc snapshot, a trace)
answer 422 for texts that do not load, and for the configuration rules a JSON schema
cannot state (one source at a time); for them schemathesis' "schema-valid data is
accepted" check is replaced by one that every 422 is one of those documented refusals,
or the edge's refusal of a value no kernel number or text has (``bad_value``: an integer
beyond 64 bits, a lone surrogate; backend/badinput.py).

The examples are derandomized, so a run on CI is the run seen here; /api/live reads the
counts only (``live_frames=False``): /proc/kpageflags costs about a second of CPU a read
and says nothing about the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from wirehelp import LiveServer, serve

from allocator_model.sources.builtin import build_small
from backend.app import create_app
from backend.session import Settings

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def live_api() -> Iterator[LiveServer]:
    limits = Settings(
        max_sessions=8, max_pages_per_zone=65536, max_timeline_steps=5000, live_frames=False
    )
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
        "POST /api/sessions/from-workload", "POST /api/sessions/from-proc",
        "POST /api/sessions/from-trace", "GET /api/sessions/{sid}/scenario",
        "POST /api/sessions/{sid}/save-scenario", "GET /api/compare", "GET /api/live",
        "GET /api/practice", "GET /api/practice/{kind}/{seed}",
        "GET /api/practice/{kind}/{seed}/answer",
    ):  # fmt: skip
        assert op in ops, op


#: Operations whose body may hold a source text (see the module docstring).
SOURCE_TEXT_OPS = {
    "POST /api/sessions", "POST /api/sessions/import", "POST /api/sessions/from-workload",
    "POST /api/sessions/from-proc", "POST /api/sessions/from-trace",
}  # fmt: skip
SOURCE_RULES = ("give one source", "goes with buddyinfo", "scenario must be")


def refusals_are_documented(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 422 for schema-valid data is a text that does not load or a source rule."""
    if response.status_code != 422 or not case.meta.generation.mode.is_positive:
        return None
    for item in response.json()["detail"]:
        ok = item["type"] in ("invalid_file", "bad_value") or any(
            r in item["msg"] for r in SOURCE_RULES
        )
        assert ok, f"an unexplained 422 for schema-valid data: {item}"
    return None


@pytest.mark.parametrize("label", _operations())
def test_the_api_answers_as_its_openapi_says(live_api: LiveServer, label: str) -> None:
    schema = schemathesis.openapi.from_url(live_api.url + "openapi.json")
    operation = schema[label.split(" ", 1)[1]][label.split(" ", 1)[0]]
    base = live_api.url.rstrip("/")

    @given(case=operation.as_strategy())
    @settings(
        max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def check(case: Any) -> None:
        if label in SOURCE_TEXT_OPS:
            case.call_and_validate(
                base_url=base,
                excluded_checks=[positive_data_acceptance],
                additional_checks=[refusals_are_documented],
            )
        else:
            case.call_and_validate(base_url=base)

    check()
