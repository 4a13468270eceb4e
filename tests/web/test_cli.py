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
from wirehelp import free_port

from backend.cli import exposure_warning, parse_args, port_problem, serve, url_for

pytestmark = pytest.mark.timeout(600)


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


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`buddyscope serve --no-open` as a user runs it, on a free port."""
    script = Path(sys.executable).with_name("buddyscope")
    assert script.exists(), "the console script is installed by `pip install -e .`"
    port = free_port()
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
    with urllib.request.urlopen(url + "healthz", timeout=60) as response:
        assert json.load(response)["status"] == "ok"
    with urllib.request.urlopen(url, timeout=60) as response:
        assert b"buddyscope" in response.read()


# --- simulate, compare, bench ---------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("buddyscope")
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("command", ["serve", "simulate", "compare", "bench"])
def test_every_subcommand_has_help(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert f"usage: buddyscope {command}" in result.stdout
    assert result.stdout.count("\n") > 5


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["simulate", "--until", "soon"], "--until takes"),
        (["simulate", "--scenario", "nope"], "unknown scenario 'nope'"),
        (["simulate", "--workload", "/no/such/file"], "no workload file"),
        (["simulate", "--scenario", "small", "--workload", "idle"], "not allowed with"),
        (["simulate", "--seed", "-1"], "seed must be"),
        (["simulate", "--strategy", "magic"], "invalid choice"),
        (["compare", "--workload", "/no/such/file"], "no workload file"),
        (["compare", "--scenario", "nope"], "unknown scenario 'nope'"),
        (["compare", "--scenario", "small", "--workload", "idle"], "not allowed with"),
        (["compare", "--pcp", "maybe"], "invalid choice"),
        (["bench", "--pages", "0"], "at least 1"),
        (["serve", "--max-sessions", "zero"], "not a whole number"),
        (["frobnicate"], "unrecognized arguments: frobnicate"),
    ],
)
def test_a_wrong_argument_gets_one_line_and_status_2(args: list[str], needle: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0] and lines[0].startswith("buddyscope")


def test_live_starts_without_the_version_sockets_or_browser(tmp_path: Path) -> None:
    """`buddyscope live --once` reads /proc and prints: it imports neither the version
    (importlib.metadata) nor the server's sockets and browser launcher, which cost its
    start; the version is still there for whoever asks."""
    code = (
        "import sys; from backend.cli import main;"
        "main(['live', '--once', '--format', 'json', '--root', sys.argv[1]]);"
        "print([m for m in ('importlib.metadata', 'webbrowser', 'socket')"
        " if m in sys.modules], file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert result.stderr.strip() == "[]"
    assert "proc/buddyinfo does not exist" in json.loads(result.stdout)["messages"][0]
    import backend

    assert backend.__version__ and parse_args(["serve"]).command == "serve"
    with pytest.raises(AttributeError, match="no attribute '__versoin__'"):
        backend.__versoin__  # noqa: B018


def test_simulate_prints_what_the_timeline_reaches() -> None:
    from backend.sources import SessionConfig, plan_for
    from backend.timeline import CheckpointPolicy, run_workload, start_branch

    result = run_cli("simulate", "--scenario", "small")
    view = start_branch(0, plan_for(SessionConfig(scenario="small")), CheckpointPolicy())
    run_workload(view, CheckpointPolicy(), 10**6)
    assert result.returncode == 0 and result.stdout == view.node.buddyinfo()
    result = run_cli("simulate", "--scenario", "small", "--until", "10", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["steps"] == 10 and doc["stopped"] == "steps"
    result = run_cli("simulate", "--scenario", "small", "--format", "pagetypeinfo")
    assert result.stdout == view.node.pagetypeinfo()


def test_simulate_runs_workload_files_and_strategies(tmp_path: Path) -> None:
    result = run_cli(
        "simulate", "--workload", "buffer-reuse", "--strategy", "reporting", "--until", "30s",
        "--format", "json",
    )  # fmt: skip
    doc = json.loads(result.stdout)
    assert doc["strategy"] == "reporting" and doc["clock"] == 30.0
    assert doc["host"]["report_calls"] > 0
    wl = tmp_path / "w.json"
    wl.write_text(json.dumps({"workload": [{"op": "alloc", "order": 99}]}))
    result = run_cli("simulate", "--workload", str(wl))
    assert result.returncode == 2 and "line" in result.stderr and "order" in result.stderr
    wl.write_text(
        json.dumps(
            {"config": {"zones": [["Normal", 0, 4096]]},
             "workload": [{"op": "alloc", "order": 3, "count": 4}]}
        )
    )  # fmt: skip
    result = run_cli("simulate", "--workload", str(wl), "--format", "json")
    assert json.loads(result.stdout)["zones"][0]["nr_free_pages"] == 4096 - 32


def test_v2_runs_on_5_3_unless_a_kernel_is_named_and_a_what_if_says_so(tmp_path: Path) -> None:
    """Issue 12 point 4: a workload file or scenario picked with v2 and no kernel runs on
    5.3 rules, silently; v2 on other rules is a what-if, and simulate says so on stderr
    and in its JSON."""
    from allocator_model.kernel.node import what_if

    wl = tmp_path / "v2.json"
    config: dict[str, object] = {"zones": [["Normal", 0, 4096]], "hinting": "hinting-v2"}
    work = [{"op": "alloc", "order": 9, "count": 4}, {"op": "free_all"}]
    wl.write_text(json.dumps({"config": config, "workload": work}))
    result = run_cli("simulate", "--workload", str(wl), "--format", "json")
    doc = json.loads(result.stdout)
    assert result.returncode == 0 and result.stderr == ""
    assert (doc["strategy"], doc["kernel"], doc["what_if"]) == ("hinting-v2", "5.3", None)
    wl.write_text(json.dumps({"config": {**config, "kernel": "5.10"}, "workload": work}))
    result = run_cli("simulate", "--workload", str(wl), "--format", "json")
    doc = json.loads(result.stdout)
    sentence = what_if("hinting-v2", "5.10")
    assert sentence is not None and sentence.startswith("what if: v2 hinting on Linux 5.10")
    assert result.stderr == f"buddyscope simulate: note: {sentence}\n"
    assert (doc["kernel"], doc["what_if"]) == ("5.10", sentence)
    # A scenario chose its kernel for its own strategy: v2 picked on it runs on 5.3.
    result = run_cli(
        "simulate", "--scenario", "reporting-passes", "--strategy", "hinting-v2",
        "--until", "1", "--format", "json",
    )  # fmt: skip
    assert result.stderr == "" and json.loads(result.stdout)["kernel"] == "5.3"
    result = run_cli(
        "simulate", "--scenario", "reporting-passes", "--strategy", "hinting-v2",
        "--kernel", "5.7", "--until", "1", "--format", "json",
    )  # fmt: skip
    sentence = what_if("hinting-v2", "5.7")
    assert result.stderr == f"buddyscope simulate: note: {sentence}\n"
    assert json.loads(result.stdout)["what_if"] == sentence


@pytest.mark.parametrize("command", ["simulate", "compare"])
def test_help_says_v2_defaults_to_5_3_and_other_rules_are_a_what_if(command: str) -> None:
    text = " ".join(run_cli(command, "--help").stdout.split())
    assert "5.3" in text and "'note: what if' line" in text


def test_compare_and_bench() -> None:
    result = run_cli("compare", "--workload", "idle", "--json")
    rows = json.loads(result.stdout)
    assert [r["strategy"] for r in rows] == ["none", "hinting-v2", "reporting"]
    assert rows[0]["returned_pages"] == 0 < rows[2]["returned_pages"]
    result = run_cli("bench", "--server", "--pages", "65536", "--steps", "3000", "--json")
    assert result.returncode == 0, result.stderr
    server = json.loads(result.stdout)["server"]
    for key in ("snapshot_build_ms_p50", "seek_ms_p99", "command_to_delta_ms_p99"):
        assert server[key] > 0, key


def test_compare_prints_memory_returned_over_time_then_the_totals() -> None:
    from allocator_model.lab.compare import compare, format_table, what_if_notes

    result = run_cli("compare", "--workload", "idle", "--seed", "1")
    # the one note: v2 runs on 5.10's base rules, a labelled "what if" (issue 12)
    [note] = what_if_notes(["none", "hinting-v2", "reporting"], "5.10")
    assert result.returncode == 0 and result.stderr == f"buddyscope compare: note: {note}\n"
    assert result.stdout == format_table(compare("idle", 1))
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["none", "hinting-v2", "reporting"]
    over_time = {line.split(" (")[1].split(")")[0]: line.split()[-3:] for line in lines[1:7]}
    assert all(line.startswith("returned by t=") for line in lines[1:7])
    # 800 MiB touched then freed: v2 gives it back 100 ms later, reporting in passes 2 s apart.
    assert over_time["last free"] == ["0.0", "0.0", "0.0"]
    assert over_time["last free + 0.5 s"] == ["0.0", "800.0", "0.0"]
    assert over_time["last free + 2.5 s"][1] == "800.0"
    assert 0 < float(over_time["last free + 2.5 s"][2]) < 800
    assert over_time["all drained"] == ["0.0", "800.0", "800.0"]
    assert lines[7].startswith("memory returned to the host (MiB)")
    # A scenario: the strategies it names, its zones and seed (as a session of it runs).
    result = run_cli("compare", "--scenario", "v2-vs-merged", "--seed", "3", "--json")
    runs = json.loads(result.stdout)
    assert [r["strategy"] for r in runs] == ["none", "hinting-v2", "reporting"]
    at = runs[1]["returned_at"][1]
    assert at["when"] == "last free + 0.5 s" and at["pages"] == runs[1]["returned_pages"] > 0
    assert all(len(r["returned_at"]) == len(runs[0]["returned_at"]) for r in runs)


def test_serve_options_reach_the_limits() -> None:
    args = parse_args(
        ["serve", "--max-sessions", "3", "--max-viewers", "7", "--allow-origin", "http://x.y",
         "--data-dir", "/tmp/bs", "--scenario", "reporting-passes"]
    )  # fmt: skip
    assert (args.max_sessions, args.max_viewers, args.allow_origin) == (3, 7, ["http://x.y"])
    assert str(args.data_dir) == "/tmp/bs" and args.scenario == "reporting-passes"
