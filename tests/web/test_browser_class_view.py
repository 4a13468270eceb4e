"""What a class sees at 1280x720 (issue 11, found by the walkthrough in docs/): the
narration's event list never shows a line cut in half at its top, the chapter row shows
a long chapter title whole on one line, and a pfn the narration names opens its block.  Steps are
taken with the keyboard; nothing here sleeps (tests wait on the page's own counters)."""

from __future__ import annotations

from pathlib import Path

import pytest
from browserkit import debug, model, open_dashboard, settle, watched_page
from playwright.sync_api import Browser, Page, expect
from test_browser_map import inspect
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
        chapters = pg.locator("#outline .chapter-list li").count()
        assert chapters == 8
        for n in range(1, chapters + 1):
            step = debug(pg, "step")
            pg.click("#btn-next-chapter")
            pg.wait_for_function(f"() => window.__buddyscope.step > {step}")
            settle(pg)
            title = pg.locator("#outline .chapter-list li[aria-current] .chapter-go").text_content()
            assert title and title in (row.text_content() or "")
            # On one line (the row does not grow; the wording is compact where room is
            # short), the whole wording in the tooltip.
            lines = row.evaluate(
                "(el) => el.getBoundingClientRect().height"
                " / parseFloat(getComputedStyle(el).lineHeight)"
            )
            assert lines < 1.5, (title, lines, row.text_content())
            assert (row.get_attribute("title") or "").startswith(f"chapter {n} / 8: {title} · ")
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


#: The element wholly inside the viewport and the top element at its centre (not under
#: the inspector, a panel or a column's edge).
UNCOVERED = """(e) => { const r = e.getBoundingClientRect();
  const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
  return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight
    && r.right <= innerWidth && !!hit && e.contains(hit); }"""


def test_the_block_a_chapter_names_is_drawn_in_its_list(live: LiveServer, browser: Browser) -> None:
    """hildenbrand's chapter 'Inspect pfn 0x4000': the block is #16 of the 32 order-10
    blocks, in the middle a lane at 1280 px counts ('… 30 more'); the lane draws it as
    its own chip, before the link is followed and after, not under the inspector."""
    with watched_page(browser, 1280, 720) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=hildenbrand")
        chapter = """() => window.__buddyscope.state.events.some(
          (e) => e.kind === 'phase' && e.message.startsWith('Inspect pfn 0x4000'))"""
        for _ in range(12):
            if pg.evaluate(chapter):
                break
            press(pg)
        assert pg.evaluate(chapter), "hildenbrand has no chapter 'Inspect pfn 0x4000'"
        chip = pg.locator('#freelists .lane[data-order="10"] .chip[data-pfn="16384"]')
        expect(chip).to_have_count(1)
        pg.wait_for_function("() => !window.__buddyscope.animating")
        assert chip.evaluate(UNCOVERED)
        assert chip.get_attribute("data-position") == "15"
        # Its neighbours are counted on each side, every one of the 32 once.
        counts = pg.eval_on_selector(
            '#freelists .lane[data-order="10"]',
            """(lane) => [...lane.querySelectorAll('.items > .chip, .items > .gap')].map(
                 (e) => e.classList.contains('gap') ? Number(e.dataset.gap) : 1)""",
        )
        assert sum(counts) == 32 and len(counts) < 32
        pg.locator("#narration .pfn", has_text="0x4000").first.click()
        pg.wait_for_function(
            "() => { const i = document.getElementById('inspector');"
            " return !i.hidden && i.dataset.pfn === '16384'; }"
        )
        settle(pg)
        pg.wait_for_function("() => document.querySelector('#inspector .kdump') !== null")
        # The inspector (as tall as the model's answer makes it) keeps clear of the chip:
        # docked on the lists' left at 1280 px.
        pg.wait_for_function(
            f"""() => ({UNCOVERED})(document.querySelector(
              '#freelists .lane[data-order="10"] .chip[data-pfn="16384"]'))"""
        )
        assert pg.locator("#inspector").evaluate(UNCOVERED)
        assert problems == [], problems


def test_the_blocks_the_opening_note_names_are_drawn_at_step_0(
    live: LiveServer, browser: Browser
) -> None:
    """hildenbrand opens at step 0 saying "Look for: Inspect pfn 0x4000 ... pfn 0x0 stays
    unreported": both blocks are drawn as chips before the first key press (0x4000 was
    inside the lane's '… 28 more')."""
    with watched_page(browser, 1280, 720) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=hildenbrand")
        assert debug(pg, "step") == 0
        note = pg.text_content("#narration") or ""
        assert "Inspect pfn 0x4000" in note and "pfn 0x0," in note, note
        for pfn in (0x4000, 0x0):
            chip = pg.locator(f'#freelists .lane[data-order="10"] .chip[data-pfn="{pfn}"]')
            expect(chip).to_have_count(1)
            assert chip.evaluate(UNCOVERED), pfn
        assert problems == [], problems


#: The shipped scenarios, by the name a link opens them with.
SHIPPED = Path(__file__).resolve().parents[2] / "allocator_model" / "sources" / "scenarios"
SCENARIOS = sorted(f.stem.split("-", 1)[1] for f in SHIPPED.glob("*.json"))


@pytest.mark.parametrize(
    ("width", "height", "present"),
    [(1280, 720, False), (1920, 1080, True)],
    ids=["1280", "1920-presenter"],
)
def test_every_scenarios_opening_note_is_whole(
    live: LiveServer, browser: Browser, width: int, height: int, present: bool
) -> None:
    """Step 0 says what to look for; at 1280 px the last line of the longer notes
    (head-or-tail, reporting-passes, hildenbrand, fragmentation) was cut in half, the
    empty event list under it keeping a line of room."""
    assert len(SCENARIOS) == 12
    for name in SCENARIOS:
        with watched_page(browser, width, height) as (pg, problems):
            open_dashboard(pg, live.url, f"?scenario={name}{'&presenter=1' if present else ''}")
            note = pg.locator("#narration .headline.note")
            assert "Look for:" in (note.text_content() or ""), name
            box = note.evaluate(
                "(el) => [el.scrollHeight, el.clientHeight, el.getBoundingClientRect().bottom,"
                " document.querySelector('#narration').getBoundingClientRect().bottom]"
            )
            assert box[0] <= box[1] and box[2] <= box[3], (name, box)
            assert problems == [], problems


def test_an_inspected_block_in_a_long_lists_middle_is_drawn(
    live: LiveServer, browser: Browser
) -> None:
    """A block the server did not send (#31 of 61 order-6 blocks, 16 sent from each end):
    the inspector asks the model where it is, and the lane draws it there, its gap cut
    in two around it."""
    with watched_page(browser, 1280, 720) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=fragmentation")
        pg.keyboard.press("End")
        pg.wait_for_function(
            "() => { const b = window.__buddyscope;"
            " return b.timelineLength > 0 && b.renderedStep === b.timelineLength; }"
        )
        settle(pg)
        blocks = model(live, pg).zone("Normal").free_list(6, "Movable")
        assert len(blocks) > 40
        position = len(blocks) // 2
        pfn = blocks[position]
        chip = pg.locator(f'#freelists .lane[data-order="6"] .chip[data-pfn="{pfn}"]')
        assert chip.count() == 0, "in the middle the server does not send"
        inspect(pg, pfn + 32 + 16)  # the block's second pixel row of its tile
        expect(chip).to_have_count(1)
        assert chip.get_attribute("data-position") == str(position)
        counts = pg.eval_on_selector(
            '#freelists .lane[data-order="6"]',
            """(lane) => [...lane.querySelectorAll('.items > .chip, .items > .gap')].map(
                 (e) => e.classList.contains('gap') ? Number(e.dataset.gap) : 1)""",
        )
        assert sum(counts) == len(blocks)
        assert problems == [], problems


INSPECTING_4000 = """() => { const i = document.getElementById('inspector');
  return !i.hidden && i.dataset.pfn === '16384'; }"""
ON_LINK = """() => { const a = document.activeElement;
  return !!a && a.matches('#narration .pfn-link') && a.textContent === '0x4000'; }"""


def test_a_pfn_link_works_from_the_keyboard(live: LiveServer, browser: Browser) -> None:
    """Tab reaches the narration's pfn link, Enter and Space open the inspector on it;
    a click on it leaves the focus where it was, so Space plays again, and the arrows
    step wherever the focus is."""
    with watched_page(browser, 1280, 720) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=hildenbrand")
        pg.keyboard.press("End")
        pg.wait_for_function(
            "() => { const b = window.__buddyscope;"
            " return b.timelineLength > 0 && b.renderedStep === b.timelineLength; }"
        )
        settle(pg)
        link = pg.locator("#narration .pfn-link", has_text="0x4000")
        assert link.evaluate("(e) => e.tagName") == "BUTTON"
        # Only numbers that are frames of the session are links (not page_type values).
        assert pg.locator("#narration .pfn-link", has_text="0xfffffe7f").count() == 0
        pg.focus("#btn-step")
        for _ in range(60):
            if pg.evaluate(ON_LINK):
                break
            pg.keyboard.press("Tab")
        assert pg.evaluate(ON_LINK), "Tab never reaches the pfn link"
        pg.keyboard.press("Enter")
        pg.wait_for_function(INSPECTING_4000)
        pg.keyboard.press("Escape")
        pg.wait_for_function("() => document.getElementById('inspector').hidden")
        assert pg.evaluate(ON_LINK)
        pg.keyboard.press(" ")
        pg.wait_for_function(INSPECTING_4000)
        assert debug(pg, "playing") is False
        # ← still steps with the focus on the link (and the new narration has its own).
        pg.keyboard.press("Escape")
        pg.keyboard.press("ArrowLeft")
        pg.wait_for_function("() => window.__buddyscope.renderedStep === 6")
        settle(pg)
        # A click opens the inspector without taking the focus: Space plays, then pauses.
        pg.keyboard.press("End")
        pg.wait_for_function("() => window.__buddyscope.renderedStep === 7")
        settle(pg)
        pg.locator("body").click(position={"x": 5, "y": 5})
        link.click()
        pg.wait_for_function(INSPECTING_4000)
        assert not pg.evaluate(ON_LINK)
        pg.keyboard.press("Escape")
        pg.keyboard.press("Home")
        pg.wait_for_function("() => window.__buddyscope.renderedStep === 0")
        pg.keyboard.press(" ")
        pg.wait_for_function("() => window.__buddyscope.playing")
        pg.keyboard.press(" ")
        pg.wait_for_function("() => !window.__buddyscope.playing")
        assert problems == [], problems
