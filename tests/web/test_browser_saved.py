"""Saved sessions in a real browser: "save as NAME" in the share dialog, the saved list
with open and delete, the server's refusals shown in its words with nothing changed,
and what the page does when the server restarts (a new app on the same port and
``--data-dir``): a saved session comes back at the same step with the model's free
lists; a loaded session that was never saved gets a plain message.  Also: the share
dialog of a loaded session offers no broken link, ``?saved=NAME`` opens a saved copy,
and the comparison opens exactly one more session (configured by the /ws query).
Any console error or warning fails a test; screenshots land in test-results/browser/.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from browserkit import (
    SETTLED,
    debug,
    model,
    open_dashboard,
    send,
    settle,
    shot,
    steps,
    watched_page,
)
from playwright.sync_api import Browser, Page, WebSocket, expect
from wirehelp import LiveServer, free_port, serve

from allocator_model import Node
from allocator_model.sources.builtin import build_small
from backend.app import create_app
from backend.session import Settings

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

WORKLOAD = {
    "name": "two-zones",
    "title": "Two zones, a few allocations and frees",
    "seed": 3,
    "config": {"zones": [["DMA32", 0, 4096], ["Normal", 4096, 4096]], "min_free_kbytes": 0},
    "workload": [
        {"op": "alloc", "order": 2, "count": 5, "label": "a"},
        {"op": "alloc", "order": 0, "count": 3, "zone": "DMA32", "label": "b"},
        {"op": "free", "label": "a", "fraction": 0.4},
        {"op": "alloc", "order": 5, "migratetype": "Unmovable", "label": "c"},
    ],
}

# The page after a restart (its banner said so): connected to `sid` at `step`.
REOPENED = """([sid, step]) => { const b = window.__buddyscope;
  return b.connected && b.session === sid && b.step === step && b.configured; }"""

# Each zone's counts and every list's length and drawn head, as the page holds them.
PAGE_LISTS = """() => window.__buddyscope.state.zones.map((z) => ({name: z.name, nrFree: z.nrFree,
  lists: [...z.lists.values()].filter((l) => l.length > 0)
    .map((l) => [l.order, l.migratetype, l.length, l.head])}))"""


@contextmanager
def serve_at(port: int, data_dir: Path, settings: Settings | None = None) -> Iterator[LiveServer]:
    """The small app with its saved sessions in ``data_dir``, on a fixed loopback port
    (so a second one stands for the same server restarted)."""
    with serve(create_app(build_small, data_dir=data_dir, settings=settings), port) as live:
        yield live


def free_lists(node: Node) -> dict[tuple[str, int, str], list[int]]:
    """Every non-empty free list of the model, head to tail."""
    return {
        (z.name, order, mt): list(z.free_list(order, mt))
        for z in node.zones
        for order in range(node.max_order)
        for mt in node.migratetypes
        if z.free_list(order, mt)
    }


def page_matches_model(pg: Page, node: Node) -> None:
    """The page's counts, list lengths and list heads are the model's."""
    zones = pg.evaluate(PAGE_LISTS)
    assert [z["name"] for z in zones] == [z.name for z in node.zones]
    model_lists = free_lists(node)
    for z in zones:
        assert z["nrFree"] == list(node.zone(z["name"]).nr_free), z["name"]
        drawn = {(z["name"], o, mt): (n, head) for o, mt, n, head in z["lists"]}
        assert set(drawn) == {k for k in model_lists if k[0] == z["name"]}
        for key, (n, head) in drawn.items():
            assert n == len(model_lists[key]), key
            assert head == model_lists[key][: len(head)], key


def load_workload(url: str) -> dict[str, Any]:
    """A session from the workload file, as the load dialog creates one."""
    req = urllib.request.Request(
        url + "api/sessions/from-workload",
        data=json.dumps(WORKLOAD).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as res:
        created: dict[str, Any] = json.loads(res.read())
    return created


def open_share(pg: Page) -> None:
    pg.click("#btn-share")
    expect(pg.locator("#share")).to_be_visible()
    # The saved list has been read (its rows, or the "nothing saved" line).
    expect(pg.locator("#saved-list tbody tr").first).to_be_visible()


def save_as(pg: Page, name: str) -> None:
    pg.fill("#save-name", name)
    pg.click("#btn-save-name")
    expect(pg.locator("#save-name-out")).to_contain_text(f"Saved as “{name}”")


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def without_refused_sockets(problems: list[str]) -> list[str]:
    """The browser logs the refused connections while the server is down; nothing else."""
    return [p for p in problems if "WebSocket" not in p and "ERR_CONNECTION_REFUSED" not in p]


def expected_refusal(problems: list[str], status: int, route: str) -> None:
    """Chromium logs an HTTP error answer to fetch(): exactly the one the test caused."""
    refused = [p for p in problems if f"status of {status}" in p and route in p]
    assert len(refused) == 1, problems
    problems.remove(refused[0])


def test_a_saved_session_comes_back_after_a_restart_at_the_same_step(
    browser: Browser, tmp_path: Path
) -> None:
    port = free_port()
    with watched_page(browser) as (pg, problems):
        with serve_at(port, tmp_path) as live:
            open_dashboard(pg, live.url, "?scenario=buddy-basics")
            send(pg, "first")
            for _ in range(4):
                assert "ack" in send(pg, "step")
            # An operation of the user's own: no scenario address can bring it back.
            assert "ack" in send(pg, "alloc", order=2, migratetype="Movable")
            open_share(pg)
            save_as(pg, "buddy lecture")
            assert [s.name for s in live.state.store.list()] == ["buddy lecture"]
            assert "saved=buddy+lecture" in pg.url
            shot(pg, "saved-share-dialog")
            pg.keyboard.press("Escape")
            # Where the page is when the server goes: not the saved step.
            assert "ack" in send(pg, "back")
            step = debug(pg, "step")
            old = debug(pg, "session")
            before = free_lists(model(live, pg))
        pg.wait_for_function("() => !window.__buddyscope.connected")
        with serve_at(port, tmp_path) as again:
            # The saved copy comes back under the lost session's id (the page holds its
            # token, which the restarted server still recognises).
            expect(pg.locator("#banner")).to_have_text(
                f"The server restarted: reopened your saved session “buddy lecture” at step"
                f" {step} as session {old[:6]}… again, so its followers follow it again.",
                timeout=60_000,
            )
            pg.wait_for_function(REOPENED, arg=[old, step], timeout=60_000)
            pg.wait_for_function(SETTLED)
            sessions = again.state.manager.sessions
            # One session on the new server: the saved copy (no default built first).
            assert list(sessions) == [old]
            session = sessions[debug(pg, "session")]
            assert session.name == "buddy lecture" and session.view.pos == step
            node = model(again, pg)
            assert free_lists(node) == before
            page_matches_model(pg, node)
            assert debug(pg, "saved.name") == "buddy lecture"
            assert query_of(pg.url) == {"saved": ["buddy lecture"], "session": [old]}
            assert pg.text_content("#status") == "live"
            shot(pg, "saved-reopened-after-restart")
        assert without_refused_sockets(problems) == []


def test_a_loaded_session_never_saved_gets_a_plain_message_after_a_restart(
    browser: Browser, tmp_path: Path
) -> None:
    port = free_port()
    with watched_page(browser) as (pg, problems):
        with serve_at(port, tmp_path) as live:
            created = load_workload(live.url)
            open_dashboard(pg, live.url, f"?session={created['id']}&token={created['token']}")
            assert debug(pg, "state.config.source.kind") == "workload"
            assert "ack" in send(pg, "step")
        pg.wait_for_function("() => !window.__buddyscope.connected")
        with serve_at(port, tmp_path) as again:
            pg.wait_for_function(
                "(old) => window.__buddyscope.connected && window.__buddyscope.session !== old",
                arg=created["id"],
                timeout=60_000,
            )
            pg.wait_for_function(SETTLED)
            expect(pg.locator("#banner")).to_have_text(
                "The server restarted and the session loaded from a workload file"
                f" ({created['id'][:6]}…) is gone: a loaded session lasts only while the server"
                " runs unless it is saved (share → save as). Opened the default session instead."
            )
            assert debug(pg, "state.config.scenario") == "small"
            assert debug(pg, "errors") == []
            assert list(again.state.manager.sessions) == [debug(pg, "session")]
            assert f"session={debug(pg, 'session')}" in pg.url
            shot(pg, "loaded-session-lost-after-restart")
        assert without_refused_sockets(problems) == []


def test_the_share_dialog_of_a_loaded_session_has_no_broken_link(
    browser: Browser, tmp_path: Path
) -> None:
    with serve_at(free_port(), tmp_path) as live, watched_page(browser) as (pg, problems):
        created = load_workload(live.url)
        open_dashboard(pg, live.url, f"?session={created['id']}&token={created['token']}")
        for _ in range(3):
            assert "ack" in send(pg, "step")
        open_share(pg)
        expect(pg.locator("#share-state-row")).to_be_hidden()
        expect(pg.locator("#share-state-text")).to_have_text(
            "No link to this state: a session loaded from a workload file cannot be described by"
            " an address and lasts only while the server runs. Save it by name below to get a"
            " link that reopens it, or share the follow link."
        )
        assert pg.input_value("#share-follow") == f"{live.url}?session={created['id']}"
        expect(pg.locator("#saved-list tbody")).to_have_text("Nothing saved on this server yet.")
        shot(pg, "share-loaded-session")
        # Saved, it has a link: the saved name at this step.
        save_as(pg, "two zones, step 3")
        expect(pg.locator("#share-state-row")).to_be_visible()
        link = f"{live.url}?saved=two+zones%2C+step+3&step=3"
        assert pg.input_value("#share-state") == link
        expect(pg.locator("#saved-list tbody tr")).to_have_count(1)
        row = pg.locator('#saved-list tr[data-name="two zones, step 3"]')
        expect(row).to_contain_text("two zones, step 3 (this session)workload file4 stepsjust now")
        before = set(live.state.manager.sessions)
        with watched_page(browser) as (other, problems2):
            other.goto(link)
            other.wait_for_function(SETTLED, timeout=60_000)
            assert debug(other, "step") == 3
            created2 = set(live.state.manager.sessions) - before
            assert created2 == {debug(other, "session")}  # exactly one: the saved copy
            assert debug(other, "role") == "controller"
            assert debug(other, "state.config.source.kind") == "workload"
            assert debug(other, "saved.name") == "two zones, step 3"
            # The address now names the copy (a reload comes back to it, not to another
            # copy), and not its control token: the tab keeps that.
            copy = debug(other, "session")
            assert query_of(other.url) == {"saved": ["two zones, step 3"], "session": [copy]}
            other.reload()
            other.wait_for_function(SETTLED, timeout=60_000)
            assert (debug(other, "session"), debug(other, "role")) == (copy, "controller")
            assert set(live.state.manager.sessions) - before == {copy}
            page_matches_model(other, model(live, other))
            assert free_lists(model(live, other)) == free_lists(model(live, pg))
            assert problems2 == []
        assert problems == []


def test_save_open_and_delete_by_name_with_the_servers_refusals(
    browser: Browser, tmp_path: Path
) -> None:
    with serve_at(free_port(), tmp_path) as live, watched_page(browser) as (pg, problems):
        store = live.state.store
        open_dashboard(pg, live.url, "?scenario=v2-boundary")
        first = debug(pg, "session")
        open_share(pg)
        # The page says what the server would refuse, and sends nothing.
        pg.fill("#save-name", "a/b")
        expect(pg.locator("#save-name-out")).to_have_text(
            "A name cannot contain “/”: use letters, digits, spaces and _ . , : ( ) + -."
        )
        assert pg.get_attribute("#save-name", "aria-invalid") == "true"
        pg.click("#btn-save-name")
        assert store.list() == []
        save_as(pg, "boundary")
        # An existing name: saving replaces it, and the page says so first.
        pg.fill("#save-name", "boundary")
        expect(pg.locator("#btn-save-name")).to_have_text("replace")
        expect(pg.locator("#save-name-out")).to_contain_text("A saved session “boundary” exists")
        # A refusal of the server is shown in its words, and nothing changes.
        said = "this needs the session's control token (X-Buddyscope-Token)"
        pg.route(
            "**/api/sessions/*/save",
            lambda route: route.fulfill(status=403, json={"detail": said}),
        )
        pg.fill("#save-name", "other name")
        pg.click("#btn-save-name")
        expect(pg.locator("#save-name-out")).to_have_text(f"Not saved: {said}")
        pg.unroute("**/api/sessions/*/save")
        expected_refusal(problems, 403, "/save")
        assert [s.name for s in store.list()] == ["boundary"]
        assert debug(pg, "saved.name") == "boundary" and "saved=boundary" in pg.url
        # An entry deleted elsewhere since the list was read: the server's 404, verbatim.
        store.save("gone", "small", 0, store.load("boundary") or "")
        pg.keyboard.press("Escape")
        open_share(pg)
        expect(pg.locator('#saved-list tr[data-name="gone"]')).to_be_visible()
        assert store.delete("gone")
        pg.click('#saved-list tr[data-name="gone"] .saved-open')
        expect(pg.locator("#saved-list-out")).to_have_text(
            "Could not open “gone”: no saved session named 'gone'"
        )
        expected_refusal(problems, 404, "/api/saved/gone/open")
        assert debug(pg, "session") == first and len(live.state.manager.sessions) == 1
        # Delete asks once more, then deletes.
        pg.click('#saved-list tr[data-name="boundary"] .saved-delete')
        confirm = pg.locator('#saved-list tr[data-name="boundary"] .saved-delete')
        expect(confirm).to_have_text("really delete?")
        expect(confirm).to_be_focused()
        assert [s.name for s in store.list()] == ["boundary"]
        confirm.click()
        expect(pg.locator("#saved-list-out")).to_have_text("Deleted “boundary”.")
        expect(pg.locator("#saved-list tbody")).to_have_text("Nothing saved on this server yet.")
        assert store.list() == []
        # The page's session is no longer saved under that name (nor the address).
        assert debug(pg, "saved.name") is None and "saved=" not in pg.url
        assert problems == []


def test_opening_a_saved_session_switches_the_page_and_a_follower_cannot_save(
    browser: Browser, tmp_path: Path
) -> None:
    with (
        serve_at(free_port(), tmp_path) as live,
        watched_page(browser) as (pg, problems),
        watched_page(browser) as (fol, problems2),
    ):
        open_dashboard(pg, live.url, "?scenario=buddy-basics")
        send(pg, "first")
        for _ in range(2):
            assert "ack" in send(pg, "step")
        open_share(pg)
        save_as(pg, "two steps")
        pg.keyboard.press("Escape")
        for _ in range(3):
            assert "ack" in send(pg, "step")
        sid = debug(pg, "session")
        # A follower sees why it cannot save, and can open a copy of its own.
        open_dashboard(fol, live.url, f"?session={sid}")
        assert debug(fol, "role") == "follower"
        open_share(fol)
        expect(fol.locator("#save-name")).to_be_disabled()
        expect(fol.locator("#btn-save-name")).to_be_disabled()
        expect(fol.locator("#save-name-out")).to_contain_text(
            "controller can save it: you follow it (the follow link gives no control)"
        )
        shot(fol, "saved-follower")
        # The controller opens the saved entry: a new copy at the saved step, controlled.
        before = set(live.state.manager.sessions)
        open_share(pg)
        pg.click('#saved-list tr[data-name="two steps"] .saved-open')
        pg.wait_for_function(
            f"() => window.__buddyscope.session !== '{sid}' && window.__buddyscope.connected"
        )
        settle(pg)
        expect(pg.locator("#share")).to_be_hidden()
        new = debug(pg, "session")
        assert set(live.state.manager.sessions) - before == {new}
        assert debug(pg, "role") == "controller" and debug(pg, "step") == 2
        assert live.state.manager.sessions[new].name == "two steps"
        assert "saved=two+steps" in pg.url and f"session={new}" in pg.url
        page_matches_model(pg, model(live, pg))
        assert problems == [] and problems2 == []


def test_a_full_server_refuses_to_open_and_the_page_stays(browser: Browser, tmp_path: Path) -> None:
    with (
        serve_at(free_port(), tmp_path, Settings(max_sessions=1)) as live,
        watched_page(browser) as (pg, problems),
    ):
        open_dashboard(pg, live.url)
        sid = debug(pg, "session")
        open_share(pg)
        save_as(pg, "only one")
        pg.click('#saved-list tr[data-name="only one"] .saved-open')
        # The server's 503, word for word.
        expect(pg.locator("#saved-list-out")).to_have_text(
            "Could not open “only one”: this server already runs 1 sessions, all in use;"
            " try again later or follow an existing session"
        )
        expected_refusal(problems, 503, "/api/saved/only%20one/open")
        assert debug(pg, "session") == sid and list(live.state.manager.sessions) == [sid]
        assert problems == []


def test_the_comparison_opens_exactly_one_more_session(browser: Browser, tmp_path: Path) -> None:
    with (
        serve_at(free_port(), tmp_path) as live,
        watched_page(browser, 1600, 1000) as (pg, problems),
    ):
        sockets: list[WebSocket] = []
        pg.on("websocket", lambda ws: sockets.append(ws))
        open_dashboard(pg, live.url, "?scenario=v2-vs-merged&seed=5&kernel=5.7")
        sessions = live.state.manager.sessions
        before = set(sessions)
        pg.click("#btn-compare")
        pg.wait_for_function(
            "() => window.__buddyscope.compare && window.__buddyscope.compare.ready"
        )
        right = debug(pg, "compare.right.session")
        assert set(sessions) - before == {right}
        config = sessions[right].plan.config
        assert (config.scenario, config.seed, config.kernel, config.hinting) == (
            "v2-vs-merged", 5, "5.7", "reporting",
        )  # fmt: skip
        assert [b.reason for b in sessions[right].branches.values()] == ["start"]  # no configure
        assert [ws.url.split("/ws")[1] for ws in sockets][1:] == [
            "?scenario=v2-vs-merged&seed=5&strategy=reporting&kernel=5.7"
        ]
        assert debug(pg, "compare.right.step") == debug(pg, "step")
        assert problems == []


def test_the_comparison_of_a_loaded_session_copies_its_source(
    browser: Browser, tmp_path: Path
) -> None:
    with (
        serve_at(free_port(), tmp_path) as live,
        watched_page(browser, 1600, 1000) as (pg, problems),
    ):
        created = load_workload(live.url)
        open_dashboard(pg, live.url, f"?session={created['id']}&token={created['token']}")
        assert "ack" in send(pg, "step")
        sessions = live.state.manager.sessions
        before = set(sessions)
        pg.click("#btn-compare")
        pg.wait_for_function(
            "() => window.__buddyscope.compare && window.__buddyscope.compare.ready"
        )
        right = debug(pg, "compare.right.session")
        assert set(sessions) - before == {right}
        left_config, right_config = sessions[created["id"]].plan.config, sessions[right].plan.config
        assert right_config.hinting == "reporting"
        assert right_config.workload == left_config.workload  # the same file, not a scenario
        assert [b.reason for b in sessions[right].branches.values()] == ["start"]
        for n in (2, 3):
            pg.click("#btn-step")
            pg.wait_for_function(f"() => window.__buddyscope.compare.left.step === {n}")
            # The other strategy at the same moment (its last step not later in time).
            left = sessions[created["id"]].view
            ns = round(left.node.clock * 1e9) + 1000
            moment = sessions[right].view.branch.moment_step(left.ws.wl_index, ns)
            pg.wait_for_function(f"() => window.__buddyscope.compare.right.step === {moment}")
        assert debug(pg, "errors") == []
        shot(pg, "compare-loaded-session")
        assert problems == []


def test_an_address_naming_no_saved_session_says_so_and_opens_the_default(
    browser: Browser, tmp_path: Path
) -> None:
    with serve_at(free_port(), tmp_path) as live, watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, "?saved=nope&step=4")
        expect(pg.locator("#banner")).to_have_text(
            "Could not open the saved session “nope”: no saved session named 'nope'."
            " Opened the default session instead."
        )
        expected_refusal(problems, 404, "/api/saved/nope/open")
        assert list(live.state.manager.sessions) == [debug(pg, "session")]
        assert debug(pg, "state.config.scenario") == "small"
        # Not sought to step 4: that step belonged to the saved session.
        assert debug(pg, "step") == debug(pg, "timelineLength")
        assert "saved=" not in pg.url and debug(pg, "saved.name") is None
        assert problems == []


def test_saved_as_a_scenario_file_in_the_store_and_opened_again(
    browser: Browser, tmp_path: Path
) -> None:
    """Saved "as a scenario file": the branch becomes a workload in the saved sessions (POST
    .../save-scenario), own operations included; opening it replays that file to the
    same place, with the same free lists."""
    with serve_at(free_port(), tmp_path) as live, watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=buddy-basics")
        send(pg, "first")
        steps(pg, 2)
        assert "ack" in send(pg, "alloc", order=3, migratetype="Movable")
        lists = free_lists(model(live, pg))
        open_share(pg)
        pg.fill("#save-name", "by hand")
        pg.check("#save-as-scenario")
        pg.click("#btn-save-name")
        expect(pg.locator("#save-name-out")).to_contain_text("Saved as scenario file “by hand”")
        assert debug(pg, "saved.last") == {"saved": "by hand", "asScenario": True}
        row = pg.locator('#saved-list tr[data-name="by hand"]')
        expect(row).to_contain_text("workload")
        pg.click('#saved-list tr[data-name="by hand"] .saved-open')
        pg.wait_for_function("() => window.__buddyscope.state.config.source?.kind === 'workload'")
        settle(pg)
        assert free_lists(model(live, pg)) == lists
        page_matches_model(pg, model(live, pg))
        shot(pg, "saved-as-scenario-file")
        assert problems == []
