"""Zone watermarks, as ``__setup_per_zone_wmarks`` computes them (spec §1.8)."""

from __future__ import annotations

from dataclasses import dataclass
from math import isqrt

from .assumptions import MIN_FREE_KBYTES_MAX, MIN_FREE_KBYTES_MIN
from .config import PAGE_SIZE


@dataclass(frozen=True, slots=True)
class Watermarks:
    min: int
    low: int
    high: int


def default_min_free_kbytes(lowmem_pages: int) -> int:
    """``init_per_zone_wmark_min`` (5.x): int_sqrt(lowmem_kbytes * 16), clamped.

    The clamp is an assumption (MIN_FREE_KBYTES_CLAMP in assumptions.py).
    """
    lowmem_kbytes = lowmem_pages * (PAGE_SIZE >> 10)
    return min(max(isqrt(lowmem_kbytes * 16), MIN_FREE_KBYTES_MIN), MIN_FREE_KBYTES_MAX)


def _mult_frac(x: int, numer: int, denom: int) -> int:
    return (x // denom) * numer + ((x % denom) * numer) // denom


def zone_watermarks(
    managed: int, lowmem_pages: int, min_free_kbytes: int, watermark_scale_factor: int
) -> Watermarks:
    """min is the zone's share of ``min_free_kbytes``; low/high add max(min/4, managed*wsf/10000).

    Every zone of x86-64 (DMA, DMA32, Normal) is lowmem.  ``lowmem_reserve`` (the
    protection of lower zones from higher-zone allocations) is not modelled.
    """
    pages_min = min_free_kbytes >> 2  # min_free_kbytes >> (PAGE_SHIFT - 10)
    wmin = pages_min * managed // lowmem_pages if lowmem_pages else 0
    tmp = max(wmin >> 2, _mult_frac(managed, watermark_scale_factor, 10000))
    return Watermarks(min=wmin, low=wmin + tmp, high=wmin + 2 * tmp)
