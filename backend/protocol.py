"""The wire protocol between the backend and the page, as pydantic v2 models.

Every message is a JSON object with a ``type`` field; the server and the client each
have one discriminated union of message types (``ServerMessage``, ``ClientMessage``).
The page checks ``protocol_version`` in ``hello`` and refuses to draw a protocol it
does not speak, so any incompatible change to a model below must bump
``PROTOCOL_VERSION``.  ``docs/protocol.md`` explains every message with an example and
``docs/protocol.schema.json`` is the generated JSON schema (see ``backend/schema.py``).

Flow of one connection:

1. server -> ``hello`` (protocol version, session id, role, control token for the
   controller, limits, schema hash)
2. server -> ``snapshot`` (full state of the session at its current step)
3. client -> commands, each with an optional ``id``; the server answers every command
   with ``ack`` or ``error`` carrying the same ``id`` (so a client never waits forever).
4. server -> ``delta`` after every step (the step's events and what changed) and a fresh
   ``snapshot`` after any jump (back, seek, reset, ...) or when the client fell behind
   (``reason: "resync"``).

``seq`` numbers the snapshots and deltas sent on one connection: 1, 2, 3, ... without
gaps.  A client that sees a gap has missed something and asks for ``get_snapshot``.

Why one file of ~850 lines: the two unions are the protocol, and a change to any member
is a change to the protocol that must bump ``PROTOCOL_VERSION`` and regenerate the
schema.  Kept together, one diff of this file shows a reviewer every such change; split
by message, a new field could land without the version bump being in view.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from .sources import MAX_PROC_CHARS, MAX_TRACE_CHARS, MAX_WORKLOAD_CHARS

PROTOCOL_VERSION: Final = 1

#: Most pfns sent from each end of a free list; a list of at most twice this many
#: entries is sent whole in ``head``.
LIST_ENDS: Final = 16

#: Close codes of ``/ws`` and ``/ws/live``.
CLOSE_POLICY: Final = 1008  # bad Origin, bad token
CLOSE_TOO_BIG: Final = 1009  # a message over max_message_bytes
CLOSE_TRY_LATER: Final = 1013  # server full
CLOSE_BAD_QUERY: Final = 4400  # the query asks for a session that cannot be opened
CLOSE_NOT_FOUND: Final = 4404  # no such session


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# --- server -> client -------------------------------------------------------------------


class Limits(_Message):
    """What the server enforces; a command beyond a limit gets an ``error``."""

    list_ends: int = Field(ge=1, description="Most pfns sent from each end of a free list")
    max_message_bytes: int = Field(
        ge=1, description="Largest client message; a bigger one closes the socket with 1009"
    )
    max_sessions: int = Field(ge=1, description="Sessions the server keeps at once")
    max_pages_per_zone: int = Field(ge=1, description="Largest zone a session may configure")
    max_timeline_steps: int = Field(ge=1, description="Most steps in one timeline branch")
    max_viewers: int = Field(ge=1, description="Connections watching one session")
    max_speed: float = Field(gt=0, description="Fastest play speed, in steps per second")
    queue_messages: int = Field(
        ge=1, description="Answers (ack/error) unsent to a client before its commands wait"
    )
    queue_bytes: int = Field(
        ge=1, description="Bytes of state messages queued for a slow client before it is resynced"
    )


class TraceSummary(_Message):
    """What a trace import found (``allocator_model.sources.trace.TraceImport``)."""

    events: dict[str, int] = Field(description="Events replayed, by tracepoint name")
    unknown_lines: int = Field(ge=0, description="Lines that are not one of the page events")
    unknown_examples: list[int] = Field(description="Line numbers of the first few of them")
    unmatched_frees: int = Field(
        ge=0, description="Frees of pages allocated before the trace began (not replayed)"
    )
    duration_s: float = Field(ge=0, description="Time from the first to the last event")
    steps: int = Field(ge=0, description="Workload operations made from the trace")
    summary: str = Field(description="All of it as one sentence")


class SourceInfo(_Message):
    """Where the session's node and workload come from."""

    kind: Literal["scenario", "workload", "buddyinfo", "trace", "machine"] = Field(
        description="A named scenario, an uploaded workload/scenario file, a /proc "
        "snapshot of a real machine, a recorded kmem trace, or the server's machine read "
        "frame by frame"
    )
    name: str
    title: str = ""
    summary: str = ""
    look_for: str = Field(default="", description="What to look for (scenarios)")
    questions: int = Field(default=0, ge=0, description="Quiz questions the scenario carries")
    trace: TraceSummary | None = Field(default=None, description="The import summary of a trace")
    notes: list[str] = Field(
        default_factory=list, description="How a /proc snapshot was laid out, where it departs"
    )


class Hello(_Message):
    type: Literal["hello"] = "hello"
    protocol_version: int = PROTOCOL_VERSION
    server: str = Field(description="Server software and version, e.g. 'buddyscope 0.1.0'")
    session: str = Field(description="Session id: share it to let others follow")
    role: Literal["controller", "follower"]
    token: str | None = Field(
        default=None, description="Control token (controller only): reconnect with &token=..."
    )
    limits: Limits
    schema_hash: str = Field(description="sha256 of the protocol's JSON schema")
    source: SourceInfo | None = Field(
        default=None, description="What the session runs (also in snapshot.config.source)"
    )


class ListBoundary(_Message):
    """v2: where ``boundary[order - min_order][migratetype]`` stands in one list of the
    zone being hinted, so a page can place it even when it lies in the unsent middle.

    The boundary sits just in front of the entry at ``index`` (counted from the head,
    0-based): ``index`` entries are in front of it, ``length - index`` behind.  At the
    list head sentinel (``hinting.boundaries`` says null) it is after the tail:
    ``index == length``.  Each cycle starts with every boundary there, so blocks hinted
    by an earlier cycle can lie in front of it (``flagged_before``).
    """

    index: int = Field(ge=0, description="Entries in front of the boundary")
    before: int | None = Field(description="pfn just in front of it (null: index 0)")
    before_flagged: bool | None = Field(description="Whether that block carries the flag")
    after: int | None = Field(
        description="pfn it points at, the first entry behind it (null: after the tail)"
    )
    after_flagged: bool | None = Field(description="Whether that block carries the flag")
    flagged_before: int = Field(
        ge=0, description="Hinted blocks in front of it (hinted by an earlier cycle)"
    )


class FreeList(_Message):
    """One non-empty free list (one order, one migratetype), head -> tail.

    ``head`` holds the first pfns from the head end, ``tail`` the last pfns (still in
    head -> tail order).  When the whole list fits (``length <= 2 * list_ends``),
    ``head`` is the whole list and ``tail`` is empty.  ``*_flagged`` say which of those
    blocks carry the strategy's flag (hinted in v2, ``PG_reported`` when reporting);
    ``flagged`` counts the list's flagged blocks, ``boundary`` places v2's boundary.
    In a ``delta`` a list with ``length`` 0 has become empty.
    """

    order: int = Field(ge=0)
    migratetype: str
    length: int = Field(ge=0)
    head: list[int]
    tail: list[int]
    head_flagged: list[bool]
    tail_flagged: list[bool]
    flagged: int = Field(
        default=0, ge=0, description="Blocks of the list carrying the flag (zone.flagged_count)"
    )
    boundary: ListBoundary | None = Field(
        default=None, description="v2, while the zone is being hinted: the list's boundary"
    )

    @model_validator(mode="after")
    def _fits(self) -> FreeList:
        if len(self.head) + len(self.tail) > self.length:
            raise ValueError("head and tail hold more pfns than length")
        if self.tail and len(self.head) + len(self.tail) == self.length:
            raise ValueError("a complete list is sent in head alone")
        if len(self.head_flagged) != len(self.head) or len(self.tail_flagged) != len(self.tail):
            raise ValueError("one flag per pfn sent")
        if self.flagged > self.length:
            raise ValueError("more flagged blocks than length")
        b = self.boundary
        if b is not None:
            if b.index > self.length or b.flagged_before > min(b.index, self.flagged):
                raise ValueError("the boundary lies outside the list")
            if (b.before is None) != (b.index == 0) or (b.after is None) != (
                b.index == self.length
            ):
                raise ValueError("the boundary's neighbours do not match its index")
            if (b.before is None) != (b.before_flagged is None) or (b.after is None) != (
                b.after_flagged is None
            ):
                raise ValueError("one flag per boundary neighbour")
        return self


class FreeListSlice(_Message):
    """Deprecated (the first slice's page): a list as ``{count, head, tail}``, 8 pfns from
    each end.  Sent in ``ZoneSnapshot.free_lists`` until every page reads ``lists``."""

    count: int = Field(ge=0)
    head: list[int]
    tail: list[int]


class Watermarks(_Message):
    min: int
    low: int
    high: int


class PcpList(_Message):
    order: int = Field(ge=0)
    migratetypes: list[str] = Field(
        description="The request types the list serves (6.12's THP list for non-movable "
        "requests serves Unmovable and Reclaimable)"
    )
    blocks: int = Field(ge=0, description="Blocks on the list")
    pfns: list[int] = Field(
        description="Head pfns of its first blocks, head first (the next one allocated)"
    )


class PcpSet(_Message):
    """One CPU's per-cpu lists of one zone (``struct per_cpu_pages``)."""

    cpu: int = Field(ge=0)
    count: int = Field(ge=0, description="Pages on the lists")
    high: int = Field(ge=0, description="Drain when count reaches it (6.12: tuned)")
    batch: int = Field(ge=1)
    high_min: int = Field(ge=0, description="6.12: the lowest high; 5.x: equal to high")
    high_max: int = Field(ge=0, description="6.12: the highest high; 5.x: equal to high")
    lists: list[PcpList] = Field(description="Every list, in the kernel's list order")


class ZoneSnapshot(_Message):
    name: str
    start_pfn: int = Field(ge=0)
    spanned_pages: int = Field(ge=0)
    managed_pages: int = Field(ge=0)
    nr_free: list[int] = Field(description="Blocks on the free lists of each order, all types")
    nr_free_pages: int = Field(ge=0, description="vmstat NR_FREE_PAGES of the zone")
    watermarks: Watermarks
    lists: list[FreeList] = Field(description="Every non-empty free list")
    pageblock_mt: str = Field(description="base64: one migratetype index per pageblock")
    page_state: str = Field(
        description="base64: one byte per page: 0 free, 1 allocated, 2 hinted/reported, "
        "3 isolated (with the host), 4 on a per-cpu list"
    )
    host_backing: str = Field(
        description="base64: one byte per page: 0 not backed, 1 resident, 2 discarded"
    )
    unusable_index: list[int] = Field(
        default_factory=list,
        description="Unusable free space index per order, in thousandths (debugfs "
        "extfrag/unusable_index): the share of free memory in blocks too small for the order",
    )
    pcp: list[PcpSet] = Field(
        default_factory=list,
        description="Each CPU's per-cpu lists of the zone; empty when they are off",
    )
    free_pages: int | None = Field(default=None, description="Deprecated: nr_free_pages")
    free_lists: dict[str, list[FreeListSlice]] | None = Field(
        default=None,
        description="Deprecated (first-slice page): migratetype -> one slice per order",
    )


class SessionConfigView(_Message):
    """The session's configuration as the page shows it."""

    scenario: str
    kernel: str
    hinting: str
    pcp: bool
    cpus: int = Field(default=1, ge=1, description="CPUs with per-cpu lists (calls take turns)")
    what_if: str | None = Field(
        default=None,
        description="Why this strategy on these kernel rules never ran on a real kernel "
        "(v2 hinting on 5.7, 5.10 or 6.12 rules), or null",
    )
    seed: int
    pages: int | None = Field(description="Size override of the last zone, or null")
    max_order: int = Field(ge=1)
    pageblock_order: int = Field(ge=0)
    migratetypes: list[str]
    constants: list[dict[str, Any]] = Field(
        description="Strategy constants: {name, value, kernel, is_kernel, modelled}"
    )
    hinting_options: dict[str, int | float] = Field(description="Constants set by the user")
    source: SourceInfo | None = Field(default=None, description="What the session runs")


class HostStats(_Message):
    resident_pages: int
    discarded_pages: int
    refaults: int
    report_calls: int
    pages_reported: int


class Mark(_Message):
    step: int = Field(ge=1)
    kind: str


class Chapter(_Message):
    """A narrated phase of the workload: it starts at ``step`` and runs to the step
    before the next chapter (or the end of the timeline)."""

    step: int = Field(ge=1)
    title: str
    notes: str | None = Field(
        None, description="The scenario's presenter notes for this phase (shown in presenter mode)"
    )


class SetupInfo(_Message):
    """The automatic steps folded into step 0 (configure ``fold_setup: false`` shows
    them as steps)."""

    steps: int = Field(ge=0, description="Automatic steps the starting state holds")
    text: str = Field(description="The narration of the phases among them")


class BranchInfo(_Message):
    id: int = Field(ge=0)
    parent: int | None
    fork_step: int = Field(ge=0, description="Steps shared with the parent branch")
    length: int = Field(ge=0)
    reason: str = Field(description="Why it was created: start, fork, configure, reset")


class QuizScore(_Message):
    right: int = Field(ge=0)
    asked: int = Field(ge=0, description="Questions answered or skipped")


class QuizQuestion(_Message):
    """A question about the next step (never its answer)."""

    step: int = Field(ge=1, description="The step it is about: the next one (position + 1)")
    kind: Literal[
        "which_pfn", "which_end", "which_list", "which_migratetype", "merge_order",
        "will_merge", "requests", "blocks_reported",
    ]  # fmt: skip
    ask: str
    choices: list[str] = Field(description="Possible replies; empty: a free-text reply")
    origin: Literal["scenario", "generated"] = Field(
        description="From the scenario's questions, or made by the server for this step"
    )
    workload_op: int = Field(ge=0, description="Index of the workload operation of the step")


class QuizState(_Message):
    on: bool
    score: QuizScore
    question: QuizQuestion | None = Field(description="The question waiting for an answer")


SnapshotReason = Literal[
    "connect", "request", "seek", "resync", "configure", "reset", "follow", "branch", "load"
]


class Snapshot(_Message):
    type: Literal["snapshot"] = "snapshot"
    seq: int = Field(ge=1, description="Message sequence number on this connection")
    reason: SnapshotReason = "request"
    session: str
    step: int = Field(ge=0, description="Steps applied: the position in the timeline")
    timeline_length: int = Field(ge=0, description="Steps recorded in the current branch")
    playing: bool
    speed: float = Field(gt=0, description="Play speed in steps per second")
    clock: float = Field(ge=0, description="Virtual clock of the model, seconds")
    op: int = Field(default=0, ge=0, description="Workload operations done (for `align`)")
    config: SessionConfigView
    zones: list[ZoneSnapshot]
    hinting: dict[str, Any] = Field(description="node.hinting_state()")
    host: HostStats
    breakpoints: list[str] = Field(description="Event kinds that pause play")
    marks: list[Mark] = Field(description="Steps with notable events, for the seek bar")
    marks_truncated: bool = False
    chapters: list[Chapter] = Field(
        default_factory=list, description="The branch's narrated phases, in step order"
    )
    events: list[dict[str, Any]] = Field(
        default_factory=list,
        description="What step `step` did, as the delta going forward to it said (empty at "
        "step 0, and after reset, configure or a branch switch)",
    )
    events_dropped: int = Field(default=0, ge=0, description="Events left out of a huge step")
    setup: SetupInfo | None = Field(
        default=None, description="What step 0 already holds (None: nothing folded)"
    )
    branch: int = Field(ge=0, description="The branch this view is on")
    branches: list[BranchInfo]
    following: bool = Field(
        default=True, description="False when this view moves on its own (not the session's)"
    )
    quiz: QuizState | None = Field(default=None, description="Quiz mode of the session")
    # Deprecated copies of config fields for the first slice's page.
    scenario: str | None = Field(default=None, description="Deprecated: config.scenario")
    max_order: int | None = Field(default=None, description="Deprecated: config.max_order")
    pageblock_order: int | None = Field(
        default=None, description="Deprecated: config.pageblock_order"
    )
    migratetypes: list[str] | None = Field(
        default=None, description="Deprecated: config.migratetypes"
    )


class ZoneDelta(_Message):
    name: str
    nr_free: list[int]
    nr_free_pages: int
    lists: list[FreeList] = Field(description="The lists this step changed; length 0: now empty")
    page_ranges: list[tuple[int, str]] = Field(
        description="[start_pfn, base64 page_state bytes from there]"
    )
    host_ranges: list[tuple[int, str]] = Field(
        description="[start_pfn, base64 host_backing bytes from there]"
    )
    pageblock_ranges: list[tuple[int, str]] = Field(
        default_factory=list,
        description="[first pageblock index, base64 pageblock_mt bytes from there]",
    )
    unusable_index: list[int] = Field(
        default_factory=list, description="Unusable free space index per order (thousandths)"
    )
    pcp: list[PcpSet] | None = Field(
        default=None, description="The zone's per-cpu lists, when the step changed them"
    )


class Delta(_Message):
    type: Literal["delta"] = "delta"
    seq: int = Field(ge=1)
    session: str
    step: int = Field(ge=0, description="Position after this delta")
    timeline_length: int = Field(ge=0)
    clock: float = Field(ge=0)
    op: int = Field(default=0, ge=0, description="Workload operations done (for `align`)")
    events: list[dict[str, Any]] = Field(description="The step's events, oldest first")
    events_dropped: int = Field(default=0, ge=0, description="Events left out of a huge step")
    playing: bool
    speed: float = Field(gt=0)
    zones: list[ZoneDelta] = Field(description="Zones this step changed")
    hinting: dict[str, Any]
    host: HostStats
    branch: int = Field(ge=0)
    following: bool = True
    quiz: QuizState | None = Field(default=None, description="Quiz mode of the session")
    breakpoints: list[str] | None = Field(
        default=None, description="The session's new breakpoints (null: unchanged)"
    )
    marks: list[Mark] | None = Field(
        default=None, description="The seek bar's marks for them (null: unchanged)"
    )
    marks_truncated: bool | None = Field(default=None, description="With marks")
    mark: Mark | None = Field(
        default=None,
        description="This step's seek-bar mark when the step is the timeline's last (a "
        "step just added); the page appends it if it has no mark at that step yet",
    )


class Question(_Message):
    """Quiz mode: the next step waits until the controller sends ``answer`` or ``skip``."""

    type: Literal["question"] = "question"
    question: QuizQuestion


class Reveal(_Message):
    """Quiz mode: the answer to the question, sent before the step it was about."""

    type: Literal["reveal"] = "reveal"
    step: int = Field(ge=1)
    kind: str
    reply: str | None = Field(description="What the controller answered (null: skipped)")
    correct: bool
    answer: str = Field(description="What the step does, from a dry run of the model")
    explain: str = Field(description="The model's message for the deciding event")
    score: QuizScore


class LiveZone(_Message):
    node: int
    zone: str
    counts: list[int] = Field(description="Free blocks per order (/proc/buddyinfo)")
    unusable_index: list[int] = Field(description="Unusable free space index per order (‰)")


class LiveZoneInfo(_Message):
    node: int
    zone: str
    free: int | None
    min: int | None
    low: int | None
    high: int | None
    spanned: int | None
    present: int | None
    managed: int | None
    start_pfn: int | None = Field(default=None, description="First pfn the zone spans")
    boost: int | None = Field(default=None, description="watermark_boost (pages)")
    protection: list[int] | None = Field(
        default=None,
        description="lowmem_reserve against requests preferring each of the node's zones "
        "(every zone /proc/zoneinfo lists, in its order)",
    )
    pcp_batch: int | None = Field(default=None, description="The first CPU's pcp batch")
    pcp_high: int | None = Field(default=None, description="The first CPU's pcp high")
    cpus: int | None = Field(default=None, description="CPUs with a pageset in the zone")


class LiveFrameZone(_Message):
    node: int
    zone: str
    start_pfn: int
    end_pfn: int = Field(description="One past the zone's last pfn read")
    free: list[int] = Field(description="Free blocks per order found in /proc/kpageflags")
    reported: list[int] = Field(description="Of those, blocks whose head is PG_reported")
    free_pages: int
    reported_pages: int
    kinds: dict[str, int] = Field(description="Frames per kind (see LiveFrames.kinds)")


class LiveFrameMap(_Message):
    """Frames' kinds, one byte per frame (an index into ``LiveFrames.kinds``, or
    ``free_code``/``reported_code`` plus the order of the free block it is in), sent in
    chunks: all of them in the first reading on a connection, then only the chunks that
    changed since the reading before."""

    frames: int
    chunk: int = Field(description="Frames per chunk (the last one may be shorter)")
    full: bool = Field(description="Every chunk is here (else only the changed ones)")
    chunks: list[int] = Field(description="Indices of the chunks in data, ascending")
    data: str = Field(description="base64 of the zlib stream of those chunks' bytes")


class LiveFrames(_Message):
    """This machine frame by frame, from /proc/kpageflags (root only)."""

    frames: int = Field(description="Frames read (one per pfn from 0)")
    kinds: list[str] = Field(description="Names of the kinds a frame can have, by code")
    zones: list[LiveFrameZone]
    reported_pages: int
    free_code: int = Field(description="In the map a free page is free_code + its block's order")
    reported_code: int = Field(
        description="In the map a page of a reported block is reported_code + its block's order"
    )
    frames_read: int = Field(
        default=0,
        description="Frames read for this reading: after a watcher's first, a reading "
        "re-reads part of the file (the busy windows, then the others in turn); the rest "
        "are as an earlier reading found them",
    )
    read_ms: float = Field(description="Time in the kernel's read of /proc/kpageflags")
    derive_ms: float = Field(description="Time finding blocks and kinds afterwards")
    map: LiveFrameMap | None = Field(default=None, description="Only on /ws/live")


class Live(_Message):
    """One reading of this machine's free memory (``/ws/live``, ``GET /api/live``)."""

    type: Literal["live"] = "live"
    seq: int = Field(ge=1, description="Readings sent on this connection")
    time: float = Field(description="When it was read (Unix time, seconds)")
    buddyinfo: list[LiveZone]
    pagetypeinfo: dict[str, Any] | None = Field(
        description="/proc/pagetypeinfo parsed: pageblock_order, migratetypes, free rows "
        "(counts per order and migratetype), block rows; null when unreadable"
    )
    zoneinfo: list[LiveZoneInfo] = Field(description="Free pages and watermarks per zone")
    reporting: dict[str, str] = Field(
        description="Upstream free page reporting parameters (page_reporting_order)"
    )
    reporting_extra: dict[str, str] = Field(
        description="Optional: parameters this kernel build adds; other machines lack them"
    )
    frames: LiveFrames | None = Field(
        default=None,
        description="/proc/kpageflags read frame by frame (only on /ws/live); null when unreadable",
    )
    messages: list[str] = Field(description="What could not be read, and why")


class Ack(_Message):
    type: Literal["ack"] = "ack"
    id: int | None = Field(description="id of the command this answers (null if it had none)")
    seq: int | None = Field(
        default=None, description="seq of the last snapshot/delta sent before this ack"
    )


ErrorCode = Literal[
    "bad_message",
    "invalid_file",
    "question_pending",
    "no_question",
    "unknown_type",
    "invalid_field",
    "out_of_range",
    "wrong_session",
    "not_controller",
    "invalid_free",
    "out_of_memory",
    "model_error",
    "invalid_config",
    "end_of_timeline",
    "nothing_to_do",
    "limit",
    "not_found",
    "internal",
]


class Error(_Message):
    type: Literal["error"] = "error"
    id: int | None = Field(default=None, description="id of the command, null if unknown")
    code: ErrorCode
    message: str = Field(description="A plain sentence saying what was wrong")
    problems: list[str] | None = Field(
        default=None, description="invalid_file: every problem found, with its line and field"
    )


class SubstepShown(_Message):
    """The event of a step the controller picked while walking it event by event (its
    ``substep`` command), to everybody following: a follower at that step shows the
    same event (its line, its blocks, its pseudocode line).  Nothing in the timeline
    moves."""

    type: Literal["substep"] = "substep"
    step: int = Field(ge=0, description="The step walked")
    index: int = Field(
        ge=-1, description="The event picked, in the step's events; -1: the whole step"
    )


ServerMessage = Annotated[
    Hello | Snapshot | Delta | Ack | Error | Question | Reveal | Live | SubstepShown,
    Field(discriminator="type"),
]


# --- client -> server -------------------------------------------------------------------


class _Command(_Message):
    id: int | None = Field(default=None, ge=0, le=2**53, description="Echoed in ack/error")
    session: str | None = Field(
        default=None, max_length=64, description="If given, must be this connection's session"
    )


class Ping(_Command):
    type: Literal["ping"] = "ping"


class GetSnapshot(_Command):
    """Ask for a fresh ``snapshot``; it is sent before the ``ack``."""

    type: Literal["get_snapshot"] = "get_snapshot"


class Step(_Command):
    """One step forward: the next recorded step, else the next workload operation, else
    the next pending hinting/reporting work item (the clock jumps to it)."""

    type: Literal["step"] = "step"


class Back(_Command):
    type: Literal["back"] = "back"


class First(_Command):
    type: Literal["first"] = "first"


class Last(_Command):
    type: Literal["last"] = "last"


class Seek(_Command):
    type: Literal["seek"] = "seek"
    step: int = Field(ge=0, le=2**31)


class Align(_Command):
    """Go to the moment another session is at (the comparison): the last step with at
    most ``op`` workload operations done and a clock at most ``clock`` seconds."""

    type: Literal["align"] = "align"
    op: int = Field(ge=0, le=2**31, description="Workload operations done (a state's `op`)")
    clock: float = Field(ge=0, le=1e9, description="Virtual time, seconds")


class RunTo(_Command):
    """Step forward until a step has an event of this kind (a breakpoint)."""

    type: Literal["run_to"] = "run_to"
    kind: str = Field(min_length=1, max_length=64)


class Play(_Command):
    type: Literal["play"] = "play"
    speed: float | None = Field(default=None, gt=0, le=1e6)


class Pause(_Command):
    type: Literal["pause"] = "pause"


class Speed(_Command):
    type: Literal["speed"] = "speed"
    value: float = Field(gt=0, le=1e6)


class Reset(_Command):
    """Start again from the scenario (same configuration); the old timeline is kept as a
    branch."""

    type: Literal["reset"] = "reset"


class AllocCmd(_Command):
    type: Literal["alloc"] = "alloc"
    order: int = Field(ge=0, le=64)
    migratetype: str = Field(default="Movable", min_length=1, max_length=32)
    zone: str | None = Field(default=None, min_length=1, max_length=32)


class FreeCmd(_Command):
    type: Literal["free"] = "free"
    pfn: int = Field(ge=0, le=2**52)
    order: int = Field(default=0, ge=0, le=64)


class TouchCmd(_Command):
    """The guest writes an allocated block (a host refault if it was discarded)."""

    type: Literal["touch"] = "touch"
    pfn: int = Field(ge=0, le=2**52)
    order: int = Field(default=0, ge=0, le=64)


class Advance(_Command):
    """Move the virtual clock; due work runs one item per step until the clock is there."""

    type: Literal["advance"] = "advance"
    seconds: float = Field(ge=0, le=86400)


class Configure(_Command):
    """Change the configuration: a new branch replays the timeline up to the current step
    under the new rules (a new scenario starts its own timeline)."""

    type: Literal["configure"] = "configure"
    scenario: str | None = Field(default=None, min_length=1, max_length=100)
    kernel: Literal["5.3", "5.7", "5.10", "6.12"] | None = None
    hinting: Literal["none", "hinting-v2", "reporting"] | None = None
    constants: dict[str, int | float] | None = Field(
        default=None, max_length=16, description="Strategy constants (hinting_options)"
    )
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    pcp: bool | None = None
    cpus: int | None = Field(
        default=None, ge=1, le=64, description="CPUs, each with its own per-cpu lists"
    )
    pages: int | None = Field(default=None, ge=1, le=2**32)
    workload: str | None = Field(
        default=None, max_length=MAX_WORKLOAD_CHARS, description="A workload/scenario file"
    )
    buddyinfo: str | None = Field(default=None, max_length=MAX_PROC_CHARS)
    pagetypeinfo: str | None = Field(default=None, max_length=MAX_PROC_CHARS)
    trace: str | None = Field(default=None, max_length=MAX_TRACE_CHARS)
    fold_setup: bool | None = Field(
        default=None, description="false: show the setup's automatic steps as steps"
    )


class Quiz(_Command):
    """Quiz mode on or off: when on, a step that has a question waits for ``answer``."""

    type: Literal["quiz"] = "quiz"
    on: bool


class Answer(_Command):
    """The reply to the pending question: ``reveal``, then the step."""

    type: Literal["answer"] = "answer"
    reply: str = Field(min_length=1, max_length=200)


class Skip(_Command):
    """No reply to the pending question: ``reveal`` (counted as wrong), then the step."""

    type: Literal["skip"] = "skip"


class Follow(_Command):
    """Followers: ``on: false`` gives this connection its own view position (step, back,
    seek then move only it); ``on: true`` snaps back to the session."""

    type: Literal["follow"] = "follow"
    on: bool


class Breakpoints(_Command):
    """Event kinds that pause play.  Everybody watching gets a ``delta`` without events
    that carries the new ``breakpoints`` and the seek bar's ``marks`` for them."""

    type: Literal["breakpoints"] = "breakpoints"
    kinds: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(max_length=64)


class Substep(_Command):
    """The controller picked an event of the step on screen (Shift+→ / Shift+←, a click on
    the event's line) or went back to the whole step (``index`` -1); followers get it as
    ``substep``.  The timeline does not move."""

    type: Literal["substep"] = "substep"
    step: int = Field(ge=0, le=2**31)
    index: int = Field(ge=-1, le=2**31)


class SwitchBranch(_Command):
    """Go to another branch of the timeline (at the same step, or its end if shorter)."""

    type: Literal["branch"] = "branch"
    branch: int = Field(ge=0, le=2**31)


ClientMessage = Annotated[
    Ping
    | GetSnapshot
    | Step
    | Back
    | First
    | Last
    | Seek
    | Align
    | RunTo
    | Play
    | Pause
    | Speed
    | Reset
    | AllocCmd
    | FreeCmd
    | TouchCmd
    | Advance
    | Configure
    | Follow
    | Breakpoints
    | SwitchBranch
    | Quiz
    | Answer
    | Skip
    | Substep,
    Field(discriminator="type"),
]

CLIENT_TYPES: Final = (
    "ping", "get_snapshot", "step", "back", "first", "last", "seek", "align", "run_to", "play",
    "pause", "speed", "reset", "alloc", "free", "touch", "advance", "configure", "follow",
    "breakpoints", "branch", "quiz", "answer", "skip", "substep",
)  # fmt: skip

server_message_adapter: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)
client_message_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
