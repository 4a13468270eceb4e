"""Lessons a class can follow (issue 11), in Chromium: a scenario opens with its length,
its setup folded into step 0 and its chapters; stepping back shows what forward showed;
a follower never freezes silently.
"""

from __future__ import annotations

import pytest
from browserkit import debug, open_dashboard, settle, shot, watched_page
from playwright.sync_api import Browser, Page
from wirehelp import LiveServer

from allocator_model.sources.source import scenario_infos

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

LIBRARY = [s.name for s in scenario_infos() if s.source == "library"]


def at_step(page: Page, step: int) -> None:
    page.wait_for_function(f"() => window.__buddyscope.renderedStep === {step}")
    settle(page)


def press(page: Page, key: str, step: int) -> None:
    page.keyboard.press(key)
    at_step(page, step)


def seconds(t: float) -> str:
    """The page's way of writing a time (views/statepanel.js formatSeconds)."""
    if t == 0:
        return "0 s"
    if t < 1:
        return f"{t * 1000:.{1 if t * 1000 < 10 else 0}f} ms"
    return f"{t:.3f}".rstrip("0").rstrip(".") + " s"


def test_a_scenario_opens_with_its_length_setup_folded_and_chapters(
    browser: Browser, live: LiveServer
) -> None:
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=zone-gate")
        # The 105 steps of the boot's reporting passes are the starting state.
        assert pg.text_content("#step-out") == "step 0 / 7"
        assert pg.get_attribute("#seek", "max") == "7"
        assert "105 steps" in (pg.text_content("#setup-note") or "")
        assert "105 automatic steps folded in" in (pg.text_content("#outline") or "")
        # Its chapters: marks on the seek bar and an outline with their step ranges.
        marks = pg.eval_on_selector_all(
            "#marks .mark.kind-phase", "els => els.map(e => Number(e.dataset.step))"
        )
        assert marks == [1, 3, 7]
        assert pg.text_content("#outline summary") == "starting state · 3 chapters"
        pg.click("#outline summary")
        ranges = pg.eval_on_selector_all(
            "#outline li[data-step]",
            "els => els.map(e => [Number(e.dataset.step), Number(e.dataset.end), e.innerText])",
        )
        assert [r[:2] for r in ranges] == [[1, 2], [3, 6], [7, 7]]
        assert ranges[1][2].startswith(debug(pg, "state.chapters[1].title"))
        assert ranges[1][2].endswith("steps 3\u20136")  # an en dash
        shot(pg, "lesson-outline-1280")
        pg.click("#outline li[data-step='3'] button")
        at_step(pg, 3)
        title = debug(pg, "state.chapters[1].title")
        # The row says it as its width allows (title whole), the tooltip in full words.
        whole = f"chapter 2 / 3: {title} · steps 3\u20136"
        assert pg.get_attribute("#outline summary", "title") == whole
        assert pg.text_content("#outline summary") in (whole, whole.removeprefix("chapter "))
        # End, Home and "next chapter" work from the first second.
        pg.locator("body").click(position={"x": 5, "y": 5})
        press(pg, "End", 7)
        press(pg, "Home", 0)
        press(pg, "]", 1)
        assert debug(pg, "state.events.map(e => e.kind)") == ["phase"]
        pg.click("#btn-next-chapter")
        at_step(pg, 3)
        pg.locator("body").click(position={"x": 5, "y": 5})
        press(pg, "[", 1)
        # The setup shown as steps: the same moment, counted from the boot.
        pg.click("#outline summary")
        pg.click("#btn-unfold")
        pg.wait_for_function("() => window.__buddyscope.state.setup === null")
        settle(pg)
        assert pg.text_content("#step-out") == "step 106 / 112"
        assert debug(pg, "state.events.length") == 0
        assert pg.locator("#setup-note").is_hidden()
        assert problems == []


@pytest.mark.parametrize(
    ("width", "height", "query"), [(1280, 720, ""), (1920, 1080, "&presenter=1")]
)
def test_every_scenario_reaches_its_first_narrated_point_within_three_keys(
    browser: Browser, live: LiveServer, width: int, height: int, query: str
) -> None:
    with watched_page(browser, width, height) as (pg, problems):
        for name in LIBRARY:
            open_dashboard(pg, live.url, f"?scenario={name}{query}")
            length = debug(pg, "timelineLength")
            assert length > 0 and debug(pg, "step") == 0, name
            assert pg.text_content("#step-out") == f"step 0 / {length:,}", name
            pg.locator("body").click(position={"x": 5, "y": 5})
            for n in (1, 2, 3):
                press(pg, "ArrowRight", n)
                if "phase" in debug(pg, "state.events.map(e => e.kind)"):
                    break
            else:
                pytest.fail(f"{name}: no narrated phase within three steps")
            # The chapter key goes on to the next narrated point, never past the end.
            chapters = debug(pg, "state.chapters.map(c => c.step)")
            later = [c for c in chapters if c > n]
            if later:
                press(pg, "]", later[0])
                assert "phase" in debug(pg, "state.events.map(e => e.kind)"), name
        if query:
            shot(pg, "lesson-first-point-presenter-1920")
        assert problems == []


@pytest.mark.parametrize(
    ("width", "height", "query"), [(1280, 720, ""), (1920, 1080, "&presenter=1")]
)
def test_stepping_back_shows_what_going_forward_showed(
    browser: Browser, live: LiveServer, width: int, height: int, query: str
) -> None:
    with watched_page(browser, width, height) as (pg, problems):
        open_dashboard(pg, live.url, f"?scenario=head-or-tail{query}")
        pg.locator("body").click(position={"x": 5, "y": 5})
        forward = {}
        for n in range(1, 5):
            press(pg, "ArrowRight", n)
            pg.wait_for_function("() => !window.__buddyscope.animating")
            forward[n] = (debug(pg, "state.events"), pg.inner_text("#narration"))
        for n in (3, 2, 1):
            animated = debug(pg, "stats.animated")
            press(pg, "ArrowLeft", n)
            # The step left is animated in reverse, as forward animated it.
            pg.wait_for_function(f"() => window.__buddyscope.stats.animated > {animated}")
            pg.wait_for_function("() => !window.__buddyscope.animating")
            events, narration = forward[n]
            assert debug(pg, "state.events") == events, n
            assert pg.inner_text("#narration") == narration, n
            assert "jumped to" not in narration
        # A chapter jump shows its step's events too.
        chapter = min(c for c in debug(pg, "state.chapters.map(c => c.step)") if c > 1)
        press(pg, "]", chapter)
        assert debug(pg, "state.events") == forward[chapter][0]
        assert problems == []


def test_a_follower_that_steps_says_it_no_longer_follows_and_can_follow_again(
    browser: Browser, live: LiveServer
) -> None:
    with (
        watched_page(browser) as (ctl, problems),
        watched_page(browser, 1920, 1080) as (fol, problems2),
    ):
        open_dashboard(ctl, live.url, "?scenario=v2-boundary")
        sid = debug(ctl, "session")
        open_dashboard(fol, live.url, f"?session={sid}&presenter=1")
        assert fol.text_content("#status") == "live · following"
        ctl.click("#btn-step")
        at_step(fol, 1)
        fol.locator("body").click(position={"x": 5, "y": 5})
        fol.keyboard.press("ArrowRight")
        fol.wait_for_function("() => window.__buddyscope.state.following === false")
        at_step(fol, 2)
        # Never "following" while it stays put: it says so, and offers the way back.
        assert "following" not in (fol.text_content("#status") or "").replace("not following", "")
        assert "on your own" in (fol.text_content("#status") or "")
        assert fol.locator("#btn-follow").is_visible()
        box = fol.locator("#btn-follow").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 1080
        ctl.click("#btn-step")
        ctl.click("#btn-step")
        ctl.wait_for_function("() => window.__buddyscope.step === 3")
        assert debug(fol, "step") == 2
        fol.click("#btn-follow")
        at_step(fol, 3)
        assert fol.text_content("#status") == "live · following"
        assert fol.locator("#follow-bar").is_hidden()
        ctl.click("#btn-step")
        at_step(fol, 4)
        assert problems == [] and problems2 == []


#: The zones marked on the memory map as the free lists' zone, and whether the marked
#: part is wholly inside the scrolling column that holds the map.
FOLLOWED = """() => {
  const marked = [...document.querySelectorAll('#memmap .map-zone.followed')];
  const el = marked[0]?.querySelector('.map-stack');
  let box = el?.parentElement;
  while (box && !/(auto|scroll)/.test(getComputedStyle(box).overflowY)) box = box.parentElement;
  const r = el?.getBoundingClientRect(), b = box?.getBoundingClientRect();
  return {zones: marked.map((m) => m.dataset.zone),
          inView: !!(r && b && r.top >= b.top - 1 && r.bottom <= b.bottom + 1)};
}"""


# Every zone's map canvas, as pixels.
MAP_PIXELS = """() => [...document.querySelectorAll("#memmap canvas.map-base")]
  .map((c) => c.toDataURL())"""


def test_the_lists_and_the_map_follow_the_zone_of_the_step_unless_pinned(
    browser: Browser, live: LiveServer
) -> None:
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=zone-gate")
        pg.click("#outline summary")
        pg.click("#btn-unfold")  # the boot's reporting passes, as steps
        pg.wait_for_function("() => window.__buddyscope.state.setup === null")
        pg.locator("body").click(position={"x": 5, "y": 5})
        press(pg, "Home", 0)
        assert debug(pg, "selectedZone") == "Normal"
        settle(pg)
        whole = debug(pg, "mapWholePaints")
        for n in (1, 2):
            press(pg, "ArrowRight", n)
        zones = debug(pg, "state.events.filter(e => e.kind === 'report').map(e => e.zone)")
        assert zones and set(zones) == {"DMA32"}
        assert debug(pg, "selectedZone") == "DMA32"
        assert pg.get_attribute("#freelists .host-lane", "data-zone") == "DMA32"
        # The map follows: DMA32's part is the one marked, in view in its column.
        assert pg.evaluate(FOLLOWED) == {"zones": ["DMA32"], "inView": True}
        # ... painting only what the step changed (a whole repaint is ~100 ms at 64 GiB),
        # and what it shows is what a whole repaint of the step draws.
        pg.wait_for_function("() => !window.__buddyscope.mapHolding")
        assert debug(pg, "mapWholePaints") == whole
        painted = pg.evaluate(MAP_PIXELS)
        pg.evaluate("() => window.__buddyscope.send('get_snapshot')")
        pg.wait_for_function(f"() => window.__buddyscope.mapWholePaints > {whole}")
        settle(pg)
        assert pg.evaluate(MAP_PIXELS) == painted
        shot(pg, "map-follows-dma32")
        # Back shows the step before in its own zone; a zone picked by hand stays.
        press(pg, "ArrowLeft", 1)
        pg.click("#buddyinfo [data-zone='Normal'] .zone-pick")
        pg.wait_for_function("() => window.__buddyscope.selectedZone === 'Normal'")
        pg.locator("body").click(position={"x": 5, "y": 5})
        press(pg, "ArrowRight", 2)
        assert debug(pg, "selectedZone") == "Normal"
        assert pg.get_attribute("#freelists .host-lane", "data-zone") == "Normal"
        assert pg.evaluate(FOLLOWED) == {"zones": ["Normal"], "inView": True}
        assert problems == []


def test_charts_plot_over_virtual_time_with_labelled_axes(
    browser: Browser, live: LiveServer
) -> None:
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=reporting-passes")
        clocks = [debug(pg, "state.clock")]
        pg.locator("body").click(position={"x": 5, "y": 5})
        for n in range(1, 11):
            press(pg, "ArrowRight", n)
            clocks.append(debug(pg, "state.clock"))
        assert clocks[-1] - clocks[0] >= 2  # the 2 s delay of a pass is in there
        pg.wait_for_function(
            f"() => (window.__buddyscope.charts?.xs || []).length === {len(clocks)}"
        )
        charts = debug(pg, "charts")
        assert charts["xs"] == clocks
        assert charts["free"] == ["virtual time (s)", "pages (4 KiB)"]
        assert charts["host"] == ["virtual time (s)", "pages (4 KiB)", "refaults (count)"]
        pg.click("#chart-x")  # step as an option
        pg.wait_for_function("() => window.__buddyscope.charts?.x === 'step'")
        charts = debug(pg, "charts")
        assert charts["xs"] == list(range(len(clocks)))
        assert charts["free"][0] == charts["host"][0] == "step"
        shot(pg, "charts-by-step-1280")
        assert problems == []


def test_compare_aligns_the_strategies_on_virtual_time_under_one_clock(
    browser: Browser, live: LiveServer
) -> None:
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=v2-vs-merged&compare=reporting")
        pg.wait_for_function("() => window.__buddyscope.compare?.ready")
        pg.locator("body").click(position={"x": 5, "y": 5})
        for n in range(1, 7):
            pg.keyboard.press("ArrowRight")
            pg.wait_for_function(f"() => window.__buddyscope.compare.left.step === {n}")
            settle(pg)
            left = debug(pg, "compare.left")
            right = live.state.manager.sessions[debug(pg, "compare.right.session")].view
            # The other strategy's last step at that moment (the same guest operations
            # done, no later in virtual time), not the same step number.
            moment = right.branch.moment_step(left["op"], round(left["clock"] * 1e9) + 1000)
            pg.wait_for_function(f"() => window.__buddyscope.compare.right.step === {moment}")
            assert debug(pg, "compare.right.clock") <= left["clock"] + 1e-9
            # One clock, the narration of the page's session kept.
            facts = pg.locator(".cmp-facts").all_inner_texts()
            assert len(facts) == 2 and all("t = " not in f for f in facts)
            clocks = [t for t in pg.locator("body").inner_text().split("\n") if "t = " in t]
            assert len(clocks) == 1, clocks
            assert pg.text_content("#clock") == f"t = {seconds(left['clock'])}"
            assert pg.locator("#narration").is_visible()
            if n == 1:
                assert "fills a 320 MiB buffer" in pg.inner_text("#narration")
        shot(pg, "compare-aligned-1280")
        assert problems == []
