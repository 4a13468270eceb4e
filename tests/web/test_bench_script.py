"""bench/ws_load.py still runs (a tiny load: 3 followers for a second)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(600)

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "ws_load.py"


def test_the_load_script_measures_and_every_follower_keeps_up() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--followers", "3", "--seconds", "1", "--commands", "20",
         "--seeks", "3", "--json"],
        capture_output=True, text=True, timeout=170, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["followers_with_every_delta"] == 3
    # Figures, not speeds: how fast this (possibly shared) machine ran is no pass/fail.
    assert figures["deltas_broadcast"] >= 1
    assert figures["snapshot_pages"] == 1_048_575
    assert figures["command_to_delta_ms_p99"] > 0
