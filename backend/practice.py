"""Generated practice over HTTP and on the command line (``allocator_model.lab.practice``).

    GET /api/practice                          the kinds of exercise
    GET /api/practice/{kind}/{seed}            one exercise (no answer)
    GET /api/practice/{kind}/{seed}/answer?reply=X
                                               the model's verdict on a reply; the answer
                                               and its explanation once it is right
    GET /api/practice/{kind}/{seed}/answer     the answer and its explanation (give up)

    buddyscope practice --kind K --seed N [--answer X | --reveal]

An exercise is a pure function of its kind and seed, so nothing is stored: a link with
the two reproduces it, and "next exercise" is the next seed.  A wrong reply gets the
kind's hint, not the answer, so it can be tried again.
"""

from __future__ import annotations

import argparse
import sys
from functools import lru_cache
from typing import Annotated, Any, Literal, TextIO

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from allocator_model import hexpfn
from allocator_model.lab.practice import (
    HINTS,
    KINDS,
    SEED_LIMIT,
    TITLES,
    Exercise,
    PracticeError,
    exercise,
)

router = APIRouter(prefix="/api/practice", tags=["practice"])

Kind = Literal["pfn", "end", "merge", "report"]
KindPath = Annotated[Kind, Path(description="The kind of exercise")]
SeedPath = Annotated[
    int, Path(ge=0, le=SEED_LIMIT - 1, description="The seed the exercise is drawn from")
]


class KindOut(BaseModel):
    kind: Kind
    title: str


class ExerciseOut(BaseModel):
    """An exercise (``allocator_model.lab.practice.Exercise.to_dict``)."""

    kind: Kind
    seed: int
    title: str
    ask: str = Field(description="The question")
    setting: str = Field(description="The toy zone and the rules it runs")
    setup: list[str] = Field(description="What the guest did before the question")
    before: dict[str, Any] = Field(description="The zone when asked: free lists and blocks")
    choices: list[str] = Field(description="Named answers; empty: a typed pfn, order or pfns")
    answer_help: str = Field(description="What an answer looks like")
    hint: str = Field(description="The rule to apply, in the kernel's names")


class VerdictOut(BaseModel):
    """The model's word on a reply; ``answer``, ``events`` (the model's own, in the
    kernel's words), ``key`` (the event that carries the answer) and ``after`` (the zone
    once done) come with a right reply or when the answer is asked for."""

    kind: Kind
    seed: int
    reply: str | None = Field(description="The reply checked (null: the answer was asked for)")
    right: bool
    problem: str | None = Field(
        default=None, description="Why the reply is no answer at all (then right is false)"
    )
    hint: str | None = Field(default=None, description="After a wrong reply: the rule to apply")
    answer: str | None = None
    events: list[dict[str, Any]] | None = None
    key: int | None = None
    after: dict[str, Any] | None = None


@lru_cache(maxsize=256)
def _exercise(kind: str, seed: int) -> Exercise:
    return exercise(kind, seed)


@router.get("", summary="The kinds of generated exercise")
def practice_kinds() -> list[KindOut]:
    return [KindOut(kind=k, title=TITLES[k]) for k in KINDS]


@router.get("/{kind}/{seed}", summary="One generated exercise (the same for the same seed)")
def practice_exercise(kind: KindPath, seed: SeedPath) -> ExerciseOut:
    return ExerciseOut(**_exercise(kind, seed).to_dict())


@router.get(
    "/{kind}/{seed}/answer",
    summary="Check a reply with the model; without one, the answer and its explanation",
)
def practice_answer(
    kind: KindPath,
    seed: SeedPath,
    reply: Annotated[str | None, Query(max_length=200, description="The reply to check")] = None,
) -> VerdictOut:
    return VerdictOut(**verdict(_exercise(kind, seed), reply))


def verdict(ex: Exercise, reply: str | None) -> dict[str, Any]:
    """The verdict's fields: the reveal when ``reply`` is right or None."""
    out: dict[str, Any] = {"kind": ex.kind, "seed": ex.seed, "reply": reply, "right": False}
    if reply is not None:
        try:
            out["right"] = ex.check(reply).right
        except PracticeError as exc:
            return out | {"problem": str(exc)}
        if not out["right"]:
            return out | {"hint": HINTS[ex.kind]}
    full = ex.to_dict(reveal=True)
    return out | {k: full[k] for k in ("answer", "events", "key", "after")}


# --- buddyscope practice ------------------------------------------------------------


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        ex = _exercise(args.kind, args.seed)
    except PracticeError as exc:
        print(f"buddyscope practice: error: {exc}", file=err)
        return 2
    if args.answer is None and not args.reveal:
        out.write(format_exercise(ex))
        return 0
    v = verdict(ex, args.answer)
    if v.get("problem"):
        print(f"buddyscope practice: error: {v['problem']}", file=err)
        return 2
    if args.answer is not None and not v["right"]:
        out.write(f"Not that: {args.answer}.\nHint: {v['hint']}\n")
        out.write(f"Try again, or see the answer: {_command(ex)} --reveal\n")
        return 1
    out.write(f"Right: {ex.answer}.\n" if v["right"] else f"The answer: {ex.answer}.\n")
    out.write("Why, in the model's events:\n")
    for i, e in enumerate(ex.events):
        mark = ">" if i == ex.key else " "
        out.write(f" {mark} {e['fn']}: {e['message']}\n")
    out.write(f"Next exercise: {_command(ex, ex.seed + 1)}\n")
    return 0


def _command(ex: Exercise, seed: int | None = None) -> str:
    return f"buddyscope practice --kind {ex.kind} --seed {ex.seed if seed is None else seed}"


def format_exercise(ex: Exercise) -> str:
    """The exercise as text: the setting, what the guest did, the free lists, the question."""
    lines = [f"buddyscope practice · {ex.kind} · seed {ex.seed}: {TITLES[ex.kind]}", ""]
    lines += [ex.to_dict()["setting"], "", "What the guest did:"]
    lines += [f"  {i}. {step}" for i, step in enumerate(ex.setup, 1)]
    lines += ["", "Free lists, head -> tail (R: reported):"]
    for fl in ex.before["lists"]:
        blocks = " ".join(hexpfn(b["pfn"]) + (" R" if b["reported"] else "") for b in fl["blocks"])
        lines.append(f"  order {fl['order']} {fl['migratetype']:<9} {blocks}")
    allocated = [b for b in ex.before["blocks"] if b["state"] == "allocated"]
    lines.append(
        "Allocated: "
        + (", ".join(f"{hexpfn(b['pfn'])} (order {b['order']})" for b in allocated) or "none")
    )
    lines += ["", ex.ask, f"({ex.to_dict()['answer_help']})", ""]
    lines.append(f"Check a reply: {_command(ex)} --answer X")
    return "\n".join(lines) + "\n"
