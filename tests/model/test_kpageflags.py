"""/proc/kpageflags read frame by frame: free blocks and their orders recovered from
buddy runs, reported heads (KPF_UPTODATE = PG_reported), frames by kind, the change map
between readings, and every way the file can be missing.  Bits from
include/uapi/linux/kernel-page-flags.h; what sets them from fs/proc/page.c
stable_page_flags() and mm/util.c set_ps_flags() (Linux 6.18)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from array import array
from pathlib import Path

import pytest

from allocator_model.sources import kpageflags as kpf
from allocator_model.sources.kpageflags import (
    KINDS,
    KpageflagsError,
    ZoneSpan,
    changed_chunks,
    derive,
    read_frames,
    read_raw,
)
from allocator_model.sources.live import format_text, main, read_live
from allocator_model.sources.procfs import parse_buddyinfo

BUDDY = 1 << kpf.KPF_BUDDY
REPORTED = BUDDY | 1 << kpf.KPF_UPTODATE  # the head of a reported block


def frames(n: int, marks: dict[tuple[int, int], int]) -> bytes:
    """``n`` frames with flags 0 except ``marks``: (first pfn, end pfn) -> flags."""
    words = array("Q", bytes(8 * n))
    for (start, end), flags in marks.items():
        for pfn in range(start, end):
            words[pfn] = flags
    return words.tobytes()


def blocks(reading: kpf.FrameReading) -> list[tuple[int, int, int]]:
    return list(zip(reading.block_pfn, reading.block_order, reading.block_reported, strict=True))


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


def test_a_reader_rereads_busy_windows_and_the_rest_in_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a whole first reading, each read() re-reads tick_frames frames: the windows
    that changed last time (half the budget at most), then the others in turn."""
    monkeypatch.setattr(kpf, "WINDOW", 1024)
    path = tmp_path / "kpageflags"
    path.write_bytes(frames(8192, {}))
    reader = kpf.FrameReader([ZoneSpan(0, "N", 0, 8192)], str(path), tick_frames=2048)
    first = reader.read()
    assert first.frames_read == 8192 and first.reported_pages == 0
    path.write_bytes(frames(8192, {(0, 1024): BUDDY, (0, 1): REPORTED, (6144, 7168): BUDDY}))
    second = reader.read()  # windows 0 and 1 in turn: window 0's change is seen
    assert second.frames_read == 2048 and blocks(second) == [(0, 10, 1)]
    assert reader.hot == {0}
    third = reader.read()  # window 0 again (it was busy), then window 2
    assert blocks(third) == [(0, 10, 1)] and reader.hot == set()
    reader.read()  # windows 3 and 4
    fifth = reader.read()  # 5 and 6: the change in window 6 is found
    assert blocks(fifth) == [(0, 10, 1), (6144, 10, 0)] and fifth.zones[0].free_pages == 2048
    assert fifth.kinds == derive(path.read_bytes(), [ZoneSpan(0, "N", 0, 8192)]).kinds
    path.write_bytes(frames(4096, {}))  # memory went away: a whole reading again
    assert reader.read().frames == 4096


def test_blocks_in_reads_a_few_frames_alone(tmp_path: Path) -> None:
    path = tmp_path / "kpageflags"
    path.write_bytes(
        frames(4096, {(1024, 2048): BUDDY, (1024, 1025): REPORTED, (3000, 3001): BUDDY})
    )
    spans = [ZoneSpan(0, "N", 0, 4096)]
    assert kpf.blocks_in(str(path), 1024, 2048, spans) == [(1024, 10, 1)]
    assert kpf.blocks_in(str(path), 2048, 4096, spans) == [(3000, 0, 0)]
    with pytest.raises(ValueError, match="does not start and end on order-10 blocks"):
        kpf.blocks_in(str(path), 1000, 2048, spans)


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

    monkeypatch.setattr(kpf.os, "open", refuse)  # root may read anything: pretend not
    (message,) = read_live(str(vm618_root)).messages
    assert message.startswith(f"{path} is readable only by root: run buddyscope as root")


def test_a_file_of_partial_entries_is_refused(tmp_path: Path) -> None:
    (tmp_path / "kpageflags").write_bytes(bytes(12))
    with pytest.raises(KpageflagsError, match="not a whole number of 8-byte entries"):
        read_raw(str(tmp_path / "kpageflags"))


def test_zoneinfo_without_spans_says_why(vm618_root: Path) -> None:
    zoneinfo = vm618_root / "proc" / "zoneinfo"
    zoneinfo.write_text(
        "".join(
            line + "\n" for line in zoneinfo.read_text().splitlines() if "start_pfn" not in line
        )
    )
    (message,) = read_live(str(vm618_root)).messages
    assert "needs the zone spans (start_pfn, spanned) of /proc/zoneinfo" in message


def test_reads_in_chunks_past_the_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kpf, "READ_CHUNK", 64)
    raw = frames(100, {(64, 96): BUDDY})
    (tmp_path / "kpageflags").write_bytes(raw)
    reading = read_frames([ZoneSpan(0, "N", 0, 100)], str(tmp_path / "kpageflags"))
    assert blocks(reading) == [(64, 5, 0)] and reading.read_s >= 0


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
