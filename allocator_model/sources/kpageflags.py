"""This machine's memory frame by frame, from ``/proc/kpageflags``.

``/proc/kpageflags`` (root only) holds one little-endian u64 per page frame, the
``KPF_*`` bits of ``include/uapi/linux/kernel-page-flags.h`` computed by
``stable_page_flags()`` in ``fs/proc/page.c``.  Two facts make it a map of the free
lists and of free page reporting:

- every page of a free buddy block has ``KPF_BUDDY`` (bit 10): the head by
  ``PageBuddy()``, the tail pages through ``is_free_buddy_page()`` (6.18 does both in
  ``set_ps_flags()`` in ``mm/util.c``);
- ``PG_reported`` is ``PG_uptodate`` (``include/linux/page-flags.h``), so the head page of
  a free block the kernel has reported to the hypervisor has ``KPF_UPTODATE`` (bit 3)
  copied from ``page->flags``.  Only the head carries it: tail pages keep their own
  flags, which ``free_pages_prepare()`` cleared.

A free block's order is not in the file, so it is recovered: free frames form runs
(within a zone), and a run is cut into the largest aligned power-of-two blocks that
fit, starting over at every reported head.  That is exactly how the buddy allocator
left them, because two free buddies of the same order are always merged
(``__free_one_page``) -- except where the kernel refuses to merge (isolated or CMA
pageblocks), which this cannot see.  The file is read while the kernel changes it, so
on a busy machine the small orders drift from ``/proc/buddyinfo`` read a moment apart.

The read: ``kpage_read()`` wants offsets and sizes that are multiples of 8 and a plain
read of the whole file asks for more than it allows (EINVAL), so the file is read with
``os.pread`` in 4 MiB chunks.  Everything after the read avoids one Python object per
frame: each flag byte lane is sliced out of the buffer (``buf[i::8]``), mapped through
``bytes.translate`` and the lanes are OR-ed as big integers; runs are found with
``bytes.find``.  The result is one byte per frame (``FrameReading.kinds``): the code of
its kind in ``KINDS`` for an allocated frame, ``FREE_CODE + order`` for a page of a free
block and ``REPORTED_CODE + order`` for a page of a reported one.
"""

from __future__ import annotations

import functools
import itertools
import os
import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from time import perf_counter

PATH = "/proc/kpageflags"
READ_CHUNK = 1 << 22  # bytes per pread: 512 Ki frames
#: Frames derived as one piece, and re-read as one by ``FrameReader`` (512 MiB).
WINDOW = 1 << 17
#: Frames ``FrameReader`` re-reads per reading after the first: about 150 ms of the
#: kernel's time on this VM (it computes every frame's flags inside the read).
TICK_FRAMES = 1 << 20
#: Frames per chunk of the change map: a changed frame marks its chunk (16 MiB).
DIFF_CHUNK = 4096
#: MAX_PAGE_ORDER on x86-64 and most configurations (NR_PAGE_ORDERS = 11).
DEFAULT_MAX_ORDER = 10

# include/uapi/linux/kernel-page-flags.h and include/linux/kernel-page-flags.h
KPF_UPTODATE = 3
KPF_LRU = 5
KPF_SLAB = 7
KPF_BUDDY = 10
KPF_MMAP = 11
KPF_ANON = 12
KPF_HUGE = 17
KPF_THP = 22
KPF_OFFLINE = 23
KPF_PGTABLE = 26
KPF_RESERVED = 32

#: A frame's kind, by its code (the byte the map holds), in the order of precedence a
#: frame with several bits gets (a free page is free whatever else it says).
KINDS = (
    "other",  # no flag the map knows: kernel allocations (vmalloc, drivers), holes, unmanaged
    "free",  # in a free buddy block that is not reported
    "reported",  # in a free buddy block whose head is PG_reported
    "anon",  # anonymous memory (KPF_ANON)
    "file",  # page cache (KPF_LRU or KPF_MMAP without KPF_ANON)
    "slab",  # KPF_SLAB
    "thp",  # part of a transparent huge page (KPF_THP)
    "hugetlb",  # part of a hugetlbfs page (KPF_HUGE)
    "pagetable",  # KPF_PGTABLE
    "reserved",  # PG_reserved: kernel image, memmap, firmware
    "offline",  # PageOffline: taken by a balloon or virtio-mem
)
OTHER, FREE, REPORTED, ANON, FILE, SLAB, THP, HUGETLB, PAGETABLE, RESERVED, OFFLINE = range(
    len(KINDS)
)
#: In the frame map a free page is ``FREE_CODE + order`` of its block, a page of a
#: reported block ``REPORTED_CODE + order``: the map shows free blocks by order.
FREE_CODE = 64
REPORTED_CODE = 96

# The bits each lane (byte i of the u64) contributes to the one combined byte per frame.
_C_SLAB, _C_FILE, _C_BUDDY, _C_ANON = 0x01, 0x02, 0x04, 0x08
_C_THP, _C_HUGE, _C_OFFLINE, _C_PGTABLE, _C_RESERVED = 0x10, 0x20, 0x30, 0x40, 0x80


def _lane_table(lane: int, bits: dict[int, int]) -> bytes:
    """A translate table for byte ``lane``: each KPF bit in it becomes its combined bit;
    when several are set the one listed last wins (that is how THP, HUGE and OFFLINE share
    two bits)."""
    out = bytearray(256)
    for value in range(256):
        for kpf, combined in bits.items():
            if kpf // 8 == lane and value >> (kpf % 8) & 1:
                out[value] = (out[value] & ~0x30 if combined & 0x30 else out[value]) | combined
    return bytes(out)


_LANES: tuple[tuple[int, bytes], ...] = (
    (0, _lane_table(0, {KPF_SLAB: _C_SLAB, KPF_LRU: _C_FILE})),
    (1, _lane_table(1, {KPF_BUDDY: _C_BUDDY, KPF_MMAP: _C_FILE, KPF_ANON: _C_ANON})),
    (2, _lane_table(2, {KPF_THP: _C_THP, KPF_HUGE: _C_HUGE, KPF_OFFLINE: _C_OFFLINE})),
    (3, _lane_table(3, {KPF_PGTABLE: _C_PGTABLE})),
    (4, _lane_table(4, {KPF_RESERVED: _C_RESERVED})),
)


def _kind_of(c: int) -> int:
    if c & _C_BUDDY:
        return FREE
    if c & _C_RESERVED:
        return RESERVED
    if c & 0x30 == _C_OFFLINE:
        return OFFLINE
    if c & _C_PGTABLE:
        return PAGETABLE
    if c & _C_SLAB:
        return SLAB
    if c & 0x30 == _C_HUGE:
        return HUGETLB
    if c & 0x30 == _C_THP:
        return THP
    if c & _C_ANON:
        return ANON
    if c & _C_FILE:
        return FILE
    return OTHER


_KIND_TABLE = bytes(_kind_of(c) for c in range(256))
_BUDDY_TABLE = bytes(1 if c == FREE else 0 for c in range(256))
_UPTODATE_TABLE = bytes(value >> KPF_UPTODATE & 1 for value in range(256))


class KpageflagsError(Exception):
    """/proc/kpageflags cannot be read; the message says why in a user's words."""


@dataclass(frozen=True)
class ZoneSpan:
    """A zone's pfn range, as /proc/zoneinfo gives it (start_pfn, spanned)."""

    node: int
    zone: str
    start_pfn: int
    spanned: int

    @property
    def end_pfn(self) -> int:
        return self.start_pfn + self.spanned


@dataclass
class ZoneFrames:
    node: int
    zone: str
    start_pfn: int
    end_pfn: int
    free: list[int]  # free blocks per order
    reported: list[int]  # reported free blocks per order
    kinds: dict[str, int]  # frames per kind

    @property
    def free_pages(self) -> int:
        return sum(n << order for order, n in enumerate(self.free))

    @property
    def reported_pages(self) -> int:
        return sum(n << order for order, n in enumerate(self.reported))


@dataclass
class FrameReading:
    """One read of /proc/kpageflags, arranged per zone.

    ``kinds`` holds one byte per frame: an allocated frame's code in ``KINDS``, a free
    page's ``FREE_CODE`` or ``REPORTED_CODE`` plus its block's order.
    ``block_pfn``/``block_order``/``block_reported`` list every free block found, in pfn
    order.
    """

    frames: int
    kinds: bytes
    zones: list[ZoneFrames]
    block_pfn: array[int] = field(default_factory=lambda: array("Q"))
    block_order: bytearray = field(default_factory=bytearray)
    block_reported: bytearray = field(default_factory=bytearray)
    read_s: float = 0.0  # in the kernel's read
    derive_s: float = 0.0  # in this module afterwards
    frames_read: int = 0  # frames read for this reading (the rest: an earlier reading's)

    @property
    def reported_pages(self) -> int:
        return sum(z.reported_pages for z in self.zones)

    def summary(self) -> dict[str, object]:
        """The per-frame summary as plain JSON-ready values."""
        return {
            "frames": self.frames,
            "kinds": list(KINDS),
            "zones": [
                {
                    "node": z.node,
                    "zone": z.zone,
                    "start_pfn": z.start_pfn,
                    "end_pfn": z.end_pfn,
                    "free": z.free,
                    "reported": z.reported,
                    "free_pages": z.free_pages,
                    "reported_pages": z.reported_pages,
                    "kinds": z.kinds,
                }
                for z in self.zones
            ],
            "reported_pages": self.reported_pages,
            "free_code": FREE_CODE,
            "reported_code": REPORTED_CODE,
            "frames_read": self.frames_read,
            "read_ms": round(self.read_s * 1000, 1),
            "derive_ms": round(self.derive_s * 1000, 1),
        }


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


def read_raw(path: str = PATH, frames_hint: int = 0) -> bytearray:
    """The whole file; KpageflagsError says what failed.

    With ``frames_hint`` (the frames the zones span) the first that many frames are read
    by two threads at once, each half of them: the kernel computes every frame's flags
    inside the read (about 150 ns a frame here), ``preadv`` lets go of the GIL, and a
    machine with two CPUs then reads in half the time.  The rest, if any, follows."""
    fd = _open(path)
    try:
        buf = bytearray(8 * frames_hint)
        view = memoryview(buf)
        half = (frames_hint // 2) * 8
        got = [0, 0]
        errors: list[KpageflagsError] = []

        def part(k: int, lo: int, hi: int) -> None:
            try:
                got[k] = _pread_into(fd, view[lo:hi], lo, path)
            except KpageflagsError as exc:
                errors.append(exc)

        if frames_hint:
            second = threading.Thread(target=part, args=(1, half, len(buf)))
            second.start()
            part(0, 0, half)
            second.join()
            if errors:
                raise errors[0]
        view.release()
        if got[0] < half or got[1] < len(buf) - half:  # shorter than the zones: keep what is
            del buf[got[0] if got[0] < half else half + got[1] :]
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


def frame_kinds(raw: bytes | bytearray) -> tuple[bytes, bytes]:
    """One kind byte per frame (free pages as ``FREE``) and one byte per frame that is 1
    where ``KPF_UPTODATE`` is set.  Only the five low bytes of each flag word hold a bit
    the map uses: each is sliced out as a lane (``raw[lane::8]``), mapped through a
    translate table, and the lanes are OR-ed as big integers."""
    combined = 0
    for lane, table in _LANES:
        combined |= int.from_bytes(raw[lane::8].translate(table), "little")
    frames = len(raw) // 8
    kinds = combined.to_bytes(frames, "little").translate(_KIND_TABLE)
    return kinds, bytes(raw[0::8].translate(_UPTODATE_TABLE))


@dataclass
class _Part:
    """What one window holds of one zone."""

    zone: int
    free: list[int]
    reported: list[int]
    counts: list[int]  # frames per kind code


@dataclass
class _Window:
    """One window of frames, derived: its part of each zone and its free blocks."""

    lo: int
    parts: list[_Part]
    block_pfn: array[int]
    block_order: bytearray
    block_reported: bytearray


@functools.cache
def _fill(code: int, order: int) -> bytes:
    """A block's frames in the map, made once per (code, order)."""
    return bytes((code,)) * (1 << order)


def _derive_window(
    raw: bytes | bytearray, lo: int, spans: Sequence[ZoneSpan], max_order: int
) -> tuple[bytes, _Window]:
    """The kind bytes of the frames in ``raw`` (the window at frame ``lo``) and what the
    window holds.  A window starts on a multiple of 2**max_order frames, so no free
    block crosses its edge and each window is cut into blocks on its own."""
    kinds_bytes, uptodate = frame_kinds(raw)
    n = len(kinds_bytes)
    free_mask = kinds_bytes.translate(_BUDDY_TABLE)
    kinds = bytearray(kinds_bytes)
    view = memoryview(kinds)
    window = _Window(lo, [], array("Q"), bytearray(), bytearray())
    pfns, orders, marks = window.block_pfn, window.block_order, window.block_reported
    for zone_index, span in enumerate(spans):
        start, end = max(span.start_pfn, lo) - lo, min(span.end_pfn, lo + n) - lo
        if start >= end:
            continue
        counts = [kinds.count(code, start, end) for code in range(len(KINDS))]
        first_block = len(orders)
        pos = start
        while (run := free_mask.find(1, pos, end)) >= 0:
            run_end = free_mask.find(0, run, end)
            run_end = end if run_end < 0 else run_end
            # A reported head always starts a block: cut the run there too.
            cuts = [run]
            head = uptodate.find(1, run, run_end)
            while head >= 0:
                if head != run:
                    cuts.append(head)
                head = uptodate.find(1, head + 1, run_end)
            cuts.append(run_end)
            for seg_start, seg_end in itertools.pairwise(cuts):
                # Only a segment's first block can be a reported head (the cuts are).
                is_reported = uptodate[seg_start]
                code = REPORTED_CODE if is_reported else FREE_CODE
                i = seg_start
                while i < seg_end:
                    # The largest naturally aligned block at x that ends by the segment's end
                    # (inline: this loop runs once per free block).
                    x = lo + i
                    order = (x & -x).bit_length() - 1 if x else max_order
                    fits = (seg_end - i).bit_length() - 1
                    if fits < order:
                        order = fits
                    if max_order < order:
                        order = max_order
                    pfns.append(x)
                    orders.append(order)
                    marks.append(is_reported)
                    view[i : i + (1 << order)] = _fill(code + order, order)
                    i += 1 << order
                    is_reported, code = 0, FREE_CODE
            pos = run_end
        free = [orders.count(k, first_block) for k in range(max_order + 1)]
        reported = [0] * (max_order + 1)
        k = marks.find(1, first_block)
        while k >= 0:
            reported[orders[k]] += 1
            k = marks.find(1, k + 1)
        reported_pages = sum(c << k for k, c in enumerate(reported))
        counts[REPORTED] = reported_pages
        counts[FREE] = sum(c << k for k, c in enumerate(free)) - reported_pages
        window.parts.append(_Part(zone_index, free, reported, counts))
    view.release()
    return bytes(kinds), window


def _assemble(
    kinds: bytes, windows: Sequence[_Window], spans: Sequence[ZoneSpan], max_order: int
) -> FrameReading:
    frames = len(kinds)
    zones = [
        ZoneFrames(
            s.node,
            s.zone,
            min(s.start_pfn, frames),
            min(s.end_pfn, frames),
            [0] * (max_order + 1),
            [0] * (max_order + 1),
            {},
        )
        for s in spans
    ]
    counts = [[0] * len(KINDS) for _ in spans]
    block_pfn: array[int] = array("Q")
    block_order = bytearray()
    block_reported = bytearray()
    for w in windows:
        for part in w.parts:
            z = zones[part.zone]
            for k in range(max_order + 1):
                z.free[k] += part.free[k]
                z.reported[k] += part.reported[k]
            total = counts[part.zone]
            for code, c in enumerate(part.counts):
                total[code] += c
        block_pfn += w.block_pfn
        block_order += w.block_order
        block_reported += w.block_reported
    for z, total in zip(zones, counts, strict=True):
        z.kinds = dict(zip(KINDS, total, strict=True))
    return FrameReading(frames, kinds, zones, block_pfn, block_order, block_reported)


def _window_frames(max_order: int) -> int:
    if not 0 <= max_order < REPORTED_CODE - FREE_CODE:
        raise ValueError(f"max_order {max_order} does not fit the frame map's codes")
    return max(WINDOW, 1 << max_order)


def derive(
    raw: bytes | bytearray, spans: Sequence[ZoneSpan], max_order: int = DEFAULT_MAX_ORDER
) -> FrameReading:
    """Free blocks, reported heads and frames per kind from the file's bytes."""
    size = _window_frames(max_order)
    frames = len(raw) // 8
    pieces = [
        _derive_window(raw[8 * lo : 8 * min(lo + size, frames)], lo, spans, max_order)
        for lo in range(0, frames, size)
    ]
    return _assemble(b"".join(k for k, _ in pieces), [w for _, w in pieces], spans, max_order)


def read_frames(
    spans: Sequence[ZoneSpan], path: str = PATH, max_order: int = DEFAULT_MAX_ORDER
) -> FrameReading:
    """Read the whole file and derive; KpageflagsError when it cannot be read."""
    t0 = perf_counter()
    raw = read_raw(path, max((s.end_pfn for s in spans), default=0))
    t1 = perf_counter()
    reading = derive(raw, spans, max_order)
    reading.read_s, reading.derive_s = t1 - t0, perf_counter() - t1
    reading.frames_read = reading.frames
    return reading


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
    _, window = _derive_window(raw[:got], lo, spans, max_order)
    return list(zip(window.block_pfn, window.block_order, window.block_reported, strict=True))


class FrameReader:
    """Reads the file again and again, as the live view does once a second, at a
    bounded cost per reading.

    The kernel spends about 150 ns computing each frame's flags (a second for this VM's
    6.5 M frames, whatever the reader does), so after a first whole reading each
    ``read()`` re-reads only ``tick_frames`` frames, a window of ``WINDOW`` frames at a
    time: windows that changed at their last reading (memory that is busy now) for up
    to half of them, then the others in turn, so every frame is re-read within
    ``2 * frames / tick_frames`` readings.  The rest of the map is the last reading of its
    window (``FrameReading.frames_read`` says how many frames are fresh).  Only the
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
        self.size = _window_frames(max_order)
        self.tick_frames = max(tick_frames, self.size)
        self.raw = bytearray()
        self.kinds = bytearray()
        self.windows: list[_Window] = []
        self.hot: set[int] = set()
        self.cursor = 0

    def read(self) -> FrameReading:
        t0 = perf_counter()
        if not self.windows:
            return self._read_whole(t0)
        picked = self._pick()
        fd = _open(self.path)
        view = memoryview(self.raw)
        try:
            for w in picked:
                lo = 8 * self.windows[w].lo
                hi = min(lo + 8 * self.size, len(self.raw))
                if _pread_into(fd, view[lo:hi], lo, self.path) < hi - lo:
                    view.release()
                    self.windows = []  # the file shrank (memory hot-removed): start over
                    return self._read_whole(t0)
        finally:
            view.release()
            os.close(fd)
        t1 = perf_counter()
        read = 0
        for w in picked:
            lo = self.windows[w].lo
            hi = min(lo + self.size, len(self.kinds))
            kinds, window = _derive_window(
                self.raw[8 * lo : 8 * hi], lo, self.spans, self.max_order
            )
            if kinds != self.kinds[lo:hi]:
                self.hot.add(w)
                self.kinds[lo:hi] = kinds
            else:
                self.hot.discard(w)
            self.windows[w] = window
            read += hi - lo
        return self._reading(t0, t1, read)

    def _read_whole(self, t0: float) -> FrameReading:
        self.raw = read_raw(self.path, max((s.end_pfn for s in self.spans), default=0))
        t1 = perf_counter()
        frames = len(self.raw) // 8
        pieces = [
            _derive_window(
                self.raw[8 * lo : 8 * min(lo + self.size, frames)], lo, self.spans, self.max_order
            )
            for lo in range(0, frames, self.size)
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
        reading = _assemble(bytes(self.kinds), self.windows, self.spans, self.max_order)
        reading.read_s, reading.derive_s = t1 - t0, perf_counter() - t1
        reading.frames_read = read
        return reading


def changed_chunks(before: bytes, after: bytes, chunk: int = DIFF_CHUNK) -> list[int]:
    """Indices of the ``chunk``-frame pieces whose kinds differ between two readings
    (every piece when the sizes differ)."""
    if len(before) != len(after):
        return list(range((len(after) + chunk - 1) // chunk))
    return [
        i // chunk
        for i in range(0, len(after), chunk)
        if before[i : i + chunk] != after[i : i + chunk]
    ]
