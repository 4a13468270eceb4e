"""The timeline: exact seek from checkpoints + replay, forks, configuration replays."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from allocator_model import Node
from allocator_model.sources.builtin import build_default, build_small
from backend.sources import SessionConfig, plan_for
from backend.steps import NEXT, TimelineError
from backend.timeline import CheckpointPolicy, View, replay_under, run_workload, start_branch

pytestmark = pytest.mark.timeout(600)

# Checkpoints every 8..16 steps, so short tests cross several of them.
DENSE = CheckpointPolicy(budget_s=float("inf"), min_gap=8, max_gap=16)
MAX = 100_000


def fingerprint(node: Node) -> tuple[Any, ...]:
    return (
        node.clock_ns,
        node.buddyinfo(),
        tuple(bytes(z.page_state) for z in node.zones),
        tuple(bytes(z.flags) for z in node.zones),
        tuple(
            tuple(z.free_list(o, mt) for o in range(node.max_order) for mt in node.migratetypes)
            for z in node.zones
        ),
        tuple(bytes(b) for b in node.host.backing.values()),
        node.host.stats(),
        repr(node.hinting_state()),
    )


def events_of(view: View, steps: int) -> list[list[dict[str, Any]]]:
    out = []
    for _ in range(steps):
        o = view.forward(None, extend=True, policy=DENSE, max_steps=MAX)
        out.append(o.events + [e.to_dict() for e in o.model_events])
    return out


def reporting_view() -> View:
    plan = plan_for(SessionConfig(scenario="buffer-reuse"))  # 45 steps, all kinds
    return start_branch(0, plan, DENSE)


def test_small_session_starts_where_the_old_scenario_ends() -> None:
    plan = plan_for(SessionConfig(scenario="small"))
    view = start_branch(0, plan, DENSE)
    run_workload(view, DENSE, MAX)
    old = build_small()
    assert view.pos == view.length == len(plan.source.workload) == old.steps
    assert view.node.buddyinfo() == old.node.buddyinfo()
    assert view.node.page_states() == old.node.page_states()


def test_default_session_equals_the_default_scenario() -> None:
    plan = plan_for(SessionConfig(scenario="default"))
    view = start_branch(0, plan, CheckpointPolicy())
    run_workload(view, CheckpointPolicy(), MAX)
    assert view.node.page_states() == build_default().node.page_states()


def test_back_and_forward_again_yields_identical_events() -> None:
    view = reporting_view()
    first = events_of(view, 45)  # workload, then hinting/reporting work items
    kinds = {e["kind"] for step in first for e in step}
    assert {"report", "work", "phase", "refault", "merge"} <= kinds, kinds
    end = fingerprint(view.node)
    for target in (0, 1, 7, 8, 9, 17, 33, 44):
        view.seek(target)
        again = [
            o.events + [e.to_dict() for e in o.model_events]
            for o in (
                view.forward(None, extend=False, policy=DENSE, max_steps=MAX)
                for _ in range(45 - target)
            )
        ]
        assert again == first[target:], target
        assert fingerprint(view.node) == end


def test_seek_equals_a_fresh_replay_at_every_step() -> None:
    view = reporting_view()
    events_of(view, 40)
    fresh = start_branch(1, view.branch.plan, DENSE)
    prints = [fingerprint(fresh.node)]
    for _ in range(40):
        fresh.forward(None, extend=True, policy=DENSE, max_steps=MAX)
        prints.append(fingerprint(fresh.node))
    for target in [40, 3, 39, 0, 16, 15, 17, 25]:
        view.seek(target)
        assert view.pos == target
        assert fingerprint(view.node) == prints[target], target
        assert fingerprint(View.at(view.branch, target).node) == prints[target]


def test_checkpoints_follow_the_policy() -> None:
    view = reporting_view()
    events_of(view, 45)
    steps = sorted(view.branch.checkpoints)
    assert steps[0] == 0
    gaps = [b - a for a, b in itertools.pairwise(steps)]
    assert all(8 <= g <= 16 for g in gaps), gaps


def test_a_step_past_the_end_is_refused_without_extend() -> None:
    view = reporting_view()
    events_of(view, 3)
    with pytest.raises(TimelineError) as exc:
        view.forward(None, extend=False, policy=DENSE, max_steps=MAX)
    assert exc.value.code == "end_of_timeline"
    with pytest.raises(TimelineError) as exc:
        view.forward(None, extend=True, policy=DENSE, max_steps=3)
    assert exc.value.code == "limit"
    assert view.pos == view.length == 3


def test_a_user_command_that_fails_leaves_everything_as_it_was() -> None:
    view = reporting_view()
    events_of(view, 5)
    before = fingerprint(view.node)
    with pytest.raises(ValueError):
        view.forward(("free", 1, 0), extend=True, policy=DENSE, max_steps=MAX)
    assert fingerprint(view.node) == before
    assert view.length == view.pos == 5


def test_forking_keeps_the_old_future() -> None:
    view = reporting_view()
    events_of(view, 30)
    old = view.branch
    old_log = list(old.log)
    view.seek(10)
    child = old.fork(1, 10, "fork")
    view.branch = child
    o = view.forward(("alloc", 0, "Movable", None), extend=True, policy=DENSE, max_steps=MAX)
    assert [e.kind for e in o.model_events][-1] == "alloc"
    assert child.log[:10] == old_log[:10] and len(child) == 11
    assert old.log == old_log  # the parent is untouched ...
    back = View.at(old, 30)  # ... and can be returned to
    fresh = reporting_view()
    events_of(fresh, 30)
    assert fingerprint(back.node) == fingerprint(fresh.node)


def test_configure_replays_the_same_commands_under_new_rules() -> None:
    view = reporting_view()
    events_of(view, 20)
    view.forward(("alloc", 3, "Movable", None), extend=True, policy=DENSE, max_steps=MAX)
    plan = plan_for(SessionConfig(scenario="buffer-reuse", kernel="5.7"))
    new = replay_under(5, plan, view.branch, view.pos, DENSE, "configure")
    assert new.pos == new.length == view.pos == 21
    assert new.node.kernel == "5.7" and view.node.kernel == "5.10"
    assert new.branch.parent == view.branch.id
    # Same workload, different putback rules: the result is a different state.
    assert new.branch.log == view.branch.log


def test_a_recorded_command_that_no_longer_applies_becomes_a_narrated_no_op() -> None:
    plan = plan_for(SessionConfig(scenario="small"))
    view = start_branch(0, plan, DENSE)
    run_workload(view, DENSE, MAX)
    view.forward(("alloc", 0, "Movable", None), extend=True, policy=DENSE, max_steps=MAX)
    ((alloc_pfn, _),) = view.ws.runner.labels["user"].values()
    view.forward(("free", alloc_pfn, 0), extend=True, policy=DENSE, max_steps=MAX)
    # Under another seed the workload differs and the allocation lands elsewhere, so the
    # recorded free of that pfn no longer applies: it becomes a step that says why.
    plan2 = plan_for(SessionConfig(scenario="small", seed=7))
    new = replay_under(1, plan2, view.branch, view.pos, DENSE, "configure")
    assert new.pos == view.pos
    new.seek(new.pos - 1)
    ((new_pfn, _),) = new.ws.runner.labels["user"].values()
    assert new_pfn != alloc_pfn
    assert (
        new.node.page(alloc_pfn).state != "allocated"
        or new.node.page(alloc_pfn).block_pfn != alloc_pfn
    )
    o = new.forward(None, extend=False, policy=DENSE, max_steps=MAX)
    assert [e["kind"] for e in o.events] == ["step_error"] and o.model_events == []
    assert "did nothing here" in o.events[0]["message"]


def test_nothing_to_do_is_an_error_not_a_step() -> None:
    plan = plan_for(SessionConfig(scenario="small"))
    view = start_branch(0, plan, DENSE)
    run_workload(view, DENSE, MAX)
    n = view.length
    with pytest.raises(TimelineError) as exc:
        view.forward(NEXT, extend=True, policy=DENSE, max_steps=MAX)
    assert exc.value.code == "nothing_to_do"
    assert view.length == n
    # advance is a step of its own; with no work due it just moves the clock
    o = view.forward(("advance", 2_000_000_000), extend=True, policy=DENSE, max_steps=MAX)
    assert [e["kind"] for e in o.events] == ["clock"]
    assert view.node.clock == 2.0


def test_workload_advance_runs_one_work_item_per_step() -> None:
    view = reporting_view()
    labels = []
    for _ in range(80):
        try:
            o = view.forward(None, extend=True, policy=DENSE, max_steps=MAX)
        except TimelineError:
            break
        labels += [e["fn"] for e in o.events if e["kind"] == "work"]
    assert labels.count("reporting: pass") >= 2
    assert "reporting: report" in labels


def test_a_deferred_checkpoint_holds_the_state_of_its_step() -> None:
    policy = CheckpointPolicy(budget_s=float("inf"), min_gap=1, max_gap=5)
    view = reporting_view()
    for _ in range(12):
        view.forward(None, extend=True, policy=policy, max_steps=MAX, defer_checkpoint=True)
        # the session sends the delta here, then flushes; skip the flush sometimes
    view.flush_checkpoint()
    assert sorted(view.branch.checkpoints) == [0, 5, 10]
    fresh = reporting_view()
    for target in (5, 10, 12):
        while fresh.pos < target:
            fresh.forward(None, extend=True, policy=DENSE, max_steps=MAX)
        assert fingerprint(View.at(view.branch, target).node) == fingerprint(fresh.node)
