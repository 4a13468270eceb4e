"""The /proc samples the vmstat, procfs and proclayout tests read, and the live files.

Fixed samples in tests/model/data:

* buddyinfo.txt / pagetypeinfo.txt - copied from the development machine (kernel 6.18,
  no CONFIG_CMA: 5 migratetypes), read back to back and consistent with each other.
* buddyinfo_cma.txt / pagetypeinfo_cma.txt - hand-made with printf-style formatting:
  CONFIG_CMA (6 migratetypes), two nodes, a ``>100000`` capped list, and a
  CONFIG_PAGE_OWNER "Number of mixed blocks" section.
"""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
NO_CMA = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate")
WITH_CMA = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate")


def sample(name: str) -> str:
    return (DATA / name).read_text()


def read_proc(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        pytest.skip(f"{path} does not exist on this machine (not Linux, or no procfs)")
    except PermissionError:
        pytest.skip(f"{path} is not readable here (it is mode 0400 since Linux 5.4: run as root)")
