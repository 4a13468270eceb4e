"""The workload and scenario file format: pydantic models, a JSON schema, and errors
that point at the line and field.

A file is JSON (no extra dependency, and every editor checks it); its shape is the
``WorkloadFile`` model below, published as ``docs/workload.schema.json``.  Loading is
all or nothing: a file with any error is refused whole, with one message per problem
naming the line, the field and what is expected, and nothing runs half-loaded.

The operations are the model's (``allocator_model.sources.workload``): the models here only
check shapes and ranges; ``allocator_model`` does the running.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from allocator_model.kernel.node import STRATEGIES
from allocator_model.sources.scenario import Scenario

from . import badinput

MIGRATETYPES = Literal["Unmovable", "Movable", "Reclaimable"]


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Alloc(_Op):
    """Allocate ``count`` blocks of 2**order pages (the guest touches them unless told not to)."""

    op: Literal["alloc"]
    order: int = Field(ge=0, le=15)
    migratetype: MIGRATETYPES = "Movable"
    zone: str | None = None
    count: int = Field(1, ge=1, le=1_000_000)
    label: str = "_"
    touch: bool = True


class Free(_Op):
    """Free blocks of a label (the oldest ``fraction`` or ``count``, or by allocation order
    with ``start``/``stride``), or one block by ``pfn`` and ``order``."""

    op: Literal["free"]
    label: str | None = None
    fraction: float | None = Field(None, ge=0, le=1)
    count: int | None = Field(None, ge=0)
    start: int | None = Field(None, ge=0)
    stride: int | None = Field(None, ge=1)
    pfn: int | None = Field(None, ge=0)
    order: int | None = Field(None, ge=0, le=15)


class FreePick(_Op):
    """Free one live block of a label, chosen by ``pick`` in [0, 1)."""

    op: Literal["free_pick"]
    label: str
    pick: float = Field(ge=0, lt=1)


class FreeAll(_Op):
    op: Literal["free_all"]


class Touch(_Op):
    """The guest writes a label's blocks again (refaults if the host discarded them), or
    one allocated block by ``pfn`` and ``order`` (a session's "touch" saved as a file;
    run by buddyscope's timeline, not yet by ``allocator_model.sources.workload.Runner``)."""

    op: Literal["touch"]
    label: str | None = None
    pfn: int | None = Field(None, ge=0)
    order: int | None = Field(None, ge=0, le=15)

    @model_validator(mode="after")
    def _label_or_pfn(self) -> Touch:
        if (self.label is None) == (self.pfn is None):
            raise ValueError("give a label, or a pfn (and order), not both")
        if self.label is not None and self.order is not None:
            raise ValueError("order goes with pfn, not with label")
        return self


class Advance(_Op):
    """Let virtual time pass: hinting/reporting work runs."""

    op: Literal["advance"]
    seconds: float = Field(ge=0, le=86_400)


class DrainPcp(_Op):
    op: Literal["drain_pcp"]


class Phase(_Op):
    """A narration marker: the text is shown when the timeline reaches it; the optional
    notes are for the presenter (what to point at, what to ask the class) and are shown
    in presenter mode and in the lesson outline."""

    op: Literal["phase"]
    text: str = Field(min_length=1, max_length=2000)
    notes: str | None = Field(None, min_length=1, max_length=2000)


class Random(_Op):
    """A seeded random mix, expanded before running into allocs and frees."""

    op: Literal["random"]
    steps: int = Field(ge=0, le=1_000_000)
    orders: list[Annotated[float, Field(ge=0)]] = Field(
        default=[8, 4, 2, 1], min_length=1, max_length=16
    )
    migratetypes: dict[MIGRATETYPES, Annotated[float, Field(ge=0)]] = {"Movable": 1}
    alloc_ratio: float = Field(0.6, ge=0, le=1)
    label: str = "random"


class Repeat(_Op):
    op: Literal["repeat"]
    times: int = Field(ge=0, le=100_000)
    ops: list[Operation]


Operation = Annotated[
    Alloc | Free | FreePick | FreeAll | Touch | Advance | DrainPcp | Phase | Random | Repeat,
    Field(discriminator="op"),
]
Repeat.model_rebuild()


class NodeConfig(BaseModel):
    """The node a workload runs on (``allocator_model.Node`` options)."""

    model_config = ConfigDict(extra="forbid")
    zones: list[tuple[str, Annotated[int, Field(ge=0)], Annotated[int, Field(ge=1)]]] | None = None
    kernel: Literal["5.3", "5.7", "5.10", "6.12"] | None = Field(
        None,
        description="kernel rules; null: 5.3 for hinting-v2 (the base its patches were "
        "written against), 5.10 otherwise.  v2 on another kernel runs as a labelled what-if.",
    )
    hinting: Literal["none", "hinting-v2", "reporting"] = "none"
    hinting_options: dict[str, float | int | None] = {}
    min_free_kbytes: int | None = Field(None, ge=0)
    pcp: bool | None = Field(
        None,
        description="per-cpu page lists; null: as the model's Node, on for the default "
        "guest (no zones), off for hand-made zones; false: order-0 pages go straight to "
        "the buddy lists (a file teaching the raw buddy algorithm)",
    )
    # CPUs, each with its own per-cpu lists (calls take them in turn)
    cpus: int = Field(1, ge=1, le=64)
    max_order: int = Field(11, ge=1, le=16)
    pageblock_order: int = Field(9, ge=0, le=15)
    cma: bool = True
    pcp_batch: int | None = Field(None, ge=1)
    pcp_high: int | None = Field(None, ge=0)
    host_resident_at_boot: bool = False
    watermark_scale_factor: int = Field(10, ge=1, le=3000)
    # null: THP on for the default guest (no zones), off for hand-made zones (as Node)
    thp: bool | None = None
    watermark_boost_factor: int = Field(15000, ge=0, le=1 << 30)


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    before_step: int = Field(ge=0)
    kind: Literal[
        "which_pfn", "which_end", "which_list", "which_migratetype", "merge_order",
        "will_merge", "requests", "blocks_reported",
    ]  # fmt: skip
    ask: str = Field(min_length=1)


class WorkloadFile(BaseModel):
    """A workload or a whole scenario: configuration, seed, operations, notes, questions."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field("workload", min_length=1, max_length=80)
    title: str = ""
    summary: str = ""
    look_for: str = ""
    seed: int = Field(0, ge=0)
    config: NodeConfig = Field(default_factory=lambda: NodeConfig.model_validate({}))
    workload: list[Operation] = Field(min_length=1)
    compare: list[Literal["none", "hinting-v2", "reporting"]] = []
    inspect: list[dict[str, int]] = []
    questions: list[Question] = []


assert set(STRATEGIES) == {"none", "hinting-v2", "reporting"}
_ADAPTER = TypeAdapter(WorkloadFile)


class WorkloadFileError(ValueError):
    """A workload file that cannot be loaded; ``problems`` lists every error found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


def workload_schema() -> dict[str, Any]:
    """The JSON schema of the file format (served and checked in as docs/workload.schema.json)."""
    schema = _ADAPTER.json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "buddyscope workload / scenario file"
    return schema


def load_workload(text: str, source: str = "workload") -> WorkloadFile:
    """Parse and validate; raise ``WorkloadFileError`` naming line and field of each problem."""
    try:
        data = badinput.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkloadFileError(
            source, [f"line {exc.lineno} column {exc.colno}: {exc.msg}"]
        ) from None
    except ValueError as exc:  # NaN, Infinity, or nesting deeper than Python's stack
        raise WorkloadFileError(source, [f"line 1: {exc}"]) from None
    bad = badinput.bad_value(data)
    if bad is not None:
        path, what = bad
        line = 1 if what == badinput.TOO_DEEP else _line_for(json_paths_to_lines(text), path)
        raise WorkloadFileError(source, [f"line {line}: {badinput.shown(path)}: {what}"])
    try:
        wf = _ADAPTER.validate_python(data)
    except ValidationError as exc:
        lines = json_paths_to_lines(text)
        problems = []
        for err in exc.errors(include_url=False):
            path = tuple(p for p in err["loc"] if not isinstance(p, str) or p not in _UNION_TAGS)
            line = _line_for(lines, path)
            where = ".".join(str(p) for p in path) or "(the file)"
            problems.append(f"line {line}: {where}: {err['msg']}")
        raise WorkloadFileError(source, problems) from None
    problems = _check_orders(wf, json_paths_to_lines(text))
    if problems:
        raise WorkloadFileError(source, problems)
    return wf


def _check_orders(wf: WorkloadFile, lines: dict[tuple[str | int, ...], int]) -> list[str]:
    """Orders must exist in the configured node, so nothing fails half-way through."""
    top = wf.config.max_order - 1
    problems = []
    if wf.config.pageblock_order > top:
        line = _line_for(lines, ("config", "pageblock_order"))
        problems.append(
            f"line {line}: config.pageblock_order: must be at most max_order - 1 = {top}"
        )

    def walk(ops: list[Any], path: tuple[str | int, ...]) -> None:
        for k, op in enumerate(ops):
            here = (*path, k)
            order = getattr(op, "order", None)
            if isinstance(order, int) and order > top:
                line = _line_for(lines, (*here, "order"))
                problems.append(
                    f"line {line}: {'.'.join(map(str, here))}.order: {order} is above the "
                    f"largest order {top} of this configuration"
                )
            if isinstance(op, Random) and len(op.orders) > top + 1:
                line = _line_for(lines, (*here, "orders"))
                problems.append(
                    f"line {line}: {'.'.join(map(str, here))}.orders: {len(op.orders)} weights "
                    f"but this configuration has orders 0..{top}"
                )
            if isinstance(op, Repeat):
                walk(op.ops, (*here, "ops"))

    walk(wf.workload, ("workload",))
    return problems


_UNION_TAGS = {
    "alloc", "free", "free_pick", "free_all", "touch", "advance", "drain_pcp", "phase",
    "random", "repeat",
}  # fmt: skip


def _line_for(lines: dict[tuple[str | int, ...], int], path: tuple[Any, ...]) -> int:
    """The line of the deepest part of ``path`` that exists in the file."""
    for n in range(len(path), -1, -1):
        key = tuple(path[:n])
        if key in lines:
            return lines[key]
    return 1


def json_paths_to_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Map every value's path (keys and list indices) to the line it starts on.

    A small scanner over valid JSON (``json.loads`` has already accepted the text).
    """
    out: dict[tuple[str | int, ...], int] = {}
    pos = 0
    line = 1
    n = len(text)

    def skip_ws() -> None:
        nonlocal pos, line
        while pos < n and text[pos] in " \t\r\n":
            if text[pos] == "\n":
                line += 1
            pos += 1

    def read_string() -> str:
        nonlocal pos
        end = pos + 1
        while text[end] != '"':
            end += 2 if text[end] == "\\" else 1
        value: str = json.loads(text[pos : end + 1])
        pos = end + 1
        return value

    def value(path: tuple[str | int, ...]) -> None:
        nonlocal pos
        skip_ws()
        out[path] = line
        ch = text[pos]
        if ch == "{":
            pos += 1
            skip_ws()
            if text[pos] == "}":
                pos += 1
                return
            while True:
                skip_ws()
                key = read_string()
                skip_ws()
                pos += 1  # ':'
                value((*path, key))
                skip_ws()
                if text[pos] == ",":
                    pos += 1
                    continue
                pos += 1  # '}'
                return
        if ch == "[":
            pos += 1
            skip_ws()
            if text[pos] == "]":
                pos += 1
                return
            index = 0
            while True:
                value((*path, index))
                skip_ws()
                index += 1
                if text[pos] == ",":
                    pos += 1
                    continue
                pos += 1  # ']'
                return
        if ch == '"':
            read_string()
            return
        while pos < n and text[pos] not in ",]}" and text[pos] not in " \t\r\n":
            pos += 1

    value(())
    return out


def as_scenario(wf: WorkloadFile) -> Scenario:
    """The file as the model's ``Scenario`` (``allocator_model.sources.source.from_scenario``
    opens it as a session's source)."""
    return Scenario(
        name=wf.name,
        title=wf.title,
        summary=wf.summary,
        look_for=wf.look_for,
        seed=wf.seed,
        config=wf.config.model_dump(exclude_none=True),
        workload=[op.model_dump(exclude_none=True) for op in wf.workload],
        compare=list(wf.compare),
        inspect=list(wf.inspect),
        questions=[q.model_dump() for q in wf.questions],
    )


if __name__ == "__main__":  # python -m backend.workload_file > docs/workload.schema.json
    print(json.dumps(workload_schema(), indent=1))
