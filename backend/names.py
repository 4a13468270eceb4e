"""Saved-session names that a reader cannot tell apart are one name.

``lecture 3``, ``lecture 3 `` and ``lecture 3`` with a Cyrillic small ie for its ``e``
look the same in a list; the third could stand in for the first.  A name is stored
*normalised* (Unicode NFKC, which folds full-width letters, ligatures and compatibility
forms, then trimmed), and a new name whose *skeleton* equals another saved name's is
refused as confusable.

The skeleton is a small, deliberate subset of Unicode's confusables (UTS #39), not all
of it: NFKC; the Cyrillic and Greek letters that look like Latin ones, capital and
small (``_LOOKALIKE_NAMES``: 31 Cyrillic, 22 Greek), mapped to those; ``0`` read as
``o``, and ``1``, ``|`` and a capital I (Latin, Cyrillic or Greek) as ``l``; case
folded; every run of white space as one space.  Other scripts' letters, and look-alikes
outside this table (mathematical letters NFKC does not fold, Armenian, Cherokee, ...),
are left as they are.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

#: Letters of other scripts that look like Latin ones, by their Unicode names (the
#: letters themselves would be invisible in this file).
_LOOKALIKE_NAMES: Final = {
    "CYRILLIC CAPITAL LETTER": (
        "A A", "VE B", "IE E", "KA K", "EM M", "EN H", "O O", "ER P", "ES C", "TE T",
        "HA X", "U Y", "DZE S", "BYELORUSSIAN-UKRAINIAN I l", "JE J", "QA Q", "WE W",
    ),
    "CYRILLIC SMALL LETTER": (
        "A a", "IE e", "O o", "ER p", "ES c", "U y", "HA x", "DZE s",
        "BYELORUSSIAN-UKRAINIAN I i", "JE j", "SHHA h", "PALOCHKA l", "QA q", "WE w",
    ),
    "GREEK CAPITAL LETTER": (
        "ALPHA A", "BETA B", "EPSILON E", "ZETA Z", "ETA H", "IOTA l", "KAPPA K", "MU M",
        "NU N", "OMICRON O", "RHO P", "TAU T", "UPSILON Y", "CHI X",
    ),
    "GREEK SMALL LETTER": (
        "OMICRON o", "NU v", "IOTA i", "KAPPA k", "RHO p", "UPSILON u", "CHI x", "ALPHA a",
    ),
}  # fmt: skip
_LATIN_LOOKALIKES: Final = {
    unicodedata.lookup(f"{script} {letter}"): latin
    for script, pairs in _LOOKALIKE_NAMES.items()
    for letter, latin in (pair.rsplit(" ", 1) for pair in pairs)
} | {"0": "o", "1": "l", "I": "l", "|": "l"}  # digits and strokes read as letters
_TABLE: Final = str.maketrans(_LATIN_LOOKALIKES)
_SPACES: Final = re.compile(r"\s+")


def normalise(name: str) -> str:
    """The form a name is stored and looked up in: NFKC, trimmed."""
    return unicodedata.normalize("NFKC", name).strip()


def skeleton(name: str) -> str:
    """What a reader sees of a name: two names with one skeleton are confusable."""
    return _SPACES.sub(" ", normalise(name).translate(_TABLE).casefold())
