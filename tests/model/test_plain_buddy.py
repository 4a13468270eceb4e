"""bench/plain_buddy.py: its plain allocator is a correct buddy allocator, and the
side-by-side script runs (a small size; no timing is asserted); bench/instructions.py
counts a replay's instructions under callgrind."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from allocator_model.kernel.errors import OutOfMemory

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPT = BENCH / "plain_buddy.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("plain_buddy", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


plain_buddy = _load()


def _expected(buddy: plain_buddy.SortedArrayBuddy, order: int) -> int:
    """The block a buddy allocator taking the lowest address first must return."""
    for k in range(order, buddy.max_order):
        if buddy.free_lists[k]:
            return min(buddy.free_lists[k])
    raise AssertionError("no block")


def test_a_fresh_allocator_splits_the_lowest_block_and_merges_it_back() -> None:
    buddy = plain_buddy.SortedArrayBuddy(4096, max_order=11)
    assert buddy.free_lists[10] == [0, 1024, 2048, 3072]
    assert buddy.alloc(0) == 0
    # the first top block is split down to order 0; every upper half is free
    assert [buddy.free_lists[k] for k in range(10)] == [[1 << k] for k in range(10)]
    assert buddy.free_lists[10] == [1024, 2048, 3072]
    assert buddy.alloc(0) == 1 and buddy.free_lists[0] == []
    buddy.free(0, 0)
    buddy.free(1, 0)
    assert buddy.free_lists[10] == [0, 1024, 2048, 3072]
    assert all(not buddy.free_lists[k] for k in range(10))
    buddy.check([])


def test_random_allocations_and_frees_keep_the_invariants() -> None:
    rng = random.Random(12)
    pages = 1 << 14
    buddy = plain_buddy.SortedArrayBuddy(pages + 100, max_order=8)  # a partial top block
    assert buddy.pages == pages
    live: list[tuple[int, int]] = []
    for step in range(4000):
        if live and rng.random() < 0.45:
            offset, order = live.pop(rng.randrange(len(live)))
            buddy.free(offset, order)
        else:
            order = min(int(rng.expovariate(0.7)), 7)
            if buddy.free_pages() and any(buddy.free_lists[order:]):
                expected = _expected(buddy, order)
                offset = buddy.alloc(order)
                assert offset == expected
                live.append((offset, order))
            else:
                with pytest.raises(OutOfMemory):
                    buddy.alloc(order)
        if step % 50 == 0:
            buddy.check(live)
            assert buddy.free_pages() + sum(1 << k for _, k in live) == pages
    for offset, order in live:
        buddy.free(offset, order)
    buddy.check([])
    assert buddy.free_lists[7] == list(range(0, pages, 128))


def test_a_full_allocator_refuses_and_changes_nothing() -> None:
    buddy = plain_buddy.SortedArrayBuddy(8, max_order=3)
    blocks = [buddy.alloc(2), buddy.alloc(1), buddy.alloc(1)]
    assert blocks == [0, 4, 6]
    before = [list(b) for b in buddy.free_lists]
    with pytest.raises(OutOfMemory):
        buddy.alloc(0)
    assert buddy.free_lists == before
    buddy.check(list(zip(blocks, (2, 1, 1), strict=True)))


def test_check_finds_a_broken_free_list() -> None:
    buddy = plain_buddy.SortedArrayBuddy(16, max_order=3)
    buddy.free_lists[0].append(3)  # a page that is also inside a free order-2 block
    with pytest.raises(AssertionError, match="overlap"):
        buddy.check([])
    buddy = plain_buddy.SortedArrayBuddy(16, max_order=3)
    offset = buddy.alloc(1)
    buddy.free_lists[1].insert(0, offset)  # freed without merging with its free buddy
    with pytest.raises(AssertionError, match="not merged"):
        buddy.check([])


def test_the_side_by_side_script_runs() -> None:
    # Under make pytest-compiled the compiled build runs next to the reference as well.
    compiled = os.environ["PYTHONPATH"] if os.environ.get("ALLOCATOR_MODEL_COMPILED") else None
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--ops", "3000", "--rounds", "1", "--pages", "65536",
         "--compiled", compiled or "none", "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["ops"] == 3000 and figures["pages"] == 65536
    names = ["sorted_array_buddy", "model_one_zone_5_10", "model_default_session"]
    compiled_names = ["compiled_one_zone_5_10", "compiled_default_session"]
    for name in names + compiled_names:
        assert (f"{name}_ops_per_s_best" in figures) == (name in names or compiled is not None)
        if name in names or compiled is not None:
            assert figures[f"{name}_ops_per_s_best"] > 0
    ratio = (
        figures["model_one_zone_5_10_ops_per_s_best"] / figures["sorted_array_buddy_ops_per_s_best"]
    )
    assert figures["model_one_zone_5_10_vs_plain_best"] == pytest.approx(ratio, abs=0.001)


def test_the_side_by_side_script_refuses_a_tree_without_the_model(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--ops", "100", "--rounds", "1", "--compiled",
         str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "has no allocator_model: run make compiled" in result.stderr


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind")
def test_the_instruction_count_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "instructions.py"), "one-zone", "sorted-array",
         "--ops", "1000", "--json"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    assert set(counts) == {"one-zone", "sorted-array"}
    # Both replays were counted: the replay loop alone is about 700 instructions an op.
    assert counts["one-zone"] > 1000 and counts["sorted-array"] > 1000
    # The reference model does 3.7 times the plain allocator's instructions per op; the
    # compiled build (make pytest-compiled) about as many as it.
    if not os.environ.get("ALLOCATOR_MODEL_COMPILED"):
        assert counts["one-zone"] > 2 * counts["sorted-array"]
