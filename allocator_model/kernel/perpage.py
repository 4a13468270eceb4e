"""The storage of a zone's per-page arrays and of its free lists' links, per build.

A zone keeps five small integers per page (``Zone.buddy_order``, ``alloc_order``,
``alloc_mt``, ``free_mt``, ``flags``) and two links per page and list (``FreeLists.next``
and ``prev``).  The reference, this package as Python source, stores them in a
``bytearray`` each and an ``array('I')`` each: 1 and 4 bytes per page.

Compiled by mypyc (``make compiled``, which compiles this module too), it stores all
seven in ``librt.vecs.vec[i32]``, mypyc's own vector type.  Compiled code reads and
writes a vector as plain C integers; every access to a ``bytearray`` or an ``array``
goes through the generic item protocol instead and makes or parses an int object,
which was half the compiled build's instructions (docs/performance.md).  The per-page
arrays are then 4 bytes per page each (30 bytes of state per page in all, against 15).
Why ``i32`` and not ``u8`` for one-byte values: mypyc computes ``a - b`` of a native
int and an ``int`` in the native type, so a ``u8`` read minus one wraps to 255 where
the reference gives -1; with 32 bits no value the model holds comes near the limit
(a zone has fewer than 2**31 pages, 8 TiB).

The annotations name the vector so that mypyc can compile that.  At run time the
reference imports nothing outside the standard library (``librt`` is named only for
the type checker), and both builds pickle the same objects: a ``bytearray`` per
per-page array and an ``array('I')`` per link array.  To the type checker a value read
is an ``i32``, which does not index a vector (only ``int`` and ``i64`` do): variables
that take one and index with it are annotated ``int``.
"""

from __future__ import annotations

import re
from array import array
from typing import TYPE_CHECKING, Final, cast

if TYPE_CHECKING:
    from librt.vecs import vec
    from mypy_extensions import i32

    Links = vec[i32]
    PerPage = vec[i32]

# True when mypyc compiled this module: its file is then the extension module.
COMPILED: Final = not __file__.endswith(".py")

_NONZERO: Final = re.compile(rb"[^\x00]")  # a non-zero byte: a head in a per-page array


def zeroed_links(n: int) -> Links:
    """``n`` zero links.  Unsigned ("I") in the reference: CPython's array stores a
    signed int through PyArg_Parse (a format string parsed per store), an unsigned one
    directly."""
    if COMPILED:
        return vec[i32](array("i", bytes(4 * n)))
    return cast("Links", array("I", bytes(4 * n)))


def links_from(words: array[int]) -> Links:
    """Links holding ``words`` (an ``array('I')``, as pickled)."""
    if COMPILED:
        return vec[i32](words)
    return cast("Links", array("I", words))


def links_to_array(links: Links) -> array[int]:
    """The links as an ``array('I')`` (what a pickle holds); the reference's own array."""
    if not COMPILED:
        return cast("array[int]", links)
    words = array("I")
    words.frombytes(memoryview(links).cast("B"))
    return words


def zeroed(n: int) -> PerPage:
    """A per-page array of ``n`` zeros."""
    if COMPILED:
        return vec[i32](array("i", bytes(4 * n)))
    return cast("PerPage", bytearray(n))


def per_page_from(data: bytes | bytearray) -> PerPage:
    """A per-page array holding ``data``'s bytes, one value per page (a new object)."""
    if COMPILED:
        return vec[i32](data)
    return cast("PerPage", bytearray(data))


def per_page_bytes(values: PerPage) -> bytearray:
    """The values as one byte per page (what a pickle holds); the reference's own array."""
    if not COMPILED:
        return cast(bytearray, values)
    # the low byte of each little-endian 32-bit word
    return bytearray(memoryview(values).cast("B")[::4])


def heads(values: PerPage, start: int, end: int) -> list[int]:
    """The indices in ``[start, end)`` whose value is not zero, ascending (the heads of
    free or allocated blocks).  The reference finds them with one regular-expression
    scan over the bytes; compiled, a loop over the vector costs about as much."""
    if COMPILED:
        found: list[int] = []
        j = start
        while j < end:
            if values[j]:
                found.append(j)
            j += 1
        return found
    return [m.start() for m in _NONZERO.finditer(cast(bytearray, values), start, end)]
