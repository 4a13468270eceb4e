"""Every scenario shows what its narration and "what to look for" say.

Each test runs one scenario of the library in-process, step by step, and checks the
claims its phases and its note make against the model: the numbers the text prints,
where blocks land, when work is scheduled.  A change to the kernel rules that makes a
scenario say something untrue fails here, naming the scenario.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from allocator_model import Node
from allocator_model.kernel.events import Event
from allocator_model.kernel.fragmentation import unusable_free_index, unusable_index_text
from allocator_model.kernel.host import DISCARDED
from allocator_model.lab.quiz import ask
from allocator_model.sources.scenario import Scenario, library, load
from allocator_model.sources.workload import Runner


@dataclass
class Run:
    """A scenario applied op by op: the events of each step, and what ``watch`` saw after it."""

    scenario: Scenario
    node: Node
    runner: Runner
    ops: list[dict[str, Any]]
    steps: list[list[Event]] = field(default_factory=list)
    clocks: list[float] = field(default_factory=list)
    seen: list[Any] = field(default_factory=list)

    def said(self, step: int) -> str:
        """The narration of a phase step."""
        op = self.ops[step]
        assert op["op"] == "phase", f"step {step} is {op['op']}, not a phase"
        return str(op["text"])

    def of(self, step: int, kind: str) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.steps[step] if e.kind == kind]

    def kinds(self, step: int) -> list[str]:
        return [e.kind for e in self.steps[step]]


def run(name: str, watch: Callable[[Node], Any] | None = None, **overrides: Any) -> Run:
    sc = load(name)
    node = sc.node(**overrides)
    r = Run(sc, node, Runner(), sc.ops())
    for op in r.ops:
        r.runner.apply(node, op)
        node.check()
        r.steps.append(node.take_events())
        r.clocks.append(node.clock)
        r.seen.append(watch(node) if watch else None)
    return r


def quiz(name: str, before: int, kind: str, **overrides: Any) -> str:
    """The model's answer to the question asked before step ``before``."""
    sc = load(name)
    node = sc.node(**overrides)
    runner = Runner()
    ops = sc.ops()
    for op in ops[:before]:
        runner.apply(node, op)
    asked = [q for q in sc.questions if q["before_step"] == before]
    assert asked and asked[0]["kind"] == kind, f"{name} asks no {kind} before step {before}"
    return ask(node, runner, ops[before], kind).answer


def pfn_of(answer: str) -> int:
    """The pfn in a which_pfn answer, in whichever notation it is printed."""
    return int(answer.split()[-1], 0)


def hexes(pfns: list[int], last: str = ", ") -> str:
    """pfns as the narration lists them: "0x31, 0x2d, 0x29" (or "... and 0x29")."""
    *most, final = [hex(p) for p in pfns]
    return ", ".join(most) + last + final


def movable(node: Node, order: int, zone: str = "Normal") -> list[int]:
    return list(node.zone(zone).free_list(order, "Movable"))


# --- 1. buddy-basics ---------------------------------------------------------------------


def test_buddy_basics_split_cascade_and_merge_back() -> None:
    r = run("buddy-basics", watch=lambda n: [movable(n, k) for k in range(11)])
    assert "single free order-10 block at pfn 0x0" in r.said(0)
    # expand() put every upper half at the head: one block at each order 0..9, pfn 2**k.
    assert r.of(1, "alloc")[0]["pfn"] == 0
    assert "split the block ten times" in r.said(2) and r.kinds(1).count("split") == 10
    assert r.seen[1] == [[1 << k] for k in range(10)] + [[]]
    assert "pfn 0x1, 0x2, 0x4, ..., 0x200" in r.said(2) and "0x200)" in r.scenario.look_for
    assert {a["end"] for a in r.of(1, "list_add")} == {"head"}
    # The free merges ten times, each with buddy = pfn ^ (1 << order), back to order 10.
    merges = r.of(3, "merge")
    assert len(merges) == 10 and all(m["buddy"] == m["pfn"] ^ (1 << m["order"]) for m in merges)
    assert r.node.zone("Normal").nr_free == [0] * 10 + [1]
    assert pfn_of(quiz("buddy-basics", 1, "which_pfn")) == 0
    assert quiz("buddy-basics", 3, "merge_order") == "10"


# --- 2. head-or-tail ---------------------------------------------------------------------


def test_head_or_tail_lands_at_opposite_ends_of_lists_of_several_blocks() -> None:
    r = run("head-or-tail", watch=lambda n: [movable(n, k) for k in range(4)])
    start = r.seen[4]
    assert len(start[0]) == 3 and len(start[1]) == 3 and start[2] == [4]
    text = r.said(5)
    assert hexes(start[0]) in text and hexes(start[1]) in text
    # pfn 1: no merge, the head (the left end) of a list of several blocks.
    assert [(a["pfn"], a["end"]) for a in r.of(7, "list_add")] == [(1, "head")]
    assert r.seen[7][0] == [1, *start[0]]
    assert hexes(start[0], " and ") in r.said(8)
    # pfn 0: merges into the order-1 block at 0, which goes to the far end.
    assert [(m["pfn"], m["order"]) for m in r.of(9, "merge")] == [(0, 0)]
    assert [(a["pfn"], a["order"], a["end"]) for a in r.of(9, "list_add")] == [(0, 1, "tail")]
    assert r.seen[9][1] == [*start[1], 0] and r.seen[9][2] == [4]
    assert hexes(start[1], " and ") in r.said(10)
    # pfn 10-11: an order-1 block with no free higher buddy goes to the other end.
    assert r.of(12, "list_add")[-1]["end"] == "head"
    assert r.seen[12][1][0] == 10 and r.seen[12][1][-1] == 0
    # The allocation takes the head; the tail block waits for pfn 2 and 3.
    assert r.of(14, "alloc")[0]["pfn"] == 10 and r.seen[14][1][-1] == 0
    assert [(a["pfn"], a["end"]) for a in r.of(16, "list_add")] == [(2, "tail")]
    assert [m["order"] for m in r.of(17, "merge")] == [0, 1, 2]
    assert r.seen[17][3] == [0]
    assert "order-3 block at pfn 0x0" in r.said(18)
    assert quiz("head-or-tail", 7, "which_end") == "head"
    assert quiz("head-or-tail", 9, "which_end") == "tail"
    assert pfn_of(quiz("head-or-tail", 14, "which_pfn")) == 10


# --- 3. migratetypes ---------------------------------------------------------------------


def test_migratetypes_fallback_steals_and_retypes() -> None:
    r = run("migratetypes", watch=lambda n: list(n.zone("Normal").pageblock_mt))
    (fb,) = r.of(3, "fallback")
    assert (fb["start_migratetype"], fb["fallback_migratetype"]) == ("Unmovable", "Movable")
    assert fb["current_order"] == 10 and fb["whole_block"]
    retypes = r.of(3, "pageblock_retype")
    assert len(retypes) == 2 and {t["to_migratetype"] for t in retypes} == {"Unmovable"}
    assert {a["migratetype"] for a in r.of(3, "list_add")} == {"Unmovable"}
    (fb,) = r.of(5, "fallback")
    assert fb["start_migratetype"] == "Reclaimable"
    assert r.seen[7] == r.seen[6]  # free_all: the pageblocks keep their new types
    assert len(set(r.seen[7])) == 3
    assert quiz("migratetypes", 3, "which_migratetype") == "Unmovable"


# --- 4. v2-threshold ---------------------------------------------------------------------


def test_v2_threshold_31_frees_then_the_32nd_requests() -> None:
    r = run("v2-threshold")
    (boot,) = r.of(0, "request")
    assert boot["scheduled_at"] == pytest.approx(0.1)  # "hinted 100 ms in"
    assert len(r.of(1, "flag_set")) == 128  # every boot block
    assert len(r.of(3, "flag_clear")) == 128 and r.node.zone("Normal").nr_free_pages > 0
    assert "31" in r.said(4) and len(r.of(5, "free")) == 31
    assert "request" not in r.kinds(5)  # 31 unhinted blocks do nothing
    (req,) = r.of(7, "request")  # the 32nd
    assert req["scheduled_at"] == pytest.approx(r.clocks[7] + 0.1)
    assert any(s["new"] == "set" and "REQUESTED" in s["what"] for s in r.of(7, "state"))
    reports = r.of(8, "report")
    assert [len(rep["blocks"]) for rep in reports] == [32]  # all 32 in one batch
    assert len(r.of(8, "flag_set")) == 32
    assert quiz("v2-threshold", 5, "requests") == "no"
    assert quiz("v2-threshold", 7, "requests") == "yes"


# --- 5. v2-boundary ----------------------------------------------------------------------


def test_v2_boundary_moves_one_block_at_a_time_and_warm_blocks_go_first() -> None:
    r = run("v2-boundary", watch=lambda n: movable(n, 9))
    # "the 32nd requests hinting": the request comes right after the 32nd free.
    kinds = r.kinds(3)
    assert kinds[: kinds.index("request")].count("free") == 32
    # The cycle: fill 32 from the tail end, report, drain; then the last 8.
    assert [len(rep["blocks"]) for rep in r.of(5, "report")] == [32, 8]
    events = [e.to_dict() for e in r.steps[5]]
    moves = [d for d in events if d["kind"] == "boundary"]
    putbacks = [d for d in events if d["kind"] == "putback"]
    assert len(moves) == len(putbacks) == 40
    # Each put-back block becomes the boundary, one block nearer the head each time.
    assert [m["pfn"] for m in moves] == [p["pfn"] for p in putbacks]
    assert r.seen[5][-40:] == [m["pfn"] for m in reversed(moves)]
    # A new free goes to the head, in front of the hinted ones, and is taken first.
    (add,) = r.of(7, "list_add")
    assert add["end"] == "head" and r.seen[7][0] == add["pfn"]
    assert r.of(9, "alloc")[0]["pfn"] == add["pfn"] and "flag_clear" not in r.kinds(9)
    assert "flag_clear" in r.kinds(10) and "refault" in r.kinds(10)
    assert pfn_of(quiz("v2-boundary", 9, "which_pfn")) == add["pfn"]


# --- 6. v2-merge -------------------------------------------------------------------------


def test_v2_merge_clears_the_hint_and_rehints_at_order_10() -> None:
    r = run("v2-merge", watch=lambda n: n.zone("Normal").flagged_heads())
    assert "64 hinted order-9 blocks" in r.said(4) and len(r.seen[3]) == 64
    kinds = r.kinds(5)
    assert kinds.index("flag_clear") < kinds.index("merge")
    (add,) = r.of(5, "list_add")
    assert add["order"] == 10 and add["pfn"] not in r.seen[5]  # a new, unhinted block
    # Hinting is requested again when the 32nd unhinted order-10 block exists.
    before = [d["kind"] for d in (e.to_dict() for e in r.steps[7])]
    adds = before[: before.index("request")].count("list_add")
    assert 1 + adds == 32
    hinted = r.of(8, "flag_set")
    assert len(hinted) == 41 and {h["order"] for h in hinted} == {10}
    assert quiz("v2-merge", 5, "will_merge") == "yes"


# --- 7. reporting-passes -----------------------------------------------------------------


def test_reporting_passes_delay_budget_rotation() -> None:
    r = run("reporting-passes")
    assert "zone_skip" in r.kinds(1)  # pass 1 finds the zone full
    (req,) = r.of(3, "request")
    assert req["scheduled_at"] == pytest.approx(r.clocks[3] + 2.0)  # "+2 s"
    assert [len(rep["blocks"]) for rep in r.of(4, "report")] == [32, 32]
    assert "rotate" in r.kinds(4)
    assert r.of(4, "state")[-1]["new"] == "REQUESTED"  # the budget ran out
    assert [len(rep["blocks"]) for rep in r.of(6, "report")] == [32, 4]
    assert r.node.hinting_state()["state"] == "IDLE"
    said = [e.to_dict()["message"] for st in r.steps for e in st if e.kind == "state"]
    passes = [m[m.index("(pass") :] for m in said if "(pass" in m]
    assert passes == [
        "(pass 1 starts)",
        "(pass 1 is done)",
        "(pass 2 starts)",
        "(pass 3 starts)",
        "(pass 3 is done)",
    ]
    assert r.said(5).startswith("Pass 2 is over: 64 blocks")
    assert r.said(7).startswith("Pass 3: it reported the remaining 36")
    assert quiz("reporting-passes", 3, "blocks_reported") == "64"


# --- 8. zone-gate ------------------------------------------------------------------------


def test_zone_gate_skips_dma_and_a_nearly_full_normal() -> None:
    r = run("zone-gate", watch=lambda n: n.zone("Normal").nr_free_pages)
    dma = r.node.zone("DMA")
    assert f"DMA ({dma.spanned_pages} pages)" in r.said(1)
    assert not dma.flagged_heads() and r.node.zone("DMA32").flagged_heads()
    reports = r.of(0, "report")
    assert "DMA" not in {rep["zone"] for rep in reports}
    assert {"DMA32", "Normal"} <= {rep["zone"] for rep in reports}
    assert any(rep["zone"] == "DMA32" and len(rep["blocks"]) == 32 for rep in reports)
    normal = r.node.zone("Normal")
    gate = normal.wmark_low + (32 << 9)
    text = r.said(3)
    assert f"Normal now holds {r.seen[2]} free pages" in text
    assert f"{r.seen[4]} free pages" in text
    assert f"low ({normal.wmark_low}) + {32 << 9} = {gate}" in text
    assert gate - (1 << 9) < r.seen[4] <= gate  # one 2 MiB block short of the gate
    assert r.of(4, "request")  # the free requested a pass ...
    skips = {s["zone"]: s for s in r.of(5, "zone_skip")}
    assert {"DMA", "Normal"} <= set(skips)  # ... which skipped Normal
    assert (skips["Normal"]["free_pages"], skips["Normal"]["mark_pages"]) == (r.seen[4], gate)
    assert not r.of(5, "report")


# --- 9. v2-vs-merged ---------------------------------------------------------------------


def returned_after(strategy: str, seconds: float) -> int:
    """Pages discarded on the host ``seconds`` after the buffer is freed."""
    sc = load("v2-vs-merged")
    node = sc.node(hinting=strategy)
    runner = Runner()
    for op in sc.ops()[:3]:  # phase, alloc, free
        runner.apply(node, op)
    node.advance(seconds)
    return node.host.stats().discarded_pages


def test_v2_vs_merged_same_buffer_different_timing() -> None:
    sc = load("v2-vs-merged")
    assert sc.compare == ["hinting-v2", "reporting"]
    buffer = 160 << 9
    # v2 acts in one cycle 100 ms later; reporting waits 2 s and works in budgeted passes.
    assert returned_after("hinting-v2", 0.5) == buffer
    assert returned_after("reporting", 0.5) == 0
    assert 0 < returned_after("reporting", 2.5) < buffer
    assert returned_after("reporting", 10) == buffer
    for strategy in sc.compare:
        stats = run("v2-vs-merged", hinting=strategy).node.host.stats()
        assert stats.discarded_pages == buffer and stats.refaults > 0


# --- 10. hildenbrand ---------------------------------------------------------------------


HILDENBRAND_PFN = 0x4000


def test_hildenbrand_shows_both_designs_on_the_named_block() -> None:
    sc = load("hildenbrand")
    assert sc.compare == ["hinting-v2", "reporting"]
    assert sc.inspect == [{"step": 2, "pfn": HILDENBRAND_PFN}]
    named = f"pfn {hex(HILDENBRAND_PFN)}"
    assert named in sc.look_for and named in sc.ops()[2]["text"]
    v2 = run("hildenbrand", watch=lambda n: n.zone("Normal").flagged_heads())
    rep = run("hildenbrand", hinting="reporting")  # the scenario's kernel has reporting
    assert v2.node.zone("Normal").nr_free[10] == 32 and v2.seen[0] == []
    assert v2.of(0, "request")[0]["scheduled_at"] == pytest.approx(0.1)
    assert rep.of(0, "request")[0]["scheduled_at"] == pytest.approx(2.0)
    hinted = v2.node.page(HILDENBRAND_PFN)
    assert hinted.hinted and hinted.head_page_type == ("Buddy", "Offline (PageHinted)")
    assert hinted.head_page_type_value == 0xFFFFFE7F
    assert "not recognised as free" in hinted.kdump_view
    reported = rep.node.page(HILDENBRAND_PFN)
    assert reported.reported and reported.head_page_type_value == 0xFFFFFF7F
    assert reported.head_flags == ("PG_uptodate (bit 2) = PG_reported",)
    assert "a free buddy page" in reported.kdump_view
    # The last block is never reported: isolating it would leave no page above min.
    (fail,) = rep.of(1, "isolate_fail")
    assert fail["pfn"] == 0 and "min watermark" in fail["reason"]
    assert "pfn 0x0" in sc.look_for and rep.node.zone("Normal").wmark_min == 0
    assert not rep.node.page(0).reported and len(rep.node.zone("Normal").flagged_heads()) == 31


# --- 11. buffer-reuse --------------------------------------------------------------------


def test_buffer_reuse_host_memory_falls_and_rises_with_the_refaults() -> None:
    r = run("buffer-reuse", watch=lambda n: (n.host.resident_pages, n.host.refaults))
    resident = [s[0] for s in r.seen]
    buffer = 160 << 9
    assert resident[1] == buffer  # the guest touched its buffer
    assert resident[4] == 0  # the reports of the idle stretch hand it all back
    assert resident[6] == buffer  # the reuse climbs again
    assert resident[-1] < buffer  # and the half freed at the end goes back again
    # The refaults of the reuse are exactly the discarded pages it touched again.
    refaults = sum(ref["pages"] for ref in r.of(6, "refault"))
    assert refaults == r.seen[6][1] - r.seen[5][1] > 0
    touched = [(a["pfn"], a["order"]) for a in r.of(6, "alloc")]
    sc = load("buffer-reuse")
    before = sc.node()
    runner = Runner()
    for op in sc.ops()[:6]:
        runner.apply(before, op)
    z = before.zone("Normal")
    discarded = sum(
        before.host.state_of(z, i) == DISCARDED
        for pfn, order in touched
        for i in range(pfn - z.start_pfn, pfn - z.start_pfn + (1 << order))
    )
    assert discarded == refaults


# --- 12. fragmentation -------------------------------------------------------------------


def frag_state(node: Node) -> dict[str, Any]:
    z = node.zone("Normal")
    return {
        "free": z.nr_free_pages,
        "u": [unusable_free_index(z.nr_free, k) for k in range(len(z.nr_free))],
        "top": max((k for k, n in enumerate(z.nr_free) if n), default=-1),
        "unmovable_pageblocks": list(z.pageblock_mt).count(0),
    }


def index_text(thousandths: int) -> str:
    return f"{thousandths // 1000}.{thousandths % 1000:03d}"


def test_fragmentation_really_fragments_and_says_so_in_numbers() -> None:
    r = run("fragmentation", watch=frag_state)
    pages = r.node.zone("Normal").spanned_pages
    pageblocks = pages >> 9
    phases = [n for n, op in enumerate(r.ops) if op["op"] == "phase"]
    plenty, full, pressure, bursts, pinned, dropped, epilogue, end = phases
    # Plenty of memory: the kernel pages are grouped in their own pageblocks.
    s = r.seen[plenty]
    text = r.said(plenty)
    assert f"{s['free']} of {pages} pages are free" in text
    assert f"{s['unmovable_pageblocks']} pageblocks Unmovable" in text
    assert f"{index_text(s['u'][9])} at order 9" in text and s["u"][9] < 100
    assert f"{index_text(s['u'][10])} at order 10" in text
    # Full: the fill stopped once at the boosted watermark, then took the rest.
    boosted = r.seen[full - 3]["free"]
    assert [e.kind for e in r.steps[full - 3]].count("watermark_boost") == 1
    assert f"held the last {boosted} pages back" in r.said(full)
    assert r.seen[full]["free"] == 0 and f"{r.seen[full]['free']} pages free" in r.said(full)
    assert r.seen[full]["unmovable_pageblocks"] == 0
    # Reclaim's holes are spread over every pageblock.
    frees = r.of(pressure - 1, "free")
    assert f"{r.seen[pressure]['free']} free pages as {len(frees)} holes of 32 KiB" in r.said(
        pressure
    )
    assert {f["pfn"] >> 9 for f in frees} == set(range(pageblocks))
    assert f"all {pageblocks} pageblocks" in r.said(pressure)
    # The first kernel page steals one pageblock's holes and boosts the watermarks.
    first = [e.kind for e in r.steps[pressure + 1]]
    assert first.count("fallback") == 1 and "watermark_boost" in first
    # Each burst of 32 steals the next pageblock, without claiming any.
    slab = [e for st in r.steps[pressure + 1 : pinned] for e in st]
    assert [e.kind for e in slab].count("fallback") == pageblocks
    assert not [e for e in slab if e.kind == "pageblock_retype"]
    assert "burst of 32" in r.said(bursts)
    allocs = [e.to_dict()["pfn"] for e in slab if e.kind == "alloc"]
    assert len(allocs) == 1 + 15 * 32 and {p >> 9 for p in allocs} == set(range(pageblocks))
    assert f"all {pageblocks} pageblocks" in r.said(pinned)
    assert r.seen[pinned]["unmovable_pageblocks"] == 0
    # Dropped: plenty free, nothing usable at orders 9 and 10.
    s = r.seen[dropped]
    percent = s["free"] * 100 // pages
    assert f"{s['free']} of {pages} pages ({percent} %) are free" in r.said(dropped)
    assert f"largest free block is order {s['top']}" in r.said(dropped)
    assert f"no free block above order {s['top']}" in r.scenario.look_for
    assert s["u"][0] == 0 and s["u"][9] == s["u"][10] == 1000
    assert "1.000 at orders 9 and 10, 0.000 at order 0" in r.said(dropped)
    debugfs = unusable_index_text([("Normal", r.node.zone("Normal").nr_free)])
    assert debugfs.startswith("Node 0, zone   Normal 0.000 ") and debugfs.endswith("1.000 1.000 \n")
    assert f"{index_text(r.seen[plenty]['u'][9])} at order 9" in r.said(dropped)
    # The epilogue's churn cannot undo it.
    assert all(st["u"][9] == 1000 for st in r.seen[epilogue:])
    assert f"{r.seen[end]['free']} of {pages} pages free on the buddy lists" in r.said(end)
    assert f"{r.node.pcps['Normal'].count} more on the per-cpu list" in r.said(end)


@pytest.mark.parametrize("name", ["buddy-basics", "head-or-tail", "migratetypes"])
def test_raw_buddy_lessons_run_without_per_cpu_lists_and_say_so(name: str) -> None:
    """Lessons about the buddy lists themselves turn the per-cpu lists off (order-0 pages
    must reach the buddy lists) and say so in their first chapter, with what a real
    kernel does with a single page instead."""
    sc = load(name)
    assert sc.config.get("pcp") is False and not sc.node().pcp_enabled
    first = next(op["text"] for op in sc.ops() if op["op"] == "phase")
    assert "per-cpu page lists are off" in first and "a real kernel" in first


def test_fragmentation_runs_with_per_cpu_lists() -> None:
    """Its kernel pages are single pages: as in a real kernel, they come through the
    per-cpu list (rmqueue_bulk refills it), and the lesson holds with it on."""
    r = run("fragmentation")
    assert r.node.pcp_enabled
    refills = [e for st in r.steps for e in st if e.kind == "pcp_refill"]
    assert refills and "per-cpu list (rmqueue_bulk)" in " ".join(
        op["text"] for op in r.ops if op["op"] == "phase"
    )


#: A chapter title: the phase's first words, up to a colon.
CHAPTER = re.compile(r"[A-Z0-9][^:.]{1,38}: \S")


@pytest.mark.parametrize("name", list(library()))
def test_every_phase_opens_a_chapter_with_a_title(name: str) -> None:
    ops = load(name).ops()
    phases = [op["text"] for op in ops if op["op"] == "phase"]
    assert len(phases) >= 2, f"{name}: a lesson has chapters"
    for text in phases:
        assert CHAPTER.match(text), f"{name}: {text!r} does not start with 'Title: '"
