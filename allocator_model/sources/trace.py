"""Replay a real kernel's page allocation trace as a workload.

Input: the text that ``trace-cmd report`` or ``perf script`` prints for the
``kmem:mm_page_alloc``, ``kmem:mm_page_free`` and ``kmem:mm_page_free_batched``
tracepoints, e.g.::

    bash-1234 [001] 1234.567890: mm_page_alloc: page=0x.. pfn=1215232 order=0 migratetype=1 ..
    bash 1234 [001] 1234.567899: kmem:mm_page_free: page=0x.. pfn=0x128b00 order=0

(pfn is decimal up to 6.x kernels that print it as hex; both are read.)  Record one on
a real host with::

    trace-cmd record -e kmem:mm_page_alloc -e kmem:mm_page_free \\
        -e kmem:mm_page_free_batched sleep 10
    trace-cmd report > host.trace

The real pfns cannot be reused as they are: the model's memory is laid out by its own
rules.  Each traced allocation becomes a model allocation of the same order and
migratetype, labelled with the real pfn; a traced free of that pfn frees the model's
block for it.  Frees of pages allocated before the trace started have no model block
and are counted as unmatched.  The time between events becomes ``advance`` steps, so
hinting and reporting run on the trace's own clock.  Lines that are not one of these
events are counted (with the first few line numbers), never fatal.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .workload import Runner

if TYPE_CHECKING:
    from ..kernel.node import Node

# A timestamp has at most 12 digits of seconds (31,000 years): a longer one is not a
# trace's, and its gaps would overflow the model's nanosecond clock.
_EVENT = re.compile(
    r"(?<!\d)(?P<ts>\d{1,12}\.\d+):\s+(?:kmem:)?(?P<event>mm_page_alloc|mm_page_free_batched|mm_page_free):?\s+(?P<args>.*)$"
)
_ARG = re.compile(r"(\w+)=(\S+)")
# enum migratetype of a CONFIG_CMA kernel (the trace prints the number)
_MT_NAMES = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate")
_GFP = {
    "Unmovable": "GFP_KERNEL",
    "Movable": "GFP_HIGHUSER_MOVABLE",
    "Reclaimable": "GFP_KERNEL|__GFP_RECLAIMABLE",
}


@dataclass
class TraceImport:
    ops: list[dict[str, Any]] = field(default_factory=list)
    events: Counter[str] = field(default_factory=Counter)
    unknown_lines: int = 0
    unknown_examples: list[int] = field(default_factory=list)  # first line numbers
    unmatched_frees: int = 0
    duration_s: float = 0.0

    def summary(self) -> str:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(self.events.items())) or "no events"
        text = f"{counts} over {self.duration_s:.3f} s; {len(self.ops)} workload steps"
        if self.unmatched_frees:
            text += f"; {self.unmatched_frees} frees of pages allocated before the trace began"
        if self.unknown_lines:
            where = ", ".join(str(n) for n in self.unknown_examples)
            text += f"; {self.unknown_lines} other lines skipped (e.g. line {where})"
        return text


def _pfn(value: str) -> int:
    return int(value, 16) if value.lower().startswith("0x") else int(value)


def parse_trace(text: str, min_gap_s: float = 0.001) -> TraceImport:
    """Turn trace text into workload operations (see the module docstring)."""
    out = TraceImport()
    live: set[int] = set()
    first_ts: float | None = None
    last_ts = 0.0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#") or line.startswith("cpus="):
            continue
        m = _EVENT.search(line)
        if m is None:
            out.unknown_lines += 1
            if len(out.unknown_examples) < 5:
                out.unknown_examples.append(number)
            continue
        args = dict(_ARG.findall(m["args"]))
        try:
            pfn = _pfn(args["pfn"])
            order = int(args.get("order", "0"))
        except (KeyError, ValueError):
            out.unknown_lines += 1
            if len(out.unknown_examples) < 5:
                out.unknown_examples.append(number)
            continue
        ts = float(m["ts"])
        if first_ts is None:
            first_ts = last_ts = ts
        if ts - last_ts >= min_gap_s:
            out.ops.append({"op": "advance", "seconds": round(ts - last_ts, 6)})
            last_ts = ts
        event = m["event"]
        out.events[event] += 1
        label = f"pfn{pfn}"
        if event == "mm_page_alloc":
            mt_index = int(args.get("migratetype", "1"))
            mt = _MT_NAMES[mt_index] if 0 <= mt_index < 3 else "Movable"
            out.ops.append({"op": "alloc", "order": order, "migratetype": mt, "label": label})
            live.add(pfn)
        elif pfn in live:
            out.ops.append({"op": "free", "label": label})
            live.discard(pfn)
        else:
            out.unmatched_frees += 1
    if first_ts is not None:
        out.duration_s = round(last_ts - first_ts, 6)
    return out


SAMPLE_WORKLOAD: list[dict[str, Any]] = [
    {"op": "alloc", "order": 0, "count": 48, "label": "pages"},
    {"op": "advance", "seconds": 0.25},
    {"op": "alloc", "order": 9, "count": 6, "migratetype": "Movable", "label": "thp"},
    {"op": "alloc", "order": 2, "count": 8, "migratetype": "Unmovable", "label": "kernel"},
    {"op": "advance", "seconds": 0.5},
    {"op": "free", "label": "pages", "fraction": 0.5},
    {"op": "advance", "seconds": 1.5},
    {"op": "free", "label": "thp"},
    {"op": "advance", "seconds": 2.5},
    {"op": "alloc", "order": 3, "count": 12, "migratetype": "Reclaimable", "label": "cache"},
    {"op": "free", "label": "kernel", "count": 4},
    {"op": "advance", "seconds": 0.75},
    {"op": "free", "label": "cache"},
    {"op": "free", "label": "pages"},
]


def sample_trace() -> str:
    """The sample shipped as ``traces/sample.trace`` (regenerated by a test)."""
    from ..kernel.node import Node, ZoneSpec

    node = Node(zones=[ZoneSpec("Normal", 0, 65536)], seed=2019, min_free_kbytes=0)
    header = "cpus=1\n"
    return header + generate_trace(node, SAMPLE_WORKLOAD)


def generate_trace(node: Node, ops: list[dict[str, Any]], comm: str = "buddyscope-2019") -> str:
    """Run ``ops`` on ``node`` and print its allocations/frees as ``trace-cmd report`` does.

    This is how the sample trace shipped with buddyscope was made; it also lets the
    replay be tested end to end on any machine.
    """
    runner = Runner()
    lines = []
    for op in ops:
        runner.apply(node, op)
        ts = 1000.0 + node.clock
        for e in node.take_events():
            d = e.to_dict()
            page = 0xFFFFEA0000000000 + d.get("pfn", 0) * 64
            if e.kind == "alloc":
                mt = node.migratetypes.index(d["migratetype"])
                lines.append(
                    f"{comm:>16}-4242  [000] {ts:12.6f}: mm_page_alloc:        page=0x{page:x} "
                    f"pfn={d['pfn']} order={d['order']} migratetype={mt} "
                    f"gfp_flags={_GFP[d['migratetype']]}"
                )
            elif e.kind == "free":
                lines.append(
                    f"{comm:>16}-4242  [000] {ts:12.6f}: mm_page_free:         page=0x{page:x} "
                    f"pfn={d['pfn']} order={d['order']}"
                )
    return "\n".join(lines) + "\n"
