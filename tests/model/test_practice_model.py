"""Generated practice: an exercise is a pure function of its kind and seed, its answer is
what the model does (checked here against the kernel's rules read off the picture the
student sees), and replies are read in either notation."""

from __future__ import annotations

import json

import pytest

from allocator_model.lab.practice import (
    KINDS,
    MAX_ORDER,
    PAGEBLOCK_ORDER,
    REPORT_CAPACITY,
    PracticeError,
    exercise,
    read_pfns,
)
from allocator_model.lab.quiz import read_int

SEEDS = range(30)


def as_json(kind: str, seed: int) -> str:
    return json.dumps(exercise(kind, seed).to_dict(reveal=True), sort_keys=True)


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_seed_gives_the_same_exercise_and_seeds_differ(kind: str) -> None:
    assert as_json(kind, 7) == as_json(kind, 7)
    assert len({as_json(kind, seed) for seed in range(6)}) == 6


def free_block(before: dict, pfn: int, order: int) -> bool:
    return any(
        b["pfn"] == pfn and b["order"] == order and b["state"] != "allocated"
        for b in before["blocks"]
    )


def test_pfn_answers_follow_rmqueue_smallest_on_the_lists_shown() -> None:
    for seed in SEEDS:
        ex = exercise("pfn", seed)
        order = int(ex.ask.split("order-")[1].split()[0])
        lists = [fl for fl in ex.before["lists"] if fl["migratetype"] == "Movable"]
        smallest = min((fl for fl in lists if fl["order"] >= order), key=lambda fl: fl["order"])
        # the head of the smallest list that fits; expand() keeps the lower half
        assert read_int(ex.answer) == smallest["blocks"][0]["pfn"], (seed, ex.answer)
        assert ex.events[ex.key]["kind"] == "alloc"


def merged(before: dict, pfn: int, order: int) -> tuple[int, int]:
    """__free_one_page's merging, read off the picture: (pfn, order) of the final block."""
    while order < MAX_ORDER - 1 and free_block(before, pfn ^ (1 << order), order):
        pfn &= ~(1 << order)
        order += 1
    return pfn, order


def freed(ex: object) -> tuple[int, int]:
    ask = ex.ask  # type: ignore[attr-defined]
    order = int(ask.split("order-")[1].split()[0])
    pfn = read_int(ask.split("at pfn ")[1])
    assert pfn is not None
    return pfn, order


def test_end_and_merge_answers_follow_free_one_page_on_the_zone_shown() -> None:
    ends = set()
    for seed in SEEDS:
        ex = exercise("merge", seed)
        pfn, order = merged(ex.before, *freed(ex))
        assert ex.answer == str(order), (seed, ex.ask)
        ex = exercise("end", seed)
        pfn, order = merged(ex.before, *freed(ex))
        higher = (pfn & ~(1 << order)) ^ (1 << (order + 1))
        tail = order < MAX_ORDER - 2 and free_block(ex.before, higher, order + 1)
        assert ex.answer == ("tail" if tail else "head"), (seed, ex.ask)
        assert ex.events[ex.key]["kind"] == "list_add" and ex.events[ex.key]["pfn"] == pfn
        ends.add(ex.answer)
    assert ends == {"head", "tail"}


def test_report_answers_are_the_first_unreported_blocks_in_scan_order() -> None:
    sizes = set()
    for seed in SEEDS:
        ex = exercise("report", seed)
        order_of = {fl["order"] for fl in ex.before["lists"]}
        scan = [
            b["pfn"]
            for o in sorted(order_of)
            if o >= PAGEBLOCK_ORDER
            for fl in ex.before["lists"]
            if fl["order"] == o
            for b in fl["blocks"]
            if not b["reported"]
        ]
        assert read_pfns(ex.answer) == scan[:REPORT_CAPACITY], (seed, ex.answer, scan)
        assert ex.events[ex.key]["kind"] == "report"
        sizes.add(len(read_pfns(ex.answer)))
    assert REPORT_CAPACITY in sizes and len(sizes) > 2


def test_replies_in_either_notation_and_refusals() -> None:
    ex = exercise("pfn", 3)
    pfn = read_int(ex.answer)
    assert pfn is not None
    for reply in (hex(pfn), str(pfn), f"PFN {pfn:#x}", f" pfn {pfn} "):
        assert ex.check(reply).right, reply
    assert not ex.check(hex(pfn + 1)).right
    with pytest.raises(PracticeError, match="no number"):
        ex.check("the head")
    with pytest.raises(PracticeError, match="empty"):
        ex.check("  ")
    end = exercise("end", 3)
    other = "head" if end.answer == "tail" else "tail"
    assert end.check(end.answer.upper()).right and not end.check(other).right
    with pytest.raises(PracticeError, match="not one of head, tail"):
        end.check("middle")
    rep = exercise("report", 3)
    pfns = read_pfns(rep.answer)
    assert rep.check(" ".join(str(p) for p in reversed(pfns))).right  # a set: any order
    assert not rep.check(hex(pfns[0] + 16)).right
    with pytest.raises(PracticeError, match="'0xzz' is not a pfn"):
        rep.check("0xzz")


def test_unknown_kinds_and_seeds_are_refused() -> None:
    with pytest.raises(PracticeError, match="unknown exercise kind 'split'"):
        exercise("split", 1)
    for bad in (-1, 2**32, True, 1.5):
        with pytest.raises(PracticeError, match="seed must be a whole number"):
            exercise("pfn", bad)  # type: ignore[arg-type]
