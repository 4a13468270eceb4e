"""buddyscope backend: FastAPI app, wire protocol, scenarios and the command line.

Dependencies point one way: ``frontend`` -> (wire protocol) -> ``backend`` ->
``allocator_model``.  Nothing here reaches into model internals beyond the public API.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("buddyscope")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
