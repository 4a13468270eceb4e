"""A browser test is never silently skipped in CI (tests/conftest.py's promise)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(600)


def run_browser_test(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a one-line browser test with the real tests/conftest.py in a scratch dir."""
    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    (tmp_path / "test_needs_browser.py").write_text(
        "def test_needs_browser(chromium_path):\n    assert chromium_path\n"
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_missing_browser_fails_under_ci(tmp_path: Path) -> None:
    result = run_browser_test(tmp_path, CI="true", CHROMIUM_PATH="/nonexistent/chromium")
    assert result.returncode != 0, result.stdout
    assert "1 error" in result.stdout
    assert "cannot be skipped under CI=true" in result.stdout


def test_missing_browser_skips_on_a_developer_machine(tmp_path: Path) -> None:
    result = run_browser_test(tmp_path, CI="", CHROMIUM_PATH="/nonexistent/chromium")
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "CHROMIUM_PATH=/nonexistent/chromium is not an executable file" in result.stdout


def test_chromium_path_is_honoured(tmp_path: Path) -> None:
    fake = tmp_path / "my-chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    result = run_browser_test(tmp_path, CI="true", CHROMIUM_PATH=str(fake))
    assert result.returncode == 0, result.stdout
    assert "1 passed" in result.stdout
