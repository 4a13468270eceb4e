"""The live host view in a real browser: this machine's own /proc/buddyinfo (read by the
test as well, the counts compared where they held still), a fake /proc and /sys tree
shown exactly (counts per order and migratetype, watermarks, the unusable free space
index, page reporting parameters with this build's own as optional rows), a machine
that lacks the files (the server's messages in the page), a server with the view turned
off, and the way back to the simulated session.  Any console error or warning fails
the test; screenshots land in test-results/browser/.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browserkit import debug, open_dashboard, send, shot, watched_page
from playwright.sync_api import Browser, Page, expect
from test_browser_load import READ_BUDDYINFO, SWITCHED
from test_live_view import fake_root
from wirehelp import serve

from allocator_model.kernel.fragmentation import unusable_free_index
from allocator_model.sources.builtin import build_small
from allocator_model.sources.kpageflags import KINDS, REPORTED_CODE
from allocator_model.sources.live import read_live
from allocator_model.sources.machineread import read_seed
from allocator_model.sources.procfs import parse_buddyinfo, parse_pagetypeinfo
from backend.app import create_app
from backend.session import Settings

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

READ_ZONES = """() => Object.fromEntries([...document.querySelectorAll('#live .live-bi tbody tr')]
  .map((tr) => [tr.dataset.zone, [...tr.querySelectorAll('td[data-order]')]
  .map((td) => Number(td.textContent.replaceAll(',', '')))]))"""

READ_SHOWN = (
    """() => ({seq: Number(document.querySelector('#live').dataset.seq),
  time: Number(document.querySelector('#live').dataset.time), zones: ("""
    + READ_ZONES
    + """)()})"""
)

READ_LISTS = """() => { const t = document.querySelector('#live table.live-lists');
  return {zone: t.dataset.zone, rows: [...t.querySelectorAll('tbody tr')].map((tr) => ({
    order: Number(tr.dataset.order), nrFree: Number(tr.dataset.nrFree),
    types: Object.fromEntries([...tr.querySelectorAll('td[data-migratetype]')]
      .map((td) => [td.dataset.migratetype, Number(td.dataset.count)]))}))}; }"""

READ_UNUSABLE = """() => { const t = document.querySelector('#live table.unusable');
  return Object.fromEntries(t.dataset.zones.split(',').map((z) => [z,
    [...t.querySelectorAll(`td[data-zone="${z}"]`)].map((td) => Number(td.dataset.value))])); }"""


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    with watched_page(browser) as (pg, problems):
        yield pg, problems
        assert problems == [], problems


def server(**settings: Any) -> Any:
    """The small scenario's app, its live view reading ``settings``' root."""
    return serve(create_app(build_small, settings=Settings(**settings)))


def enter_live(pg: Page) -> None:
    pg.click("#btn-live")
    expect(pg.locator("#btn-live")).to_have_attribute("aria-pressed", "true")
    expect(pg.locator("#live")).to_be_visible()
    expect(pg.locator("#views")).to_be_hidden()
    expect(pg.locator(".transport")).to_be_hidden()


def wait_reading(pg: Page, after_seq: int = 0) -> dict[str, Any]:
    pg.wait_for_function(
        f"() => Number(document.querySelector('#live').dataset.seq) > {after_seq}", timeout=15_000
    )
    shown: dict[str, Any] = pg.evaluate(READ_SHOWN)
    return shown


def proc_buddyinfo() -> dict[str, list[int]]:
    rows = parse_buddyinfo(Path("/proc/buddyinfo").read_text())
    return {r.zone: list(r.counts) for r in rows if r.node == rows[0].node}


def test_this_machine_live_and_back_to_the_simulation(page: tuple[Page, list[str]]) -> None:
    pg, _ = page
    # This machine's counts only: its /proc/kpageflags takes seconds to read on a busy
    # machine (the frame map is tested on the recording of this VM below).
    with server(live_frames=False) as live:
        open_dashboard(pg, live.url)
        sid, step = debug(pg, "session"), debug(pg, "step")
        enter_live(pg)
        # The page's reading lies between two reads of the file by the test: a zone that
        # did not change between them must be shown exactly; every zone must be there
        # with every order.  Counts move on a busy machine, so look until one held still.
        compared: list[str] = []
        for _ in range(10):
            before, t0 = proc_buddyinfo(), time.time()
            first = wait_reading(pg)
            since = max(t0, first["time"])
            pg.wait_for_function(
                f"() => Number(document.querySelector('#live').dataset.time) > {since}",
                timeout=15_000,
            )
            shown = pg.evaluate(READ_SHOWN)
            after = proc_buddyinfo()
            assert {z: len(c) for z, c in shown["zones"].items()} == {
                z: len(c) for z, c in after.items()
            }
            compared = [z for z in after if before[z] == after[z]]
            for z in compared:
                assert shown["zones"][z] == after[z], z
            if compared:
                break
        assert compared, "no zone of /proc/buddyinfo held still for a second in ten tries"
        # The unusable index of each zone is the kernel's formula on the counts shown.
        unusable = pg.evaluate(READ_UNUSABLE)
        shown = pg.evaluate(READ_SHOWN)  # the same reading as the table just read
        assert unusable == {
            z: [unusable_free_index(c, k) for k in range(len(c))] for z, c in shown["zones"].items()
        }
        if os.access("/proc/pagetypeinfo", os.R_OK):
            types = parse_pagetypeinfo(Path("/proc/pagetypeinfo").read_text()).migratetypes
            lists = pg.evaluate(READ_LISTS)
            assert all(list(r["types"]) == list(types) for r in lists["rows"])
        else:
            expect(pg.locator("#live .live-note")).to_contain_text("pagetypeinfo")
        shot(pg, "live-this-machine")
        # The simulation's keys wait while this machine is shown.
        pg.keyboard.press("ArrowLeft")
        pg.click("#live .live-back")
        expect(pg.locator("#live")).to_be_hidden()
        expect(pg.locator("#views")).to_be_visible()
        expect(pg.locator("#btn-live")).to_have_attribute("aria-pressed", "false")
        expect(pg.locator("#btn-live")).to_be_focused()
        assert "ack" in send(pg, "ping")  # answered after anything the key might have sent
        assert debug(pg, "session") == sid and debug(pg, "step") == step
        pg.keyboard.press("ArrowLeft")
        pg.wait_for_function(f"() => window.__buddyscope.step === {step - 1}")


def test_a_machine_is_shown_exactly(page: tuple[Page, list[str]], tmp_path: Path) -> None:
    pg, _ = page
    root = fake_root(tmp_path)
    reading = read_live(str(root))
    with server(live_root=str(root), live_interval_s=0.2) as live:
        open_dashboard(pg, live.url)
        enter_live(pg)
        shown = wait_reading(pg)
        counts = {r["zone"]: list(r["counts"]) for r in reading.buddyinfo}
        assert shown["zones"] == counts
        # A second reading follows on its own.
        wait_reading(pg, shown["seq"])
        expect(pg.locator("#live .live-messages")).to_be_hidden()
        assert reading.pagetypeinfo is not None
        for zone in counts:
            pg.click(f'#live button.zone-pick:text-is("{zone}")')
            pg.wait_for_function(
                f"() => document.querySelector('#live table.live-lists').dataset.zone === '{zone}'"
            )
            lists = pg.evaluate(READ_LISTS)
            assert [r["nrFree"] for r in lists["rows"]] == counts[zone]
            for row in lists["rows"]:
                assert row["types"] == {
                    f["migratetype"]: f["counts"][row["order"]]
                    for f in reading.pagetypeinfo["free"]
                    if f["zone"] == zone
                }, (zone, row["order"])
        unusable = pg.evaluate(READ_UNUSABLE)
        assert unusable == {
            z: [unusable_free_index(c, k) for k in range(len(c))] for z, c in counts.items()
        }
        marks = pg.locator("#live .live-watermarks .wm")
        expect(marks).to_have_count(len(reading.zoneinfo))
        for z in reading.zoneinfo:
            mark = pg.locator(f'#live .live-watermarks .wm[data-zone="{z.zone}"]')
            expect(mark).to_have_attribute("data-free", str(z.free))
            expect(mark.locator(".wm-scale")).to_have_text(
                f"min {z.min:,} · low {z.low:,} · high {z.high:,}"
            )
        params = pg.locator("#live .live-params tr")
        expect(params).to_have_count(2)
        expect(params.nth(0)).to_have_attribute("data-param", "page_reporting_order")
        expect(params.nth(0)).to_have_attribute("data-optional", "0")
        expect(params.nth(0).locator("td.num")).to_have_text("9")
        expect(params.nth(1)).to_have_attribute("data-param", "reported_kib")
        expect(params.nth(1)).to_have_attribute("data-optional", "1")
        expect(params.nth(1)).to_contain_text("optional")
        shot(pg, "live-fake-machine")


def test_a_machine_without_the_files_says_so(page: tuple[Page, list[str]], tmp_path: Path) -> None:
    pg, _ = page
    (tmp_path / "proc").mkdir()
    counts = [5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 1]
    (tmp_path / "proc" / "buddyinfo").write_text(
        "Node 0, zone   Normal " + "".join(f"{n:6d} " for n in counts) + "\n"
    )
    messages = read_live(str(tmp_path)).messages
    assert len(messages) == 4  # no pagetypeinfo, zoneinfo (so no kpageflags), page_reporting
    with server(live_root=str(tmp_path), live_interval_s=0.2) as live:
        open_dashboard(pg, live.url)
        enter_live(pg)
        shown = wait_reading(pg)
        assert shown["zones"] == {"Normal": counts}
        expect(pg.locator("#live .live-messages li")).to_have_text(messages)
        expect(pg.locator("#live .live-note")).to_contain_text("/proc/pagetypeinfo does not exist")
        expect(pg.locator("#live .live-watermarks")).to_have_text("needs /proc/zoneinfo")
        expect(pg.locator("#live .live-reporting")).to_contain_text("none on this machine")
        expect(pg.locator("#live .live-frames-note")).to_have_text(
            f"The map of this machine's frames is not shown: {messages[2]}"
        )
        lists = pg.evaluate(READ_LISTS)
        assert [r["types"] for r in lists["rows"]] == [{"all types": n} for n in counts]
        shot(pg, "live-missing-files")


def test_a_server_with_the_view_turned_off_says_so(page: tuple[Page, list[str]]) -> None:
    pg, _ = page
    with server(live=False) as live:
        open_dashboard(pg, live.url)
        enter_live(pg)
        expect(pg.locator("#live .live-messages li")).to_have_text(
            ["the live host view is turned off on this server"]
        )
        expect(pg.locator("#live .live-when")).to_have_text("off")


READ_FRAMES = """() => { const c = document.querySelector('#live canvas.live-framemap');
  const panel = document.querySelector('#live .live-frames');
  return {mapSeq: Number(panel.dataset.mapSeq), frames: Number(c.dataset.frames),
    fpp: Number(c.dataset.fpp), reportedPixels: Number(c.dataset.reportedPixels),
    legend: Object.fromEntries([...panel.querySelectorAll('.live-kind')]
      .map((k) => [k.dataset.kind, Number(k.dataset.frames)])),
    orders: Object.fromEntries([...panel.querySelectorAll('.live-frame-orders-table td')]
      .map((td) => [`${td.dataset.zone}:${td.closest('tr').dataset.order}`,
        [Number(td.dataset.free), Number(td.dataset.reported)]])),
    points: Number(panel.querySelector('.live-reported-chart').dataset.points)}; }"""


def reported_pixels(kinds: bytes, fpp: int) -> int:
    """Pixels of ``fpp`` frames holding at least one page of a reported block."""
    return sum(1 for p in range(0, len(kinds), fpp) if max(kinds[p : p + fpp]) >= REPORTED_CODE)


def wait_map(pg: Page, after_seq: int = 0) -> dict[str, Any]:
    pg.wait_for_function(
        f"() => Number(document.querySelector('#live .live-frames').dataset.mapSeq) > {after_seq}",
        timeout=60_000,
    )
    shown: dict[str, Any] = pg.evaluate(READ_FRAMES)
    return shown


def test_this_vm_recorded_frame_by_frame(page: tuple[Page, list[str]], vm618_root: Path) -> None:
    """The recording of the 6.18 VM (6,553,600 frames): the map aggregates 32 frames per
    pixel and keeps every pixel holding a reported frame reported; the blocks per order
    are the ones found in the file; a block the kernel then reports arrives as a diff."""
    pg, _ = page
    snap = read_live(str(vm618_root))
    assert snap.frames is not None
    reading = snap.frames
    with server(live_root=str(vm618_root), live_interval_s=0.2) as live:
        open_dashboard(pg, live.url)
        enter_live(pg)
        shown = wait_map(pg)
        assert (shown["frames"], shown["fpp"]) == (6_553_600, 32)
        assert shown["reportedPixels"] == reported_pixels(reading.kinds, 32)
        totals = {k: sum(z.kinds[k] for z in reading.zones) for k in KINDS}
        assert shown["legend"] == totals and totals["reported"] == 1_064_048
        for z in reading.zones:
            for order, (free, rep) in enumerate(zip(z.free, z.reported, strict=True)):
                assert shown["orders"][f"{z.zone}:{order}"] == [free, rep]
        # Where /proc/buddyinfo (read just after the file) counts otherwise, it says so:
        # the quiet zones agree, Normal moved during the read.
        normal = pg.locator('#live .live-frame-orders-table td[data-zone="Normal"]')
        expect(normal.nth(0)).to_have_text("1,729 [27,705]")
        expect(
            pg.locator("#live .live-frame-orders-table td[data-zone='DMA32'] .live-buddyinfo-count")
        ).to_have_count(0)
        assert shown["points"] >= 1
        expect(pg.locator("#live .live-upstream")).to_contain_text(
            "Only page_reporting_order is upstream; free_bitmap_enable, max_waiting_mib"
        )
        expect(pg.locator("#live .live-frames-note")).to_contain_text(
            "6,553,600 frames, 32 per pixel"
        )
        box = pg.locator("#live canvas.live-framemap").bounding_box()
        assert box is not None
        pg.mouse.move(
            box["x"] + 1.5, box["y"] + 1.5
        )  # inside the border: pixel 0: pfns 0-31, firmware (reserved)
        expect(pg.locator("#live .live-frame-hover")).to_have_text(
            "pfn 0x0\u20130x1f (DMA): reserved 32"
        )
        shot(pg, "live-vm618-frames")
        # The kernel reports one more free block (order >= 5, so its own pixels only).
        pfn, order = next(
            (p, o)
            for p, o, r in zip(
                reading.block_pfn, reading.block_order, reading.block_reported, strict=True
            )
            if o >= 5 and not r
        )
        path = vm618_root / "proc" / "kpageflags"
        with path.open("r+b") as f:
            f.seek(pfn * 8)
            word = int.from_bytes(f.read(8), "little") | 1 << 3  # KPF_UPTODATE = PG_reported
            f.seek(pfn * 8)
            f.write(word.to_bytes(8, "little"))
        want = shown["reportedPixels"] + (1 << order) // 32
        pg.wait_for_function(
            "() => Number(document.querySelector('#live canvas.live-framemap')"
            f".dataset.reportedPixels) === {want}",
            timeout=60_000,
        )
        assert wait_map(pg)["legend"]["reported"] == totals["reported"] + (1 << order)
        # "open as a session": the machine as it is now (that block reported too) becomes
        # a session the page switches to, its free lists the frames' own.
        old = pg.evaluate("window.__buddyscope.session")
        seed = read_seed(str(vm618_root))
        button = pg.locator("#live button.live-seed")
        expect(button).to_be_enabled()
        expect(button).to_have_attribute("title", re.compile("this machine's now"))
        button.click()
        pg.wait_for_function(SWITCHED, arg=[old, "machine"], timeout=60_000)
        expect(pg.locator("#live")).to_be_hidden()
        fact = pg.locator("#source-fact")
        expect(fact).to_have_attribute("data-kind", "machine")
        expect(fact.locator("summary")).to_have_text("this machine, frame by frame")
        per_order = {}
        for z in seed.zones:
            counts = [0] * seed.max_order
            for k in z.block_order:
                counts[k] += 1
            per_order[z.name] = counts
        pg.wait_for_function(
            "(want) => { const rows = document.querySelectorAll('#buddyinfo tbody tr');"
            " return [...rows].map((tr) => tr.dataset.zone).join() === want; }",
            arg=",".join(per_order),
        )
        drawn = pg.evaluate(READ_BUDDYINFO)
        assert drawn == per_order


def test_a_container_gets_the_counts_and_says_why_not_the_map(
    page: tuple[Page, list[str]], vm618_root: Path
) -> None:
    pg, _ = page
    (vm618_root / "proc" / "kpageflags").write_bytes(b"")  # masked, as container runtimes do
    with server(live_root=str(vm618_root), live_interval_s=0.2) as live:
        open_dashboard(pg, live.url)
        enter_live(pg)
        shown = wait_reading(pg)
        assert shown["zones"]["DMA32"][-1] == 753  # the counts are all there
        note = pg.locator("#live .live-frames-note")
        expect(note).to_contain_text("The map of this machine's frames is not shown:")
        expect(note).to_contain_text("reads as empty: a container runtime masks it")
        expect(pg.locator("#live canvas.live-framemap")).to_be_hidden()
