"""Free-list rows on a laptop and on a projector: every lane stays one line, head to
tail, with its HEAD and TAIL labels at its ends, at 1280x720 and in presenter mode at
1920x1080 (and 1280x720); presenter mode's type is large enough for the back of a
lecture hall without overflowing, and its narration box keeps one height, filled.
What is drawn is compared with the model (each block at its list position, both ends
shown); any console error or warning fails the test.  Screenshots land in
test-results/browser/.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from browserkit import debug, model, open_dashboard, send, settle, shot, watched_page
from playwright.sync_api import Browser, Page
from test_browser_lists import check_lane
from wirehelp import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

#: Geometry of every drawn lane: its items' boxes, its chips' tops, its end labels.
READ_GEOMETRY = """() => [...document.querySelectorAll('#freelists .lane')].map((lane) => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const items = [...lane.querySelectorAll('.items > *')];
  const chips = items.filter((el) => el.classList.contains('chip'));
  return {
    order: Number(lane.dataset.order), mt: lane.dataset.migratetype,
    items: items.map(box), chips: chips.map(box),
    head: box(lane.querySelector('.end.head')), tail: box(lane.querySelector('.end.tail')),
    lane: box(lane), overflow: lane.scrollWidth - lane.clientWidth,
  };
})"""

#: Font sizes (px) of what a lecture hall reads: chips, gaps, lane and end labels, counts.
READ_TYPE = """() => {
  const px = (sel) => [...document.querySelectorAll(sel)]
    .filter((el) => el.getClientRects().length)
    .map((el) => parseFloat(getComputedStyle(el).fontSize));
  return {
    chips: px('#freelists .lane .chip'), gaps: px('#freelists .gap'),
    ends: px('#freelists .end'), tags: px('#freelists .lane-tag'),
    counts: px('#freelists .fl-nr, #freelists .fl-flag'),
    events: px('#narration .narration-events .ev'), headline: px('#narration .headline'),
  };
}"""

#: The narration box against its content, and cells whose text does not fit.
READ_FIT = """() => {
  const n = document.querySelector('#narration');
  const cs = getComputedStyle(n);
  const kids = [...n.children].filter((el) => el.getClientRects().length);
  const bottom = Math.max(...kids.map((el) => el.getBoundingClientRect().bottom));
  const over = (el) => el.scrollWidth > el.clientWidth + 1;
  return {
    height: n.getBoundingClientRect().height,
    content: bottom - n.getBoundingClientRect().top + parseFloat(cs.paddingBottom)
      + parseFloat(cs.borderBottomWidth),
    overflows: n.scrollHeight > n.clientHeight + 1,
    cells: [...document.querySelectorAll(
      '#freelists .fl-nr, #freelists .fl-flag, #freelists .fl-order, #freelists .lane-tag')]
      .filter(over).map((el) => el.className + ': ' + el.textContent),
  };
}"""


def still(pg: Page) -> None:
    """Drawn and not moving: no planned animation, and no animation or transition
    (a flag's pulse, a chip's entry) still running on anything in the free lists."""
    settle(pg)
    pg.wait_for_function(
        """() => !window.__buddyscope.animating && document.getAnimations().every((a) =>
             a.playState !== 'running' || !a.effect || !a.effect.target
             || !document.querySelector('#freelists').contains(a.effect.target))"""
    )


def check_rows(pg: Page, live: LiveServer) -> int:
    """Every lane on one line, head to tail, labels at its ends; its blocks the model's.
    Returns the number of lanes checked."""
    lanes: list[dict[str, Any]] = pg.evaluate(READ_GEOMETRY)
    node = model(live, pg)
    for lane in lanes:
        where = f"order {lane['order']} {lane['mt']}"
        tops = [c["top"] for c in lane["chips"]]
        # One line: equal tops (to the sub-pixel rounding of centred boxes).
        assert max(tops) - min(tops) <= 1, f"{where}: chips on several lines {sorted(tops)}"
        items = lane["items"]
        for a, b in itertools.pairwise(items):
            assert b["left"] >= a["right"] - 0.5, f"{where}: an item wrapped or overlaps"
        chip_top = lane["chips"][0]["top"]
        chip_bottom = lane["chips"][0]["bottom"]
        for end, gap in (("head", items[0]["left"] - lane["head"]["right"]),
                         ("tail", lane["tail"]["left"] - items[-1]["right"])):  # fmt: skip
            label = lane[end]
            assert 0 <= gap <= 12, f"{where}: the {end} label is {gap:.1f} px from its end"
            assert label["top"] < chip_bottom and label["bottom"] > chip_top, (
                f"{where}: the {end} label is not on the chips' line"
            )
        assert lane["tail"]["right"] <= lane["lane"]["right"] + 0.5, f"{where}: overflows"
        assert lane["overflow"] <= 0, f"{where}: overflows by {lane['overflow']} px"
        drawn = check_lane(pg, node, lane["order"], lane["mt"])
        blocks = [i for i in drawn["items"] if i["kind"] == "block"]
        assert blocks[0]["position"] == 0 and blocks[-1]["position"] == drawn["length"] - 1
    return len(lanes)


def presenter(pg: Page, on: bool) -> None:
    pg.keyboard.press("p")
    want = "true" if on else "false"
    pg.wait_for_function(f"() => document.body.classList.contains('presenter') === {want}")
    still(pg)


@pytest.mark.parametrize(
    ("width", "height", "present"),
    [(1280, 720, False), (1920, 1080, True), (1280, 720, True)],
    ids=["1280", "1920-presenter", "1280-presenter"],
)
def test_every_row_stays_one_line_head_to_tail(
    browser: Browser, live: LiveServer, width: int, height: int, present: bool
) -> None:
    name = f"{width}{'-presenter' if present else ''}"
    with watched_page(browser, width, height) as (pg, problems):

        def open_at(query: str) -> None:
            open_dashboard(pg, live.url, query)
            if present:  # the reviewer's way: the key, on a page already drawn
                presenter(pg, True)
            still(pg)

        # The reviewer's row: reporting's long order-9 list, the lane being reported.
        open_at("?scenario=reporting-passes&step=6")
        assert check_rows(pg, live) >= 1
        assert pg.locator("#freelists .lane.current").count() == 1
        shot(pg, f"rows-one-line-reporting-{name}")
        # Through 5.7's passes (isolations, rotations, the lists refilling).
        for _ in range(8):
            if "error" in send(pg, "step"):
                break
            still(pg)
            check_rows(pg, live)
        # v2's boundary in the unsent middle of a 1M-page zone's list: the boundary's
        # neighbours, both ends and the two gaps on one line.
        open_at("?scenario=v2-boundary&pages=1048576&step=5")
        assert check_rows(pg, live) >= 1
        lane = pg.locator("#freelists .lane[data-boundary-index]").first
        assert lane.locator(".boundary").count() == 1
        shot(pg, f"rows-one-line-v2-middle-{name}")
        # Many short lists of three migratetypes: the Reclaimable request has fallen back.
        open_at("?scenario=migratetypes&step=6")
        assert check_rows(pg, live) >= 20
        shot(pg, f"rows-one-line-migratetypes-{name}")
        assert problems == []


def test_presenter_type_reads_from_the_back_of_the_hall(browser: Browser, live: LiveServer) -> None:
    with watched_page(browser, 1920, 1080) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=reporting-passes&step=6")
        before = pg.evaluate(READ_TYPE)
        normal = pg.evaluate(READ_FIT)
        presenter(pg, True)
        size = pg.evaluate(READ_TYPE)
        for part in ("chips", "gaps", "ends", "tags", "counts", "events"):
            assert size[part], part
            assert min(size[part]) >= 19.5, f"{part}: {size[part]}"
            assert min(size[part]) > max(before[part]), f"{part}: {before[part]} -> {size[part]}"
        assert min(size["headline"]) >= 24
        fit = pg.evaluate(READ_FIT)
        assert not fit["overflows"] and fit["cells"] == []
        # The narration box is filled by what it says, its events scrolling inside it.
        assert abs(fit["height"] - fit["content"]) <= 2, fit
        assert normal["height"] > 0
        check_rows(pg, live)
        shot(pg, "presenter-type-1920")
        # Step after step the box keeps its height (nothing under it moves) and never overflows.
        height = fit["height"]
        for _ in range(12):
            if "error" in send(pg, "step"):
                break
            still(pg)
            fit = pg.evaluate(READ_FIT)
            assert not fit["overflows"] and abs(fit["height"] - fit["content"]) <= 2, fit
            assert abs(fit["height"] - height) <= 1, (fit, height)
            assert fit["cells"] == []
        # Leaving presenter mode draws the lists at their normal size again, one line each.
        presenter(pg, False)
        assert max(pg.evaluate(READ_TYPE)["chips"]) < 16
        check_rows(pg, live)
        assert debug(pg, "connected")
        assert problems == []
