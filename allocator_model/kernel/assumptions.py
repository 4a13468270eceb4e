"""Every detail the model takes from the spec's less certain parts, in one place.

The spec (kernel-semantics.md) tags facts it did not re-read in the kernel source as
[mem] (from memory) and inferences as [inf].  Each one the model relies on is named
here, with the value the code uses where there is a value, so that it can be changed
in one place if the kernel proves otherwise.  ``tests/model/test_assumptions.py`` has
one test per entry that shows the behaviour it causes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Assumption:
    name: str
    tag: str  # "mem" or "inf"
    spec: str  # section of kernel-semantics.md
    statement: str
    used_in: str


# --- values the code reads from here ----------------------------------------------------

# enum pageflags: PG_uptodate's bit, which PG_reported aliases (5.x order:
# PG_locked, PG_referenced, PG_uptodate, ...).
PG_UPTODATE_BIT = 2

# kswapd, woken by a watermark boost, clears the boost this long after the last boost
# (the model has no reclaim: see KSWAPD_BOOST_RESET).
KSWAPD_BOOST_RESET_S = 0.1

# The modelled time of one report round trip to the host (not a kernel constant).
REPORT_LATENCY_S = 0.001

# 6.12 zone_pcp_update_cacheinfo(): PCPF_FREE_HIGH_BATCH is set when the CPU's share of
# its data cache holds more than 3 * batch pages (756 KiB for batch 63), as on the
# x86-64 servers and VMs of today; the model assumes such a CPU.
PCP_FREE_HIGH_BATCH = True


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption(
        "PCP_LIST_ORDER",
        "mem",
        "§1.7",
        "frees push to the head of a pcp list; rmqueue_bulk appends a batch in the order it "
        "was taken (list_add_tail); allocation takes the head; free_pcppages_bulk takes from "
        "the tail, round-robin over the lists starting after Unmovable",
        "node._free_unref_page, node._rmqueue_pcplist, node._free_pcppages_bulk",
    ),
    Assumption(
        "PCP_FREE_HIGH_BATCH",
        "inf",
        "§1.7",
        "6.12: every CPU's data cache slice holds more than 3 * batch pages, so "
        "zone_pcp_update_cacheinfo() sets PCPF_FREE_HIGH_BATCH and consecutive high-order "
        "frees keep a batch on the lists before free_high drains them",
        "pcp.PerCpuPages, node._free_unref_page",
    ),
    Assumption(
        "PCP_HIGH_NO_DECAY",
        "inf",
        "§1.7",
        "6.12: decay_pcp_high() (vmstat's once-a-second work) and ZONE_RECLAIM_ACTIVE "
        "(kswapd reclaiming) are not modelled, so pcp->high shrinks only on the free path "
        "while the zone is below its high watermark (ZONE_BELOW_HIGH)",
        "pcp.PerCpuPages.nr_pcp_high",
    ),
    Assumption(
        "PCP_CPU_ROUND_ROBIN",
        "inf",
        "§1.7",
        "with cpus > 1, a call that names no CPU runs on the next CPU in turn: tasks the "
        "scheduler spreads over the CPUs, so a page freed by one is parked on that CPU's "
        "list, out of reach of the next allocation on another",
        "node.alloc, node.free",
    ),
    Assumption(
        "PCP_NOT_REPORTED",
        "inf",
        "§1.7",
        "pages on pcp lists are off the buddy lists: not in nr_free or NR_FREE_PAGES, never "
        "merged, hinted or reported until drained",
        "node (pcp paths), invariants",
    ),
    Assumption(
        "FALLBACK_RULES",
        "mem",
        "§1.6",
        "fallbacks[] order, largest-first search, can_steal_fallback thresholds, whole "
        "pageblock claim at >= half free-or-compatible pages, movable smallest-block rule; "
        "under ALLOC_NOFRAGMENT the search stops at pageblock_order even for larger "
        "requests, so a request that fails may already have re-typed pageblocks",
        "zone.rmqueue_fallback, zone._steal_suitable_fallback",
    ),
    Assumption(
        "MOVABLE_PAGES_COUNT",
        "inf",
        "§1.6",
        "move_freepages_block counts PageLRU/__PageMovable pages as movable; the model counts "
        "the pages of allocations that asked for Movable",
        "zone.move_freepages_block",
    ),
    Assumption(
        "ALLOC_PASSES",
        "mem",
        "§1.6, §1.8",
        "get_page_from_freelist tries the zonelist at the low watermark (first with "
        "ALLOC_NOFRAGMENT when Normal is the preferred zone), then the slow path at min; "
        "with no reclaim modelled a failure there is OutOfMemory",
        "node.alloc",
    ),
    Assumption(
        "NR_FREE_PAGES_ON_ALLOC",
        "mem",
        "§4b",
        "NR_FREE_PAGES drops by 2^order once per allocation; split halves stay counted",
        "node.alloc",
    ),
    Assumption(
        "KSWAPD_BOOST_RESET",
        "inf",
        "§1.8",
        "kswapd's reset of a boosted watermark is not modelled (no reclaim): the boost is "
        "cleared when virtual time passes 100 ms after the last boost, standing for a "
        "kswapd that finds the node balanced above high + boost and resets it at once",
        "node._wakeup_kswapd, node._run_kswapd",
    ),
    Assumption(
        "PG_UPTODATE_BIT",
        "mem",
        "§2.9",
        "PG_reported aliases PG_uptodate, bit 2 of page->flags in 5.x",
        "pageflags",
    ),
    Assumption(
        "KDUMP_COMPARES_VALUE",
        "mem",
        "§2.9",
        "makedumpfile identifies a free buddy page by _mapcount == PAGE_BUDDY_MAPCOUNT_VALUE "
        "(~PG_buddy), so a Buddy+Offline page is not recognised as free",
        "pageflags.page_bits",
    ),
    Assumption(
        "REPORT_LATENCY",
        "inf",
        "§2.8, §3.4",
        "a report/hint round trip takes 1 ms of virtual time by default (virtqueue kick, the "
        "host's madvise of the batch, the interrupt)",
        "reporting.ReportingConstants, hinting_v2.HintingConstants",
    ),
    Assumption(
        "V2_SUFFIX_ONLY_WHILE_ACTIVE",
        "inf",
        "§2.7, §5 inv. 18",
        "the spec's invariant 18 (while ACTIVE, the entries from the boundary on are exactly "
        "the hinted ones) is stronger than the v2 code: every cycle resets the boundaries "
        "to the list heads while earlier hinted blocks stay put, so check() requires only "
        "that everything from the boundary to the tail is hinted, and nothing outside a "
        "cycle",
        "hinting_v2.HintingV2.check",
    ),
    Assumption(
        "ZONE_GATE_SMALL_ZONES",
        "inf",
        "§3.2, §5 inv. 28 and 44",
        "a zone with fewer free pages than low + 32 << order (e.g. a 16 MiB DMA zone) is "
        "never reported",
        "reporting.PageReporting._scan",
    ),
    Assumption(
        "BOOT_FREE_WITHOUT_NOTIFY",
        "inf",
        "§1.4, §3.2",
        "boot memory is freed before a reporting/hinting device registers, so boot frees "
        "never notify; the device's registration requests the first pass",
        "node._boot_zone, strategies' attach()",
    ),
)
