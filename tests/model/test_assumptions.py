"""One test per [mem]/[inf] detail in ``allocator_model/kernel/assumptions.py``.

Each test shows the behaviour the assumption causes, so that changing the value (or
the rule) in assumptions.py makes exactly these tests say what changed.
"""

from __future__ import annotations

import pytest

from allocator_model import Node, ZoneSpec
from allocator_model.kernel import assumptions
from allocator_model.kernel import pcp as pcp_module


def test_every_assumption_has_a_test_here() -> None:
    names = {a.name for a in assumptions.ASSUMPTIONS}
    tested = {name[len("test_") :].upper() for name in globals() if name.startswith("test_")}
    assert names <= tested, f"assumptions without a test: {sorted(names - tested)}"
    assert all(a.tag in ("mem", "inf") for a in assumptions.ASSUMPTIONS)


def test_pcp_list_order() -> None:
    node = Node(
        zones=[ZoneSpec("N", 0, 1024)], pcp=True, pcp_batch=4, pcp_high=100, min_free_kbytes=0
    )
    first = node.alloc(0)
    pcp = node.pcps["N"]
    assert list(pcp.lists[1]) == [1, 2, 3]  # rmqueue_bulk kept the physical order
    node.free(first, 0)
    assert next(iter(pcp.lists[1])) == first  # frees push to the head
    node.drain_pcp()
    assert pcp.count == 0


def test_pcp_free_high_batch() -> None:
    node = Node(kernel="6.12", pcp=True, zones=[ZoneSpec("N", 0, 1 << 14)], min_free_kbytes=0)
    pcp = node.pcps["N"]
    assert pcp.flags & pcp_module.PCPF_FREE_HIGH_BATCH
    # free_high needs a batch on the lists: two order-1 frees (4 pages >= batch 3) do it
    pfns = [node.alloc(1) for _ in range(40)]
    node.drain_pcp()
    node.take_events()
    for pfn in pfns[:4]:
        node.free(pfn, 1)
    reasons = [e.to_dict()["reason"] for e in node.take_events() if e.kind == "pcp_drain"]
    assert reasons == ["consecutive high-order frees (free_high)"] * len(reasons) and reasons


def test_pcp_high_no_decay() -> None:
    node = Node(kernel="6.12")
    pcp = node.pcps["Normal"]
    node.alloc(0)
    raised = pcp.high
    assert raised > pcp.high_min
    node.advance(60)  # vmstat's decay_pcp_high would have lowered it by now
    assert pcp.high == raised


def test_pcp_cpu_round_robin() -> None:
    node = Node(kernel="6.12", cpus=3)
    a, b = node.alloc(0), node.alloc(0)  # CPU 0 then CPU 1: each refills its own list
    assert node.pcp_sets[0]["Normal"].count == node.pcp_sets[1]["Normal"].count
    assert node.pcp_sets[2]["Normal"].count == 0
    node.free(a, 0)  # CPU 2
    assert a - node.zone("Normal").start_pfn in node.pcp_sets[2]["Normal"].lists[1]
    assert b != a


def test_pcp_not_reported() -> None:
    node = Node(
        zones=[ZoneSpec("N", 0, 64 * 512)],
        pcp=True,
        pcp_batch=8,
        hinting="reporting",
        hinting_options={"order": 0},
        min_free_kbytes=0,
    )
    pfn = node.alloc(0)
    node.free(pfn, 0)
    node.advance(30)
    assert node.page(pfn).state == "pcp" and not node.page(pfn).reported


def test_fallback_rules() -> None:
    node = Node(zones=[ZoneSpec("N", 0, 2048)], min_free_kbytes=0)
    node.alloc(0, "Reclaimable")  # Reclaimable falls back to Unmovable, then Movable
    events = [e.to_dict() for e in node.take_events() if e.kind == "fallback"]
    assert events[0]["fallback_migratetype"] == "Movable"
    assert events[0]["current_order"] == 10  # the largest block first


def test_movable_pages_count() -> None:
    node = Node(zones=[ZoneSpec("N", 0, 1024)], min_free_kbytes=0, pageblock_order=9)
    z = node.zone("N")
    movable = [node.alloc(0, "Movable") for _ in range(300)]
    moved, counted = z.move_freepages_block(0, 0)
    assert counted == 300 and moved == 512 - 300
    del movable


def test_alloc_passes() -> None:
    node = Node(
        zones=[ZoneSpec("DMA32", 0, 1024), ZoneSpec("Normal", 1024, 1024)], min_free_kbytes=1024
    )
    normal = node.zone("Normal")
    while normal.nr_free_pages > normal.watermarks.low:
        node.alloc(0)
    assert node.zone_of(node.alloc(0)).name == "DMA32"  # low-watermark pass moves on


def test_nr_free_pages_on_alloc() -> None:
    node = Node(zones=[ZoneSpec("N", 0, 1024)], min_free_kbytes=0)
    node.alloc(3)
    assert node.zone("N").nr_free_pages == 1024 - 8


def test_pg_uptodate_bit() -> None:
    node = Node(zones=[ZoneSpec("N", 0, 64 * 512)], hinting="reporting", min_free_kbytes=0)
    node.advance(10)
    head = node.zone("N").flagged_heads()[0]
    assert node.page(head).head_flags == (
        f"PG_uptodate (bit {assumptions.PG_UPTODATE_BIT}) = PG_reported",
    )


def test_kdump_compares_value() -> None:
    node = Node(zones=[ZoneSpec("N", 0, 64 * 512)], hinting="hinting-v2", min_free_kbytes=0)
    node.advance(10)
    info = node.page(node.zone("N").flagged_heads()[0])
    assert "!= PAGE_BUDDY_MAPCOUNT_VALUE" in info.kdump_view


def test_report_latency() -> None:
    node = Node(zones=[ZoneSpec("N", 0, 64 * 512)], hinting="reporting", min_free_kbytes=0)
    node.advance(2.0)
    assert node.pending_work() == [
        (pytest.approx(2.0 + assumptions.REPORT_LATENCY_S), "reporting: drain")
    ]


def test_v2_suffix_only_while_active() -> None:
    node = Node(
        zones=[ZoneSpec("N", 0, 64 * 512)], hinting="hinting-v2", min_free_kbytes=0, kernel="5.10"
    )
    node.advance(1)
    z = node.zone("N")
    assert node.hinting_state()["active_zone"] is None
    # Outside a cycle a 5.10 tail move can put an unhinted block after hinted ones;
    # check() accepts it because the boundary only exists while ACTIVE.
    i = z.free_list(10, "Movable")[0]
    z.move_to_free_list(i, 10, 1)
    node.check()


def test_zone_gate_small_zones() -> None:
    node = Node(zones=[ZoneSpec("DMA", 1, 4095)], hinting="reporting")
    node.advance(60)
    assert not node.zone("DMA").flagged_heads()


def test_boot_free_without_notify() -> None:
    node = Node(zones=[ZoneSpec("N", 0, 64 * 512)], hinting="reporting", min_free_kbytes=0)
    requests = node.hinting_state()
    assert requests["pending"] == ["reporting: pass"]  # one pass, from registration only


def test_kswapd_boost_reset() -> None:
    node = Node(zones=[ZoneSpec("N", 0, 8192)], min_free_kbytes=0)
    z = node.zone("N")
    blocks = [node.alloc(9) for _ in range(16)]
    node.free(blocks[0], 9)
    node.alloc(0)  # the only free memory is now inside one Movable pageblock
    node.alloc(0, "Unmovable")  # steals from inside it: boost_watermark
    assert z.watermark_boost == 512
    node.advance(assumptions.KSWAPD_BOOST_RESET_S / 2)
    assert z.watermark_boost == 512
    node.advance(assumptions.KSWAPD_BOOST_RESET_S / 2)
    assert z.watermark_boost == 0 and z.wmark_low == z.watermarks.low
