"""Regenerate docs/screenshot.png from the real page (run: make screenshot).

Serves the app on a free loopback port, opens the page in Debian's Chromium through
Playwright with the address a teacher would share (by default the v2 boundary lesson in
the middle of its hinting cycle), steps to the chosen step, waits until that state is
drawn and every animation has finished, and saves a picture.  ``served_pages`` is also
what docs/walkthrough.py drives.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from allocator_model.sources.builtin import build_small
from backend.app import create_app
from backend.server import NotifyingServer

ROOT = Path(__file__).resolve().parents[1]

SETTLED = """() => { const b = window.__buddyscope;
  return b && b.configured && b.state !== null && b.renderedSeq === b.seq && !b.drawPending
    && !b.animating && b.step === b.state.step; }"""


@contextmanager
def served_pages() -> Iterator[tuple[str, Browser]]:
    """The app on a free loopback port and this machine's Chromium: (base URL, browser)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = NotifyingServer(uvicorn.Config(create_app(build_small), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "chromium"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
            )
            if not server.ready.wait(timeout=60) or not server.started:
                raise SystemExit("the server did not start")
            yield f"http://127.0.0.1:{port}/", browser
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def settle(page: Page, step: int | None = None) -> None:
    """Wait until ``step`` (None: the session's step) is drawn and every animation has
    finished."""
    if step is not None:
        page.wait_for_function(f"() => window.__buddyscope?.step === {step}", timeout=60_000)
    page.wait_for_function(SETTLED, timeout=60_000)
    page.wait_for_function("() => document.getAnimations().length === 0", timeout=60_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--query", default="?scenario=v2-boundary")
    parser.add_argument("--step", type=int, default=6, help="step to show")
    parser.add_argument("--full-page", action="store_true")
    parser.add_argument("--scale", type=float, default=1.0, help="device scale factor")
    parser.add_argument("--clip", help="x,y,width,height of a region to save")
    parser.add_argument("--hover", type=int, help="pfn to hover on the memory map")
    args = parser.parse_args()

    with served_pages() as (base, browser):
        page = browser.new_page(
            viewport={"width": args.width, "height": args.height},
            device_scale_factor=args.scale,
        )
        sep = "&" if "?" in args.query else "?"
        page.goto(f"{base}{args.query}{sep}step={args.step}")
        settle(page, args.step)
        if args.hover is not None:
            point = page.evaluate(
                "(p) => window.__buddyscope.clientPoint(window.__buddyscope.selectedZone, p)",
                args.hover,
            )
            page.mouse.move(point["x"], point["y"])
        clip = None
        if args.clip:
            x, y, w, h = (float(v) for v in args.clip.split(","))
            clip = {"x": x, "y": y, "width": w, "height": h}
        page.screenshot(path=str(args.out), full_page=args.full_page, clip=clip)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
