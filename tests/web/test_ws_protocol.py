"""The websocket protocol, end to end through FastAPI's TestClient.

Every frame received is checked against the protocol's pydantic union (``receive``);
every command is answered by an ack or an error, so no test can hang on a missing
answer (and pytest-timeout guards them anyway).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from wirehelp import Mirror, command, open_session, receive, until_answer

from allocator_model import Node
from backend.protocol import (
    LIST_ENDS,
    PROTOCOL_VERSION,
    FreeList,
    server_message_adapter,
)
from backend.schema import schema_hash
from backend.session import Session

pytestmark = pytest.mark.timeout(600)


def session_of(client: TestClient, sid: str) -> Session:
    session = client.app.state.buddyscope.manager.get(sid)  # type: ignore[attr-defined]
    assert session is not None
    return session


def check_against_model(snap: dict[str, Any], node: Node) -> None:
    assert [z["name"] for z in snap["zones"]] == [z.name for z in node.zones]
    assert snap["config"]["max_order"] == node.max_order
    assert snap["config"]["migratetypes"] == list(node.migratetypes)
    assert snap["clock"] == node.clock
    for sent, zone in zip(snap["zones"], node.zones, strict=True):
        assert sent["start_pfn"] == zone.start_pfn
        assert sent["spanned_pages"] == zone.spanned_pages
        assert sent["nr_free"] == list(zone.nr_free)
        assert sent["nr_free_pages"] == zone.nr_free_pages
        assert base64.b64decode(sent["page_state"]) == bytes(zone.page_state)
        assert base64.b64decode(sent["host_backing"]) == bytes(node.host.backing[zone.name])
        assert base64.b64decode(sent["pageblock_mt"]) == bytes(zone.pageblock_mt)
        lists = {(fl["order"], fl["migratetype"]): fl for fl in sent["lists"]}
        for mt in node.migratetypes:
            for order in range(node.max_order):
                full = zone.free_list(order, mt)
                got = lists.get((order, mt))
                if not full:
                    assert got is None
                    continue
                assert got is not None, (zone.name, mt, order)
                assert got["length"] == len(full)
                assert got["head"] == full[: len(got["head"])]
                assert got["tail"] == full[len(full) - len(got["tail"]) :]
                if len(full) <= 2 * LIST_ENDS:
                    assert got["head"] == full and got["tail"] == []
                else:
                    assert len(got["head"]) == len(got["tail"]) == LIST_ENDS
                flags = [zone.flags[p - zone.start_pfn] != 0 for p in got["head"]]
                assert got["head_flagged"] == flags


def test_hello_then_a_snapshot_of_the_model(default_client: TestClient) -> None:
    with default_client.websocket_connect("/ws") as ws:
        hello, snap = open_session(ws)
        assert hello["protocol_version"] == PROTOCOL_VERSION == 1
        assert hello["role"] == "controller"
        assert len(hello["token"]) >= 32 and len(hello["session"]) >= 16
        assert hello["schema_hash"] == schema_hash()
        assert hello["limits"]["list_ends"] == LIST_ENDS
        assert hello["server"].startswith("buddyscope ")
        assert snap["seq"] == 1 and snap["reason"] == "connect"
        assert snap["session"] == hello["session"]
        assert snap["config"]["scenario"] == "default"
        assert snap["step"] == snap["timeline_length"] == 2400
        assert [z["name"] for z in snap["zones"]] == ["DMA", "DMA32", "Normal"]
        node = session_of(default_client, hello["session"]).view.node
        check_against_model(snap, node)
        # the session opens where the old one-shot scenario ended
        state = default_client.app.state.buddyscope  # type: ignore[attr-defined]
        assert node.page_states() == state.scenario.node.page_states()


def test_sessions_are_separate_and_unguessable(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as a, small_client.websocket_connect("/ws") as b:
        ha, sa = open_session(a)
        hb, sb = open_session(b)
        assert ha["session"] != hb["session"] and ha["token"] != hb["token"]
        assert sa["seq"] == sb["seq"] == 1
        command(a, 1, type="alloc", order=2)
        _, ack = command(b, 2, type="ping")
        assert ack == {"type": "ack", "id": 2, "seq": 1}  # b saw nothing of a's alloc


def test_step_sends_a_delta_then_the_ack_and_deltas_rebuild_the_state(
    small_client: TestClient,
) -> None:
    with small_client.websocket_connect("/ws") as ws:
        _, snap = open_session(ws)
        mirror = Mirror(snap)
        frames, ack = command(ws, 1, type="configure", scenario="buffer-reuse")
        assert [f["reason"] for f in frames] == ["configure"]
        mirror.apply(frames[0])
        assert frames[0]["step"] == 0 and frames[0]["config"]["hinting"] == "reporting"
        for n in range(2, 40):
            frames, ack = command(ws, n, type="step")
            assert ack["type"] == "ack", ack
            (delta,) = frames
            assert delta["type"] == "delta" and delta["step"] == n - 1
            assert ack["seq"] == delta["seq"]
            mirror.apply(delta)
        frames, _ = command(ws, 99, type="get_snapshot")
        fresh = Mirror(frames[0] | {"seq": 1})
        assert mirror.state() == fresh.state()


def test_back_sends_a_snapshot_and_forward_again_repeats_the_same_events(
    small_client: TestClient,
) -> None:
    with small_client.websocket_connect("/ws") as ws:
        open_session(ws)
        command(ws, 1, type="configure", scenario="v2-merge")
        first = [command(ws, 10 + n, type="step")[0][0]["events"] for n in range(12)]
        frames, _ = command(ws, 2, type="seek", step=5)
        assert [(f["type"], f["reason"], f["step"]) for f in frames] == [("snapshot", "seek", 5)]
        again = [command(ws, 40 + n, type="step")[0][0]["events"] for n in range(7)]
        assert again == first[5:]
        frames, _ = command(ws, 3, type="back")
        assert frames[0]["type"] == "snapshot" and frames[0]["step"] == 11
        frames, _ = command(ws, 4, type="first")
        assert frames[0]["step"] == 0
        frames, _ = command(ws, 5, type="last")
        assert frames[0]["step"] == frames[0]["timeline_length"] == 12


def test_refusals_leave_the_session_untouched(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as ws:
        hello, snap = open_session(ws)
        node = session_of(small_client, hello["session"]).view.node
        free_pfn = node.zone("Normal").free_list(0, "Movable")[0]
        before = node.page_states(), node.buddyinfo()
        cases = [
            ({"type": "free", "pfn": free_pfn, "order": 0}, "invalid_free", "free"),
            ({"type": "free", "pfn": 10**9, "order": 0}, "invalid_free", "outside"),
            ({"type": "alloc", "order": 20}, "out_of_range", "0..10"),
            ({"type": "alloc", "order": 2, "zone": "HighMem"}, "out_of_range", "HighMem"),
            ({"type": "alloc", "order": 2, "migratetype": "CMA"}, "out_of_range", "CMA"),
            ({"type": "seek", "step": 10**6}, "out_of_range", "beyond"),
            ({"type": "step"}, "nothing_to_do", "nothing left"),
            ({"type": "speed", "value": 10**5}, "out_of_range", "speed"),
            ({"type": "run_to", "kind": "teleport"}, "out_of_range", "unknown event kind"),
            ({"type": "branch", "branch": 42}, "not_found", "no branch 42"),
            ({"type": "configure", "scenario": "nope"}, "invalid_config", "unknown scenario"),
            ({"type": "configure", "constants": {"hwm": 3}}, "invalid_config", "hinting_options"),
            ({"type": "configure"}, "invalid_field", "at least one"),
            ({"type": "ping", "session": "someone-else"}, "wrong_session", "another session"),
        ]
        for n, (cmd, code, needle) in enumerate(cases):
            frames, answer = command(ws, n, **cmd)
            assert frames == [], cmd
            assert (answer["type"], answer["code"]) == ("error", code), (cmd, answer)
            assert needle in answer["message"], (cmd, answer["message"])
            assert answer["message"][0].isalpha() and len(answer["message"]) < 400
        assert (node.page_states(), node.buddyinfo()) == before
        frames, _ = command(ws, 100, type="get_snapshot")
        assert frames[0]["step"] == snap["step"]
        assert frames[0]["zones"] == snap["zones"]


def test_out_of_memory_is_an_error_and_changes_nothing(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as ws:
        _hello, snap = open_session(ws)
        for n in range(10):
            frames, answer = command(ws, n, type="alloc", order=10)
            if answer["type"] == "error":
                break
        assert answer["code"] == "out_of_memory" and "order-10" in answer["message"]
        assert frames == []
        frames, _ = command(ws, 99, type="get_snapshot")
        assert frames[0]["step"] == snap["step"] + n


@pytest.mark.parametrize(
    ("sent", "code", "expected_id", "needle"),
    [
        ("this is not json", "bad_message", None, "not JSON"),
        ("[1, 2]", "bad_message", None, "JSON object"),
        ('"step"', "bad_message", None, "JSON object"),
        ('{"id": 3}', "unknown_type", 3, "unknown command type"),
        ('{"type": "teleport", "id": 3}', "unknown_type", 3, "teleport"),
        ('{"type": 7, "id": 3}', "unknown_type", 3, "7"),
        ('{"type": "ping", "id": 4, "extra": 1}', "invalid_field", 4, "extra"),
        ('{"type": "ping", "id": true}', "invalid_field", None, "id"),
        ('{"type": "ping", "id": -1}', "invalid_field", None, "id"),
        ('{"type": "seek", "id": 5}', "invalid_field", 5, "step"),
        ('{"type": "seek", "step": "3", "id": 5}', "invalid_field", 5, "step"),
        ('{"type": "seek", "step": 1.5, "id": 5}', "invalid_field", 5, "step"),
        ('{"type": "alloc", "order": -1, "id": 6}', "invalid_field", 6, "order"),
        ('{"type": "alloc", "order": 99, "id": 6}', "invalid_field", 6, "order"),
        ('{"type": "advance", "seconds": -2, "id": 7}', "invalid_field", 7, "seconds"),
        ('{"type": "play", "speed": 0, "id": 8}', "invalid_field", 8, "speed"),
        ('{"type": "follow", "on": "yes", "id": 9}', "invalid_field", 9, "on"),
        ('{"type": "configure", "kernel": "6.1", "id": 9}', "invalid_field", 9, "kernel"),
        ('{"type": "free", "pfn": 1e300, "id": 9}', "invalid_field", 9, "pfn"),
    ],
)
def test_bad_messages_get_an_error_and_the_connection_survives(
    small_client: TestClient, sent: str, code: str, expected_id: int | None, needle: str
) -> None:
    with small_client.websocket_connect("/ws") as ws:
        open_session(ws)
        ws.send_text(sent)
        error = receive(ws)
        assert (error["type"], error["code"], error["id"]) == ("error", code, expected_id)
        assert needle in error["message"]
        _, ack = command(ws, 99, type="ping")
        assert ack == {"type": "ack", "id": 99, "seq": 1}


def test_a_command_without_id_is_answered_with_id_null(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as ws:
        open_session(ws)
        ws.send_json({"type": "get_snapshot"})
        frames, ack = until_answer(ws)
        assert frames[0]["seq"] == 2 and ack == {"type": "ack", "id": None, "seq": 2}


def test_binary_frames_are_refused(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as ws:
        open_session(ws)
        ws.send_bytes(b'{"type": "ping"}')
        error = receive(ws)
        assert error["code"] == "bad_message" and "text" in error["message"]


def test_followers_watch_and_the_controller_controls(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as boss:
        hello, snap = open_session(boss)
        sid, token = hello["session"], hello["token"]
        with small_client.websocket_connect(f"/ws?session={sid}") as fan:
            fh, fsnap = open_session(fan)
            assert fh["role"] == "follower" and fh["token"] is None and fh["session"] == sid
            assert fsnap["zones"] == snap["zones"]
            frames, _ = command(boss, 1, type="alloc", order=3)
            delta = receive(fan)
            assert delta["type"] == "delta" and delta["events"] == frames[0]["events"]
            for cmd in ({"type": "alloc", "order": 1}, {"type": "play"}, {"type": "reset"}):
                frames, err = command(fan, 2, **cmd)
                assert err["code"] == "not_controller", cmd
            # A follower that navigates gets its own view ...
            frames, _ = command(fan, 3, type="back")
            assert frames[0]["following"] is False and frames[0]["step"] == snap["step"]
            frames, _ = command(boss, 4, type="alloc", order=2)  # ... the session moves on
            frames, _ = command(fan, 5, type="step")
            assert frames[0]["type"] == "delta" and frames[0]["following"] is False
            assert frames[0]["step"] == snap["step"] + 1
            # ... and may not extend the timeline
            command(fan, 6, type="last")
            _, err = command(fan, 7, type="step")
            assert err["code"] == "end_of_timeline"
            # follow again: a snapshot of the session's position
            frames, _ = command(fan, 8, type="follow", on=True)
            assert frames[0]["reason"] == "follow" and frames[0]["step"] == snap["step"] + 2
            # a second controller with the token
            with small_client.websocket_connect(f"/ws?session={sid}&token={token}") as boss2:
                h2, _ = open_session(boss2)
                assert h2["role"] == "controller" and h2["token"] == token
                command(boss2, 9, type="back")
                assert receive(fan)["step"] == snap["step"] + 1
                assert receive(boss)["step"] == snap["step"] + 1


def test_the_controllers_walk_of_a_step_goes_to_its_followers(small_client: TestClient) -> None:
    """Shift+→ on the controller's page picks an event of the step on screen: the
    followers get it as ``substep`` (the controller itself only its ack); a follower's
    own walk stays its own, and nothing moves the timeline."""
    with small_client.websocket_connect("/ws") as boss:
        hello, _ = open_session(boss)
        with small_client.websocket_connect(f"/ws?session={hello['session']}") as fan:
            open_session(fan)
            frames, _ = command(boss, 1, type="alloc", order=3)
            step = frames[0]["step"]
            assert receive(fan)["step"] == step
            for ident, index in ((2, 0), (3, 1), (4, -1)):
                frames, ack = command(boss, ident, type="substep", step=step, index=index)
                assert frames == [] and ack["type"] == "ack"
                assert receive(fan) == {"type": "substep", "step": step, "index": index}
            frames, err = command(fan, 5, type="substep", step=step, index=0)
            assert err["code"] == "not_controller"
            frames, err = command(boss, 6, type="substep", step=step, index=-2)
            assert err["code"] == "invalid_field"
            # The timeline did not move.
            frames, _ = command(boss, 7, type="get_snapshot")
            assert frames[0]["type"] == "snapshot" and frames[0]["step"] == step


def test_a_follower_that_joins_mid_walk_is_shown_the_event_picked(
    small_client: TestClient,
) -> None:
    """A student who opens the lecture's link while the lecturer walks a step gets,
    after the snapshot, the event picked; once the lecturer moves on, nobody new does."""
    with small_client.websocket_connect("/ws") as boss:
        hello, _ = open_session(boss)
        url = f"/ws?session={hello['session']}"
        frames, _ = command(boss, 1, type="alloc", order=3)
        step = frames[0]["step"]
        command(boss, 2, type="substep", step=step, index=2)
        with small_client.websocket_connect(url) as late:
            _, snap = open_session(late)
            assert snap["step"] == step
            assert receive(late) == {"type": "substep", "step": step, "index": 2}
        # The whole step again (Esc): nothing to show a newcomer.
        command(boss, 3, type="substep", step=step, index=-1)
        with small_client.websocket_connect(url) as late:
            open_session(late)
            frames, _ = command(late, 4, type="get_snapshot")
            assert [f["type"] for f in frames] == ["snapshot"]
        # A pick on a step the controller has left is not shown.
        command(boss, 5, type="substep", step=step, index=1)
        command(boss, 6, type="alloc", order=2)
        with small_client.websocket_connect(url) as late:
            open_session(late)
            frames, _ = command(late, 7, type="get_snapshot")
            assert [f["type"] for f in frames] == ["snapshot"]


def test_bad_tokens_and_unknown_sessions_are_refused(small_client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with small_client.websocket_connect("/ws") as boss:
        hello, _ = open_session(boss)
        sid = hello["session"]
        with small_client.websocket_connect(f"/ws?session={sid}&token=guess") as ws:
            err = receive(ws)
            assert (err["type"], err["code"]) == ("error", "not_controller")
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_text()
            assert exc.value.code == 1008
        with small_client.websocket_connect("/ws?session=nope") as ws:
            err = receive(ws)
            assert err["code"] == "not_found"
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_text()
            assert exc.value.code == 4404


def test_forks_keep_the_old_future_as_a_branch(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as ws:
        _, snap = open_session(ws)
        end = snap["step"]
        command(ws, 1, type="seek", step=end - 10)
        frames, _ = command(ws, 2, type="alloc", order=0)
        delta = frames[0]
        assert delta["step"] == delta["timeline_length"] == end - 9
        assert delta["branch"] == 1
        frames, _ = command(ws, 3, type="get_snapshot")
        branches = {b["id"]: b for b in frames[0]["branches"]}
        assert branches[0]["length"] == end and branches[1]["parent"] == 0
        assert branches[1]["fork_step"] == end - 10 and branches[1]["reason"] == "fork"
        frames, _ = command(ws, 4, type="branch", branch=0)
        assert frames[0]["branch"] == 0 and frames[0]["timeline_length"] == end
        assert frames[0]["step"] == end - 9
        frames, _ = command(ws, 5, type="last")
        assert frames[0]["zones"] == snap["zones"]


def test_run_to_stops_at_the_next_step_with_that_event(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as ws:
        open_session(ws)
        command(ws, 1, type="configure", scenario="buffer-reuse")
        frames, ack = command(ws, 2, type="run_to", kind="report")
        assert ack["type"] == "ack"
        *jump, delta = frames
        assert delta["type"] == "delta"
        assert any(e["kind"] == "report" for e in delta["events"])
        if jump:
            assert jump[0]["type"] == "snapshot" and jump[0]["step"] == delta["step"] - 1
        reached = delta["step"]
        frames, _ = command(ws, 3, type="first")
        frames, _ = command(ws, 4, type="run_to", kind="report")  # now from the record
        assert frames[-1]["step"] == reached
        assert frames[-1]["events"] == delta["events"]


def test_play_streams_deltas_in_order_and_stops_at_the_end(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as ws:
        _, _snap = open_session(ws)
        command(ws, 1, type="configure", scenario="v2-merge")
        frames, ack = command(ws, 2, type="play", speed=200)
        assert ack["type"] == "ack"
        mirror_seq = frames[-1]["seq"]
        steps = []
        while True:
            msg = receive(ws)
            assert msg["type"] == "delta" and msg["seq"] == mirror_seq + 1
            mirror_seq = msg["seq"]
            if msg["events"]:
                steps.append(msg["step"])
            if not msg["playing"]:
                break
        assert steps == list(range(1, len(steps) + 1)) and len(steps) == 12
        _, ack = command(ws, 3, type="ping")
        assert ack["seq"] == mirror_seq


def test_breakpoints_pause_play(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as ws:
        open_session(ws)
        command(ws, 1, type="configure", scenario="buffer-reuse")
        command(ws, 2, type="breakpoints", kinds=["refault"])
        command(ws, 3, type="play", speed=200)
        while True:
            msg = receive(ws)
            if not msg["playing"]:
                break
        assert any(e["kind"] == "refault" for e in msg["events"])
        frames, _ = command(ws, 4, type="get_snapshot")
        assert frames[0]["breakpoints"] == ["refault"]
        assert frames[0]["playing"] is False
        assert {"step": msg["step"], "kind": "refault"} in frames[0]["marks"]


def test_pause_and_speed(small_client: TestClient) -> None:
    with small_client.websocket_connect("/ws") as ws:
        open_session(ws)
        command(ws, 1, type="configure", scenario="zone-gate")
        frames, _ = command(ws, 2, type="speed", value=3)
        assert frames[-1]["speed"] == 3 and frames[-1]["playing"] is False
        command(ws, 3, type="play", speed=50)
        frames, ack = command(ws, 4, type="pause")
        assert frames[-1]["playing"] is False and ack["seq"] == frames[-1]["seq"]
        _, ack2 = command(ws, 5, type="ping")
        assert ack2["seq"] == ack["seq"]  # nothing more after the pause


def test_configure_replays_to_the_same_step_and_reset_starts_again(
    small_client: TestClient,
) -> None:
    with small_client.websocket_connect("/ws") as ws:
        _hello, snap = open_session(ws)
        frames, _ = command(ws, 1, type="configure", hinting="reporting", kernel="5.7")
        new = frames[0]
        assert new["reason"] == "configure" and new["step"] == snap["step"]
        assert new["config"]["hinting"] == "reporting" and new["config"]["kernel"] == "5.7"
        assert {c["name"] for c in new["config"]["constants"]} >= {"capacity", "delay_s"}
        frames, _ = command(ws, 2, type="configure", constants={"capacity": 16})
        assert frames[0]["config"]["hinting_options"] == {"capacity": 16}
        frames, _ = command(ws, 3, type="step")  # the reporting pass now runs
        assert any(e["kind"] == "work" for e in frames[0]["events"])
        frames, _ = command(ws, 4, type="reset")
        assert frames[0]["reason"] == "reset" and frames[0]["step"] == snap["step"]
        assert len(frames[0]["branches"]) == 4


def test_the_origin_must_be_this_server(small_client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    for origin in ("http://evil.example", "null", "file://", "http://testserver.evil"):
        with (
            pytest.raises(WebSocketDisconnect) as exc,
            small_client.websocket_connect("/ws", headers={"origin": origin}),
        ):
            pass
        assert exc.value.code == 1008, origin
    with small_client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
        assert open_session(ws)[0]["role"] == "controller"


def test_messages_are_a_discriminated_union_on_type() -> None:
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        server_message_adapter.validate_python({"type": "teapot"})
    schema = server_message_adapter.json_schema()
    assert set(schema["discriminator"]["mapping"]) == {
        "hello", "snapshot", "delta", "ack", "error", "question", "reveal", "live", "substep"
    }  # fmt: skip


def test_a_list_cannot_claim_fewer_blocks_than_it_carries() -> None:
    ok = {"order": 0, "migratetype": "Movable", "head_flagged": [False], "tail_flagged": []}
    with pytest.raises(ValidationError, match="more pfns than length"):
        FreeList(**ok, length=0, head=[1], tail=[])
    with pytest.raises(ValidationError, match="complete list"):
        FreeList(**{**ok, "tail_flagged": [False]}, length=2, head=[1], tail=[2])
    with pytest.raises(ValidationError, match="one flag per pfn"):
        FreeList(**{**ok, "head_flagged": []}, length=1, head=[1], tail=[])
