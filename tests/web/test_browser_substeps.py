"""A step walked event by event (issue 11, "beyond the anchors"), in Chromium at 1280x720
and in presenter mode at 1920x1080: Shift+→ picks each event of a split cascade in turn,
outlines the chip it touched and lights its line of the kernel function's pseudocode;
a chip clicked lists the events of the step that touched it.  Nothing here sleeps."""

from __future__ import annotations

from typing import Any

import pytest
from browserkit import debug, open_dashboard, settle, shot, watched_page
from playwright.sync_api import Browser, Page
from test_browser_lesson import ON_SCREEN, SIZES, press_until, still
from wirehelp import LiveServer

from allocator_model.kernel.events import Event
from backend.steps import SYNTHETIC_KINDS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

#: A step that allocates from a large block: one list_del, then split / list_add pairs.
CASCADE = "events.filter((e) => e.kind === 'split').length >= 4"

#: Where each event of an allocation is in the kernel's code (function, line id).
PLACES = {
    "list_del": ("__rmqueue_smallest", "del"),
    "split": ("expand", "halve"),
    "list_add": ("expand", "add"),
    "alloc": ("get_page_from_freelist", "got"),
}

#: The code each of those lines shows (a piece of it).
CODE = {
    "del": "del_page_from_free_list(page, zone, current_order)",
    "halve": "high--; size >>= 1;",
    "add": "add_to_free_list(&page[size], zone, high, migratetype)",
    "got": "return page;",
}


def model_kinds() -> set[str]:
    """Every event kind the model and the timeline emit."""
    kinds, todo = set(SYNTHETIC_KINDS), [Event]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        kinds.add(cls.kind)
    return kinds - {"event"}


def substep(pg: Page) -> dict[str, Any]:
    result: dict[str, Any] = debug(pg, "substeps")
    return result


def shift_right(pg: Page, index: int) -> dict[str, Any]:
    pg.keyboard.press("Shift+ArrowRight")
    pg.wait_for_function(f"() => window.__buddyscope.substeps.index === {index}")
    return substep(pg)


def touched(event: dict[str, Any]) -> list[tuple[int, int]]:
    """The blocks an event of an allocation touched (the model's fields, read here)."""
    if event["kind"] == "split":
        return [(event["pfn"], event["order"]), (event["half_pfn"], event["order"] - 1)]
    if "pfn" in event and "order" in event:
        return [(event["pfn"], event["order"])]
    return []


@SIZES
def test_walking_a_split_cascade_event_by_event(
    live: LiveServer, browser: Browser, width: int, height: int, present: bool
) -> None:
    with watched_page(browser, width, height) as (pg, problems):
        open_dashboard(pg, live.url, f"?scenario=buddy-basics{'&presenter=1' if present else ''}")
        # Every kind the model emits can be run to and made a breakpoint (watermark_boost too),
        # and the help names the keys that walk a step's events.
        kinds = pg.locator("#run-kind option").evaluate_all("(os) => os.map((o) => o.value)")
        assert set(kinds) == model_kinds()
        help_keys = pg.locator("#help-keys").text_content() or ""
        assert "Shift + →" in help_keys and "Shift + ←" in help_keys
        events = press_until(pg, CASCADE)
        still(pg)  # the step's animation done: its chips are where they land
        step = debug(pg, "step")
        zone = debug(pg, "selectedZone")
        assert substep(pg)["index"] == -1
        assert pg.locator("#code-panel").is_hidden()
        for i, event in enumerate(events):
            now = shift_right(pg, i)
            line = pg.locator("#narration .narration-events > .ev").nth(i)
            assert "sub-current" in (line.get_attribute("class") or "")
            assert line.evaluate(ON_SCREEN), f"event {i} ({event['kind']}) is not on screen"
            if event["kind"] not in PLACES:
                assert now["fn"] == "", (event["kind"], now)
                continue
            fn, line_id = PLACES[event["kind"]]
            assert (now["fn"], now["line"]) == (fn, line_id), (i, event["kind"], now)
            current = pg.locator("#code-lines li.current")
            assert current.count() == 1
            assert CODE[line_id] in (current.get_attribute("title") or "")
            assert current.evaluate(ON_SCREEN), f"the pseudocode line of event {i} is off screen"
            assert pg.locator("#code-panel .code-fn").text_content() == f"{fn}()"
            assert (
                pg.locator("#code-panel .code-file").text_content()
                == "mm/page_alloc.c · Linux 5.10"
            )
            marks = {
                (m["pfn"], m["order"])
                for m in pg.evaluate(
                    "() => JSON.parse(document.getElementById('memmap').dataset.marks)"
                )
            }
            assert set(touched(event)) <= marks, (event, marks)
            if event["kind"] == "list_add":
                # The upper half just put on its list is outlined, on screen.
                chip = pg.locator(
                    f'#freelists .chip.sub-hl[data-key="{zone}:{event["pfn"]}:{event["order"]}"]'
                )
                assert chip.count() == 1
                assert chip.evaluate(ON_SCREEN), f"the chip of event {i} is off screen"
        shot(pg, f"substeps-cascade-{width}")
        # At the last event Shift+→ stays; Shift+← walks back; the page never scrolled.
        pg.keyboard.press("Shift+ArrowRight")
        assert substep(pg)["index"] == len(events) - 1
        pg.keyboard.press("Shift+ArrowLeft")
        pg.wait_for_function(f"() => window.__buddyscope.substeps.index === {len(events) - 2}")
        assert pg.evaluate("() => document.scrollingElement.scrollTop") == 0
        assert debug(pg, "step") == step, "walking the events must not move the timeline"

        # A chip clicked lists the events of the step that touched it.
        add = next(e for e in events if e["kind"] == "list_add" and e["order"] == 1)
        want = [
            i
            for i, e in enumerate(events)
            if any(
                pfn < add["pfn"] + 2 and add["pfn"] < pfn + (1 << order)
                for pfn, order in touched(e)
            )
        ]
        pg.click(f'#freelists .chip[data-key="{zone}:{add["pfn"]}:1"]')
        pg.wait_for_function("() => window.__buddyscope.substeps.picked !== null")
        assert substep(pg)["picked"]["hits"] == want
        touching = pg.locator("#narration .narration-events > .ev.touching")
        assert [
            int(x) for x in touching.evaluate_all("(els) => els.map((e) => e.dataset.index)")
        ] == want
        links = pg.locator("#code-touching .touch-link")
        assert links.count() == len(want)
        assert pg.locator("#code-touching").evaluate(ON_SCREEN)
        # Its links pick the event, as clicking the event's line in the narration does.
        links.nth(0).click()
        pg.wait_for_function(f"() => window.__buddyscope.substeps.index === {want[0]}")
        # A map frame clicked lists the events that touched that one frame.
        frame = add["pfn"] + 1
        want_frame = [
            i
            for i, e in enumerate(events)
            if any(pfn <= frame < pfn + (1 << order) for pfn, order in touched(e))
        ]
        point = pg.evaluate(f"() => window.__buddyscope.clientPoint({zone!r}, {frame})")
        pg.mouse.click(point["x"], point["y"])
        pg.wait_for_function(f"() => window.__buddyscope.substeps.picked?.pfn === {frame}")
        assert substep(pg)["picked"]["order"] == 0
        assert substep(pg)["picked"]["hits"] == want_frame
        # Esc closes the inspector the click opened and goes back to the whole step.
        pg.keyboard.press("Escape")
        pg.wait_for_function("() => window.__buddyscope.substeps.index === -1")
        assert substep(pg)["picked"] is None
        assert pg.locator("#code-panel").is_hidden()
        first_split = next(i for i, e in enumerate(events) if e["kind"] == "split")
        pg.locator("#narration .narration-events > .ev").nth(first_split).click()
        pg.wait_for_function(f"() => window.__buddyscope.substeps.index === {first_split}")
        assert substep(pg)["line"] == "halve"

        # The next step starts again from the whole step, its outlines gone.
        pg.keyboard.press("ArrowRight")
        pg.wait_for_function(f"() => window.__buddyscope.step > {step}")
        settle(pg)
        pg.wait_for_function("() => window.__buddyscope.substeps.index === -1")
        assert pg.locator("#code-panel").is_hidden()
        assert pg.locator("#freelists .chip.sub-hl").count() == 0
        assert problems == [], problems


def test_followers_see_the_controllers_walk(live: LiveServer, browser: Browser) -> None:
    """A lecturer walks a step event by event: the class's pages (followers, presenter
    mode) show the same event, its line and its pseudocode line, and the whole step
    again when the lecturer goes back to it."""
    with (
        watched_page(browser) as (ctl, problems),
        watched_page(browser, 1920, 1080) as (fol, problems2),
    ):
        open_dashboard(ctl, live.url, "?scenario=buddy-basics")
        open_dashboard(fol, live.url, f"?session={debug(ctl, 'session')}&presenter=1")
        assert debug(fol, "role") == "follower"
        events = press_until(ctl, CASCADE)
        step = debug(ctl, "step")
        fol.wait_for_function(f"() => window.__buddyscope.renderedStep === {step}")
        for i in range(3):
            shift_right(ctl, i)
            fol.wait_for_function(f"() => window.__buddyscope.substeps.index === {i}")
            assert substep(fol) == substep(ctl), i
            line = fol.locator("#narration .narration-events > .ev").nth(i)
            assert "sub-current" in (line.get_attribute("class") or "")
        assert substep(fol)["fn"] == PLACES[events[2]["kind"]][0]
        assert fol.locator("#code-panel").is_visible()
        # A click on an event's line goes to the class too.
        ctl.locator("#narration .narration-events > .ev").nth(5).click()
        fol.wait_for_function("() => window.__buddyscope.substeps.index === 5")
        ctl.keyboard.press("Escape")
        fol.wait_for_function("() => window.__buddyscope.substeps.index === -1")
        assert fol.locator("#code-panel").is_hidden()
        # The follower's own walk stays its own; the timeline never moved.
        fol.locator("body").click(position={"x": 5, "y": 5})
        shift_right(fol, 0)
        assert substep(ctl)["index"] == -1
        assert debug(ctl, "step") == step and debug(fol, "step") == step
        assert problems == [] and problems2 == []


def test_a_student_who_joins_mid_walk_sees_the_event_picked(
    live: LiveServer, browser: Browser
) -> None:
    """The lecture's link opened while the lecturer is on the third event of a step:
    the new page shows that event, its line and its pseudocode, not the whole step."""
    with (
        watched_page(browser) as (ctl, problems),
        watched_page(browser, 1920, 1080) as (fol, problems2),
    ):
        open_dashboard(ctl, live.url, "?scenario=buddy-basics")
        press_until(ctl, CASCADE)
        for i in range(3):
            shift_right(ctl, i)
        open_dashboard(fol, live.url, f"?session={debug(ctl, 'session')}&presenter=1")
        assert debug(fol, "role") == "follower"
        fol.wait_for_function("() => window.__buddyscope.substeps.index === 2")
        assert substep(fol) == substep(ctl)
        line = fol.locator("#narration .narration-events > .ev").nth(2)
        assert "sub-current" in (line.get_attribute("class") or "")
        assert fol.locator("#code-panel").is_visible()
        assert problems == [] and problems2 == []
