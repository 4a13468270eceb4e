"""Hinting (v2) and reporting (merged): spec §2, §3 and §5 invariants 13-45."""

from __future__ import annotations

import contextlib
import copy
import json

import pytest

from allocator_model import ConfigError, InvariantViolation, Node, OutOfMemory, ZoneSpec
from allocator_model.kernel.pageflags import DUMP_READS

PB = 512  # pageblock pages


def reporting_zone(kernel: str = "5.10", **options: object) -> tuple[Node, list[int]]:
    """A 256-pageblock zone, every order-9 block allocated (touched), and those blocks."""
    node = Node(
        zones=[ZoneSpec("Normal", 0, 256 * PB)],
        hinting="reporting",
        kernel=kernel,
        min_free_kbytes=0,
        hinting_options=options,
    )
    return node, sorted(node.alloc(9) for _ in range(256))


def run_all_work(node: Node) -> list[tuple[float, str]]:
    done = []
    while node.pending_work():
        label = node.run_next_work()
        assert label is not None
        node.check()
        done.append((round(node.clock, 6), label))
    return done


def reports(node: Node) -> list[dict[str, object]]:
    return [e.to_dict() for e in node.take_events() if e.kind == "report"]


# --- merged reporting ------------------------------------------------------------------------


def test_scenario_43_budget_two_passes() -> None:
    node, blocks = reporting_zone()
    for pfn in blocks[0::2][:100]:
        node.free(pfn, 9)  # no two are buddies: every odd block stays allocated
    node.take_events()
    assert node.hinting_state()["state"] == "REQUESTED"
    assert node.pending_work() == [(2.0, "reporting: pass")]
    steps = run_all_work(node)
    batches = [len(r["blocks"]) for r in reports(node)]  # type: ignore[arg-type]
    assert batches == [32, 32, 32, 4]
    # Pass 1 at t=2 s hits the budget (ceil(100/512) = 1: two full calls) and asks again.
    assert [t for t, label in steps if label == "reporting: pass"] == [2.0, 4.002]
    assert node.hinting_state()["state"] == "IDLE"
    z = node.zone("Normal")
    assert len(z.flagged_heads()) == 100
    assert node.host.stats().pages_reported == 100 * PB


def test_reporting_requests_on_every_qualifying_free_and_waits_2s() -> None:
    node, blocks = reporting_zone()
    run_all_work(node)  # the registration pass finds nothing free
    assert node.hinting_state()["state"] == "IDLE"
    node.advance(5)
    due = node.clock + 2.0
    node.free(blocks[0], 9)
    assert node.pending_work() == [(due, "reporting: pass")]
    node.free(blocks[2], 9)  # already REQUESTED: nothing more is scheduled
    assert node.pending_work() == [(due, "reporting: pass")]
    node.free(node.alloc(8), 8)  # order 8 < page_reporting_order: no request either
    assert len(node.pending_work()) == 1


def test_zone_gate_skips_a_zone_near_its_low_watermark() -> None:
    node, blocks = reporting_zone()
    run_all_work(node)
    z = node.zone("Normal")
    gate = z.watermarks.low + (32 << 9)
    frees = gate // PB  # free order-9 blocks until just at the gate
    for pfn in blocks[0::2][:frees]:
        node.free(pfn, 9)
    assert z.nr_free_pages <= gate
    node.take_events()
    run_all_work(node)
    events = node.take_events()
    assert not any(e.kind == "report" for e in events)
    skip = next(e for e in events if e.kind == "zone_skip")
    assert "is not above the low watermark" in skip.message
    assert not z.flagged_heads()


def test_dma_is_never_reported_in_the_default_guest() -> None:
    node = Node(hinting="reporting", events=False)
    node.advance(120)
    assert node.hinting_state()["state"] == "IDLE"
    assert not node.zone("DMA").flagged_heads()
    normal = node.zone("Normal")
    assert len(normal.flagged_heads()) == normal.nr_free[9] + normal.nr_free[10]
    node.check()


@pytest.mark.parametrize(("kernel", "at_tail"), [("5.7", False), ("5.10", True)])
def test_putback_placement_by_kernel_version(kernel: str, at_tail: bool) -> None:
    node, blocks = reporting_zone(kernel=kernel)
    for pfn in blocks[0::2][:100]:
        node.free(pfn, 9)
    assert [node.run_next_work() for _ in range(3)] == [
        "reporting: pass",
        "reporting: report",
        "reporting: drain",
    ]
    z = node.zone("Normal")
    flags = [bool(z.flags[p]) for p in z.free_list(9, "Movable")]
    # Invariant 35: 5.10 puts reported blocks back at the tail (FPI_TO_TAIL); 5.7's
    # __putback_isolated_page used buddy_merge_likely, which sends order 9 to the head.
    expected = [False] * 68 + [True] * 32 if at_tail else [True] * 32 + [False] * 68
    assert flags == expected
    node.check()


def test_rotation_makes_the_first_unreported_block_the_head() -> None:
    node, blocks = reporting_zone(kernel="5.7")  # 5.7 puts order >= 9 blocks back at the head
    for pfn in blocks[0::2][:100]:
        node.free(pfn, 9)
    z = node.zone("Normal")
    before = z.free_list(9, "Movable")
    node.take_events()
    node.advance(2.0)  # batch 1: blocks 1-32; the 33rd is already the head: no rotation
    assert not any(e.kind == "rotate" for e in node.take_events())
    node.advance(0.001)  # drain (to the head) and batch 2: skip 32 reported, take 33-64
    rotate = next(e.to_dict() for e in node.take_events() if e.kind == "rotate")
    assert rotate["pfn"] == before[64]  # the first block not taken becomes the head
    lst = z.free_list(9, "Movable")
    assert lst[0] == before[64]
    # list_rotate_to_front keeps the cyclic order: 65..100, then the 32 reported ones.
    assert lst[: 100 - 64] == before[64:]
    node.check()


def test_drain_flags_only_blocks_that_did_not_merge() -> None:
    node, blocks = reporting_zone()
    a, b = blocks[0], blocks[1]  # buddies
    for pfn in blocks[2::2][:40]:
        node.free(pfn, 9)
    node.free(a, 9)  # at the head: in the first batch
    node.advance(2.0)  # pass 1 isolates 32 blocks and reports them (in flight)
    in_flight = {p for p, _ in node.hinting_state()["batch"]}
    assert a in in_flight
    node.free(b, 9)  # its buddy a is with the host: b cannot merge now
    assert node.zone("Normal").free_list(9, "Movable")[0] == b
    node.take_events()
    assert node.run_next_work() == "reporting: drain"  # a comes back and merges with b
    events = node.take_events()
    skip = next(e.to_dict() for e in events if e.kind == "flag_skip" and e.to_dict()["pfn"] == a)
    assert "merged into the order-10 block" in skip["reason"]
    z = node.zone("Normal")
    assert z.free_list(10, "Movable") == [min(a, b)]
    assert not z.flags[min(a, b) - z.start_pfn]
    node.check()
    run_all_work(node)
    assert z.flags[min(a, b) - z.start_pfn]  # reported again later, at order 10


def test_allocation_clears_reported_and_split_halves_are_unreported() -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 64 * PB)], hinting="reporting", min_free_kbytes=0)
    run_all_work(node)
    z = node.zone("Normal")
    # Every order-10 block but one: __isolate_free_page refuses the last, since taking
    # it would leave the zone at its min watermark (0 here) - invariant 32.
    assert len(z.flagged_heads()) == 31
    assert any(e.kind == "isolate_fail" for e in node.take_events())
    node.alloc(10)  # takes the unreported head
    head = z.free_list(10, "Movable")[0]
    assert z.flags[head]
    node.take_events()
    assert node.alloc(9) == head
    kinds = [e.kind for e in node.take_events()]
    assert "flag_clear" in kinds
    assert not z.flags[head + PB]  # the split-off order-9 half is unreported
    assert node.pending_work() == []  # allocation does not request a pass
    node.check()


@pytest.mark.parametrize(("hinting", "kept"), [("reporting", True), ("hinting-v2", False)])
def test_move_to_free_list_keeps_reported_but_clears_hinted(hinting: str, kept: bool) -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 64 * PB)], hinting=hinting, min_free_kbytes=0)
    node.advance(10)
    z = node.zone("Normal")
    i = z.free_list(10, "Movable")[1]
    assert z.flags[i]
    flagged = z.flagged_count(10, "Movable")
    assert flagged == sum(1 for p in z.free_list(10, "Movable") if z.flags[p]) > 1
    z.move_to_free_list(i, 10, 0)  # what a pageblock steal does (move_to_free_list)
    assert bool(z.flags[i]) is kept
    assert i in z.free_list(10, "Unmovable")
    # The per-list counts follow the block (reporting) or lose it (v2: the hint is gone).
    assert z.flagged_count(10, "Movable") == flagged - 1
    assert z.flagged_count(10, "Unmovable") == int(kept)
    assert z.flagged_per_order()[10] == flagged - 1 + int(kept)
    if hinting == "hinting-v2":
        hinted = node.hinting_state()["zones"]["Normal"]["hinted_pages"]
        assert z.flagged_per_order()[9:] == hinted
    node.check()  # which recounts every list's flagged blocks


def test_a_stale_flagged_count_is_an_invariant_violation() -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 64 * PB)], hinting="reporting", min_free_kbytes=0)
    node.advance(10)
    z = node.zone("Normal")
    z.flagged_counts[10 * z.nr_mt + 1] += 1
    with pytest.raises(InvariantViolation, match="order-10 Movable list holds 31 flagged"):
        node.check()


def test_idle_convergence_then_stays_idle() -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 1 << 18)], hinting="reporting", seed=3)
    live = []
    for k in range(3000):
        order = node.random.choice([0, 0, 1, 3, 9, 10])
        with contextlib.suppress(OutOfMemory):
            live.append((node.alloc(order), order))
        if k % 2 == 0:
            pfn, o = live.pop(node.random.randrange(len(live)))
            node.free(pfn, o)
    for pfn, o in live:
        node.free(pfn, o)
    node.advance(600)
    assert node.hinting_state()["state"] == "IDLE"
    z = node.zone("Normal")
    assert len(z.flagged_heads()) == z.nr_free[9] + z.nr_free[10]
    calls = node.host.report_calls
    node.advance(600)
    assert node.host.report_calls == calls  # invariant 39: idle stays idle
    node.check()


def test_host_accounting_discard_and_refault() -> None:
    node, blocks = reporting_zone()
    pfn = blocks[0]
    host = node.host
    assert host.resident_pages == 256 * PB  # every block was touched when allocated
    for p in blocks[0::2][:40]:
        node.free(p, 9)
    run_all_work(node)
    assert host.discarded_pages == 40 * PB
    assert host.resident_pages == 216 * PB
    assert node.page(pfn).host == "discarded"
    again = node.alloc(9)  # takes a reported block: its pages refault on touch
    assert host.refaults == PB
    assert node.page(again).host == "resident"
    node.free(again, 9)
    run_all_work(node)
    assert host.discarded_pages == 41 * PB
    # Reporting a block that is not resident frees nothing new.
    untouched = node.alloc(9, touch=False)
    node.free(untouched, 9)
    before = host.discarded_pages
    run_all_work(node)
    assert host.discarded_pages == before


def test_reporting_needs_5_7() -> None:
    with pytest.raises(ConfigError, match=r"merged in Linux 5\.7"):
        Node(zones=[ZoneSpec("Normal", 0, 4096)], hinting="reporting", kernel="5.3")


# --- v2 hinted pages ---------------------------------------------------------------------


def v2_zone() -> tuple[Node, list[int]]:
    node = Node(zones=[ZoneSpec("Normal", 0, 256 * PB)], hinting="hinting-v2", min_free_kbytes=0)
    node.advance(1.0)  # the startup flush hints the boot blocks
    blocks = sorted(node.alloc(9) for _ in range(256))
    node.check()
    return node, blocks


def test_scenario_45_threshold_and_cycle_order() -> None:
    node, blocks = v2_zone()
    frees = blocks[0::2]
    for pfn in frees[:31]:
        node.free(pfn, 9)
    assert node.pending_work() == []  # 31 unhinted order-9 blocks: no request
    assert not node.hinting_state()["zones"]["Normal"]["requested"]
    node.free(frees[31], 9)
    assert node.hinting_state()["zones"]["Normal"]["requested"]
    assert node.pending_work() == [(pytest.approx(1.1), "hinting: process")]
    for pfn in frees[32:40]:
        node.free(pfn, 9)
    z = node.zone("Normal")
    listed = z.free_list(9, "Movable")  # U1..U40 head -> tail
    node.take_events()
    run_all_work(node)
    events = node.take_events()
    taken = [e.to_dict()["pfn"] for e in events if e.kind == "isolate"]
    position = {pfn: k + 1 for k, pfn in enumerate(listed)}
    assert [position[p] for p in taken] == list(range(40, 0, -1))  # U40..U9, then U8..U1
    assert [len(e.to_dict()["blocks"]) for e in events if e.kind == "report"] == [32, 8]
    assert not node.hinting_state()["zones"]["Normal"]["requested"]
    assert z.free_list(9, "Movable") == listed  # all hinted, same order
    assert node.hinting_state()["zones"]["Normal"]["hinted_pages"] == [40, 0]


def test_v2_boundary_keeps_hinted_blocks_at_the_tail_while_active() -> None:
    node, blocks = v2_zone()
    frees = blocks[0::2]
    for pfn in frees[:64]:
        node.free(pfn, 9)
    node.advance(0.1)  # the cycle starts: first batch isolated
    node.advance(0.001)  # drain: 32 hinted, the boundary moved
    state = node.hinting_state()
    assert state["active_zone"] == "Normal"
    boundary = state["boundaries"][9]["Movable"]
    z = node.zone("Normal")
    lst = z.free_list(9, "Movable")
    pos = lst.index(boundary)
    assert not any(z.flags[p] for p in lst[:pos]) and all(z.flags[p] for p in lst[pos:])
    # A tail insert while ACTIVE lands just before the boundary (get_unhinted_tail).
    node.take_events()
    node.free(node.alloc(0), 0)
    node.check()  # invariant 18 holds
    # Allocation takes the unhinted head first (warm pages reused first, invariant 23).
    taken = node.alloc(9)
    assert not z.flags[taken] and taken == lst[0]


def test_free_list_index_walks_to_the_nearer_end() -> None:
    node, blocks = v2_zone()
    frees = blocks[0::2]
    for pfn in frees[:64]:
        node.free(pfn, 9)
    node.advance(1.0)  # all 64 hinted
    for pfn in frees[64:84]:
        node.free(pfn, 9)  # 20 unhinted ones join them
    z = node.zone("Normal")
    lst = z.free_list(9, "Movable")
    assert 0 < sum(1 for p in lst if z.flags[p]) < len(lst)
    for k, pfn in enumerate(lst):
        flagged_in_front = sum(1 for p in lst[:k] if z.flags[p])
        before = lst[k - 1] if k else None
        after = lst[k + 1] if k + 1 < len(lst) else None
        got = z.free_list_index(9, "Movable", pfn, len(lst))
        assert got == (k, flagged_in_front, before, after)
    with pytest.raises(ValueError, match="not a free order-10 block"):
        z.free_list_index(10, "Movable", lst[0], len(lst))
    with pytest.raises(ValueError, match="is on the Movable list"):
        z.free_list_index(9, "Unmovable", lst[0], len(lst))


def test_v2_allocating_a_hinted_block_advances_the_boundary() -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 64 * PB)], hinting="hinting-v2", min_free_kbytes=0)
    node.advance(1.0)
    z = node.zone("Normal")
    state = node.hinting_state()
    assert state["zones"]["Normal"]["hinted_pages"] == [0, 32]
    assert node.pending_work() == []
    node.take_events()
    pfn = node.alloc(10)
    clear = next(e.to_dict() for e in node.take_events() if e.kind == "flag_clear")
    assert clear["pfn"] == pfn and clear["flag"] == "hinted"
    assert node.hinting_state()["zones"]["Normal"]["hinted_pages"] == [0, 31]
    node.check()
    del z


def test_v2_merge_clears_hint_and_counter() -> None:
    node, blocks = v2_zone()
    a, b = blocks[0], blocks[1]
    for pfn in blocks[0::2][:32]:
        node.free(pfn, 9)
    run_all_work(node)
    z = node.zone("Normal")
    assert z.flags[a]
    node.take_events()
    node.free(b, 9)  # merges with the hinted a: the result is an unhinted order-10 block
    kinds = [e.kind for e in node.take_events()]
    assert kinds.index("flag_clear") < kinds.index("merge")
    assert not z.flags[min(a, b)] and z.buddy_order[min(a, b)] == 11
    assert node.hinting_state()["zones"]["Normal"]["hinted_pages"] == [31, 0]
    node.check()


# --- Hildenbrand's objection, constants, determinism -----------------------------------------


def test_page_bits_show_the_page_type_objection() -> None:
    v2 = Node(zones=[ZoneSpec("Normal", 0, 64 * PB)], hinting="hinting-v2", min_free_kbytes=0)
    rep = Node(zones=[ZoneSpec("Normal", 0, 64 * PB)], hinting="reporting", min_free_kbytes=0)
    v2.advance(10)
    rep.advance(10)
    hinted = v2.page(v2.zone("Normal").flagged_heads()[0] + 5)
    reported = rep.page(rep.zone("Normal").flagged_heads()[0] + 5)
    assert hinted.hinted and reported.reported
    assert hinted.head_page_type == ("Buddy", "Offline (PageHinted)")
    assert hinted.head_page_type_value == 0xFFFFFE7F
    assert "not recognised as free" in hinted.kdump_view
    assert reported.head_page_type == ("Buddy",)
    assert reported.head_page_type_value == 0xFFFFFF7F
    assert any("PG_uptodate" in f for f in reported.head_flags)
    assert "a free buddy page" in reported.kdump_view
    assert "dump" in reported.kdump_view and "host" not in reported.kdump_view  # left out
    # A page written into the dump: what reading it does follows the frame's host state.
    assert hinted.host == "not backed"  # a fresh guest never touched it, so nothing to discard
    assert hinted.kdump_view.endswith(DUMP_READS["not backed"])
    taken = []  # every block: an allocation touches its pages (resident, in the dump)
    with contextlib.suppress(OutOfMemory):
        while True:
            taken.append(v2.alloc(10))
    assert v2.page(taken[0] + 1).kdump_view.endswith(DUMP_READS["resident"])
    for pfn in taken:
        v2.free(pfn, 10)
    v2.advance(10)  # hinted again, and the host discards the resident pages
    again = v2.page(taken[0])
    assert again.hinted and again.host == "discarded"
    assert again.kdump_view.endswith(DUMP_READS["discarded"])
    assert v2.page(taken[0] + 1).kdump_view.endswith(DUMP_READS["discarded"])


def test_constants_are_configurable_and_marked() -> None:
    node = Node(
        zones=[ZoneSpec("Normal", 0, 256 * PB)],
        hinting="hinting-v2",
        hinting_options={"hwm": 4, "capacity": 8},
        min_free_kbytes=0,
    )
    rows = {r["name"]: r for r in node.hinting_state()["constants"]}
    assert rows["hwm"] == {
        "name": "hwm",
        "value": 4,
        "kernel": 32,
        "is_kernel": False,
        "modelled": False,
    }
    assert rows["delay_s"]["is_kernel"] and rows["min_order"]["value"] == 9
    assert rows["report_latency_s"]["modelled"]
    node.advance(1)
    batches = [len(r["blocks"]) for r in reports(node)]  # type: ignore[arg-type]
    assert batches and max(batches) == 8
    with pytest.raises(ConfigError, match="unknown hinting-v2 option"):
        Node(zones=[ZoneSpec("N", 0, 4096)], hinting="hinting-v2", hinting_options={"hwn": 4})
    with pytest.raises(ConfigError, match="power of two"):
        Node(zones=[ZoneSpec("N", 0, 4096)], hinting="reporting", hinting_options={"capacity": 12})


@pytest.mark.parametrize("hinting", ["hinting-v2", "reporting"])
def test_deepcopy_replays_identically(hinting: str) -> None:
    node = Node(zones=[ZoneSpec("Normal", 0, 1 << 16)], hinting=hinting, seed=5)
    live = [(node.alloc(k % 10), k % 10) for k in range(60)]
    for pfn, order in live[::2]:
        node.free(pfn, order)
    node.advance(0.05)
    twin = copy.deepcopy(node)
    for n in (node, twin):
        n.take_events()
        for pfn, order in live[1::2]:
            n.free(pfn, order)
        n.advance(30)
        n.check()
    a = [json.dumps(e.to_dict()) for e in node.take_events()]
    b = [json.dumps(e.to_dict()) for e in twin.take_events()]
    assert a == b and any('"report"' in line for line in a)


def test_v2_work_queued_while_the_worker_runs_waits_for_it() -> None:
    # A slow host (0.5 s per batch) so that a new request's 100 ms work item comes due
    # while the worker is still waiting for the host: it must not start a second cycle.
    node = Node(
        zones=[ZoneSpec("Normal", 0, 256 * PB)],
        hinting="hinting-v2",
        hinting_options={"report_latency_s": 0.5},
        min_free_kbytes=0,
    )
    node.advance(5)
    blocks = sorted(node.alloc(9) for _ in range(256))
    for pfn in blocks[0:80:2]:  # 40 blocks: a full batch, then 8 that clear REQUESTED
        node.free(pfn, 9)
    while node.hinting_state()["refcnt"]:  # run until the underflowing fill
        node.run_next_work()
        node.check()
    assert node.hinting_state()["phase"] == "report"
    for pfn in blocks[80:144:2]:  # 32 more: requests again while the batch is out
        node.free(pfn, 9)
    assert node.hinting_state()["refcnt"] == 1
    for _ in range(200):
        if node.run_next_work() is None:
            break
        node.check()
    state = node.hinting_state()
    assert state["phase"] == "idle" and state["refcnt"] == 0
    assert state["zones"]["Normal"]["hinted_pages"] == [72, 0]


def test_v2_second_cycle_starts_with_hinted_blocks_in_front_of_the_boundary() -> None:
    # Found by Hypothesis: a new cycle resets every boundary to its list head while the
    # blocks hinted by the first cycle stay on the lists (page_hinting_populate_metadata).
    # get_unhinted_page sees a hinted tail, falls back to the head, and the block it puts
    # back becomes the boundary with the older hinted blocks in front of it.
    node = Node(
        zones=[ZoneSpec("Normal", 1, 64)],
        hinting="hinting-v2",
        hinting_options={"capacity": 1, "min_order": 2, "hwm": 1},
        kernel="5.7",
        min_free_kbytes=0,
        max_order=6,
        pageblock_order=2,
    )
    node.advance(0.104)
    z = node.zone("Normal")
    pfn = node.alloc(0, "Unmovable")
    node.free(pfn, 0)  # an unhinted order-5 block requests a second cycle
    old = {p for k in range(2, 6) for p in z.free_list(k, "Movable") if z.flags[p - 1]}
    assert old == {4, 8, 16}  # hinted by the first cycle
    while node.hinting_state()["phase"] != "idle" or node.pending_work():
        node.run_next_work()
        node.check()
    assert z.flags[32 - 1] and all(z.flags[p - 1] for p in old)
