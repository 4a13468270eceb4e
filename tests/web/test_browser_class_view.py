"""What a class sees at 1280x720 (issue 11, found by the walkthrough in docs/): the
narration's event list never shows a line cut in half at its top, the chapter row shows
a long chapter title whole, and a pfn the narration names opens its block.  Steps are
taken with the keyboard; nothing here sleeps (tests wait on the page's own counters)."""

from __future__ import annotations

import pytest
from browserkit import debug, open_dashboard, settle, watched_page
from playwright.sync_api import Browser, Page
from wirehelp import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

#: How far the narration's list is scrolled, and how far that is from the nearest line top
#: above it (0 when the first visible line is whole).
FIRST_LINE = """() => {
  const list = document.querySelector('#narration .narration-events');
  const tops = [...list.querySelectorAll('.ev')].map((li) => li.offsetTop);
  const above = tops.filter((t) => t <= list.scrollTop + 0.5);
  return [list.scrollTop, list.scrollTop - Math.max(0, ...above)];
}"""


def press(pg: Page) -> None:
    step = debug(pg, "step")
    pg.keyboard.press("ArrowRight")
    pg.wait_for_function(f"() => window.__buddyscope.step > {step}")
    settle(pg)


def test_the_first_visible_line_of_the_narration_is_whole(
    live: LiveServer, browser: Browser
) -> None:
    with watched_page(browser, 1280, 720) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=head-or-tail")
        scrolled = 0
        for n in range(1, 9):
            press(pg)
            top, cut = pg.evaluate(FIRST_LINE)
            assert abs(cut) < 1, f"step {n}: the top line is cut by {cut} px"
            scrolled += top > 0
        assert scrolled, "no step scrolled its narration: the check above proved nothing"
        assert problems == [], problems


def test_a_long_chapter_title_is_shown_whole(live: LiveServer, browser: Browser) -> None:
    with watched_page(browser, 1280, 720) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=fragmentation")
        row = pg.locator("#outline > summary")
        for _ in range(3):
            step = debug(pg, "step")
            pg.click("#btn-next-chapter")
            pg.wait_for_function(f"() => window.__buddyscope.step > {step}")
            settle(pg)
            title = pg.locator("#outline .chapter-list li[aria-current] .chapter-go").text_content()
            assert title and title in (row.text_content() or "")
            # Nothing of it clipped: no "…", every line of it in its box and on screen.
            clipped = row.evaluate(
                """(el) => el.scrollWidth > el.clientWidth + 1
                  || el.scrollHeight > el.clientHeight + 1
                  || el.getBoundingClientRect().right > innerWidth"""
            )
            assert not clipped, f"the chapter row cuts {title!r}"
            assert "…" not in (row.text_content() or "")
        assert problems == [], problems


def test_a_pfn_in_the_narration_opens_its_block(live: LiveServer, browser: Browser) -> None:
    with watched_page(browser, 1280, 720) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=hildenbrand")
        named = pg.locator("#narration .pfn", has_text="0x4000")
        for _ in range(12):
            if named.count():
                break
            press(pg)
        assert named.count(), "hildenbrand's narration never names pfn 0x4000"
        assert pg.locator("#inspector").is_hidden()
        named.first.click()
        pg.wait_for_function(
            "() => { const i = document.getElementById('inspector');"
            " return !i.hidden && i.dataset.pfn === '16384'; }"
        )
        assert "0x4000" in (pg.locator("#inspector h3").text_content() or "")
        assert problems == [], problems
