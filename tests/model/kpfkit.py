"""Frames for /proc/kpageflags tests: flag words as the kernel writes them, and the free
blocks a reading found."""

from __future__ import annotations

from array import array

from allocator_model.sources import kpageflags as kpf

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
