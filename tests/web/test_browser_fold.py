"""Above the fold (issue 11 point 11), in Chromium at 1280x720: the state a lesson's
step changes is on screen without scrolling the page or a column by hand.
"""

from __future__ import annotations

import pytest
from browserkit import open_dashboard, settle, watched_page
from playwright.sync_api import Browser, Page
from wirehelp import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

# The element's box inside the viewport, and the element itself at its centre (not
# covered by a sticky header, a panel or the column's edge).
IN_VIEW = """sel => { const e = document.querySelector(sel); const r = e.getBoundingClientRect();
  const inside = r.width > 0 && r.top >= 0 && r.left >= 0
    && r.bottom <= innerHeight && r.right <= innerWidth;
  const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
  return {inside, top: r.top, bottom: r.bottom, uncovered: !!hit && e.contains(hit)}; }"""


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
