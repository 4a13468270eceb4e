"""The hypervisor's side of virtio-balloon page hinting/reporting.

What the host sees of the guest's memory, one byte per guest page frame:

* ``NOT_BACKED`` - the guest never touched it: the host has no memory behind it;
* ``RESIDENT`` - touched: the host backs it with a page of its own;
* ``DISCARDED`` - was resident, then a hint/report made the host drop it
  (``madvise(MADV_DONTNEED)``); the next guest touch faults in a zero-filled page.

Definitions (so the figures mean one thing): a page becomes resident the first time
the guest touches it; reporting discards the resident pages of a reported block
(reporting a page that is not resident frees nothing); a refault is a touch of a page
that was resident and then discarded.  ``resident_pages`` is current; the other
counters are cumulative.  An allocation touches its pages unless told not to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Self

if TYPE_CHECKING:
    from .zone import Zone

NOT_BACKED: Final = 0
RESIDENT: Final = 1
DISCARDED: Final = 2
NAMES: Final = ("not backed", "resident", "discarded")

# bytes.translate tables: a discard turns RESIDENT into DISCARDED and leaves the rest.
_DISCARD: Final = bytes([NOT_BACKED, DISCARDED, DISCARDED]) + bytes(253)
# A fully resident block of each order, to test (``startswith``) and to fill with.
RESIDENT_BLOCK: Final = tuple(bytes([RESIDENT]) * (1 << k) for k in range(16))


@dataclass(frozen=True, slots=True)
class HostStats:
    resident_pages: int
    discarded_pages: int
    refaults: int
    report_calls: int
    pages_reported: int


class Host:
    """The host's view of one guest: residency per page and the counters."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:  # see Node.__new__ (make compiled)
        return super().__new__(cls)

    def __init__(self, zones: tuple[Zone, ...], resident_at_boot: bool) -> None:
        fill = RESIDENT if resident_at_boot else NOT_BACKED
        self.backing = {z.name: bytearray([fill]) * z.spanned_pages for z in zones}
        self.resident_pages = sum(z.spanned_pages for z in zones) if resident_at_boot else 0
        self.discarded_pages = 0
        self.refaults = 0
        self.report_calls = 0
        self.pages_reported = 0

    def touch(self, zone: Zone, i: int, order: int) -> int:
        """The guest writes every page of the block: fault in what is not resident.

        Returns the number of refaults (pages the host had discarded).  Called on every
        allocation, so the common cases are checked first: one page, and a block that
        is already resident (``startswith`` compares in place, without a copy).
        """
        mem = self.backing[zone.name]
        if order == 0:
            state = mem[i]
            if state == RESIDENT:
                return 0
            mem[i] = RESIDENT
            self.resident_pages += 1
            if state == DISCARDED:
                self.refaults += 1
                return 1
            return 0
        if mem.startswith(RESIDENT_BLOCK[order], i):
            return 0
        end = i + (1 << order)
        refaults = mem.count(DISCARDED, i, end)
        self.refaults += refaults
        self.resident_pages += (1 << order) - mem.count(RESIDENT, i, end)
        mem[i:end] = RESIDENT_BLOCK[order]
        return refaults

    def report(self, ranges: list[tuple[Zone, int, int]]) -> int:
        """One report call: discard every range (zone, index, order); return pages freed."""
        freed = 0
        for zone, i, order in ranges:
            mem = self.backing[zone.name]
            end = i + (1 << order)
            resident = mem.count(RESIDENT, i, end)
            if resident:
                mem[i:end] = mem[i:end].translate(_DISCARD)
                freed += resident
            self.pages_reported += 1 << order
        self.resident_pages -= freed
        self.discarded_pages += freed
        self.report_calls += 1
        return freed

    def state_of(self, zone: Zone, i: int) -> int:
        return self.backing[zone.name][i]

    def stats(self) -> HostStats:
        return HostStats(
            resident_pages=self.resident_pages,
            discarded_pages=self.discarded_pages,
            refaults=self.refaults,
            report_calls=self.report_calls,
            pages_reported=self.pages_reported,
        )
