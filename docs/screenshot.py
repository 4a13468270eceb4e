"""Regenerate docs/screenshot.png from the real page (run: make screenshot).

Serves the default scenario on a free loopback port, opens it in Debian's Chromium
through Playwright, waits for the first snapshot to be drawn, and saves a picture.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import threading
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from backend.app import create_app
from backend.scenarios import build_default
from backend.server import NotifyingServer

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1580)
    parser.add_argument("--full-page", action="store_true")
    parser.add_argument("--scale", type=float, default=1.0, help="device scale factor")
    parser.add_argument("--clip", help="x,y,width,height of a region to save")
    parser.add_argument(
        "--collapse", default="DMA,DMA32", help="zones to fold away first, as a reader would"
    )
    args = parser.parse_args()

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = NotifyingServer(uvicorn.Config(create_app(build_default), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "chromium"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
            )
            page = browser.new_page(
                viewport={"width": args.width, "height": args.height},
                device_scale_factor=args.scale,
            )
            if not server.ready.wait(timeout=60) or not server.started:
                raise SystemExit("the server did not start")
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_function("() => window.__buddyscope?.snapshotSeq >= 1")
            for zone in filter(None, args.collapse.split(",")):
                page.click(f'.zone[data-zone="{zone}"] > summary')
            clip = None
            if args.clip:
                x, y, w, h = (float(v) for v in args.clip.split(","))
                clip = {"x": x, "y": y, "width": w, "height": h}
            page.screenshot(path=str(args.out), full_page=args.full_page, clip=clip)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
