"""Above the fold (issue 11 point 11), in Chromium at 1280x720: the state a lesson's
step changes is on screen without scrolling the page or a column by hand.
"""

from __future__ import annotations

import pytest
from browserkit import model, open_dashboard, settle, shot, watched_page
from playwright.sync_api import Browser, Page
from wirehelp import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

# The element's box inside the viewport, and the element itself at its centre (not
# covered by a sticky header, a panel or the column's edge).
BOX = """e => { const r = e.getBoundingClientRect();
  const inside = r.width > 0 && r.top >= 0 && r.left >= 0
    && r.bottom <= innerHeight && r.right <= innerWidth;
  const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
  return {inside, top: r.top, bottom: r.bottom, uncovered: !!hit && e.contains(hit)}; }"""
IN_VIEW = f"sel => ({BOX})(document.querySelector(sel))"


def step_to(page: Page, step: int) -> None:
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => window.__buddyscope.renderedStep === {step}")
    settle(page)


def test_zone_gate_shows_the_host_lane_at_every_step(browser: Browser, live: LiveServer) -> None:
    with watched_page(browser) as (page, problems):
        open_dashboard(page, live.url, "?scenario=zone-gate")
        # Its three chapters start at steps 1, 3 and 7: the lesson is what the reporting
        # batch holds (DMA32 and Normal reported, then Normal skipped at the gate).
        for step in range(1, 8):
            step_to(page, step)
            where = page.evaluate(IN_VIEW, "#freelists .host-lane")
            assert where["inside"] and where["uncovered"], (step, where)
            # ... without pushing the busy rows (orders 9 and 10 of Normal) out.
            rows = page.evaluate(IN_VIEW, '#freelists .fl-row[data-order="10"] > .fl-order')
            assert rows["inside"] and rows["uncovered"], (step, rows)
        assert problems == []


@pytest.mark.parametrize(
    ("width", "height", "present"),
    [(1280, 720, False), (1920, 1080, True)],
    ids=["1280", "1920-presenter"],
)
def test_fragmentation_shows_the_unusable_index_at_its_end(
    browser: Browser, live: LiveServer, width: int, height: int, present: bool
) -> None:
    """The lesson's last step says the unusable index is 1.000 at orders 9 and 10: those
    two values are on screen under the memory map, not below the fold of the state column."""
    with watched_page(browser, width, height) as (page, problems):
        presenter = "&presenter=1" if present else ""
        open_dashboard(page, live.url, f"?scenario=fragmentation{presenter}")
        page.keyboard.press("End")
        page.wait_for_function(
            "() => { const b = window.__buddyscope;"
            " return b.timelineLength > 0 && b.renderedStep === b.timelineLength; }"
        )
        settle(page)
        page.wait_for_function("() => !window.__buddyscope.animating")
        nr_free = model(live, page).zone("Normal").nr_free
        assert nr_free[9] == nr_free[10] == 0
        # A zone's cells come in order of the order, whatever the table's shape.
        cells = page.locator('#st-watermarks table.unusable td[data-zone="Normal"]')
        for order in (9, 10):
            cell = cells.nth(order)
            assert cell.get_attribute("data-value") == "1000"
            assert cell.text_content() == "1.000"
            where = cell.evaluate(BOX)
            assert where["inside"] and where["uncovered"], (order, where)
        # ... and the map it sums up stays in view above it.
        where = page.evaluate(IN_VIEW, '#memmap .map-zone[data-zone="Normal"] .map-stack')
        assert where["inside"] and where["uncovered"], where
        shot(page, f"fold-fragmentation-unusable-{width}")
        assert problems == []
