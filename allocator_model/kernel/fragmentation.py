"""Fragmentation indices per order, as the kernel computes them (``mm/vmstat.c``).

* Unusable free space index (Gorman & Whitcroft, OLS 2006; debugfs
  ``extfrag/unusable_index``): the fraction of free memory that cannot satisfy a
  request of order j, because it sits in blocks smaller than 2**j pages.
  0 = all free memory is usable, 1 = none is.
* Fragmentation index (debugfs ``extfrag/extfrag_index``, used by compaction): when
  a request of order j would fail, tends to 0 if the failure is from lack of memory
  and to 1 if it is from fragmentation; -1 when a suitable block exists.

Both are computed in thousandths, as the kernel does, and printed in its format.
"""

from __future__ import annotations

from collections.abc import Sequence


def _info(nr_free: Sequence[int], order: int) -> tuple[int, int, int]:
    """``fill_contig_page_info``: (free pages, free blocks, blocks suitable for order)."""
    free_pages = sum(n << k for k, n in enumerate(nr_free))
    blocks = sum(nr_free)
    suitable = sum(n << (k - order) for k, n in enumerate(nr_free) if k >= order)
    return free_pages, blocks, suitable


def unusable_free_index(nr_free: Sequence[int], order: int) -> int:
    """``unusable_free_index`` in thousandths."""
    free_pages, _, suitable = _info(nr_free, order)
    if free_pages == 0:
        return 1000
    return (free_pages - (suitable << order)) * 1000 // free_pages


def fragmentation_index(nr_free: Sequence[int], order: int) -> int:
    """``__fragmentation_index`` in thousandths (-1000 when a suitable block exists)."""
    free_pages, blocks, suitable = _info(nr_free, order)
    if blocks == 0:
        return 0
    if suitable:
        return -1000
    requested = 1 << order
    return 1000 - (1000 + free_pages * 1000 // requested) // blocks


def _row(zone: str, values: list[int], node: int = 0) -> str:
    text = f"Node {node}, zone {zone:>8} "
    for v in values:
        sign = "-" if v < 0 else ""
        text += f"{sign}{abs(v) // 1000}.{abs(v) % 1000:03d} "
    return text + "\n"


def unusable_index_text(zones: Sequence[tuple[str, Sequence[int]]]) -> str:
    """debugfs ``extfrag/unusable_index``: one line per zone, one value per order."""
    return "".join(
        _row(name, [unusable_free_index(nr, k) for k in range(len(nr))]) for name, nr in zones
    )


def extfrag_index_text(zones: Sequence[tuple[str, Sequence[int]]]) -> str:
    """debugfs ``extfrag/extfrag_index``."""
    return "".join(
        _row(name, [fragmentation_index(nr, k) for k in range(len(nr))]) for name, nr in zones
    )
