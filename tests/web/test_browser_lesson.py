"""A lesson a class can follow (issue 11), in Chromium at 1280x720 and in presenter mode at
1920x1080: every event of a step can be reached in the narration, and the one that carries
the step's point is on screen without scrolling.  Steps are taken with the keyboard, as a
lecturer does; nothing here sleeps (tests wait on the page's own counters)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browserkit import debug, open_dashboard, send, settle, shot, watched_page
from playwright.sync_api import Browser, Page
from wirehelp import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

DATA = Path(__file__).resolve().parents[1] / "model" / "data"

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

#: head-or-tail's lesson: a single freed block kept at the tail by buddy_merge_likely().
TAIL_PLACEMENT = """events.filter((e) => e.kind === 'free').length === 1
  && events.some((e) => e.kind === 'list_add'
    && e.message.includes('buddy_merge_likely()') && e.message.includes('to the tail'))"""


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
        point = (
            event_lines(pg).filter(has_text="buddy_merge_likely()").filter(has_text="to the tail")
        )
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


#: What the step changed, as drawn: the rows of the orders its events touched in the zone
#: the lists show, the chips of the blocks they touched, the zone's map, the strategy's
#: zone flags (or state machine) and the host lane; each with whether it is on screen.
CHANGED = (
    """() => {
  const api = window.__buddyscope;
  const zone = api.selectedZone;
  const onScreen = """
    + ON_SCREEN
    + """;
  const out = [];
  const seen = (what, el) => out.push([what, el !== null && onScreen(el)]);
  const orders = new Set();
  for (const e of api.state.events) {
    if (e.zone !== zone || typeof e.order !== 'number') continue;
    orders.add(e.order);
    if (e.kind === 'merge') orders.add(e.order + 1);
    if (e.kind === 'split') orders.add(e.order - 1);
    for (const pfn of [e.pfn, e.half_pfn, e.buddy]) {
      if (typeof pfn !== 'number') continue;
      for (const o of [e.order, e.order - 1, e.order + 1]) {
        const chip = document.querySelector(`#freelists .chip[data-key="${zone}:${pfn}:${o}"]`);
        if (chip) seen(`chip ${pfn}/${o}`, chip);
      }
    }
  }
  for (const o of orders) {
    const row = document.querySelector(`#freelists .fl-row[data-order="${o}"]`);
    if (row) {
      seen(`order ${o} count`, row.querySelector('.fl-nr'));
      seen(`order ${o} lanes`, row.querySelector('.fl-lanes'));
    }
  }
  seen('map', document.querySelector(`#memmap .map-zone[data-zone="${zone}"] .map-stack`));
  if (api.state.hinting.strategy !== 'none') {
    seen('zone flags', document.querySelector('#st-strategy .zoneflags, #st-strategy .machine'));
    seen('host lane', document.querySelector('#freelists .host-lane .host-title'));
  }
  return out;
}"""
)


def still(pg: Page) -> None:
    """Drawn, and nothing moving (rows held for a flight take their height after it)."""
    settle(pg)
    pg.evaluate("() => document.getAnimations().forEach((a) => a.finish())")
    pg.wait_for_function("() => !window.__buddyscope.animating")


@SIZES
@pytest.mark.parametrize(
    ("scenario", "presses"),
    [("buddy-basics", 5), ("head-or-tail", 7), ("v2-threshold", 12), ("reporting-passes", 12)],
)
def test_what_a_step_changes_is_above_the_fold(
    live: LiveServer,
    browser: Browser,
    width: int,
    height: int,
    present: bool,
    scenario: str,
    presses: int,
) -> None:
    with watched_page(browser, width, height) as (pg, problems):
        open_lesson(pg, live.url, scenario, present)
        for _ in range(presses):
            step = debug(pg, "step")
            pg.keyboard.press("ArrowRight")
            pg.wait_for_function(
                f"() => window.__buddyscope.step > {step} || window.__buddyscope.notices.length"
            )
            still(pg)
            hidden = [what for what, shown in pg.evaluate(CHANGED) if not shown]
            if hidden:
                shot(pg, f"fold-{scenario}-{width}")
            assert hidden == [], f"step {debug(pg, 'step')}: not on screen: {hidden}"
            assert pg.evaluate("() => document.scrollingElement.scrollTop") == 0
        assert problems == [], problems


#: Boxes of what a class looks at, to see that nothing moved.
BOXES = """() => Object.fromEntries(['.top', '#narration', '#freelists', '#memmap'].map((sel) => {
  const r = document.querySelector(sel).getBoundingClientRect();
  return [sel, [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)]];
}))"""

#: The header's parts, each one line high and side by side (no wrapping).
HEADER_LINE = """() => {
  const top = document.querySelector('.top');
  const kids = [...top.querySelectorAll(':scope > *, .session-facts > *, .top-actions > *')]
    .filter((el) => el.getClientRects().length);
  const mids = kids.map((el) => {
    const r = el.getBoundingClientRect();
    return (r.top + r.bottom) / 2;
  });
  return {height: top.getBoundingClientRect().height,
          spread: Math.max(...mids) - Math.min(...mids),
          inside: kids.every((el) => el.getBoundingClientRect().right <= innerWidth)};
}"""

#: Overlapping header cells of every free-list table on the page.
HEADER_OVERLAPS = """() => [...document.querySelectorAll('.freelists .fl-header')].flatMap((r) => {
  const spans = [...r.children].filter((el) => el.getClientRects().length);
  const out = [];
  spans.forEach((a, i) => spans.slice(i + 1).forEach((b) => {
    const ra = a.getBoundingClientRect(), rb = b.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(a);
    const text = range.getBoundingClientRect();
    if (text.right > rb.left + 0.5 && ra.top < rb.bottom && rb.top < ra.bottom) {
      out.push(`${a.textContent} over ${b.textContent}`);
    }
  }));
  return out;
})"""


def test_nothing_jumps_or_overlaps_and_space_plays_wherever_the_focus_is(
    live: LiveServer, browser: Browser
) -> None:
    with watched_page(browser) as (pg, problems):
        open_lesson(pg, live.url, "v2-threshold", False)
        # A long headline wraps in its box, whole, never cut short with an ellipsis.
        press_until(pg, "document.querySelector('#narration .headline').textContent.length > 100")
        head = pg.locator("#narration .headline")
        assert head.evaluate("(el) => el.textContent.length") > 100
        assert head.evaluate(
            """(el) => el.scrollWidth <= el.clientWidth + 1
              && getComputedStyle(el).textOverflow !== 'ellipsis'
              && el.getBoundingClientRect().bottom
                 <= el.parentElement.getBoundingClientRect().bottom"""
        )
        # An error's banner floats over the page: nothing under it moves.
        before = pg.evaluate(BOXES)
        pg.evaluate("() => window.__buddyscope.send('free', {pfn: 3, order: 0})")
        pg.wait_for_function("() => !document.querySelector('#banner').hidden")
        assert pg.evaluate(BOXES) == before
        pg.click("#banner")
        pg.wait_for_function("() => document.querySelector('#banner').hidden")
        # Space plays and pauses with the focus on the button clicked last (not a second
        # step), and with the comparison's own button focused (not closing it).
        pg.click("#btn-step")
        settle(pg)
        step = debug(pg, "step")
        pg.keyboard.press("Space")
        pg.wait_for_function("() => window.__buddyscope.playing")
        pg.keyboard.press("Space")
        pg.wait_for_function("() => !window.__buddyscope.playing")
        assert debug(pg, "step") >= step
        open_lesson(pg, live.url, "v2-vs-merged", False)
        pg.click("#btn-compare")
        pg.wait_for_function(
            "() => window.__buddyscope.compare && window.__buddyscope.compare.ready"
        )
        assert pg.evaluate("() => document.activeElement.id") == "btn-compare"
        pg.keyboard.press("Space")
        pg.wait_for_function("() => window.__buddyscope.compare.playing")
        pg.keyboard.press("Space")
        pg.wait_for_function("() => !window.__buddyscope.compare.playing")
        assert debug(pg, "compare") is not None
        # The comparison's lists: no header cell runs into the next ("REPORTED" / "FREE LISTS").
        pg.wait_for_function("() => document.querySelectorAll('.compare .fl-header').length === 2")
        assert pg.evaluate(HEADER_OVERLAPS) == []
        shot(pg, "compare-headers")
        assert problems == [], problems


def test_a_proc_snapshot_keeps_the_header_on_one_line_and_says_positions_are_a_layout(
    live: LiveServer, browser: Browser
) -> None:
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url)
        line = pg.evaluate(HEADER_LINE)
        assert pg.locator("#layout-note").is_hidden()
        old = debug(pg, "session")
        pg.click("#btn-load")
        pg.check('input[name="load-kind"][value="proc"]')
        pg.fill("#load-text", (DATA / "buddyinfo.txt").read_text())
        pg.click("dialog#load button[type=submit]")
        pg.wait_for_function(
            """(old) => { const b = window.__buddyscope;
              return b.session !== old && b.state.config.source?.kind === 'buddyinfo'; }""",
            arg=old,
        )
        settle(pg)
        after = pg.evaluate(HEADER_LINE)
        assert after["height"] == line["height"] and after["spread"] < 4 and after["inside"], after
        # The page says which part is the machine's and which is made up, in view.
        note = pg.locator("#layout-note")
        assert "Counts are real, positions are a layout" in (note.text_content() or "")
        assert note.evaluate(ON_SCREEN)
        assert pg.locator("#map-layout-note").evaluate(ON_SCREEN)
        shot(pg, "proc-positions-are-a-layout")
        # A scenario's session invents nothing: no such note.
        open_dashboard(pg, live.url, "?scenario=buddy-basics")
        assert pg.locator("#layout-note").is_hidden()
        assert problems == [], problems


#: Freeze every animation at `t` ms from the start of the step (they all start together).
FREEZE_AT_MS = """(t) => { for (const a of document.getAnimations()) {
  a.pause();
  a.currentTime = t;
} }"""

#: How long the step's animations run, in ms (the last one's end).
SPAN = """() => Math.max(0, ...document.getAnimations().map((a) => {
  const t = a.effect.getComputedTiming();
  return t.endTime;
}))"""

#: The text a count shows: its own, or the old one drawn over it until what it counts
#: has arrived (views/animator.js).
SHOWN = """(el) => el === null ? null
  : el.dataset.was !== undefined && Number(getComputedStyle(el, '::after').opacity) > 0.5
    ? el.dataset.was : el.textContent"""

#: Each row's count as shown.
SHOWN_COUNTS = (
    """() => { const shown = """
    + SHOWN
    + """;
  return Object.fromEntries([...document.querySelectorAll('#freelists .fl-row')]
    .map((row) => [row.dataset.order,
                   Number(shown(row.querySelector('.fl-nr')).replaceAll(',', ''))])); }"""
)


#: Each lane's length as shown, with its order.
SHOWN_LANES = (
    """() => { const shown = """
    + SHOWN
    + """;
  return [...document.querySelectorAll('#freelists .lane[data-anchor]')]
    .map((lane) => [lane.dataset.order, shown(lane.querySelector('.lane-count'))]); }"""
)


def press_frozen(pg: Page, found: str) -> list[dict[str, Any]]:
    """Press → until a step satisfies `found`; its animation is frozen at its start."""
    for _ in range(40):
        step = debug(pg, "step")
        still(pg)
        pg.keyboard.press("ArrowRight")
        pg.wait_for_function(f"() => window.__buddyscope.step > {step}")
        settle(pg)
        events: list[dict[str, Any]] = debug(pg, "state.events")
        if pg.evaluate(f"(events) => ({found})", events):
            pg.wait_for_function("() => window.__buddyscope.animating")
            pg.evaluate(FREEZE_AT_MS, 0)
            return events
    raise AssertionError(f"no step within 40 presses has {found}")


def test_a_step_by_hand_is_paced_for_the_eye_and_counts_change_on_arrival(
    live: LiveServer, browser: Browser
) -> None:
    with watched_page(browser) as (pg, problems):
        open_lesson(pg, live.url, "buddy-basics", False)
        # Play speed as fast as a demo runs: a step taken by hand still takes seconds.
        assert "ack" in send(pg, "speed", value=30)
        before = pg.evaluate(SHOWN_COUNTS)
        events = press_frozen(pg, "events.filter((e) => e.kind === 'split').length >= 10")
        span = pg.evaluate(SPAN)
        assert span >= 2000, span
        # At the start every count still says what it said before the step (a lane new in
        # this step, an empty list before it, says 0)...
        assert pg.evaluate(SHOWN_COUNTS) == before
        lanes = pg.evaluate(SHOWN_LANES)
        assert lanes and all(n == "0" for order, n in lanes if before[order] == 0), lanes
        final = pg.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('#freelists .fl-row')]
              .map((row) => [row.dataset.order, Number(row.dataset.nrFree)]))"""
        )
        assert final != before
        # ...each changes when its block arrives: halfway, some have and some have not...
        total = debug(pg, "plan.total")
        pg.evaluate(FREEZE_AT_MS, total / 2)
        mid = pg.evaluate(SHOWN_COUNTS)
        changed = [o for o in final if final[o] != before[o]]
        assert any(mid[o] == final[o] for o in changed), (mid, final)
        assert any(mid[o] == before[o] for o in changed), (mid, before)
        # ...one after another, the cascade seen step by step (not all at one moment).
        arrived = []
        for k in range(1, 9):
            pg.evaluate(FREEZE_AT_MS, total * k / 8)
            shown = pg.evaluate(SHOWN_COUNTS)
            arrived.append(sum(shown[o] == final[o] for o in changed))
        assert arrived == sorted(arrived) and len(set(arrived)) >= 5, arrived
        # ...and at the end all say what the model says.
        pg.evaluate(FREEZE_AT_MS, span + 1)
        assert pg.evaluate(SHOWN_COUNTS) == final
        assert len(events) > 20
        # Slow motion: the next step by hand takes longer, at the same play speed.
        still(pg)
        pg.select_option("#motion", "4")
        pg.keyboard.press("Home")
        pg.wait_for_function("() => window.__buddyscope.step === 0")
        press_frozen(pg, "events.filter((e) => e.kind === 'split').length >= 10")
        assert pg.evaluate(SPAN) >= 3 * span
        assert problems == [], problems


#: The shown zone's row of the per-zone buddyinfo table above the lists, as shown.
SHOWN_ZONE_ROW = (
    """() => { const shown = """
    + SHOWN
    + """;
  const row = document.querySelector('#buddyinfo tr.selected');
  return [row.dataset.zone, ...[...row.querySelectorAll('td.num')].map(shown)]; }"""
)


def test_the_zone_tables_counts_wait_for_their_blocks_as_the_lists_do(
    live: LiveServer, browser: Browser
) -> None:
    """zone-gate's 471 order-9 allocations by hand: the per-zone table above the lists
    showed the final counts while the lists still counted down (issue 11 point 4)."""
    with watched_page(browser) as (pg, problems):
        open_lesson(pg, live.url, "zone-gate", False)
        pg.keyboard.press("ArrowRight")
        pg.wait_for_function("() => window.__buddyscope.step === 1")
        still(pg)
        before = pg.evaluate(SHOWN_ZONE_ROW)
        press_frozen(pg, "events.filter((e) => e.kind === 'alloc').length > 100")
        # At the start of the step the shown zone's row still says what it said...
        assert pg.evaluate(SHOWN_ZONE_ROW) == before
        final = pg.evaluate(
            """() => [...document.querySelectorAll('#buddyinfo tr.selected td.num')]
                 .map((td) => td.textContent)"""
        )
        assert final != before[1:]
        # ...and at the end what the model says, the lists' own counts with it.
        pg.evaluate(FREEZE_AT_MS, pg.evaluate(SPAN) + 1)
        assert pg.evaluate(SHOWN_ZONE_ROW) == [before[0], *final]
        assert problems == [], problems


#: The boundary marker of a lane: where it is drawn, where it lands (its place without
#: the animation's translation) and the label shown.
BOUNDARY = (
    """(anchor) => { const shown = """
    + SHOWN
    + """;
  const b = document.querySelector(`[data-anchor="${anchor}"] .boundary`);
  const x = b.getBoundingClientRect().left;
  const shift = new DOMMatrix(getComputedStyle(b).transform).m41;
  return {x, lands: x - shift, label: shown(b.querySelector('.boundary-label'))};
}"""
)


def test_the_v2_boundary_moves_one_block_at_a_time_and_ghosts_stay_in_the_host_lane(
    live: LiveServer, browser: Browser
) -> None:
    with watched_page(browser) as (pg, problems):
        open_lesson(pg, live.url, "v2-boundary", False)
        drain = """events.filter((e) => e.kind === 'boundary').length >= 8
          && document.querySelector('#freelists .lane[data-boundary] .boundary') !== null"""
        still(pg)
        events = press_frozen(pg, drain)
        moves = [e for e in events if e["kind"] == "boundary"]
        zone, order, mt = moves[0]["zone"], moves[0]["order"], moves[0]["migratetype"]
        anchor = f"{zone}:{order}:{mt}"
        beats = pg.evaluate(
            "(key) => window.__buddyscope.plan.boundaries.get(key)", f"boundary:{anchor}"
        )
        assert len(beats) == len(moves)
        start = pg.evaluate(BOUNDARY, anchor)
        # Ghosts of the blocks coming back from the host wait inside the host lane.
        ghosts = pg.evaluate(
            """() => { const lane = document.querySelector('.host-lane').getBoundingClientRect();
              return [...document.querySelectorAll('#ghosts .chip.isolated')].map((g) => {
                const r = g.getBoundingClientRect();
                return r.top >= lane.top - 1 && r.bottom <= lane.bottom + 1
                  && r.left >= lane.left - 1 && r.right <= lane.right + 1; }); }"""
        )
        assert ghosts and all(ghosts), ghosts
        end = start["lands"]
        assert abs(end - start["x"]) > 20, start
        # Between two moves the marker rests k/n of the way: one block per boundary event.
        n = len(beats)
        for k in (1, n // 4, n // 2, 3 * n // 4, n - 1):
            pg.evaluate(FREEZE_AT_MS, (beats[k - 1] + 180 + beats[k]) / 2)
            x = pg.evaluate(BOUNDARY, anchor)["x"]
            want = start["x"] + (end - start["x"]) * k / n
            assert abs(x - want) <= 2, (k, n, x, want)
        # Its label says where it is once it has arrived, not before.
        pg.evaluate(FREEZE_AT_MS, beats[-1] + 200)
        landed = pg.evaluate(BOUNDARY, anchor)
        assert abs(landed["x"] - end) <= 1 and landed["label"] != start["label"], (landed, start)
        assert problems == [], problems


def test_one_scenario_picker_with_summaries_that_fits_and_a_form_that_follows(
    live: LiveServer, browser: Browser
) -> None:
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url)
        button = pg.locator("#btn-scenarios")
        assert button.evaluate(ON_SCREEN)
        button.click()
        pg.wait_for_function("() => document.querySelector('#scenarios').open")
        listed = pg.evaluate(
            """() => [...document.querySelectorAll('#scenarios .picker-item')].map((b) => {
              const r = b.getBoundingClientRect();
              return {name: b.dataset.scenario, right: r.right, left: r.left,
                      title: b.querySelector('.picker-title').textContent,
                      summary: b.querySelector('.picker-summary')?.textContent ?? ''}; })"""
        )
        library = [s for s in listed if s["name"] not in ("default", "small")]
        assert len(library) >= 12, listed
        for s in listed:
            assert s["left"] >= 0 and s["right"] <= 1280, s
        for s in library:
            assert s["title"] and s["summary"], s
        shot(pg, "scenario-picker")
        pg.click('#scenarios .picker-item[data-scenario="v2-threshold"]')
        pg.wait_for_function(
            "() => window.__buddyscope.state.config.scenario === 'v2-threshold'"
            " && !document.querySelector('#scenarios').open"
        )
        settle(pg)
        # The form says what the session now runs: the scenario's strategy, kernel and seed.
        config = debug(pg, "state.config")
        pg.click("#session-edit > summary")
        form = pg.evaluate(
            """() => { const f = document.querySelector('#form-config');
              const r = f.getBoundingClientRect();
              return {scenario: f.elements.scenario.value, hinting: f.elements.hinting.value,
                      kernel: f.elements.kernel.value, seed: f.elements.seed.value,
                      left: r.left, right: r.right}; }"""
        )
        assert (form["scenario"], form["hinting"], form["kernel"], form["seed"]) == (
            "v2-threshold",
            config["hinting"],
            config["kernel"],
            str(config["seed"]),
        )
        assert config["hinting"] == "hinting-v2"
        assert form["left"] >= 0 and form["right"] <= 1280, form
        assert problems == [], problems
