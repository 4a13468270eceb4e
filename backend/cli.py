"""``buddyscope`` command line.

    buddyscope [serve] [--host 127.0.0.1] [--port 8000] [--no-open] [--scenario default]
    buddyscope simulate [--scenario NAME | --workload FILE|BUILTIN | --trace FILE |
                         --buddyinfo FILE [--pagetypeinfo FILE] | --machine [ROOT]] [--strategy S]
                        [--kernel K] [--seed N] [--until end|STEPS|SECONDSs]
                        [--format buddyinfo|pagetypeinfo|json]
    buddyscope compare [--scenario NAME | --workload FILE|BUILTIN | --trace FILE] [--seed N]
                       [--kernel K] [--pages N] [--pcp on|off] [--json]
    buddyscope bench [--model] [--server] [--pages N] [--steps N] [--json]
    buddyscope live [--once] [--format text|json] [--interval S]
    buddyscope practice [--kind pfn|end|merge|report] [--seed N] [--answer X | --reveal]

``serve`` is the default subcommand.  It prints the URL, opens a browser unless told not
to (and only where a browser can show up), and warns when the dashboard is reachable
from other machines: it has no authentication beyond unguessable session ids and
control tokens.  A wrong argument gets a one-line error and exit status 2.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

# The model and the server (FastAPI, pydantic) are imported where a command needs them,
# and so are the version (importlib.metadata), sockets and the browser launcher:
# `buddyscope live` reads /proc and prints, and importing the server took 0.6 s of it.

SUBCOMMANDS = ("serve", "simulate", "compare", "bench", "live", "practice")


class OneLineParser(argparse.ArgumentParser):
    """Errors as one line (``buddyscope simulate: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 3600, got {text}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"seed must be 0..4294967295, got {value}")
    return value


def _until(text: str) -> tuple[str, float]:
    if text == "end":
        return ("end", 0.0)
    try:
        if text.endswith("s"):
            seconds = float(text[:-1])
            if seconds < 0 or seconds != seconds or seconds > 10**7:
                raise ValueError
            return ("seconds", seconds)
        steps = int(text)
        if steps < 0:
            raise ValueError
        return ("steps", float(steps))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--until takes 'end', a number of steps (e.g. 500) or virtual seconds (e.g. 30s), "
            f"not {text!r}"
        ) from None


def _scenario(text: str) -> str:
    from allocator_model.sources.source import scenario_names

    names = scenario_names()
    if text not in names:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {text!r}; choose one of {', '.join(names)}"
        )
    return text


def build_parser() -> argparse.ArgumentParser:
    from allocator_model.kernel.node import STRATEGIES
    from allocator_model.lab.practice import KINDS as PRACTICE_KINDS
    from allocator_model.sources.workload import BUILTIN

    from . import __version__
    from .settings import Settings
    from .store import user_data_dir

    parser = OneLineParser(
        prog="buddyscope",
        description="A dashboard and a model of the Linux page allocator's free lists, free "
        "page hinting and free page reporting.",
    )
    parser.add_argument("--version", action="version", version=f"buddyscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="start the dashboard (the default command)",
        description="Serve the dashboard; every browser tab opens its own session.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="TCP port (default 8000)")
    serve.add_argument("--no-open", action="store_true", help="do not open a web browser")
    serve.add_argument(
        "--scenario",
        type=_scenario,
        default="default",
        metavar="NAME",
        help="scenario new sessions run (default: default; see GET /api/scenarios)",
    )
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where saved sessions and the key of the control tokens are kept (default: "
        f"{user_data_dir()})",
    )
    serve.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept requests and websockets from this browser origin (e.g. "
        "https://proxy.example)",
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this host name (besides localhost, loopback addresses "
        "and --host; e.g. the machine's name when serving a classroom)",
    )
    limits = Settings()
    for flag, field, help_text in (
        ("--max-sessions", "max_sessions", "live sessions at once"),
        ("--max-viewers", "max_viewers", "connections watching one session"),
        ("--max-sessions-per-client", "max_sessions_per_client", "live sessions one address made"),
        (
            "--max-connections-per-client",
            "max_connections_per_client",
            "websockets one address holds",
        ),
        ("--max-connections-per-token", "max_connections_per_token", "controllers of one session"),
        ("--max-pages-per-zone", "max_pages_per_zone", "largest zone a session may configure"),
        (
            "--max-pages-per-session",
            "max_pages_per_session",
            "pages of one session's zones together; also the largest zone of a /proc snapshot",
        ),
        ("--max-pages-total", "max_pages_total", "pages of all live sessions together"),
        ("--max-zones", "max_zones", "zones of one session"),
        ("--max-step-blocks", "max_step_blocks", "blocks one step may allocate, free or touch"),
        ("--max-step-events", "max_step_events", "events one step may make (else it is undone)"),
        ("--max-timeline-steps", "max_timeline_steps", "steps in one timeline branch"),
        ("--max-message-bytes", "max_message_bytes", "largest client message (else close 1009)"),
        (
            "--queue-bytes",
            "queue_bytes",
            "bytes of state messages waiting for one client (beyond: one snapshot when it reads)",
        ),
    ):
        serve.add_argument(
            flag,
            type=_positive,
            default=getattr(limits, field),
            help=f"{help_text} (default {getattr(limits, field)})",
        )
    serve.add_argument(
        "--max-upload-bytes",
        type=_positive,
        default=limits.max_upload_bytes,
        help=f"largest request body: uploads, imports (default {limits.max_upload_bytes})",
    )
    for flag, field, help_text in (
        (
            "--send-timeout",
            "send_timeout_s",
            "close a client that takes longer to accept one message: it does not read "
            "(close code 4408)",
        ),
        (
            "--stall-grace",
            "stall_grace_s",
            "then cut its connection this much later if it has not taken the close frame",
        ),
        ("--max-step-seconds", "max_step_seconds", "CPU time one step may take (else undone)"),
    ):
        serve.add_argument(
            flag,
            type=_seconds,
            default=getattr(limits, field),
            metavar="SECONDS",
            help=f"{help_text} (default {getattr(limits, field):g})",
        )
    serve.add_argument(
        "--shared",
        action="store_true",
        help="a server many people use (a classroom): saved sessions are listed and opened "
        "only with their owner key (default: by anybody who can reach the server)",
    )
    serve.add_argument(
        "--no-live",
        action="store_true",
        help="turn off the live view of this machine's free lists (GET /api/live, /ws/live)",
    )
    serve.add_argument("--proc-root", default="/", help=argparse.SUPPRESS)
    serve.add_argument("--log-level", default="warning", help="uvicorn log level")

    sim = sub.add_parser(
        "simulate",
        help="run a scenario or workload headless and print the result",
        description="Run a scenario or a workload without a browser, step by step as the "
        "dashboard would, and print /proc/buddyinfo, /proc/pagetypeinfo or JSON.",
    )
    what = sim.add_mutually_exclusive_group()
    what.add_argument(
        "--scenario", type=_scenario, metavar="NAME", help="a scenario (default: default)"
    )
    what.add_argument(
        "--workload",
        metavar="FILE|NAME",
        help="a workload file (docs/workload.schema.json) or a built-in: "
        + ", ".join(sorted(BUILTIN)),
    )
    what.add_argument(
        "--trace",
        metavar="FILE",
        help="replay a kmem page trace (trace-cmd report / perf script output)",
    )
    what.add_argument(
        "--buddyinfo",
        metavar="FILE",
        help="start from a real machine's /proc/buddyinfo (then step its pending work)",
    )
    what.add_argument(
        "--machine",
        nargs="?",
        const="/",
        metavar="ROOT",
        help="start from this machine frame by frame (root: /proc/kpageflags, zoneinfo, "
        "pagetypeinfo; ROOT: a recorded /proc and /sys tree) on the newest kernel rules",
    )
    sim.add_argument(
        "--pagetypeinfo",
        metavar="FILE",
        help="with --buddyinfo: the same machine's /proc/pagetypeinfo (migratetypes)",
    )
    sim.add_argument(
        "--strategy",
        choices=STRATEGIES,
        help="hinting strategy (default: as configured); hinting-v2 without --kernel runs "
        "on Linux 5.3 rules, the base its patches were written against",
    )
    sim.add_argument(
        "--kernel",
        choices=("5.3", "5.7", "5.10", "6.12"),
        help="kernel rules (default: as configured; 5.3 for hinting-v2, but a --machine "
        "start keeps the newest). v2 hinting on other rules is an experiment no kernel "
        "ran: a 'note: what if' line on stderr and the JSON's what_if say so",
    )
    sim.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    sim.add_argument("--pages", type=_positive, help="resize the last zone to this many pages")
    sim.add_argument(
        "--until",
        type=_until,
        default=("end", 0.0),
        metavar="end|STEPS|SECONDSs",
        help="stop at the end (workload over, no work pending), after STEPS steps, or when "
        "the virtual clock reaches SECONDS (default: end)",
    )
    sim.add_argument("--format", choices=("buddyinfo", "pagetypeinfo", "json"), default="buddyinfo")
    sim.add_argument("--max-steps", type=_positive, default=1_000_000, help="safety limit")

    cmp_ = sub.add_parser(
        "compare",
        help="run one workload under each strategy and compare",
        description="Run one workload (same seed) under none, hinting-v2 and reporting (or "
        "the strategies a scenario names), let the idle guest drain, and compare memory "
        "returned to the host over time, reports and refaults.  The page's side-by-side "
        "view shows the same table for a session.",
    )
    cmp_what = cmp_.add_mutually_exclusive_group()
    cmp_what.add_argument(
        "--scenario", type=_scenario, metavar="NAME", help="a scenario's workload and node"
    )
    cmp_what.add_argument(
        "--workload",
        metavar="FILE|NAME",
        help=f"a workload file or a built-in: {', '.join(sorted(BUILTIN))} (default buffer-reuse)",
    )
    cmp_what.add_argument("--trace", metavar="FILE", help="a kmem page trace, replayed")
    cmp_.add_argument("--seed", type=_seed, help="random seed (default: the scenario's, or 0)")
    cmp_.add_argument(
        "--kernel",
        choices=("5.7", "5.10", "6.12"),
        help="kernel rules every strategy runs on (default: the scenario's, or 5.10; a "
        "5.3 scenario is compared on 5.10, for 5.3 has no reporting). v2 hinting was "
        "written against 5.3, so on these rules it is an experiment: a 'note: what if' line "
        "on stderr says so",
    )
    cmp_.add_argument("--pages", type=_positive, help="resize the last zone to this many pages")
    cmp_.add_argument(
        "--pcp",
        choices=("on", "off"),
        help="per-cpu page lists on or off (default: on, as in a real kernel, unless the "
        "scenario or file turns them off)",
    )
    cmp_.add_argument("--json", action="store_true", help="print JSON with the time series")

    bench = sub.add_parser(
        "bench",
        help="measure the model's and the server's speed",
        description="Measure the model (ops/s, bytes per page) and the server's timeline and "
        "messages on a 1M-page zone (snapshot size and build time, seek, command -> delta). "
        "bench/ws_load.py measures the websocket under load.",
    )
    bench.add_argument("--model", action="store_true", help="only the model")
    bench.add_argument("--server", action="store_true", help="only the server")
    bench.add_argument("--pages", type=_positive, default=1 << 20, help="zone size (default 1M)")
    bench.add_argument("--steps", type=_positive, default=100_000, help="timeline length")
    bench.add_argument("--seed", type=_seed, default=0)
    bench.add_argument("--json", action="store_true", help="print JSON")

    sub.add_parser(
        "live",
        help="show this machine's free lists, watermarks and page reporting parameters",
        description="buddyscope live [--once] [--format text|json] [--interval S] "
        "(see buddyscope live --help)",
        add_help=False,
    )
    practice = sub.add_parser(
        "practice",
        help="a generated exercise (the same for the same seed), checked by the model",
        description="Print an exercise drawn from a seed: predict the pfn an allocation "
        "gets (pfn), the end of the free list a freed block goes to (end), how far it "
        "merges (merge) or the next free page reporting batch (report).  --answer checks "
        "a reply (exit status 1 when it is wrong); --reveal prints the answer and the "
        "model's events that explain it.  The page shows the same exercise at "
        "/practice.html?kind=KIND&seed=N.",
    )
    practice.add_argument("--kind", choices=PRACTICE_KINDS, default="pfn")
    practice.add_argument("--seed", type=_seed, default=0, help="the seed (default 0)")
    reply = practice.add_mutually_exclusive_group()
    reply.add_argument("--answer", metavar="X", help="check this reply")
    reply.add_argument("--reveal", action="store_true", help="print the answer and why")
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port must be 1..65535, got {port}")
    return port


def live(argv: Sequence[str]) -> int:
    """``buddyscope live``: ``allocator_model.sources.live.main`` (its options are its own)."""
    from allocator_model.sources.live import main as live_main

    return live_main(list(argv))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0] not in SUBCOMMANDS and args[0] not in ("-h", "--help", "--version")):
        args.insert(0, "serve")
    return build_parser().parse_args(args)


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost: assume it is reachable
        return False


def exposure_warning(host: str) -> str | None:
    if is_loopback(host):
        return None
    return (
        f"warning: binding to {host} makes the dashboard reachable from other machines; "
        "it has no authentication. Use --host 127.0.0.1 to keep it local."
    )


def port_problem(host: str, port: int) -> str | None:
    """A clear message if ``host:port`` cannot be bound, else None."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use; try --port {port + 1}"
            return f"cannot bind {host}:{port}: {exc.strerror or exc}"
    return None


def can_open_browser() -> bool:
    """On Linux/BSD only with a graphical session: never hijack a terminal with lynx."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def serve(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    import webbrowser

    import uvicorn

    from allocator_model.sources.builtin import SCENARIOS, build_small

    from . import __version__
    from .app import create_app
    from .server import NotifyingServer
    from .settings import Settings
    from .sources import SessionConfig
    from .store import server_key, user_data_dir

    warning = exposure_warning(args.host)
    if warning:
        print(warning, file=err)
    problem = port_problem(args.host, args.port)
    if problem:
        print(f"buddyscope: {problem}", file=err)
        return 2
    data_dir = args.data_dir if args.data_dir is not None else user_data_dir()
    try:
        server_key(data_dir)  # made now if missing; refused if others can read it
    except (RuntimeError, OSError) as exc:
        print(f"buddyscope: {exc}", file=err)
        return 2
    url = url_for(args.host, args.port)
    settings = Settings(
        max_sessions=args.max_sessions,
        max_viewers=args.max_viewers,
        max_sessions_per_client=args.max_sessions_per_client,
        max_connections_per_client=args.max_connections_per_client,
        max_connections_per_token=args.max_connections_per_token,
        max_pages_per_zone=args.max_pages_per_zone,
        max_pages_per_session=args.max_pages_per_session,
        max_pages_total=args.max_pages_total,
        max_zones=args.max_zones,
        max_step_blocks=args.max_step_blocks,
        max_step_events=args.max_step_events,
        max_step_seconds=args.max_step_seconds,
        max_timeline_steps=args.max_timeline_steps,
        max_message_bytes=args.max_message_bytes,
        queue_bytes=args.queue_bytes,
        max_upload_bytes=args.max_upload_bytes,
        live=not args.no_live,
        shared=args.shared,
        send_timeout_s=args.send_timeout,
        stall_grace_s=args.stall_grace,
        live_root=args.proc_root,
    )
    app = create_app(
        SCENARIOS.get(args.scenario, build_small),
        settings=settings,
        bind_host=args.host,
        allowed_hosts=tuple(args.allow_host),
        allowed_origins=tuple(args.allow_origin),
        default_config=SessionConfig(scenario=args.scenario),
        data_dir=data_dir,
    )

    def announce() -> None:
        print(f"buddyscope: dashboard at {url}  (Ctrl+C to stop)", file=out, flush=True)
        if not args.no_open and can_open_browser():
            # In a thread: a browser launcher may block, and the server must not.
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        ws_max_size=args.max_message_bytes,  # the protocol layer closes with 1009 too
    )
    print(f"buddyscope {__version__}: building the {args.scenario!r} scenario ...", file=out)
    NotifyingServer(config, on_ready=announce).run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["live"]:
        return live(raw[1:])
    args = parse_args(raw)
    if args.command == "serve":
        return serve(args)
    if args.command == "practice":
        from .practice import run

        return run(args)
    from . import headless

    commands = {"simulate": headless.simulate, "compare": headless.compare, "bench": headless.bench}
    try:
        return commands[args.command](args)
    except (MemoryError, RecursionError, OverflowError) as exc:  # a hostile file: one line
        print(
            f"buddyscope {args.command}: error: the input is too large or nested too deep "
            f"for this machine ({type(exc).__name__})",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
