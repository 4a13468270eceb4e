"""Shared pieces of the browser tests (test_browser_*.py): Chromium through Playwright,
a page that records every console error or warning, and helpers that read the model
behind the session a page opened.

Tests never sleep: they wait on ``window.__buddyscope`` (frontend/views/debugapi.js)
with ``page.wait_for_function``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect

from allocator_model import Node

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: Every wait is on a condition; these bound how long a loaded CI machine (two test runs
#: at once) may take to meet it before the test fails, well above any normal run.
WAIT_MS = 60_000
expect.set_options(timeout=WAIT_MS)

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "browser"

SETTLED = """() => { const b = window.__buddyscope;
  return b && b.configured && b.state !== null && b.renderedSeq === b.seq && b.connected
    && !b.drawPending; }"""


def launch(pw: Playwright, chromium_path: str) -> Browser:
    return pw.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS)


@contextmanager
def watched_page(
    browser: Browser, width: int = 1280, height: int = 720
) -> Iterator[tuple[Page, list[str]]]:
    """A fresh page; every console error or warning, page error and failed request is
    collected in the list (tests assert it stays empty)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type in ("error", "warning"):
            problems.append(f"console {msg.type}: {msg.text} at {msg.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    try:
        yield page, problems
    finally:
        context.close()


def open_dashboard(page: Page, base_url: str, query: str = "") -> None:
    """Open the page and wait until the session it asked for is drawn."""
    page.goto(base_url + query)
    page.wait_for_function(SETTLED)  # WAIT_MS, the context default


def settle(page: Page) -> None:
    """Wait until the last state the server sent is on screen."""
    page.wait_for_function(SETTLED)  # WAIT_MS, the context default


def send(page: Page, kind: str, **fields: Any) -> dict[str, Any]:
    """Send a command from the page; returns {"ack": ...} or {"error": code, ...}."""
    result: dict[str, Any] = page.evaluate(
        "([k, f]) => window.__buddyscope.send(k, f)", [kind, fields]
    )
    settle(page)
    return result


def steps(page: Page, n: int) -> None:
    for _ in range(n):
        r = send(page, "step")
        assert "ack" in r, r


def debug(page: Page, expr: str) -> Any:
    return page.evaluate(f"() => window.__buddyscope.{expr}")


def model(live: Any, page: Page) -> Node:
    """The model node behind the session the page shows (at its current step)."""
    sid = debug(page, "session")
    session = live.state.manager.sessions[sid]
    node: Node = session.view.node
    return node


def shot(page: Page, name: str, full_page: bool = False) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 5_000
    return path


READ_ROWS = """
() => [...document.querySelectorAll('#freelists .fl-row')].map((row) => ({
  order: Number(row.dataset.order),
  nrFree: Number(row.dataset.nrFree),
  flagged: row.dataset.flagged === undefined ? null : Number(row.dataset.flagged),
  shown: row.querySelector('.fl-nr').textContent.replaceAll(',', ''),
  lanes: [...row.querySelectorAll('.lane')].map((lane) => ({
    migratetype: lane.dataset.migratetype,
    length: Number(lane.dataset.length),
    current: lane.dataset.current === '1',
    boundary: lane.dataset.boundary === undefined ? undefined : lane.dataset.boundary,
    items: [...lane.querySelectorAll('.items > *')].map((el) =>
      el.classList.contains('chip')
        ? {kind: 'block', pfn: Number(el.dataset.pfn), position: Number(el.dataset.position),
           flagged: el.dataset.flagged === '1'}
        : el.classList.contains('gap')
          ? {kind: 'gap', count: Number(el.dataset.gap)}
          : {kind: 'boundary', pfn: el.dataset.boundaryPfn}),
    ends: [...lane.querySelectorAll('.end')].map((e) => e.textContent),
  })),
}))
"""
