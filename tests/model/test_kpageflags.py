"""/proc/kpageflags read frame by frame: free blocks and their orders recovered from
buddy runs, reported heads (KPF_UPTODATE = PG_reported), frames by kind, the change map
between readings, and every way the file can be missing.  Bits from
include/uapi/linux/kernel-page-flags.h; what sets them from fs/proc/page.c
stable_page_flags() and mm/util.c set_ps_flags() (Linux 6.18)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from array import array
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kpfkit import BUDDY, REPORTED, blocks, frames

from allocator_model.sources import kpageflags as kpf
from allocator_model.sources import kpagereader as kpr
from allocator_model.sources.kpageflags import KINDS, ZoneSpan, changed_chunks, count, derive
from allocator_model.sources.live import format_text, main, read_live
from allocator_model.sources.procfs import parse_buddyinfo


def test_buddy_runs_become_aligned_blocks() -> None:
    # pfn 3 (order 0), 4..7 (order 2), 8..15 (order 3) are one run; 32..95 is order 5 at
    # 32 then order 5 at 64; 128..1151 is one order-10 block... capped at max_order 9.
    raw = frames(2048, {(3, 16): BUDDY, (32, 96): BUDDY, (1024, 2048): BUDDY})
    reading = derive(raw, [ZoneSpan(0, "Normal", 0, 2048)], max_order=9)
    assert blocks(reading) == [
        (3, 0, 0), (4, 2, 0), (8, 3, 0), (32, 5, 0), (64, 5, 0), (1024, 9, 0), (1536, 9, 0),
    ]  # fmt: skip
    assert (
        reading.kinds[3:16]
        == bytes([kpf.FREE_CODE]) + bytes([kpf.FREE_CODE + 2]) * 4 + bytes([kpf.FREE_CODE + 3]) * 8
    )  # the map shows each free page's block order
    with pytest.raises(ValueError, match="max_order 32 does not fit"):
        derive(raw, [ZoneSpan(0, "Normal", 0, 2048)], max_order=32)
    zone = reading.zones[0]
    assert zone.free == [1, 0, 1, 1, 0, 2, 0, 0, 0, 2]
    assert zone.free_pages == 13 + 64 + 1024
    assert zone.kinds["free"] == zone.free_pages and zone.kinds["other"] == 2048 - zone.free_pages


def test_a_reported_head_starts_a_block_and_marks_all_its_pages() -> None:
    # 0..1023 free; 512 is a reported head: two order-9 blocks, not one order-10.
    raw = frames(1024, {(0, 1024): BUDDY, (512, 513): REPORTED})
    reading = derive(raw, [ZoneSpan(0, "Normal", 0, 1024)])
    assert blocks(reading) == [(0, 9, 0), (512, 9, 1)]
    zone = reading.zones[0]
    assert zone.reported == [0] * 9 + [1, 0] and zone.reported_pages == 512
    assert reading.kinds[:512] == bytes([kpf.FREE_CODE + 9]) * 512  # free, order 9
    assert reading.kinds[512:] == bytes([kpf.REPORTED_CODE + 9]) * 512
    # An order-10 block whose head is reported: one block, every page reported.
    whole = derive(frames(1024, {(0, 1024): BUDDY, (0, 1): REPORTED}), [ZoneSpan(0, "N", 0, 1024)])
    assert blocks(whole) == [(0, 10, 1)] and whole.reported_pages == 1024


def test_uptodate_outside_free_blocks_is_page_cache_not_reporting() -> None:
    uptodate_lru = 1 << kpf.KPF_UPTODATE | 1 << kpf.KPF_LRU
    reading = derive(frames(16, {(0, 8): uptodate_lru}), [ZoneSpan(0, "N", 0, 16)])
    assert reading.reported_pages == 0 and reading.zones[0].kinds["file"] == 8


def test_runs_are_cut_at_zone_boundaries() -> None:
    raw = frames(4096, {(1024, 3072): BUDDY})
    spans = [ZoneSpan(0, "DMA", 1, 2047), ZoneSpan(0, "DMA32", 2048, 2048)]
    reading = derive(raw, spans)
    assert blocks(reading) == [(1024, 10, 0), (2048, 10, 0)]
    assert [z.free_pages for z in reading.zones] == [1024, 1024]
    assert [(z.start_pfn, z.end_pfn) for z in reading.zones] == [(1, 2048), (2048, 4096)]


@pytest.mark.parametrize(
    ("flags", "kind"),
    [
        (1 << kpf.KPF_ANON | 1 << kpf.KPF_LRU | 1 << kpf.KPF_MMAP, "anon"),
        (1 << kpf.KPF_LRU, "file"),
        (1 << kpf.KPF_MMAP, "file"),
        (1 << kpf.KPF_SLAB, "slab"),
        (1 << kpf.KPF_THP | 1 << kpf.KPF_ANON, "thp"),
        (1 << kpf.KPF_HUGE, "hugetlb"),
        (1 << kpf.KPF_PGTABLE, "pagetable"),
        (1 << kpf.KPF_RESERVED, "reserved"),
        (1 << kpf.KPF_OFFLINE, "offline"),
        (1 << kpf.KPF_OFFLINE | 1 << kpf.KPF_THP, "offline"),
        (BUDDY | 1 << kpf.KPF_RESERVED, "free"),
        (1 << 2, "other"),  # KPF_REFERENCED alone
    ],
)
def test_frames_by_kind(flags: int, kind: str) -> None:
    reading = derive(frames(4, {(1, 2): flags}), [ZoneSpan(0, "N", 0, 4)])
    assert reading.kinds[1] == (kpf.FREE_CODE if kind == "free" else KINDS.index(kind))
    expected = dict.fromkeys(KINDS, 0) | {"other": 3}  # the three frames with no flags
    expected[kind] += 1
    assert reading.zones[0].kinds == expected


def reference_blocks(
    flags: list[int], spans: list[ZoneSpan], max_order: int
) -> list[tuple[int, int, int]]:
    """The cut the module docstring states, a frame and a block at a time: within each
    zone, every run of KPF_BUDDY frames, started over at each reported head, is cut into
    the largest aligned blocks that fit (at most max_order)."""
    out = []
    for span in spans:
        pfn = span.start_pfn
        while pfn < span.end_pfn:
            if not flags[pfn] & BUDDY:
                pfn += 1
                continue
            end = pfn + 1  # the segment: up to the run's end or the next reported head
            while end < span.end_pfn and flags[end] & BUDDY and flags[end] != REPORTED:
                end += 1
            reported = int(flags[pfn] == REPORTED)
            while pfn < end:
                order = max_order
                while pfn % (1 << order) or pfn + (1 << order) > end:
                    order -= 1
                out.append((pfn, order, reported))
                pfn += 1 << order
                reported = 0
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from([0, 0, BUDDY, BUDDY, BUDDY, REPORTED, 1 << kpf.KPF_UPTODATE]),
             min_size=1, max_size=300),
    st.integers(0, 4),
    st.lists(st.integers(1, 299), max_size=3, unique=True),
)  # fmt: skip
def test_blocks_are_the_block_by_block_cut(
    runs: list[int], max_order: int, edges: list[int]
) -> None:
    """Whatever the frames, the zones and max_order, ``derive`` finds the blocks of the
    block-by-block cut, paints each page with its block's order, and ``count`` counts
    what ``derive`` does."""
    flags = [f for f in runs for _ in range(3)]  # runs of three frames, cut anywhere
    n = len(flags)
    cuts = sorted({0, *(e for e in edges if e < n), n})
    spans = [ZoneSpan(0, f"Z{k}", a, b - a) for k, (a, b) in enumerate(itertools.pairwise(cuts))]
    spans = spans[:1] + spans[2:]  # the second zone (if any) is left out: frames in none
    raw = array("Q", flags).tobytes()
    reading = derive(raw, spans, max_order)
    expected = reference_blocks(flags, spans, max_order)
    assert blocks(reading) == expected
    painted = bytearray(k if k != kpf.FREE else kpf.FREE for k in reading.kinds)
    for pfn, order, rep in expected:
        code = (kpf.REPORTED_CODE if rep else kpf.FREE_CODE) + order
        assert painted[pfn : pfn + (1 << order)] == bytes([code]) * (1 << order)
    outside = [p for p in range(n) if not any(s.start_pfn <= p < s.end_pfn for s in spans)]
    assert all(reading.kinds[p] == (kpf.FREE if flags[p] & BUDDY else kpf.OTHER) for p in outside)
    assert count(raw, spans, max_order).zones == reading.zones


def test_counts_alone_are_the_readings_counts(vm618_shared: Path) -> None:
    raw = (vm618_shared / "proc" / "kpageflags").read_bytes()
    spans = [
        ZoneSpan(0, "DMA", 1, 4095), ZoneSpan(0, "DMA32", 4096, 1044480),
        ZoneSpan(0, "Normal", 1048576, 5505024),
    ]  # fmt: skip
    assert count(raw, spans).zones == derive(raw, spans).zones


def test_windows_derive_as_the_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows start on multiples of 2**max_order frames: cutting there changes no block."""
    raw = frames(8192, {(3, 2000): BUDDY, (1024, 1025): REPORTED, (2100, 8000): BUDDY})
    spans = [ZoneSpan(0, "DMA", 1, 4095), ZoneSpan(0, "Normal", 4096, 4096)]
    whole = derive(raw, spans)
    monkeypatch.setattr(kpf, "WINDOW", 1024)
    cut = derive(raw, spans)
    assert blocks(cut) == blocks(whole) and cut.kinds == whole.kinds
    assert [z.kinds for z in cut.zones] == [z.kinds for z in whole.zones]
    assert [(z.free, z.reported) for z in cut.zones] == [(z.free, z.reported) for z in whole.zones]


def test_the_change_map_names_the_chunks_that_changed() -> None:
    before = bytes(10_000)
    after = bytearray(before)
    after[5000] = kpf.ANON
    after[9999] = kpf.FREE
    assert changed_chunks(before, bytes(after), chunk=4096) == [1, 2]
    assert changed_chunks(before, before) == []
    assert changed_chunks(before, bytes(20), chunk=8) == [0, 1, 2]  # sizes differ: all


def test_this_vm_recorded_matches_its_buddyinfo(vm618_root: Path) -> None:
    """The recording of this project's VM (Linux 6.18, free page reporting): the quiet
    zones match /proc/buddyinfo read just after exactly; Normal moved during the read."""
    snap = read_live(str(vm618_root))
    assert not snap.messages and snap.frames is not None
    reading = snap.frames
    assert reading.frames == 6_553_600
    counts = {
        r.zone: list(r.counts)
        for r in parse_buddyinfo((vm618_root / "proc" / "buddyinfo").read_text())
    }
    zones = {z.zone: z for z in reading.zones}
    assert zones["DMA"].free == counts["DMA"] and zones["DMA32"].free == counts["DMA32"]
    # Every free block of DMA32 was reported (this kernel also reports below
    # page_reporting_order); Normal's reported blocks are its order 9 and 10 ones.
    assert zones["DMA32"].reported == counts["DMA32"]
    assert zones["Normal"].reported[9:] == zones["Normal"].free[9:] == [213, 174]
    assert reading.reported_pages == 3840 + 772_848 + 287_360
    for z in reading.zones:
        assert sum(z.kinds.values()) == z.end_pfn - z.start_pfn
        assert z.kinds["free"] + z.kinds["reported"] == z.free_pages
        assert z.kinds["reported"] == z.reported_pages
    assert zones["Normal"].kinds["anon"] == 353_565 and zones["Normal"].kinds["thp"] == 389_974
    text = format_text(snap)
    assert "6,553,600 frames" in text and "753[753]" in text


def test_cli_json_has_the_frame_summary(
    vm618_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--once", "--format", "json", "--root", str(vm618_root)]) == 0
    data = json.loads(capsys.readouterr().out)
    normal = data["frames"]["zones"][2]
    assert normal["zone"] == "Normal" and normal["reported"][9:] == [213, 174]
    assert data["frames"]["kinds"] == list(KINDS)
    assert data["zoneinfo"][2]["start_pfn"] == 1_048_576


def test_a_missing_file_says_so(vm618_root: Path) -> None:
    os.remove(vm618_root / "proc" / "kpageflags")
    snap = read_live(str(vm618_root))
    assert snap.frames is None and snap.buddyinfo and snap.zoneinfo
    assert snap.messages == [
        f"{vm618_root}/proc/kpageflags does not exist: this kernel was built without "
        "CONFIG_PROC_PAGE_MONITOR. The map of frames is not shown; the counts below still are."
    ]
    assert "note: " + snap.messages[0] in format_text(snap)


def test_a_masked_file_in_a_container_says_so(vm618_root: Path) -> None:
    (vm618_root / "proc" / "kpageflags").write_bytes(b"")  # as /dev/null bound over it
    (message,) = read_live(str(vm618_root)).messages
    assert "reads as empty: a container runtime masks it" in message


def test_without_root_says_so(vm618_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(vm618_root / "proc" / "kpageflags")
    real_open = os.open

    def refuse(name: str, flags: int, *args: int) -> int:
        if name == path:
            raise PermissionError(13, "Permission denied", name)
        return real_open(name, flags, *args)

    monkeypatch.setattr(kpr.os, "open", refuse)  # root may read anything: pretend not
    (message,) = read_live(str(vm618_root)).messages
    assert message.startswith(f"{path} is readable only by root: run buddyscope as root")


def test_zoneinfo_without_spans_says_why(vm618_root: Path) -> None:
    zoneinfo = vm618_root / "proc" / "zoneinfo"
    zoneinfo.write_text(
        "".join(
            line + "\n" for line in zoneinfo.read_text().splitlines() if "start_pfn" not in line
        )
    )
    (message,) = read_live(str(vm618_root)).messages
    assert "needs the zone spans (start_pfn, spanned) of /proc/zoneinfo" in message


def test_the_benchmark_script_runs_on_a_recording(vm618_root: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "bench" / "kpageflags.py"
    result = subprocess.run(
        [sys.executable, str(script), "--root", str(vm618_root), "--reads", "1", "--cli-runs", "0",
         "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["frames"] == 6_553_600 and figures["changed_chunks_last"] == 0
    assert figures["reported_pages"] == 1_064_048 and figures["cli_once_json_ms"] is None
