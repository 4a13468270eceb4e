"""Plain HTTP: the health check and the static page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from backend import __version__

pytestmark = pytest.mark.timeout(600)


def test_healthz_answers(small_client: TestClient) -> None:
    response = small_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": __version__,
        "protocol_version": 1,
        "scenario": "small",
        "sessions": 0,
    }


def test_the_page_is_served_from_frontend(small_client: TestClient) -> None:
    page = small_client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<link rel="icon" href="data:,">' in page.text  # no favicon 404 in the console
    assert '<script type="module" src="app.js"></script>' in page.text
    for module in ("app.js", "lib/protocol.js", "lib/layout.js"):
        response = small_client.get(f"/{module}")
        assert response.status_code == 200, module
        assert "javascript" in response.headers["content-type"], module
    assert small_client.get("/style.css").headers["content-type"].startswith("text/css")


#: The page's own stylesheets by concern (issue 14), in the order the cascade was written
#: for: a later file overrides an earlier one where their selectors tie.
STYLESHEETS = ["style.css", "shell.css", "lists.css", "panels.css", "presenter.css"]


@pytest.mark.parametrize("page", ["/", "/practice.html", "/handout.html"])
def test_every_page_loads_the_stylesheets_together_in_one_order(
    small_client: TestClient, page: str
) -> None:
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)">', small_client.get(page).text)
    assert "style.css" in links, page
    first = links.index("style.css")
    assert links[first : first + len(STYLESHEETS)] == STYLESHEETS, (page, links)
    for sheet in STYLESHEETS:
        response = small_client.get(f"/{sheet}")
        assert response.status_code == 200, sheet
        assert response.headers["content-type"].startswith("text/css"), sheet


def test_unknown_paths_are_404(small_client: TestClient) -> None:
    assert small_client.get("/nope.js").status_code == 404


def test_a_missing_frontend_is_reported_clearly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from backend.app import create_app

    monkeypatch.setenv("BUDDYSCOPE_FRONTEND", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"no index\.html"):
        create_app()
