"""Intrusive doubly linked free lists over page indices.

The kernel threads free blocks through ``page->lru``; the model does the same with
two flat integer arrays, ``next`` and ``prev``, indexed by the zone-local page index
of a block's head page.  Each ``free_area[order].free_list[migratetype]`` owns one
sentinel slot after the pages (index ``pages + order * nr_migratetypes + mt``), like
the kernel's ``struct list_head`` in ``struct free_area``.  Add-head, add-tail,
insert-before, delete and rotate are O(1) and the head->tail order is exact.

The storage of the two arrays differs between the reference and the compiled build:
see ``perpage.py``.
"""

from __future__ import annotations

from typing import Any, Self

from .perpage import links_from, links_to_array, zeroed_links


class FreeLists:
    __slots__ = ("next", "nr_migratetypes", "nr_orders", "pages", "prev")

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:  # see Node.__new__ (make compiled)
        return super().__new__(cls)

    def __init__(self, pages: int, nr_orders: int, nr_migratetypes: int) -> None:
        self.pages = pages
        self.nr_orders = nr_orders
        self.nr_migratetypes = nr_migratetypes
        total = pages + nr_orders * nr_migratetypes
        self.next = zeroed_links(total)
        self.prev = zeroed_links(total)
        for s in range(pages, total):
            self.next[s] = s
            self.prev[s] = s

    def __getstate__(self) -> dict[str, Any]:
        # The compiled build's vectors cannot be pickled; both builds pickle arrays.
        return {
            "pages": self.pages,
            "nr_orders": self.nr_orders,
            "nr_migratetypes": self.nr_migratetypes,
            "next": links_to_array(self.next),
            "prev": links_to_array(self.prev),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.pages = state["pages"]
        self.nr_orders = state["nr_orders"]
        self.nr_migratetypes = state["nr_migratetypes"]
        self.next = links_from(state["next"])
        self.prev = links_from(state["prev"])

    def sentinel(self, order: int, mt: int) -> int:
        return self.pages + order * self.nr_migratetypes + mt

    def is_sentinel(self, i: int) -> bool:
        return i >= self.pages

    def add_head(self, i: int, s: int) -> None:
        """``list_add(i, s)``: insert right after ``s`` (at the head when s is a sentinel)."""
        nxt, prv = self.next, self.prev
        n: int = nxt[s]
        nxt[i] = n
        prv[i] = s
        prv[n] = i
        nxt[s] = i

    def add_before(self, i: int, at: int) -> None:
        """``list_add_tail(i, at)``: insert right before ``at`` (the tail when at is a sentinel)."""
        nxt, prv = self.next, self.prev
        p: int = prv[at]
        nxt[p] = i
        prv[i] = p
        nxt[i] = at
        prv[at] = i

    def unlink(self, i: int) -> None:
        nxt, prv = self.next, self.prev
        p: int = prv[i]
        n: int = nxt[i]
        nxt[p] = n
        prv[n] = p

    def is_empty(self, s: int) -> bool:
        return self.next[s] == s

    def first(self, s: int) -> int:
        """Head entry of the list, or -1 when it is empty."""
        i = self.next[s]
        return -1 if i == s else i

    def end_of(self, i: int) -> str:
        """Where ``i`` sits in its list: "head", "tail", "only" or "middle" (O(1))."""
        pages = self.pages
        at_head = self.prev[i] >= pages
        at_tail = self.next[i] >= pages
        if at_head and at_tail:
            return "only"
        if at_head:
            return "head"
        return "tail" if at_tail else "middle"

    def rotate_to_front(self, i: int, s: int) -> None:
        """``list_rotate_to_front(i, s)``: make ``i`` the head, keeping the cyclic order."""
        if self.next[s] == i:
            return
        # Move the sentinel to sit just before i: the list now starts at i.
        self.unlink(s)
        self.add_before(s, i)

    def iterate(self, s: int) -> list[int]:
        out: list[int] = []
        nxt = self.next
        i: int = nxt[s]
        while i != s:
            out.append(i)
            i = nxt[i]
        return out

    def length(self, s: int) -> int:
        n = 0
        nxt = self.next
        i: int = nxt[s]
        while i != s:
            n += 1
            i = nxt[i]
        return n
