"""A lesson a class can follow (issue 11), in Chromium at 1280x720 and in presenter mode at
1920x1080: every event of a step can be reached in the narration, and the one that carries
the step's point is on screen without scrolling.  Steps are taken with the keyboard, as a
lecturer does; nothing here sleeps (tests wait on the page's own counters)."""

from __future__ import annotations

from typing import Any

import pytest
from browserkit import debug, open_dashboard, settle, shot, watched_page
from playwright.sync_api import Browser, Page
from wirehelp import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SIZES = pytest.mark.parametrize(
    ("width", "height", "present"),
    [(1280, 720, False), (1920, 1080, True)],
    ids=["1280", "1920-presenter"],
)

#: Whether an element is wholly on screen: inside the viewport and inside every box
#: that clips it (a scrolled list, a panel), and not covered by anything else.
ON_SCREEN = """(el) => {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return false;
  if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return false;
  for (let p = el.parentElement; p; p = p.parentElement) {
    const s = getComputedStyle(p);
    if (s.overflowY === 'visible' && s.overflowX === 'visible') continue;
    const c = p.getBoundingClientRect();
    const top = c.top + p.clientTop, bottom = top + p.clientHeight;
    if (r.top < top - 1 || r.bottom > bottom + 1) return false;
  }
  const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
  return hit !== null && (el === hit || el.contains(hit));
}"""


def press_until(pg: Page, found: str, most: int = 40) -> list[dict[str, Any]]:
    """Press → until the step's events satisfy the JS predicate `found` (of `events`)."""
    for _ in range(most):
        step = debug(pg, "step")
        pg.keyboard.press("ArrowRight")
        pg.wait_for_function(f"() => window.__buddyscope.step > {step}")
        settle(pg)
        events: list[dict[str, Any]] = debug(pg, "state.events")
        if pg.evaluate(f"(events) => ({found})", events):
            return events
    raise AssertionError(f"no step within {most} presses has {found}")


def open_lesson(pg: Page, url: str, scenario: str, present: bool) -> None:
    open_dashboard(pg, url, f"?scenario={scenario}{'&presenter=1' if present else ''}")
    assert pg.evaluate("() => document.body.classList.contains('presenter')") is present


#: The narration's event lines.
LINES = "#narration .narration-events > .ev:not(.more)"

#: head-or-tail's lesson: a freed block kept at the tail by buddy_merge_likely().
TAIL_PLACEMENT = """events.some((e) => e.kind === 'list_add'
  && e.message.includes('buddy_merge_likely()') && e.message.includes('tail'))"""


def event_lines(pg: Page) -> Any:
    return pg.locator(LINES)


def check_reachable(pg: Page, events: list[dict[str, Any]]) -> None:
    """Every event is a line of the narration's list, and each can be scrolled into view
    there without moving the page."""
    lines = event_lines(pg)
    assert lines.count() == len(events)
    assert [t.strip() for t in lines.locator(".ev-msg").all_text_contents()] == [
        e["message"] for e in events
    ]
    for i in range(len(events)):
        line = lines.nth(i)
        line.evaluate("(el) => el.scrollIntoView({block: 'nearest'})")
        assert line.evaluate(ON_SCREEN), f"event {i} cannot be brought on screen"
    assert pg.evaluate("() => document.scrollingElement.scrollTop") == 0


@SIZES
def test_head_or_tail_shows_the_tail_placement(
    live: LiveServer, browser: Browser, width: int, height: int, present: bool
) -> None:
    with watched_page(browser, width, height) as (pg, problems):
        open_lesson(pg, live.url, "head-or-tail", present)
        events = press_until(pg, TAIL_PLACEMENT)
        point = event_lines(pg).filter(has_text="buddy_merge_likely()")
        assert point.count() == 1
        # The lesson is on screen as the step lands, without anyone scrolling anything.
        assert point.evaluate(ON_SCREEN), "the tail placement is not on screen"
        assert "point" in (point.get_attribute("class") or "")
        shot(pg, f"lesson-head-or-tail-point-{width}")
        check_reachable(pg, events)
        assert problems == [], problems


@SIZES
def test_v2_threshold_shows_hinting_requested_and_scheduled(
    live: LiveServer, browser: Browser, width: int, height: int, present: bool
) -> None:
    with watched_page(browser, width, height) as (pg, problems):
        open_lesson(pg, live.url, "v2-threshold", present)
        events = press_until(pg, "events.some((e) => e.kind === 'request')")
        request = next(e for e in events if e["kind"] == "request")
        assert "scheduled" in request["message"]
        point = event_lines(pg).filter(has_text=request["message"])
        assert point.evaluate(ON_SCREEN), "the hinting request is not on screen"
        check_reachable(pg, events)
        # A step of hundreds of events: its point is drawn and in view, the rest one click away.
        events = press_until(pg, "events.length > 120")
        lines = event_lines(pg)
        assert pg.locator("#narration .ev-count").text_content() == f"{len(events)} events"
        assert pg.locator("#narration .ev.point").evaluate(ON_SCREEN)
        if lines.count() < len(events):
            pg.click("#narration .show-all")
            pg.wait_for_function(
                f"() => document.querySelectorAll({LINES!r}).length === {len(events)}"
            )
        assert pg.locator("#narration .show-all").count() == 0
        assert problems == [], problems


def test_a_one_event_step_says_it_once(live: LiveServer, browser: Browser) -> None:
    with watched_page(browser) as (pg, problems):
        open_lesson(pg, live.url, "head-or-tail", False)
        events = press_until(pg, "events.length === 1 && events[0].kind === 'phase'")
        text = pg.text_content("#narration") or ""
        assert text.count(events[0]["message"]) == 1, text
        assert problems == [], problems
