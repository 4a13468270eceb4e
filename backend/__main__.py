"""``python -m backend`` is the same as the ``buddyscope`` command."""

import sys

from .cli import main

sys.exit(main())
