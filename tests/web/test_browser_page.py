"""The dashboard's views in a real browser (Debian's Chromium through Playwright),
each compared with the model's state behind the session the page opened: the free
lists (counts, ends, gaps, flags, the v2 boundary, the batch with the host), the
memory map (the colour of chosen frames), hover and the inspector, the state panel,
the charts, narration and the log, and the animation.  Any console error or warning
fails the test.  Screenshots land in test-results/browser/ (ignored by git).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browserkit import (
    READ_ROWS,
    debug,
    model,
    open_dashboard,
    send,
    settle,
    shot,
    steps,
    watched_page,
)
from playwright.sync_api import Browser, Page
from wirehelp import LiveServer, serve

from allocator_model import Node
from allocator_model.sources.builtin import build_default, build_small
from backend.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """New sessions run the small one-zone scenario unless the page asks otherwise."""
    with serve(create_app(build_small)) as server:
        yield server


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    with watched_page(browser) as (pg, problems):
        yield pg, problems
        assert problems == [], problems


def check_lists(pg: Page, node: Node, zone_name: str) -> list[dict[str, Any]]:
    """Every drawn row and lane of the selected zone equals the model's lists."""
    assert debug(pg, "selectedZone") == zone_name
    zone = node.zone(zone_name)
    rows = pg.evaluate(READ_ROWS)
    assert [r["order"] for r in rows] == list(range(node.max_order))
    for row in rows:
        order = row["order"]
        where = f"zone {zone_name} order {order}"
        assert row["nrFree"] == zone.nr_free[order], where
        assert row["shown"] == str(zone.nr_free[order]), where
        expected = [mt for mt in node.migratetypes if zone.free_list(order, mt)]
        assert [lane["migratetype"] for lane in row["lanes"]] == expected, where
        for lane in row["lanes"]:
            full = zone.free_list(order, lane["migratetype"])
            assert lane["length"] == len(full), where
            assert lane["ends"] == ["head", "tail"], where
            blocks = [i for i in lane["items"] if i["kind"] == "block"]
            gaps = [i["count"] for i in lane["items"] if i["kind"] == "gap"]
            # Drawn blocks plus the counted gaps stand for the whole list ...
            assert len(blocks) + sum(gaps) == len(full), where
            # ... both ends are the model's, and every block sits at its position.
            assert blocks[0]["pfn"] == full[0] and blocks[0]["position"] == 0, where
            assert blocks[-1]["pfn"] == full[-1], where
            for b in blocks:
                assert full[b["position"]] == b["pfn"], where
                info = node.page(b["pfn"])
                assert b["flagged"] == (info.hinted or info.reported), (where, b)
    return rows


def test_the_free_lists_are_the_models(live: LiveServer, page: tuple[Page, list[str]]) -> None:
    pg, _ = page
    open_dashboard(pg, live.url)
    assert debug(pg, "protocolVersion") == 1
    assert debug(pg, "role") == "controller"
    assert pg.locator("#status").text_content() == "live"
    node = model(live, pg)
    rows = check_lists(pg, node, "Normal")
    assert any(i["kind"] == "gap" for r in rows for lane in r["lanes"] for i in lane["items"])
    # One zone: no zone picker.
    assert pg.locator("#buddyinfo").is_hidden()
    shot(pg, "free-lists-small")


def test_three_zones_get_a_picker_and_each_zone_its_lists(browser: Browser) -> None:
    with (
        serve(create_app(build_default)) as server,
        watched_page(browser, 1920, 1080) as (pg, problems),
    ):
        open_dashboard(pg, server.url)
        # What `make run` opens is a guest of today: the narration says where the point is.
        assert "This guest runs Linux 6.12 with free page reporting" in (
            pg.text_content("#narration") or ""
        )
        node = model(server, pg)
        table = pg.evaluate(
            """() => [...document.querySelectorAll('#buddyinfo tbody tr')].map((tr) => [
                 tr.dataset.zone, [...tr.querySelectorAll('td.num:not(.total)')].map((td) =>
                 Number(td.textContent.replaceAll(',', '')))])"""
        )
        assert table == [[z.name, list(z.nr_free)] for z in node.zones]
        assert debug(pg, "selectedZone") == "Normal"
        check_lists(pg, node, "Normal")
        pg.click('#buddyinfo button.zone-pick:text-is("DMA32")')
        pg.wait_for_function("() => document.querySelector('#freelists').dataset.zone === 'DMA32'")
        check_lists(pg, node, "DMA32")
        # The memory map shows every zone, one canvas each.
        assert pg.eval_on_selector_all(".map-zone", "els => els.map(e => e.dataset.zone)") == [
            z.name for z in node.zones
        ]
        shot(pg, "three-zones-1920")
        assert problems == []


def colour_checks(pg: Page, node: Node, pfns: list[int]) -> None:
    """The drawn colour of each frame is the one its model state asks for (once a step
    taken by hand has landed on the map: it follows the step's animation)."""
    pg.wait_for_function("() => !window.__buddyscope.mapHolding")
    for pfn in pfns:
        zone = node.zone_of(pfn)
        assert zone is not None
        i = pfn - zone.start_pfn
        state = zone.page_state[i]
        host = node.host.state_of(zone, i)
        mt = zone.get_pageblock_migratetype(i)
        drawn = pg.evaluate(f"() => window.__buddyscope.colourAt('{zone.name}', {pfn})")
        want = pg.evaluate(
            f"() => window.__buddyscope.expectedColour('{zone.name}', {pfn}, {state}, {host}, {mt})"
        )
        assert drawn == want, (pfn, state, host, mt)
        if state == 1:  # allocated frames are dark, free ones light
            assert sum(drawn[:3]) < 3 * 110, (pfn, drawn)
        elif state == 0:
            assert sum(drawn[:3]) > 3 * 190, (pfn, drawn)


def test_memory_map_colours_follow_the_page_states(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url)
    node = model(live, pg)
    zone = node.zone("Normal")
    states = bytes(zone.page_state)
    picks: list[int] = []
    for value in (0, 1):
        found = [i for i, s in enumerate(states) if s == value]
        picks += [zone.start_pfn + i for i in found[:: max(1, len(found) // 25)]]
    colour_checks(pg, node, picks)
    # A step changes frames; the map follows.
    send(pg, "first")
    node = model(live, pg)
    colour_checks(pg, node, picks)


def test_v2_boundary_hinted_marks_and_the_batch(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?scenario=v2-boundary")
    assert debug(pg, "state.config.hinting") == "hinting-v2"
    saw_batch = saw_boundary = False
    for _ in range(14):
        r = send(pg, "step")
        if "error" in r:
            break
        node = model(live, pg)
        hs = node.hinting_state()
        rows = check_lists(pg, node, "Normal")
        # hinted_pages[] per order, as the model counts them
        v2 = hs["zones"]["Normal"]
        for row in rows:
            if v2["hinted_pages"] is not None and row["order"] >= hs["min_order"]:
                assert row["flagged"] == v2["hinted_pages"][row["order"] - hs["min_order"]]
        # The boundary marker sits just before the model's boundary pfn.
        for row in rows:
            for lane in row["lanes"]:
                b = hs["boundaries"].get(row["order"], {}).get(lane["migratetype"], "none")
                if b == "none":
                    assert lane["boundary"] is None, (row["order"], lane)
                    continue
                saw_boundary = True
                assert lane["boundary"] == ("null" if b is None else str(b))
                kinds = [i["kind"] for i in lane["items"]]
                if b is None:
                    assert kinds[-1] == "boundary"
                elif "boundary" in kinds:
                    k = kinds.index("boundary")
                    assert lane["items"][k + 1]["pfn"] == b
                    full = node.zone("Normal").free_list(row["order"], lane["migratetype"])
                    # unhinted in front of it, hinted from it to the tail
                    idx = full.index(b)
                    assert not any(node.page(p).hinted for p in full[:idx])
                    assert all(node.page(p).hinted for p in full[idx:])
        # The "with the host" lane holds the batch, in slot order.
        drawn = pg.eval_on_selector_all(
            "#freelists .host-lane .chip",
            "els => els.map(e => [Number(e.dataset.pfn), Number(e.dataset.order)])",
        )
        assert drawn == [list(b) for b in hs["batch"]][: len(drawn)]
        if hs["batch"]:
            saw_batch = True
            assert len(drawn) == min(32, len(hs["batch"]))
            pfn, order = hs["batch"][0]
            colour_checks(pg, node, [pfn, pfn + (1 << order) - 1])
            shot(pg, "v2-batch-with-the-host")
    assert saw_batch and saw_boundary


def test_reporting_marks_reported_blocks_and_the_list_being_reported(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?scenario=reporting-passes")
    saw_current = saw_reported = False
    for _ in range(10):
        if "error" in send(pg, "step"):
            break
        node = model(live, pg)
        hs = node.hinting_state()
        rows = check_lists(pg, node, "Normal")
        current = [
            (r["order"], lane["migratetype"])
            for r in rows
            for lane in r["lanes"]
            if lane["current"]
        ]
        if hs["state"] == "ACTIVE" and hs["zone"] == "Normal" and hs["list_order"] is not None:
            if node.zone("Normal").free_list(hs["list_order"], hs["list_migratetype"]):
                assert current == [(hs["list_order"], hs["list_migratetype"])]
                saw_current = True
        else:
            assert current == []
        flagged = [
            i for r in rows for lane in r["lanes"] for i in lane["items"] if i.get("flagged")
        ]
        saw_reported = saw_reported or bool(flagged)
        state_machine = pg.eval_on_selector("#st-strategy .machine li.on", "e => e.dataset.state")
        assert state_machine == hs["state"]
    assert saw_current and saw_reported
    shot(pg, "reporting")


def test_hover_links_the_map_and_the_lists(live: LiveServer, page: tuple[Page, list[str]]) -> None:
    pg, _ = page
    open_dashboard(pg, live.url)
    node = model(live, pg)
    zone = node.zone("Normal")
    # A free block drawn in the lists: hovering its frames on the map outlines its chip.
    order, mt = next(
        (o, m)
        for o in range(node.max_order - 1, -1, -1)
        for m in node.migratetypes
        if zone.free_list(o, m)
    )
    pfn = zone.free_list(order, mt)[0]
    point = pg.evaluate(f"() => window.__buddyscope.clientPoint('Normal', {pfn})")
    pg.mouse.move(point["x"], point["y"])
    pg.wait_for_function(f"() => document.querySelector('.chip.hl')?.dataset.pfn === '{pfn}'")
    line = pg.locator("#hover").text_content() or ""
    assert f"order {order}" in line and "buddy" in line and f"{mt} list #1" in line
    # Hovering a chip outlines the block on the map (and says so in the hover line).
    chip = pg.locator(f'#freelists .chip[data-pfn="{pfn}"]')
    chip.hover()
    pg.wait_for_function(
        f"() => document.querySelector('#hover').textContent.includes('0x{pfn:x}')"
    )


def test_the_inspector_and_freeing_by_click(live: LiveServer, page: tuple[Page, list[str]]) -> None:
    pg, _ = page
    open_dashboard(pg, live.url)
    r = send(pg, "alloc", order=3, migratetype="Unmovable")
    assert "ack" in r
    events = debug(pg, "state.events")
    alloc = next(e for e in events if e["kind"] == "alloc")
    pfn, order = alloc["pfn"], alloc["order"]
    point = pg.evaluate(f"() => window.__buddyscope.clientPoint('Normal', {pfn + 1})")
    pg.mouse.click(point["x"], point["y"])
    insp = pg.locator("#inspector")
    insp.wait_for(state="visible")
    assert insp.get_attribute("data-state") == "allocated"
    assert f"0x{pfn + 1:x}" in (insp.text_content() or "")
    assert pg.locator("#inspector input[name=pfn]").input_value() == f"0x{pfn:x}"
    assert pg.locator("#inspector input[name=order]").input_value() == str(order)
    pg.wait_for_function(
        "() => !document.querySelector('#inspector .insp-model').textContent.includes('asking')"
    )
    before = model(live, pg).zone("Normal").nr_free_pages
    pg.click("#inspector button[data-action=free]")
    pg.wait_for_function(
        f"() => window.__buddyscope.state.events.some(e => e.kind === 'free' && e.pfn === {pfn})"
    )
    settle(pg)
    assert model(live, pg).zone("Normal").nr_free_pages == before + (1 << order)
    pg.keyboard.press("Escape")
    insp.wait_for(state="hidden")


def test_state_panel_and_charts(live: LiveServer, page: tuple[Page, list[str]]) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?scenario=v2-threshold")
    for _ in range(12):
        if "error" in send(pg, "step"):
            break
        node = model(live, pg)
        hs = node.hinting_state()
        flags = pg.eval_on_selector_all(
            "#st-strategy .zoneflags tbody tr[data-zone=Normal] td.flag",
            "els => els.map(e => e.textContent)",
        )
        z = hs["zones"]["Normal"]
        assert flags == ["set" if z["requested"] else "·", "set" if z["active"] else "·"]
        nr = pg.get_attribute("#st-strategy .next-run", "data-next-run")
        if hs["next_run"] is None:
            assert nr == ""
        else:
            assert float(nr or "nan") == pytest.approx(hs["next_run"])
    constants = pg.eval_on_selector_all(
        "#st-constants tr[data-constant]",
        "els => els.map(e => [e.dataset.constant, e.querySelector('.kernel').textContent])",
    )
    assert ["hwm", "✓ kernel"] in [[n, k.split(" ·")[0]] for n, k in constants]
    node = model(live, pg)
    z = node.zone("Normal")
    frames = pg.eval_on_selector_all(
        "#st-frames tr[data-state]",
        "els => els.map(e => [e.dataset.state,"
        " Number(e.querySelector('td').textContent.replaceAll(',', ''))])",
    )
    counts = dict(frames)
    states = bytes(z.page_state)
    assert counts["allocated"] == states.count(1)
    assert counts["free"] == states.count(0)
    assert counts["hinted"] == states.count(2)
    host = node.host.stats()
    assert pg.text_content("#st-host dd[data-host=refaults]") == f"{host.refaults:,}"
    # The charts have one sample per step seen.
    pg.evaluate("() => document.querySelector('.charts-panel').scrollIntoView()")
    pg.wait_for_function("() => document.querySelectorAll('.chart canvas').length >= 2")
    assert debug(pg, "stats.snapshots") >= 1


def test_narration_log_and_click_to_seek(live: LiveServer, page: tuple[Page, list[str]]) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?scenario=buddy-basics")
    steps(pg, 3)
    events = debug(pg, "state.events")
    text = pg.text_content("#narration") or ""
    for e in events[:5]:
        assert e["message"] in text
        if e.get("fn"):
            assert e["fn"] in text
    assert pg.text_content("#narration .step-badge") == "step 3"
    # A step with more events than the narration box shows says how many it had, in
    # view (the rest are in the log).
    open_dashboard(pg, live.url, "?scenario=v2-boundary")
    while len(debug(pg, "state.events")) < 20:
        steps(pg, 1)
    count = pg.locator("#narration .ev-count")
    assert count.text_content() == f"{len(debug(pg, 'state.events'))} events"
    box, badge = pg.locator("#narration").bounding_box(), count.bounding_box()
    assert box and badge
    assert box["y"] <= badge["y"] and badge["y"] + badge["height"] <= box["y"] + box["height"]
    open_dashboard(pg, live.url, "?scenario=buddy-basics")
    steps(pg, 3)
    # The log keeps the steps seen; a click goes back to one.
    logged = pg.eval_on_selector_all(
        "#log .log-step", "els => els.map(e => Number(e.dataset.step))"
    )
    assert logged[:3] == [3, 2, 1]
    pg.click('#log .log-head[data-step="1"]')
    pg.wait_for_function(
        "() => window.__buddyscope.step === 1 && window.__buddyscope.renderedStep === 1"
    )
    assert model(live, pg) is not None


def test_a_step_is_animated_and_a_fast_play_jumps(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?scenario=buddy-basics")
    send(pg, "speed", value=1)
    steps(pg, 1)  # a narration-only step; the next one splits a block down to order 0
    pg.evaluate("() => window.__buddyscope.send('step')")
    pg.wait_for_function(
        "() => window.__buddyscope.animating && document.getAnimations().length > 0"
    )
    assert debug(pg, "stats.animated") >= 1
    pg.wait_for_function("() => !window.__buddyscope.animating")
    # Many steps at once: the page does not queue them, it draws the latest state.
    open_dashboard(pg, live.url, "?scenario=small")
    send(pg, "first")
    collapsed = debug(pg, "stats.collapsed")
    send(pg, "play", speed=200)
    pg.wait_for_function("() => !window.__buddyscope.playing")
    settle(pg)
    assert debug(pg, "stats.collapsed") > collapsed
    assert debug(pg, "renderedStep") == debug(pg, "step") == debug(pg, "timelineLength")
    node = model(live, pg)
    check_lists(pg, node, "Normal")


def test_palette_in_css_matches_the_colour_module(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url)
    pairs = pg.evaluate(
        """async () => {
          const { MIGRATETYPE_COLOURS } = await import('/lib/palette.js');
          const css = getComputedStyle(document.documentElement);
          return Object.entries(MIGRATETYPE_COLOURS).map(([mt, c]) =>
            [c, css.getPropertyValue('--mt-' + mt.toLowerCase()).trim()]);
        }"""
    )
    for want, got in pairs:
        assert got.lower() == want.lower()
