"""The per-cpu lists lane (issue 12 point 5, issue 13 §1): the default guest runs Linux
6.12 with free page reporting and its lists on; the lane shows each CPU's lists as the
model has them, follows a step, and says so when the lists are off (Chromium, 1280x720)."""

from __future__ import annotations

import pytest
from browserkit import debug, model, open_dashboard, send, shot, watched_page
from playwright.sync_api import Browser, Page, expect
from wirehelp import LiveServer

from allocator_model import Node

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def _titles(node: Node, zone: str) -> list[str]:
    """What the lane's CPU lines must say, from the model."""
    out = []
    for cpu, pcps in enumerate(node.pcp_sets):
        p = pcps[zone]
        tuned = f" (tunes {p.high_min}\u2013{p.high_max})" if p.high_min != p.high_max else ""
        out.append(f"CPU {cpu}: {p.count} pages, high {p.high}{tuned}, batch {p.batch}")
    return out


def _lane(pg: Page) -> list[str]:
    return pg.locator("#pcp-lane .pcp-name").all_inner_texts()


def test_the_default_guest_and_its_per_cpu_lists(browser: Browser, live: LiveServer) -> None:
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=default")
        node = model(live, pg)
        assert (node.kernel, node.hinting, node.pcp_enabled) == ("6.12", "reporting", True)
        expect(pg.locator('select[name="kernel"]')).to_have_value("6.12")
        zone = debug(pg, "selectedZone")
        expect(pg.locator("#pcp-lane .pcp-title")).to_have_text(f"per-cpu lists · {zone}")
        assert _lane(pg) == _titles(node, zone)
        # 6.12's lists: orders 0-3 and the THP order, a cell per list
        orders = pg.locator("#pcp-lane .pcp-row").evaluate_all(
            "rows => rows.map(r => Number(r.dataset.order))"
        )
        assert orders == [0, 1, 2, 3, 9]

        # A hand allocation in Normal takes from (or refills) the list: the lane follows.
        assert "ack" in send(pg, "alloc", order=0, migratetype="Movable", zone="Normal")
        pg.evaluate("() => window.__buddyscope.selectZone('Normal')")
        expect(pg.locator("#pcp-lane .pcp-title")).to_have_text("per-cpu lists · Normal")
        node = model(live, pg)
        expect(pg.locator("#pcp-lane .pcp-name")).to_have_text(_titles(node, "Normal"))
        shot(pg, "pcp-lane-default")

        # Two CPUs: a set of lists each.
        assert "ack" in send(pg, "configure", cpus=2)
        node = model(live, pg)
        assert node.cpus == 2
        expect(pg.locator("#pcp-lane .pcp-cpu")).to_have_count(2)
        expect(pg.locator("#pcp-lane .pcp-name")).to_have_text(_titles(node, "Normal"))
        expect(pg.locator('input[name="cpus"]')).to_have_value("2")

        # Without the lists, the lane says where single pages go.
        assert "ack" in send(pg, "configure", pcp=False)
        expect(pg.locator("#pcp-lane .pcp-off")).to_have_text(
            "pcp off: single pages go straight to the buddy lists"
        )
        expect(pg.locator("#pcp-lane .pcp-cpu")).to_have_count(0)
        assert problems == []
