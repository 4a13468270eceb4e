"""Sharing a session in a real browser, and what a restart does to the people sharing it.

- After a server restart the teacher's page reopens its session under the SAME id (the
  control token is an HMAC of the id under the key in ``--data-dir``), and followers in
  presenter mode follow it again; a follower never opens a session of its own: it says
  that it waits, and for what.
- The control token never stays in the address bar (a copied address gives no
  control): the tab keeps it in sessionStorage, so a reload still controls.
- The "this state" link carries the strategy's constants, and warns exactly when the
  session has operations done by hand that no address can replay.
- ``?pages=N`` shows its size; ``?step=`` beyond the end says so; the "replace" button
  replaces a saved session, and a name saved meanwhile is not overwritten.

Any console error or warning fails a test (the refused connections while the server is
down excepted); screenshots land in test-results/browser/.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from browserkit import (
    SETTLED,
    debug,
    open_dashboard,
    send,
    settle,
    shot,
    steps,
    watched_page,
)
from playwright.sync_api import Browser, Page, WebSocket, expect
from test_browser_saved import (
    WORKLOAD,
    open_share,
    query_of,
    save_as,
    serve_at,
    without_refused_sockets,
)
from websockets.sync.client import connect
from wirehelp import free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

# Back on `sid` after a restart, at `step`, its first snapshot drawn.
BACK = """([sid, step]) => { const b = window.__buddyscope;
  return b.connected && b.session === sid && b.step === step && b.configured
    && b.renderedSeq === b.seq; }"""


def sockets_of(pg: Page) -> list[str]:
    """The query of every websocket the page opens from now on."""
    urls: list[str] = []
    pg.on("websocket", lambda ws: urls.append(ws_query(ws)))
    return urls


def ws_query(ws: WebSocket) -> str:
    return ws.url.split("/ws", 1)[1]


def test_after_a_restart_the_teacher_reopens_the_same_session_and_followers_follow_it(
    browser: Browser, tmp_path: Path
) -> None:
    port = free_port()
    with (
        watched_page(browser) as (pg, problems),
        watched_page(browser, 1920, 1080) as (fol, problems2),
    ):
        with serve_at(port, tmp_path) as live:
            open_dashboard(pg, live.url, "?scenario=buddy-basics&strategy=reporting")
            send(pg, "first")
            steps(pg, 2)
            sid = debug(pg, "session")
            assert debug(pg, "firstOwnStep") is None  # nothing done by hand: nothing to say
            open_dashboard(fol, live.url, f"?session={sid}&presenter=1")
            assert debug(fol, "role") == "follower" and debug(fol, "step") == 2
            follower_sockets = sockets_of(fol)
        for p in (pg, fol):
            p.wait_for_function("() => !window.__buddyscope.connected")
        with serve_at(port, tmp_path) as again:
            expect(pg.locator("#banner")).to_have_text(
                f"The server restarted: reopened buddy-basics at step 2 as session {sid[:6]}…"
                " again, so its followers follow it again.",
                timeout=60_000,
            )
            pg.wait_for_function(BACK, arg=[sid, 2], timeout=60_000)
            # The follower is back on the same session, still a follower, in step.
            fol.wait_for_function(BACK, arg=[sid, 2], timeout=60_000)
            assert debug(fol, "role") == "follower"
            expect(fol.locator("#waiting")).to_be_hidden()
            assert "presenter" in (fol.get_attribute("body", "class") or "")
            # It only ever asked for that session: it never opened one of its own.
            assert follower_sockets and set(follower_sockets) == {f"?session={sid}"}
            assert "ack" in send(pg, "step")
            fol.wait_for_function("() => window.__buddyscope.step === 3")
            settle(fol)
            sessions = again.state.manager.sessions
            assert list(sessions) == [sid] and sessions[sid].view.pos == 3
            assert sessions[sid].plan.config.hinting == "reporting"
            assert debug(fol, "state.zones[0].nrFree") == debug(pg, "state.zones[0].nrFree")
            shot(fol, "follower-back-after-restart")
        assert without_refused_sockets(problems) == []
        assert without_refused_sockets(problems2) == []


def test_a_scenario_reopened_after_a_restart_says_the_operations_done_by_hand_are_not_in_it(
    browser: Browser, tmp_path: Path
) -> None:
    port = free_port()
    with watched_page(browser) as (pg, problems):
        with serve_at(port, tmp_path) as live:
            open_dashboard(pg, live.url, "?scenario=buddy-basics")
            send(pg, "first")
            steps(pg, 2)
            # An allocation from the page's form: the page learns it is step 3.
            pg.select_option("#form-alloc select[name=order]", "2")
            pg.click("#form-alloc button[type=submit]")
            pg.wait_for_function("() => window.__buddyscope.firstOwnStep === 3")
            steps(pg, 1)
            sid = debug(pg, "session")
            # A reload of the tab learns it again from the server.
            pg.reload()
            pg.wait_for_function(SETTLED, timeout=60_000)
            pg.wait_for_function("() => window.__buddyscope.firstOwnStep === 3")
            address = pg.url
            # The tab leaves (it keeps what it had, the step done by hand too).
            pg.goto("about:blank")
        with serve_at(port, tmp_path) as again:
            pg.goto(address)
            expect(pg.locator("#banner")).to_have_text(
                f"The server restarted: reopened buddy-basics at step 4 as session {sid[:6]}…"
                " again, so its followers follow it again; the operations you did by hand from"
                " step 3 on are not in it (a scenario replays only its own steps; save a session"
                " by name to keep them).",
                timeout=60_000,
            )
            pg.wait_for_function(BACK, arg=[sid, 4], timeout=60_000)
            # It says the truth: the reopened session replays the scenario only.
            assert debug(pg, "firstOwnStep") is None
            log = again.state.manager.sessions[sid].view.branch.log
            assert [cmd[0] for cmd in log] == ["next"] * 5  # the whole scenario, recorded
            shot(pg, "reopened-without-own-operations")
        assert without_refused_sockets(problems) == []


def test_a_follower_whose_session_is_gone_waits_for_it_and_opens_nothing(
    browser: Browser, tmp_path: Path
) -> None:
    port = free_port()
    with watched_page(browser, 1920, 1080) as (fol, problems):
        with serve_at(port, tmp_path) as live:
            req = urllib.request.Request(
                live.url + "api/sessions",
                data=json.dumps({"scenario": "v2-boundary"}).encode(),
                headers={"content-type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(req, timeout=30) as res:
                created = json.loads(res.read())
            sid, token = created["id"], created["token"]
            open_dashboard(fol, live.url, f"?session={sid}&presenter=1")
            sockets = sockets_of(fol)
        fol.wait_for_function("() => !window.__buddyscope.connected")
        with serve_at(port, tmp_path) as again:
            waiting = fol.locator("#waiting")
            expect(waiting).to_be_visible(timeout=60_000)
            expect(fol.locator("#waiting-text")).to_have_text(
                f"Waiting for the presenter's session {sid[:6]}… to come back (the server"
                " restarted): this page follows it again as soon as the presenter's page"
                " reopens it."
            )
            expect(fol.locator("#status")).to_have_text("waiting for the session…")
            # It asks again, and opens nothing meanwhile.
            asked = len(sockets)
            with fol.expect_websocket():
                pass
            assert len(sockets) > asked
            assert set(sockets) == {f"?session={sid}"}
            assert again.state.manager.sessions == {}
            assert debug(fol, "role") == "follower"
            shot(fol, "follower-waiting")
            # The presenter's page (here a script holding the token) reopens it.
            query = f"session={sid}&token={token}&scenario=v2-boundary"
            with connect(again.ws_url + "?" + query) as ws:
                hello = json.loads(ws.recv())
                assert (hello["session"], hello["role"]) == (sid, "controller")
                fol.wait_for_function(BACK, arg=[sid, 0], timeout=60_000)
                expect(waiting).to_be_hidden()
                assert "the session is back: following it again" in debug(fol, "notices")
                assert list(again.state.manager.sessions) == [sid]
        assert without_refused_sockets(problems) == []


def test_a_teacher_who_reloads_after_the_restart_gets_the_same_session_back(
    browser: Browser, tmp_path: Path
) -> None:
    port = free_port()
    with watched_page(browser) as (pg, problems):
        with serve_at(port, tmp_path) as live:
            open_dashboard(pg, live.url, "?scenario=v2-boundary&seed=2")
            steps(pg, 2)
            open_share(pg)
            save_as(pg, "boundary")
            pg.keyboard.press("Escape")
            steps(pg, 2)
            sid = debug(pg, "session")
            address = pg.url
            assert query_of(address) == {"saved": ["boundary"], "session": [sid]}
            # The tab leaves (the tab keeps what it had) while the server restarts.
            pg.goto("about:blank")
        with serve_at(port, tmp_path) as again:
            pg.goto(address)
            expect(pg.locator("#banner")).to_have_text(
                f"The server restarted: reopened your saved session “boundary” at step 4 as"
                f" session {sid[:6]}… again, so its followers follow it again.",
                timeout=60_000,
            )
            pg.wait_for_function(BACK, arg=[sid, 4], timeout=60_000)
            assert debug(pg, "role") == "controller"
            assert list(again.state.manager.sessions) == [sid]
            assert again.state.manager.sessions[sid].plan.config.seed == 2
        assert without_refused_sockets(problems) == []


def test_the_control_token_never_shows_in_the_address(browser: Browser, tmp_path: Path) -> None:
    with serve_at(free_port(), tmp_path) as live, watched_page(browser) as (pg, problems):
        # Opened with one (the REST answer's ws path, an old link): taken off at once.
        req = urllib.request.Request(
            live.url + "api/sessions/from-workload",
            data=json.dumps(WORKLOAD).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as res:
            created = json.loads(res.read())
        open_dashboard(pg, live.url, f"?session={created['id']}&token={created['token']}")
        assert query_of(pg.url) == {"session": [created["id"]]}
        assert debug(pg, "role") == "controller"
        # A reload of the tab still controls (the tab keeps the token).
        pg.reload()
        pg.wait_for_function(SETTLED, timeout=60_000)
        assert (debug(pg, "session"), debug(pg, "role")) == (created["id"], "controller")
        assert "ack" in send(pg, "step")
        # Saved by name: the address names it, no token.
        open_share(pg)
        save_as(pg, "lecture 5")
        assert query_of(pg.url) == {"saved": ["lecture 5"], "session": [created["id"]]}
        follow = pg.input_value("#share-follow")
        assert follow == f"{live.url}?session={created['id']}"
        assert "token=" not in pg.input_value("#share-state")
        # Opened from the saved list: a new copy, controlled, no token in the address.
        pg.click('#saved-list tr[data-name="lecture 5"] .saved-open')
        pg.wait_for_function(
            "(old) => window.__buddyscope.session !== old && window.__buddyscope.connected",
            arg=created["id"],
        )
        settle(pg)
        copy = debug(pg, "session")
        assert query_of(pg.url) == {"saved": ["lecture 5"], "session": [copy]}
        pg.reload()
        pg.wait_for_function(SETTLED, timeout=60_000)
        assert (debug(pg, "session"), debug(pg, "role")) == (copy, "controller")
        # Someone given the address (another tab, no token kept) only follows.
        with watched_page(browser) as (other, problems2):
            open_dashboard(other, live.url, "?" + pg.url.split("?", 1)[1])
            assert (debug(other, "session"), debug(other, "role")) == (copy, "follower")
            assert problems2 == []
        assert problems == []


def test_the_state_link_keeps_the_constants_and_warns_of_operations_done_by_hand(
    browser: Browser, tmp_path: Path
) -> None:
    with serve_at(free_port(), tmp_path) as live, watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=buddy-basics")
        assert "ack" in send(pg, "configure", hinting="reporting", constants={"capacity": 16})
        send(pg, "first")
        steps(pg, 2)
        open_share(pg)
        link = pg.input_value("#share-state")
        assert link.endswith(
            "?scenario=buddy-basics&seed=0&strategy=reporting&kernel=5.10"
            "&constants=capacity:16&step=2"
        ), link
        warning = pg.locator("#share-state-warning")
        expect(warning).to_be_hidden()
        pg.keyboard.press("Escape")
        # An allocation of the user's own: the link cannot replay it, and says so.
        assert "ack" in send(pg, "alloc", order=3, migratetype="Movable")
        open_share(pg)
        expect(warning).to_be_visible()
        expect(pg.locator("#share-state-warning-text")).to_have_text(
            "This link replays the scenario only: the operations done by hand in this session"
            " (the first at step 3) are not in an address, so it opens a different state. For"
            " an exact copy, save the session by name below and share that."
        )
        link = pg.input_value("#share-state")
        assert link.endswith("&constants=capacity:16&step=3"), link
        shot(pg, "share-own-operations")
        pg.click("#btn-share-save")
        expect(pg.locator("#save-name")).to_be_focused()
        pg.keyboard.press("Escape")
        # Back before it: the link opens this very state again.
        assert "ack" in send(pg, "back")
        open_share(pg)
        expect(warning).to_be_hidden()
        pg.keyboard.press("Escape")
        # The link opens the constants as they were set.
        with watched_page(browser) as (other, problems2):
            open_dashboard(other, link)
            config = debug(other, "state.config")
            assert (config["hinting"], config["hinting_options"]) == ("reporting", {"capacity": 16})
            assert debug(other, "step") == 3
            session = live.state.manager.sessions[debug(other, "session")]
            assert session.plan.config.constants == {"capacity": 16}
            assert [b.reason for b in session.branches.values()] == ["start"]
            assert problems2 == []
        assert problems == []


def test_pages_shows_its_size_and_a_step_past_the_end_says_so(
    browser: Browser, tmp_path: Path
) -> None:
    with serve_at(free_port(), tmp_path) as live, watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, "?pages=4096")
        fact = pg.locator("#source-fact")
        expect(fact).to_have_text("4,096 pages")
        expect(fact).to_have_attribute(
            "title", "one zone (Normal) of 4,096 pages: the small scenario resized (pages=4096)"
        )
        open_dashboard(pg, live.url, "?scenario=buddy-basics&step=999")
        expect(pg.locator("#banner")).to_have_text(
            "The timeline has only 5 steps; showing the last (the address asked for step 999)."
        )
        assert debug(pg, "step") == debug(pg, "timelineLength") == 5
        expect(pg.locator("#source-fact")).to_have_attribute("data-kind", "scenario")
        assert problems == []


def test_replace_replaces_and_a_name_saved_meanwhile_is_not_overwritten(
    browser: Browser, tmp_path: Path
) -> None:
    with serve_at(free_port(), tmp_path) as live, watched_page(browser) as (pg, problems):
        store = live.state.store
        open_dashboard(pg, live.url, "?scenario=buddy-basics")
        send(pg, "first")
        open_share(pg)
        save_as(pg, "lecture")
        assert [s.steps for s in store.list()] == [5]  # the whole scenario is recorded
        pg.keyboard.press("Escape")
        steps(pg, 2)
        open_share(pg)
        pg.fill("#save-name", "lecture")
        expect(pg.locator("#btn-save-name")).to_have_text("replace")
        pg.click("#btn-save-name")
        expect(pg.locator("#save-name-out")).to_contain_text("Saved as “lecture”")
        assert [(s.name, s.steps) for s in store.list()] == [("lecture", 5)]
        # Saved by someone else after the page read the list: not overwritten.
        pg.fill("#save-name", "taken")
        expect(pg.locator("#btn-save-name")).to_have_text("save")
        store.save("taken", "small", 7, store.load("lecture") or "")
        pg.click("#btn-save-name")
        expect(pg.locator("#save-name-out")).to_have_text(
            "Not saved: a session was saved as “taken” meanwhile (see the list); press"
            " “replace” to replace it, or choose another name."
        )
        refused = [p for p in problems if "status of 409" in p and "/save" in p]
        assert len(refused) == 1, problems
        problems.remove(refused[0])
        expect(pg.locator("#btn-save-name")).to_have_text("replace")
        assert {s.name: s.steps for s in store.list()} == {"lecture": 5, "taken": 7}
        assert debug(pg, "saved.name") == "lecture"
        assert live.state.manager.sessions[debug(pg, "session")].name == "lecture"
        pg.click("#btn-save-name")
        expect(pg.locator("#save-name-out")).to_contain_text("Saved as “taken”")
        assert {s.name: s.steps for s in store.list()} == {"lecture": 5, "taken": 5}
        assert problems == []


def test_a_presenter_who_reloads_the_tab_keeps_the_session_and_its_followers(
    browser: Browser, tmp_path: Path
) -> None:
    """A reload of the tab that opened a session from its address joins that session
    again, at the step it is at; a new tab with the same address opens a new one."""
    with (
        serve_at(free_port(), tmp_path) as live,
        watched_page(browser) as (pg, problems),
        watched_page(browser, 1920, 1080) as (fol, problems2),
    ):
        open_dashboard(pg, live.url, "?scenario=buddy-basics&step=1")
        sid = debug(pg, "session")
        steps(pg, 2)
        open_dashboard(fol, live.url, f"?session={sid}&presenter=1")
        pg.reload()
        pg.wait_for_function(BACK, arg=[sid, 3], timeout=60_000)
        assert debug(pg, "role") == "controller"
        assert "ack" in send(pg, "step")
        fol.wait_for_function("() => window.__buddyscope.step === 4")
        assert list(live.state.manager.sessions) == [sid]
        # Another tab (no storage of this one) with the same address: a session of its own.
        with watched_page(browser) as (other, problems3):
            open_dashboard(other, live.url, "?scenario=buddy-basics&step=1")
            assert debug(other, "session") != sid and debug(other, "step") == 1
            assert debug(other, "role") == "controller"
            assert problems3 == []
        assert problems == [] and problems2 == []
