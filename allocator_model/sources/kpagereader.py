"""Reading ``/proc/kpageflags``: the whole file once, or part of it again and again.

What the bits mean is ``kpageflags.py``; this module only gets them from the kernel,
which is most of the cost.  ``kpage_read()`` (``fs/proc/page.c``) computes every frame's
flags inside the read (``stable_page_flags()``, about 150 ns a frame on this VM), wants
offsets and sizes that are multiples of 8, and refuses a plain read of the whole file
(EINVAL: it asks for more than it allows), so the file is read with ``os.preadv`` in
4 MiB chunks into one buffer, by several threads at once: ``preadv`` lets go of the GIL,
so the kernel's work spreads over the machine's CPUs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import TypeVar

from .kpageflags import (
    DEFAULT_MAX_ORDER,
    FrameCounts,
    FrameReading,
    Window,
    ZoneSpan,
    blocks_of,
    count,
    derive,
    derive_window,
    reading_of,
    window_frames,
    windows_of,
)

Counted = TypeVar("Counted", bound=FrameCounts)

PATH = "/proc/kpageflags"
READ_CHUNK = 1 << 22  # bytes per pread: 512 Ki frames
#: Threads that read at once: one per CPU, for the kernel's work is per frame and
#: spreads evenly (more than the CPUs only wait for one).
READ_THREADS = max(1, min(8, os.cpu_count() or 1))
#: Frames ``FrameReader`` re-reads per reading after the first: about 150 ms of the
#: kernel's time on this VM, spread over ``READ_THREADS`` threads.
TICK_FRAMES = 1 << 20


class KpageflagsError(Exception):
    """/proc/kpageflags cannot be read; the message says why in a user's words."""


def _open(path: str) -> int:
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise KpageflagsError(
            f"{path} does not exist: this kernel was built without CONFIG_PROC_PAGE_MONITOR"
        ) from None
    except PermissionError:
        raise KpageflagsError(
            f"{path} is readable only by root: run buddyscope as root to see the memory "
            "map frame by frame"
        ) from None
    except OSError as exc:
        raise KpageflagsError(f"{path}: {exc.strerror}") from None


def _pread_into(fd: int, view: memoryview, offset: int, path: str) -> int:
    """Fill ``view`` from byte ``offset`` of the file; the bytes read (fewer at its end).
    ``os.preadv`` into one buffer that outlives the read: a fresh ``bytes`` per chunk
    costs the kernel a page fault per 4 KiB on every read."""
    done = 0
    try:
        while done < len(view):
            n = os.preadv(fd, [view[done : done + READ_CHUNK]], offset + done)
            if n <= 0:
                break
            done += n
    except OSError as exc:
        raise KpageflagsError(
            f"{path} could not be read at byte {offset + done}: {exc.strerror}"
        ) from None
    return done


def _pread_ranges(
    fd: int, buf: bytearray, ranges: Sequence[tuple[int, int]], path: str
) -> list[int]:
    """Fill the byte ranges ``[lo, hi)`` of ``buf`` from the same bytes of the file, by
    up to ``READ_THREADS`` threads, each a share of about equal bytes; the bytes read of
    each range (fewer at the file's end)."""
    got = [0] * len(ranges)
    errors: list[KpageflagsError] = []
    view = memoryview(buf)
    total = sum(hi - lo for lo, hi in ranges)
    shares: list[list[int]] = [[]]
    done = 0
    for k, (lo, hi) in enumerate(ranges):
        if done >= total * len(shares) / READ_THREADS and shares[-1]:
            shares.append([])
        shares[-1].append(k)
        done += hi - lo

    def share(indices: list[int]) -> None:
        try:
            for k in indices:
                lo, hi = ranges[k]
                got[k] = _pread_into(fd, view[lo:hi], lo, path)
        except KpageflagsError as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=share, args=(s,)) for s in shares[1:]]
        for t in threads:
            t.start()
        share(shares[0])
        for t in threads:
            t.join()
    finally:
        view.release()
    if errors:
        raise errors[0]
    return got


def read_raw(path: str = PATH, frames_hint: int = 0) -> bytearray:
    """The whole file; KpageflagsError says what failed.

    With ``frames_hint`` (the frames the zones span) the first that many frames are read
    by ``READ_THREADS`` threads at once, in pieces of ``READ_CHUNK``; the rest, if any,
    follows."""
    fd = _open(path)
    try:
        buf = bytearray(8 * frames_hint)
        ranges = [(lo, min(lo + READ_CHUNK, len(buf))) for lo in range(0, len(buf), READ_CHUNK)]
        got = _pread_ranges(fd, buf, ranges, path)
        short = next((k for k, (lo, hi) in enumerate(ranges) if got[k] < hi - lo), None)
        if short is not None:  # shorter than the zones: keep what is
            del buf[ranges[short][0] + got[short] :]
        else:
            chunk = bytearray(READ_CHUNK)
            while n := _pread_into(fd, memoryview(chunk), len(buf), path):
                buf += chunk[:n]
    finally:
        os.close(fd)
    if not buf:
        raise KpageflagsError(
            f"{path} reads as empty: a container runtime masks it, so the frames of the "
            "machine are not visible from here"
        )
    if len(buf) % 8:
        raise KpageflagsError(f"{path} is {len(buf)} bytes, not a whole number of 8-byte entries")
    return buf


def _frames_hint(spans: Sequence[ZoneSpan]) -> int:
    return max((s.end_pfn for s in spans), default=0)


def _read_whole(
    spans: Sequence[ZoneSpan],
    path: str,
    max_order: int,
    derive_as: Callable[[bytearray, Sequence[ZoneSpan], int], Counted],
) -> Counted:
    t0 = perf_counter()
    raw = read_raw(path, _frames_hint(spans))
    t1 = perf_counter()
    out = derive_as(raw, spans, max_order)
    out.read_s, out.derive_s = t1 - t0, perf_counter() - t1
    out.frames_read = out.frames
    return out


def read_frames(
    spans: Sequence[ZoneSpan], path: str = PATH, max_order: int = DEFAULT_MAX_ORDER
) -> FrameReading:
    """Read the whole file and derive; KpageflagsError when it cannot be read."""
    return _read_whole(spans, path, max_order, derive)


def read_counts(
    spans: Sequence[ZoneSpan], path: str = PATH, max_order: int = DEFAULT_MAX_ORDER
) -> FrameCounts:
    """Read the whole file and count, without the map (``buddyscope live --once``)."""
    return _read_whole(spans, path, max_order, count)


def blocks_in(
    path: str, lo: int, hi: int, spans: Sequence[ZoneSpan], max_order: int = DEFAULT_MAX_ORDER
) -> list[tuple[int, int, int]]:
    """The free blocks (pfn, order, reported) of frames ``[lo, hi)`` alone, read from the
    file: for watching a few frames closely.  ``lo`` and ``hi`` must be multiples of
    2**max_order, so that no block crosses either edge."""
    if lo % (1 << max_order) or hi % (1 << max_order):
        raise ValueError(f"{lo}..{hi} does not start and end on order-{max_order} blocks")
    raw = bytearray(8 * (hi - lo))
    fd = _open(path)
    try:
        got = _pread_into(fd, memoryview(raw), 8 * lo, path)
    finally:
        os.close(fd)
    kinds, _ = derive_window(raw[:got], lo, spans, max_order)
    return list(zip(*blocks_of(kinds, lo), strict=True))


class FrameReader:
    """Reads the file again and again, as the live view does once a second, at a
    bounded cost per reading.

    The kernel spends about 150 ns computing each frame's flags (a second of CPU for
    this VM's 6.5 M frames, whatever the reader does), so after a first whole reading
    each ``read()`` re-reads only ``tick_frames`` frames, a window of ``WINDOW`` frames
    at a time: windows that changed at their last reading (memory that is busy now) for
    up to half of them, then the others in turn, so every frame is re-read within
    ``2 * frames / tick_frames`` readings.  The rest of the map is the last reading of
    its window (``FrameReading.frames_read`` says how many frames are fresh).  Only the
    windows read are derived again; the totals are sums of the windows'."""

    def __init__(
        self,
        spans: Sequence[ZoneSpan],
        path: str = PATH,
        max_order: int = DEFAULT_MAX_ORDER,
        tick_frames: int = TICK_FRAMES,
    ) -> None:
        self.spans = tuple(spans)
        self.path = path
        self.max_order = max_order
        self.size = window_frames(max_order)
        self.tick_frames = max(tick_frames, self.size)
        self.raw = bytearray()
        self.kinds = bytearray()
        self.windows: list[Window] = []
        self.hot: set[int] = set()
        self.cursor = 0

    def read(self) -> FrameReading:
        t0 = perf_counter()
        if not self.windows:
            return self._read_whole(t0)
        picked = self._pick()
        ranges = [
            (8 * self.windows[w].lo, min(8 * (self.windows[w].lo + self.size), len(self.raw)))
            for w in picked
        ]
        fd = _open(self.path)
        try:
            got = _pread_ranges(fd, self.raw, ranges, self.path)
        finally:
            os.close(fd)
        if any(n < hi - lo for n, (lo, hi) in zip(got, ranges, strict=True)):
            self.windows = []  # the file shrank (memory hot-removed): start over
            return self._read_whole(t0)
        t1 = perf_counter()
        read = 0
        for w in picked:
            lo = self.windows[w].lo
            hi = min(lo + self.size, len(self.kinds))
            kinds, window = derive_window(self.raw[8 * lo : 8 * hi], lo, self.spans, self.max_order)
            if kinds != self.kinds[lo:hi]:
                self.hot.add(w)
                self.kinds[lo:hi] = kinds
            else:
                self.hot.discard(w)
            self.windows[w] = window
            read += hi - lo
        return self._reading(t0, t1, read)

    def _read_whole(self, t0: float) -> FrameReading:
        self.raw = read_raw(self.path, _frames_hint(self.spans))
        t1 = perf_counter()
        frames = len(self.raw) // 8
        pieces = [
            derive_window(part, lo, self.spans, self.max_order)
            for lo, part in windows_of(self.raw, self.max_order)
        ]
        self.kinds = bytearray(b"".join(k for k, _ in pieces))
        self.windows = [w for _, w in pieces]
        self.hot = set()
        return self._reading(t0, t1, frames)

    def _pick(self) -> list[int]:
        """The windows to read now: the busy ones, then the next in turn."""
        n = len(self.windows)
        budget = self.tick_frames // self.size
        order = [(self.cursor + k) % n for k in range(n)]
        # Half the budget at most for the busy windows, so the turn always moves on.
        picked = [w for w in order if w in self.hot][: budget // 2]
        for w in order:
            if len(picked) >= budget:
                break
            if w not in self.hot:
                picked.append(w)
                self.cursor = (w + 1) % n
        return sorted(picked)

    def _reading(self, t0: float, t1: float, read: int) -> FrameReading:
        reading = reading_of(bytes(self.kinds), self.windows, self.spans, self.max_order)
        reading.read_s, reading.derive_s = t1 - t0, perf_counter() - t1
        reading.frames_read = read
        return reading
