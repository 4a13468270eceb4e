"""Zone watermarks and reserves, as mm/page_alloc.c and mm/khugepaged.c set them up.

Read next to 5.3/5.7/5.10 ``init_per_zone_wmark_min`` and ``__setup_per_zone_wmarks``
(mm/page_alloc.c).  Every zone of x86-64 (DMA, DMA32, Normal) is lowmem;
``lowmem_reserve`` is not modelled yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isqrt

from .config import PAGE_SIZE

# init_per_zone_wmark_min(): the floor of the default min_free_kbytes (the ceiling is
# KernelRules.min_free_kbytes_max: 65536 in 5.3, 262144 from 5.7).
MIN_FREE_KBYTES_MIN = 128


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
