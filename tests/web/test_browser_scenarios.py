"""What a scenario's narration says is what the page draws (Chromium, 1280x720)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from browserkit import debug, model, open_dashboard, send, settle, shot, watched_page
from playwright.sync_api import Browser, Page, expect
from test_browser_map import INSIDE, inspect
from test_browser_rows import still
from wirehelp import LiveServer

from allocator_model import Node
from allocator_model.kernel.fragmentation import unusable_free_index

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

READ_LANE = """([order, mt]) => {
  const lane = document.querySelector(
    `#freelists .lane[data-order="${order}"][data-migratetype="${mt}"]`);
  return [...lane.querySelectorAll('.chip[data-pfn]')].map((c) => ({
    pfn: Number(c.dataset.pfn), position: Number(c.dataset.position),
    left: c.getBoundingClientRect().left}));
}"""


def step_until(pg: Page, live: LiveServer, reached: Callable[[Node], bool]) -> Node:
    """Step the page until the model behind it is in the state the narration describes
    (by state, not by step number: how steps are counted is the timeline's business)."""
    for _ in range(300):
        node = model(live, pg)
        if reached(node):
            return node
        assert "ack" in send(pg, "step"), "the scenario ended first"
    raise AssertionError("not reached in 300 steps")


def lane(pg: Page, order: int) -> list[dict[str, Any]]:
    """The chips of the Movable order-``order`` lane, left to right on screen, once
    nothing in the free lists moves."""
    still(pg)
    chips: list[dict[str, Any]] = pg.evaluate(READ_LANE, [order, "Movable"])
    return sorted(chips, key=lambda c: c["left"])


def movable(node: Node, order: int) -> list[int]:
    return list(node.zone("Normal").free_list(order, "Movable"))


def test_head_or_tail_draws_the_two_placements_at_opposite_ends(
    browser: Browser, live: LiveServer
) -> None:
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=head-or-tail")
        # After "free pfn 0x1": it is the leftmost of several order-0 blocks.
        step_until(pg, live, lambda n: movable(n, 0)[:1] == [1])
        assert [c["pfn"] for c in lane(pg, 0)] == [1, 0x31, 0x2D, 0x29]
        # After "free pfn 0x0": the merged block is the rightmost, behind three others.
        step_until(pg, live, lambda n: movable(n, 1)[-1:] == [0])
        chips = lane(pg, 1)
        assert [c["pfn"] for c in chips] == [0x20, 0x18, 0x10, 0]
        assert chips[-1]["position"] == 3
        shot(pg, "scenario-head-or-tail-tail")
        assert problems == []


def test_hildenbrand_under_reporting_calls_the_named_block_reported(
    browser: Browser, live: LiveServer
) -> None:
    with watched_page(browser, 1920, 1080) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=hildenbrand&strategy=reporting")
        step_until(pg, live, lambda n: n.page(0x4000).reported)
        inspect(pg, 0x4000 + INSIDE)
        detail = pg.locator("#inspector .insp-model")
        expect(detail).to_contain_text("PG_uptodate")
        expect(detail).to_contain_text("statereported")
        expect(detail).not_to_contain_text("hinted")
        shot(pg, "scenario-hildenbrand-reported")
        assert problems == []


READ_UNUSABLE = """() => [...document.querySelectorAll(
  '#st-watermarks table.unusable td[data-zone="Normal"]')].map((td) => Number(td.dataset.value))"""


def test_fragmentation_says_and_shows_the_unusable_index_at_one(
    browser: Browser, live: LiveServer
) -> None:
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=fragmentation")
        narration = pg.locator("#narration")
        for _ in range(100):
            if "Fragmented:" in (narration.text_content() or ""):
                break
            assert "ack" in send(pg, "step"), "the scenario ended first"
        expect(narration).to_contain_text("Unusable index 1.000 at orders 9 and 10")
        z = model(live, pg).zone("Normal")
        assert z.nr_free_pages * 100 // z.spanned_pages >= 90  # plenty of free memory
        shown = pg.evaluate(READ_UNUSABLE)
        assert shown == [unusable_free_index(z.nr_free, k) for k in range(len(z.nr_free))]
        assert shown[0] == 0 and shown[9] == shown[10] == 1000
        pg.locator("#st-watermarks table.unusable").scroll_into_view_if_needed()
        shot(pg, "scenario-fragmentation-unusable")
        assert problems == []


def test_hildenbrand_side_by_side_hints_and_reports_the_named_block(
    browser: Browser, live: LiveServer
) -> None:
    """compare opens next to v2 a reporting session of the same kernel (not refused), and
    stepping both brings pfn 0x4000 to a hinted block on the left and a reported one on
    the right, as the narration says."""
    with watched_page(browser, 1920, 1080) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=hildenbrand&compare=reporting")
        pg.wait_for_function(
            "() => { const c = window.__buddyscope.compare;"
            " return c && c.ready && c.right && c.right.configured; }",
            timeout=60_000,
        )
        right = live.state.manager.sessions[debug(pg, "compare.right.session")]
        for _ in range(30):
            left = model(live, pg).page(0x4000)
            if left.hinted and right.view.node.page(0x4000).reported:
                break
            at = debug(pg, "compare.left.step")
            pg.click("#btn-step")  # the transport steps both sides
            pg.wait_for_function("(at) => window.__buddyscope.compare.left.step > at", arg=at)
            settle(pg)
            # The right side goes to the same moment (the same guest operations done, no
            # later virtual time), which need not be the same step number.
            now = debug(pg, "compare.left")
            moment = right.view.branch.moment_step(now["op"], round(now["clock"] * 1e9) + 1000)
            pg.wait_for_function(f"() => window.__buddyscope.compare.right.step === {moment}")
        assert left.head_page_type_value == 0xFFFFFE7F
        assert right.view.node.page(0x4000).head_page_type_value == 0xFFFFFF7F
        assert debug(pg, "compare.left.strategy") == "hinting-v2"
        assert debug(pg, "compare.right.strategy") == "reporting"
        shot(pg, "scenario-hildenbrand-side-by-side")
        assert problems == []
