"""Zone watermarks and reserves, as mm/page_alloc.c and mm/khugepaged.c set them up.

Read next to 5.3/5.7/5.10 ``init_per_zone_wmark_min``, ``__setup_per_zone_wmarks``,
``setup_per_zone_lowmem_reserve``, ``boost_watermark`` (mm/page_alloc.c) and
``set_recommended_min_free_kbytes`` (mm/khugepaged.c).  Every zone of x86-64 (DMA,
DMA32, Normal) is lowmem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import isqrt
from typing import Final

from .config import MIGRATE_PCPTYPES, PAGE_SIZE

# init_per_zone_wmark_min(): the floor of the default min_free_kbytes (the ceiling is
# KernelRules.min_free_kbytes_max: 65536 in 5.3, 262144 from 5.7).
MIN_FREE_KBYTES_MIN = 128
# sysctl_lowmem_reserve_ratio[] by zone (x86-64: DMA 256, DMA32 256, Normal 32; the
# Movable zone and any zone the kernel does not have get no reserve).
LOWMEM_RESERVE_RATIO = {"DMA": 256, "DMA32": 256, "Normal": 32}
# vm.watermark_boost_factor (5.0+): a boost is at most 150 % of the high watermark;
# 0 turns boosting off.
WATERMARK_BOOST_FACTOR: Final = 15000


@dataclass(frozen=True, slots=True)
class Watermarks:
    min: int
    low: int
    high: int


def default_min_free_kbytes(lowmem_pages: int, max_kbytes: int) -> int:
    """``init_per_zone_wmark_min``: int_sqrt(lowmem_kbytes * 16), clamped to [128, max].

    ``lowmem_pages`` is ``nr_free_buffer_pages()`` at that point of boot: the managed
    pages of every lowmem zone (no watermark is set yet).
    """
    lowmem_kbytes = lowmem_pages * (PAGE_SIZE >> 10)
    return min(max(isqrt(lowmem_kbytes * 16), MIN_FREE_KBYTES_MIN), max_kbytes)


def _mult_frac(x: int, numer: int, denom: int) -> int:
    return (x // denom) * numer + ((x % denom) * numer) // denom


def zone_watermarks(
    managed: int, lowmem_pages: int, min_free_kbytes: int, watermark_scale_factor: int
) -> Watermarks:
    """``__setup_per_zone_wmarks``: min is the zone's share of ``min_free_kbytes`` by
    managed pages; low/high add max(min/4, managed * watermark_scale_factor / 10000)."""
    pages_min = min_free_kbytes >> 2  # min_free_kbytes >> (PAGE_SHIFT - 10)
    wmin = pages_min * managed // lowmem_pages if lowmem_pages else 0
    tmp = max(wmin >> 2, _mult_frac(managed, watermark_scale_factor, 10000))
    return Watermarks(min=wmin, low=wmin + tmp, high=wmin + 2 * tmp)


def thp_recommended_min_free_kbytes(
    managed: Sequence[int], high_marks: Sequence[int], pageblock_order: int
) -> int:
    """khugepaged's ``set_recommended_min_free_kbytes`` (5.3, 5.7, 5.10): what THP asks.

    Two free pageblocks per populated zone, plus MIGRATE_PCPTYPES squared "almost free"
    ones, but never more than 5 % of ``nr_free_buffer_pages()`` (the managed pages above
    each zone's high watermark, with the watermarks of the default min_free_kbytes).
    The caller raises min_free_kbytes to this only if it is larger.
    """
    nr_zones = sum(1 for m in managed if m)
    pageblock_nr_pages = 1 << pageblock_order
    recommended = pageblock_nr_pages * nr_zones * 2
    recommended += pageblock_nr_pages * nr_zones * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES
    free_buffer_pages = sum(m - h for m, h in zip(managed, high_marks, strict=True) if m > h)
    recommended = min(recommended, free_buffer_pages // 20)
    return recommended << 2  # <<= (PAGE_SHIFT - 10)


def lowmem_reserves(names: Sequence[str], managed: Sequence[int]) -> list[list[int]]:
    """``setup_per_zone_lowmem_reserve``: ``reserve[i][j]`` protects zone ``i`` from a
    request whose preferred zone is ``j`` (> i): the managed pages of zones i+1..j
    divided by zone i's ``sysctl_lowmem_reserve_ratio``.

    (5.10 also leaves a reserve at 0, and stops adding, at an *empty* lower zone; the
    model's zones are never empty below a populated one, so 5.3/5.7 and 5.10 agree.)
    """
    n = len(names)
    reserve = [[0] * n for _ in range(n)]
    for j in range(n):
        pages = managed[j]
        for idx in range(j - 1, -1, -1):
            ratio = LOWMEM_RESERVE_RATIO.get(names[idx], 0)
            reserve[idx][j] = pages // ratio if ratio else 0
            pages += managed[idx]
    return reserve


def boosted(
    boost: int,
    high: int,
    managed: int,
    pageblock_order: int,
    small_zone_check: bool,
    factor: int = WATERMARK_BOOST_FACTOR,
) -> int:
    """``boost_watermark``: the zone's ``watermark_boost`` after one fallback steal.

    Grows by a pageblock up to max(pageblock, high * watermark_boost_factor / 10000).
    5.7 and 5.10 never boost a zone smaller than four pageblocks; no zone boosts while
    its high watermark is 0.
    """
    pageblock_nr_pages = 1 << pageblock_order
    if not factor or (small_zone_check and pageblock_nr_pages * 4 > managed):
        return boost
    max_boost = _mult_frac(high, factor, 10000)
    if not max_boost:
        return boost
    max_boost = max(pageblock_nr_pages, max_boost)
    return min(boost + pageblock_nr_pages, max_boost)
