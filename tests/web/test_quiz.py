"""Quiz mode over the websocket: the question before a step, the answer, the reveal, the
step; the revealed answer is what the step then does (checked from the step's own
events, for every question of the library and for generated ones)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from wirehelp import command, open_session, receive

from allocator_model.sources.scenario import library
from backend.protocol import Question

pytestmark = pytest.mark.timeout(300)

WITH_QUESTIONS = [name for name, sc in library().items() if sc.questions]
WITHOUT_QUESTIONS = [name for name, sc in library().items() if not sc.questions]


@dataclass
class Asked:
    question: dict[str, Any]
    reveal: dict[str, Any]
    deltas: list[dict[str, Any]] = field(default_factory=list)  # this step and the later ones


@dataclass
class Run:
    asked: list[Asked]
    deltas: list[dict[str, Any]]


def open_quiz(client: TestClient, scenario: str) -> tuple[Any, dict[str, Any], Any]:
    created = client.post("/api/sessions", json={"scenario": scenario}).json()
    ws = client.websocket_connect(created["ws"])
    return ws, created, itertools.count(1)


def play_through(
    ws: Any,
    ids: Any,
    reply: Callable[[int, dict[str, Any]], str | None],
    max_steps: int,
    finish: bool = True,
) -> Run:
    """Step until the workload and its work are over (or ``max_steps`` steps, unless it
    must ``finish``); answer each question with ``reply(n, question)`` (None: skip)."""
    asked: list[Asked] = []
    deltas: list[dict[str, Any]] = []
    for _ in range(max_steps):
        frames, answer = command(ws, next(ids), type="step")
        if answer["type"] == "error":
            assert answer["code"] == "nothing_to_do", answer
            break
        questions = [f for f in frames if f["type"] == "question"]
        if not questions:
            stepped = [f for f in frames if f["type"] == "delta"]
            deltas += stepped
            for a in asked:
                a.deltas += stepped
            continue
        assert len(frames) == 1, frames  # the question instead of the step
        q = questions[0]["question"]
        assert "answer" not in q and "explain" not in q
        text = reply(len(asked), q)
        if text is None:
            frames, ack = command(ws, next(ids), type="skip")
        else:
            frames, ack = command(ws, next(ids), type="answer", reply=text)
        assert ack["type"] == "ack", ack
        assert [f["type"] for f in frames] == ["reveal", "delta"], frames
        reveal, delta = frames
        assert reveal["step"] == q["step"] == delta["step"]
        for a in asked:
            a.deltas.append(delta)
        asked.append(Asked(q, reveal, [delta]))
        deltas.append(delta)
    else:
        assert not finish, f"more than {max_steps} steps"
    return Run(asked, deltas)


def model_events(delta: dict[str, Any]) -> list[dict[str, Any]]:
    assert delta["events_dropped"] == 0
    return [e for e in delta["events"] if "fn" in e]


def what_it_did(kind: str, deltas: list[dict[str, Any]]) -> str:
    """The answer, read from the step's events (and, for blocks_reported, the steps
    until the next pass is over) - independently of allocator_model.lab.quiz."""
    events = model_events(deltas[0])
    adds = [e for e in events if e["kind"] == "list_add"]
    if kind == "which_pfn":
        allocs = [e for e in events if e["kind"] == "alloc"]
        return f"pfn {allocs[0]['pfn']:#x}" if allocs else "none"
    if kind in ("which_end", "which_list", "which_migratetype", "merge_order"):
        if not adds:
            return "none"
        last = adds[-1]
        return {
            "which_end": last["end"],
            "which_list": f"order-{last['order']} {last['migratetype']}",
            "which_migratetype": last["migratetype"],
            "merge_order": str(last["order"]),
        }[kind]
    if kind == "will_merge":
        return "yes" if any(e["kind"] == "merge" for e in events) else "no"
    if kind == "requests":
        return "yes" if any(e["kind"] == "request" for e in events) else "no"
    assert kind == "blocks_reported"
    blocks = 0
    started = False
    for delta in deltas:
        events = model_events(delta)
        blocks += sum(len(e["blocks"]) for e in events if e["kind"] == "report")
        # A pass starts when reporting (or v2's zone flag) turns ACTIVE, and is over when
        # the worker is idle again (a pass that skips every zone reports 0 blocks).
        activated = any(
            e["kind"] == "state"
            and "ACTIVE" in f"{e.get('new')}{e.get('what')}"
            and e.get("new") in ("ACTIVE", "set")
            for e in events
        )
        started = started or activated
        if started and delta["hinting"]["phase"] == "idle":
            return str(blocks)
    pytest.fail("the pass did not end within the run")


@pytest.mark.parametrize("name", WITH_QUESTIONS)
def test_every_library_question_is_asked_and_answered_by_what_the_step_does(
    small_client: TestClient, name: str
) -> None:
    sc = library()[name]
    ws, created, ids = open_quiz(small_client, name)
    with ws, small_client.websocket_connect(f"/ws?session={created['id']}") as fan:
        open_session(ws)
        open_session(fan)
        _, ack = command(ws, next(ids), type="quiz", on=True)
        assert ack["type"] == "ack"
        run = play_through(ws, ids, lambda n, q: None, 2000)
        # presenter mode: the follower saw every question and reveal, in order
        fan_frames, _ = command(fan, 1, type="ping")
        seen = [f for f in fan_frames if f["type"] in ("question", "reveal")]
        assert [f["type"] for f in seen] == ["question", "reveal"] * len(run.asked)
        assert [f["question"] for f in seen[::2]] == [a.question for a in run.asked]
    assert [
        (a.question["workload_op"], a.question["kind"], a.question["ask"]) for a in run.asked
    ] == [(q["before_step"], q["kind"], q["ask"]) for q in sc.questions]
    for a in run.asked:
        assert a.question["origin"] == "scenario"
        assert a.reveal["reply"] is None and a.reveal["correct"] is False
        assert a.reveal["answer"] == what_it_did(a.question["kind"], a.deltas), a
    assert run.asked[-1].reveal["score"] == {"right": 0, "asked": len(sc.questions)}


def test_replies_are_scored_and_runs_are_deterministic(small_client: TestClient) -> None:
    ws, _, ids = open_quiz(small_client, "head-or-tail")
    with ws:
        open_session(ws)
        command(ws, next(ids), type="quiz", on=True)
        first = play_through(ws, ids, lambda n, q: None, 100)
    answers = [a.reveal["answer"] for a in first.asked]
    assert answers == ["head", "tail", "pfn 0xa"]
    ws, _, ids = open_quiz(small_client, "head-or-tail")
    with ws:
        open_session(ws)
        command(ws, next(ids), type="quiz", on=True)
        second = play_through(ws, ids, lambda n, q: ["HEAD ", "head", "pfn 11"][n], 100)
    assert [a.question for a in second.asked] == [a.question for a in first.asked]
    assert [a.reveal["correct"] for a in second.asked] == [True, False, False]
    assert [a.reveal["score"] for a in second.asked] == [
        {"right": 1, "asked": 1},
        {"right": 1, "asked": 2},
        {"right": 1, "asked": 3},
    ]

    def steps(run: Run) -> list[Any]:
        return [(d["step"], d["events"], d["zones"], d["host"]) for d in run.deltas]

    assert steps(second) == steps(first)  # what a reply is does not change what happens


@pytest.mark.parametrize("name", [*WITHOUT_QUESTIONS, "small"])
def test_generated_questions_match_the_step(small_client: TestClient, name: str) -> None:
    ws, _, ids = open_quiz(small_client, name)
    with ws:
        _, snap = open_session(ws)
        if snap["step"]:
            command(ws, next(ids), type="seek", step=snap["step"] - 140)  # opens at its end
        command(ws, next(ids), type="quiz", on=True)
        long = name in ("fragmentation", "small")
        run = play_through(ws, ids, lambda n, q: "yes", 160 if long else 3000, finish=not long)
    assert run.asked, name
    kinds = set()
    for a in run.asked:
        q = a.question
        kinds.add(q["kind"])
        assert q["origin"] == "generated"
        op = a.deltas[0]["events"][0]  # the backend's summary of the operation
        assert op["kind"] == "user" or q["kind"] == "blocks_reported", (q, op)
        if q["kind"] in ("which_pfn", "which_list"):
            assert op["op"] == "alloc"
        elif q["kind"] in ("will_merge", "which_end", "merge_order", "requests"):
            assert op["op"] in ("free", "free_pick", "free_all")
        assert a.reveal["answer"] == what_it_did(q["kind"], a.deltas), (name, a)
        assert a.reveal["correct"] == (a.reveal["answer"] == "yes")
    if name in ("buffer-reuse", "v2-vs-merged"):
        assert {"requests", "blocks_reported"} <= kinds, kinds
        assert kinds & {"which_pfn", "which_list"}, kinds
    if name == "small":
        assert {"which_pfn", "which_list", "will_merge", "which_end", "merge_order"} <= kinds


def test_a_question_holds_the_step_until_it_is_answered(small_client: TestClient) -> None:
    ws, created, ids = open_quiz(small_client, "head-or-tail")
    with ws:
        open_session(ws)
        frames, _ = command(ws, next(ids), type="quiz", on=True)
        assert frames[0]["type"] == "delta" and frames[0]["quiz"]["on"] is True
        _, err = command(ws, next(ids), type="answer", reply="head")
        assert err["code"] == "no_question"
        for _ in range(2):  # its setup (operations 0-4) is step 0
            command(ws, next(ids), type="step")
        frames, ack = command(ws, next(ids), type="step")
        q = Question.model_validate(frames[0]).question
        assert (q.step, q.kind, q.workload_op) == (3, "which_end", 7)
        for cmd in ({"type": "step"}, {"type": "alloc", "order": 0}, {"type": "play"},
                    {"type": "run_to", "kind": "merge"}):  # fmt: skip
            frames, err = command(ws, next(ids), **cmd)
            assert err["code"] == "question_pending" and "step 3" in err["message"], cmd
            assert frames == []
        frames, _ = command(ws, next(ids), type="get_snapshot")
        assert frames[0]["quiz"]["question"]["step"] == 3 and frames[0]["step"] == 2
        # a jump drops the question; stepping into it again asks it again
        frames, _ = command(ws, next(ids), type="back")
        assert frames[0]["quiz"] == {
            "on": True,
            "score": {"right": 0, "asked": 0},
            "question": None,
        }
        command(ws, next(ids), type="step")
        frames, _ = command(ws, next(ids), type="step")
        assert frames[0]["type"] == "question"
        # play stops at a question
        frames, _ = command(ws, next(ids), type="skip")
        assert frames[-1]["step"] == 3
        frames, ack = command(ws, next(ids), type="play", speed=200)
        got = list(frames)
        while not any(f["type"] == "question" for f in got):
            got += [receive(ws)]
        question = next(f for f in got if f["type"] == "question")
        assert question["question"]["workload_op"] == 9
        stop = receive(ws)
        assert stop["type"] == "delta" and stop["playing"] is False and stop["events"] == []
        # quiz off: no question waits any more, and steps run freely
        frames, _ = command(ws, next(ids), type="quiz", on=False)
        assert frames[0]["quiz"] == {
            "on": False,
            "score": {"right": 0, "asked": 1},
            "question": None,
        }
        frames, ack = command(ws, next(ids), type="step")
        assert ack["type"] == "ack" and frames[0]["type"] == "delta"
        info = small_client.get(f"/api/sessions/{created['id']}").json()
        assert info["quiz"] is False


def test_followers_cannot_answer_and_recorded_steps_ask_again(small_client: TestClient) -> None:
    ws, created, ids = open_quiz(small_client, "head-or-tail")
    with ws, small_client.websocket_connect(f"/ws?session={created['id']}") as fan:
        open_session(ws)
        open_session(fan)
        command(ws, next(ids), type="quiz", on=True)
        first = play_through(ws, ids, lambda n, q: None, 100)
        command(ws, next(ids), type="first")
        _, err = command(fan, 1, type="answer", reply="head")
        assert err["code"] == "not_controller"
        _, err = command(fan, 2, type="quiz", on=False)
        assert err["code"] == "not_controller"
        again = play_through(ws, ids, lambda n, q: None, 100)
    assert [a.question for a in again.asked] == [a.question for a in first.asked]
    assert [a.reveal["answer"] for a in again.asked] == [a.reveal["answer"] for a in first.asked]
    assert again.asked[-1].reveal["score"] == {"right": 0, "asked": 6}
