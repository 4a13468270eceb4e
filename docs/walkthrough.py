"""Regenerate docs/walkthrough.md: every library scenario, chapter by chapter, as a new
user sees it at 1280x720 (run: make walkthrough).

For each scenario the page is opened at ``?scenario=NAME`` and walked with the key a
user has for it: ``]`` goes to the next chapter, whose phase text describes what is on
screen there (and names what comes next).  Each picture is a JPEG of the whole window
once the chapter's step is drawn and still; docs/walkthrough.md lists them with the
chapter's words.
"""

from __future__ import annotations

import argparse
import json
import shutil
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Page
from screenshot import ROOT, served_pages, settle

COMMAND = "make walkthrough"

CHAPTERS = """async () => {
  const { chapterRanges } = await import('./lib/chapters.js');
  const s = window.__buddyscope.state;
  return chapterRanges(s.chapters, s.marks, s.timelineLength); }"""


def narration(page: Page) -> list[str]:
    """What the step on screen says: its phase text, then the event that carries its
    point (lib/handout.js, as the handout quotes it)."""
    return list(
        page.evaluate(
            """async () => (await import('./lib/handout.js'))
                .stepSays(window.__buddyscope.state.events)"""
        )
    )


def walk(page: Page, base: str, name: str, images: Path, quality: int) -> list[dict[str, Any]]:
    """The scenario's chapters, each with its text and the picture of it done."""
    page.goto(f"{base}?scenario={name}")
    settle(page)
    page.wait_for_function("() => document.querySelectorAll('#outline li[data-step]').length > 0")
    chapters: list[dict[str, Any]] = page.evaluate(CHAPTERS)
    for i, chapter in enumerate(chapters):
        page.locator("body").press("]")
        settle(page, chapter["step"])
        chapter["says"] = narration(page)
        shot = images / f"{name}-{i + 1:02d}.jpg"
        page.screenshot(path=str(shot), type="jpeg", quality=quality)
        chapter["image"] = shot.relative_to(images.parent).as_posix()
    return chapters


def markdown(scenarios: list[dict[str, Any]]) -> str:
    out = [
        "# A new user's walkthrough of the twelve lessons",
        "",
        "Every library scenario as the page shows it at 1280x720, chapter by chapter, as "
        "`]` (next chapter) opens each: the chapter's narration, then the page at that "
        "step. Regenerate it with "
        f"`{COMMAND}` (docs/walkthrough.py: it serves the app, drives Chromium and "
        "rewrites this file and docs/walkthrough/).",
        "",
    ]
    for sc in scenarios:
        out += [f"- [{sc['title']}](#{sc['name']}) (`?scenario={sc['name']}`)"]
    for sc in scenarios:
        out += ["", f'<a id="{sc["name"]}"></a>', "", f"## {sc['title']}", "", sc["summary"], ""]
        out += [f"Open it: `/?scenario={sc['name']}` · {len(sc['chapters'])} chapters", ""]
        for i, ch in enumerate(sc["chapters"], 1):
            steps = (
                f"step {ch['step']}"
                if ch["end"] == ch["step"]
                else f"steps {ch['step']} to {ch['end']}"
            )
            out += [f"### {i}. {ch['title']} ({steps})", ""]
            out += [f"> {line}" for line in ch["says"][:1]] + [""]
            out += [f"{line}" for line in ch["says"][1:]] + [""] * bool(ch["says"][1:])
            if ch.get("notes"):
                out += [f"*To discuss:* {ch['notes']}", ""]
            caption = f"{sc['title']}, chapter {i}: the page at step {ch['step']}"
            out += [f"![{caption}]({ch['image']})", ""]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "walkthrough.md")
    parser.add_argument("--quality", type=int, default=60, help="JPEG quality")
    parser.add_argument("--only", nargs="*", help="these scenarios (default: every lesson)")
    args = parser.parse_args()
    images = args.out.parent / "walkthrough"
    if not args.only:
        shutil.rmtree(images, ignore_errors=True)
    images.mkdir(parents=True, exist_ok=True)
    with served_pages() as (base, browser):
        with urllib.request.urlopen(f"{base}api/scenarios") as r:
            infos = [s for s in json.load(r) if s["source"] == "library"]
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        scenarios = []
        for info in infos:
            if args.only and info["name"] not in args.only:
                continue
            print(f"walking {info['name']} ...", flush=True)
            chapters = walk(page, base, info["name"], images, args.quality)
            scenarios.append({**info, "chapters": chapters})
    args.out.write_text(markdown(scenarios) + "\n")
    total = sum(p.stat().st_size for p in images.glob("*.jpg"))
    print(f"saved {args.out} and {len(list(images.glob('*.jpg')))} pictures ({total / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
