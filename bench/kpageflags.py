"""How long reading this machine frame by frame takes: `.venv/bin/python bench/kpageflags.py`.

Reads /proc/kpageflags (root only; ``--root`` points at another /proc and /sys tree,
such as a recording) and reports, as medians of ``--reads`` readings:

1. a whole reading (``read_raw``: ``os.preadv`` a window of 1 MiB at a time,
   ``READ_THREADS`` threads, ``--read-threads`` to change it): wall time and the system
   CPU time spent in it (the kernel computes every frame's flags on the read);
2. deriving free blocks, reported heads, frames by kind and the map from it (``derive``),
   and counting them without the map (``count``, what ``--once`` prints): wall and CPU
   time; then reading and counting as ``--once`` does (``read_counts``: each window
   counted by the thread that read it while the others read on), wall and CPU time;
3. a live tick as the server's worker makes it once a second: ``FrameReader.read()``
   (after its first, whole reading: the busy windows and the next in turn, 1 Mi
   frames), the diff against the reading before (chunks of 4,096 frames that changed)
   and encoding the diff for a watcher (zlib + base64), in CPU time (user + system),
   and the whole map's encoding for a new watcher;
4. ``buddyscope live --once --format json`` end to end (a fresh process), wall and
   CPU time (its children's);
5. seeding a node from the machine: ``read_seed`` (a whole reading, zoneinfo,
   pagetypeinfo, the pageblock types) and ``node_from_seed``, in CPU time;
6. with ``--page SECONDS``: ``buddyscope serve`` on a free loopback port and Debian's
   chromium (Playwright) on its live view for that long: how long until the whole map
   is drawn, and the page's frame times (``requestAnimationFrame`` intervals) while
   the map keeps updating.

CPU times matter on a shared machine: wall time there includes waiting for a core.
Figures go to stdout (``--json`` for JSON); docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from allocator_model.sources import kpagereader
from allocator_model.sources.kpageflags import (
    FrameReading,
    ZoneSpan,
    changed_chunks,
    count,
    derive,
)
from allocator_model.sources.kpagereader import FrameReader, read_counts, read_raw
from allocator_model.sources.live import read_live
from allocator_model.sources.machine import MachineSeed, node_from_seed
from allocator_model.sources.machineread import read_seed
from backend.live import FrameMap

VENV_BIN = Path(sys.executable).parent


def cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def measure(root: str, reads: int, cli_runs: int) -> dict[str, Any]:
    snap = read_live(root)  # the zone spans, and a first reading
    if not isinstance(snap.frames, FrameReading):
        raise SystemExit("; ".join(snap.messages))
    spans = [
        ZoneSpan(z.node, z.zone, z.start_pfn, z.end_pfn - z.start_pfn) for z in snap.frames.zones
    ]
    path = os.path.join(root, "proc", "kpageflags")
    rows: dict[str, list[float]] = {
        k: []
        for k in (
            "whole_read_wall_ms",
            "whole_read_sys_ms",
            "derive_wall_ms",
            "derive_cpu_ms",
            "count_cpu_ms",
            "read_count_wall_ms",
            "read_count_cpu_ms",
            "tick_wall_ms",
            "tick_cpu_ms",
            "tick_read_sys_ms",
            "tick_frames_read",
            "diff_ms",
            "encode_diff_ms",
        )
    }
    for _ in range(reads):
        w0, (u0, s0) = time.perf_counter(), cpu()
        raw = read_raw(path, spans)
        w1, (u1, s1) = time.perf_counter(), cpu()
        derive(raw, spans)
        w2, (u2, s2) = time.perf_counter(), cpu()
        count(raw, spans)
        w3, (u3, s3) = time.perf_counter(), cpu()
        read_counts(spans, path)
        w4, (u4, s4) = time.perf_counter(), cpu()
        rows["whole_read_wall_ms"].append(ms(w1 - w0))
        rows["whole_read_sys_ms"].append(ms(s1 - s0))
        rows["derive_wall_ms"].append(ms(w2 - w1))
        rows["derive_cpu_ms"].append(ms(u2 - u1 + s2 - s1))
        rows["count_cpu_ms"].append(ms(u3 - u2 + s3 - s2))
        rows["read_count_wall_ms"].append(ms(w4 - w3))
        rows["read_count_cpu_ms"].append(ms(u4 - u3 + s4 - s3))
    reader = FrameReader(spans, path)
    previous = FrameMap(0, reader.read().kinds, [])  # the first, whole reading
    changed: list[int] = []
    for _ in range(reads):
        w0, (u0, s0) = time.perf_counter(), cpu()
        reading = reader.read()
        (u1, s1) = cpu()
        w1 = time.perf_counter()
        changed = changed_chunks(previous.kinds, reading.kinds)
        w2 = time.perf_counter()
        current = FrameMap(previous.gen + 1, reading.kinds, changed)
        current.part(full=False)
        w3, (u3, s3) = time.perf_counter(), cpu()
        rows["tick_cpu_ms"].append(ms(u3 - u0 + s3 - s0))
        rows["tick_wall_ms"].append(ms(w3 - w0))
        rows["tick_read_sys_ms"].append(ms(s1 - s0))
        rows["tick_frames_read"].append(reading.frames_read)
        rows["diff_ms"].append(ms(w2 - w1))
        rows["encode_diff_ms"].append(ms(w3 - w2))
        previous = current
    w0 = time.perf_counter()
    whole = previous.part(full=True)
    encode_full = ms(time.perf_counter() - w0)
    cli, cli_cpu = [], []
    for _ in range(cli_runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        w0 = time.perf_counter()
        subprocess.run(
            [str(VENV_BIN / "buddyscope"), "live", "--once", "--format", "json", "--root", root],
            check=True,
            capture_output=True,
        )
        cli.append(ms(time.perf_counter() - w0))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli_cpu.append(ms(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime))
    seeding: dict[str, list[float]] = {
        "seed_read_cpu_ms": [],
        "seed_read_wall_ms": [],
        "seed_node_cpu_ms": [],
        "seed_total_cpu_ms": [],
    }
    for _ in range(reads):
        w0, (u0, s0) = time.perf_counter(), cpu()
        machine = read_seed(root)
        w1, (u1, s1) = time.perf_counter(), cpu()
        node_from_seed(machine)
        (u2, s2) = cpu()
        seeding["seed_read_wall_ms"].append(ms(w1 - w0))
        seeding["seed_read_cpu_ms"].append(ms(u1 - u0 + s1 - s0))
        seeding["seed_node_cpu_ms"].append(ms(u2 - u1 + s2 - s1))
        seeding["seed_total_cpu_ms"].append(ms(u2 - u0 + s2 - s0))
    rows.update(seeding)
    figures: dict[str, Any] = {k: statistics.median(v) for k, v in rows.items()}
    figures.update(
        frames=snap.frames.frames,
        free_blocks=len(snap.frames.block_pfn),
        reported_pages=snap.frames.reported_pages,
        changed_chunks_last=len(changed),
        encode_full_ms=encode_full,
        full_map_base64_bytes=len(whole["data"]),
        cli_once_json_ms=statistics.median(cli) if cli else None,
        cli_once_json_cpu_ms=statistics.median(cli_cpu) if cli_cpu else None,
        read_threads=kpagereader.READ_THREADS,
        load_average=os.getloadavg()[0],
    )
    return figures


FRAME_TIMES = """() => new Promise((done) => { const out = []; let last = performance.now();
  const end = last + SECONDS * 1000;
  const tick = (now) => { out.push(now - last); last = now;
    if (now < end) requestAnimationFrame(tick); else done(out); };
  requestAnimationFrame(tick); })"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


@contextlib.contextmanager
def page_on_server(*serve_args: str) -> Iterator[tuple[str, Any]]:
    """``buddyscope serve`` on a free loopback port and a Chromium page (1280x900) to
    point at it: (the server's URL, the page)."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [str(VENV_BIN / "buddyscope"), "serve", "--no-open", "--port", str(port), *serve_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:  # the server says when it listens
            if "dashboard at" in line:
                break
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
            )
            yield (
                f"http://127.0.0.1:{port}",
                browser.new_page(viewport={"width": 1280, "height": 900}),
            )
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def measure_page(root: str, seconds: float) -> dict[str, Any]:
    with page_on_server("--proc-root", root) as (url, page):
        page.goto(f"{url}/")
        page.wait_for_selector("#btn-live")
        t0 = time.perf_counter()
        page.click("#btn-live")
        page.wait_for_function(
            "() => Number(document.querySelector('#live .live-frames').dataset.mapSeq) > 0",
            timeout=120_000,
        )
        first_map = ms(time.perf_counter() - t0)
        frames = page.evaluate(FRAME_TIMES.replace("SECONDS", str(seconds)))
        drawn = int(page.evaluate("document.querySelector('#live .live-frames').dataset.mapSeq"))
    return {
        "page_first_map_ms": first_map,
        "page_frames": len(frames),
        "page_frame_ms_p50": percentile(frames, 0.5),
        "page_frame_ms_p95": percentile(frames, 0.95),
        "page_frame_ms_max": percentile(frames, 1.0),
        "page_readings_drawn": drawn,
    }


def grown(machine: MachineSeed, frames: int) -> MachineSeed:
    """The seed with its last zone grown so that the node spans ``frames`` frames, its
    free blocks and pageblock types repeated along it (a bigger machine of the same
    kind, for the page's size target: 64 GiB is 16 M frames)."""
    last = machine.zones[-1]
    spanned = frames - last.start_pfn
    pfns, orders, marks = [], bytearray(), bytearray()
    for r in range(spanned // last.spanned + 1):
        off = r * last.spanned
        for p, o, m in zip(last.block_pfn, last.block_order, last.block_reported, strict=True):
            if p + off + (1 << o) <= last.start_pfn + spanned:
                pfns.append(p + off)
                orders.append(o)
                marks.append(m)
    blocks = (
        (last.start_pfn + spanned - 1 >> machine.pageblock_order)
        - (last.start_pfn >> machine.pageblock_order)
        + 1
    )
    zone = dataclasses.replace(
        last,
        spanned=spanned,
        present=spanned,
        managed=spanned,
        absent=(),
        block_pfn=tuple(pfns),
        block_order=bytes(orders),
        block_reported=bytes(marks),
        pageblock_types=(last.pageblock_types * (blocks // len(last.pageblock_types) + 1))[:blocks],
        pagetypeinfo_free=None,
    )
    return dataclasses.replace(machine, zones=(*machine.zones[:-1], zone), notes=())


def measure_big_session(root: str, frames: int, seconds: float) -> dict[str, Any]:
    """A session seeded from the machine grown to ``frames`` frames, in the page: how
    long it takes to open, and the frame times while it steps (reporting passes and
    allocations) for ``seconds``."""
    import urllib.request

    doc = grown(read_seed(root), frames).to_json()
    with page_on_server() as (url, page):
        w0 = time.perf_counter()
        request = urllib.request.Request(
            f"{url}/api/sessions",
            data=json.dumps({"machine": doc}).encode(),
            headers={"content-type": "application/json", "x-buddyscope-client": "bench"},
        )
        with urllib.request.urlopen(request, timeout=600) as answer:
            created = json.load(answer)
        create_ms = ms(time.perf_counter() - w0)
        w0 = time.perf_counter()
        page.goto(f"{url}/?session={created['id']}&token={created['token']}")
        page.wait_for_function(SETTLED, timeout=600_000)
        open_ms = ms(time.perf_counter() - w0)
        page.evaluate(STEPPING.replace("SECONDS", str(seconds)))
        times = page.evaluate(FRAME_TIMES.replace("SECONDS", str(seconds)))
        page.wait_for_function(SETTLED, timeout=600_000)
        stepped = page.evaluate("window.__buddyscope.state.step")
        answers = page.evaluate("window.__answers")
    return {
        "big_frames": frames,
        "big_create_ms": create_ms,
        "big_open_ms": open_ms,
        "big_steps": stepped,
        "big_commands": len(answers),
        "big_refused": [a for a in answers if "ack" not in a][:3],
        "big_frame_ms_p50": percentile(times, 0.5),
        "big_frame_ms_p95": percentile(times, 0.95),
        "big_frame_ms_max": percentile(times, 1.0),
    }


SETTLED = """() => { const b = window.__buddyscope;
  return b && b.configured && b.state !== null && b.renderedSeq === b.seq && b.connected
    && !b.drawPending; }"""
# Steps for SECONDS while the frame times are taken: an allocation, then the next step
# (the model's own work: reporting), one command at a time.
STEPPING = """() => { const b = window.__buddyscope; const end = performance.now() + SECONDS * 1000;
  window.__answers = [];
  const next = async (k) => { if (performance.now() > end) return;
    const r = await (k % 2 ? b.send('step', {}) : b.send('alloc', {order: 9}));
    window.__answers.push(r);
    setTimeout(() => next(k + 1), 50); };
  next(0); }"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="/", help="a /proc and /sys tree (default: this machine)")
    parser.add_argument("--reads", type=int, default=5)
    parser.add_argument("--cli-runs", type=int, default=3)
    parser.add_argument(
        "--read-threads",
        type=int,
        default=kpagereader.READ_THREADS,
        help="threads that read at once in this process (not in the CLI's)",
    )
    parser.add_argument("--page", type=float, default=0, metavar="SECONDS")
    parser.add_argument(
        "--big-session",
        type=float,
        default=0,
        metavar="SECONDS",
        help="a session seeded from the machine grown to --big-frames in the page, stepped "
        "for SECONDS",
    )
    parser.add_argument("--big-frames", type=int, default=1 << 24)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    kpagereader.READ_THREADS = args.read_threads
    figures = measure(args.root, args.reads, args.cli_runs)
    if args.page:
        figures.update(measure_page(args.root, args.page))
    if args.big_session:
        figures.update(measure_big_session(args.root, args.big_frames, args.big_session))
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>24}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
