"""Helpers for the web tests: a client-side mirror of the wire state, and a reader that
checks every frame against the protocol's schema (imported by the test modules)."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from backend.app import AppState
from backend.protocol import server_message_adapter
from backend.server import NotifyingServer


@dataclass
class LiveServer:
    url: str
    app: FastAPI

    @property
    def state(self) -> AppState:
        state: AppState = self.app.state.buddyscope
        return state

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "ws"


def free_port() -> int:
    """A loopback port free now (for a server that must come back on the same one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(app: FastAPI, port: int = 0, **config: Any) -> Iterator[LiveServer]:
    """Serve ``app`` with uvicorn on loopback, in a thread: on a free port the kernel
    picks (no race with others), or on ``port`` (a restart on the same one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    server = NotifyingServer(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not server.ready.wait(timeout=60):
            pytest.fail("uvicorn did not start within 60 s")
        if not server.started:
            pytest.fail("uvicorn failed to start (see the log above)")
        yield LiveServer(url=f"http://127.0.0.1:{port}/", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def receive(ws: Any) -> dict[str, Any]:
    """One frame as a dict, after checking it against the server message union."""
    text = ws.receive_text()
    server_message_adapter.validate_json(text)
    msg: dict[str, Any] = json.loads(text)
    return msg


def until_answer(ws: Any, ident: int | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Frames up to (and the) ack/error of the command with ``ident``."""
    got: list[dict[str, Any]] = []
    while True:
        msg = receive(ws)
        if msg["type"] in ("ack", "error") and (ident is None or msg.get("id") == ident):
            return got, msg
        got.append(msg)


def command(ws: Any, ident: int, **fields: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    ws.send_json({**fields, "id": ident})
    return until_answer(ws, ident)


def open_session(ws: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    hello = receive(ws)
    assert hello["type"] == "hello", hello
    snap = receive(ws)
    assert snap["type"] == "snapshot", snap
    return hello, snap


class Mirror:
    """What a page knows: a snapshot with every later delta applied, checked for order."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.seq = 0
        self.zones: dict[str, dict[str, Any]] = {}
        self.load(snapshot)

    def load(self, snap: dict[str, Any]) -> None:
        assert snap["type"] == "snapshot"
        assert snap["seq"] == self.seq + 1, (snap["seq"], self.seq)
        self.seq = snap["seq"]
        self.step = snap["step"]
        self.length = snap["timeline_length"]
        self.clock = snap["clock"]
        self.host = snap["host"]
        self.hinting = snap["hinting"]
        self.zones = {}
        for z in snap["zones"]:
            self.zones[z["name"]] = {
                "start_pfn": z["start_pfn"],
                "nr_free": list(z["nr_free"]),
                "nr_free_pages": z["nr_free_pages"],
                "lists": {(fl["order"], fl["migratetype"]): fl for fl in z["lists"]},
                "page_state": bytearray(base64.b64decode(z["page_state"])),
                "host_backing": bytearray(base64.b64decode(z["host_backing"])),
                "pageblock_mt": bytearray(base64.b64decode(z["pageblock_mt"])),
            }

    def apply(self, msg: dict[str, Any]) -> None:
        if msg["type"] == "snapshot":
            self.load(msg)
            return
        assert msg["type"] == "delta", msg["type"]
        assert msg["seq"] == self.seq + 1, (msg["seq"], self.seq)
        self.seq = msg["seq"]
        self.step = msg["step"]
        self.length = msg["timeline_length"]
        self.clock = msg["clock"]
        self.host = msg["host"]
        self.hinting = msg["hinting"]
        for zd in msg["zones"]:
            z = self.zones[zd["name"]]
            z["nr_free"] = list(zd["nr_free"])
            z["nr_free_pages"] = zd["nr_free_pages"]
            for fl in zd["lists"]:
                key = (fl["order"], fl["migratetype"])
                if fl["length"] == 0:
                    z["lists"].pop(key, None)
                else:
                    z["lists"][key] = fl
            for field, ranges, base in (
                ("page_state", zd["page_ranges"], z["start_pfn"]),
                ("host_backing", zd["host_ranges"], z["start_pfn"]),
                ("pageblock_mt", zd["pageblock_ranges"], 0),
            ):
                for start, data in ranges:
                    raw = base64.b64decode(data)
                    off = start - base
                    z[field][off : off + len(raw)] = raw

    def state(self) -> dict[str, Any]:
        """Everything comparable (not seq)."""
        return {
            "step": self.step,
            "length": self.length,
            "clock": self.clock,
            "host": self.host,
            "hinting": self.hinting,
            "zones": {
                name: {**z, "lists": dict(sorted(z["lists"].items()))}
                for name, z in self.zones.items()
            },
        }
