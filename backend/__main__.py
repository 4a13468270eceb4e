"""``python -m backend`` is the same as the ``buddyscope`` command."""

import sys

from .cli import main

if __name__ == "__main__":  # the live view's worker process imports this module again
    sys.exit(main())
