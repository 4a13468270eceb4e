"""How long reading this machine frame by frame takes: `.venv/bin/python bench/kpageflags.py`.

Reads /proc/kpageflags (root only; ``--root`` points at another /proc and /sys tree,
such as a recording) ``--reads`` times, as the live view does once a second, and
reports per read, as medians:

1. the kernel's read (``os.pread`` in 4 MiB chunks): wall time and the system CPU time
   this process spent in it (the kernel computes every frame's flags on the read);
2. deriving free blocks, reported heads and frames by kind: wall and CPU time;
3. the diff against the read before (chunks of 4,096 frames that changed) and encoding
   the map for a watcher (zlib + base64), whole and as the diff;
4. ``buddyscope live --once --format json`` end to end (a fresh process), wall time;
5. with ``--page SECONDS``: ``buddyscope serve`` on a free loopback port and Debian's
   chromium (Playwright) on its live view for that long: how long until the whole map
   is drawn, and the page's frame times (``requestAnimationFrame`` intervals) while
   the map keeps updating.

CPU times matter on a shared machine: wall time there includes waiting for a core.
Figures go to stdout (``--json`` for JSON); docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from allocator_model.sources.kpageflags import ZoneSpan, changed_chunks, derive, read_raw
from allocator_model.sources.live import read_live
from backend.live import FrameMap

VENV_BIN = Path(sys.executable).parent


def cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def measure(root: str, reads: int, cli_runs: int) -> dict[str, Any]:
    snap = read_live(root)  # the zone spans, and a first reading to diff against
    if snap.frames is None:
        raise SystemExit("; ".join(snap.messages))
    spans = [
        ZoneSpan(z.node, z.zone, z.start_pfn, z.end_pfn - z.start_pfn) for z in snap.frames.zones
    ]
    path = os.path.join(root, "proc", "kpageflags")
    previous = FrameMap(0, snap.frames.kinds, [])
    rows: dict[str, list[float]] = {
        k: []
        for k in (
            "read_wall_ms",
            "read_sys_ms",
            "derive_wall_ms",
            "derive_cpu_ms",
            "diff_ms",
            "encode_diff_ms",
            "read_and_diff_cpu_ms",
        )
    }
    changed: list[int] = []
    for _ in range(reads):
        w0, (u0, s0) = time.perf_counter(), cpu()
        raw = read_raw(path)
        w1, (u1, s1) = time.perf_counter(), cpu()
        reading = derive(raw, spans)
        w2, (u2, s2) = time.perf_counter(), cpu()
        changed = changed_chunks(previous.kinds, reading.kinds)
        w3 = time.perf_counter()
        current = FrameMap(previous.gen + 1, reading.kinds, changed)
        current.part(full=False)
        w4, (u4, s4) = time.perf_counter(), cpu()
        rows["read_wall_ms"].append(ms(w1 - w0))
        rows["read_sys_ms"].append(ms(s1 - s0))
        rows["derive_wall_ms"].append(ms(w2 - w1))
        rows["derive_cpu_ms"].append(ms(u2 - u1 + s2 - s1))
        rows["diff_ms"].append(ms(w3 - w2))
        rows["encode_diff_ms"].append(ms(w4 - w3))
        rows["read_and_diff_cpu_ms"].append(ms(u4 - u0 + s4 - s0))
        previous = current
    w0 = time.perf_counter()
    whole = previous.part(full=True)
    encode_full = ms(time.perf_counter() - w0)
    cli = []
    for _ in range(cli_runs):
        w0 = time.perf_counter()
        subprocess.run(
            [str(VENV_BIN / "buddyscope"), "live", "--once", "--format", "json", "--root", root],
            check=True,
            capture_output=True,
        )
        cli.append(ms(time.perf_counter() - w0))
    figures: dict[str, Any] = {k: statistics.median(v) for k, v in rows.items()}
    figures.update(
        frames=snap.frames.frames,
        free_blocks=len(snap.frames.block_pfn),
        reported_pages=snap.frames.reported_pages,
        changed_chunks_last=len(changed),
        encode_full_ms=encode_full,
        full_map_base64_bytes=len(whole["data"]),
        cli_once_json_ms=statistics.median(cli) if cli else None,
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


def measure_page(root: str, seconds: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            str(VENV_BIN / "buddyscope"),
            "serve",
            "--no-open",
            "--port",
            str(port),
            "--proc-root",
            root,
        ],
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
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#btn-live")
            t0 = time.perf_counter()
            page.click("#btn-live")
            page.wait_for_function(
                "() => Number(document.querySelector('#live .live-frames').dataset.mapSeq) > 0",
                timeout=120_000,
            )
            first_map = ms(time.perf_counter() - t0)
            frames = page.evaluate(FRAME_TIMES.replace("SECONDS", str(seconds)))
            drawn = int(
                page.evaluate("document.querySelector('#live .live-frames').dataset.mapSeq")
            )
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "page_first_map_ms": first_map,
        "page_frames": len(frames),
        "page_frame_ms_p50": percentile(frames, 0.5),
        "page_frame_ms_p95": percentile(frames, 0.95),
        "page_frame_ms_max": percentile(frames, 1.0),
        "page_readings_drawn": drawn,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="/", help="a /proc and /sys tree (default: this machine)")
    parser.add_argument("--reads", type=int, default=5)
    parser.add_argument("--cli-runs", type=int, default=3)
    parser.add_argument("--page", type=float, default=0, metavar="SECONDS")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(args.root, args.reads, args.cli_runs)
    if args.page:
        figures.update(measure_page(args.root, args.page))
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>24}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
