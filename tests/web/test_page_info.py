"""GET /api/sessions/{id}/page/{pfn}: the inspector's per-page detail is node.page()."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.timeout(120)


def test_page_detail_is_the_models(small_client: TestClient) -> None:
    sid = small_client.post("/api/sessions", json={"scenario": "hildenbrand"}).json()["id"]
    session = small_client.app.state.buddyscope.manager.get(sid)  # type: ignore[attr-defined]
    node = session.view.node
    node.advance(5)  # the boot blocks are hinted: pfn 0 heads a hinted block
    r = small_client.get(f"/api/sessions/{sid}/page/0")
    assert r.status_code == 200
    data = r.json()
    expected = dataclasses.asdict(node.page(0))
    assert data == {k: list(v) if isinstance(v, tuple) else v for k, v in expected.items()}
    assert data["hinted"] and data["head_page_type_value"] == 0xFFFFFE7F
    assert "not recognised as free" in data["kdump_view"]


def test_page_outside_every_zone_and_unknown_session(small_client: TestClient) -> None:
    sid = small_client.post("/api/sessions", json={"scenario": "buddy-basics"}).json()["id"]
    r = small_client.get(f"/api/sessions/{sid}/page/5000")
    assert r.status_code == 404 and "outside every zone" in r.text
    assert small_client.get("/api/sessions/nope/page/0").status_code == 404
