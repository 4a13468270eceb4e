"""Issue 12: the defaults, reserves and numbers of a real 5.x kernel.

Each test names the kernel release(s), the file and the function whose rule it checks;
the numbers are the ones those functions compute (read in the 5.3.1, 5.7.14 and 5.10.7
trees).
"""

from __future__ import annotations

import pytest

from allocator_model import Node, OutOfMemory, ZoneSpec
from allocator_model.config import kernel_rules
from allocator_model.pcp import PerCpuPages, zone_batchsize
from allocator_model.watermarks import default_min_free_kbytes

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


def test_nofragment_on_a_normal_only_node_retypes_pageblocks() -> None:
    """5.3/5.7/5.10 mm/page_alloc.c alloc_flags_nofragment: on one node (nr_online_nodes
    == 1) ALLOC_NOFRAGMENT is set whenever Normal is the preferred zone, DMA32 or not.

    An order-10 Unmovable request on a Normal-only node whose free memory is only
    order-9 Movable blocks: __rmqueue_fallback under ALLOC_NOFRAGMENT searches down to
    pageblock_order, so it re-types the order-9 pageblocks (steal_suitable_fallback)
    before the request fails; without the flag the search would stop at order 10.
    """
    node = Node(zones=[ZoneSpec("Normal", 0, 4096)], min_free_kbytes=0)
    held = [node.alloc(9) for _ in range(8)]
    for pfn in held[::2]:
        node.free(pfn, 9)  # four order-9 Movable blocks, no two of them buddies
    z = node.zone("Normal")
    assert list(z.pageblock_mt) == [1] * 8
    with pytest.raises(OutOfMemory):
        node.alloc(10, "Unmovable")
    assert [z.pageblock_mt[b] for b in range(0, 8, 2)] == [0, 0, 0, 0]  # Unmovable now
    assert len(z.free_list(9, "Unmovable")) == 4


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
