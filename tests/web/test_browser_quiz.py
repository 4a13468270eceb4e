"""Quiz mode and "save as scenario" in a real browser: the question before a step
(buttons, typed numbers), the step held until the answer, the reveal against what the
model then did, the score, skipping, the keys, followers in presenter mode; and the
scenario file the page downloads against the REST endpoint and loaded back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from browserkit import debug, model, open_dashboard, settle, shot, watched_page
from playwright.sync_api import Browser, Page
from wirehelp import LiveServer

from backend.session import Session

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with watched_page(browser) as (pg, problems):
        yield pg
        assert problems == [], problems


def session_of(live: LiveServer, pg: Page) -> Session:
    session: Session = live.state.manager.sessions[debug(pg, "session")]
    return session


def quiz(pg: Page) -> dict[str, Any]:
    state: dict[str, Any] = debug(pg, "quiz")
    return state


def wait_mode(pg: Page, mode: str) -> None:
    pg.wait_for_function(f"() => window.__buddyscope.quiz.mode === {json.dumps(mode)}")


def wait_step(pg: Page, step: int) -> None:
    pg.wait_for_function(f"() => window.__buddyscope.step === {step}")
    settle(pg)


def pending_answer(live: LiveServer, pg: Page) -> str:
    """The answer of the question the server holds (its dry run of the step)."""
    pending = session_of(live, pg).question
    assert pending is not None
    return pending.question.answer


def reveal_on_screen(pg: Page) -> dict[str, str]:
    texts: dict[str, str] = pg.evaluate(
        """() => { const t = (s) => document.querySelector('#quiz ' + s)?.textContent ?? null;
        return {mark: t('.quiz-mark'), word: t('.quiz-word'), answer: t('.quiz-answer-text'),
                reply: t('.quiz-reply'), explain: t('.quiz-explain'), score: t('.quiz-score')}; }"""
    )
    return texts


def last_list_add(pg: Page) -> dict[str, Any]:
    """The step's last list insert, from the events the page received."""
    adds = [e for e in debug(pg, "state.events") if e["kind"] == "list_add"]
    assert adds
    last: dict[str, Any] = adds[-1]
    return last


def assert_on_list_end(live: LiveServer, pg: Page, add: dict[str, Any]) -> None:
    """The model's free list has the block at the end the event names."""
    lst = model(live, pg).zone(add["zone"]).free_list(add["order"], add["migratetype"])
    assert (lst[0] if add["end"] == "head" else lst[-1]) == add["pfn"], (add, lst)


def test_a_question_holds_the_step_and_the_reveal_is_what_the_model_did(
    live: LiveServer, page: Page
) -> None:
    pg = page
    open_dashboard(pg, live.url, "?scenario=head-or-tail")
    assert debug(pg, "step") == 0
    assert pg.locator("#quiz").is_hidden()
    pg.click("#btn-quiz")
    wait_mode(pg, "idle")
    assert pg.get_attribute("#btn-quiz", "aria-pressed") == "true"
    assert session_of(live, pg).quiz_on
    for n in range(1, 3):  # its narration (the setup is step 0): nothing to ask
        pg.click("#btn-step")
        wait_step(pg, n)
    assert quiz(pg)["questions"] == 0

    pg.click("#btn-step")
    wait_mode(pg, "asking")
    q = quiz(pg)["question"]
    server = session_of(live, pg)
    assert server.question is not None and q == server.question.wire.model_dump()
    assert (q["step"], q["kind"], q["origin"]) == (3, "which_end", "scenario")
    assert pg.text_content("#quiz .quiz-ask") == q["ask"]
    assert pg.locator(".quiz-choice").all_text_contents() == ["1head", "2tail"]
    # The outcome is not on screen: the step waits, and stepping again is refused.
    assert debug(pg, "step") == 2 and server.view.pos == 2
    pg.click("#btn-step")
    pg.wait_for_function("() => window.__buddyscope.quiz.error.includes('waits for this answer')")
    assert debug(pg, "step") == 2 and server.view.pos == 2
    shot(pg, "quiz-question")

    answer = pending_answer(live, pg)
    wrong = next(c for c in q["choices"] if c != answer)
    pg.click(f".quiz-choice[data-choice={wrong}]")
    wait_mode(pg, "revealed")
    wait_step(pg, 3)
    reveal = quiz(pg)["reveal"]
    assert (reveal["reply"], reveal["correct"], reveal["answer"]) == (wrong, False, answer)
    assert reveal["score"] == {"right": 0, "asked": 1} == quiz(pg)["score"]
    add = last_list_add(pg)  # what the step did, independently of the quiz
    assert add["end"] == reveal["answer"] and add["pfn"] == 1
    assert_on_list_end(live, pg, add)
    assert reveal_on_screen(pg) == {
        "mark": "✗",
        "word": "Wrong",
        "answer": answer,
        "reply": f" (answered: {wrong})",
        "explain": reveal["explain"],
        "score": "score 0 / 1 right",
    }
    assert add["message"] == reveal["explain"]
    shot(pg, "quiz-reveal-wrong")

    # Play stops at the next question (after the phase step).
    pg.click("#btn-play")
    wait_mode(pg, "asking")
    pg.wait_for_function("() => !window.__buddyscope.playing")
    wait_step(pg, 4)
    q = quiz(pg)["question"]
    assert (q["step"], q["kind"]) == (5, "which_end")
    right = pending_answer(live, pg)
    pg.click(f".quiz-choice[data-choice={right}]")
    wait_mode(pg, "revealed")
    wait_step(pg, 5)
    reveal = quiz(pg)["reveal"]
    assert (reveal["reply"], reveal["correct"], reveal["answer"]) == (right, True, right)
    add = last_list_add(pg)
    assert (add["end"], add["pfn"], add["order"]) == (reveal["answer"], 0, 1)
    assert_on_list_end(live, pg, add)
    on_screen = reveal_on_screen(pg)
    assert (on_screen["mark"], on_screen["word"], on_screen["score"]) == (
        "✓", "Right", "score 1 / 2 right",
    )  # fmt: skip
    assert session_of(live, pg).quiz_right == 1 and session_of(live, pg).quiz_asked == 2
    shot(pg, "quiz-reveal-right")
    # Moving on hides the reveal; quiz mode off hides the panel.
    pg.click("#btn-step")
    wait_step(pg, 6)
    wait_mode(pg, "idle")
    pg.click("#btn-quiz")
    pg.wait_for_function("() => !window.__buddyscope.quiz.on")
    assert pg.locator("#quiz").is_hidden()
    assert pg.get_attribute("#btn-quiz", "aria-pressed") == "false"


def test_the_keyboard_picks_answers_and_skips(live: LiveServer, page: Page) -> None:
    pg = page
    open_dashboard(pg, live.url, "?scenario=head-or-tail")
    pg.locator("body").click(position={"x": 5, "y": 5})
    pg.keyboard.press("?")
    help_text = pg.text_content("#help") or ""
    assert "quiz mode on / off" in help_text and "skip the question" in help_text
    pg.keyboard.press("Escape")
    pg.keyboard.press("q")
    wait_mode(pg, "idle")
    for n in range(1, 3):
        pg.keyboard.press("ArrowRight")
        wait_step(pg, n)
    pg.keyboard.press("ArrowRight")
    wait_mode(pg, "asking")
    answer = pending_answer(live, pg)
    choices = quiz(pg)["question"]["choices"]
    other = next(c for c in choices if c != answer)
    # A digit picks without answering; the next digit changes the pick; Enter answers.
    pg.keyboard.press(str(choices.index(other) + 1))
    pg.wait_for_function(f"() => window.__buddyscope.quiz.picked === {choices.index(other)}")
    assert pg.get_attribute(f".quiz-choice[data-choice={other}]", "aria-pressed") == "true"
    assert quiz(pg)["mode"] == "asking" and session_of(live, pg).question is not None
    pg.keyboard.press(str(choices.index(answer) + 1))
    pg.wait_for_function(f"() => window.__buddyscope.quiz.picked === {choices.index(answer)}")
    assert pg.get_attribute(f".quiz-choice[data-choice={other}]", "aria-pressed") == "false"
    pg.keyboard.press("Enter")
    wait_mode(pg, "revealed")
    wait_step(pg, 3)
    assert quiz(pg)["reveal"]["correct"] is True
    assert quiz(pg)["score"] == {"right": 1, "asked": 1}
    pg.keyboard.press("Escape")  # closes the answer
    wait_mode(pg, "idle")
    pg.keyboard.press("ArrowRight")
    wait_step(pg, 4)
    pg.keyboard.press("ArrowRight")
    wait_mode(pg, "asking")
    pg.keyboard.press("Escape")  # skips: the step runs, counted as asked
    wait_mode(pg, "revealed")
    wait_step(pg, 5)
    reveal = quiz(pg)["reveal"]
    assert reveal["reply"] is None and reveal["correct"] is False
    assert reveal["answer"] == last_list_add(pg)["end"]
    shown = reveal_on_screen(pg)
    assert (shown["mark"], shown["word"], shown["reply"]) == ("\u2013", "Skipped", None)
    assert shown["score"] == "score 1 / 2 right"


def test_typed_answers_are_checked_before_they_are_sent(live: LiveServer, page: Page) -> None:
    pg = page
    open_dashboard(pg, live.url, "?scenario=buddy-basics")
    pg.locator("body").click(position={"x": 5, "y": 5})
    pg.keyboard.press("q")
    wait_mode(pg, "idle")
    pg.keyboard.press("ArrowRight")
    wait_step(pg, 1)
    pg.keyboard.press("ArrowRight")
    wait_mode(pg, "asking")
    assert quiz(pg)["question"]["kind"] == "which_pfn"
    # The field has the focus: type, Enter.
    assert pg.evaluate("() => document.activeElement.classList.contains('quiz-input')")
    pg.keyboard.type("the first one")
    pg.keyboard.press("Enter")
    pg.wait_for_function("() => window.__buddyscope.quiz.error !== ''")
    assert "is not a pfn" in (pg.text_content("#quiz-error") or "")
    shot(pg, "quiz-typed-answer-refused")
    assert session_of(live, pg).question is not None and quiz(pg)["score"]["asked"] == 0
    answer = pending_answer(live, pg)  # "pfn 0x..."
    pfn = int(answer.split()[1], 16)
    pg.fill(".quiz-input", str(pfn))  # decimal is understood too
    pg.keyboard.press("Enter")
    wait_mode(pg, "revealed")
    wait_step(pg, 2)
    reveal = quiz(pg)["reveal"]
    assert (reveal["reply"], reveal["correct"]) == (answer, True)
    allocs = [e for e in debug(pg, "state.events") if e["kind"] == "alloc"]
    assert f"pfn {allocs[0]['pfn']:#x}" == answer
    assert model(live, pg).page(pfn).allocated

    pg.keyboard.press("ArrowRight")
    wait_step(pg, 3)
    pg.keyboard.press("ArrowRight")
    wait_mode(pg, "asking")
    assert quiz(pg)["question"]["kind"] == "merge_order"
    top = len(quiz(pg)["question"]["choices"]) - 1
    pg.keyboard.type(str(top + 1))
    pg.keyboard.press("Enter")
    pg.wait_for_function("() => window.__buddyscope.quiz.error.includes('out of range')")
    answer = pending_answer(live, pg)
    guess = str((int(answer) + 1) % (top + 1))
    pg.fill(".quiz-input", guess)
    pg.keyboard.press("Enter")
    wait_mode(pg, "revealed")
    wait_step(pg, 4)
    reveal = quiz(pg)["reveal"]
    assert (reveal["reply"], reveal["correct"], reveal["answer"]) == (guess, False, answer)
    add = last_list_add(pg)
    assert str(add["order"]) == answer
    assert_on_list_end(live, pg, add)
    assert quiz(pg)["score"] == {"right": 1, "asked": 2}


def test_followers_see_the_question_and_the_reveal_in_presenter_mode(
    browser: Browser, live: LiveServer
) -> None:
    with (
        watched_page(browser) as (ctl, problems),
        watched_page(browser, 1920, 1080) as (fol, problems2),
        watched_page(browser, 1920, 1080) as (late, problems3),
    ):
        open_dashboard(ctl, live.url, "?scenario=head-or-tail")
        sid = debug(ctl, "session")
        open_dashboard(fol, live.url, f"?session={sid}&presenter=1")
        assert debug(fol, "role") == "follower"
        assert fol.locator("#btn-quiz").is_visible() and fol.locator("#btn-quiz").is_disabled()
        ctl.click("#btn-quiz")
        wait_mode(fol, "idle")
        for n in range(1, 4):
            ctl.click("#btn-step")
            if n < 3:
                wait_step(ctl, n)
        wait_mode(ctl, "asking")
        wait_mode(fol, "asking")
        assert quiz(fol)["question"] == quiz(ctl)["question"]
        assert fol.locator(".quiz-choice").count() == 2
        assert all(fol.locator(".quiz-choice").nth(i).is_disabled() for i in range(2))
        assert "the presenter answers" in (fol.text_content("#quiz") or "")
        px = fol.evaluate(
            "() => parseFloat(getComputedStyle(document.querySelector('.quiz-ask')).fontSize)"
        )
        assert px >= 32, px  # readable on a projector
        # A follower's keys do not answer.
        fol.locator("body").click(position={"x": 5, "y": 5})
        fol.keyboard.press("1")
        assert quiz(fol)["picked"] == -1 and session_of(live, ctl).question is not None
        shot(fol, "quiz-presenter-question-1920")
        # Someone who joins while the question waits sees it too (from the snapshot).
        open_dashboard(late, live.url, f"?session={sid}&presenter=1")
        wait_mode(late, "asking")
        assert quiz(late)["question"] == quiz(ctl)["question"]

        ctl.click(f".quiz-choice[data-choice={pending_answer(live, ctl)}]")
        for pg in (ctl, fol, late):
            wait_mode(pg, "revealed")
            wait_step(pg, 3)
        assert quiz(fol)["reveal"] == quiz(ctl)["reveal"] == quiz(late)["reveal"]
        assert reveal_on_screen(fol)["word"] == "Right"
        assert reveal_on_screen(fol)["score"] == "score 1 / 1 right"
        shot(fol, "quiz-presenter-reveal-1920")
        assert problems == [] and problems2 == [] and problems3 == []


def page_state(pg: Page) -> dict[str, Any]:
    """What the page shows of the model: counts and every frame's state, per zone."""
    zones: list[dict[str, Any]] = pg.evaluate(
        """() => window.__buddyscope.state.zones.map((z) => ({name: z.name, nrFree: z.nrFree,
        pageState: Array.from(z.pageState).join(',')}))"""
    )
    for z in zones:
        z["pageState"] = hashlib.sha256(z["pageState"].encode()).hexdigest()
    return {"step": debug(pg, "step"), "zones": zones, "clock": debug(pg, "state.clock")}


def test_save_as_scenario_downloads_the_file_that_loads_back(
    live: LiveServer, browser: Browser, page: Page
) -> None:
    pg = page
    open_dashboard(pg, live.url, "?scenario=head-or-tail")
    pg.click("#btn-share")
    assert pg.locator("#btn-save-scenario").is_enabled()  # its whole workload is recorded
    pg.keyboard.press("Escape")
    for n in range(1, 11):
        pg.click("#btn-step")
        wait_step(pg, n)
    pg.select_option("#form-alloc select[name=order]", "2")
    pg.click("#form-alloc button")
    wait_step(pg, 11)
    pg.click("#btn-share")
    assert "simulate --workload FILE" in (pg.text_content("#share") or "")
    with pg.expect_download() as info:
        pg.click("#btn-save-scenario")
    download = info.value
    assert download.suggested_filename == "buddyscope-head-or-tail-11-steps.json"
    saved = download.path().read_text()
    pg.wait_for_function("() => window.__buddyscope.savedScenario !== null")
    assert debug(pg, "savedScenario") == {"file": download.suggested_filename, "notes": []}
    assert f"Saved {download.suggested_filename}" in (pg.text_content("#save-scenario-out") or "")
    shot(pg, "save-as-scenario")
    rest = pg.request.get(f"{live.url}api/sessions/{debug(pg, 'session')}/scenario")
    assert rest.ok and saved == rest.text()
    doc = json.loads(saved)
    assert len(doc["questions"]) == 3 and doc["workload"][-1]["label"] == "user"
    pg.keyboard.press("Escape")

    created = pg.request.post(
        f"{live.url}api/sessions/from-workload",
        data=saved,
        headers={"content-type": "application/json"},
    )
    assert created.ok, created.text()
    new = created.json()
    with watched_page(browser) as (again, problems):
        open_dashboard(again, live.url, f"?session={new['id']}&token={new['token']}&step=11")
        assert debug(again, "role") == "controller"
        assert page_state(again) == page_state(pg)
        assert model(live, again).buddyinfo() == model(live, pg).buddyinfo()
        # The file carries the scenario's questions: quiz mode asks them.
        again.click("#btn-quiz")
        wait_mode(again, "idle")
        again.click("#btn-first")
        wait_step(again, 0)
        # Its setup (operations 0-4) is step 0; the first question is about operation 7.
        for n in range(1, 3):
            again.click("#btn-step")
            wait_step(again, n)
        again.click("#btn-step")
        wait_mode(again, "asking")
        q = quiz(again)["question"]
        assert (q["origin"], q["ask"]) == ("scenario", doc["questions"][0]["ask"])
        assert problems == []


def test_the_comparison_and_quiz_mode_exclude_each_other(live: LiveServer, page: Page) -> None:
    """A question would hold one side of the comparison only."""
    pg = page
    open_dashboard(pg, live.url, "?scenario=head-or-tail")
    pg.click("#btn-quiz")
    wait_mode(pg, "idle")
    pg.click("#btn-compare")
    pg.wait_for_function("() => !window.__buddyscope.quiz.on")
    assert not session_of(live, pg).quiz_on
    assert pg.locator("#quiz").is_hidden()
    pg.locator("body").click(position={"x": 5, "y": 5})
    pg.keyboard.press("q")
    pg.wait_for_function(
        "() => window.__buddyscope.notices.some((n) => n.includes('close the comparison first'))"
    )
    assert not session_of(live, pg).quiz_on
