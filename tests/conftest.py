"""Shared test configuration: finding the browser, never skipping it in CI, and
Hypothesis settings that do not depend on the machine's load.

Browser tests take the ``chromium_path`` fixture.  Without a browser they are skipped
on a developer's machine, but with ``CI=true`` they fail: a browser test must never be
silently skipped in CI.  ``CHROMIUM_PATH`` overrides where the browser is.
"""

from __future__ import annotations

import lzma
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Every property test runs on a shared, loaded machine in CI: a deadline or a "too slow"
# health check there measures the neighbours, not the code.  A test's own @settings may
# still set other fields; these two hold unless it overrides them.
settings.register_profile("buddyscope", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("buddyscope")

CHROMIUM_NAMES = ("chromium", "chromium-browser")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def find_chromium() -> tuple[str | None, str]:
    """(path or None, why not found)."""
    override = os.environ.get("CHROMIUM_PATH")
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return override, ""
        return None, f"CHROMIUM_PATH={override} is not an executable file"
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found, ""
    return None, "no chromium on PATH (Debian: apt-get install chromium; or set CHROMIUM_PATH)"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real Chromium through Playwright")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path, why = find_chromium()
    if path is None:
        if in_ci():
            pytest.fail(f"browser tests cannot be skipped under CI=true: {why}", pytrace=False)
        pytest.skip(why)
    return path


VM618 = Path(__file__).parent / "model" / "data" / "vm618"


def build_vm618_root(root: Path) -> Path:
    """A /proc and /sys tree holding what this project's 6.18 VM showed at one moment
    (tests/model/data/vm618): buddyinfo, zoneinfo, pagetypeinfo, page reporting
    parameters and /proc/kpageflags (6,553,600 frames, kept xz-compressed)."""
    proc = root / "proc"
    proc.mkdir(parents=True)
    for name in ("buddyinfo", "zoneinfo", "pagetypeinfo"):
        (proc / name).write_text((VM618 / name).read_text())
    (proc / "kpageflags").write_bytes(lzma.decompress((VM618 / "kpageflags.xz").read_bytes()))
    params = root / "sys" / "module" / "page_reporting" / "parameters"
    params.mkdir(parents=True)
    for line in (VM618 / "page_reporting_parameters").read_text().splitlines():
        name, _, value = line.partition("=")
        (params / name).write_text(value + "\n")
    return root


@pytest.fixture
def vm618_root(tmp_path: Path) -> Path:
    return build_vm618_root(tmp_path / "vm618")


@pytest.fixture(scope="session")
def vm618_shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The recorded tree once per run, for tests that only read it."""
    return build_vm618_root(tmp_path_factory.mktemp("shared") / "vm618")
