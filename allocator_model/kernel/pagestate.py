"""Per-page states for the memory map (one byte per page frame).

These are the colours of the dashboard's memory map, not kernel flags: the kernel
marks only the head page of a free block, but a person looking at memory wants every
frame of a free block shown as free.  The model keeps this byte array up to date on
every mutation, so a snapshot of a 4 GiB zone is one memory copy.
"""

from __future__ import annotations

from typing import Final

PS_FREE: Final = 0  # in a free block on a buddy free list, not hinted/reported
PS_ALLOCATED: Final = 1  # part of an allocated block
PS_FLAGGED: Final = 2  # in a free block that is hinted (v2) or reported (merged design)
PS_ISOLATED: Final = 3  # taken off the free lists by hinting/reporting: in flight to the host
PS_PCP: Final = 4  # an order-0 page parked on a per-cpu list

NAMES: Final = ("free", "allocated", "hinted", "isolated", "pcp")

# Pre-built fills: painting 2**order bytes is one slice assignment.
FILLS: Final[tuple[tuple[bytes, ...], ...]] = tuple(
    tuple(bytes([state]) * (1 << order) for order in range(16)) for state in range(len(NAMES))
)
