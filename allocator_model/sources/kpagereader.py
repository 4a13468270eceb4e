"""Reading ``/proc/kpageflags``: the whole file once, or part of it again and again.

What the bits mean is ``kpageflags.py``; this module only gets them from the kernel,
which is most of the cost.  ``kpage_read()`` (``fs/proc/page.c``) computes every frame's
flags inside the read (``stable_page_flags()``, about 150 ns a frame on this VM), wants
offsets and sizes that are multiples of 8, and refuses a plain read of the whole file
(EINVAL: it asks for more than it allows), so the file is read with ``os.preadv`` a
window of frames (1 MiB) at a time, by several threads at once: ``preadv`` lets go of
the GIL, so the kernel's work spreads over the machine's CPUs, and each window is
counted or derived by the thread that read it while the others read on.
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
    count_window,
    counts_of,
    derive_window,
    reading_of,
    window_frames,
)

Counted = TypeVar("Counted", bound=FrameCounts)
Done = TypeVar("Done")

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
    ``os.preadv`` into a buffer that outlives the read: a fresh ``bytes`` per chunk
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


def read_windows(
    path: str,
    spans: Sequence[ZoneSpan],
    max_order: int,
    work: Callable[[int, bytearray], Done],
) -> tuple[int, list[Done], float]:
    """The whole file a window at a time (``window_frames(max_order)`` frames from each
    multiple of that), each window handed to ``work(lo, raw)`` as soon as it is read:
    the frames the file holds, ``work``'s results in window order and when
    (``perf_counter``) the last read ended.  KpageflagsError when it cannot be read.

    The windows over the zones are read by ``READ_THREADS`` threads at once, each
    working on what it has just read while the others read on (``preadv`` lets go of
    the GIL), so the work costs little more wall time than the kernel's read; past the
    zones, if the file goes on, one window at a time until it ends."""
    size = window_frames(max_order)
    fd = _open(path)
    frames = 0
    out: list[Done] = []
    read_end = 0.0
    try:
        # With no zones to go by, from the start until the file ends.
        los: Sequence[int] = range(0, max(_frames_hint(spans), 1), size)
        while los:
            each, read_end = _read_each(fd, path, los, size, work)
            for lo, one in zip(los, each, strict=True):
                if one is not None:
                    frames = lo + one[0]
                    out.append(one[1])
                if one is None or one[0] < size:  # the file ends here: nothing after counts
                    los = ()
                    break
            else:
                los = (los[-1] + size,)
    finally:
        os.close(fd)
    if not frames:
        raise KpageflagsError(
            f"{path} reads as empty: a container runtime masks it, so the frames of the "
            "machine are not visible from here"
        )
    return frames, out, read_end


def _read_each(
    fd: int, path: str, los: Sequence[int], size: int, work: Callable[[int, bytearray], Done]
) -> tuple[list[tuple[int, Done] | None], float]:
    """Read the windows of ``size`` frames at frames ``los`` and work on each in the
    thread that read it: the frames each holds (fewer at the file's end) and ``work``'s
    result (``None`` for a window past the end), and when the last read ended.  Each
    thread reads into its own buffer of one window, which stays in the CPU's cache for
    the work that follows."""
    results: list[tuple[int, Done] | None] = [None] * len(los)
    errors: list[Exception] = []
    taken = iter(range(len(los)))
    lock = threading.Lock()
    read_ends = [0.0]

    def reader() -> None:
        buf = bytearray(8 * size)
        view = memoryview(buf)
        try:
            while not errors:
                with lock:
                    k = next(taken, None)
                if k is None:
                    return
                got = _pread_into(fd, view, 8 * los[k], path)
                read_ends.append(perf_counter())
                if got % 8:
                    raise KpageflagsError(
                        f"{path} ends at byte {8 * los[k] + got}, not a whole number of 8-byte "
                        "entries"
                    )
                if got:
                    results[k] = (got // 8, work(los[k], buf if got == len(buf) else buf[:got]))
        except Exception as exc:  # raised again in the caller's thread
            errors.append(exc)
        finally:
            view.release()

    threads = [threading.Thread(target=reader) for _ in range(min(READ_THREADS, len(los)) - 1)]
    for t in threads:
        t.start()
    reader()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results, max(read_ends)


def read_raw(
    path: str = PATH, spans: Sequence[ZoneSpan] = (), max_order: int = DEFAULT_MAX_ORDER
) -> bytes:
    """The whole file's bytes (what the kernel's read costs, for ``bench/kpageflags.py``)."""
    _, parts, _ = read_windows(path, spans, max_order, lambda lo, raw: bytes(raw))
    return b"".join(parts)


def _frames_hint(spans: Sequence[ZoneSpan]) -> int:
    return max((s.end_pfn for s in spans), default=0)


def read_frames(
    spans: Sequence[ZoneSpan], path: str = PATH, max_order: int = DEFAULT_MAX_ORDER
) -> FrameReading:
    """Read the whole file and derive; KpageflagsError when it cannot be read."""
    t0 = perf_counter()
    frames, pieces, read_end = read_windows(
        path, spans, max_order, lambda lo, raw: derive_window(raw, lo, spans, max_order)
    )
    out = reading_of(b"".join(k for k, _ in pieces), [w for _, w in pieces], spans, max_order)
    return _timed(out, t0, read_end, frames)


def read_counts(
    spans: Sequence[ZoneSpan], path: str = PATH, max_order: int = DEFAULT_MAX_ORDER
) -> FrameCounts:
    """Read the whole file and count, without the map (``buddyscope live --once``)."""
    t0 = perf_counter()
    frames, windows, read_end = read_windows(
        path, spans, max_order, lambda lo, raw: count_window(raw, lo, spans, max_order)
    )
    return _timed(counts_of(frames, windows, spans, max_order), t0, read_end, frames)


def _timed(out: Counted, t0: float, read_end: float, frames_read: int) -> Counted:
    """``out`` with its times: ``read_s`` until the last window was read (the work on
    the others went on meanwhile), ``derive_s`` from then on."""
    out.read_s, out.derive_s = read_end - t0, perf_counter() - read_end
    out.frames_read = frames_read
    return out


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
        self.kinds = bytearray()
        self.windows: list[Window] = []
        self.hot: set[int] = set()
        self.cursor = 0

    def read(self) -> FrameReading:
        t0 = perf_counter()
        if not self.windows:
            return self._read_whole(t0)
        picked = self._pick()
        los = [self.windows[w].lo for w in picked]
        fd = _open(self.path)
        try:
            got, read_end = _read_each(fd, self.path, los, self.size, self._derive)
        finally:
            os.close(fd)
        frames = len(self.kinds)
        done = [
            one
            for lo, one in zip(los, got, strict=True)
            if one is not None and one[0] == min(lo + self.size, frames) - lo
        ]
        if len(done) < len(los):
            self.windows = []  # the file shrank or grew (memory hot-(un)plugged): start over
            return self._read_whole(t0)
        read = 0
        for w, lo, (n, (kinds, window)) in zip(picked, los, done, strict=True):
            if kinds != self.kinds[lo : lo + n]:
                self.hot.add(w)
                self.kinds[lo : lo + n] = kinds
            else:
                self.hot.discard(w)
            self.windows[w] = window
            read += n
        return self._reading(t0, read_end, read)

    def _derive(self, lo: int, raw: bytearray) -> tuple[bytes, Window]:
        return derive_window(raw, lo, self.spans, self.max_order)

    def _read_whole(self, t0: float) -> FrameReading:
        frames, pieces, read_end = read_windows(self.path, self.spans, self.max_order, self._derive)
        self.kinds = bytearray(b"".join(k for k, _ in pieces))
        self.windows = [w for _, w in pieces]
        self.hot = set()
        return self._reading(t0, read_end, frames)

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

    def _reading(self, t0: float, read_end: float, read: int) -> FrameReading:
        reading = reading_of(bytes(self.kinds), self.windows, self.spans, self.max_order)
        return _timed(reading, t0, read_end, read)
