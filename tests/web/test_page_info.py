"""GET /api/sessions/{id}/page/{pfn}: the inspector's per-page detail is node.page()."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.timeout(600)


def test_page_detail_is_the_models(small_client: TestClient) -> None:
    sid = small_client.post("/api/sessions", json={"scenario": "hildenbrand"}).json()["id"]
    session = small_client.app.state.buddyscope.manager.get(sid)  # type: ignore[attr-defined]
    node = session.view.node
    node.advance(5)  # the boot blocks are hinted: pfn 0 heads a hinted block
    r = small_client.get(f"/api/sessions/{sid}/page/0")
    assert r.status_code == 200
    data = r.json()
    expected = dataclasses.asdict(node.page(0))
    full = node.zone("Normal").free_list(data["block_order"], data["list_migratetype"])
    expected |= {"list_index": full.index(0), "list_length": len(full)}
    assert data == {k: list(v) if isinstance(v, tuple) else v for k, v in expected.items()}
    assert data["hinted"] and data["head_page_type_value"] == 0xFFFFFE7F
    assert "not recognised as free" in data["kdump_view"]


def test_page_outside_every_zone_and_unknown_session(small_client: TestClient) -> None:
    sid = small_client.post("/api/sessions", json={"scenario": "buddy-basics"}).json()["id"]
    r = small_client.get(f"/api/sessions/{sid}/page/5000")
    assert r.status_code == 404 and "outside every zone" in r.text
    assert small_client.get("/api/sessions/nope/page/0").status_code == 404


def test_a_free_block_deep_in_a_long_list_has_its_index(small_client: TestClient) -> None:
    """Every frame of every free block answers with its block's index in its list and the
    list's length (the hover and the inspector show them for blocks the lists do not
    send); an allocated frame answers with none."""
    created = small_client.post("/api/sessions", json={"scenario": "reporting-passes"}).json()
    sid = created["id"]
    view = small_client.app.state.buddyscope.manager.get(sid).view  # type: ignore[attr-defined]
    view.seek(view.length)  # the end: the guest freed what it had; the lists are long again
    node = small_client.app.state.buddyscope.manager.get(sid).view.node  # type: ignore[attr-defined]
    held = node.alloc(0, "Movable")  # one allocated page; the rest stays on long lists
    zone = node.zone("Normal")
    checked = 0
    for order in range(node.max_order):
        for mt in node.migratetypes:
            full = zone.free_list(order, mt)
            for index in sorted({0, len(full) // 2, len(full) - 1}) if full else []:
                pfn = full[index] + (1 << order) - 1  # the block's last frame
                data = small_client.get(f"/api/sessions/{sid}/page/{pfn}").json()
                assert (data["block_pfn"], data["block_order"]) == (full[index], order)
                assert (data["list_index"], data["list_length"]) == (index, len(full))
                checked += 1
    assert checked >= 3
    data = small_client.get(f"/api/sessions/{sid}/page/{held}").json()
    assert data["allocated"] and data["list_index"] is None and data["list_length"] is None
