"""Free lists on the wire: v2's boundary placed wherever it lies (index, neighbours, the
hinted blocks in front of it), the flagged count of every list, and deltas that keep
both exact (checked against the model after every step, and against a fresh snapshot).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from wirehelp import Mirror, command, open_session

from allocator_model import Node
from backend.protocol import LIST_ENDS
from backend.session import Session

pytestmark = pytest.mark.timeout(600)

#: A second hinting cycle starts with every boundary at its list head sentinel while the
#: blocks hinted by the first cycle stay on the lists (the model's
#: test_v2_second_cycle_starts_with_hinted_blocks_in_front_of_the_boundary).
RESET_TO_HEAD = {
    "name": "reset-to-head",
    "config": {
        "zones": [["Normal", 1, 64]],
        "hinting": "hinting-v2",
        "hinting_options": {"capacity": 1, "min_order": 2, "hwm": 1},
        "kernel": "5.7",
        "min_free_kbytes": 0,
        "max_order": 6,
        "pageblock_order": 2,
    },
    "workload": [
        {"op": "advance", "seconds": 0.104},
        {"op": "alloc", "order": 0, "migratetype": "Unmovable", "label": "x"},
        {"op": "free", "label": "x"},
        {"op": "advance", "seconds": 1},
    ],
}


def session_of(client: TestClient, sid: str) -> Session:
    session = client.app.state.buddyscope.manager.get(sid)  # type: ignore[attr-defined]
    assert session is not None
    return session


def expected_boundary(node: Node, zone: str, order: int, mt: str) -> dict[str, Any] | None:
    """The boundary of one list as the model holds it, from the whole list."""
    hs = node.hinting_state()
    if hs["strategy"] != "hinting-v2" or hs["active_zone"] != zone:
        return None
    row = hs["boundaries"].get(order, {})
    if mt not in row:
        return None
    z = node.zone(zone)
    full = z.free_list(order, mt)
    flag = [z.flags[p - z.start_pfn] != 0 for p in full]
    pfn = row[mt]
    index = len(full) if pfn is None else full.index(pfn)
    return {
        "index": index,
        "before": full[index - 1] if index else None,
        "before_flagged": flag[index - 1] if index else None,
        "after": pfn,
        "after_flagged": None if pfn is None else flag[index],
        "flagged_before": sum(flag[:index]),
    }


def check_lists(mirror: Mirror, node: Node) -> list[dict[str, Any]]:
    """Every list the page holds has the model's flagged count and boundary; returns
    the boundaries seen."""
    seen = []
    for z in node.zones:
        lists = mirror.zones[z.name]["lists"]
        for order in range(node.max_order):
            for mt in node.migratetypes:
                full = z.free_list(order, mt)
                fl = lists.get((order, mt))
                if not full:
                    assert fl is None, (z.name, order, mt)
                    continue
                assert fl is not None and fl["length"] == len(full), (z.name, order, mt)
                assert fl["flagged"] == z.flagged_count(order, mt)
                assert fl["flagged"] == sum(1 for p in full if z.flags[p - z.start_pfn])
                assert fl["boundary"] == expected_boundary(node, z.name, order, mt)
                if fl["boundary"] is not None:
                    seen.append({**fl["boundary"], "length": fl["length"]})
    return seen


def step_and_check(
    ws: Any, client: TestClient, sid: str, mirror: Mirror, first_id: int, steps: int
) -> list[dict[str, Any]]:
    seen = []
    for n in range(first_id, first_id + steps):
        frames, ack = command(ws, n, type="step")
        if ack["type"] == "error":
            assert ack["code"] == "nothing_to_do", ack
            break
        for f in frames:
            mirror.apply(f)
        seen += check_lists(mirror, session_of(client, sid).view.node)
    return seen


def test_the_v2_boundary_is_placed_exactly_in_a_long_list_of_a_1m_page_zone(
    small_client: TestClient,
) -> None:
    with small_client.websocket_connect("/ws?scenario=v2-boundary&pages=1048576") as ws:
        hello, snap = open_session(ws)
        sid = hello["session"]
        assert snap["zones"][0]["spanned_pages"] == 1 << 20
        folded = snap["setup"]["steps"]
        # The boot's hinting, folded into step 0 by default, as steps: the same moment.
        (snap,), _ = command(ws, 90, type="configure", fold_setup=False)
        assert snap["step"] == folded and snap["setup"] is None
        (snap,), _ = command(ws, 91, type="first")
        mirror = Mirror(snap | {"seq": 1})
        mirror.seq = snap["seq"]
        check_lists(mirror, session_of(small_client, sid).view.node)
        seen = step_and_check(ws, small_client, sid, mirror, 1, 20)
        # The boundary walked towards the head through the middle the lists do not send.
        middle = [b for b in seen if LIST_ENDS <= b["index"] < b["length"] - LIST_ENDS]
        assert len({b["index"] for b in middle}) >= 5, seen
        assert all(b["after_flagged"] and b["flagged_before"] == 0 for b in middle)
        # The deltas kept everything a fresh snapshot says.
        frames, _ = command(ws, 99, type="get_snapshot")
        assert mirror.state() == Mirror(frames[0] | {"seq": 1}).state()


def test_a_new_cycle_starts_with_hinted_blocks_in_front_of_the_boundary(
    small_client: TestClient,
) -> None:
    with small_client.websocket_connect("/ws") as ws:
        hello, snap = open_session(ws)
        mirror = Mirror(snap)
        frames, _ = command(ws, 1, type="configure", workload=json.dumps(RESET_TO_HEAD))
        for f in frames:
            mirror.apply(f)
        seen = step_and_check(ws, small_client, hello["session"], mirror, 2, 40)
        in_front = [b for b in seen if b["flagged_before"]]
        assert in_front, seen
        # At the list head sentinel (after the tail) with hinted blocks in front of it.
        assert any(b["after"] is None and b["before_flagged"] for b in in_front)
        frames, _ = command(ws, 99, type="get_snapshot")
        assert mirror.state() == Mirror(frames[0] | {"seq": 1}).state()


def test_reported_counts_per_list_are_the_models_and_the_metrics(
    small_client: TestClient,
) -> None:
    """One source of truth: lists[].flagged, zone.flagged_count and /metrics agree."""
    with small_client.websocket_connect("/ws?scenario=reporting-passes") as ws:
        hello, snap = open_session(ws)
        sid = hello["session"]
        mirror = Mirror(snap)
        step_and_check(ws, small_client, sid, mirror, 1, 12)
        node = session_of(small_client, sid).view.node
        per_order = node.zone("Normal").flagged_per_order()
        assert sum(per_order) > 0
        sent = [0] * node.max_order
        for (order, _mt), fl in mirror.zones["Normal"]["lists"].items():
            sent[order] += fl["flagged"]
        assert sent == per_order
        text = small_client.get("/metrics").text
        label = session_of(small_client, sid).label
        metric = re.compile(
            rf'buddyscope_flagged_blocks\{{order="(\d+)",session="{label}",'
            r'strategy="reporting",zone="Normal"\} (\S+)'
        )
        scraped = {int(m.group(1)): float(m.group(2)) for m in metric.finditer(text)}
        assert scraped == {k: float(n) for k, n in enumerate(per_order)}


def test_a_step_with_events_left_out_still_sends_exact_lists(small_client: TestClient) -> None:
    """A step of more than 4000 events sends the first 4000: the lists it changed are
    read again from the model instead of from the events."""
    workload = {
        "name": "bulk",
        "config": {"zones": [["Normal", 0, 16384]], "min_free_kbytes": 0},
        "workload": [
            {"op": "alloc", "order": 0, "count": 3000, "label": "a"},
            {"op": "free", "label": "a", "stride": 2, "count": 1500},
        ],
    }
    with small_client.websocket_connect("/ws") as ws:
        hello, snap = open_session(ws)
        mirror = Mirror(snap)
        frames, _ = command(ws, 1, type="configure", workload=json.dumps(workload))
        for f in frames:
            mirror.apply(f)
        dropped = 0
        for n in (2, 3):
            frames, _ = command(ws, n, type="step")
            for f in frames:
                mirror.apply(f)
                dropped += f["events_dropped"]
            check_lists(mirror, session_of(small_client, hello["session"]).view.node)
        assert dropped > 0
        frames, _ = command(ws, 99, type="get_snapshot")
        assert mirror.state() == Mirror(frames[0] | {"seq": 1}).state()
