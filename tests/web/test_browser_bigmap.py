"""The memory map of a zone over 4 GiB (2 Mi frames, 8 GiB): its canvas stays within the
pixel budget, each pixel standing for 4 frames, and its caption says so; hovering a pixel
names its first frame and the frames it covers; after steps that free and report blocks,
every pixel the steps changed shows the rule of lib/memmap.js ``pixelCell``, worked out
here again from the model's frames.  Any console error or warning fails the test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from browserkit import model, open_dashboard, send, shot, watched_page
from playwright.sync_api import Browser, Page
from wirehelp import LiveServer

from allocator_model import Node

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

#: lib/memmap.js PIXEL_BUDGET: the most pixels a zone's canvas has.
PIXEL_BUDGET = 1 << 20
PAGES = 1 << 21
#: Frames per pixel for PAGES frames (the smallest power of 4 within the budget).
FRAMES = 4
#: The tile of a pageblock (512 frames) in pixels: 128 pixels, 16 x 8.
TILE_W, TILE_H = 16, 8
BASE = '#memmap .map-zone[data-zone="Normal"]'


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    with watched_page(browser) as (pg, problems):
        yield pg, problems
        assert problems == [], problems


def pixel_of(node: Node, pfn: int) -> tuple[int, int]:
    """The zone-relative frames [a, b) of the pixel holding ``pfn``."""
    zone = node.zone("Normal")
    first = pfn - pfn % FRAMES
    return max(first, zone.start_pfn) - zone.start_pfn, min(
        first + FRAMES, zone.start_pfn + zone.spanned_pages
    ) - zone.start_pfn


def expected_cell(node: Node, a: int, b: int) -> tuple[int, int]:
    """(page state, host backing) a pixel of frames [a, b) is drawn as: any flagged frame
    makes it flagged (discarded if one is), else any discarded frame makes it the most
    common state of its discarded frames, else the most common (state, host); ties to the
    lower state, then the lower host."""
    zone = node.zone("Normal")
    host = node.host.backing["Normal"]
    pairs = [(zone.page_state[i], host[i]) for i in range(a, b)]
    flagged = [h for s, h in pairs if s == 2]
    if flagged:
        return 2, 2 if 2 in flagged else 1
    pool = [p for p in pairs if p[1] == 2] or pairs
    counts = Counter(pool)
    return min(counts, key=lambda c: (-counts[c], c))


def frames_of(node: Node) -> tuple[bytes, bytes]:
    return bytes(node.zone("Normal").page_state), bytes(node.host.backing["Normal"])


def changed_pixels(before: tuple[bytes, bytes], after: tuple[bytes, bytes]) -> list[int]:
    """The first frames (zone-relative, = pfn here) of the pixels whose frames changed."""
    changed: set[int] = set()
    for old, new in zip(before, after, strict=True):
        for c in range(0, len(old), 4096):
            if old[c : c + 4096] != new[c : c + 4096]:
                changed.update(i - i % FRAMES for i in range(c, c + 4096) if old[i] != new[i])
    return sorted(changed)


CHECK = """(pixels) => pixels.flatMap(([pfn, state, host, mt]) => {
  const drawn = window.__buddyscope.colourAt('Normal', pfn).join(',');
  const want = window.__buddyscope.expectedColour('Normal', pfn, state, host, mt).join(',');
  return drawn === want ? [] : [[pfn, state, host, drawn, want]];
})"""


def test_a_map_over_4_gib_draws_4_frames_a_pixel_and_follows_steps(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url, f"?scenario=reporting-passes&pages={PAGES}")
    node = model(live, pg)
    zone = node.zone("Normal")
    assert (zone.start_pfn, zone.spanned_pages) == (0, PAGES)

    canvas = pg.locator(f"{BASE} canvas.map-base")
    width = int(canvas.get_attribute("width") or 0)
    height = int(canvas.get_attribute("height") or 0)
    assert PAGES // FRAMES <= width * height <= PIXEL_BUDGET, (width, height)
    assert width % TILE_W == 0 and height % TILE_H == 0
    caption = pg.locator(f"{BASE} .map-caption").text_content() or ""
    assert caption.endswith("· 1 pixel = 4 frames"), caption

    # Hover: the pixel under the pointer (worked out here from where the event landed)
    # is named by its first frame, and the line says which frames it covers.
    pg.evaluate(
        "() => document.querySelector('#memmap').addEventListener('mousemove',"
        " (e) => { window.__at = [e.clientX, e.clientY]; })"
    )
    allocated = next(
        i
        for i in range(PAGES // 2, PAGES)
        if all(zone.page_state[i + d] == 1 for d in range(-600, 600))
    )
    at = pg.evaluate(f"() => window.__buddyscope.clientPoint('Normal', {allocated})")
    pg.mouse.move(at["x"], at["y"])
    pg.wait_for_function("() => window.__at !== undefined")
    cx, cy = pg.evaluate("() => window.__at")
    box = canvas.bounding_box()
    assert box
    x = int((cx - box["x"]) / box["width"] * width)
    y = int((cy - box["y"]) / box["height"] * height)
    tile = (y // TILE_H) * (width // TILE_W) + x // TILE_W
    pfn = tile * 512 + ((y % TILE_H) * TILE_W + x % TILE_W) * FRAMES
    assert abs(pfn - allocated) < 600, (pfn, allocated)
    line = (
        f"pfn 0x{pfn:x} ({pfn}) · allocated · host: resident"
        f" · map pixel: 4 frames, 0x{pfn:x}\u20130x{pfn + 3:x}"
    )
    pg.wait_for_function(f"() => document.querySelector('#hover').textContent.endsWith({line!r})")

    # Steps: 100 order-9 blocks freed, then a reporting pass flags and discards them.
    before = frames_of(node)
    seen_flagged = False
    for _ in range(12):
        assert "ack" in send(pg, "step")
        pg.wait_for_function("() => !window.__buddyscope.mapHolding")
        node = model(live, pg)
        after = frames_of(node)
        pixels = []
        for first in changed_pixels(before, after):
            state, host = expected_cell(node, *pixel_of(node, first))
            seen_flagged |= state == 2
            pixels.append(
                [first, state, host, node.zone("Normal").get_pageblock_migratetype(first)]
            )
        assert pg.evaluate(CHECK, pixels) == []
        before = after
        if seen_flagged:
            break
    assert seen_flagged, "the steps reported no block"
    shot(pg, "bigmap-8gib")
