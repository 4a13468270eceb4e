"""Fixtures for the web tests: apps on small or default scenarios, and a live server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from wirehelp import LiveServer, serve

from backend.app import AppState, create_app
from backend.scenarios import build_default, build_small


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


@pytest.fixture(scope="module")
def live_server() -> Iterator[LiveServer]:
    """The default app served by uvicorn on a free loopback port, in a thread."""
    with serve(create_app(build_default)) as live:
        yield live
