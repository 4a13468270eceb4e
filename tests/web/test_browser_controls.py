"""The dashboard's controls in a real browser: the transport (buttons, seek bar, speed,
run-to, breakpoints, reset), the keyboard (ignored while typing), the allocate /
advance / configure forms, shareable URLs and ``?pages=N``, followers and presenter
mode, the side-by-side comparison, and reconnecting after a server restart.  Each test
checks the model behind the session, not only the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browserkit import (
    SETTLED,
    debug,
    model,
    open_dashboard,
    send,
    settle,
    shot,
    watched_page,
)
from playwright.sync_api import Browser, Page
from wirehelp import LiveServer, free_port, serve

from allocator_model.sources.builtin import build_small
from backend.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    with watched_page(browser) as (pg, problems):
        yield pg, problems
        assert problems == [], problems


def view_pos(live: Any, pg: Page) -> int:
    """The step of the session's main view on the server."""
    pos: int = live.state.manager.sessions[debug(pg, "session")].view.pos
    return pos


def wait_step(pg: Page, step: int) -> None:
    pg.wait_for_function(f"() => window.__buddyscope.step === {step}")
    settle(pg)


DRAWN_MARKS = """() => [...document.querySelectorAll('#marks .mark')].map((el) => ({
  step: Number(el.dataset.step), kind: el.dataset.kind,
  left: el.getBoundingClientRect().left + 1 - el.parentElement.getBoundingClientRect().left,
  width: el.parentElement.getBoundingClientRect().width }))"""


def drawn_marks(pg: Page) -> list[dict[str, Any]]:
    return [{"step": m["step"], "kind": m["kind"]} for m in pg.evaluate(DRAWN_MARKS)]


def server_marks(live: Any, pg: Page) -> list[dict[str, Any]]:
    session = live.state.manager.sessions[debug(pg, "session")]
    marks, _ = session.marks_of(session.view)
    return [{"step": m.step, "kind": m.kind} for m in marks]


def test_seek_bar_marks_follow_a_growing_timeline(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    """A step added at the end brings its mark, and every mark sits at step/length."""
    pg, _ = page
    open_dashboard(pg, live.url)
    pg.click("#breakpoints > summary")
    pg.check('#bp-list input[value="alloc"]')
    pg.wait_for_function("() => window.__buddyscope.state.breakpoints.includes('alloc')")
    pg.click("#breakpoints > summary")
    settle(pg)
    end = debug(pg, "timelineLength")
    for n in range(1, 4):
        pg.click("#form-alloc button[type=submit]")
        wait_step(pg, end + n)
        marks = drawn_marks(pg)
        assert marks[-1] == {"step": end + n, "kind": "alloc"}
        assert marks == server_marks(live, pg)
    for m in pg.evaluate(DRAWN_MARKS):
        assert abs(m["left"] - m["step"] / (end + 3) * m["width"]) < 1.5, m


def test_transport_buttons_and_the_seek_bar(live: LiveServer, page: tuple[Page, list[str]]) -> None:
    pg, _ = page
    open_dashboard(pg, live.url)
    end = debug(pg, "timelineLength")
    assert debug(pg, "step") == end > 10
    assert pg.text_content("#step-out") == f"step {end} / {end}"
    pg.click("#btn-first")
    wait_step(pg, 0)
    assert view_pos(live, pg) == 0
    pg.click("#btn-step")
    wait_step(pg, 1)
    pg.click("#btn-step")
    wait_step(pg, 2)
    pg.click("#btn-back")
    wait_step(pg, 1)
    assert view_pos(live, pg) == 1
    pg.click("#btn-last")
    wait_step(pg, end)
    pg.evaluate(
        "() => { const s = document.querySelector('#seek'); s.value = '100';"
        " s.dispatchEvent(new Event('change')); }"
    )
    wait_step(pg, 100)
    assert view_pos(live, pg) == 100
    assert pg.input_value("#seek") == "100"
    # Every control has a name for assistive technology.
    unnamed = pg.eval_on_selector_all(
        "button, select, input",
        "els => els.filter(e => !(e.getAttribute('aria-label') || e.textContent.trim()"
        " || e.closest('label') || e.labels?.length)).map(e => e.outerHTML)",
    )
    assert unnamed == []


def test_keyboard_shortcuts_and_typing(live: LiveServer, page: tuple[Page, list[str]]) -> None:
    pg, _ = page
    open_dashboard(pg, live.url)
    end = debug(pg, "timelineLength")
    pg.locator("body").click(position={"x": 5, "y": 5})
    pg.keyboard.press("Home")
    wait_step(pg, 0)
    pg.keyboard.press("ArrowRight")
    wait_step(pg, 1)
    pg.keyboard.press("PageDown")  # a clicker's "next"
    wait_step(pg, 2)
    pg.keyboard.press("PageUp")
    wait_step(pg, 1)
    pg.keyboard.press("ArrowLeft")
    wait_step(pg, 0)
    pg.keyboard.press("End")
    wait_step(pg, end)
    speed = debug(pg, "speed")
    pg.keyboard.press("+")
    pg.wait_for_function(f"() => window.__buddyscope.speed > {speed}")
    pg.keyboard.press("-")
    pg.wait_for_function(f"() => window.__buddyscope.speed === {speed}")
    pg.keyboard.press("Home")
    wait_step(pg, 0)
    pg.keyboard.press(" ")
    pg.wait_for_function("() => window.__buddyscope.playing")
    pg.keyboard.press(".")  # a clicker's blank-screen key pauses
    pg.wait_for_function("() => !window.__buddyscope.playing")
    settle(pg)
    pg.keyboard.press("?")
    assert pg.locator("#help").is_visible()
    assert "PageDown" in (pg.text_content("#help") or "")
    pg.keyboard.press("Escape")
    pg.wait_for_function("() => !document.querySelector('#help').open")
    # A speed picked with the mouse gives the keys back to the timeline (a clicker's
    # PageDown steps, it does not change the speed); picked with the keyboard, the
    # drop-down keeps the focus.
    speed_box = pg.locator("#speed")
    speed_box.focus()  # as a click on it does
    speed_box.dispatch_event("pointerdown")
    speed_box.select_option("8")
    pg.wait_for_function("() => window.__buddyscope.speed === 8")
    assert pg.evaluate("() => document.activeElement.id") != "speed"
    step = debug(pg, "step")
    pg.keyboard.press("PageDown")
    wait_step(pg, step + 1)
    assert debug(pg, "speed") == 8
    speed_box.focus()
    pg.keyboard.press("ArrowDown")
    pg.wait_for_function("() => window.__buddyscope.speed === 16")
    assert pg.evaluate("() => document.activeElement.id") == "speed"
    pg.locator("body").click(position={"x": 5, "y": 5})
    # Typing in a field is typing, not stepping.
    step = debug(pg, "step")
    pg.click("#session-edit > summary")
    seed = pg.locator("#form-config input[name=seed]")
    seed.click()
    seed.fill("")
    pg.keyboard.type("42")
    for key in ("ArrowRight", " ", "Home", "+", ".", "p"):
        pg.keyboard.press(key)
    assert "42" in seed.input_value()  # the keys went to the field
    assert debug(pg, "step") == step
    assert not debug(pg, "playing")
    assert "presenter" not in (pg.get_attribute("body", "class") or "")


def test_play_speed_run_to_breakpoints_and_reset(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url)
    pg.click("#btn-first")
    wait_step(pg, 0)
    pg.select_option("#speed", "8")
    pg.wait_for_function("() => window.__buddyscope.speed === 8")
    assert live.state.manager.sessions[debug(pg, "session")].speed == 8
    pg.click("#btn-play")
    pg.wait_for_function("() => window.__buddyscope.playing && window.__buddyscope.step >= 2")
    assert pg.get_attribute("#btn-play", "aria-pressed") == "true"
    pg.click("#btn-play")
    pg.wait_for_function("() => !window.__buddyscope.playing")
    settle(pg)
    # run to the next merge: the step it lands on has a merge event
    pg.select_option("#run-kind", "merge")
    before = debug(pg, "step")
    pg.click("#btn-run-to")
    pg.wait_for_function(
        f"() => window.__buddyscope.step > {before}"
        " && window.__buddyscope.state.events.some(e => e.kind === 'merge')"
    )
    settle(pg)
    # breakpoints: tick two kinds
    pg.click("#breakpoints > summary")
    pg.check('#bp-list input[value="merge"]')
    pg.wait_for_function("() => window.__buddyscope.state.breakpoints.includes('merge')")
    pg.check('#bp-list input[value="split"]')
    pg.wait_for_function("() => window.__buddyscope.state.breakpoints.length === 2")
    session = live.state.manager.sessions[debug(pg, "session")]
    assert set(debug(pg, "state.breakpoints")) == {"merge", "split"}
    assert drawn_marks(pg) == server_marks(live, pg)
    bp_steps = {m["step"] for m in drawn_marks(pg) if m["kind"] in ("merge", "split")}
    assert bp_steps, "the small scenario merges and splits"
    assert pg.locator(".marks .mark.bp").count() == len(bp_steps)
    pg.click("#breakpoints > summary")
    # play stops at a breakpoint
    pg.click("#btn-play")
    pg.wait_for_function("() => !window.__buddyscope.playing")
    settle(pg)
    kinds = {e["kind"] for e in debug(pg, "state.events")}
    assert kinds & {"merge", "split"} or debug(pg, "step") == debug(pg, "timelineLength")
    # reset: a new branch from the scenario's start
    branches = len(debug(pg, "state.branches"))
    pg.click("#btn-reset")
    pg.wait_for_function(f"() => window.__buddyscope.state.branches.length > {branches}")
    settle(pg)
    assert view_pos(live, pg) == debug(pg, "step")
    assert session.view.branch.id == debug(pg, "state.branch")
    assert pg.get_attribute("#branch-label", "hidden") is None


def test_allocate_advance_and_configure(live: LiveServer, page: tuple[Page, list[str]]) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?scenario=buffer-reuse")  # step 0: an empty guest
    node = model(live, pg)
    free_before = node.zone("Normal").nr_free_pages
    pg.select_option("#form-alloc select[name=order]", "2")
    pg.select_option("#form-alloc select[name=migratetype]", "Unmovable")
    pg.click("#form-alloc button[type=submit]")
    pg.wait_for_function(
        "() => window.__buddyscope.state.events.some(e => e.kind === 'alloc' && e.order === 2"
        " && e.migratetype === 'Unmovable')"
    )
    settle(pg)
    assert model(live, pg).zone("Normal").nr_free_pages == free_before - 4
    clock = debug(pg, "state.clock")
    pg.fill("#form-advance input[name=seconds]", "1.5")
    pg.click("#form-advance button[type=submit]")
    pg.wait_for_function(f"() => window.__buddyscope.state.clock >= {clock} + 1.5 - 1e-9")
    settle(pg)
    assert model(live, pg).clock == pytest.approx(debug(pg, "state.clock"))
    # The strategy's constants, with the kernel's value marked.
    pg.click("#session-edit > summary")
    marks = pg.eval_on_selector_all(
        "#constants-fields label",
        "els => els.map(e => [e.querySelector('input').name, e.className])",
    )
    assert ["capacity", "is-kernel"] in marks
    pg.fill("#constants-fields input[name=capacity]", "16")
    pg.click("#form-config button[type=submit]")
    pg.wait_for_function(
        "() => (window.__buddyscope.state.hinting.constants || [])"
        ".some(c => c.name === 'capacity' && c.value === 16 && !c.is_kernel)"
    )
    settle(pg)
    changed = pg.text_content('#st-constants tr[data-constant="capacity"]') or ""
    assert "16" in changed and "kernel: 32" in changed
    # Another strategy and kernel.
    pg.click("#session-edit > summary")
    pg.select_option("#form-config select[name=hinting]", "hinting-v2")
    pg.select_option("#form-config select[name=kernel]", "5.3")
    pg.click("#form-config button[type=submit]")
    pg.wait_for_function(
        "() => window.__buddyscope.state.config.hinting === 'hinting-v2'"
        " && window.__buddyscope.state.config.kernel === '5.3'"
    )
    settle(pg)
    node = model(live, pg)
    assert node.hinting_state()["strategy"] == "hinting-v2"
    assert node.kernel == "5.3"


def test_a_shared_url_reopens_the_same_state(browser: Browser, live: LiveServer) -> None:
    query = "?scenario=v2-boundary&seed=3&strategy=reporting&kernel=5.7&step=5"
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, query)
        wait_step(pg, 5)
        config = debug(pg, "state.config")
        assert (config["scenario"], config["seed"], config["hinting"], config["kernel"]) == (
            "v2-boundary",
            3,
            "reporting",
            "5.7",
        )
        node = model(live, pg)
        pg.click("#btn-share")
        link = pg.input_value("#share-state")
        follow = pg.input_value("#share-follow")
        assert link.endswith(query.replace("?", "?", 1)), link
        assert f"?session={debug(pg, 'session')}" in follow
        pg.keyboard.press("Escape")
        assert problems == []
    with watched_page(browser, 1920, 1080) as (pg2, problems2):
        open_dashboard(pg2, link.replace(live.url, live.url), "")
        wait_step(pg2, 5)
        other = model(live, pg2)
        assert debug(pg2, "session") != ""
        assert [list(z.nr_free) for z in other.zones] == [list(z.nr_free) for z in node.zones]
        assert other.host.stats() == node.host.stats()
        assert problems2 == []


def test_pages_opens_a_one_zone_session(live: LiveServer, page: tuple[Page, list[str]]) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?pages=8192")
    zones = debug(pg, "state.zones.map(z => [z.name, z.spannedPages])")
    assert zones == [["Normal", 8192]]
    node = model(live, pg)
    assert [z.spanned_pages for z in node.zones] == [8192]


def test_followers_stay_in_sync_and_presenter_mode(browser: Browser, live: LiveServer) -> None:
    with (
        watched_page(browser) as (ctl, problems),
        watched_page(browser, 1920, 1080) as (fol, problems2),
    ):
        open_dashboard(ctl, live.url, "?scenario=v2-boundary")
        sid = debug(ctl, "session")
        open_dashboard(fol, live.url, f"?session={sid}&presenter=1")
        assert debug(fol, "role") == "follower"
        assert "presenter" in (fol.get_attribute("body", "class") or "")
        assert fol.locator(".transport").is_hidden()
        # The hand operations are hidden; the row keeps only the lesson's chapters.
        for control in ("#form-alloc", "#form-advance", "#session-edit"):
            assert fol.locator(control).is_hidden(), control
        assert fol.locator("#chapters").is_visible()
        size = fol.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
        assert size >= 18
        for n in (1, 2, 3):
            send(ctl, "step")
            fol.wait_for_function(f"() => window.__buddyscope.renderedStep === {n}")
        shot(fol, "presenter-follower-1920")
        # A follower that looks around on its own detaches, then follows again.
        fol.locator("body").click(position={"x": 5, "y": 5})
        fol.keyboard.press("ArrowLeft")
        fol.wait_for_function("() => window.__buddyscope.step === 2")
        fol.wait_for_function("() => !document.querySelector('#follow-bar').hidden")
        send(ctl, "step")
        assert debug(fol, "step") == 2
        fol.click("#btn-follow")
        fol.wait_for_function("() => window.__buddyscope.step === 4")
        fol.keyboard.press("p")
        fol.wait_for_function("() => !document.body.classList.contains('presenter')")
        assert problems == [] and problems2 == []


def test_comparison_runs_two_strategies_in_step(browser: Browser, live: LiveServer) -> None:
    with watched_page(browser, 1600, 1000) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=v2-vs-merged&compare=reporting")
        pg.wait_for_function(
            "() => window.__buddyscope.compare && window.__buddyscope.compare.ready"
        )
        cmp = debug(pg, "compare")
        assert cmp["left"]["strategy"] == "hinting-v2"
        assert cmp["right"]["strategy"] == "reporting"
        assert cmp["left"]["op"] == cmp["right"]["op"]  # the same moment
        for _ in range(3):
            step = debug(pg, "step")
            pg.click("#btn-step")
            pg.wait_for_function(
                f"() => window.__buddyscope.compare.left.step === {step + 1}"
                " && window.__buddyscope.compare.right.op === window.__buddyscope.compare.left.op"
            )
        right = live.state.manager.sessions[debug(pg, "compare.right.session")].view.node
        left = model(live, pg)
        assert right.hinting_state()["strategy"] == "reporting"
        assert left.hinting_state()["strategy"] == "hinting-v2"
        assert right.buddyinfo() == left.buddyinfo() or right.host.stats() != left.host.stats()
        assert pg.locator(".cmp-col").count() == 2
        pg.wait_for_function(
            "() => document.querySelector('.cmp-facts').dataset.step"
            " === String(window.__buddyscope.step)"
        )
        shot(pg, "compare")
        pg.click(".cmp-close")
        pg.wait_for_function("() => window.__buddyscope.compare === null")
        assert problems == []


def test_the_page_reconnects_after_a_server_restart(browser: Browser) -> None:
    port = free_port()
    with watched_page(browser) as (pg, problems):
        with serve(create_app(build_small), port) as live:
            open_dashboard(pg, live.url, "?scenario=buddy-basics")
            send(pg, "step")
            send(pg, "step")
            old = debug(pg, "session")
        pg.wait_for_function("() => !window.__buddyscope.connected")
        assert pg.get_attribute("#status", "data-state") in ("closed", "connecting")
        with serve(create_app(build_small), port):
            pg.wait_for_function(
                f"() => window.__buddyscope.connected && window.__buddyscope.session !== '{old}'"
                " && window.__buddyscope.step === 2",
                timeout=60_000,
            )
            pg.wait_for_function(SETTLED)
            assert pg.text_content("#status") == "live"
            assert "restarted" in (pg.text_content("#banner") or "")
            assert debug(pg, "state.config.scenario") == "buddy-basics"
        # The browser logs the refused connections while the server is down; nothing else.
        assert [
            p for p in problems if "WebSocket" not in p and "ERR_CONNECTION_REFUSED" not in p
        ] == []
