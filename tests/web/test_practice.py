"""Generated practice over REST and on the command line: the same exercise as the model
makes, a wrong reply answered with a hint (no answer), a right one with the model's
events, refusals in words."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from allocator_model.lab.practice import KINDS, exercise

pytestmark = pytest.mark.timeout(300)


def test_rest_exercise_verdicts_and_reveal(small_client: TestClient) -> None:
    kinds = small_client.get("/api/practice").json()
    assert [k["kind"] for k in kinds] == list(KINDS)
    for kind in KINDS:
        ex = exercise(kind, 11)
        got = small_client.get(f"/api/practice/{kind}/11").json()
        assert got == ex.to_dict()
        assert "answer" not in got and "events" not in got
        if kind == "end":
            wrong = "head" if ex.answer == "tail" else "tail"
        else:
            wrong = str((int(ex.answer) + 1) % 6) if kind == "merge" else "0x1"
        v = small_client.get(f"/api/practice/{kind}/11/answer", params={"reply": wrong}).json()
        assert v["right"] is False and v["hint"] and v["answer"] is None and v["events"] is None
        v = small_client.get(f"/api/practice/{kind}/11/answer", params={"reply": ex.answer}).json()
        assert v["right"] is True and v["answer"] == ex.answer
        full = json.loads(json.dumps(ex.to_dict(reveal=True)))  # tuples as JSON has them
        assert v["events"] == full["events"] and v["key"] == ex.key
        assert v["after"] == full["after"]
        shown = small_client.get(f"/api/practice/{kind}/11/answer").json()
        assert shown["reply"] is None and shown["right"] is False
        assert shown["answer"] == ex.answer


def test_rest_refusals_say_what_is_wrong(small_client: TestClient) -> None:
    r = small_client.get("/api/practice/pfn/1/answer", params={"reply": "the head"})
    assert r.status_code == 200
    assert r.json()["right"] is False and "no number" in r.json()["problem"]
    assert r.json()["answer"] is None
    assert small_client.get("/api/practice/split/1").status_code == 422
    assert small_client.get(f"/api/practice/pfn/{2**32}").status_code == 422
    assert (
        small_client.get("/api/practice/pfn/1/answer", params={"reply": "x" * 201}).status_code
        == 422
    )


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend", "practice", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_prints_checks_and_reveals() -> None:
    ex = exercise("merge", 4)
    shown = run_cli("--kind", "merge", "--seed", "4")
    assert shown.returncode == 0, shown.stderr
    assert ex.ask in shown.stdout and "--answer X" in shown.stdout
    for step in ex.setup:
        assert step in shown.stdout
    wrong = str((int(ex.answer) + 1) % 6)
    bad = run_cli("--kind", "merge", "--seed", "4", "--answer", wrong)
    assert (
        bad.returncode == 1
        and "Hint:" in bad.stdout
        and ex.answer not in bad.stdout.split("Hint")[0]
    )
    good = run_cli("--kind", "merge", "--seed", "4", "--answer", ex.answer)
    assert good.returncode == 0 and good.stdout.startswith(f"Right: {ex.answer}.")
    key = ex.events[ex.key]
    assert f" > {key['fn']}: {key['message']}" in good.stdout
    assert "--seed 5" in good.stdout  # the next exercise
    nonsense = run_cli("--kind", "merge", "--seed", "4", "--answer", "soon")
    assert nonsense.returncode == 2 and "no number" in nonsense.stderr
    refused = run_cli("--kind", "split")
    assert refused.returncode == 2 and "invalid choice" in refused.stderr
