"""The `buddyscope` command line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.cli import exposure_warning, parse_args, port_problem, serve, url_for

pytestmark = pytest.mark.timeout(60)


def test_serve_is_the_default_command_with_local_defaults() -> None:
    args = parse_args([])
    assert (args.command, args.host, args.port, args.no_open) == ("serve", "127.0.0.1", 8000, False)
    assert args.scenario == "default"
    args = parse_args(["--port", "9001", "--no-open"])
    assert (args.command, args.port, args.no_open) == ("serve", 9001, True)
    args = parse_args(["serve", "--host", "0.0.0.0"])
    assert args.host == "0.0.0.0"


@pytest.mark.parametrize("bad", ["0", "65536", "http"])
def test_bad_ports_are_refused(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_args(["serve", "--port", bad])
    assert exc.value.code == 2
    assert "port" in capsys.readouterr().err


def test_only_non_loopback_binds_warn() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert exposure_warning(host) is None, host
    for host in ("0.0.0.0", "::", "192.168.1.10", "myhost.example"):
        warning = exposure_warning(host)
        assert warning is not None, host
        assert host in warning
        assert "no authentication" in warning


def test_serve_refuses_a_busy_port_with_a_clear_message() -> None:
    import io

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out, err = io.StringIO(), io.StringIO()
        assert serve(parse_args(["--port", str(port), "--no-open"]), out, err) == 2
    assert "already in use" in err.getvalue()
    assert out.getvalue() == ""


def test_urls() -> None:
    assert url_for("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert url_for("0.0.0.0", 80) == "http://127.0.0.1:80/"
    assert url_for("::1", 8000) == "http://[::1]:8000/"


def test_a_busy_port_is_explained() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        problem = port_problem("127.0.0.1", port)
    assert problem is not None
    assert "already in use" in problem
    assert f"--port {port + 1}" in problem


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`buddyscope serve --no-open` as a user runs it, on a free port."""
    script = Path(sys.executable).with_name("buddyscope")
    assert script.exists(), "the console script is installed by `pip install -e .`"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.Popen(
        [str(script), "serve", "--port", str(port), "--no-open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        yield proc, port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_console_script_serves_and_prints_the_url(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    proc, port = served
    assert proc.stdout is not None
    url = f"http://127.0.0.1:{port}/"
    lines = []
    for line in proc.stdout:  # blocks until the server announces itself (or exits)
        lines.append(line)
        if "dashboard at" in line:
            break
    assert any(url in line for line in lines), lines
    with urllib.request.urlopen(url + "healthz", timeout=10) as response:
        assert json.load(response)["status"] == "ok"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert b"buddyscope" in response.read()
