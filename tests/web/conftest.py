"""Fixtures for the web tests: apps on small or default scenarios, and a live server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.app import AppState, create_app
from backend.scenarios import build_default, build_small
from backend.server import NotifyingServer


@pytest.fixture
def small_client() -> Iterator[TestClient]:
    """A TestClient (lifespan run) around the small one-zone scenario."""
    with TestClient(create_app(build_small)) as client:
        yield client


@pytest.fixture
def default_client() -> Iterator[TestClient]:
    """A TestClient around the default scenario, exactly what `make run` serves."""
    with TestClient(create_app(build_default)) as client:
        yield client


def app_state(app: FastAPI) -> AppState:
    state: AppState = app.state.buddyscope
    return state


@dataclass
class LiveServer:
    url: str
    app: FastAPI

    @property
    def state(self) -> AppState:
        return app_state(self.app)


@pytest.fixture(scope="module")
def live_server() -> Iterator[LiveServer]:
    """The default app served by uvicorn on a free loopback port, in a thread."""
    app = create_app(build_default)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # the kernel picks a free port; no race with others
    port = sock.getsockname()[1]
    server = NotifyingServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
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
