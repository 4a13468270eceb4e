"""This machine's memory frame by frame, from ``/proc/kpageflags``: what the file's
bits say (reading the file is ``kpagereader.py``).

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

Nothing here makes one Python object per frame or per free block: each flag byte lane
is sliced out of the buffer (``buf[i::8]``), mapped through ``bytes.translate`` and the
lanes are OR-ed as big integers; the blocks are found an order at a time on whole byte
strings (``_levels``).  ``count`` gives the per-zone figures alone (``buddyscope live
--once``); ``derive`` also gives one byte per frame (``FrameReading.kinds``): the code of
its kind in ``KINDS`` for an allocated frame, ``FREE_CODE + order`` for a page of a free
block and ``REPORTED_CODE + order`` for a page of a reported one.
"""

from __future__ import annotations

import functools
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

#: Frames derived as one piece, and re-read as one by ``kpagereader.FrameReader``
#: (512 MiB).
WINDOW = 1 << 17
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
_FREE_CODE_TABLE = bytes(FREE_CODE if c == FREE else c for c in range(256))
_IN_BLOCK_TABLE = bytes(1 if code >= FREE_CODE else 0 for code in range(256))
_ORDER_MASK = REPORTED_CODE - FREE_CODE - 1  # a map code's order bits


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
class FrameCounts:
    """One read of /proc/kpageflags, counted per zone: free and reported blocks per
    order, frames per kind."""

    frames: int
    zones: list[ZoneFrames]
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


@dataclass
class FrameReading(FrameCounts):
    """The counts and the map: ``kinds`` holds one byte per frame, an allocated frame's
    code in ``KINDS``, a free page's ``FREE_CODE`` or ``REPORTED_CODE`` plus its block's
    order.  ``block_pfn``/``block_order``/``block_reported`` list every free block, in
    pfn order (made from ``kinds`` when first asked for: a live tick never needs them).
    """

    kinds: bytes = b""

    @functools.cached_property
    def _blocks(self) -> tuple[array[int], bytearray, bytearray]:
        return blocks_of(self.kinds)

    @property
    def block_pfn(self) -> array[int]:
        return self._blocks[0]

    @property
    def block_order(self) -> bytearray:
        return self._blocks[1]

    @property
    def block_reported(self) -> bytearray:
        return self._blocks[2]


def frame_kinds(raw: bytes | bytearray) -> tuple[bytes, bytes]:
    """One kind byte per frame (free pages as ``FREE``) and one byte per frame that is 1
    where ``KPF_UPTODATE`` is set.  Only the five low bytes of each flag word hold a bit
    the map uses: each is sliced out as a lane (``raw[lane::8]``), mapped through a
    translate table, and the lanes are OR-ed as big integers."""
    combined = 0
    uptodate: bytes | bytearray = b""
    for lane, table in _LANES:
        data = raw[lane::8]  # each slice is a pass over the whole buffer: one per lane
        if lane == 0:
            uptodate = data.translate(_UPTODATE_TABLE)
        combined |= int.from_bytes(data.translate(table), "little")
    frames = len(raw) // 8
    return combined.to_bytes(frames, "little").translate(_KIND_TABLE), bytes(uptodate)


@dataclass
class _Part:
    """What one window holds of one zone."""

    zone: int
    free: list[int]  # free blocks per order
    reported: list[int]  # reported free blocks per order
    counts: list[int]  # frames per kind code


@dataclass
class Window:
    """One window of frames (``WINDOW`` of them from frame ``lo``), derived: its part of
    each zone."""

    lo: int
    parts: list[_Part]


@dataclass
class _Levels:
    """One window's frames an order at a time (``_levels``)."""

    kinds: bytes  # one kind byte per frame, FREE for every free page
    heads: bytes  # 1 at a reported head
    good: list[bytes]  # per order k, one byte per aligned block of 2**k frames
    pieces: list[tuple[int, int, int]]  # (zone, first, end) within the window


@functools.cache
def _fill(code: int, order: int) -> bytes:
    """A block's frames in the map, made once per (code, order)."""
    return bytes((code,)) * (1 << order)


def _as_int(data: bytes | bytearray) -> int:
    return int.from_bytes(data, "little")


def _halve(good: bytes, cut: bytes) -> tuple[bytes, bytes]:
    """One order up: block j of order k+1 is whole (free, and cut nowhere but maybe at its
    first frame) when both its halves are and its second half does not start at a cut.
    The bytes are 0 or 1, so big-integer AND works on all of them at once."""
    if len(good) % 2:
        good, cut = good + b"\0", cut + b"\0"
    whole = _as_int(good[0::2]) & _as_int(good[1::2]) & ~_as_int(cut[1::2])
    return whole.to_bytes(len(good) // 2, "little"), cut[0::2]


def _levels(raw: bytes | bytearray, lo: int, spans: Sequence[ZoneSpan], max_order: int) -> _Levels:
    """The kinds of the frames in ``raw`` (the window at frame ``lo``, a multiple of
    2**max_order, so that no free block crosses the window's edge) and their free blocks
    an order at a time.

    Cutting every free run into the largest aligned blocks that fit (starting over at a
    reported head and at a zone's first frame) gives the aligned blocks that are whole
    and whose parent block is not: ``good[k]`` holds one byte per order-k block, 1 when it
    is free and crosses no cut (but at its own start).  A zone's blocks of order k are
    then ``good[k]``'s ones there less twice ``good[k+1]``'s."""
    kinds, uptodate = frame_kinds(raw)
    n = len(kinds)
    pieces = [
        (zone, max(s.start_pfn, lo) - lo, min(s.end_pfn, lo + n) - lo)
        for zone, s in enumerate(spans)
        if max(s.start_pfn, lo) < min(s.end_pfn, lo + n)
    ]
    free = bytearray(kinds.translate(_BUDDY_TABLE))
    at = 0  # frames outside every zone are in no block
    for _, start, end in sorted(pieces, key=lambda p: p[1]):
        free[at:start] = bytes(max(0, start - at))
        at = max(at, end)
    free[at:] = bytes(max(0, n - at))
    heads = (_as_int(free) & _as_int(uptodate)).to_bytes(n, "little")
    cut = bytearray(heads)
    for _, start, _ in pieces:
        cut[start] = 1
    good = [bytes(free)]
    level_cut = bytes(cut)
    for _ in range(max_order):
        whole, level_cut = _halve(good[-1], level_cut)
        good.append(whole)
    return _Levels(kinds, heads, good, pieces)


def _parts(lv: _Levels, reported_in: list[list[int]], max_order: int) -> list[_Part]:
    """Each zone's free blocks per order and frames per kind, from the levels."""
    out = []
    for zone, start, end in lv.pieces:
        whole = [
            lv.good[k].count(1, (start + (1 << k) - 1) >> k, end >> k) for k in range(max_order + 1)
        ]
        free = [whole[k] - 2 * whole[k + 1] for k in range(max_order)] + [whole[max_order]]
        reported = reported_in[zone]
        reported_pages = sum(c << k for k, c in enumerate(reported))
        # Every kind counted but free, reported (from the blocks) and other (the rest):
        # each count is a pass over the zone's bytes.
        counts = [0, 0, 0] + [lv.kinds.count(code, start, end) for code in range(3, len(KINDS))]
        counts[OTHER] = end - start - whole[0] - sum(counts)
        counts[FREE] = whole[0] - reported_pages
        counts[REPORTED] = reported_pages
        out.append(_Part(zone, free, reported, counts))
    return out


def _zone_of(pieces: list[tuple[int, int, int]], frame: int) -> int:
    starts = sorted((start, zone) for zone, start, _ in pieces)
    return starts[bisect_right(starts, (frame, len(pieces) + 1)) - 1][1]


def count_window(
    raw: bytes | bytearray, lo: int, spans: Sequence[ZoneSpan], max_order: int
) -> Window:
    """What a window holds, without its map: a reported head's order is the highest at
    which its block is whole."""
    lv = _levels(raw, lo, spans, max_order)
    reported_in = [[0] * (max_order + 1) for _ in spans]
    head = lv.heads.find(1)
    while head >= 0:  # few
        order = 0
        while (
            order < max_order
            and not (head >> order) & 1
            and lv.good[order + 1][head >> (order + 1)]
        ):
            order += 1
        reported_in[_zone_of(lv.pieces, head)][order] += 1
        head = lv.heads.find(1, head + 1)
    return Window(lo, _parts(lv, reported_in, max_order))


def derive_window(
    raw: bytes | bytearray, lo: int, spans: Sequence[ZoneSpan], max_order: int
) -> tuple[bytes, Window]:
    """The map of a window's frames and what it holds.  A free frame's order is the
    number of orders above 0 at which the block around it is whole: summed from the top
    order down to pairs of frames (each order's bytes doubled to the order below and
    added, as big integers: the sums stay below 32, so no byte carries into the next),
    then added onto the kinds with every free frame's FREE made FREE_CODE."""
    lv = _levels(raw, lo, spans, max_order)
    n = len(lv.kinds)
    depth = lv.good[max_order] if max_order else bytes(n)  # with no order above 0: none
    for k in range(max_order, 0, -1):
        spread = bytearray(2 * len(depth))
        spread[0::2] = spread[1::2] = depth
        size = len(lv.good[k - 1])
        if k > 1:
            depth = (_as_int(spread[:size]) + _as_int(lv.good[k - 1])).to_bytes(size, "little")
        else:
            depth = bytes(spread[:size])
    base = bytearray(lv.kinds.translate(_FREE_CODE_TABLE))
    at = 0  # a free frame outside every zone stays FREE: it is in no block
    for _, start, end in sorted(lv.pieces, key=lambda p: p[1]):
        base[at:start] = lv.kinds[at:start]
        at = max(at, end)
    base[at:] = lv.kinds[at:]
    kinds = bytearray((_as_int(base) + _as_int(depth)).to_bytes(n, "little"))
    view = memoryview(kinds)
    reported_in = [[0] * (max_order + 1) for _ in spans]
    head = lv.heads.find(1)
    while head >= 0:  # few: each reported block painted over its free code
        order = kinds[head] - FREE_CODE
        view[head : head + (1 << order)] = _fill(REPORTED_CODE + order, order)
        reported_in[_zone_of(lv.pieces, head)][order] += 1
        head = lv.heads.find(1, head + 1)
    view.release()
    return bytes(kinds), Window(lo, _parts(lv, reported_in, max_order))


def blocks_of(kinds: bytes | bytearray, lo: int = 0) -> tuple[array[int], bytearray, bytearray]:
    """Every free block a frame map shows (pfn, order, reported), in pfn order: each
    free frame's code holds its block's order, so a run is stepped a block at a time."""
    pfns: array[int] = array("Q")
    orders, marks = bytearray(), bytearray()
    in_block = kinds.translate(_IN_BLOCK_TABLE)
    pos = in_block.find(1)
    while pos >= 0:
        end = in_block.find(0, pos)
        end = len(kinds) if end < 0 else end
        while pos < end:
            code = kinds[pos]
            order = code & _ORDER_MASK
            pfns.append(lo + pos)
            orders.append(order)
            marks.append(code >= REPORTED_CODE)
            pos += 1 << order
        pos = in_block.find(1, end)
    return pfns, orders, marks


def _assemble(
    frames: int, windows: Sequence[Window], spans: Sequence[ZoneSpan], max_order: int
) -> list[ZoneFrames]:
    """The zones' totals: sums of their windows' parts."""
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
    for w in windows:
        for part in w.parts:
            z = zones[part.zone]
            for k in range(max_order + 1):
                z.free[k] += part.free[k]
                z.reported[k] += part.reported[k]
            total = counts[part.zone]
            for code, c in enumerate(part.counts):
                total[code] += c
    for z, total in zip(zones, counts, strict=True):
        z.kinds = dict(zip(KINDS, total, strict=True))
    return zones


def window_frames(max_order: int) -> int:
    """Frames per window for ``max_order``; ValueError when the map cannot hold it."""
    if not 0 <= max_order < REPORTED_CODE - FREE_CODE:
        raise ValueError(f"max_order {max_order} does not fit the frame map's codes")
    return max(WINDOW, 1 << max_order)


def windows_of(raw: bytes | bytearray, max_order: int) -> Iterator[tuple[int, bytes | bytearray]]:
    """The file's bytes a window at a time: (its first frame, its bytes)."""
    size = window_frames(max_order)
    frames = len(raw) // 8
    for lo in range(0, frames, size):
        yield lo, raw[8 * lo : 8 * min(lo + size, frames)]


def derive(
    raw: bytes | bytearray, spans: Sequence[ZoneSpan], max_order: int = DEFAULT_MAX_ORDER
) -> FrameReading:
    """Free blocks, reported heads, frames by kind and the map from the file's bytes."""
    pieces = [derive_window(part, lo, spans, max_order) for lo, part in windows_of(raw, max_order)]
    return reading_of(b"".join(k for k, _ in pieces), [w for _, w in pieces], spans, max_order)


def reading_of(
    kinds: bytes, windows: Sequence[Window], spans: Sequence[ZoneSpan], max_order: int
) -> FrameReading:
    """A reading made of windows derived one by one (``derive_window``)."""
    zones = _assemble(len(kinds), windows, spans, max_order)
    return FrameReading(len(kinds), zones, kinds=kinds)


def count(
    raw: bytes | bytearray, spans: Sequence[ZoneSpan], max_order: int = DEFAULT_MAX_ORDER
) -> FrameCounts:
    """What ``derive`` counts, without the map (three quarters of its time here)."""
    windows = [count_window(part, lo, spans, max_order) for lo, part in windows_of(raw, max_order)]
    return counts_of(len(raw) // 8, windows, spans, max_order)


def counts_of(
    frames: int, windows: Sequence[Window], spans: Sequence[ZoneSpan], max_order: int
) -> FrameCounts:
    """The counts of windows counted one by one (``count_window``)."""
    return FrameCounts(frames, _assemble(frames, windows, spans, max_order))


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
