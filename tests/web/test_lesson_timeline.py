"""The timeline of a lesson: the whole workload recorded at the start, the setup folded
into step 0, the phases as chapters, seeks that narrate the step they land on, and the
moment another strategy's session is at (``align``)."""

from __future__ import annotations

import pytest

from allocator_model.sources.source import scenario_infos
from backend.sources import SessionConfig, plan_for
from backend.steps import NEXT, execute, initial_state
from backend.timeline import CheckpointPolicy, chapter_title, open_branch

POLICY = CheckpointPolicy()
MAX = 10**6
LIBRARY = [s.name for s in scenario_infos() if s.source == "library"]


def test_the_setup_folds_the_steps_before_the_first_narrated_phase() -> None:
    plan = plan_for(SessionConfig(scenario="zone-gate"))
    node, ws, setup = initial_state(plan)
    # zone-gate boots with a minute of reporting passes: 105 automatic steps.
    assert setup.steps == 105 and setup.ops == 1 and ws.advance_target_ns is None
    assert plan.source.workload[setup.ops]["op"] == "phase"
    unfolded = plan_for(SessionConfig(scenario="zone-gate", fold_setup=False))
    node2, ws2, none = initial_state(unfolded)
    assert none.steps == 0 and ws2.wl_index == 0
    for _ in range(setup.steps):
        execute(node2, ws2, unfolded, NEXT)
    assert node2.page_states() == node.page_states() and node2.clock_ns == node.clock_ns


@pytest.mark.parametrize("name", LIBRARY)
def test_every_scenario_opens_with_its_length_and_a_chapter_within_three_steps(name: str) -> None:
    plan = plan_for(SessionConfig(scenario=name))
    view = open_branch(0, plan, POLICY, MAX)
    assert view.pos == 0 and view.length > 0
    chapters = view.branch.chapters()
    assert chapters and chapters[0][0] <= 3, chapters
    assert all(c.title for c in chapters)
    # Every shipped phase has presenter notes; each chapter carries its own phase's.
    phases = [op for op in plan.source.workload[view.branch.setup.ops :] if op["op"] == "phase"]
    assert [c.notes for c in chapters] == [op["notes"] for op in phases][: len(chapters)]
    assert all(c.notes for c in chapters), chapters
    # A quiz question's operation is never folded away.
    asked = [q["before_step"] for q in plan.source.questions]
    assert all(k >= view.branch.setup.ops for k in asked)


def test_arrive_replays_the_step_it_lands_on_as_forward_did() -> None:
    view = open_branch(0, plan_for(SessionConfig(scenario="head-or-tail")), POLICY, MAX)
    forward = []
    for _ in range(4):
        out = view.forward(None, extend=False, policy=POLICY, max_steps=MAX)
        forward.append(
            ([e["message"] for e in out.events], [e.to_dict() for e in out.model_events])
        )
    for step in (3, 1, 4, 2):
        out = view.arrive(step)
        assert out is not None and view.pos == step
        assert ([e["message"] for e in out.events], [e.to_dict() for e in out.model_events]) == (
            forward[step - 1]
        )
    assert view.arrive(0) is None and view.pos == 0


def test_the_moment_of_another_strategy_is_its_last_step_not_later() -> None:
    v2 = open_branch(0, plan_for(SessionConfig(scenario="v2-vs-merged")), POLICY, MAX)
    rep = open_branch(
        0, plan_for(SessionConfig(scenario="v2-vs-merged", hinting="reporting")), POLICY, MAX
    )
    branch = rep.branch
    for step in range(1, v2.length + 1):
        v2.seek(step)
        op, clock = v2.ws.wl_index, v2.node.clock_ns
        at = branch.moment_step(op, clock)
        assert at == 0 or (branch.ops[at - 1] <= op and branch.clocks[at - 1] <= clock)
        if at < len(branch):  # the next step is later, or further in the workload
            assert branch.ops[at] > op or branch.clocks[at] > clock


def test_a_chapter_is_titled_by_its_phase_prefix_else_by_its_first_sentence() -> None:
    assert chapter_title("Fill memory: the guest allocates it all. Then it frees.") == "Fill memory"
    first = "The guest frees 31 blocks"
    assert chapter_title(f"{first}. Nothing is hinted.") == first
    long = "word " * 40
    assert chapter_title(long).endswith("…") and len(chapter_title(long)) <= 91
