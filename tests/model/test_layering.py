"""The layout is the design: imports point one way and never go round in a circle.

Layers, lowest first: ``allocator_model.kernel`` (the kernel model), ``allocator_model.
sources`` (where a node and its workload come from), ``allocator_model.lab`` (what is done
with both), the package's public API (``allocator_model/__init__.py``), then
``backend``.  A module may import its own layer and the ones below it, never one above,
at run time (imports under ``if TYPE_CHECKING:`` are for the type checker only and may
point anywhere).  The model imports only the standard library.  And no two modules
import each other, directly or through others, at run time.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("allocator_model", "backend")
LAYERS = (
    "allocator_model.kernel",
    "allocator_model.sources",
    "allocator_model.lab",
    "allocator_model",
    "backend",
)


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from _runtime_imports(ast.Module(body=node.orelse, type_ignores=[]))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _runtime_imports(node)


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules ``name`` imports at run time (ours by full name, others top-level)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _runtime_imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            out.add(sub if sub in known else base)
    return out


def layer(name: str) -> int:
    for rank, prefix in reversed(list(enumerate(LAYERS))):
        if name == prefix or (name.startswith(prefix + ".") and prefix != "allocator_model"):
            return rank
    raise AssertionError(f"{name} is in no layer")


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_every_module_is_in_a_layer_and_imports_none_above_it() -> None:
    upward = [
        f"{name} -> {target}"
        for name, targets in graph().items()
        for target in sorted(targets)
        if target.split(".")[0] in PACKAGES and layer(target) > layer(name)
    ]
    assert not upward, "imports pointing up a layer:\n" + "\n".join(upward)


def test_the_model_imports_only_the_standard_library() -> None:
    outside = [
        f"{name} -> {target}"
        for name, targets in graph().items()
        if name.startswith("allocator_model")
        for target in sorted(targets)
        if target.split(".")[0] not in {"allocator_model", *sys.stdlib_module_names}
    ]
    assert not outside, "the model imports outside the standard library:\n" + "\n".join(outside)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_between_runtime_modules() -> None:
    edges = {name: {t for t in targets if t != name} for name, targets in graph().items()}
    # A package's __init__ is imported before any of its modules: an edge into it
    # from one of its own modules is the interpreter's order, not a dependency.
    for name, targets in edges.items():
        targets -= {t for t in targets if name.startswith(t + ".")}
    assert not cycles(edges), "\n".join(" <-> ".join(c) for c in cycles(edges))


def test_the_checks_see_an_upward_import_and_a_cycle() -> None:
    assert layer("allocator_model.sources.source") > layer("allocator_model.kernel.node")
    assert layer("backend.session") > layer("allocator_model")
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert "allocator_model.kernel.node" in graph()["allocator_model.sources.source"]
