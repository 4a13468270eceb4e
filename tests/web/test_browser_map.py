"""The memory map and the inspector against the model: hovering a free frame whose block
lies in the unsent middle of a long list asks the model (debounced, cached per step)
and shows the block, its buddy and its list position; Shift + arrows move a pageblock;
the legend's swatches are the colours the canvas draws; the inspector's kdump note
agrees with its host row, and prints no stray ``null``.  Any console error or warning
fails the test.  Screenshots land in test-results/browser/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from browserkit import debug, model, open_dashboard, send, settle, shot, watched_page
from playwright.sync_api import Browser, Page, expect
from wirehelp import LiveServer

from allocator_model import Node
from backend.protocol import LIST_ENDS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

HOST_NAMES = ("not backed", "resident", "discarded")


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    with watched_page(browser) as (pg, problems):
        yield pg, problems
        assert problems == [], problems


#: A frame inside its 32 x 16 tile (row 8, column 16): on screen a map pixel is about
#: one CSS pixel and mouse positions are whole pixels, so the pointer lands on this
#: frame or a neighbour, never on another tile.
INSIDE = 8 * 32 + 16


def solid_frame(node: Node, want: tuple[int, int], start: int = 0) -> int:
    """A frame whose neighbours (one pixel each way) have the same page state and host
    state: what a click on it opens, give or take a pixel."""
    zone = node.zone("Normal")
    kind = [(zone.page_state[i], node.host.state_of(zone, i)) for i in range(zone.spanned_pages)]
    for i in range(start, zone.spanned_pages - 40):
        if i % 32 in (0, 31) or (i % 512) // 32 in (0, 15):
            continue
        if all(
            kind[j] == want
            for j in (i - 33, i - 32, i - 31, i - 1, i, i + 1, i + 31, i + 32, i + 33)
        ):
            return zone.start_pfn + i
    raise AssertionError(f"no frame in state {want}")


def point(pg: Page, pfn: int) -> dict[str, float]:
    p: dict[str, float] = pg.evaluate(f"() => window.__buddyscope.clientPoint('Normal', {pfn})")
    return p


def marks(pg: Page) -> list[dict[str, Any]]:
    """What the map outlines (hover, buddy, selection)."""
    raw = pg.get_attribute("#memmap", "data-marks")
    return json.loads(raw) if raw else []


def to_end(pg: Page) -> None:
    """Step through the rest of the scenario's workload."""
    for _ in range(200):
        if "error" in send(pg, "step"):
            return
    raise AssertionError("the workload did not end")


def hover_line(pg: Page) -> str:
    return pg.locator("#hover").text_content() or ""


def test_hovering_a_block_in_a_long_lists_middle_shows_block_buddy_and_position(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    asked: list[str] = []
    pg.on("request", lambda r: asked.append(r.url) if "/page/" in r.url else None)
    open_dashboard(pg, live.url, "?scenario=reporting-passes&step=6")
    node = model(live, pg)
    full = node.zone("Normal").free_list(9, "Movable")
    assert len(full) > 2 * LIST_ENDS + 10

    def block_of(url: str) -> int:
        """The block a /page/ request asked about (an order-9 block of the list)."""
        pfn = int(url.rsplit("/", 1)[1])
        return pfn - pfn % 512

    def check(index: int) -> None:
        """The hover line, the map's outlines and the lists' gap for full[index]."""
        pfn = full[index]
        where = f"list #{index + 1} of {len(full)}"
        pg.wait_for_function(
            f"() => document.querySelector('#hover').textContent.includes({where!r})"
        )
        line = hover_line(pg)
        assert f"block 0x{pfn:x} ({pfn}) order 9" in line and "Movable" in line, line
        assert f"buddy 0x{pfn ^ 512:x}" in line, line
        drawn = marks(pg)
        assert {"zone": "Normal", "pfn": pfn, "order": 9, "role": "block"} in drawn
        assert {"zone": "Normal", "pfn": pfn ^ 512, "order": 9, "role": "buddy"} in drawn
        gap = pg.locator('#freelists .lane[data-order="9"] .gap.hl')
        expect(gap).to_have_count(1)
        start, count = (
            int(gap.get_attribute("data-from") or -1),
            int(gap.get_attribute("data-gap") or 0),
        )
        assert start <= index < start + count

    middle = len(full) // 2
    assert LIST_ENDS <= middle < len(full) - LIST_ENDS  # the lists do not send it
    at = point(pg, full[middle] + INSIDE)
    pg.mouse.move(at["x"], at["y"])
    check(middle)
    assert [block_of(u) for u in asked] == [full[middle]]
    # Other frames of the same block: the answer covers them, nothing more is asked
    # (counted below, after answers that take longer than a request would).
    for other in (full[middle] + 3 * 32 + 5, full[middle] + 12 * 32 + 26):
        at = point(pg, other)
        pg.mouse.move(at["x"], at["y"])
        pg.wait_for_function(
            "() => document.querySelector('#hover').textContent"
            f".includes('block 0x{full[middle]:x} ({full[middle]}) order 9 · Movable list "
            f"#{middle + 1} of')"
        )
    # Sweeping across the map asks only where the pointer rests.
    target = len(full) // 2 - 8
    start = point(pg, full[target + 16] + INSIDE)
    end = point(pg, full[target] + INSIDE)
    pg.mouse.move(start["x"], start["y"])
    pg.mouse.move(end["x"], end["y"], steps=20)
    check(target)
    assert len(asked) <= 4, asked
    # Moving on before it rests: nothing asked for the frame passed over.
    passed = full[middle + 4]
    at = point(pg, passed + INSIDE)
    pg.mouse.move(at["x"], at["y"])
    pg.mouse.move(5, 5)
    at = point(pg, full[middle - 3] + INSIDE)
    pg.mouse.move(at["x"], at["y"])
    check(middle - 3)
    assert passed not in [block_of(u) for u in asked], asked
    shot(pg, "hover-middle-of-a-long-list")
    # A new step: the answers were about the last one, the model is asked again.
    before = len(asked)
    assert "ack" in send(pg, "step")
    node = model(live, pg)
    full = node.zone("Normal").free_list(9, "Movable")
    at = point(pg, full[len(full) // 2] + INSIDE)
    pg.mouse.move(at["x"], at["y"])
    check(len(full) // 2)
    assert len(asked) > before


def test_shift_arrows_move_one_pageblock(live: LiveServer, page: tuple[Page, list[str]]) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?scenario=reporting-passes&step=6")
    pageblock = 2 ** debug(pg, "state.config.pageblock_order")
    assert pageblock == 512
    stack = pg.locator('.map-stack[data-zone="Normal"]')
    stack.focus()
    start = int(stack.get_attribute("data-cursor") or -1)

    def cursor_after(key: str) -> int:
        pg.keyboard.press(key)
        return int(stack.get_attribute("data-cursor") or -1)

    assert cursor_after("ArrowRight") == start + 1
    assert cursor_after("Shift+ArrowRight") == start + 1 + pageblock
    assert cursor_after("Shift+ArrowRight") == start + 1 + 2 * pageblock
    assert cursor_after("Shift+ArrowLeft") == start + 1 + pageblock
    columns = pg.evaluate(
        "() => { const c = document.querySelector('.map-stack[data-zone=Normal] .map-base');"
        " return c.width / 32; }"
    )
    assert cursor_after("Shift+ArrowDown") == start + 1 + pageblock + columns * pageblock
    assert f"0x{start + 1 + pageblock + columns * pageblock:x}" in hover_line(pg)
    # The help says so.
    pg.locator("body").click(position={"x": 5, "y": 5})
    pg.keyboard.press("?")
    expect(pg.locator("#help")).to_contain_text("Shift + ← / → one pageblock")
    assert "pageblock of 512 frames" in (stack.get_attribute("aria-label") or "")


def frame_category(state: int, host: int) -> str:
    """frontend/lib/memmap.js frameCategory, for the model's bytes."""
    discarded = host == 2
    return {
        0: "freeDiscarded" if discarded else "free",
        1: "allocatedDiscarded" if discarded else "allocated",
        2: "flaggedDiscarded" if discarded else "flagged",
        3: "isolated",
        4: "pcp",
    }[state]


#: Every map legend swatch: its category, migratetype (tinted ones) and colours.
READ_LEGEND = """() => [...document.querySelectorAll('#legend-map [data-frame]')].flatMap((item) =>
  [...item.querySelectorAll(':scope > .swatch, :scope > .legend-item > .swatch')].map((sw) => {
    const cs = getComputedStyle(sw);
    const colours = (cs.backgroundImage === 'none' ? cs.backgroundColor : cs.backgroundImage)
      .match(/rgba?\\([^)]*\\)/g);
    return {frame: item.dataset.frame, mt: sw.dataset.migratetype ?? null, colours};
  }))"""


def rgb(colour: str) -> tuple[int, int, int]:
    r, g, b = (int(x) for x in re.findall(r"\d+", colour)[:3])
    return r, g, b


def check_legend(pg: Page, node: Node) -> set[tuple[str, str | None]]:
    """Each swatch's colours are the ones drawn for frames of its kind: the checked
    (category, migratetype) pairs."""
    zone = node.zone("Normal")
    mts = node.migratetypes
    # A step taken by hand lands on the map when its animation ends.
    pg.wait_for_function("() => !window.__buddyscope.mapHolding")
    legend = pg.evaluate(READ_LEGEND)
    seen: set[tuple[str, str | None]] = set()
    for sw in legend:
        frames = [
            zone.start_pfn + i
            for i in range(zone.spanned_pages)
            if frame_category(zone.page_state[i], node.host.state_of(zone, i)) == sw["frame"]
            and (sw["mt"] is None or mts[zone.get_pageblock_migratetype(i)] == sw["mt"])
        ]
        if not frames:
            continue
        # Consecutive frames too: both colours of a checker.
        picked = frames[:12] + frames[:: max(1, len(frames) // 30)][:30]
        drawn = {
            tuple(pg.evaluate(f"() => window.__buddyscope.colourAt('Normal', {p})")[:3])
            for p in picked
        }
        swatch = {rgb(c) for c in sw["colours"]}
        assert drawn == swatch, (sw, drawn, swatch)
        seen.add((sw["frame"], sw["mt"]))
    return seen


def test_the_map_legend_shows_the_colours_the_map_draws(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    # Free frames in Movable and Unmovable pageblocks, each in its own tint.
    open_dashboard(pg, live.url, "?scenario=migratetypes")
    to_end(pg)
    node = model(live, pg)
    tinted = pg.eval_on_selector_all(
        "#legend-map [data-frame=free] .swatch", "els => els.map((e) => e.dataset.migratetype)"
    )
    assert {"Movable", "Unmovable", "Reclaimable"} <= set(tinted)
    seen = check_legend(pg, node)
    assert {("free", "Movable"), ("free", "Unmovable"), ("free", "Reclaimable")} <= seen
    shot(pg, "legend-matches-the-map")
    # Reported frames (a checker of two colours), isolated ones, and discarded free ones.
    open_dashboard(pg, live.url, "?scenario=buffer-reuse")
    to_end(pg)
    seen = {frame for frame, _ in check_legend(pg, model(live, pg))}
    assert {"allocated", "flagged", "flaggedDiscarded"} <= seen


#: The inspector's facts (dt -> dd) and its kdump note.
READ_INSPECTOR = """() => {
  const insp = document.querySelector('#inspector');
  const facts = {};
  for (const dt of insp.querySelectorAll(':scope > dl.facts > dt')) {
    facts[dt.textContent] = dt.nextElementSibling.textContent;
  }
  const strays = [...insp.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE)
    .map((n) => n.textContent.trim()).filter(Boolean);
  return {facts, kdump: insp.querySelector('.kdump')?.textContent ?? null, strays,
          text: insp.textContent};
}"""

#: What the note says about reading the frame, for each host state.
DUMP_READS = {
    "not backed": "the host never backed this frame",
    "resident": "the host still backs this frame",
    "discarded": "the host discarded this frame",
}


def inspect(pg: Page, pfn: int) -> dict[str, Any]:
    """Click a frame on the map; the inspector as drawn, with the frame it opened on
    (`pfn`, within a screen pixel of the one aimed at)."""
    at = point(pg, pfn)
    # A canvas pixel row of a tile is 32 frames; a map drawn smaller than its canvas puts
    # more than one canvas pixel under a screen pixel.
    near = pg.evaluate(
        """() => { const c = document.querySelector('.map-zone[data-zone="Normal"] .map-base');
          const r = c.getBoundingClientRect();
          return Math.ceil(33 * Math.max(1, c.height / r.height, c.width / r.width)); }"""
    )
    pg.mouse.click(at["x"], at["y"])
    pg.wait_for_function(
        "() => Math.abs(Number(document.querySelector('#inspector').dataset.pfn)"
        f" - {pfn}) <= {near} && document.querySelector('#inspector .kdump') !== null"
    )
    got: dict[str, Any] = pg.evaluate(READ_INSPECTOR)
    got["pfn"] = int(pg.get_attribute("#inspector", "data-pfn") or -1)
    return got


def check_kdump(pg: Page, node: Node, pfn: int) -> str:
    """The note and the host row agree with each other and with the model."""
    zone = node.zone("Normal")
    shown = inspect(pg, pfn)
    pfn = shown["pfn"]
    host = HOST_NAMES[node.host.state_of(zone, pfn - zone.start_pfn)]
    assert shown["facts"]["host"] == host
    assert shown["strays"] == [] and "null" not in shown["text"], shown
    info = node.page(pfn)
    if info.head_page_type_value == 0xFFFFFF7F:  # a free buddy page: left out of the dump
        assert "left out of the dump" in shown["kdump"]
        assert not any(s in shown["kdump"] for s in DUMP_READS.values())
    else:
        assert DUMP_READS[host] in shown["kdump"], (host, shown["kdump"])
        for other, says in DUMP_READS.items():
            if other != host:
                assert says not in shown["kdump"]
        if host != "discarded":
            assert "discarded" not in shown["kdump"], shown["kdump"]
    return host


def test_the_inspectors_kdump_note_agrees_with_the_host_row(
    browser: Browser, live: LiveServer
) -> None:
    # A projector: the whole map in view, clear of the toast the workload's end brings.
    with watched_page(browser, 1920, 1080) as (pg, problems):
        kdump_cases(pg, live)
        assert problems == []


def kdump_cases(pg: Page, live: LiveServer) -> None:
    # Hinted pages the host never backed (Hildenbrand's objection, at boot).
    open_dashboard(pg, live.url, "?scenario=hildenbrand")
    to_end(pg)
    node = model(live, pg)
    assert check_kdump(pg, node, solid_frame(node, (2, 0))) == "not backed"
    shot(pg, "inspector-kdump-not-backed")
    # Hinted pages the host discarded, and allocated ones it still backs.
    open_dashboard(pg, live.url, "?scenario=v2-boundary")
    to_end(pg)
    node = model(live, pg)
    hosts = {check_kdump(pg, node, solid_frame(node, want)) for want in ((2, 2), (1, 1))}
    assert hosts == {"discarded", "resident"}
    # A reported page keeps the buddy page type: left out of the dump.
    open_dashboard(pg, live.url, "?scenario=buffer-reuse")
    to_end(pg)
    node = model(live, pg)
    assert check_kdump(pg, node, solid_frame(node, (2, 0))) == "not backed"


def test_a_free_chip_opens_the_inspector_without_a_stray_null(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, "?scenario=reporting-passes&step=6")
    node = model(live, pg)
    full = node.zone("Normal").free_list(9, "Movable")
    pg.click(f'#freelists .chip[data-pfn="{full[0]}"]')
    pg.wait_for_function(
        f"() => document.querySelector('#inspector').dataset.pfn === '{full[0]}'"
        " && document.querySelector('#inspector .kdump') !== null"
    )
    shown = pg.evaluate(READ_INSPECTOR)
    assert shown["strays"] == [] and "null" not in shown["text"], shown
    assert shown["facts"]["list"].startswith(f"Movable order 9: #1 of {len(full)}")
    buddy = full[0] ^ 512
    assert shown["facts"]["buddy"].startswith(f"0x{buddy:x} = 0x{full[0]:x} ^ 0x200")
    # The model's answer places the block too (its list position).
    expect(pg.locator("#inspector .insp-model")).to_contain_text(
        f"Movable order 9: #1 of {len(full)} from the head"
    )
    shot(pg, "inspector-chip")
    # A block in the middle: the lists do not place it, the model's answer does.
    middle = full[len(full) // 2]
    inspect(pg, middle + INSIDE)
    expect(pg.locator("#inspector .insp-model")).to_contain_text(
        f"Movable order 9: #{len(full) // 2 + 1} of {len(full)} from the head"
    )
    settle(pg)
