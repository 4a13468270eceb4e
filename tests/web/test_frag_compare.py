"""Fragmentation on the wire (unusable free space index per zone and order in snapshots
and deltas) and the side-by-side comparison (GET /api/compare), which is
``allocator_model.compare`` itself."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient
from wirehelp import Mirror, command, open_session

from allocator_model.compare import COMPARE_ZONES, compare
from allocator_model.fragmentation import unusable_free_index
from allocator_model.scenario import load

pytestmark = pytest.mark.timeout(300)


def test_snapshots_and_deltas_carry_the_unusable_index(small_client: TestClient) -> None:
    created = small_client.post("/api/sessions", json={"scenario": "fragmentation"}).json()
    with small_client.websocket_connect(created["ws"]) as ws:
        _, snap = open_session(ws)
        mirror = Mirror(snap)
        zone = snap["zones"][0]
        assert zone["unusable_index"] == [0] * 11  # free memory in order-10 blocks: all usable
        index = {zone["name"]: zone["unusable_index"]}
        for n in range(300):
            frames, _ = command(ws, n, type="step")
            for frame in frames:
                mirror.apply(frame)
                for zd in frame["zones"]:
                    index[zd["name"]] = zd["unusable_index"]
        for name, z in mirror.zones.items():
            nr_free = z["nr_free"]
            assert index[name] == [unusable_free_index(nr_free, k) for k in range(len(nr_free))]
        assert index["Normal"][0] == 0 and index["Normal"][10] > 0  # fragmented by now
        frames, _ = command(ws, 999, type="get_snapshot")
        assert frames[0]["zones"][0]["unusable_index"] == index["Normal"]


def as_dicts(results: list[object]) -> list[dict[str, object]]:
    out = []
    for r in results:
        d = dataclasses.asdict(r)  # type: ignore[call-overload]
        d["series"] = [list(p) for p in d["series"]]
        out.append(d)
    return out


def test_compare_a_builtin_workload_is_the_models_compare(small_client: TestClient) -> None:
    r = small_client.get("/api/compare", params={"workload": "idle", "seed": 3})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["strategies"] == ["none", "hinting-v2", "reporting"] and got["kernel"] == "5.10"
    want = as_dicts(compare("idle", 3, kernel="5.10", zones=COMPARE_ZONES))
    assert got["results"] == want
    assert got["results"][2]["series"] and got["results"][0]["returned_pages"] == 0


def test_compare_a_scenario_and_a_session(small_client: TestClient) -> None:
    r = small_client.get("/api/compare", params={"scenario": "v2-vs-merged"})
    assert r.status_code == 200, r.text
    got = r.json()
    sc = load("v2-vs-merged")
    assert got["strategies"] == ["none", *sc.compare]
    returned = {x["strategy"]: x["returned_pages"] for x in got["results"]}
    assert returned["none"] == 0 and returned["hinting-v2"] > 0 and returned["reporting"] > 0
    again = small_client.get("/api/compare", params={"scenario": "v2-vs-merged"}).json()
    assert again == got  # deterministic (and cached)
    created = small_client.post("/api/sessions", json={"scenario": "v2-vs-merged"}).json()
    r = small_client.get("/api/compare", params={"session": created["id"]})
    assert r.status_code == 200 and r.json()["results"] == got["results"]


@pytest.mark.parametrize(
    ("params", "status", "needle"),
    [
        ({}, 409, "exactly one"),
        ({"workload": "idle", "scenario": "small"}, 409, "exactly one"),
        ({"workload": "nope"}, 404, "no built-in workload"),
        ({"scenario": "nope"}, 404, "unknown scenario"),
        ({"session": "nope"}, 404, "no session"),
    ],
)
def test_compare_refusals(
    small_client: TestClient, params: dict[str, str], status: int, needle: str
) -> None:
    r = small_client.get("/api/compare", params=params)
    assert r.status_code == status and needle in r.json()["detail"], r.text
