"""Which build of the model the tests run on: the reference or ``make compiled``'s.

``make pytest-compiled`` runs the model's tests again with ``build/compiled`` first on the
path and names the modules it compiled in ``ALLOCATOR_MODEL_COMPILED``; this test fails if
those are not the C extensions mypyc built (a stale path would silently test the
reference twice).  Without the variable every module must be Python source: the
reference the compiled build is compared against, with no stray extension in the tree.

The per-page arrays and the free lists' links are the storage that differs between the
builds (perpage.py): each build must hold its own, and pickle them (the server's
checkpoints) as the same objects: a ``bytearray`` per per-page array, ``array('I')`` words
per link array.
"""

from __future__ import annotations

import importlib
import os
import pickle
import pkgutil
from array import array
from pathlib import Path

from fingerprint import fingerprint

import allocator_model
import allocator_model.kernel
from allocator_model import Node

COMPILED = set(os.environ.get("ALLOCATOR_MODEL_COMPILED", "").split())


def test_the_model_modules_are_the_build_the_run_names() -> None:
    kinds = {}
    for info in pkgutil.iter_modules(allocator_model.kernel.__path__):
        module = importlib.import_module(f"allocator_model.kernel.{info.name}")
        kinds[info.name] = Path(module.__file__ or "").suffix
    assert set(kinds) >= COMPILED, f"no such modules: {COMPILED - set(kinds)}"
    assert {name for name, suffix in kinds.items() if suffix == ".so"} == COMPILED
    assert all(kinds[name] == ".py" for name in set(kinds) - COMPILED)
    if COMPILED:  # the copy make compiled built, not the source tree (which stays Python)
        package = Path(allocator_model.__file__ or "").resolve().parent
        assert package.parent.parts[-2:] == ("build", "compiled")


def _worked_node() -> Node:
    """A small node whose free lists have been split, merged and rotated."""
    node = Node(kernel="6.12", hinting="reporting", seed=3)
    held = [(node.alloc(i % 11), i % 11) for i in range(40)]
    for pfn, order in held[::3]:
        node.free(pfn, order)
    node.advance(5.0)
    return node


def test_each_build_keeps_its_own_storage_and_pickles_the_same_objects() -> None:
    node = _worked_node()
    zone = node.zones[-1]
    links = zone.lists.next
    assert type(links).__name__ == ("vec[i32]" if "freelist" in COMPILED else "array")
    # The zone's hot-path aliases are the same storage (a vec is boxed anew on each read
    # from compiled code, so identity is not the test: a write through one shows in both).
    zone.next[0] += 1
    assert links[0] == zone.lists.next[0] == zone.next[0]
    zone.next[0] -= 1
    state = zone.lists.__getstate__()
    for name in ("next", "prev"):
        words = state[name]
        assert isinstance(words, array) and words.typecode == "I"
        assert words.tobytes() == memoryview(getattr(zone.lists, name)).tobytes()
    zone_state = zone.__getstate__()
    for name in ("alloc_mt", "alloc_order", "buddy_order", "flags", "free_mt"):
        values = getattr(zone, name)
        assert type(values).__name__ == ("vec[i32]" if "perpage" in COMPILED else "bytearray")
        assert isinstance(zone_state[name], bytearray)
        assert list(zone_state[name]) == list(values)
    assert any(zone_state["buddy_order"]) and any(zone_state["alloc_order"])
    twin = pickle.loads(pickle.dumps(node))
    assert fingerprint(twin) == fingerprint(node)
    assert type(twin.zones[-1].next) is type(links)
    # the copy is a working allocator, not only equal state
    assert twin.alloc(3) == node.alloc(3)
    assert fingerprint(twin) == fingerprint(node)

