"""Where a session's node and workload come from besides a named scenario.

* ``workload``: the text of a workload or scenario file (``docs/workload.schema.json``),
  loaded with ``workload_file.load_workload``: refused whole, one problem per line and
  field, so nothing runs half-loaded;
* ``buddyinfo`` (+ optional ``pagetypeinfo``): a real machine's ``/proc`` text; the node
  starts with exactly those free lists (``Node.from_buddyinfo``) and no workload;
* ``trace``: ``trace-cmd report`` / ``perf script`` text of the kmem page events,
  replayed as a workload (``allocator_model.sources.trace.parse_trace``) on the default node.

Each loader returns what a ``Plan`` needs plus a ``source`` summary (``SourceInfo`` on
the wire) that says what was imported: the trace's event counts, unknown lines and
unmatched frees, or the notes of the buddyinfo layout.  Parsing is cached by text, so a
configure or an import of the same text does not parse it again.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any, Final

from allocator_model.sources.procfs import (
    ProcParseError,
    ZoneSize,
    layout_sizes,
    parse_buddyinfo,
    parse_pagetypeinfo,
)
from allocator_model.sources.trace import TraceImport, parse_trace

from .workload_file import WorkloadFile, WorkloadFileError, load_workload

#: Largest texts a session may be loaded from (characters).  The server's request body
#: limit (``Settings.max_upload_bytes``) applies on top of these.
MAX_WORKLOAD_CHARS: Final = 1 << 20
MAX_PROC_CHARS: Final = 1 << 20
MAX_TRACE_CHARS: Final = 8 << 20

#: The configuration fields that hold a source text (``pagetypeinfo`` goes with
#: ``buddyinfo``).
SOURCE_KINDS: Final = ("workload", "buddyinfo", "trace")
TEXT_FIELDS: Final = ("workload", "buddyinfo", "pagetypeinfo", "trace")

#: In an export document, a text is stored once in ``files`` and referred to as this
#: prefix + its sha256.
FILE_REF: Final = "@file:sha256:"


class SourceError(ValueError):
    """A source text that cannot be loaded: ``problems`` has one sentence per problem."""

    def __init__(self, field: str, problems: list[str]) -> None:
        super().__init__(f"{field}: " + "; ".join(problems))
        self.field = field
        self.problems = problems


def text_ref(text: str) -> str:
    return FILE_REF + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@functools.lru_cache(maxsize=16)
def workload_file(text: str) -> WorkloadFile:
    """The validated file (callers must not change it: it is cached)."""
    try:
        return load_workload(text, "workload")
    except WorkloadFileError as exc:
        raise SourceError("workload", exc.problems) from None


@functools.lru_cache(maxsize=8)
def trace_import(text: str) -> TraceImport:
    """The parsed trace (cached; read only).  A text without a single page event is
    refused: it is almost certainly not a trace of the kmem events."""
    imported = parse_trace(text)
    if not imported.events:
        where = ", ".join(str(n) for n in imported.unknown_examples)
        raise SourceError(
            "trace",
            [
                "no kmem:mm_page_alloc, mm_page_free or mm_page_free_batched event found "
                f"({imported.unknown_lines} other lines"
                + (f", e.g. line {where}" if where else "")
                + "); record one with trace-cmd record -e kmem:mm_page_alloc "
                "-e kmem:mm_page_free -e kmem:mm_page_free_batched, then trace-cmd report"
            ],
        )
    return imported


def trace_summary(imported: TraceImport) -> dict[str, Any]:
    return {
        "events": dict(sorted(imported.events.items())),
        "unknown_lines": imported.unknown_lines,
        "unknown_examples": list(imported.unknown_examples),
        "unmatched_frees": imported.unmatched_frees,
        "duration_s": imported.duration_s,
        "steps": len(imported.ops),
        "summary": imported.summary(),
    }


@dataclass(frozen=True)
class ProcLayout:
    sizes: tuple[ZoneSize, ...]
    max_order: int

    @property
    def zone_sizes(self) -> tuple[tuple[str, int], ...]:
        return tuple((z.name, z.pages) for z in self.sizes)

    @property
    def notes(self) -> list[str]:
        return [n for z in self.sizes for n in z.notes]


@functools.lru_cache(maxsize=8)
def proc_layout(buddyinfo: str, pagetypeinfo: str | None) -> ProcLayout:
    """Parse the snapshot and size its zones from the counts alone (no block is placed
    and no node built), so that its errors and its zone sizes are known, and checked
    against the server's limits, before any memory is spent on its blocks."""
    try:
        rows = parse_buddyinfo(buddyinfo)
    except ProcParseError as exc:
        raise SourceError("buddyinfo", [str(exc)]) from None
    if not rows:
        raise SourceError("buddyinfo", ["no 'Node N, zone NAME  counts...' line found"])
    if len({r.node for r in rows}) > 1:
        raise SourceError(
            "buddyinfo",
            ["the snapshot has several NUMA nodes; the model has one: keep one node's lines"],
        )
    info = None
    if pagetypeinfo is not None:
        try:
            info = parse_pagetypeinfo(pagetypeinfo)
        except ProcParseError as exc:
            raise SourceError("pagetypeinfo", [str(exc)]) from None
    max_order = len(rows[0].counts)
    pageblock_order = info.pageblock_order if info is not None else min(9, max_order - 1)
    try:
        sizes = layout_sizes(rows, info, max_order=max_order, pageblock_order=pageblock_order)
    except ValueError as exc:
        raise SourceError("pagetypeinfo" if info is not None else "buddyinfo", [str(exc)]) from None
    return ProcLayout(tuple(sizes), max_order)


def split_proc_text(text: str) -> tuple[str, str | None]:
    """``cat /proc/buddyinfo /proc/pagetypeinfo``: the buddyinfo lines, then the
    pagetypeinfo from its ``Page block order:`` line (if there is one)."""
    marker = text.find("Page block order:")
    if marker < 0:
        return text, None
    return text[:marker], text[marker:]


def source_info(
    kind: str,
    name: str,
    *,
    title: str = "",
    summary: str = "",
    look_for: str = "",
    questions: int = 0,
    trace: dict[str, Any] | None = None,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """The ``SourceInfo`` of a plan (sent in ``hello``, snapshots and REST answers)."""
    return {
        "kind": kind,
        "name": name,
        "title": title,
        "summary": summary,
        "look_for": look_for,
        "questions": questions,
        "trace": trace,
        "notes": list(notes or []),
    }
