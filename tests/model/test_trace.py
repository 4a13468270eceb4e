"""Trace replay: trace-cmd/perf text of kmem page events as a workload."""

from __future__ import annotations

from importlib import resources

from allocator_model import Node, ZoneSpec
from allocator_model.sources.trace import parse_trace, sample_trace
from allocator_model.sources.workload import Runner

TRACE_CMD = """\
cpus=2
           <...>-3115  [001]  8791.209451: mm_page_alloc:        page=0xffffea00041e5c00 pfn=1079664 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE
           <...>-3115  [001]  8791.209460: mm_page_alloc:        page=0xffffea00041e5c40 pfn=1079665 order=2 migratetype=0 gfp_flags=GFP_KERNEL
          <idle>-0     [000]  8791.210000: sched_switch:         prev_comm=swapper/0 prev_pid=0
           <...>-3115  [001]  8791.311000: mm_page_free:         page=0xffffea00041e5c00 pfn=1079664 order=0
           <...>-3115  [001]  8791.311100: mm_page_free_batched: page=0xffffea00041e5c80 pfn=1079666 order=0
"""  # noqa: E501

PERF = """\
            bash  4021 [000]  1513.030001: kmem:mm_page_alloc: page=0xffffea0004a2c000 pfn=0x128b00 order=9 migratetype=1 gfp_flags=GFP_TRANSHUGE
            bash  4021 [000]  1515.030001: kmem:mm_page_free: page=0xffffea0004a2c000 pfn=0x128b00 order=9
"""  # noqa: E501


def test_trace_cmd_lines_become_a_workload() -> None:
    imp = parse_trace(TRACE_CMD)
    assert imp.events == {"mm_page_alloc": 2, "mm_page_free": 1, "mm_page_free_batched": 1}
    assert imp.unknown_lines == 1 and imp.unknown_examples == [4]
    assert imp.unmatched_frees == 1  # pfn 1079666 was allocated before the trace began
    kinds = [op["op"] for op in imp.ops]
    assert kinds == ["alloc", "alloc", "advance", "free"]
    assert imp.ops[1]["migratetype"] == "Unmovable" and imp.ops[1]["order"] == 2
    assert imp.ops[2]["seconds"] == 0.101549
    assert "1 frees of pages allocated before the trace began" in imp.summary()


def test_perf_script_hex_pfns_and_replay_on_a_node() -> None:
    imp = parse_trace(PERF)
    assert [op["op"] for op in imp.ops] == ["alloc", "advance", "free"]
    node = Node(zones=[ZoneSpec("Normal", 0, 1 << 16)], hinting="reporting", min_free_kbytes=0)
    runner = Runner()
    for op in imp.ops:
        runner.apply(node, op)
        node.check()
    node.advance(10)  # let the reporting pass that is in flight finish
    assert node.zone("Normal").nr_free_pages == 1 << 16
    assert node.host.pages_reported > 0


def test_shipped_sample_is_made_by_the_generator_and_replays() -> None:
    shipped = (resources.files("allocator_model.sources") / "traces" / "sample.trace").read_text()
    assert shipped == sample_trace()
    imp = parse_trace(shipped)
    assert imp.unknown_lines == 0 and imp.unmatched_frees == 0
    node = Node(zones=[ZoneSpec("Normal", 0, 1 << 16)], min_free_kbytes=0)
    runner = Runner()
    for op in imp.ops:
        runner.apply(node, op)
    node.check()
    # The sample frees everything but 4 of its 8 order-2 kernel blocks.
    left = [block for live in runner.labels.values() for block in live.values()]
    assert sorted(order for _, order in left) == [2, 2, 2, 2]
