"""Issue 12: the defaults, reserves and numbers of a real 5.x kernel.

Each test names the kernel release(s), the file and the function whose rule it checks;
the numbers are the ones those functions compute (read in the 5.3.1, 5.7.14 and 5.10.7
trees).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fingerprint import fingerprint

from allocator_model import ConfigError, InvalidFree, Node, OutOfMemory, ZoneSpec
from allocator_model.kernel.config import kernel_rules
from allocator_model.kernel.pcp import PerCpuPages, zone_batchsize
from allocator_model.kernel.watermarks import boosted, default_min_free_kbytes
from allocator_model.lab.compare import compare, what_if_notes

KERNELS = ("5.3", "5.7", "5.10")


# --- point 1: pcp batch and high ------------------------------------------------------


@pytest.mark.parametrize("kernel", KERNELS)
def test_pcp_batch_caps_at_one_meg(kernel: str) -> None:
    """5.3/5.7/5.10 mm/page_alloc.c zone_batchsize ("But no more than a meg") and
    pageset_set_batch (high = 6 * batch): a large zone gets batch 63 and high 378."""
    assert zone_batchsize(772848) == 63  # this VM's DMA32 (managed pages)
    assert zone_batchsize(262144) == 63  # 1 GiB: 256 pages is exactly the 1 MiB cap
    assert zone_batchsize(131072) == 31  # 512 MiB: 128 / 4 = 32 -> rounddown(48) - 1
    node = Node(kernel=kernel, pcp=True, events=False)
    pcp = node.pcps["Normal"]
    assert (pcp.batch, pcp.high) == (63, 378)
    # A 16 MiB DMA zone: 3840 / 1024 / 4 = 0 -> 1 -> rounddown_pow_of_two(1) - 1 = 0, so
    # pageset_set_batch(0) leaves high 0 and batch max(1, 0) = 1 (this VM: high 0, batch 1).
    dma = PerCpuPages(3840)
    assert (dma.batch, dma.high) == (1, 0)


def test_one_order0_allocation_takes_a_batch_of_63() -> None:
    """5.x mm/page_alloc.c rmqueue_bulk: an empty pcp list is refilled with ``batch``
    pages, so one order-0 allocation takes 63 pages from the buddy lists."""
    node = Node(zones=[ZoneSpec("Normal", 0, 262144)], pcp=True, min_free_kbytes=0)
    before = node.nr_free_pages()
    node.alloc(0)
    assert before - node.nr_free_pages() == 63
    assert node.pcps["Normal"].count == 62


# --- point 2: ALLOC_NOFRAGMENT on a single node ------------------------------------------


@pytest.mark.parametrize("kernel", KERNELS)
def test_nofragment_on_a_normal_only_node(kernel: str) -> None:
    """5.3/5.7/5.10 mm/page_alloc.c alloc_flags_nofragment: on one node (nr_online_nodes
    == 1) ALLOC_NOFRAGMENT is set whenever Normal is the preferred zone, DMA32 or not.

    A Normal-only node whose free memory is only single Movable pages: an Unmovable
    request's first pass over the zonelist carries the flag, so __rmqueue_fallback
    searches only from pageblock_order up and finds nothing; get_page_from_freelist
    retries without it, and the second pass steals a page.
    """
    node = Node(zones=[ZoneSpec("Normal", 0, 4096)], min_free_kbytes=0, kernel=kernel, pcp=False)
    held = [node.alloc(0) for _ in range(4096)]
    for pfn in held[0:64:4]:
        node.free(pfn, 0)  # sixteen single Movable pages, no two of them buddies
    node.events.clear()
    node.alloc(0, "Unmovable")
    kinds = [e.kind for e in node.events]
    assert kinds[:2] == ["zone_skip", "fallback"]
    assert "ALLOC_NOFRAGMENT" in node.events[0].to_dict()["reason"]
    assert kinds[-1] == "alloc"


@pytest.mark.parametrize("kernel", KERNELS)
def test_a_high_order_request_with_no_block_fails_the_watermark_first(kernel: str) -> None:
    """5.3/5.7/5.10 mm/page_alloc.c __zone_watermark_ok ("For a high-order request,
    check at least one suitable page is free"; 5.3.1 line 3439, 5.10.7 line 3635) and
    get_page_from_freelist, which skips a zone that fails it without calling rmqueue.

    The issue said an order-10 Unmovable request on a Normal-only node with only order-9
    Movable blocks re-types those pageblocks first (5.x's __rmqueue_fallback, under
    ALLOC_NOFRAGMENT, searches down to pageblock_order).  The kernel never gets there:
    with no free block of order >= 10 on an Unmovable, Movable or Reclaimable list the
    watermark check fails, and the request fails with the node unchanged.
    """
    node = Node(zones=[ZoneSpec("Normal", 0, 4096)], min_free_kbytes=0, kernel=kernel)
    held = [node.alloc(9) for _ in range(8)]
    for pfn in held[::2]:
        node.free(pfn, 9)  # four order-9 Movable blocks, no two of them buddies
    before = fingerprint(node)
    with pytest.raises(OutOfMemory, match="no free block of order >= 10"):
        node.alloc(10, "Unmovable")
    assert fingerprint(node) == before
    z = node.zone("Normal")
    assert list(z.pageblock_mt) == [1] * 8  # all still Movable


def test_nofragment_needs_normal_preferred() -> None:
    """alloc_flags_nofragment returns early unless zone_idx(preferred) == ZONE_NORMAL."""
    node = Node(zones=[ZoneSpec("DMA32", 0, 4096)], min_free_kbytes=0)
    held = [node.alloc(9) for _ in range(8)]
    for pfn in held[::2]:
        node.free(pfn, 9)
    with pytest.raises(OutOfMemory):
        node.alloc(10, "Unmovable")
    assert list(node.zone("DMA32").pageblock_mt) == [1] * 8  # nothing re-typed


# --- point 3: the min_free_kbytes clamp --------------------------------------------------


def test_min_free_kbytes_clamp_per_kernel() -> None:
    """mm/page_alloc.c init_per_zone_wmark_min: int_sqrt(lowmem_kbytes * 16) clamped to
    [128, 65536] in 5.3.1 and to [128, 262144] in 5.7.14 and 5.10.7."""
    assert default_min_free_kbytes(1, 65536) == 128
    big = 1 << 31  # 8 TiB of lowmem: int_sqrt(2**37) = 370727 KiB, above both ceilings
    assert default_min_free_kbytes(big, kernel_rules("5.3").min_free_kbytes_max) == 65536
    assert default_min_free_kbytes(big, kernel_rules("5.7").min_free_kbytes_max) == 262144
    assert default_min_free_kbytes(big, kernel_rules("5.10").min_free_kbytes_max) == 262144
    # Below the ceilings the three agree: 4 GiB of lowmem gives 8192 KiB (the table in
    # init_per_zone_wmark_min's comment).
    assert default_min_free_kbytes(1 << 20, 65536) == 8192


# --- point 6: lowmem_reserve -------------------------------------------------------------


@pytest.mark.parametrize("kernel", KERNELS)
def test_lowmem_reserve_of_the_default_guest(kernel: str) -> None:
    """5.3/5.7/5.10 mm/page_alloc.c setup_per_zone_lowmem_reserve with
    sysctl_lowmem_reserve_ratio {DMA 256, DMA32 256, Normal 32}: on the 4 GiB guest DMA
    is protected by (782336 + 262144) / 256 = 4080 pages against Normal requests and
    DMA32 by 262144 / 256 = 1024."""
    node = Node(kernel=kernel, events=False)
    dma, dma32, normal = node.zones
    assert dma.lowmem_reserve == [0, 782336 // 256, 4080]
    assert dma32.lowmem_reserve == [0, 0, 1024]
    assert normal.lowmem_reserve == [0, 0, 0]


@pytest.mark.parametrize("kernel", KERNELS)
def test_movable_requests_leave_the_lower_zones_their_reserve(kernel: str) -> None:
    """5.x get_page_from_freelist -> zone_watermark_fast / __zone_watermark_ok: the mark
    of each zone in the walk is its watermark plus lowmem_reserve[classzone_idx], so
    Movable requests preferring Normal stop 4080 pages above DMA's min and 1024 above
    DMA32's."""
    zones = [
        ZoneSpec("DMA", 1, 4095),
        ZoneSpec("DMA32", 4096, 61440),
        ZoneSpec("Normal", 65536, 8192),
    ]
    node = Node(kernel=kernel, zones=zones, events=False, min_free_kbytes=1024)
    with pytest.raises(OutOfMemory) as failure:
        while True:
            node.alloc(0)
    dma, dma32, _ = node.zones
    assert dma.nr_free_pages == dma.watermarks.min + dma.lowmem_reserve[2]
    assert dma32.nr_free_pages == dma32.watermarks.min + dma32.lowmem_reserve[2]
    assert dma.lowmem_reserve[2] == (61440 + 8192) // 256
    assert "lowmem_reserve 272 against Normal requests" in str(failure.value)
    # A request that prefers DMA itself (GFP_DMA) may still take DMA down to its min.
    while True:
        try:
            node.alloc(0, zone="DMA")
        except OutOfMemory:
            break
    assert dma.nr_free_pages == dma.watermarks.min


# --- point 9: managed versus spanned -----------------------------------------------------


@pytest.mark.parametrize("kernel", KERNELS)
def test_absent_ranges_are_not_managed(kernel: str) -> None:
    """mm/page_alloc.c zone_managed_pages / __setup_per_zone_wmarks: a zone spans holes
    and memblock reservations, and its watermarks follow the managed pages (this VM's DMA:
    3840 managed of 4095 spanned)."""
    spec = ZoneSpec("DMA", 1, 4095, absent=((1, 158), (3999, 97)))
    node = Node(kernel=kernel, zones=[spec, ZoneSpec("Normal", 4096, 8192)], min_free_kbytes=1024)
    dma = node.zone("DMA")
    assert (dma.spanned_pages, dma.managed_pages) == (4095, 3840)
    assert dma.nr_free_pages == 3840
    assert dma.watermarks.min == 256 * 3840 // (3840 + 8192)
    assert node.page(1).state == "allocated" and node.page(3998).state == "free"
    node.check()
    with pytest.raises(InvalidFree, match="absent from zone DMA"):
        node.free(4000, 0)


@pytest.mark.parametrize(
    "absent",
    [((0, 10),), ((100, 0),), ((200, 10), (100, 10)), ((10, 5000),), [(10, 5)], ((0, 4095),)],
)
def test_bad_absent_ranges_are_refused(absent: object) -> None:
    with pytest.raises(ConfigError):
        Node(zones=[ZoneSpec("DMA", 1, 4095, absent=absent)])  # type: ignore[arg-type]


# --- point 7: THP's recommended min_free_kbytes ----------------------------------------


@pytest.mark.parametrize("kernel", KERNELS)
def test_thp_raises_min_free_kbytes_of_the_default_guest(kernel: str) -> None:
    """5.3/5.7/5.10 mm/khugepaged.c set_recommended_min_free_kbytes: with THP enabled,
    2 + MIGRATE_PCPTYPES**2 = 11 pageblocks per populated zone: 3 * 11 * 512 pages =
    67584 KiB for a three-zone guest (this VM's /proc/sys/vm/min_free_kbytes)."""
    node = Node(kernel=kernel, events=False)
    assert node.thp and node.min_free_kbytes == 67584
    normal = node.zone("Normal")
    assert normal.watermarks.min == 16896 * 262144 // (4095 + 782336 + 262144)
    without = Node(kernel=kernel, thp=False, events=False)
    assert without.min_free_kbytes == 8191  # init_per_zone_wmark_min: int_sqrt(4 GiB * 16)
    assert without.zone("Normal").watermarks.low < normal.watermarks.low
    # Hand-made zones run without THP unless asked; the 5 % cap of nr_free_buffer_pages
    # keeps a small zone's reserve small.
    small = [ZoneSpec("Normal", 0, 65536)]
    plain = Node(kernel=kernel, zones=small, events=False)
    assert plain.min_free_kbytes == 2048  # int_sqrt(256 MiB * 16)
    capped = (65536 - plain.zone("Normal").watermarks.high) // 20 * 4  # < 11 pageblocks
    with_thp = Node(kernel=kernel, zones=small, thp=True, events=False)
    assert with_thp.min_free_kbytes == capped == 12952
    # The reporting gate (low_wmark_pages) moves with it.
    assert normal.wmark_low == normal.watermarks.low


# --- point 8: watermark boosting -----------------------------------------------------------


def _steal_inside_a_pageblock(node: Node, zone: str) -> None:
    """Leave ``zone`` with free memory only inside one Movable pageblock (every other
    pageblock allocated whole, one page of the last free one taken), then ask for an
    Unmovable page: __rmqueue_fallback has to steal below pageblock_order."""
    while True:
        try:
            node.alloc(9, zone=zone)
        except OutOfMemory:
            break
    node.alloc(0, zone=zone)
    assert node.zone(zone).nr_free[9] == 0
    node.alloc(0, "Unmovable", zone=zone)


@pytest.mark.parametrize("kernel", KERNELS)
def test_boost_watermark_on_a_steal_inside_a_pageblock(kernel: str) -> None:
    """5.3/5.7/5.10 mm/page_alloc.c steal_suitable_fallback -> boost_watermark: a steal
    of less than a pageblock raises the boost by pageblock_nr_pages, at most
    max(pageblock, high * watermark_boost_factor (15000) / 10000); min/low/high and so
    the reporting gate (low_wmark_pages) include it."""
    node = Node(zones=[ZoneSpec("Normal", 0, 16384)], kernel=kernel, min_free_kbytes=1024)
    z = node.zone("Normal")
    high = z.watermarks.high
    _steal_inside_a_pageblock(node, "Normal")
    assert z.watermark_boost == 512
    assert (z.wmark_min, z.wmark_low, z.wmark_high) == (
        z.watermarks.min + 512,
        z.watermarks.low + 512,
        z.watermarks.high + 512,
    )
    kinds = [e.kind for e in node.take_events()]
    assert "watermark_boost" in kinds
    # A second steal stops at max(pageblock, high * 15000 / 10000) = 576 pages.
    assert high == 384
    assert boosted(512, high, 16384, 9, small_zone_check=True) == 576
    z.boost_watermark()  # what steal_suitable_fallback calls on that second steal
    assert z.watermark_boost == 576 and z.wmark_low == z.watermarks.low + 576
    z.boost_watermark()
    assert z.watermark_boost == 576


@pytest.mark.parametrize("kernel", ("5.7", "5.10"))
def test_a_boost_raises_the_reporting_gate(kernel: str) -> None:
    """5.7/5.10 mm/page_reporting.c page_reporting_process_zone: a zone is scanned only
    while its free pages stay above low_wmark_pages(zone) + (PAGE_REPORTING_CAPACITY <<
    order), and low_wmark_pages includes the watermark boost (include/linux/mmzone.h).
    A boost still in force when the pass runs (the model's kswapd clears it 100 ms after
    the last steal; here it is set by hand) keeps a 256 MiB zone from being reported."""
    reported = {}
    for boost in (0, 50000):
        node = Node(
            zones=[ZoneSpec("Normal", 0, 65536)], kernel=kernel, hinting="reporting",
            min_free_kbytes=1024,
        )  # fmt: skip
        z = node.zone("Normal")
        node.free(node.alloc(10), 10)  # page_reporting_notify_free: a pass in 2 s
        z.set_watermark_boost(boost)
        node.take_events()
        node.advance(3.0)
        skips = [
            e.to_dict() for e in node.take_events()
            if e.kind == "zone_skip" and e.to_dict()["fn"] == "page_reporting_process_zone"
        ]  # fmt: skip
        gate = z.watermarks.low + boost + (32 << 9)
        assert [e["mark_pages"] for e in skips] == ([gate] if gate >= 65536 else [])
        reported[boost] = node.host.stats().pages_reported
    assert reported == {0: 65536, 50000: 0}


def test_boost_skips_small_zones_from_5_7() -> None:
    """boost_watermark: 5.7.14 and 5.10.7 return early when pageblock_nr_pages * 4 >
    zone_managed_pages; 5.3.1 has no such test."""
    for kernel, boost in (("5.3", 512), ("5.7", 0), ("5.10", 0)):
        node = Node(zones=[ZoneSpec("Normal", 0, 2000)], kernel=kernel, min_free_kbytes=128)
        _steal_inside_a_pageblock(node, "Normal")
        assert node.zone("Normal").watermark_boost == boost, kernel


def test_no_boost_for_whole_pageblock_steals() -> None:
    """steal_suitable_fallback: orders >= pageblock_order change the pageblock range and
    return before boost_watermark."""
    node = Node(zones=[ZoneSpec("Normal", 0, 16384)], min_free_kbytes=1024)
    node.alloc(0, "Unmovable")
    assert node.zone("Normal").watermark_boost == 0


# --- acceptance: this VM's /proc/zoneinfo ---------------------------------------------------

RECORDED_ZONEINFO = Path(__file__).parent / "data" / "zoneinfo.txt"  # this VM, THP madvise


def _parse_zoneinfo(text: str) -> dict[str, dict[str, Any]]:
    """Node 0's zones: sizes, watermarks (without the boost), protection, cpu 0's pcp,
    the number of CPUs with a pageset."""
    zones: dict[str, dict[str, Any]] = {}
    zone: dict[str, Any] = {}
    for line in text.splitlines():
        words = line.split()
        if line.startswith("Node "):
            if words[1] != "0,":
                break
            zone = zones[words[3]] = {}
        elif words[:2] == ["pages", "free"]:
            zone["free"] = int(words[2])
        elif len(words) == 2 and words[0] in (
            "boost",
            "min",
            "low",
            "high",
            "spanned",
            "present",
            "managed",
        ):
            zone[words[0]] = int(words[1])
        elif words and words[0] == "protection:":
            zone["protection"] = [int(w.strip("(),")) for w in words[1:]]
        elif words[:1] in (["high:"], ["batch:"], ["high_min:"], ["high_max:"]) and (
            words[0][:-1] not in zone.get("pcp", {})
        ):
            zone.setdefault("pcp", {})[words[0][:-1]] = int(words[1])
        elif words[:1] == ["cpu:"]:
            zone["cpus"] = zone.get("cpus", 0) + 1
        elif words and words[0] == "start_pfn:":
            zone["start_pfn"] = int(words[1])
    return zones


def _zoneinfo_sources() -> list[str]:
    sources = [RECORDED_ZONEINFO.read_text()]
    live = Path("/proc/zoneinfo")
    if live.exists():
        sources.append(live.read_text())
    return sources


def _vm_zones(source: int) -> tuple[dict[str, dict[str, Any]], list[str], list[ZoneSpec]]:
    """The zoneinfo source's zones, their names, and specs of the same sizes (the pages
    a zone spans but does not manage as one absent range at its end)."""
    info = _parse_zoneinfo(_zoneinfo_sources()[source])
    names = [n for n in ("DMA", "DMA32", "Normal") if info.get(n, {}).get("managed")]
    if source == 1 and names != ["DMA", "DMA32", "Normal"]:
        pytest.skip("this machine is not a three-zone x86-64 guest")
    specs = []
    for name in names:
        z = info[name]
        hidden = z["spanned"] - z["managed"]
        end = z["start_pfn"] + z["spanned"]
        absent = ((end - hidden, hidden),) if hidden else ()
        specs.append(ZoneSpec(name, z["start_pfn"], z["spanned"], absent=absent))
    return info, names, specs


@pytest.mark.parametrize(
    "source", range(len(_zoneinfo_sources())), ids=["recorded", "live"][: len(_zoneinfo_sources())]
)
def test_default_rules_reproduce_this_vms_zoneinfo(source: int) -> None:
    """Node() with the default guest's rules (THP on, pcp on) and this VM's zone sizes
    reproduces /proc/zoneinfo's min/low/high (mm/page_alloc.c __setup_per_zone_wmarks
    after mm/khugepaged.c set_recommended_min_free_kbytes), its protection lines
    (setup_per_zone_lowmem_reserve) and pcp batch (zone_batchsize).

    The VM runs a 6.x kernel, whose pcp ``high`` comes from the low watermark
    (zone_highsize, 5.14+); the model's is 5.x's pageset_set_batch: 6 * batch.
    """
    info, names, specs = _vm_zones(source)
    node = Node(zones=specs, thp=True, pcp=True, events=False)
    if source == 0:
        assert node.min_free_kbytes == 67584  # /proc/sys/vm/min_free_kbytes when recorded
    else:
        assert node.min_free_kbytes == int(Path("/proc/sys/vm/min_free_kbytes").read_text())
    for name in names:
        z, want = node.zone(name), info[name]
        boost = want["boost"]
        assert (z.watermarks.min, z.watermarks.low, z.watermarks.high) == (
            want["min"] - boost,
            want["low"] - boost,
            want["high"] - boost,
        ), name
        # protection: one entry per kernel zone type; the empty Movable/Device zones add
        # nothing, so the entries after Normal repeat the last one.
        assert z.lowmem_reserve == want["protection"][: len(names)], name
        assert want["protection"][len(names) :] == [z.lowmem_reserve[-1]] * (
            len(want["protection"]) - len(names)
        )
        assert node.pcps[name].batch == want["pcp"]["batch"], name
        if name == "DMA":
            assert node.pcps[name].high == want["pcp"]["high"] == 0
        else:
            assert node.pcps[name].high == 6 * want["pcp"]["batch"] == 378


@pytest.mark.parametrize(
    "source", range(len(_zoneinfo_sources())), ids=["recorded", "live"][: len(_zoneinfo_sources())]
)
def test_612_rules_reproduce_this_vms_pcp_high_range(source: int) -> None:
    """The VM's own kernel is 6.x: with the 6.12 rules and the file's number of CPUs,
    the model's pcp ``high_min`` and ``high_max`` are the file's (6.12 mm/page_alloc.c
    zone_highsize: the low watermark, and managed pages / 8, each split over the CPUs
    and at least 4 * batch), and the file's current ``high`` lies between them
    (nr_pcp_high tunes it at run time, so it is not a fixed number)."""
    info, names, specs = _vm_zones(source)
    if "high_min" not in info[names[-1]]["pcp"]:
        pytest.skip("this kernel prints no high_min (before 6.7)")
    cpus = info[names[-1]]["cpus"]
    node = Node(zones=specs, thp=True, pcp=True, events=False, kernel="6.12", cpus=cpus)
    for name in names:
        want, pcp = info[name]["pcp"], node.pcps[name]
        assert (pcp.batch, pcp.high_min, pcp.high_max) == (
            want["batch"],
            want["high_min"],
            want["high_max"],
        ), name
        if name != "DMA":  # DMA's pcp list is off (batch 1, high 0)
            assert want["high_min"] <= want["high"] <= want["high_max"], name


# --- point 5: pcp on by default ------------------------------------------------------------


def test_default_guest_runs_with_pcp() -> None:
    """5.x mm/page_alloc.c rmqueue -> rmqueue_pcplist -> rmqueue_bulk: a real kernel
    never takes a single page straight from the buddy lists.  One order-0 allocation on
    the default guest refills Normal's pcp list with a batch of 63, which moves
    buddyinfo by [1, 0, 0, 0, 0, 0, 1, 1, 1, 1, -1] (not [1, 1, ..., 1, -1])."""
    node = Node()
    assert node.pcp_enabled and node.pcps["Normal"].batch == 63
    before = node.zone("Normal").nr_free
    node.alloc(0)
    after = node.zone("Normal").nr_free
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 0, 0, 0, 0, 0, 1, 1, 1, 1, -1]
    # Hand-made zones teach the raw buddy algorithm: no pcp unless asked for.
    assert not Node(zones=[ZoneSpec("Normal", 0, 4096)]).pcp_enabled
    assert not Node(pcp=False).pcp_enabled


def test_compare_runs_with_pcp() -> None:
    """compare() runs every strategy with one CPU's pcp lists unless told otherwise:
    order-0 frees then park on the pcp lists (free_unref_page), up to ``high``, so
    those pages are not reported until drained."""
    ops = [
        {"op": "repeat", "times": 600, "ops": [{"op": "alloc", "order": 0}]},
        {"op": "free_all"},
        {"op": "advance", "seconds": 10},
    ]
    zones = [ZoneSpec("Normal", 0, 262144)]
    [on] = compare(ops, 0, ["reporting"], zones=zones)
    [off] = compare(ops, 0, ["reporting"], zones=zones, node_options={"pcp": False})
    assert off.returned_pages == 600 and on.returned_pages < 600


# --- point 4: v2 defaults to 5.3 rules; other pairings are a labelled "what if" --------------


def test_v2_defaults_to_its_own_kernel() -> None:
    """The v2 patches (July 2019) were written against linux-next of about 5.3: boot
    frees (__free_pages_core) and move_to_free_list go to the list head.  5.10's
    FPI_TO_TAIL (7fef431be9c9) and move-to-tail (293ffa5ebb9c) never ran with them."""
    assert Node(hinting="hinting-v2", events=False).kernel == "5.3"
    assert Node(hinting="reporting", events=False).kernel == "5.10"
    assert Node(events=False).kernel == "5.10"
    assert Node(hinting="hinting-v2", kernel="5.3", events=False).what_if is None
    assert Node(hinting="reporting", kernel="5.10", events=False).what_if is None
    note = Node(hinting="hinting-v2", kernel="5.10", events=False).what_if
    assert note is not None and note.startswith("what if: v2 hinting on Linux 5.10 rules")
    assert "move_to_free_list go to the list head" in note
    assert Node(hinting="hinting-v2", kernel="5.7", events=False).what_if is not None
    notes = what_if_notes(["none", "hinting-v2", "reporting"], "5.10")
    assert len(notes) == 1 and "same Linux 5.10 base rules" in notes[0]
    assert what_if_notes(["none", "reporting"], "5.7") == []
