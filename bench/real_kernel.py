"""The model against the real kernel: `.venv/bin/python bench/real_kernel.py` (root, a VM
with free page reporting).

1. A child process maps an anonymous buffer (``--mib``; order-0 pages, or with
   ``--thp`` transparent huge pages: whole pageblocks), writes a known pattern into
   every page and reads the pfns behind it from ``/proc/self/pagemap`` (bits 0-54 with
   bit 63 "present"; root only).
2. This process seeds a node from the machine at that moment (``read_seed``: the
   buffer's frames are allocated in it) on the newest rules with free page reporting.
3. The child unmaps the buffer: the kernel frees its pages (per-cpu lists, then the
   buddy lists, merging).  From then on, for ``--seconds``, this process re-reads only
   the frames around the buffer in ``/proc/kpageflags`` (windows of 1,024 frames, every
   ``--every`` seconds) and notes when each free block covering buffer frames appears and
   when its head becomes ``PG_reported``, with the ``page_reporting`` parameters
   (``passes``, ``reported_kib``: this kernel's own counters) as they move.
4. The model frees the same pfns, in the same order, as order-0 pages on CPU 0 at its
   time 0 and runs its rules for the same seconds: which of the buffer's blocks it
   reports, in which pass, when.  Twice: with its per-cpu lists, and without them (the
   pages straight to the buddy lists, as a THP's order-9 free ends up).
5. Both are compared: blocks reported by both, by one only, pages, times and passes.

Output: a text report (``--json`` for JSON); docs/real-kernel.md records runs and
explains every difference.  Other processes keep using memory during the run: the
kernel's side sees them, the model's does not.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import mmap
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from typing import Any

from allocator_model.kernel import events as ev
from allocator_model.sources.kpageflags import ZoneSpan
from allocator_model.sources.kpagereader import PATH, blocks_in
from allocator_model.sources.machine import MachineSeed, newest_kernel, node_from_seed
from allocator_model.sources.machineread import read_seed

PAGE = 4096
WINDOW = 1024  # frames: a window holds whole blocks of every order
PARAMS = "/sys/module/page_reporting/parameters"


def child(mib: int, thp: bool) -> int:
    """Map, fill, print the pfns; unmap when told; say when done."""
    size = mib << 20
    buf = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    buf.madvise(mmap.MADV_HUGEPAGE if thp else mmap.MADV_NOHUGEPAGE)
    pattern = bytes(range(256)) * (PAGE // 256)
    for off in range(0, size, PAGE):
        buf[off : off + PAGE] = pattern
    anchor = ctypes.c_char.from_buffer(buf)
    addr = ctypes.addressof(anchor)
    del anchor
    with open("/proc/self/pagemap", "rb") as f:
        f.seek(addr // PAGE * 8)
        entries = f.read(size // PAGE * 8)
    pfns = []
    for k in range(0, len(entries), 8):
        word = int.from_bytes(entries[k : k + 8], "little")
        if not word >> 63:
            raise SystemExit("a buffer page is not present")
        pfns.append(word & ((1 << 55) - 1))
    if not any(pfns):
        raise SystemExit("pagemap shows no pfns: run as root")
    print(json.dumps(pfns), flush=True)
    sys.stdin.readline()
    buf.close()  # munmap: every page of the buffer goes back to the kernel
    print("freed", flush=True)
    return 0


def params() -> dict[str, str]:
    out = {}
    for name in sorted(os.listdir(PARAMS)) if os.path.isdir(PARAMS) else []:
        with open(os.path.join(PARAMS, name)) as f:
            out[name] = f.read().strip()
    return out


def windows_of(pfns: Iterable[int]) -> list[tuple[int, int]]:
    """Runs of 1,024-frame windows that hold the buffer's frames: (first pfn, end pfn)."""
    starts = sorted({p // WINDOW * WINDOW for p in pfns})
    runs: list[list[int]] = []
    for s in starts:
        if runs and runs[-1][1] == s:
            runs[-1][1] = s + WINDOW
        else:
            runs.append([s, s + WINDOW])
    return [(a, b) for a, b in runs]


def covering(blocks: Iterable[tuple[int, int, int]], pfns: set[int]) -> dict[tuple[int, int], int]:
    """The free blocks holding at least one buffer frame: (pfn, order) -> reported."""
    return {(p, o): r for p, o, r in blocks if any(q in pfns for q in range(p, p + (1 << o)))}


def watch(
    pfns: list[int], seed: MachineSeed, seconds: float, every: float, start: float
) -> dict[str, Any]:
    spans = [ZoneSpan(0, z.name, z.start_pfn, z.spanned) for z in seed.zones]
    wins = windows_of(pfns)
    wanted = set(pfns)
    first_free: dict[tuple[int, int], float] = {}
    first_reported: dict[tuple[int, int], float] = {}
    samples = []
    passes0 = params().get("passes")
    while (now := time.monotonic() - start) <= seconds:
        found: dict[tuple[int, int], int] = {}
        for lo, hi in wins:
            found.update(covering(blocks_in(PATH, lo, hi, spans, seed.max_order - 1), wanted))
        for block, rep in found.items():
            first_free.setdefault(block, now)
            if rep:
                first_reported.setdefault(block, now)
        p = params()
        samples.append(
            {
                "t": round(now, 2),
                "free_pages": sum(1 << o for _, o in found),
                "reported_pages": sum(1 << o for (_, o), r in found.items() if r),
                "passes": p.get("passes"),
                "reported_kib": p.get("reported_kib"),
            }
        )
        time.sleep(max(0.0, every - (time.monotonic() - start - now)))
    final = {b: r for b, r in found.items()}
    return {
        "final": final,
        "first_free": first_free,
        "first_reported": first_reported,
        "samples": samples,
        "passes_before": passes0,
        "passes_after": params().get("passes"),
    }


def model_run(seed: MachineSeed, pfns: list[int], seconds: float, pcp: bool) -> dict[str, Any]:
    node = node_from_seed(seed, pcp=pcp)
    node.take_events()
    for pfn in pfns:
        node.free(pfn, 0, cpu=0)  # the child ran on one CPU
    wanted = set(pfns)
    first_reported: dict[tuple[int, int], float] = {}
    report_pass: dict[tuple[int, int], int] = {}
    strategy: Any = node.strategy
    step = 0.05
    t = 0.0
    while t < seconds:
        t = round(t + step, 3)
        node.advance_to_ns(round(t * 1e9))
        for e in node.take_events():
            if isinstance(e, ev.FlagSet):
                block = (e.pfn, e.order)
                if any(q in wanted for q in range(e.pfn, e.pfn + (1 << e.order))):
                    first_reported.setdefault(block, t)
                    report_pass.setdefault(block, strategy.passes)
    final: dict[tuple[int, int], int] = {}
    for z in node.zones:
        for p in sorted({q - z.start_pfn for q in wanted if z.contains(q)}):
            head = p
            while head >= 0 and not z.buddy_order[head]:
                head -= 1
            if head < 0:
                continue
            order = z.buddy_order[head] - 1
            if head + (1 << order) > p:
                final[(z.start_pfn + head, order)] = z.flags[head]
    return {
        "kernel": node.kernel,
        "final": final,
        "first_reported": first_reported,
        "report_pass": report_pass,
        "passes": strategy.passes,
        "pcp_pages": sum(pcp.count for pcp in node.pcps.values()),
    }


def compare(real: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    kr = {b for b, r in real["final"].items() if r}
    mr = {b for b, r in model["final"].items() if r}
    both, real_only, model_only = kr & mr, kr - mr, mr - kr

    def pages(blocks: set[tuple[int, int]]) -> int:
        return sum(1 << o for _, o in blocks)

    delays = [
        round(real["first_reported"][b] - model["first_reported"][b], 2)
        for b in sorted(both)
        if b in real["first_reported"] and b in model["first_reported"]
    ]
    return {
        "reported_by_both": len(both),
        "reported_by_kernel_only": len(real_only),
        "reported_by_model_only": len(model_only),
        "pages_reported_kernel": pages(kr),
        "pages_reported_model": pages(mr),
        "pages_agreed": pages(both),
        "agreement": round(pages(both) / max(1, pages(kr | mr)), 3),
        "kernel_minus_model_s": delays,
        "kernel_only": sorted(real_only)[:20],
        "model_only": sorted(model_only)[:20],
        "free_kernel_unreported": sorted(b for b, r in real["final"].items() if not r)[:20],
        "free_model_unreported": sorted(b for b, r in model["final"].items() if not r)[:20],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256, help="buffer size (MiB)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to watch")
    parser.add_argument("--every", type=float, default=0.25, help="seconds between samples")
    parser.add_argument(
        "--thp",
        action="store_true",
        help="let the buffer be transparent huge pages (whole pageblocks; freed as order 9)",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.thp)
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", str(args.mib)] + (["--thp"] if args.thp else []),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    pfns: list[int] = json.loads(proc.stdout.readline())
    t0 = time.monotonic()
    seed = read_seed("/")
    seed_s = time.monotonic() - t0
    before = params()
    proc.stdin.write("free\n")
    proc.stdin.flush()
    if proc.stdout.readline().strip() != "freed":
        raise SystemExit("the child did not free its buffer")
    start = time.monotonic()
    real = watch(pfns, seed, args.seconds, args.every, start)
    proc.wait(timeout=60)
    model = model_run(seed, pfns, args.seconds, pcp=True)
    no_pcp = model_run(seed, pfns, args.seconds, pcp=False)
    per_block: dict[int, int] = {}
    for p in pfns:
        per_block[p >> 9] = per_block.get(p >> 9, 0) + 1
    result = {
        "mib": args.mib,
        "thp": args.thp,
        "pages": len(pfns),
        "whole_pageblocks": sum(n == 512 for n in per_block.values()),
        "seconds": args.seconds,
        "kernel_release": seed.release,
        "model_rules": newest_kernel(),
        "seed_s": round(seed_s, 2),
        "params_before": before,
        "params_after": params(),
        "kernel_passes": [real["passes_before"], real["passes_after"]],
        "model_passes": model["passes"],
        "model_pcp_pages_left": model["pcp_pages"],
        "compare": compare(real, model),
        "compare_without_pcp": compare(real, no_pcp),
        "model_without_pcp_passes": no_pcp["passes"],
        "kernel_first_reported_s": sorted(round(v, 2) for v in real["first_reported"].values()),
        "model_first_reported_s": sorted(model["first_reported"].values()),
        "model_report_passes": sorted(set(model["report_pass"].values())),
        "samples": real["samples"],
    }
    if args.json:
        print(json.dumps(result, default=str))
    else:
        for key, value in result.items():
            if key != "samples":
                print(f"{key:>26}  {value}")
        for s in result["samples"][:: max(1, len(result["samples"]) // 20)]:
            print(f"{'':>26}  {s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
