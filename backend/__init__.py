"""buddyscope backend: FastAPI app, wire protocol, scenarios and the command line.

Dependencies point one way: ``frontend`` -> (wire protocol) -> ``backend`` ->
``allocator_model``.  Nothing here reaches into model internals beyond the public API.
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``__version__``, looked up on first use: importing ``importlib.metadata`` and
    reading the installed metadata would cost every command's start, ``buddyscope live
    --once`` too, and only the server and ``--version`` say the version."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("buddyscope")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found


__all__ = ["__version__"]
