"""Seed a node from this machine, exactly: its free blocks where they really are.

``read_seed(root)`` reads the machine (``live.read_live``: ``/proc/kpageflags`` frame by
frame, ``/proc/zoneinfo``, ``/proc/pagetypeinfo``, the page reporting parameters) into a
``MachineSeed``; ``node_from_seed`` builds a ``Node`` in that state, on the newest kernel
rules the model has, and the model's rules run forward from there.  What comes from
where:

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
  ``/proc/zoneinfo`` as they are, not recomputed.  The per-cpu lists (one per CPU with a
  pageset) are sized by the rules from those managed pages and marks, as the kernel
  sizes them; the first CPU's ``batch``/``high`` as read are kept beside them (a 6.x
  ``high`` tunes itself, so the value read is one moment of it).
- **pageblock types**: matched to ``/proc/pagetypeinfo``.  ``/proc/kpageflags`` has no
  migratetype, so the types are assigned (``assign_pageblocks``): each zone gets exactly
  the file's number of pageblocks of every type, and the free blocks of each (type,
  order) come as close to the file's list lengths as the frames allow (see there).
- **free lists**: a free block is on its pageblock's list (Linux 6.10+ keeps them so:
  "migratetype hygiene").  The order within a list is not visible from user space: the
  unreported blocks come first in pfn order, then the reported ones (reporting puts what
  it reported back at the tail, ``__putback_isolated_page`` with ``FPI_TO_TAIL``).
- **allocated frames**: every other managed frame is an allocated order-0 page of its
  pageblock's type (kpageflags shows what holds a frame, not how it was allocated);
  pages on the per-cpu lists are not buddy pages and so are among them.
- **the host**: allocated and unreported free frames are resident; reported ones were
  discarded; absent ones are not backed.

The seed serialises to a small JSON document (``to_json``/``from_json``: the arrays
zlib-compressed), so a session seeded from a machine can be saved, exported, replayed and
tested without that machine.
"""

from __future__ import annotations

import base64
import functools
import heapq
import json
import os
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..kernel.config import KERNELS, Migratetypes
from ..kernel.errors import ConfigError
from ..kernel.host import DISCARDED, NOT_BACKED, RESIDENT
from ..kernel.node import MAX_CPUS, Node, ZoneSpec
from ..kernel.pagestate import FILLS, PS_ALLOCATED, PS_FLAGGED, PS_FREE
from ..kernel.watermarks import Watermarks
from .kpageflags import OFFLINE, OTHER, PAGETABLE, RESERVED, SLAB, FrameReading
from .live import LiveSnapshot, ZoneInfo, read_live

FORMAT = "buddyscope-machine/1"
#: PAGES_PER_SUBSECTION on x86-64 (SUBSECTION_SHIFT 21): the smallest hole without a
#: memory map.
SUBSECTION_PAGES = 512
#: Largest seed document accepted (characters): a 64 GiB machine's is a few hundred KB.
MAX_SEED_CHARS = 16 << 20


def newest_kernel() -> str:
    """The newest kernel rule set the model has: a seeded machine runs on it."""
    return max(KERNELS, key=lambda v: tuple(int(x) for x in v.split(".")))


@dataclass(frozen=True)
class SeedZone:
    """One zone of a machine, as seeded: its span, what it manages, its marks, its
    pageblock types and its free blocks (absolute pfns, ascending)."""

    name: str
    start_pfn: int
    spanned: int
    present: int
    managed: int
    absent: tuple[tuple[int, int], ...]
    watermarks: tuple[int, int, int]  # min, low, high (without the boost)
    boost: int
    lowmem_reserve: tuple[int, ...]  # against requests preferring each of the seed's zones
    pcp_batch: int | None
    pcp_high: int | None
    pageblock_types: bytes  # a migratetype index per pageblock, from the zone's first
    block_pfn: tuple[int, ...]
    block_order: bytes
    block_reported: bytes
    #: per migratetype and order: free blocks /proc/pagetypeinfo listed (None: no file)
    pagetypeinfo_free: tuple[tuple[int, ...], ...] | None = None

    @property
    def free_pages(self) -> int:
        return sum(1 << k for k in self.block_order)

    @property
    def reported_pages(self) -> int:
        return sum(1 << k for k, r in zip(self.block_order, self.block_reported, strict=True) if r)

    def free_by_type(self, pageblock_order: int, nr_types: int, orders: int) -> list[list[int]]:
        """Free blocks per (migratetype, order) as seeded (each on its pageblock's list)."""
        out = [[0] * orders for _ in range(nr_types)]
        first = self.start_pfn >> pageblock_order
        for pfn, order in zip(self.block_pfn, self.block_order, strict=True):
            out[self.pageblock_types[(pfn >> pageblock_order) - first]][order] += 1
        return out


@dataclass(frozen=True)
class MachineSeed:
    release: str  # uname -r of the machine read, or "" when unknown
    migratetypes: tuple[str, ...]
    max_order: int
    pageblock_order: int
    min_free_kbytes: int | None
    reporting_order: int | None  # page_reporting_order
    reporting_params: dict[str, str]  # every page_reporting parameter, as read
    cpus: int  # CPUs with per-cpu lists
    zones: tuple[SeedZone, ...]
    notes: tuple[str, ...] = ()
    read_ms: float = 0.0

    @property
    def frames(self) -> int:
        return sum(z.spanned for z in self.zones)

    def sizes(self) -> list[tuple[str, int]]:
        return [(z.name, z.spanned) for z in self.zones]

    def summary(self) -> str:
        free = sum(z.free_pages for z in self.zones)
        reported = sum(z.reported_pages for z in self.zones)
        blocks = sum(len(z.block_pfn) for z in self.zones)
        return (
            f"this machine{f' (Linux {self.release})' if self.release else ''}: "
            f"{self.frames:,} frames in {len(self.zones)} zones, {blocks:,} free blocks "
            f"({free:,} pages, {reported:,} of them reported) at their real pfns"
        )

    # --- the document -------------------------------------------------------------------

    def to_json(self) -> str:
        zones = []
        for z in self.zones:
            deltas = array("Q", _deltas(z.block_pfn))
            zones.append(
                {
                    "name": z.name,
                    "start_pfn": z.start_pfn,
                    "spanned": z.spanned,
                    "present": z.present,
                    "managed": z.managed,
                    "absent": [list(r) for r in z.absent],
                    "watermarks": list(z.watermarks),
                    "boost": z.boost,
                    "lowmem_reserve": list(z.lowmem_reserve),
                    "pcp_batch": z.pcp_batch,
                    "pcp_high": z.pcp_high,
                    "pageblock_types": _pack(z.pageblock_types),
                    "block_pfn_deltas": _pack(deltas.tobytes()),
                    "block_order": _pack(z.block_order),
                    "block_reported": _pack(z.block_reported),
                    "pagetypeinfo_free": None
                    if z.pagetypeinfo_free is None
                    else [list(r) for r in z.pagetypeinfo_free],
                }
            )
        return json.dumps(
            {
                "format": FORMAT,
                "release": self.release,
                "migratetypes": list(self.migratetypes),
                "max_order": self.max_order,
                "pageblock_order": self.pageblock_order,
                "min_free_kbytes": self.min_free_kbytes,
                "reporting_order": self.reporting_order,
                "reporting_params": self.reporting_params,
                "cpus": self.cpus,
                "notes": list(self.notes),
                "zones": zones,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> MachineSeed:
        """The seed a document holds; ``ConfigError`` names what is wrong with it."""
        if len(text) > MAX_SEED_CHARS:
            raise ConfigError(f"the machine seed is over {MAX_SEED_CHARS} characters")
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"the machine seed is not JSON: {exc}") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ConfigError(f"not a machine seed: its format must be {FORMAT!r}")
        try:
            mts = Migratetypes.from_names(tuple(doc["migratetypes"]))
            zones = tuple(_zone_from(z, mts.count) for z in doc["zones"])
            seed = cls(
                release=str(doc["release"]),
                migratetypes=mts.names,
                max_order=int(doc["max_order"]),
                pageblock_order=int(doc["pageblock_order"]),
                min_free_kbytes=_opt_int(doc["min_free_kbytes"]),
                reporting_order=_opt_int(doc["reporting_order"]),
                reporting_params={str(k): str(v) for k, v in doc["reporting_params"].items()},
                cpus=int(doc["cpus"]),
                zones=zones,
                notes=tuple(str(n) for n in doc["notes"]),
            )
        except ConfigError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, zlib.error) as exc:
            raise ConfigError(f"the machine seed is damaged: {type(exc).__name__} {exc}") from None
        seed.check()
        return seed

    def check(self) -> None:
        """Refuse a seed the model cannot hold (``ConfigError``), before any node is built."""
        if not 1 <= self.max_order <= 16 or not 0 <= self.pageblock_order < self.max_order:
            raise ConfigError(
                f"max_order {self.max_order} / pageblock_order {self.pageblock_order} "
                "are out of range"
            )
        if not self.zones:
            raise ConfigError("the machine seed holds no zone")
        if not 1 <= self.cpus <= MAX_CPUS:
            raise ConfigError(f"cpus must be 1..{MAX_CPUS}, got {self.cpus}")
        pbo = self.pageblock_order
        for z in self.zones:
            first, last = z.start_pfn >> pbo, (z.start_pfn + z.spanned - 1) >> pbo
            if len(z.pageblock_types) != last - first + 1:
                raise ConfigError(f"zone {z.name}: pageblock types do not cover the zone")
            if any(t >= len(self.migratetypes) for t in set(z.pageblock_types)):
                raise ConfigError(f"zone {z.name}: a pageblock type is out of range")
            if not len(z.block_pfn) == len(z.block_order) == len(z.block_reported):
                raise ConfigError(f"zone {z.name}: the free block arrays differ in length")
            end = z.start_pfn
            for pfn, order in zip(z.block_pfn, z.block_order, strict=True):
                if order >= self.max_order or pfn & ((1 << order) - 1) or pfn < end:
                    raise ConfigError(
                        f"zone {z.name}: free block at pfn {pfn} order {order} is misaligned, "
                        "out of order or overlaps the one before"
                    )
                end = pfn + (1 << order)
            if end > z.start_pfn + z.spanned:
                raise ConfigError(f"zone {z.name}: a free block ends past the zone")


def _pack(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 6)).decode("ascii")


def _unpack(text: str) -> bytes:
    return zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True))


def _deltas(values: tuple[int, ...]) -> list[int]:
    prev = 0
    out = []
    for v in values:
        out.append(v - prev)
        prev = v
    return out


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _zone_from(z: dict[str, Any], nr_types: int) -> SeedZone:
    deltas = array("Q")
    deltas.frombytes(_unpack(z["block_pfn_deltas"]))
    pfns: list[int] = []
    at = 0
    for d in deltas:
        at += d
        pfns.append(at)
    free = z["pagetypeinfo_free"]
    return SeedZone(
        name=str(z["name"]),
        start_pfn=int(z["start_pfn"]),
        spanned=int(z["spanned"]),
        present=int(z["present"]),
        managed=int(z["managed"]),
        absent=tuple((int(s), int(n)) for s, n in z["absent"]),
        watermarks=(int(z["watermarks"][0]), int(z["watermarks"][1]), int(z["watermarks"][2])),
        boost=int(z["boost"]),
        lowmem_reserve=tuple(int(x) for x in z["lowmem_reserve"]),
        pcp_batch=_opt_int(z["pcp_batch"]),
        pcp_high=_opt_int(z["pcp_high"]),
        pageblock_types=_unpack(z["pageblock_types"]),
        block_pfn=tuple(pfns),
        block_order=_unpack(z["block_order"]),
        block_reported=_unpack(z["block_reported"]),
        pagetypeinfo_free=None
        if free is None
        else tuple(tuple(int(c) for c in row) for row in free[:nr_types]),
    )


@dataclass(frozen=True)
class MachineStart:
    """A node laid out as a machine was (``sources.source.NodeStart``): its zone sizes
    are known from the seed before any memory is spent on the node."""

    seed: MachineSeed

    def zone_sizes(self) -> tuple[tuple[str, int], ...]:
        return tuple(self.seed.sizes())

    def build(self, options: Mapping[str, Any]) -> Node:
        return node_from_seed(self.seed, **options)


@functools.lru_cache(maxsize=4)
def machine_start(text: str) -> MachineStart:
    """The start a seed document describes (parsed once per text; ``ConfigError``)."""
    return MachineStart(MachineSeed.from_json(text))


def read_seed_text(root: str = "/") -> str:
    """``read_seed(root).to_json()``: what a server's worker process sends back."""
    return read_seed(root).to_json()


# --- reading a machine -------------------------------------------------------------------


class SeedError(ConfigError):
    """This machine cannot be seeded from; the message says why in a user's words."""


def read_seed(root: str = "/") -> MachineSeed:
    """Read the machine under ``root`` (``/`` or a recorded tree) into a seed."""
    snap = read_live(root)
    release = _read_text(os.path.join(root, "proc", "sys", "kernel", "osrelease"))
    mfk = _read_text(os.path.join(root, "proc", "sys", "vm", "min_free_kbytes"))
    seed = seed_from_snapshot(snap, release or "", int(mfk) if mfk and mfk.isdigit() else None)
    return seed


def _read_text(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def seed_from_snapshot(
    snap: LiveSnapshot, release: str = "", min_free_kbytes: int | None = None
) -> MachineSeed:
    """A seed from one reading of the machine (frames, zoneinfo, pagetypeinfo)."""
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
    zones: list[SeedZone] = []
    for zf in frames.zones:
        zi = by_name.get(zf.zone)
        if zi is None or zi.spanned is None or zi.start_pfn is None:
            raise SeedError(f"/proc/zoneinfo has no span for zone {zf.zone}")
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
            f"zone {name}: {merges} pairs of free buddies of equal order were read apart "
            "(the kernel merged or split them during the read) and are merged"
        )
    managed = zi.managed if zi.managed is not None else zi.spanned
    absent = _absent_ranges(frames.kinds, start, end, zi.spanned - managed)
    absent_pages = sum(n for _, n in absent)
    if zi.spanned - absent_pages != managed:
        notes.append(
            f"zone {name}: the frames show {zi.spanned - absent_pages} pages to manage, "
            f"/proc/zoneinfo says {managed}: the model manages what the frames show"
        )
    low = [k for k, o in enumerate(orders) if reported[k] and o < reporting_order]
    if low:
        notes.append(
            f"zone {name}: {len(low)} free blocks below page_reporting_order "
            f"{reporting_order} carry PG_reported, which mainline never sets there (this "
            "kernel's own reporting, not documented): they are seeded unreported"
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

    The files are read a moment apart, so the small orders of a busy zone differ a little
    whatever the choice; the note says by how many blocks.
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
        notes.append(
            f"zone {zone}: pageblock types match /proc/pagetypeinfo's counts exactly; the free "
            f"lists differ from its list lengths by {off} of {total} blocks (the files are "
            "read a moment apart, and kpageflags has no migratetype)"
        )
    return bytes(types), notes


# --- building the node ----------------------------------------------------------------


def node_from_seed(seed: MachineSeed, /, **options: Any) -> Node:
    """A node in the seeded machine's state.  ``options`` are as for ``Node``; by default
    it runs the newest kernel rules with free page reporting (at the machine's
    ``page_reporting_order``) and one CPU's pcp lists."""
    for key in ("zones", "max_order", "pageblock_order", "cma"):
        if key in options:
            raise ConfigError(f"a machine seed sets {key} itself; do not pass {key}=")
    options.setdefault("kernel", newest_kernel())
    options.setdefault("hinting", "reporting")
    options.setdefault("pcp", True)
    options.setdefault("cpus", seed.cpus)
    options.setdefault("thp", False)
    if seed.min_free_kbytes is not None:
        options.setdefault("min_free_kbytes", seed.min_free_kbytes)
    if options["hinting"] == "reporting" and seed.reporting_order is not None:
        hinting_options = dict(options.get("hinting_options") or {})
        hinting_options.setdefault("order", seed.reporting_order)
        options["hinting_options"] = hinting_options
    zones = [ZoneSpec(z.name, z.start_pfn, z.spanned, z.absent) for z in seed.zones]
    return Node(
        zones=zones,
        max_order=seed.max_order,
        pageblock_order=seed.pageblock_order,
        cma="CMA" in seed.migratetypes,
        _populate=functools.partial(_populate, seed=seed),
        **options,
    )


_HOST_OF_STATE = bytes([RESIDENT, RESIDENT, DISCARDED]) + bytes(253)
_ALLOC_OF_STATE = bytes(1 if state == PS_ALLOCATED else 0 for state in range(256))


def _populate(node: Node, seed: MachineSeed) -> None:
    """Lay the seed's frames into the node (instead of booting): O(blocks + pageblocks)
    Python steps, the frames themselves by slices."""
    reported_marks = node.hinting == "reporting"
    pbo = seed.pageblock_order
    for z, sz in zip(node.zones, seed.zones, strict=True):
        n = z.spanned_pages
        z.pageblock_mt[:] = sz.pageblock_types
        z.nr_isolate_pageblock = z.pageblock_mt.count(z.mt_isolate)
        z.page_state[:] = FILLS[PS_ALLOCATED][0] * n
        fills = [bytes([t]) * (1 << pbo) for t in range(z.nr_mt)]
        for b, t in enumerate(sz.pageblock_types):
            lo = max(0, ((z.first_pageblock + b) << pbo) - z.start_pfn)
            hi = min(n, ((z.first_pageblock + b + 1) << pbo) - z.start_pfn)
            z.alloc_mt[lo:hi] = fills[t][: hi - lo]
        blocks = list(zip(sz.block_pfn, sz.block_order, sz.block_reported, strict=True))
        # The seeded state is step 0, not a list of events: none are made while laying it.
        events, z.events = z.events, None
        view, types, first, base = (
            z.page_state_view,
            sz.pageblock_types,
            z.first_pageblock,
            z.start_pfn,
        )
        add, isolate = z.add_to_free_list_tail, z.mt_isolate
        free_fill, flagged_fill = FILLS[PS_FREE], FILLS[PS_FLAGGED]
        free_pages = 0
        for want_reported in (0, 1):  # unreported first: reporting put the others at the tail
            for pfn, order, rep in blocks:
                if rep != want_reported:
                    continue
                i = pfn - base
                mt = types[(pfn >> pbo) - first]
                add(i, order, mt, "")
                if rep and reported_marks:
                    z.flag_block(i, order)
                    view[i : i + (1 << order)] = flagged_fill[order]
                else:
                    view[i : i + (1 << order)] = free_fill[order]
                if mt != isolate:
                    free_pages += 1 << order
        z.events = events
        z.nr_free_pages += free_pages
        # Every other frame is the head of an allocated order-0 page, but absent ones.
        z.alloc_order[:] = z.page_state.translate(_ALLOC_OF_STATE)
        for start, pages in sz.absent:
            i = start - z.start_pfn
            z.alloc_order[i : i + pages] = bytes(pages)
        backing = z.page_state.translate(_HOST_OF_STATE)
        if not reported_marks:  # reported on the machine: discarded on the host all the same
            for pfn, order, rep in blocks:
                if rep:
                    i = pfn - z.start_pfn
                    backing[i : i + (1 << order)] = bytes([DISCARDED]) * (1 << order)
        for start, pages in sz.absent:
            i = start - z.start_pfn
            backing[i : i + pages] = bytes([NOT_BACKED]) * pages
        node.host.backing[z.name][:] = backing
        node.host.resident_pages += backing.count(RESIDENT)
        # The machine's own marks, reserves and pcp sizes, not recomputed.
        z.set_watermarks(Watermarks(*sz.watermarks))
        z.set_watermark_boost(sz.boost)
        if sz.lowmem_reserve:
            z.lowmem_reserve = list(sz.lowmem_reserve)
