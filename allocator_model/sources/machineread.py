"""Read this machine into a seed (``machine.MachineSeed``): what comes from where.

``read_seed(root)`` reads ``live.read_live`` (``/proc/kpageflags`` frame by frame,
``/proc/zoneinfo``, ``/proc/pagetypeinfo``, the page reporting parameters):

- **zones**: start_pfn and spanned from ``/proc/zoneinfo``; present and managed too.
- **absent frames** (``ZoneSpec.absent``): the frames the buddy allocator never manages.
  Two kinds show in ``/proc/kpageflags``: frames with ``KPF_RESERVED`` (memblock
  reservations, and the sub-section holes the memory map covers, which
  ``init_unavailable_range`` marks reserved), and frames of holes without a memory map
  (a whole absent sub-section of ``PAGES_PER_SUBSECTION`` = 512 frames reads as 0,
  because ``pfn_to_online_page`` finds no page; ``spanned - present`` says how many).
  On this VM their sum equals
  ``spanned - managed`` of every zone exactly; where it does not, a note says by how much.
- **free blocks**: every free block at its pfn and order, recovered from the buddy runs
  (``kpageflags.derive``), with ``PG_reported`` (``KPF_UPTODATE`` on the head) as the
  reported mark.  The file is read while the kernel changes it: two free buddies of equal
  order (which the kernel would have merged) are merged here, and a note counts them.
- **watermarks**, boost and ``lowmem_reserve`` (the ``protection:`` line): from
  ``/proc/zoneinfo`` as they are.  The first CPU's ``batch``/``high`` as read are kept
  (a 6.x ``high`` tunes itself, so the value read is one moment of it).
- **pageblock types**: matched to ``/proc/pagetypeinfo``.  ``/proc/kpageflags`` has no
  migratetype, so the types are assigned (``assign_pageblocks``): each zone gets exactly
  the file's number of pageblocks of every type, and the free blocks of each (type,
  order) come as close to the file's list lengths as the frames allow (see there).
"""

from __future__ import annotations

import heapq
import os
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..kernel.config import Migratetypes
from ..kernel.errors import ConfigError
from .kpageflags import OFFLINE, OTHER, PAGETABLE, RESERVED, SLAB, FrameReading
from .live import LiveSnapshot, ZoneInfo, counted, read_live
from .machine import MachineSeed, SeedZone
from .procfs import ProcParseError, parse_buddyinfo

#: PAGES_PER_SUBSECTION on x86-64 (SUBSECTION_SHIFT 21): the smallest hole without a
#: memory map.
SUBSECTION_PAGES = 512


def read_seed_text(root: str = "/") -> str:
    """``read_seed(root).to_json()``: what a server's worker process sends back."""
    return read_seed(root).to_json()


class SeedError(ConfigError):
    """This machine cannot be seeded from; the message says why in a user's words."""


def read_seed(root: str = "/") -> MachineSeed:
    """Read the machine under ``root`` (``/`` or a recorded tree) into a seed."""
    snap = read_live(root)
    # /proc/buddyinfo again: how much the free lists moved while the frames were read.
    after = _read_text(os.path.join(root, "proc", "buddyinfo"))
    release = _read_text(os.path.join(root, "proc", "sys", "kernel", "osrelease"))
    mfk = _read_text(os.path.join(root, "proc", "sys", "vm", "min_free_kbytes"))
    try:
        rows = {r.zone: r.counts for r in parse_buddyinfo(after)} if after else {}
    except ProcParseError:
        rows = {}
    return seed_from_snapshot(
        snap, release or "", int(mfk) if mfk and mfk.isdigit() else None, rows
    )


def _read_text(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def seed_from_snapshot(
    snap: LiveSnapshot,
    release: str = "",
    min_free_kbytes: int | None = None,
    buddyinfo_after: Mapping[str, Sequence[int]] | None = None,
) -> MachineSeed:
    """A seed from one reading of the machine (frames, zoneinfo, pagetypeinfo);
    ``buddyinfo_after``, /proc/buddyinfo read again after the frames, per zone, says how
    far the free lists moved during the read (the notes give it)."""
    frames = snap.frames
    if not isinstance(frames, FrameReading):  # None, or read without the map
        why = " ".join(m for m in snap.messages if "kpageflags" in m) or " ".join(snap.messages)
        raise SeedError(f"this machine cannot be seeded frame by frame: {why}")
    info = snap.pagetypeinfo
    notes: list[str] = []
    if info is None:
        notes.append(
            "no /proc/pagetypeinfo: every pageblock is Movable and every free block on a "
            "Movable list"
        )
        migratetypes = Migratetypes.for_config(False).names
        pageblock_order = 9
    else:
        migratetypes = Migratetypes.from_names(tuple(info["migratetypes"])).names
        pageblock_order = int(info["pageblock_order"])
    max_order = max(len(z.free) for z in frames.zones)
    by_name = {z.zone: z for z in snap.zoneinfo}
    kernel_zone_names = [z.zone for z in snap.zoneinfo]
    params = {**snap.reporting, **snap.reporting_extra}
    order = params.get("page_reporting_order")
    reporting_order = int(order) if order is not None and order.isdigit() else None
    before = {r["zone"]: r["counts"] for r in snap.buddyinfo}
    zones: list[SeedZone] = []
    for zf in frames.zones:
        zi = by_name.get(zf.zone)
        if zi is None or zi.spanned is None or zi.start_pfn is None:
            raise SeedError(f"/proc/zoneinfo has no span for zone {zf.zone}")
        moved = None
        if buddyinfo_after and zf.zone in before and zf.zone in buddyinfo_after:
            moved = sum(
                abs(a - b) for a, b in zip(buddyinfo_after[zf.zone], before[zf.zone], strict=False)
            )
        zones.append(
            _seed_zone(
                frames,
                zf.zone,
                zi,
                info,
                migratetypes,
                pageblock_order,
                max_order,
                pageblock_order if reporting_order is None else reporting_order,
                notes,
                moved,
            )
        )
    _fill_reserves(zones, snap.zoneinfo, kernel_zone_names)
    seed = MachineSeed(
        release=release,
        migratetypes=migratetypes,
        max_order=max_order,
        pageblock_order=pageblock_order,
        min_free_kbytes=min_free_kbytes,
        reporting_order=reporting_order,
        reporting_params=params,
        cpus=max((z.cpus or 1 for z in snap.zoneinfo), default=1),
        zones=tuple(zones),
        notes=tuple(notes),
        read_ms=round((frames.read_s + frames.derive_s) * 1000, 1),
    )
    seed.check()
    return seed


def _fill_reserves(
    zones: list[SeedZone], zoneinfo: list[ZoneInfo], kernel_names: list[str]
) -> None:
    """``protection:`` lists lowmem_reserve against every kernel zone: keep the seed's."""
    by_name = {z.zone: z for z in zoneinfo}
    for k, z in enumerate(zones):
        protection = by_name[z.name].protection or []
        row = []
        for other in zones:
            j = kernel_names.index(other.name)
            row.append(protection[j] if j < len(protection) else 0)
        zones[k] = replace(z, lowmem_reserve=tuple(row))


def _absent_ranges(kinds: bytes, start: int, end: int, unmanaged: int) -> list[tuple[int, int]]:
    """The frames of ``[start, end)`` the buddy allocator does not manage, as ranges:
    every reserved frame, then ``unmanaged`` frames more taken from runs of flagless frames.

    A frame without a struct page (a hole) reads as 0, and so does memory taken out of
    the zone since boot (offline or unplugged), but also a kernel page that carries no
    flag (a driver's or vmalloc's).  They are told apart by size: the runs of aligned
    sub-sections of flagless (or ``PageOffline``) frames, the longest first, make up
    the ``spanned - managed`` frames /proc/zoneinfo counts beyond the reserved ones."""
    mask = bytearray(kinds[start:end].translate(_RESERVED_TABLE))
    left = unmanaged - mask.count(1)
    flagless = kinds[start:end].translate(_FLAGLESS_TABLE)
    ones = b"\x01" * SUBSECTION_PAGES
    runs: list[list[int]] = []
    first = -(-start // SUBSECTION_PAGES) * SUBSECTION_PAGES
    for at in range(first - start, end - start - SUBSECTION_PAGES + 1, SUBSECTION_PAGES):
        if flagless.startswith(ones, at):
            if runs and runs[-1][0] + runs[-1][1] == at:
                runs[-1][1] += SUBSECTION_PAGES
            else:
                runs.append([at, SUBSECTION_PAGES])
    for at, n in sorted(runs, key=lambda r: (-r[1], r[0])):
        if left <= 0:
            break
        take = min(n, left // SUBSECTION_PAGES * SUBSECTION_PAGES)
        mask[at : at + take] = b"\x01" * take
        left -= take
    out = []
    pos = mask.find(1)
    while pos >= 0:
        stop = mask.find(0, pos)
        stop = len(mask) if stop < 0 else stop
        out.append((start + pos, stop - pos))
        pos = mask.find(1, stop)
    return out


_RESERVED_TABLE = bytes(1 if code == RESERVED else 0 for code in range(256))
_FLAGLESS_TABLE = bytes(1 if code in (OTHER, OFFLINE) else 0 for code in range(256))
_KERNEL_TABLE = bytes(1 if code in (SLAB, PAGETABLE, OTHER) else 0 for code in range(256))


def _merge_buddies(pfns: list[int], orders: list[int], reported: list[int], max_order: int) -> int:
    """Merge free buddies of equal order (below the top order), as ``__free_one_page``
    would have: a reading taken while the kernel worked can catch both halves apart.
    The merged block is not reported (a merge clears ``PG_reported``).  Returns merges."""
    merges = 0
    k = 1
    while k < len(pfns):
        p, o = pfns[k - 1], orders[k - 1]
        if o == orders[k] and o < max_order - 1 and p ^ (1 << o) == pfns[k] and p < pfns[k]:
            orders[k - 1] = o + 1
            reported[k - 1] = 0
            del pfns[k], orders[k], reported[k]
            merges += 1
            k = max(1, k - 1)  # the bigger block may now pair with the one before it
        else:
            k += 1
    return merges


def _seed_zone(
    frames: FrameReading,
    name: str,
    zi: ZoneInfo,
    info: dict[str, Any] | None,
    migratetypes: tuple[str, ...],
    pageblock_order: int,
    max_order: int,
    reporting_order: int,
    notes: list[str],
    moved: int | None = None,
) -> SeedZone:
    assert zi.start_pfn is not None and zi.spanned is not None
    start, end = zi.start_pfn, zi.start_pfn + zi.spanned
    if end > frames.frames:
        raise SeedError(
            f"zone {name} spans pfns {start}..{end - 1} but /proc/kpageflags has only "
            f"{frames.frames} frames"
        )
    # The zone's free blocks (the reading lists every zone's, in pfn order).
    lo = bisect_left(frames.block_pfn, start)
    hi = bisect_left(frames.block_pfn, end)
    pfns = list(frames.block_pfn[lo:hi])
    orders = list(frames.block_order[lo:hi])
    reported = list(frames.block_reported[lo:hi])
    merges = _merge_buddies(pfns, orders, reported, max_order)
    if merges:
        notes.append(
            f"zone {name}: {counted(merges, 'pair')} of free buddies of equal order were "
            "read apart (the kernel merged or split them during the read) and are merged"
        )
    managed = zi.managed if zi.managed is not None else zi.spanned
    absent = _absent_ranges(frames.kinds, start, end, zi.spanned - managed)
    absent_pages = sum(n for _, n in absent)
    if zi.spanned - absent_pages != managed:
        notes.append(
            f"zone {name}: the frames show {counted(zi.spanned - absent_pages, 'page')} to "
            f"manage, /proc/zoneinfo says {managed:,}: the model manages what the frames show"
        )
    low = [k for k, o in enumerate(orders) if reported[k] and o < reporting_order]
    if low:
        notes.append(
            f"zone {name}: {counted(len(low), 'free block')} below page_reporting_order "
            f"{reporting_order} {'carries' if len(low) == 1 else 'carry'} PG_reported, which "
            "mainline never sets there (this kernel's own reporting, not documented): "
            f"{'it is' if len(low) == 1 else 'they are'} seeded unreported"
        )
        for k in low:
            reported[k] = 0
    nr_types = len(migratetypes)
    row_free = None
    blocks_row = None
    if info is not None:
        row_free = tuple(
            tuple(r["counts"])
            for mt in migratetypes
            for r in info["free"]
            if r["zone"] == name and r["migratetype"] == mt
        )
        rows = [r for r in info["blocks"] if r["zone"] == name]
        blocks_row = tuple(rows[0]["counts"]) if rows else None
        if len(row_free) != nr_types:
            row_free = None
    types, assign_notes = assign_pageblocks(
        name,
        start,
        end,
        pageblock_order,
        frames.kinds,
        absent,
        pfns,
        orders,
        blocks_row,
        row_free,
        migratetypes,
        moved,
    )
    notes.extend(assign_notes)
    return SeedZone(
        name=name,
        start_pfn=start,
        spanned=zi.spanned,
        present=zi.present if zi.present is not None else zi.spanned,
        managed=zi.spanned - absent_pages,
        absent=tuple(absent),
        watermarks=(zi.min or 0, zi.low or 0, zi.high or 0),
        boost=zi.boost or 0,
        lowmem_reserve=(),
        pcp_batch=zi.pcp_batch,
        pcp_high=zi.pcp_high,
        pageblock_types=types,
        block_pfn=tuple(pfns),
        block_order=bytes(orders),
        block_reported=bytes(reported),
        pagetypeinfo_free=row_free,
    )


# --- pageblock types ------------------------------------------------------------------


def assign_pageblocks(
    zone: str,
    start: int,
    end: int,
    pageblock_order: int,
    kinds: bytes,
    absent: list[tuple[int, int]],
    pfns: list[int],
    orders: list[int],
    counts: tuple[int, ...] | None,
    free: tuple[tuple[int, ...], ...] | None,
    migratetypes: tuple[str, ...],
    moved: int | None = None,
) -> tuple[bytes, list[str]]:
    """A migratetype for every pageblock of a zone, matched to ``/proc/pagetypeinfo``.

    ``/proc/kpageflags`` carries no migratetype, so this chooses, and says how well the
    choice fits.  The constraints, in priority order:

    1. each type gets exactly the file's number of pageblocks (``counts``, the
       "Number of blocks type" row; pageblocks whose first frame is in a hole without a
       memory map are not counted, as ``pagetypeinfo_showblockcount`` skips them);
    2. a free block of pageblock order or more lies on one type's pageblocks: the
       file's blocks of that order of each type other than the commonest (Movable)
       are the lowest-pfn ones;
    3. the smaller free blocks of each (type, order) come as close as the frames allow
       to the file's list lengths (``free``): for each type other than the commonest,
       in the file's order, pageblocks are picked greedily by how many of the free
       pages still wanted they would explain minus the free pages they would add beyond
       that; ties (and pageblocks without free pages) go to the pageblock with most
       frames of the kernel's own (slab, page tables, untyped kernel pages), which is
       where Unmovable and Reclaimable allocations live;
    4. every other pageblock has the commonest type.

    The note says how far the free lists are from the file's, in two parts.  The file is
    read before the frames, and reading them takes a second or more, while the small
    orders of a busy zone change by thousands of blocks a second (``moved``: how far
    /proc/buddyinfo read before and after the frames differs), so the frames hold other
    numbers of blocks per order than the file listed.  No choice of types mends that, and
    it is most of the difference: in Normal on this VM under load 472-64,208 blocks of
    1,142-66,322 (the rest 560-2,114, 1-2 % of the blocks), on the recording 2,795 of
    4,101.  The rest is the choice of types: which pageblocks hold the kernel's free
    blocks of which type is not in the frames, and only the totals per type are known.
    """
    pbo = pageblock_order
    first = start >> pbo
    nb = ((end - 1) >> pbo) - first + 1
    nr_types = len(migratetypes)
    if counts is None:
        return bytes([migratetypes.index("Movable")]) * nb, []
    default = max(range(nr_types), key=lambda t: counts[t])
    types = bytearray([default]) * nb
    assigned = bytearray(nb)
    # Pageblocks the kernel does not count: their first frame is in a hole.
    for s, n in absent:
        if n < SUBSECTION_PAGES:
            continue
        for b in range(max(s, start) >> pbo, ((s + n - 1) >> pbo) + 1):
            head = max(b << pbo, start)
            if s <= head < s + n and kinds[head] == OTHER:
                assigned[b - first] = 1
    need_blocks = list(counts)
    need = [list(row) for row in free] if free is not None else [[0] * 16 for _ in counts]
    small: list[list[int]] = [[] for _ in range(nb)]  # free block orders per pageblock
    whole: list[tuple[int, int]] = []  # free blocks of pageblock order or more
    for pfn, order in zip(pfns, orders, strict=True):
        if order >= pbo:
            whole.append((pfn, order))
        else:
            small[(pfn >> pbo) - first].append(order)
    for b0, order in ((p >> pbo, o) for p, o in whole):
        for b in range(b0, b0 + (1 << (order - pbo))):
            assigned[b - first] = 2  # whole-free: typed with its block below
    others = [t for t in range(nr_types) if t != default and counts[t]]
    # 2. whole free blocks of the other types: the lowest-pfn ones of each order
    for t in others:
        for pfn, order in whole:
            span = 1 << (order - pbo)
            b = (pfn >> pbo) - first
            if need[t][order] > 0 and assigned[b] == 2 and need_blocks[t] >= span:
                types[b : b + span] = bytes([t]) * span
                assigned[b : b + span] = b"\x03" * span
                need[t][order] -= 1
                need_blocks[t] -= span
    # 3. partly free and allocated pageblocks, greedily per type
    kernel = kinds[start:end].translate(_KERNEL_TABLE)
    offset = start - (first << pbo)  # the zone's first pageblock may start before it

    def kernelness(b: int) -> int:
        lo = max(0, (b << pbo) - offset)
        return kernel.count(1, lo, lo + (1 << pbo))

    def score(b: int, want: list[int]) -> int:
        s = 0
        for order in small[b]:
            s += (1 << order) if want[order] > 0 else -(1 << order)
        return s

    candidates = [b for b in range(nb) if assigned[b] == 0]
    kernel_frames = {b: kernelness(b) for b in candidates} if others else {}
    for t in others:
        want = need[t]
        heap = [
            (-score(b, want) if small[b] else 0, -kernel_frames[b], b)
            for b in candidates
            if assigned[b] == 0
        ]
        heapq.heapify(heap)
        while need_blocks[t] > 0 and heap:
            neg, kn, b = heapq.heappop(heap)
            now = score(b, want) if small[b] else 0
            if -now != neg:  # the score fell since it was pushed: re-queue (lazy greedy)
                heapq.heappush(heap, (-now, kn, b))
                continue
            types[b] = t
            assigned[b] = 3
            need_blocks[t] -= 1
            for order in small[b]:
                want[order] -= 1
    notes = []
    short = [migratetypes[t] for t in others if need_blocks[t] > 0]
    if short:
        notes.append(f"zone {zone}: not enough pageblocks to give {', '.join(short)} their count")
    if free is not None:
        got = [[0] * len(free[0]) for _ in range(nr_types)]
        for pfn, order in zip(pfns, orders, strict=True):
            got[types[(pfn >> pbo) - first]][order] += 1
        off = sum(
            abs(g - f)
            for gr, fr in zip(got, free, strict=True)
            for g, f in zip(gr, fr, strict=True)
        )
        total = sum(sum(r) for r in free)
        per_order = sum(
            abs(sum(g[k] for g in got) - sum(f[k] for f in free)) for k in range(len(free[0]))
        )
        moving = (
            ""
            if moved is None
            else f": /proc/buddyinfo read before and after them differs by {moved:,}"
        )
        notes.append(
            f"zone {zone}: pageblock types match /proc/pagetypeinfo's counts exactly; the free "
            f"lists differ from its list lengths by {off:,} of {counted(total, 'block')}: "
            f"{per_order:,} because the frames hold other numbers of blocks per order than "
            f"the file listed (the small orders of a busy zone change while the frames are "
            f"read{moving}), {off - per_order:,} from the pageblock types chosen "
            "(kpageflags has no migratetype)"
        )
    return bytes(types), notes
