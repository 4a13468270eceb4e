"""The live host view: this machine's own free lists, read from /proc and /sys.

``read_live()`` reads ``/proc/buddyinfo``, ``/proc/pagetypeinfo`` (root only since
5.4), ``/proc/zoneinfo`` (free pages, watermarks and zone spans), the page reporting
module parameters in ``/sys/module/page_reporting/parameters/`` and, frame by frame,
``/proc/kpageflags`` (root only; ``kpageflags.py``): every free block at its pfn, which
of them the kernel has reported, and what holds the other frames.  ``page_reporting_order`` is
the upstream parameter (5.14+); anything else in that folder is specific to a kernel
build and is shown as an optional extra.  A file that is missing or unreadable gives
a message, never an exception: the rest is still shown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..kernel.vmstat import BuddyinfoRow
from .kpageflags import DEFAULT_MAX_ORDER, FrameCounts, ZoneSpan
from .kpagereader import FrameReader, KpageflagsError, read_counts, read_frames
from .procfs import ProcParseError, parse_buddyinfo, parse_pagetypeinfo

UPSTREAM_REPORTING_PARAMS = ("page_reporting_order",)


@dataclass
class ZoneInfo:
    node: int
    zone: str
    free: int | None = None
    min: int | None = None
    low: int | None = None
    high: int | None = None
    spanned: int | None = None
    present: int | None = None
    managed: int | None = None
    start_pfn: int | None = None
    boost: int | None = None  # watermark_boost (5.0+)
    #: ``protection:``: lowmem_reserve[] against requests preferring each kernel zone
    #: (all of the node's zones in /proc/zoneinfo order, populated or not)
    protection: list[int] | None = None
    pcp_batch: int | None = None  # the first CPU's pageset
    pcp_high: int | None = None
    cpus: int | None = None  # CPUs with a pageset ("cpu: N" lines)


@dataclass
class LiveSnapshot:
    buddyinfo: list[dict[str, Any]] = field(default_factory=list)
    pagetypeinfo: dict[str, Any] | None = None
    zoneinfo: list[ZoneInfo] = field(default_factory=list)
    reporting: dict[str, str] = field(default_factory=dict)  # upstream parameters
    reporting_extra: dict[str, str] = field(default_factory=dict)  # this build's own
    messages: list[str] = field(default_factory=list)
    #: /proc/kpageflags, when it could be read: a ``FrameReading`` (with the map) but
    #: when only the counts were asked for
    frames: FrameCounts | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "buddyinfo": self.buddyinfo,
            "pagetypeinfo": self.pagetypeinfo,
            "zoneinfo": [asdict(z) for z in self.zoneinfo],
            "reporting": self.reporting,
            "reporting_extra": self.reporting_extra,
            "frames": None if self.frames is None else self.frames.summary(),
            "messages": self.messages,
        }


def _read(path: str, messages: list[str]) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        messages.append(f"{path} does not exist on this machine")
    except PermissionError:
        messages.append(f"{path} is not readable by this user (it is root-only since Linux 5.4)")
    except OSError as exc:
        messages.append(f"{path}: {exc.strerror}")
    return None


def parse_zoneinfo(text: str, populated_only: bool = False) -> list[ZoneInfo]:
    """The fields of ``/proc/zoneinfo`` the dashboard and a seeded session use, per zone
    (every zone the file lists, or with ``populated_only`` those with managed pages)."""
    zones: list[ZoneInfo] = []
    current: ZoneInfo | None = None
    for line in text.splitlines():
        if line.startswith("Node "):
            head, _, name = line.partition(", zone")
            current = ZoneInfo(int(head.split()[1]), name.strip())
            zones.append(current)
            continue
        parts = line.split()
        if current is None or len(parts) < 2:
            continue
        if parts[0] == "protection:":  # "protection: (0, 3018, 24090, 24090, 24090)"
            numbers = line.partition(":")[2].strip(" ()").split(",")
            if all(n.strip().isdigit() for n in numbers):
                current.protection = [int(n) for n in numbers]
            continue
        if parts[0] == "cpu:":
            current.cpus = (current.cpus or 0) + 1
            continue
        if parts[0] in ("high:", "batch:"):  # a CPU's pageset: keep the first CPU's
            field_name = "pcp_" + parts[0][:-1]
            if getattr(current, field_name) is None and parts[1].isdigit():
                setattr(current, field_name, int(parts[1]))
            continue
        key, value = (parts[1], parts[2]) if parts[0] == "pages" and len(parts) >= 3 else parts[:2]
        if key == "start_pfn:":  # "  start_pfn:           1" (other "name:" lines are per-cpu)
            key = "start_pfn"
        if key in (
            "free", "min", "low", "high", "spanned", "present", "managed", "start_pfn", "boost",
        ):  # fmt: skip
            try:
                setattr(current, key, int(value))
            except ValueError:
                continue
    return [z for z in zones if z.managed] if populated_only else zones


COUNTS_ONLY = "The map of frames is not shown; the counts below still are."


#: The readers of ``read_live(..., incremental=True)``, by file, zones and orders: a
#: process that reads again and again (the server's worker) re-reads part of the file.
_READERS: dict[tuple[str, tuple[ZoneSpan, ...], int], FrameReader] = {}


def _read_frames(root: str, snap: LiveSnapshot, incremental: bool, frame_map: bool) -> None:
    """The frame-by-frame reading, or a message saying why there is none."""
    spans = [
        ZoneSpan(z.node, z.zone, z.start_pfn, z.spanned)
        for z in snap.zoneinfo
        if z.start_pfn is not None and z.spanned is not None
    ]
    if not spans:
        snap.messages.append(
            "/proc/kpageflags was not read: placing frames in zones needs the zone spans "
            f"(start_pfn, spanned) of /proc/zoneinfo. {COUNTS_ONLY}"
        )
        return
    orders = max((len(r["counts"]) for r in snap.buddyinfo), default=DEFAULT_MAX_ORDER + 1)
    path = os.path.join(root, "proc", "kpageflags")
    try:
        if incremental:
            key = (path, tuple(spans), orders - 1)
            reader = _READERS.get(key)
            if reader is None:
                _READERS.clear()  # the zones changed (memory hotplug): a new reader
                reader = _READERS[key] = FrameReader(spans, path, orders - 1)
            snap.frames = reader.read()
        elif frame_map:
            snap.frames = read_frames(spans, path, orders - 1)
        else:
            snap.frames = read_counts(spans, path, orders - 1)
    except KpageflagsError as exc:
        _READERS.clear()
        snap.messages.append(f"{exc}. {COUNTS_ONLY}")


def read_live(
    root: str = "/", frames: bool = True, incremental: bool = False, frame_map: bool = True
) -> LiveSnapshot:
    """One reading; ``frames=False`` skips /proc/kpageflags (the slow part);
    ``incremental`` re-reads only part of it after this process's first reading
    (``kpagereader.FrameReader``); ``frame_map=False`` counts the frames without making
    their map (``FrameCounts``, not ``FrameReading``: what ``--once`` prints)."""
    snap = LiveSnapshot()
    msgs = snap.messages
    proc = os.path.join(root, "proc")
    text = _read(os.path.join(proc, "buddyinfo"), msgs)
    if text is not None:
        try:
            snap.buddyinfo = [asdict(r) for r in parse_buddyinfo(text)]
        except ProcParseError as exc:
            msgs.append(f"/proc/buddyinfo: {exc}")
    text = _read(os.path.join(proc, "pagetypeinfo"), msgs)
    if text is not None:
        try:
            snap.pagetypeinfo = asdict(parse_pagetypeinfo(text))
        except ProcParseError as exc:
            msgs.append(f"/proc/pagetypeinfo: {exc}")
    text = _read(os.path.join(proc, "zoneinfo"), msgs)
    if text is not None:
        snap.zoneinfo = parse_zoneinfo(text, populated_only=True)
    if frames:
        _read_frames(root, snap, incremental, frame_map)
    params = os.path.join(root, "sys", "module", "page_reporting", "parameters")
    try:
        names = sorted(os.listdir(params))
    except OSError:
        msgs.append(
            "no /sys/module/page_reporting/parameters: this kernel has no free page reporting "
            "module parameters (before 5.14, or CONFIG_PAGE_REPORTING is off)"
        )
        names = []
    for name in names:
        value = _read(os.path.join(params, name), msgs)
        if value is None:
            continue
        target = snap.reporting if name in UPSTREAM_REPORTING_PARAMS else snap.reporting_extra
        target[name] = value.strip()
    return snap


def counted(n: int, noun: str, plural: str = "") -> str:
    """``n`` and its noun in a sentence: "1 free block", "3 free blocks"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def format_text(snap: LiveSnapshot) -> str:
    lines = []
    if snap.buddyinfo:
        width = max(len(r["counts"]) for r in snap.buddyinfo)
        lines.append("free blocks per order  " + " ".join(f"{k:>6}" for k in range(width)))
        for r in snap.buddyinfo:
            lines.append(
                f"node {r['node']} {r['zone']:>8}        "
                + " ".join(f"{c:>6}" for c in r["counts"])
            )
    for z in snap.zoneinfo:
        lines.append(
            f"zone {z.zone:>8}: free {counted(z.free or 0, 'page')}, watermarks min {z.min} / "
            f"low {z.low} / high {z.high}, managed {z.managed}"
        )
    if snap.frames is not None:
        f = snap.frames
        lines.append(
            f"/proc/kpageflags: {f.frames:,} frames read in {f.read_s * 1000:.0f} ms; free blocks "
            "per order found frame by frame (reported in brackets)"
        )
        for zf in f.zones:
            lines.append(
                f"node {zf.node} {zf.zone:>8}        "
                + " ".join(
                    f"{n:>6}[{r}]" if r else f"{n:>6}"
                    for n, r in zip(zf.free, zf.reported, strict=True)
                )
            )
            held = ", ".join(f"{kind} {n:,}" for kind, n in zf.kinds.items() if n)
            lines.append(
                f"  {zf.free_pages:,} free pages, {zf.reported_pages:,} reported; frames: {held}"
            )
    if snap.pagetypeinfo:
        lines.append(f"pagetypeinfo: migratetypes {', '.join(snap.pagetypeinfo['migratetypes'])}")
    for name, value in snap.reporting.items():
        lines.append(f"page reporting: {name} = {value}")
    for name, value in snap.reporting_extra.items():
        lines.append(f"page reporting (this kernel's own, shown, not modelled): {name} = {value}")
    lines += [f"note: {m}" for m in snap.messages]
    return "\n".join(lines) + "\n"


def buddyinfo_rows(snap: LiveSnapshot) -> list[BuddyinfoRow]:
    return [BuddyinfoRow(r["node"], r["zone"], tuple(r["counts"])) for r in snap.buddyinfo]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="buddyscope live",
        description="Show this machine's free lists, watermarks and page reporting parameters.",
    )
    parser.add_argument("--once", action="store_true", help="print once and exit")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between reads")
    parser.add_argument("--root", default="/", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.interval <= 0:
        parser.error("--interval must be > 0")
    while True:
        # Printing needs the counts, not the map: --once makes none, and a loop keeps
        # one only to re-read part of the file each time.
        snap = read_live(args.root, incremental=not args.once, frame_map=not args.once)
        if args.format == "json":
            print(json.dumps(snap.to_dict()), flush=True)
        else:
            print(format_text(snap), flush=True)
        if args.once:
            return 0
        try:
            time.sleep(args.interval)  # a polling display: the kernel offers no event
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
