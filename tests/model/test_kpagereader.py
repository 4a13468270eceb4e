"""Reading /proc/kpageflags (``kpagereader``): a window at a time, by several threads at
once, each window worked on by the thread that read it; and again and again a part at a
time (``FrameReader``); a file the kernel would never write is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from kpfkit import BUDDY, REPORTED, blocks, frames

from allocator_model.sources import kpageflags as kpf
from allocator_model.sources import kpagereader as kpr
from allocator_model.sources.kpageflags import ZoneSpan, derive
from allocator_model.sources.kpagereader import KpageflagsError, read_frames, read_raw


@pytest.mark.parametrize("threads", [1, 3])
def test_a_reader_rereads_busy_windows_and_the_rest_in_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    """After a whole first reading, each read() re-reads tick_frames frames: the windows
    that changed last time (half the budget at most), then the others in turn (read by
    one thread or shared among several: the same)."""
    monkeypatch.setattr(kpf, "WINDOW", 1024)
    monkeypatch.setattr(kpr, "READ_THREADS", threads)
    path = tmp_path / "kpageflags"
    path.write_bytes(frames(8192, {}))
    reader = kpr.FrameReader([ZoneSpan(0, "N", 0, 8192)], str(path), tick_frames=2048)
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


def test_a_reader_reads_the_whole_file_again_when_it_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window that comes back longer than it was (memory added at the end) is not
    patched in: the reading starts over, and every frame is fresh."""
    monkeypatch.setattr(kpf, "WINDOW", 1024)
    path = tmp_path / "kpageflags"
    path.write_bytes(frames(2500, {}))
    reader = kpr.FrameReader([ZoneSpan(0, "N", 0, 4096)], str(path), tick_frames=4096)
    assert reader.read().frames == 2500
    path.write_bytes(frames(4096, {(3072, 4096): BUDDY}))
    grown = reader.read()
    assert grown.frames == grown.frames_read == 4096 and blocks(grown) == [(3072, 10, 0)]


def test_blocks_in_reads_a_few_frames_alone(tmp_path: Path) -> None:
    path = tmp_path / "kpageflags"
    path.write_bytes(
        frames(4096, {(1024, 2048): BUDDY, (1024, 1025): REPORTED, (3000, 3001): BUDDY})
    )
    spans = [ZoneSpan(0, "N", 0, 4096)]
    assert kpr.blocks_in(str(path), 1024, 2048, spans) == [(1024, 10, 1)]
    assert kpr.blocks_in(str(path), 2048, 4096, spans) == [(3000, 0, 0)]
    with pytest.raises(ValueError, match="does not start and end on order-10 blocks"):
        kpr.blocks_in(str(path), 1000, 2048, spans)


def test_a_file_of_partial_entries_is_refused(tmp_path: Path) -> None:
    (tmp_path / "kpageflags").write_bytes(bytes(12))
    with pytest.raises(KpageflagsError, match="not a whole number of 8-byte entries"):
        read_raw(str(tmp_path / "kpageflags"))


def test_reads_in_chunks_past_the_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kpr, "READ_CHUNK", 64)
    raw = frames(100, {(64, 96): BUDDY})
    (tmp_path / "kpageflags").write_bytes(raw)
    reading = read_frames([ZoneSpan(0, "N", 0, 100)], str(tmp_path / "kpageflags"))
    assert blocks(reading) == [(64, 5, 0)] and reading.read_s >= 0


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
@pytest.mark.parametrize("hint", [0, 999, 1000, 1024, 1500])
def test_threads_read_every_byte_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int, hint: int
) -> None:
    """However many threads share the read (windows of 64 frames, each read in pieces of
    16) and whatever the zones span (nothing, less than the file, all of it, more), the
    bytes are the file's, in order."""
    monkeypatch.setattr(kpf, "WINDOW", 64)
    monkeypatch.setattr(kpr, "READ_CHUNK", 8 * 16)
    monkeypatch.setattr(kpr, "READ_THREADS", threads)
    data = b"".join(pfn.to_bytes(8, "little") for pfn in range(1000))
    (tmp_path / "kpageflags").write_bytes(data)
    spans = [ZoneSpan(0, "N", 0, hint)] if hint else []
    assert read_raw(str(tmp_path / "kpageflags"), spans, max_order=6) == data


def test_a_read_error_in_any_thread_is_the_readers_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kpf, "WINDOW", 64)
    monkeypatch.setattr(kpr, "READ_CHUNK", 8 * 64)
    monkeypatch.setattr(kpr, "READ_THREADS", 3)
    (tmp_path / "kpageflags").write_bytes(bytes(8 * 1000))
    real = kpr.os.preadv

    def fail_late(fd: int, buffers: list[memoryview], offset: int) -> int:
        if offset >= 8 * 900:
            raise OSError(5, "Input/output error")
        return real(fd, buffers, offset)

    monkeypatch.setattr(kpr.os, "preadv", fail_late)
    with pytest.raises(KpageflagsError, match="could not be read at byte 7680: Input/output"):
        read_raw(str(tmp_path / "kpageflags"), [ZoneSpan(0, "N", 0, 1000)], max_order=6)


@pytest.mark.parametrize("threads", [1, 3])
def test_counts_alone_read_as_the_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    """Windows counted (or derived) by whichever thread read them, in whatever order they
    come, add up to what the whole file's bytes give."""
    monkeypatch.setattr(kpf, "WINDOW", 1024)
    monkeypatch.setattr(kpr, "READ_THREADS", threads)
    raw = frames(
        5000,
        {
            (1024, 2048): BUDDY,
            (1024, 1025): REPORTED,
            (3000, 3001): BUDDY,
            (3072, 3584): BUDDY,
            (3584, 3585): REPORTED,
            (3585, 3600): BUDDY,
            (4096, 4100): 1 << kpf.KPF_SLAB,
            (4600, 5000): BUDDY,
        },
    )
    (tmp_path / "kpageflags").write_bytes(raw)
    spans = [ZoneSpan(0, "DMA", 0, 3500), ZoneSpan(0, "N", 3500, 1500)]
    whole = derive(raw, spans)
    counted = kpr.read_counts(spans, str(tmp_path / "kpageflags"))
    assert counted.zones == whole.zones and counted.frames_read == counted.frames == 5000
    assert not isinstance(counted, kpf.FrameReading)  # no map: nothing to seed from
    reading = read_frames(spans, str(tmp_path / "kpageflags"))
    assert reading.kinds == whole.kinds and reading.zones == whole.zones
    assert blocks(reading) == blocks(whole)
