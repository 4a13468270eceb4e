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

import itertools
import os
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from time import perf_counter

PATH = "/proc/kpageflags"
READ_CHUNK = 1 << 22  # bytes per pread: 512 Ki frames
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
            "read_ms": round(self.read_s * 1000, 1),
            "derive_ms": round(self.derive_s * 1000, 1),
        }


def read_raw(path: str = PATH) -> bytes:
    """The whole file, read with pread in large chunks; KpageflagsError says what failed."""
    try:
        fd = os.open(path, os.O_RDONLY)
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
    parts: list[bytes] = []
    offset = 0
    try:
        while True:
            part = os.pread(fd, READ_CHUNK, offset)
            if not part:
                break
            parts.append(part)
            offset += len(part)
    except OSError as exc:
        raise KpageflagsError(
            f"{path} could not be read at byte {offset}: {exc.strerror}"
        ) from None
    finally:
        os.close(fd)
    if offset == 0:
        raise KpageflagsError(
            f"{path} reads as empty: a container runtime masks it, so the frames of the "
            "machine are not visible from here"
        )
    if offset % 8:
        raise KpageflagsError(f"{path} is {offset} bytes, not a whole number of 8-byte entries")
    return b"".join(parts)


def frame_kinds(raw: bytes) -> tuple[bytes, bytes]:
    """One kind byte per frame (free pages as ``FREE``) and one byte per frame that is 1
    where ``KPF_UPTODATE`` is set."""
    combined = 0
    for lane, table in _LANES:
        combined |= int.from_bytes(raw[lane::8].translate(table), "little")
    frames = len(raw) // 8
    kinds = combined.to_bytes(frames, "little").translate(_KIND_TABLE)
    return kinds, raw[0::8].translate(_UPTODATE_TABLE)


def _largest_block(pfn: int, end: int, max_order: int) -> int:
    """The order of the largest naturally aligned block at ``pfn`` that ends by ``end``."""
    aligned = (pfn & -pfn).bit_length() - 1 if pfn else max_order
    return min(max_order, aligned, (end - pfn).bit_length() - 1)


def derive(
    raw: bytes, spans: Sequence[ZoneSpan], max_order: int = DEFAULT_MAX_ORDER
) -> FrameReading:
    """Free blocks, reported heads and frames per kind from the file's bytes."""
    if not 0 <= max_order < REPORTED_CODE - FREE_CODE:
        raise ValueError(f"max_order {max_order} does not fit the frame map's codes")
    kinds_bytes, uptodate = frame_kinds(raw)
    frames = len(kinds_bytes)
    free_mask = kinds_bytes.translate(_BUDDY_TABLE)
    kinds = bytearray(kinds_bytes)
    block_pfn: array[int] = array("Q")
    block_order = bytearray()
    block_reported = bytearray()
    zones: list[ZoneFrames] = []
    for span in spans:
        start, end = min(span.start_pfn, frames), min(span.end_pfn, frames)
        free = [0] * (max_order + 1)
        reported = [0] * (max_order + 1)
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
                pfn = seg_start
                while pfn < seg_end:
                    order = _largest_block(pfn, seg_end, max_order)
                    is_reported = uptodate[pfn]
                    free[order] += 1
                    block_pfn.append(pfn)
                    block_order.append(order)
                    block_reported.append(is_reported)
                    if is_reported:
                        reported[order] += 1
                    code = (REPORTED_CODE if is_reported else FREE_CODE) + order
                    kinds[pfn : pfn + (1 << order)] = bytes((code,)) * (1 << order)
                    pfn += 1 << order
            pos = run_end
        counts = {name: kinds.count(code, start, end) for code, name in enumerate(KINDS)}
        zone = ZoneFrames(span.node, span.zone, start, end, free, reported, counts)
        counts["reported"] = zone.reported_pages
        counts["free"] = zone.free_pages - zone.reported_pages
        zones.append(zone)
    return FrameReading(frames, bytes(kinds), zones, block_pfn, block_order, block_reported)


def read_frames(
    spans: Sequence[ZoneSpan], path: str = PATH, max_order: int = DEFAULT_MAX_ORDER
) -> FrameReading:
    """Read the file and derive; KpageflagsError when it cannot be read."""
    t0 = perf_counter()
    raw = read_raw(path)
    t1 = perf_counter()
    reading = derive(raw, spans, max_order)
    reading.read_s, reading.derive_s = t1 - t0, perf_counter() - t1
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
