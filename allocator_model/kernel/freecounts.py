"""``FreeCounts``: the per-order free block counts a zone hands out.

A module of its own so that a mypyc build (``make compiled``) can leave it interpreted:
mypyc cannot compile a subclass of ``list``, and the zone that uses it is compiled.
"""

from __future__ import annotations


class FreeCounts(list[int]):
    """``free_area[order].nr_free`` for every order: a list, and ``nr_free(order)`` reads one.

    The public API writes ``zone.nr_free(order)``; scripts that want all orders at once
    (``zone.nr_free == [...]``, slicing, ``/proc/buddyinfo``) use it as the list it is.
    ``zone.nr_free`` is a copy taken when read: the zone counts in a plain list
    (``zone.free_counts``), because indexing a list subclass costs twice as much and
    the hot paths update a count on every allocation and free.
    """

    def __call__(self, order: int) -> int:
        if not 0 <= order < len(self):
            raise ValueError(f"order {order} is out of range 0..{len(self) - 1}")
        return self[order]
