"""What a page's ``flags`` and ``page_type`` words hold under each strategy.

This is the controversy of the July 2019 thread (spec §2.9).  The v2 patch marked a
hinted free page with a second page *type*, Offline, next to Buddy.  Page types are
stored inverted in ``page->page_type`` (a union with ``_mapcount``): the word starts as
0xffffffff and setting a type clears its bit.  Tools that read crash dumps identify a
free buddy page by comparing the whole word with one value, ``PAGE_BUDDY_MAPCOUNT_VALUE``
(exported to vmcoreinfo as ``~PG_buddy`` = 0xffffff7f); a page that is Buddy *and*
Offline holds 0xfffffe7f and no longer matches.  David Hildenbrand asked for a page flag
instead; the merged design uses ``PG_reported``, an alias of ``PG_uptodate``, which is
valid only together with PageBuddy.
"""

from __future__ import annotations

from dataclasses import dataclass

from .assumptions import PG_UPTODATE_BIT

PAGE_TYPE_BASE = 0xF0000000
PG_BUDDY = 0x00000080
PG_OFFLINE = 0x00000100
PAGE_TYPE_NONE = 0xFFFFFFFF  # _mapcount == -1: no type set
PAGE_BUDDY_MAPCOUNT_VALUE = PAGE_TYPE_NONE & ~PG_BUDDY  # what makedumpfile compares with


@dataclass(frozen=True, slots=True)
class PageBits:
    flags: tuple[str, ...]  # page->flags bits set (only the ones the model tracks)
    page_type: tuple[str, ...]  # page types set in page->page_type
    page_type_value: int  # the raw 32-bit page_type / _mapcount word
    kdump_view: str  # what a tool comparing page_type by value concludes


#: What reading a frame for the dump does, by the frame's host state (host.NAMES).
DUMP_READS = {
    "resident": "the host still backs this frame, so the dump copies what it holds",
    "discarded": "the host discarded this frame, so reading it for the dump faults in a "
    "zero-filled page: the dump gets zeros and the host backs the page again",
    "not backed": "the host never backed this frame, so reading it for the dump gets a "
    "zero-filled page and makes the host back it",
}


def page_bits(strategy: str, free_head: bool, flagged: bool, host: str) -> PageBits:
    """The head page of a block: free (PageBuddy) or not, hinted/reported or not."""
    if not free_head:
        return PageBits(
            flags=(),
            page_type=(),
            page_type_value=PAGE_TYPE_NONE,
            kdump_view="no page type: a tool treats the page as in use (or as the tail of a "
            f"block whose head carries the type) and writes it into the dump; {DUMP_READS[host]}",
        )
    value = PAGE_TYPE_NONE & ~PG_BUDDY
    types: tuple[str, ...] = ("Buddy",)
    flags: tuple[str, ...] = ()
    if flagged and strategy == "hinting-v2":
        value &= ~PG_OFFLINE
        types = ("Buddy", "Offline (PageHinted)")
    elif flagged and strategy == "reporting":
        flags = (f"PG_uptodate (bit {PG_UPTODATE_BIT}) = PG_reported",)
    if value == PAGE_BUDDY_MAPCOUNT_VALUE:
        view = (
            f"page_type 0x{value:08x} == PAGE_BUDDY_MAPCOUNT_VALUE: a free buddy page, "
            "left out of the dump"
        )
    else:
        view = (
            f"page_type 0x{value:08x} != PAGE_BUDDY_MAPCOUNT_VALUE (0x"
            f"{PAGE_BUDDY_MAPCOUNT_VALUE:08x}): not recognised as free, so the page is "
            f"treated as in use and written into the dump; {DUMP_READS[host]}"
        )
    return PageBits(flags=flags, page_type=types, page_type_value=value, kdump_view=view)
