"""Which build of the model the tests run on: the reference or ``make compiled``'s.

``make pytest-compiled`` runs the model's tests again with ``build/compiled`` first on the
path and names the modules it compiled in ``ALLOCATOR_MODEL_COMPILED``; this test fails if
those are not the C extensions mypyc built (a stale path would silently test the
reference twice).  Without the variable every module must be Python source: the
reference the compiled build is compared against, with no stray extension in the tree.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from pathlib import Path

import allocator_model
import allocator_model.kernel

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
