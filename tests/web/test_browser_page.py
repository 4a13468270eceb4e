"""The real page in a real browser (Debian's Chromium through Playwright).

Starts the default app on a free loopback port, opens the page, waits until the
first snapshot has been drawn, and compares what is drawn with the model.  Any console
error or uncaught page error fails the test.  A screenshot lands in pytest's tmp dir.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

# `live_server` is a conftest.LiveServer (typed Any: test modules are not a package).

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Everything the test compares, read from the DOM in one go.
READ_ROWS = """
() => [...document.querySelectorAll('.zone')].map((zone) => ({
  zone: zone.dataset.zone,
  rows: [...zone.querySelectorAll('.order-row')].map((row) => ({
    order: Number(row.dataset.order),
    nrFree: Number(row.dataset.nrFree),
    shown: row.querySelector('.nr-free').textContent.replaceAll(',', ''),
    lanes: [...row.querySelectorAll('.lane')].map((lane) => ({
      migratetype: lane.dataset.migratetype,
      count: Number(lane.dataset.count),
      blocks: [...lane.querySelectorAll('.block')].map((b) => Number(b.dataset.pfn)),
      gaps: [...lane.querySelectorAll('.gap')].map((g) => Number(g.dataset.gap)),
      ends: [...lane.querySelectorAll('.end')].map((e) => e.textContent),
    })),
  })),
}))
"""


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            problems.append(f"console error: {msg.text} at {msg.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    yield page, problems
    context.close()


def test_page_draws_the_models_free_lists(
    live_server: Any, page: tuple[Page, list[str]], tmp_path: Path
) -> None:
    pg, problems = page
    pg.goto(live_server.url)
    pg.wait_for_function("() => window.__buddyscope && window.__buddyscope.snapshotSeq >= 1")
    debug: dict[str, Any] = pg.evaluate(
        "() => ({protocolVersion: window.__buddyscope.protocolVersion,"
        " connected: window.__buddyscope.connected, errors: window.__buddyscope.errors})"
    )
    assert debug == {"protocolVersion": 1, "connected": True, "errors": []}
    assert pg.locator("#status").text_content() == "live"

    node = live_server.state.scenario.node
    drawn = pg.evaluate(READ_ROWS)
    assert [z["zone"] for z in drawn] == [z.name for z in node.zones]
    for zone_drawn, zone in zip(drawn, node.zones, strict=True):
        rows = zone_drawn["rows"]
        assert [r["order"] for r in rows] == list(range(node.max_order)) == list(range(11))
        for row in rows:
            order = row["order"]
            where = f"zone {zone.name} order {order}"
            assert row["nrFree"] == zone.nr_free[order], where
            assert row["shown"] == str(zone.nr_free[order]), where
            expected_lanes = [mt for mt in node.migratetypes if zone.free_list(order, mt)]
            assert [lane["migratetype"] for lane in row["lanes"]] == expected_lanes, where
            for lane in row["lanes"]:
                full = zone.free_list(order, lane["migratetype"])
                assert lane["count"] == len(full), where
                assert lane["ends"] == ["head", "tail"], where
                # Drawn blocks plus the counted middle stand for the whole list ...
                assert len(lane["blocks"]) + sum(lane["gaps"]) == len(full), where
                # ... and both ends are the model's, in head -> tail order.
                assert lane["blocks"][0] == full[0], where
                assert lane["blocks"][-1] == full[-1], where
                assert set(lane["blocks"]) <= set(full), where
                positions = [full.index(pfn) for pfn in lane["blocks"]]
                assert positions == sorted(positions), where

    # The default workload leaves long lists; the page must summarise them.
    assert pg.locator(".gap").count() > 0

    shot = tmp_path / "free-lists.png"
    pg.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    assert problems == []


def test_a_refresh_request_redraws_with_the_next_sequence_number(
    live_server: Any, page: tuple[Page, list[str]]
) -> None:
    """The page keeps its socket open; a second snapshot replaces the first drawing."""
    pg, problems = page
    pg.goto(live_server.url)
    pg.wait_for_function("() => window.__buddyscope && window.__buddyscope.snapshotSeq >= 1")
    pg.evaluate("() => window.__buddyscope.send({type: 'get_snapshot', id: 1})")
    pg.wait_for_function("() => window.__buddyscope.snapshotSeq === 2")
    assert pg.locator(".zone").count() == len(live_server.state.scenario.node.zones)
    assert problems == []
