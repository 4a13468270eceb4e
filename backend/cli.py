"""``buddyscope`` command line.

    buddyscope [serve] [--host 127.0.0.1] [--port 8000] [--no-open] [--scenario default]

``serve`` is the default subcommand.  It prints the URL, opens a browser unless told not
to (and only where a browser can show up), and warns when the dashboard is reachable
from other machines: it has no authentication.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import socket
import sys
import threading
import webbrowser
from collections.abc import Sequence
from typing import TextIO

from . import __version__
from .scenarios import SCENARIOS

SUBCOMMANDS = ("serve",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="buddyscope",
        description="A dashboard that shows the Linux page allocator's free lists.",
    )
    parser.add_argument("--version", action="version", version=f"buddyscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser("serve", help="start the dashboard (the default command)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="TCP port (default 8000)")
    serve.add_argument("--no-open", action="store_true", help="do not open a web browser")
    serve.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default="default",
        help="model and workload to show (default: default)",
    )
    serve.add_argument("--log-level", default="warning", help="uvicorn log level")
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port must be 1..65535, got {port}")
    return port


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
    import uvicorn

    from .app import create_app
    from .server import NotifyingServer

    warning = exposure_warning(args.host)
    if warning:
        print(warning, file=err)
    problem = port_problem(args.host, args.port)
    if problem:
        print(f"buddyscope: {problem}", file=err)
        return 2
    url = url_for(args.host, args.port)
    app = create_app(SCENARIOS[args.scenario])

    def announce() -> None:
        print(f"buddyscope: dashboard at {url}  (Ctrl+C to stop)", file=out, flush=True)
        if not args.no_open and can_open_browser():
            # In a thread: a browser launcher may block, and the server must not.
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level)
    print(f"buddyscope {__version__}: building the {args.scenario!r} scenario ...", file=out)
    NotifyingServer(config, on_ready=announce).run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "serve":
        return serve(args)
    raise AssertionError(f"unhandled command {args.command!r}")  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
