"""Fragmentation on the wire (unusable free space index per zone and order in snapshots
and deltas) and the side-by-side comparison (GET /api/compare), which is
``allocator_model.lab.compare`` itself."""

from __future__ import annotations

import dataclasses
import io
import shlex
from typing import Any

import pytest
from fastapi.testclient import TestClient
from wirehelp import Mirror, command, open_session

from allocator_model.kernel.fragmentation import unusable_free_index
from allocator_model.lab.compare import (
    COMPARE_ZONES,
    ReturnedAt,
    StrategyResult,
    compare,
    format_table,
    table,
    what_if_notes,
)
from allocator_model.sources.scenario import load

pytestmark = pytest.mark.timeout(300)


def test_snapshots_and_deltas_carry_the_unusable_index(small_client: TestClient) -> None:
    created = small_client.post("/api/sessions", json={"scenario": "fragmentation"}).json()
    with small_client.websocket_connect(created["ws"]) as ws:
        _, snap = open_session(ws)
        mirror = Mirror(snap)
        zone = snap["zones"][0]
        # The starting state (the setup folded into step 0) already has its index.
        opened = mirror.zones[zone["name"]]["nr_free"]
        assert zone["unusable_index"] == [unusable_free_index(opened, k) for k in range(11)]
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


def test_compare_answers_with_the_table_and_the_command_that_prints_it(
    small_client: TestClient,
) -> None:
    r = small_client.get("/api/compare", params={"workload": "idle", "seed": 3})
    got = r.json()
    results = compare("idle", 3, kernel="5.10", zones=COMPARE_ZONES)
    assert got["rows"] == [{"label": lab, "values": vals} for lab, vals in table(results)]
    assert got["rows"][1]["label"] == "returned by t=0.500 s (last free + 0.5 s), MiB"
    assert [a["when"] for a in got["results"][1]["returned_at"]][:3] == [
        "last free", "last free + 0.5 s", "last free + 2.5 s"
    ]  # fmt: skip
    assert got["command"] == "buddyscope compare --workload idle --seed 3 --kernel 5.10"
    # v2 runs on 5.10's base rules here: a labelled "what if" (issue 12 point 4)
    assert got["notes"] == what_if_notes(["none", "hinting-v2", "reporting"], "5.10")
    assert got["notes"][0].startswith("what if: v2 hinting on Linux 5.10 rules")


def cli_table(command: str) -> str:
    """What ``command`` (a ``buddyscope compare`` line) prints, run in this process."""
    from backend import headless
    from backend.cli import parse_args

    out, err = io.StringIO(), io.StringIO()
    assert command.startswith("buddyscope compare ")
    assert headless.compare(parse_args(shlex.split(command)[1:]), out, err) == 0, err.getvalue()
    return out.getvalue()


def test_a_sessions_comparison_says_what_it_leaves_out_and_how_to_rerun_it(
    small_client: TestClient,
) -> None:
    body = {"scenario": "v2-vs-merged", "seed": 5, "kernel": "5.3", "pages": 131072,
            "constants": {"capacity": 16}}  # fmt: skip
    created = small_client.post("/api/sessions", json=body).json()
    with small_client.websocket_connect(created["ws"]) as ws:
        open_session(ws)
        command(ws, 1, type="alloc", order=0)
        command(ws, 2, type="advance", seconds=1)
    r = small_client.get("/api/compare", params={"session": created["id"]})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["kernel"] == "5.10" and got["seed"] == 5
    assert got["command"] == (
        "buddyscope compare --scenario v2-vs-merged --seed 5 --kernel 5.10 --pages 131072"
    )
    notes = " ".join(got["notes"])
    assert "not 5.3" in notes and "capacity = 16" in notes and "2 operations of your own" in notes
    # The command prints the same table as the page shows.
    rows = [(row["label"], row["values"]) for row in got["rows"]]
    results = [from_api(x) for x in got["results"]]
    assert table(results) == rows
    assert cli_table(got["command"]) == format_table(results)


def from_api(data: dict[str, Any]) -> StrategyResult:
    """An API result read back as the model's ``StrategyResult``."""
    returned_at = [ReturnedAt(**a) for a in data["returned_at"]]
    series = [(float(t), int(a), int(b), int(c)) for t, a, b, c in data["series"]]
    return StrategyResult(**{**data, "returned_at": returned_at, "series": series})


def test_compare_runs_a_scenario_on_its_own_zones(small_client: TestClient) -> None:
    r = small_client.get("/api/compare", params={"scenario": "small", "seed": 1})
    assert r.status_code == 200, r.text
    assert r.json()["command"] == "buddyscope compare --scenario small --seed 1 --kernel 5.10"
    # "default" runs on the model's three default zones (DMA, DMA32, Normal).
    r = small_client.get("/api/compare", params={"scenario": "default"})
    assert r.status_code == 200, r.text
