"""Animations in a real browser, frozen at chosen moments (the Web Animations API pauses
them and sets their time): a merge's blocks fly from their rows, which keep their height
until the blocks have arrived; a merge cascade climbs one order at a time, each
intermediate result shown in its order's row between the beats; 5.7's list rotation
turns the list, its blocks moving from the tail side to the head.  Where things end up
is compared with the model; any console error or warning fails the test.  Screenshots
land in test-results/browser/.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from browserkit import model, open_dashboard, send, settle, shot, watched_page
from playwright.sync_api import Browser, Page
from test_browser_lists import check_lane
from wirehelp import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

#: Height of each order's lanes cell (the row's height), by order.
READ_ROWS = """() => Object.fromEntries([...document.querySelectorAll('#freelists .fl-row')]
  .map((row) => [row.dataset.order, row.querySelector('.fl-lanes').getBoundingClientRect()
    .height]))"""

#: Freeze every animation at `f` of its own active time (after its delay).
FREEZE_AT = """(f) => { for (const a of document.getAnimations()) {
  a.pause();
  const t = a.effect.getComputedTiming();
  a.currentTime = t.delay + f * t.activeDuration;
} }"""

#: The merge's ghosts: their order and vertical centre; the rows' vertical extents.
READ_GHOSTS = """() => ({
  ghosts: [...document.querySelectorAll('#ghosts .ghost')].map((g) => {
    const r = g.getBoundingClientRect();
    return {order: g.dataset.order, y: (r.top + r.bottom) / 2,
            opacity: Number(getComputedStyle(g).opacity)};
  }),
  rows: Object.fromEntries([...document.querySelectorAll('#freelists .fl-row')].map((row) => {
    const r = row.querySelector('.fl-lanes').getBoundingClientRect();
    return [row.dataset.order, [r.top, r.bottom]];
  })),
})"""

#: Freeze every animation at `t` ms from the start of the step (they all start together).
FREEZE_AT_MS = """(t) => { for (const a of document.getAnimations()) {
  a.pause();
  a.currentTime = t;
} }"""

#: The merge stages of the step on the page, as the page planned them.
PLAN_MERGES = "() => window.__buddyscope.plan.merges"

#: The merge cascade's ghosts: order, pfn, vertical centre, opacity.
READ_CLIMB = """() => [...document.querySelectorAll('#ghosts .ghost[data-climb]')].map((g) => {
  const r = g.getBoundingClientRect();
  return {order: Number(g.dataset.order), pfn: Number(g.dataset.pfn), y: (r.top + r.bottom) / 2,
          opacity: Number(getComputedStyle(g).opacity)};
})"""

#: Blocks moving with a list's rotation: their move and where they are drawn now.
READ_TURN = """() => [...document.querySelectorAll(
  '#freelists [data-motion], #ghosts [data-motion]')].map((el) => ({
    key: el.dataset.key ?? `ghost:${el.dataset.pfn}`, move: el.dataset.motion,
    x: el.getBoundingClientRect().left,
    position: el.dataset.position === undefined ? null : Number(el.dataset.position)}))"""


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    with watched_page(browser) as (pg, problems):
        yield pg, problems
        assert problems == [], problems


def step_frozen(pg: Page) -> None:
    """One step, its animation started and paused (slow speed: a long step budget)."""
    assert "ack" in send(pg, "speed", value=0.5)
    assert "ack" in send(pg, "step")
    pg.wait_for_function("() => window.__buddyscope.animating")
    pg.evaluate(FREEZE_AT, 0)


def finish(pg: Page) -> None:
    pg.evaluate("() => document.getAnimations().forEach((a) => a.finish())")
    pg.wait_for_function("() => !window.__buddyscope.animating")
    settle(pg)


def test_a_merge_flies_from_its_rows_which_keep_their_height(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?scenario=buddy-basics&step=3")
    before = pg.evaluate(READ_ROWS)
    assert all(before[str(k)] > 20 for k in range(10)), before  # one block in each order 0..9
    step_frozen(pg)
    events = [e["kind"] for e in pg.evaluate("() => window.__buddyscope.state.events")]
    assert events.count("merge") == 10
    # The rows emptied by the merge keep their height while the blocks fly...
    for f in (0.0, 0.25, 0.5, 0.75):
        pg.evaluate(FREEZE_AT, f)
        held = pg.evaluate(READ_ROWS)
        for k in range(10):
            assert abs(held[str(k)] - before[str(k)]) <= 1, (f, k, held[str(k)], before[str(k)])
        drawn = pg.evaluate(READ_GHOSTS)
        assert len(drawn["ghosts"]) >= 9
        for g in drawn["ghosts"]:
            top, bottom = drawn["rows"][g["order"]]
            if f == 0.0:  # each block starts in its own row
                assert top <= g["y"] <= bottom, (g, top, bottom)
            # ...and never flies through the blank space under the table.
            assert g["y"] <= drawn["rows"]["10"][1] + 1 or g["opacity"] < 0.05, (f, g)
        if f == 0.5:
            shot(pg, "merge-in-place-mid-flight")
    # Then they shrink to what the lists hold now: one order-10 block, the model's.
    finish(pg)
    after = pg.evaluate(READ_ROWS)
    assert all(after[str(k)] < before[str(k)] - 5 for k in range(10)), after
    node = model(live, pg)
    lane = check_lane(pg, node, 10, "Movable")
    assert [i["pfn"] for i in lane["items"]] == node.zone("Normal").free_list(10, "Movable") == [0]
    assert pg.locator("#freelists [data-held]").count() == 0


def test_a_merge_cascade_climbs_one_order_at_a_time(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?scenario=buddy-basics&step=3")
    step_frozen(pg)
    events = pg.evaluate("() => window.__buddyscope.state.events")
    merges = [e for e in events if e["kind"] == "merge"]
    assert len(merges) >= 2
    stages = pg.evaluate(PLAN_MERGES)
    assert [s["order"] for s in stages] == [m["order"] for m in merges] == list(range(10))
    final = pg.locator('#freelists .chip[data-key="Normal:0:10"]')
    seen = []
    for stage, nxt in itertools.pairwise(stages):
        # Between this merge's result forming and the next merge starting.
        t = (stage["delay"] + stage["travel"] + nxt["delay"]) / 2
        assert stage["delay"] + stage["travel"] < t < nxt["delay"]
        pg.evaluate(FREEZE_AT_MS, t)
        rows = pg.evaluate(READ_GHOSTS)["rows"]
        shown = {(g["order"], g["pfn"]): g for g in pg.evaluate(READ_CLIMB) if g["opacity"] > 0.95}
        order = stage["order"] + 1
        result = shown.get((order, 0))
        assert result is not None, (t, order, shown)
        top, bottom = rows[str(order)]
        assert top <= result["y"] <= bottom, (order, result, top, bottom)
        # Its next buddy waits in the same row; no block of the cascade is higher yet.
        assert (order, 1 << order) in shown, (order, shown)
        assert all(o <= order for o, pfn in shown if pfn == 0), (order, shown)
        assert float(final.evaluate("(el) => getComputedStyle(el).opacity")) < 0.05
        seen.append(order)
        if order == 3:
            shot(pg, "merge-cascade-at-order-3")
    assert seen == list(range(1, 10))
    finish(pg)
    # A ghost leaves when its own animation's finish event runs, after `animating` drops.
    pg.wait_for_function("() => document.querySelectorAll('#ghosts .ghost').length === 0")
    assert float(final.evaluate("(el) => getComputedStyle(el).opacity")) == 1


def test_a_rotation_turns_the_list_from_the_tail_side_to_the_head(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?scenario=reporting-passes&kernel=5.7&step=8")
    step_frozen(pg)
    rotate = [
        e for e in pg.evaluate("() => window.__buddyscope.state.events") if e["kind"] == "rotate"
    ]
    assert len(rotate) == 1
    pivot, order, mt = rotate[0]["pfn"], rotate[0]["order"], rotate[0]["migratetype"]
    items = pg.locator(
        f'#freelists .lane[data-order="{order}"][data-migratetype="{mt}"] .items'
    ).bounding_box()
    assert items is not None
    path: dict[str, list[dict[str, Any]]] = {}
    for f in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        pg.evaluate(FREEZE_AT, f)
        for b in pg.evaluate(READ_TURN):
            path.setdefault(b["key"], []).append(b)
        if f == 0.4:
            shot(pg, "rotation-mid-turn")
    moves = {k: p[0]["move"] for k, p in path.items()}
    assert "enter" in moves.values() and "leave" in moves.values(), moves
    for key, p in path.items():
        xs = [b["x"] for b in p]
        if moves[key] in ("enter", "shift", "leave"):
            # Towards the head (left), all the way.
            assert all(b <= a + 0.5 for a, b in itertools.pairwise(xs)), (key, xs)
            assert xs[-1] < xs[0] - 5, (key, xs)
        if moves[key] == "enter":  # from the tail side of the lane
            assert xs[0] >= items["x"] + items["width"] - 1, (key, xs, items)
    # The new head came in from the tail side: the rotation's pfn, first on the list.
    head = f"Normal:{pivot}:{order}"
    assert moves.get(head) == "enter" and path[head][-1]["position"] == 0
    finish(pg)
    node = model(live, pg)
    full = node.zone("Normal").free_list(order, mt)
    assert full[0] == pivot
    lane = check_lane(pg, node, order, mt)
    assert lane["items"][0]["pfn"] == pivot
    assert pg.locator("#freelists [data-motion]").count() == 0
