"""The free lists in a real browser where the server places what the page cannot see:
v2's boundary in the unsent middle of a long list (its index, its neighbours, the
gaps on each side), hinted blocks in front of the boundary after a new cycle, the
reported count per order; the seek bar's marks after ``breakpoints``; and a shared
address that opens its session through the ``/ws`` query in one step.  Everything
drawn is compared with the model behind the session; any console error or warning
fails the test.  Screenshots land in test-results/browser/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from browserkit import debug, model, open_dashboard, send, settle, shot, watched_page
from playwright.sync_api import Browser, Page, WebSocket, expect
from test_ws_lists import RESET_TO_HEAD
from wirehelp import LiveServer

from allocator_model import Node
from backend.protocol import LIST_ENDS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

#: One lane of the free lists as drawn: its items head to tail.
READ_LANE = """([order, mt]) => {
  const lane = document.querySelector(
    `#freelists .fl-row[data-order="${order}"] .lane[data-migratetype="${mt}"]`);
  if (!lane) return null;
  return {
    length: Number(lane.dataset.length),
    flagged: lane.dataset.flagged === undefined ? null : Number(lane.dataset.flagged),
    boundaryIndex: lane.dataset.boundaryIndex === undefined ? null
      : Number(lane.dataset.boundaryIndex),
    items: [...lane.querySelectorAll('.items > *')].map((el) =>
      el.classList.contains('chip')
        ? {kind: 'block', pfn: Number(el.dataset.pfn), position: Number(el.dataset.position),
           flagged: el.dataset.flagged === '1', mark: el.querySelector('.mark') !== null}
        : el.classList.contains('gap')
          ? {kind: 'gap', count: Number(el.dataset.gap), from: Number(el.dataset.from),
             flagged: el.dataset.flagged === undefined ? null : Number(el.dataset.flagged),
             side: el.dataset.side ?? null, text: el.textContent}
          : {kind: 'boundary', position: Number(el.dataset.position),
             text: el.textContent, pfn: el.dataset.boundaryPfn}),
  };
}"""

READ_FLAG_COLUMN = """() => [...document.querySelectorAll('#freelists .fl-row')].map((row) =>
  row.dataset.flagged === undefined ? null : Number(row.dataset.flagged))"""


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    with watched_page(browser) as (pg, problems):
        yield pg, problems
        assert problems == [], problems


def boundary_index(node: Node, order: int, mt: str) -> int | None:
    """The index of v2's boundary in a list, from node.hinting_state() and the list."""
    hs = node.hinting_state()
    row = hs["boundaries"].get(order, {}) if hs.get("active_zone") == "Normal" else {}
    if mt not in row:
        return None
    full = node.zone("Normal").free_list(order, mt)
    return len(full) if row[mt] is None else full.index(row[mt])


def check_lane(pg: Page, node: Node, order: int, mt: str) -> dict[str, Any]:
    """One drawn lane against the model: every block at its position with its own flag,
    every gap with the model's count of flagged blocks in it, the boundary marker at the
    model's index with the gaps in front of it and behind it on their sides."""
    lane: dict[str, Any] = pg.evaluate(READ_LANE, [order, mt])
    zone = node.zone("Normal")
    full = zone.free_list(order, mt)
    flags = [zone.flags[p - zone.start_pfn] != 0 for p in full]
    assert lane["length"] == len(full)
    index = boundary_index(node, order, mt)
    assert lane["boundaryIndex"] == index
    at = 0
    for item in lane["items"]:
        if item["kind"] == "block":
            assert item["position"] == at and item["pfn"] == full[at], (at, item)
            assert item["flagged"] == item["mark"] == flags[at], (at, item)
            at += 1
        elif item["kind"] == "gap":
            assert item["from"] == at, (at, item)
            assert item["flagged"] == sum(flags[at : at + item["count"]]), item
            if index is not None:
                side = "front" if at + item["count"] <= index else "behind"
                assert item["side"] == side and (at >= index) == (side == "behind"), item
            at += item["count"]
        else:
            assert item["position"] == at == index, (at, item)
    assert at == len(full)
    return lane


def test_the_boundary_marker_sits_at_the_models_index_in_a_1m_page_zone(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?scenario=v2-boundary&pages=1048576")
    assert debug(pg, "state.zones[0].spannedPages") == 1 << 20
    # The boot's hinting passes, folded into step 0 by default, as steps.
    assert "ack" in send(pg, "configure", fold_setup=False)
    assert "ack" in send(pg, "first")
    middle = 0
    for _ in range(9):  # three hinting passes: fill, report, drain
        assert "ack" in send(pg, "step")
        node = model(live, pg)
        index = boundary_index(node, 10, "Movable")
        assert index is not None
        lane = check_lane(pg, node, 10, "Movable")
        full = node.zone("Normal").free_list(10, "Movable")
        if LIST_ENDS <= index < len(full) - LIST_ENDS:  # in the middle the lists do not send
            middle += 1
            kinds = [i["kind"] for i in lane["items"]]
            k = kinds.index("boundary")
            front, mark, behind = lane["items"][k - 2], lane["items"][k], lane["items"][k + 2]
            assert mark["text"] == f"boundary at #{index + 1:,}"
            assert front["text"] == f"… {front['count']:,} unhinted"
            assert behind["text"] == f"{behind['count']:,} hinted …"
            assert lane["items"][k - 1]["pfn"] == full[index - 1]
            assert lane["items"][k + 1]["pfn"] == full[index]
            hinted = node.hinting_state()["zones"]["Normal"]["hinted_pages"]
            assert pg.evaluate(READ_FLAG_COLUMN)[9:] == hinted
    assert middle >= 3
    pg.locator('#freelists .fl-row[data-order="10"]').scroll_into_view_if_needed()
    pg.wait_for_function("() => !window.__buddyscope.animating")
    shot(pg, "v2-boundary-in-the-middle-1m")


def test_hinted_blocks_in_front_of_the_boundary_keep_their_marks(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url)
    assert "ack" in send(pg, "configure", workload=json.dumps(RESET_TO_HEAD))
    saw = False
    for _ in range(30):
        if "error" in send(pg, "step"):
            break
        node = model(live, pg)
        zone = node.zone("Normal")
        for order in range(2, node.max_order):
            for mt in node.migratetypes:
                full = zone.free_list(order, mt)
                if not full:
                    continue
                lane = check_lane(pg, node, order, mt)
                index = boundary_index(node, order, mt)
                if index is not None and any(zone.flags[p - zone.start_pfn] for p in full[:index]):
                    saw = True
                    pg.wait_for_function("() => !window.__buddyscope.animating")
                    shot(pg, "v2-hinted-in-front-of-the-boundary")
                    assert any(i["kind"] == "block" and i["mark"] for i in lane["items"][:index])
        if saw:
            break
    assert saw


def test_the_reported_count_per_order_is_the_models(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?scenario=reporting-passes")
    expect(pg.locator("#freelists .fl-header span").nth(2)).to_have_text("reported")
    reported = False
    for _ in range(12):
        if "error" in send(pg, "step"):
            break
        node = model(live, pg)
        order = node.hinting_state()["order"]
        per_order = node.zone("Normal").flagged_per_order()
        shown = pg.evaluate(READ_FLAG_COLUMN)
        assert shown == [None] * order + per_order[order:]
        for k in range(node.max_order):
            for mt in node.migratetypes:
                if node.zone("Normal").free_list(k, mt):
                    lane = check_lane(pg, node, k, mt)
                    assert lane["flagged"] == node.zone("Normal").flagged_count(k, mt)
        reported = reported or sum(per_order) > 0
    assert reported
    cells = pg.locator("#freelists .fl-row .fl-flag")
    assert cells.nth(node.max_order - 1).text_content() == f"{per_order[-1]:,}"
    shot(pg, "reported-per-order")


def test_breakpoints_redraw_the_marks_the_server_sends(browser: Browser, live: LiveServer) -> None:
    with (
        watched_page(browser) as (pg, problems),
        watched_page(browser) as (fan, problems2),
    ):
        open_dashboard(pg, live.url, "?scenario=buffer-reuse")
        pg.evaluate("() => window.__buddyscope.send('run_to', {kind: 'refault'})")
        settle(pg)
        open_dashboard(fan, live.url, f"?session={debug(pg, 'session')}")
        session = live.state.manager.sessions[debug(pg, "session")]

        def drawn_marks(p: Page) -> list[list[Any]]:
            marks: list[list[Any]] = p.eval_on_selector_all(
                "#marks .mark", "els => els.map(e => [Number(e.dataset.step), e.dataset.kind])"
            )
            return marks

        assert [k for _, k in drawn_marks(pg)].count("merge") == 0
        pg.click("#breakpoints > summary")
        pg.check('#bp-list input[value="merge"]')
        for p in (pg, fan):
            p.wait_for_function(
                "() => [...document.querySelectorAll('#marks .mark')]"
                ".some((m) => m.dataset.kind === 'merge')"
            )
        marks, _ = session.marks_of(session.view)
        expected = [[m.step, m.kind] for m in marks]
        assert any(k == "merge" for _, k in expected)
        assert drawn_marks(pg) == drawn_marks(fan) == expected
        assert pg.locator("#marks .mark.bp").count() == sum(1 for _, k in expected if k == "merge")
        # The follower's breakpoint list shows the session's, and keyboard focus stays put.
        expect(fan.locator('#bp-list input[value="merge"]')).to_be_checked()
        assert pg.evaluate("() => document.activeElement.value") == "merge"
        assert debug(fan, "state.breakpoints") == ["merge"]
        shot(pg, "breakpoint-marks")
        pg.uncheck('#bp-list input[value="merge"]')
        pg.wait_for_function("() => !document.querySelector('#marks .mark.kind-merge')")
        fan.wait_for_function("() => !document.querySelector('#marks .mark.kind-merge')")
        assert session.breakpoints == frozenset()
        assert problems == problems2 == []


def test_a_shared_address_opens_its_session_in_one_step(browser: Browser, live: LiveServer) -> None:
    sessions = live.state.manager.sessions
    query = "?scenario=v2-boundary&seed=3&strategy=reporting&kernel=5.7&step=5"
    with watched_page(browser) as (pg, problems):
        sockets: list[WebSocket] = []
        sent: list[str] = []
        pg.on("websocket", lambda ws: sockets.append(ws))
        pg.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(str(f))))
        before = set(sessions)
        open_dashboard(pg, live.url, query)
        pg.wait_for_function("() => window.__buddyscope.step === 5")
        settle(pg)
        created = set(sessions) - before
        assert created == {debug(pg, "session")}  # exactly one session, the one shown
        session = sessions[debug(pg, "session")]
        config = session.plan.config
        assert (config.scenario, config.seed, config.hinting, config.kernel) == (
            "v2-boundary", 3, "reporting", "5.7",
        )  # fmt: skip
        assert [b.reason for b in session.branches.values()] == ["start"]  # no configure
        assert [ws.url.split("/ws")[1] for ws in sockets] == [
            "?scenario=v2-boundary&seed=3&strategy=reporting&kernel=5.7"
        ]
        # After the socket opened the session, only the way to step 5: no configure.
        assert {json.loads(f)["type"] for f in sent} <= {"step", "seek", "last"}
        assert debug(pg, "state.config.hinting") == "reporting"
        strategy = pg.locator("#session-facts .strategy")  # compact where room is short
        expect(strategy).to_have_attribute("title", "free page reporting")
        assert strategy.text_content() in ("free page reporting", "reporting")
        expect(pg.locator("#session-facts .scenario")).to_contain_text("v2-boundary")
        assert session.view.pos == 5
        shot(pg, "shared-address-one-session")
        assert problems == []


def test_an_address_the_server_refuses_says_why_and_opens_the_default(
    browser: Browser, live: LiveServer
) -> None:
    sessions = live.state.manager.sessions
    with watched_page(browser) as (pg, problems):
        sockets: list[WebSocket] = []
        pg.on("websocket", lambda ws: sockets.append(ws))
        before = set(sessions)
        open_dashboard(pg, live.url, "?scenario=no-such-scenario&seed=4")
        assert set(sessions) - before == {debug(pg, "session")}
        assert debug(pg, "state.config.scenario") == "small"  # the server's default
        errors = debug(pg, "errors")
        assert len(errors) == 1 and errors[0].startswith(
            "invalid_config: unknown scenario 'no-such-scenario'; choose one of"
        )
        expect(pg.locator("#banner")).to_contain_text("unknown scenario 'no-such-scenario'")
        assert [ws.url.split("/ws")[1] for ws in sockets] == [
            "?scenario=no-such-scenario&seed=4",
            "",
        ]
        # Console errors are the page's to avoid: a refused query is not one.
        assert problems == []
