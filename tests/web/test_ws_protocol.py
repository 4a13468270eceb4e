"""The websocket protocol, end to end through FastAPI's TestClient."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from backend.app import AppState
from backend.protocol import (
    PROTOCOL_VERSION,
    FreeListSlice,
    Hello,
    Snapshot,
    server_message_adapter,
)
from backend.snapshot import LIST_ENDS

pytestmark = pytest.mark.timeout(30)


def receive(ws: Any) -> Any:
    """Receive one frame and check it against the server message union."""
    return server_message_adapter.validate_json(ws.receive_text())


def check_against_model(snapshot: Snapshot, client: TestClient) -> None:
    state: AppState = client.app.state.buddyscope  # type: ignore[attr-defined]
    node = state.scenario.node
    assert [z.name for z in snapshot.zones] == [z.name for z in node.zones]
    assert snapshot.max_order == node.max_order
    assert snapshot.migratetypes == list(node.migratetypes)
    for sent, zone in zip(snapshot.zones, node.zones, strict=True):
        assert sent.start_pfn == zone.start_pfn
        assert sent.spanned_pages == zone.spanned_pages
        assert sent.nr_free == [zone.nr_free[o] for o in range(node.max_order)]
        for mt in node.migratetypes:
            for order in range(node.max_order):
                full = zone.free_list(order, mt)
                got = sent.free_lists[mt][order]
                assert got.count == len(full)
                assert got.head == full[: len(got.head)], (zone.name, mt, order)
                assert got.tail == full[len(full) - len(got.tail) :], (zone.name, mt, order)
                assert len(got.head) == min(len(full), LIST_ENDS if got.tail else len(full))


def test_hello_then_a_snapshot_of_the_model(default_client: TestClient) -> None:
    with default_client.websocket_connect("/ws") as ws:
        hello = receive(ws)
        assert isinstance(hello, Hello)
        assert hello.protocol_version == PROTOCOL_VERSION == 1
        assert hello.limits.list_ends == LIST_ENDS
        assert hello.server.startswith("buddyscope ")
        snapshot = receive(ws)
        assert isinstance(snapshot, Snapshot)
        assert snapshot.seq == 1
        assert snapshot.scenario == "default"
        assert snapshot.step > 0
        assert [z.name for z in snapshot.zones] == ["DMA", "DMA32", "Normal"]
        check_against_model(snapshot, default_client)


def test_long_lists_are_sent_as_both_ends(default_client: TestClient) -> None:
    with default_client.websocket_connect("/ws") as ws:
        receive(ws)
        snapshot = receive(ws)
    cut = [
        fl
        for z in snapshot.zones
        for lists in z.free_lists.values()
        for fl in lists
        if fl.count > 2 * LIST_ENDS
    ]
    assert cut, "the default workload should leave some long free lists"
    for fl in cut:
        assert len(fl.head) == len(fl.tail) == LIST_ENDS


def test_get_snapshot_is_answered_with_a_snapshot_then_an_ack(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as ws:
        receive(ws)
        first = receive(ws)
        ws.send_json({"type": "get_snapshot", "id": 7})
        again = receive(ws)
        ack = receive(ws)
    assert isinstance(again, Snapshot)
    assert again.seq == first.seq + 1 == 2
    assert again.zones == first.zones
    assert ack.model_dump() == {"type": "ack", "id": 7}
    check_against_model(again, small_client)


@pytest.mark.parametrize(
    ("sent", "expected_id", "needle"),
    [
        ("this is not json", None, "JSON"),
        ('{"type": "teleport", "id": 3}', 3, "teleport"),
        ('{"type": "get_snapshot"}', None, "id"),
        ('{"type": "ping", "id": 4, "extra": 1}', 4, "extra"),
        ('{"type": "ping", "id": true}', None, "id"),
        ("[1, 2]", None, ""),
    ],
)
def test_bad_messages_get_an_error_and_the_connection_survives(
    small_client: TestClient, sent: str, expected_id: int | None, needle: str
) -> None:
    with small_client.websocket_connect("/ws") as ws:
        receive(ws)
        receive(ws)
        ws.send_text(sent)
        error = receive(ws).model_dump()
        assert error["type"] == "error"
        assert error["code"] == "bad_message"
        assert error["id"] == expected_id
        assert needle in error["message"]
        ws.send_json({"type": "ping", "id": 99})
        assert receive(ws).model_dump() == {"type": "ack", "id": 99}


def test_every_connection_numbers_its_own_messages(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as a, small_client.websocket_connect("/ws") as b:
        for ws in (a, b):
            receive(ws)
            assert receive(ws).seq == 1


def test_messages_are_a_discriminated_union_on_type() -> None:
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        server_message_adapter.validate_python({"type": "delta"})
    schema = server_message_adapter.json_schema()
    mapping = schema["discriminator"]["mapping"]
    assert set(mapping) == {"hello", "snapshot", "ack", "error"}
    assert schema["discriminator"]["propertyName"] == "type"


def test_a_slice_cannot_claim_fewer_blocks_than_it_carries() -> None:
    with pytest.raises(ValidationError, match="more pfns than count"):
        FreeListSlice(count=1, head=[1, 2], tail=[])
    with pytest.raises(ValidationError, match="complete list"):
        FreeListSlice(count=2, head=[1], tail=[2])
