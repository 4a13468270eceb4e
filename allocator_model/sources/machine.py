"""Seed a node from this machine, exactly: its free blocks where they really are.

``machineread.read_seed(root)`` reads the machine into a ``MachineSeed`` (what comes
from which file is said there); ``node_from_seed`` builds a ``Node`` in that state, on
the newest kernel rules the model has, and the model's rules run forward from there:

- **free lists**: a free block is on its pageblock's list (Linux 6.10+ keeps them so:
  "migratetype hygiene").  The order within a list is not visible from user space: the
  unreported blocks come first in pfn order, then the reported ones (reporting puts what
  it reported back at the tail, ``__putback_isolated_page`` with ``FPI_TO_TAIL``).
- **allocated frames**: every other managed frame is an allocated order-0 page of its
  pageblock's type (kpageflags shows what holds a frame, not how it was allocated);
  pages on the per-cpu lists are not buddy pages and so are among them.
- **watermarks**, boost and ``lowmem_reserve``: the machine's, not recomputed.  The
  per-cpu lists (one per CPU with a pageset) are sized by the rules, as the kernel sizes
  them.
- **the host**: allocated and unreported free frames are resident; reported ones were
  discarded; absent ones are not backed.

The seed serialises to a small JSON document (``to_json``/``from_json``: the arrays
zlib-compressed), so a session seeded from a machine can be saved, exported, replayed and
tested without that machine.
"""

from __future__ import annotations

import base64
import functools
import json
import zlib
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..kernel.config import KERNELS, Migratetypes
from ..kernel.errors import ConfigError
from ..kernel.host import DISCARDED, NOT_BACKED, RESIDENT
from ..kernel.node import MAX_CPUS, Node, ZoneSpec
from ..kernel.pagestate import FILLS, PS_ALLOCATED, PS_FLAGGED, PS_FREE
from ..kernel.perpage import per_page_from
from ..kernel.watermarks import Watermarks
from .live import counted

FORMAT = "buddyscope-machine/1"
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
            f"{counted(self.frames, 'frame')} in {counted(len(self.zones), 'zone')}, "
            f"{counted(blocks, 'free block')} ({counted(free, 'page')}, {reported:,} of them "
            "reported) at their real pfns"
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
        # (laid out in a bytearray, then stored in the build's per-page storage: perpage.py)
        alloc_mt = bytearray(n)
        fills = [bytes([t]) * (1 << pbo) for t in range(z.nr_mt)]
        for b, t in enumerate(sz.pageblock_types):
            lo = max(0, ((z.first_pageblock + b) << pbo) - z.start_pfn)
            hi = min(n, ((z.first_pageblock + b + 1) << pbo) - z.start_pfn)
            alloc_mt[lo:hi] = fills[t][: hi - lo]
        z.alloc_mt = per_page_from(alloc_mt)
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
        alloc_order = z.page_state.translate(_ALLOC_OF_STATE)
        for start, pages in sz.absent:
            i = start - z.start_pfn
            alloc_order[i : i + pages] = bytes(pages)
        z.alloc_order = per_page_from(alloc_order)
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
