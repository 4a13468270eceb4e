"""Presenter notes per chapter (issue 11, "beyond the anchors"): in presenter mode at
1920x1080 the chapter on screen shows its phase's notes beside it; at 1280x720 (not
presenting) they stay out of the way and the lesson outline shows them on hover or with
"show notes".  Nothing here sleeps."""

from __future__ import annotations

import re

import pytest
from browserkit import debug, open_dashboard, send, settle, shot, watched_page
from playwright.sync_api import Browser
from test_browser_lesson import ON_SCREEN
from wirehelp import LiveServer

from allocator_model.sources.scenario import library, load

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def phase_notes(name: str) -> dict[str, str]:
    """The scenario's presenter notes, by the phase's text (read from its file)."""
    return {
        op["text"]: op["notes"]
        for op in load(name).workload
        if op.get("op") == "phase" and op.get("notes")
    }


def test_notes_are_shown_in_presenter_mode(live: LiveServer, browser: Browser) -> None:
    notes = phase_notes("head-or-tail")
    with watched_page(browser, 1920, 1080) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=head-or-tail&presenter=1")
        seen = []
        for _ in range(3):
            step = debug(pg, "step")
            pg.keyboard.press("]")
            pg.wait_for_function(f"() => window.__buddyscope.step > {step}")
            settle(pg)
            phase = next(e for e in debug(pg, "state.events") if e["kind"] == "phase")
            want = notes[phase["message"]]
            box = pg.locator("#chapter-notes")
            pg.wait_for_function(
                "(t) => document.getElementById('chapter-notes').title === t", arg=want
            )
            assert box.evaluate(ON_SCREEN), "the presenter notes are not on screen"
            assert box.text_content() == f"notes: {want}"
            seen.append(want)
        assert len(set(seen)) == 3, "each chapter shows its own notes"
        shot(pg, "notes-presenter-1920")
        # Leaving presenter mode hides them from the class's screen.
        pg.keyboard.press("p")
        pg.wait_for_function("() => !document.body.classList.contains('presenter')")
        assert pg.locator("#chapter-notes").is_hidden()
        assert problems == [], problems


def test_the_outline_shows_notes_on_hover_or_with_a_toggle(
    live: LiveServer, browser: Browser
) -> None:
    notes = phase_notes("buddy-basics")
    with watched_page(browser, 1280, 720) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=buddy-basics")
        assert pg.locator("#chapter-notes").is_hidden()
        pg.click("#outline > summary")
        items = pg.locator("#outline .chapter-list > li")
        assert items.count() == len(notes)
        titles = items.evaluate_all("(els) => els.map((e) => e.title)")
        assert titles == list(notes.values())
        first = items.nth(0).locator(".chapter-note")
        assert first.is_hidden()
        pg.click("#btn-chapter-notes")
        assert first.evaluate(ON_SCREEN)
        assert first.text_content() == titles[0]
        assert pg.locator("#btn-chapter-notes").get_attribute("aria-pressed") == "true"
        assert problems == [], problems


#: "step 4", "steps 3 to 9", "(steps 3 and 6)", "(4 and 7)": the steps a note names.
NAMED_STEPS = re.compile(r"\bsteps? (\d+)((?:(?:,| and| to) \d+)*)|\((\d+) and (\d+)\)")

#: Events that only narrate or keep time: nothing to walk event by event.
NARRATIVE = {"phase", "clock", "work", "user"}


def test_a_note_that_says_walk_names_the_steps_that_hold_the_events(
    live: LiveServer, browser: Browser
) -> None:
    """The notes said "walk the step event by event" on a chapter's own step, which
    holds only its text: the allocation, the pass or the burst they meant is a step or
    a few before or after it.  Each such note names its steps, and each named step has
    allocator events to walk."""
    walks = 0
    for name in sorted(library()):
        notes = [n for n in phase_notes(name).values() if "walk" in n.lower()]
        if not notes:
            continue
        with watched_page(browser, 1280, 720) as (pg, problems):
            open_dashboard(pg, live.url, f"?scenario={name}")
            for note in notes:
                walks += 1
                steps = {
                    int(n)
                    for m in NAMED_STEPS.finditer(note)
                    for n in re.findall(r"\d+", m.group(0))
                }
                assert steps, (name, note)
                for step in sorted(steps):
                    assert "ack" in send(pg, "seek", step=step), (name, step)
                    kinds = {e["kind"] for e in debug(pg, "state.events")}
                    assert kinds - NARRATIVE, (name, step, kinds, note)
            assert problems == [], problems
    assert walks >= 9
