"""Configuration facts: kernel versions, migratetypes, orders.

The model follows the page allocator of four kernel releases.  5.3, 5.7 and 5.10 differ
in where a few paths put a block on its free list (``FPI_TO_TAIL`` and friends, the
5.10 series by David Hildenbrand), in whether free page reporting exists at all, in the
ceiling of the default ``min_free_kbytes`` and in which zones boost their watermarks.
6.12 (the LTS of late 2024) adds high-order per-cpu lists with self-tuning ``high``,
free lists that always match their pageblock's type, and fallbacks that claim a
pageblock or take one block without moving the rest (``docs/model.md`` has the table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .errors import ConfigError, UnknownMigratetype

# x86-64 with 4 KiB pages: orders 0..10 (MAX_ORDER 11, exclusive, up to 6.3; 6.4 renamed
# the top order MAX_PAGE_ORDER = 10, inclusive, with NR_PAGE_ORDERS = 11: the same range).
DEFAULT_MAX_ORDER: Final = 11
DEFAULT_PAGEBLOCK_ORDER: Final = 9
PAGE_SIZE: Final = 4096

# enum migratetype, in kernel order; the names are the /proc/pagetypeinfo strings.
MIGRATE_UNMOVABLE: Final = 0
MIGRATE_MOVABLE: Final = 1
MIGRATE_RECLAIMABLE: Final = 2
MIGRATE_PCPTYPES: Final = 3  # the first three have per-cpu lists
MIGRATE_HIGHATOMIC: Final = MIGRATE_PCPTYPES
# include/linux/mmzone.h (5.13+): orders up to this one are "cheap" and have pcp lists.
PAGE_ALLOC_COSTLY_ORDER: Final = 3

_NAMES_WITH_CMA = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate")
_NAMES_WITHOUT_CMA = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate")


@dataclass(frozen=True, slots=True)
class Migratetypes:
    """The migratetype enum of one kernel configuration (CONFIG_CMA on or off)."""

    names: tuple[str, ...]

    @classmethod
    def for_config(cls, cma: bool) -> Migratetypes:
        return cls(_NAMES_WITH_CMA if cma else _NAMES_WITHOUT_CMA)

    @classmethod
    def from_names(cls, names: tuple[str, ...]) -> Migratetypes:
        if names not in (_NAMES_WITH_CMA, _NAMES_WITHOUT_CMA):
            raise ConfigError(
                f"unsupported migratetype set {names!r}: expected the kernel's "
                f"{_NAMES_WITH_CMA!r} (CONFIG_CMA=y) or {_NAMES_WITHOUT_CMA!r}"
            )
        return cls(names)

    @property
    def count(self) -> int:  # MIGRATE_TYPES
        return len(self.names)

    @property
    def cma(self) -> int:  # -1 when CONFIG_CMA is off
        return self.names.index("CMA") if "CMA" in self.names else -1

    @property
    def isolate(self) -> int:  # MIGRATE_ISOLATE is always last
        return len(self.names) - 1

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise UnknownMigratetype(
                f"unknown migratetype {name!r}: this configuration has " + ", ".join(self.names)
            ) from None

    def fallbacks(self, mt: int) -> tuple[int, ...]:
        """``fallbacks[]`` of mm/page_alloc.c (5.x): where an empty type may steal from."""
        if mt == MIGRATE_UNMOVABLE:
            return (MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE)
        if mt == MIGRATE_MOVABLE:
            return (MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE)
        if mt == MIGRATE_RECLAIMABLE:
            return (MIGRATE_UNMOVABLE, MIGRATE_MOVABLE)
        return ()  # HighAtomic, CMA, Isolate are never fallback sources via this table


@dataclass(frozen=True, slots=True)
class KernelRules:
    """What differs between the modelled releases (spec §1.4, §1.6, §1.10, §3.1;
    ``docs/model.md`` has the table of rules by version with commits and functions)."""

    version: str
    # 5.10 (7fef431be9c9): __free_pages_core() frees boot/onlined memory with FPI_TO_TAIL.
    boot_free_to_tail: bool
    # 5.10 (47b6a24a2382): __putback_isolated_page() uses FPI_TO_TAIL.
    putback_to_tail: bool
    # 5.10 (293ffa5ebb9c): move_to_free_list() moves to the tail instead of the head.
    move_to_tail: bool
    # Free page reporting was merged in 5.7.
    has_reporting: bool
    # init_per_zone_wmark_min(): the clamp of the default min_free_kbytes (65536 in
    # 5.3; 262144 in 5.7.14, 5.10.7 and 6.12's calculate_min_free_kbytes()).
    min_free_kbytes_max: int
    # boost_watermark(): 5.7 and later never boost a zone smaller than four pageblocks.
    boost_needs_four_pageblocks: bool
    # 5.13 "mm/page_alloc: allow high-order pages to be stored on the per-cpu lists"
    # (pcp_allowed_order: orders <= PAGE_ALLOC_COSTLY_ORDER and the THP order), with
    # 6.7's self-tuning pcp->high between high_min and high_max (nr_pcp_high,
    # nr_pcp_alloc, nr_pcp_free) and zone_highsize()'s limits from the low watermark.
    high_order_pcp: bool = False
    # 6.10, Johannes Weiner's "mm: page_alloc: freelist migratetype hygiene" series:
    # a free block is always on the list of its pageblock's type.  A fallback either
    # claims the whole pageblock (moving its free blocks and retyping it) or takes one
    # block and leaves the rest where it is; __free_one_page retypes a merged buddy's
    # pageblock; __isolate_free_page moves the rest of a half-pageblock with
    # move_freepages_block; free_pcppages_bulk reads the pageblock's type at drain time;
    # blocks larger than a pageblock are freed pageblock by pageblock
    # (split_large_buddy).
    freelist_hygiene: bool = False
    # 5.18 (Zi Yan, "mm: page_alloc: avoid merging non-fallbackable pageblocks with
    # others"): from pageblock_order up, __free_one_page merges two pageblocks of
    # different types only if both are mergeable (Unmovable, Movable, Reclaimable), not
    # just when neither is isolated.
    merge_only_mergeable: bool = False
    # __rmqueue_fallback: ALLOC_NOFRAGMENT raises the search floor to pageblock_order
    # only for requests below it (Abel Wu's fix); 5.x raised it for every request.
    nofragment_floor_below_pageblock: bool = False


_KERNEL_6_12 = KernelRules(
    "6.12",
    boot_free_to_tail=True,
    putback_to_tail=True,
    move_to_tail=True,
    has_reporting=True,
    min_free_kbytes_max=262144,
    boost_needs_four_pageblocks=True,
    high_order_pcp=True,
    freelist_hygiene=True,
    merge_only_mergeable=True,
    nofragment_floor_below_pageblock=True,
)

KERNELS: dict[str, KernelRules] = {
    "5.3": KernelRules("5.3", False, False, False, False, 65536, False),
    "5.7": KernelRules("5.7", False, False, False, True, 262144, True),
    "5.10": KernelRules("5.10", True, True, True, True, 262144, True),
    "6.12": _KERNEL_6_12,
}


def kernel_rules(version: str) -> KernelRules:
    try:
        return KERNELS[version]
    except KeyError:
        raise ConfigError(
            f"unknown kernel version {version!r}: the model follows "
            + ", ".join(repr(v) for v in KERNELS)
        ) from None


@dataclass(frozen=True, slots=True)
class ZoneSpec:
    """A zone to create: its name, first pfn and number of pages it spans.

    ``absent`` lists (start_pfn, pages) ranges inside the zone that the buddy allocator
    never manages: holes in the memory map and memblock reservations (what makes
    /proc/zoneinfo's ``managed`` smaller than ``spanned``).  The model does not tell the
    two apart; their frames show as allocated and cannot be freed.

    It lives here with ``check_zone_specs``, in a module ``make compiled`` leaves
    interpreted (``node`` re-exports it): compiled, its constructor and every read of a
    field would refuse a value of the wrong type with a TypeError before the check could
    explain the mistake with a ``ConfigError``.
    """

    name: str
    start_pfn: int
    pages: int
    absent: tuple[tuple[int, int], ...] = ()


def check_int(name: str, value: object, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        bound = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ConfigError(f"{name} must be {bound}, got {value}")
    return value


def check_zone_specs(specs: tuple[ZoneSpec, ...]) -> None:
    """Raise ConfigError unless ``specs`` are zones a node can have (see ``ZoneSpec``)."""
    if not specs:
        raise ConfigError("a node needs at least one zone")
    names: set[str] = set()
    prev_end = -1
    for s in specs:
        if not isinstance(s, ZoneSpec):
            raise ConfigError(f"zones must be ZoneSpec values, got {s!r}")
        if not s.name or not s.name.isprintable() or " " in s.name or len(s.name) > 8:
            raise ConfigError(
                f"zone name {s.name!r} must be 1-8 printable characters without spaces "
                "(it is printed with %8s in /proc/buddyinfo)"
            )
        if s.name in names:
            raise ConfigError(f"zone name {s.name!r} is used twice")
        names.add(s.name)
        check_int(f"zone {s.name} start_pfn", s.start_pfn, 0)
        check_int(f"zone {s.name} pages", s.pages, 1, 1 << 26)
        if s.start_pfn < prev_end:
            raise ConfigError(
                f"zone {s.name} starts at pfn {s.start_pfn}, inside the previous zone "
                f"(which ends at pfn {prev_end}): zones must be in ascending pfn order "
                "and must not overlap"
            )
        prev_end = s.start_pfn + s.pages
        _check_absent(s)


def _check_absent(s: ZoneSpec) -> None:
    ranges = s.absent
    if not isinstance(ranges, tuple) or not all(
        isinstance(r, tuple) and len(r) == 2 for r in ranges
    ):
        raise ConfigError(
            f"zone {s.name} absent must be a tuple of (start_pfn, pages) pairs, got {ranges!r}"
        )
    at = s.start_pfn
    for start, pages in ranges:
        check_int(f"zone {s.name} absent start_pfn", start, 0)
        check_int(f"zone {s.name} absent pages", pages, 1)
        if start < at or start + pages > s.start_pfn + s.pages:
            raise ConfigError(
                f"zone {s.name}: absent range {start}..{start + pages - 1} must lie inside "
                f"the zone ({s.start_pfn}..{s.start_pfn + s.pages - 1}), in ascending pfn "
                "order, without overlapping another"
            )
        at = start + pages
    if sum(n for _, n in ranges) >= s.pages:
        raise ConfigError(f"zone {s.name}: its absent ranges leave no page to manage")
