"""allocator_model.sources.source: one interface for every kind of input."""

from __future__ import annotations

import pytest

from allocator_model import ConfigError, Node, ZoneSpec
from allocator_model.sources.scenario import load
from allocator_model.sources.source import (
    ScenarioNotFound,
    SourceError,
    from_proc,
    from_scenario,
    from_trace,
    scenario,
    scenario_names,
    split_proc_text,
)
from allocator_model.sources.workload import Runner

BUDDYINFO = "Node 0, zone   Normal      4      3      2      1      0 \n"


def test_every_named_scenario_opens_and_its_node_runs_its_first_steps() -> None:
    for name in scenario_names():
        source = scenario(name)
        assert source.info is not None and source.info.kind == "scenario"
        assert source.info.name == name and source.workload
        assert source.start_at_end == (name in ("default", "small"))
        node = source.new_node()
        assert [(z.name, z.spanned_pages) for z in node.zones] == source.sizes()
        runner = Runner()
        for op in source.workload[:5]:
            runner.apply(node, op)
        node.check()


def test_an_unknown_scenario_names_the_ones_there_are() -> None:
    with pytest.raises(ScenarioNotFound, match="buddy-basics"):
        scenario("nope")


def test_a_library_scenario_opens_as_its_file_does_with_another_seed() -> None:
    sc = load("buddy-basics")
    named, file = scenario(sc.name, seed=7), from_scenario(sc, seed=7)
    assert named.workload == file.workload and named.seed == file.seed == 7
    assert dict(named.node_options) == dict(file.node_options) == sc.node_options(seed=7)
    assert file.info is not None and file.info.kind == "workload"


def test_configured_overrides_and_leaves_the_source_unchanged() -> None:
    source = scenario("v2-boundary")
    before = dict(source.node_options)
    changed = source.configured(kernel="5.10", hinting="reporting", pcp=True, pages=2048)
    assert dict(source.node_options) == before
    assert changed.node_options["hinting"] == "reporting"
    assert "hinting_options" not in changed.node_options
    assert changed.node_options["kernel"] == "5.10" and changed.node_options["pcp"] is True
    assert changed.sizes()[-1] == (source.sizes()[-1][0], 2048)
    same = source.configured(hinting=str(before.get("hinting", "none")), constants={"x": 1})
    assert same.node_options["hinting_options"] == {**before.get("hinting_options", {}), "x": 1}


def test_a_proc_snapshot_sizes_its_zones_before_building_and_refuses_pages() -> None:
    source = from_proc(BUDDYINFO)
    assert source.workload == () and source.start is not None
    node = source.new_node()
    assert node.buddyinfo() == BUDDYINFO
    assert source.sizes() == [("Normal", node.zone("Normal").spanned_pages)]
    with pytest.raises(ConfigError, match="leave pages out"):
        source.configured(pages=4096)
    with pytest.raises(SourceError) as bad:
        from_proc("Node 0, zone Normal 1 x\n")
    assert bad.value.field == "buddyinfo" and bad.value.problems


def test_a_trace_without_page_events_is_refused_with_how_to_record_one() -> None:
    with pytest.raises(SourceError, match="trace-cmd record") as bad:
        from_trace("hello\nworld\n")
    assert bad.value.field == "trace"


def test_a_workload_over_the_step_limit_is_a_source_error() -> None:
    sc = load("buddy-basics")
    with pytest.raises(SourceError) as bad:
        from_scenario(sc, max_steps=1)
    assert bad.value.field == "workload"


def test_split_proc_text() -> None:
    text = BUDDYINFO + "Page block order: 9\nPages per block:  512\n"
    assert split_proc_text(text) == (BUDDYINFO, "Page block order: 9\nPages per block:  512\n")
    assert split_proc_text(BUDDYINFO) == (BUDDYINFO, None)


def test_node_options_build_the_same_node_as_zonespecs_say() -> None:
    source = scenario("small")
    assert source.node_options["zones"] == [ZoneSpec("Normal", start_pfn=0, pages=4096)]
    assert isinstance(source.new_node(), Node)


def test_the_default_is_a_guest_of_today_and_v2_picked_on_it_runs_on_its_own_base() -> None:
    source = scenario("default")
    assert source.node_options["kernel"] == "6.12"
    assert source.node_options["hinting"] == "reporting"
    v2 = source.configured(hinting="hinting-v2")
    assert "kernel" not in v2.node_options and v2.new_node().kernel == "5.3"
    assert source.configured(hinting="hinting-v2", kernel="5.7").node_options["kernel"] == "5.7"
    assert source.configured(cpus=2).node_options["cpus"] == 2


def test_v2_picked_on_a_library_scenario_runs_on_5_3_unless_a_kernel_is_named() -> None:
    """zone-gate chose 5.10 for free page reporting, not for v2: v2 picked without a
    kernel runs on the 5.3 rules its patches were written against (issue 12 point 4),
    and v2 on 5.10 is a what-if only when the user names 5.10."""
    gate = scenario("zone-gate")
    assert gate.new_node().kernel == "5.10"
    v2 = gate.configured(hinting="hinting-v2").new_node()
    assert (v2.kernel, v2.hinting, v2.what_if) == ("5.3", "hinting-v2", None)
    asked = gate.configured(hinting="hinting-v2", kernel="5.10").new_node()
    assert asked.kernel == "5.10" and asked.what_if is not None
    assert asked.what_if.startswith("what if: v2 hinting on Linux 5.10 rules")
    # A scenario that is v2 on 5.10 by its own file stays a (labelled) what-if.
    merged = scenario("v2-vs-merged").new_node()
    assert merged.kernel == "5.10" and merged.what_if is not None
