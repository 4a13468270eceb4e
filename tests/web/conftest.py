"""Fixtures for the web tests: apps on small or default scenarios, live servers, and
one Chromium per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browserkit import launch
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright
from wirehelp import LiveServer, serve

from allocator_model.sources.builtin import build_default, build_small
from backend.app import AppState, create_app


@pytest.fixture
def small_client() -> Iterator[TestClient]:
    """A TestClient (lifespan run) around the small one-zone scenario."""
    with TestClient(create_app(build_small, allowed_hosts=("testserver",))) as client:
        yield client


@pytest.fixture
def default_client() -> Iterator[TestClient]:
    """A TestClient around the default scenario, exactly what `make run` serves."""
    with TestClient(create_app(build_default, allowed_hosts=("testserver",))) as client:
        yield client


def app_state(app: FastAPI) -> AppState:
    state: AppState = app.state.buddyscope
    return state


@pytest.fixture(scope="module")
def live_server() -> Iterator[LiveServer]:
    """The default app served by uvicorn on a free loopback port, in a thread."""
    with serve(create_app(build_default)) as live:
        yield live


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """The small app served by uvicorn (a module may define its own ``live``)."""
    with serve(create_app(build_small)) as server:
        yield server


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    """This machine's Chromium, driven by Playwright, for one test module."""
    with sync_playwright() as pw:
        b = launch(pw, chromium_path)
        yield b
        b.close()
