"""Configuration facts: kernel versions, migratetypes, orders.

The model follows the page allocator of three kernel releases.  They differ in where
a few paths put a block on its free list (``FPI_TO_TAIL`` and friends, the 5.10 series
by David Hildenbrand), in whether free page reporting exists at all,, in the ceiling
of the default ``min_free_kbytes`` and in which zones boost their watermarks.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError, UnknownMigratetype

# x86-64 with 4 KiB pages, kernels <= 6.3: MAX_ORDER is *exclusive* (orders 0..10).
DEFAULT_MAX_ORDER = 11
DEFAULT_PAGEBLOCK_ORDER = 9
PAGE_SIZE = 4096

# enum migratetype, in kernel order; the names are the /proc/pagetypeinfo strings.
MIGRATE_UNMOVABLE = 0
MIGRATE_MOVABLE = 1
MIGRATE_RECLAIMABLE = 2
MIGRATE_PCPTYPES = 3  # the first three have per-cpu lists
MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES

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
    """What differs between the modelled releases (spec §1.4, §1.6, §1.10, §3.1)."""

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
    # 5.3; 262144 in 5.7.14 and 5.10.7).
    min_free_kbytes_max: int
    # boost_watermark(): 5.7 and 5.10 never boost a zone smaller than four pageblocks.
    boost_needs_four_pageblocks: bool


KERNELS: dict[str, KernelRules] = {
    "5.3": KernelRules("5.3", False, False, False, False, 65536, False),
    "5.7": KernelRules("5.7", False, False, False, True, 262144, True),
    "5.10": KernelRules("5.10", True, True, True, True, 262144, True),
}


def kernel_rules(version: str) -> KernelRules:
    try:
        return KERNELS[version]
    except KeyError:
        raise ConfigError(
            f"unknown kernel version {version!r}: the model follows "
            + ", ".join(repr(v) for v in KERNELS)
        ) from None
