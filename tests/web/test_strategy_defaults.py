"""What a session runs when the user names no kernel or per-cpu setting (issue 12
points 4 and 5): v2 hinting on its own 5.3 base, per-cpu lists as ``Node`` has them,
and a what-if named in the session's configuration when v2 runs on other rules."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from wirehelp import command, open_session

from allocator_model.kernel.node import what_if
from backend.sources import SessionConfig, plan_for


def test_the_snapshot_names_a_what_if_only_when_the_user_asks_for_one(
    small_client: TestClient,
) -> None:
    """reporting-passes runs reporting on 5.7: v2 picked on it (as the page's settings
    send it, without a kernel) runs on 5.3 and is no what-if; naming 5.7 as well is."""
    with small_client.websocket_connect("/ws?scenario=reporting-passes") as ws:
        _hello, snap = open_session(ws)
        config = snap["config"]
        assert (config["hinting"], config["kernel"], config["what_if"]) == (
            "reporting",
            "5.7",
            None,
        )
        frames, ack = command(ws, 1, type="configure", hinting="hinting-v2")
        assert ack["type"] == "ack", ack
        config = frames[0]["config"]
        assert (config["hinting"], config["kernel"], config["what_if"]) == (
            "hinting-v2",
            "5.3",
            None,
        )
        frames, ack = command(ws, 2, type="configure", kernel="5.7")
        assert ack["type"] == "ack", ack
        config = frames[0]["config"]
        assert (config["kernel"], config["what_if"]) == ("5.7", what_if("hinting-v2", "5.7"))
        assert config["what_if"].startswith("what if: v2 hinting on Linux 5.7 rules")
        # A kernel the user named stays when the strategy changes again.
        frames, _ = command(ws, 3, type="configure", hinting="none")
        frames, _ = command(ws, 4, type="configure", hinting="hinting-v2")
        assert frames[0]["config"]["what_if"] == what_if("hinting-v2", "5.7")
    with small_client.websocket_connect(
        "/ws?scenario=reporting-passes&strategy=hinting-v2&kernel=5.10"
    ) as ws:
        _hello, snap = open_session(ws)
        assert snap["config"]["what_if"] == what_if("hinting-v2", "5.10")


def node_of(config: dict[str, object]) -> tuple[str, bool, str | None]:
    text = json.dumps({"config": config, "workload": [{"op": "alloc", "order": 0}]})
    node = plan_for(SessionConfig(workload=text)).source.new_node()
    return node.kernel, node.pcp_enabled, node.what_if


def test_a_workload_file_leaves_the_kernel_and_per_cpu_lists_to_the_model() -> None:
    """A file that names no kernel runs v2 on 5.3 (other strategies on 5.10); one that
    names no pcp gets Node's: one CPU's lists on the default guest, none on hand-made
    zones; and v2 on a kernel the file names is a what-if."""
    assert node_of({"hinting": "hinting-v2"}) == ("5.3", True, None)
    assert node_of({}) == ("5.10", True, None)
    assert node_of({"pcp": False}) == ("5.10", False, None)
    small = [["Normal", 0, 4096]]
    assert node_of({"zones": small}) == ("5.10", False, None)
    assert node_of({"zones": small, "pcp": True})[1] is True
    assert node_of({"zones": small, "hinting": "hinting-v2", "kernel": "5.10"}) == (
        "5.10",
        False,
        what_if("hinting-v2", "5.10"),
    )
