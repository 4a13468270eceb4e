"""One notation for pfns (issue 11, point 9), in Chromium: hex, as the kernel prints pfns
in its traces and as the chips show them, in the narration, the log, the quiz, the
inspector and the chips' labels, with the decimal value on hover; a phase's sentence is
said once, in the narration and in the log.  One page load, stepped by keyboard.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from browserkit import debug, open_dashboard, settle, shot, watched_page
from playwright.sync_api import Browser, Page
from wirehelp import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

#: A pfn written in decimal ("pfn 90112", "pfns 4096"), the notation that must be gone.
DECIMAL_PFN = re.compile(r"\bpfns? (?!0x)\d")

#: The texts a class reads, every hex number drawn with its hover text, and any drawn
#: without one (outside a kernel function's name).
READ = """() => {
  const t = (sel) => [...document.querySelectorAll(sel)].map((el) => el.textContent).join(' | ');
  return {
    narration: t('#narration'), log: t('#log .log-step.current'), quiz: t('#quiz'),
    inspector: t('#inspector'),
    spans: [...document.querySelectorAll('#narration .pfn, #log .pfn, #quiz .pfn, #inspector .pfn')]
      .map((s) => [s.textContent, s.title]),
    bare: [...document.querySelectorAll('#narration, #log .log-step.current, #quiz, #inspector')]
      .flatMap((root) => {
        const out = [];
        const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let n = walk.nextNode(); n; n = walk.nextNode()) {
          if (n.parentElement.closest('.pfn, code')) continue;
          out.push(...(n.textContent.match(/\\b0x[0-9a-f]+\\b/g) ?? []));
        }
        return out;
      }),
  };
}"""


def read(pg: Page) -> dict[str, Any]:
    got: dict[str, Any] = pg.evaluate(READ)
    return got


def check_hex(got: dict[str, Any]) -> None:
    """No pfn in decimal anywhere; every hex number has its decimal value on hover."""
    for where in ("narration", "log", "quiz", "inspector"):
        assert not DECIMAL_PFN.search(got[where]), (where, got[where])
    assert got["spans"] and got["bare"] == [], got
    for text, title in got["spans"]:
        assert title == f"{int(text, 16)} in decimal", (text, title)


def step_to(pg: Page, step: int) -> None:
    pg.wait_for_function(f"() => window.__buddyscope.step === {step}")
    settle(pg)


def test_pfns_are_hex_everywhere_with_decimal_on_hover_and_a_phase_says_it_once(
    live: LiveServer, browser: Browser
) -> None:
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=buddy-basics")
        pg.locator("body").click(position={"x": 5, "y": 5})
        pg.keyboard.press("q")  # quiz mode: the lesson asks which pfn the allocation returns
        pg.wait_for_function("() => window.__buddyscope.quiz.mode === 'idle'")
        # Step 1, a phase: its sentence once in the narration and once in the log.
        pg.keyboard.press("ArrowRight")
        step_to(pg, 1)
        events = debug(pg, "state.events")
        assert [e["kind"] for e in events] == ["phase"]
        sentence = events[0]["message"]
        got = read(pg)
        assert got["narration"].count(sentence) == 1 and got["log"].count(sentence) == 1, got
        check_hex(got)
        # Step 2 is asked about first; skipped, the reveal names the pfn in hex.
        pg.keyboard.press("ArrowRight")
        pg.wait_for_function("() => window.__buddyscope.quiz.mode === 'asking'")
        assert debug(pg, "quiz.question.kind") == "which_pfn"
        # The reply field names the format, never an example pfn (one could be the answer).
        assert "hex (0x" in (pg.get_attribute(".quiz-input", "placeholder") or "")
        pg.keyboard.press("Escape")
        pg.wait_for_function("() => window.__buddyscope.quiz.mode === 'revealed'")
        step_to(pg, 2)
        alloc = next(e for e in debug(pg, "state.events") if e["kind"] == "alloc")
        answer = pg.text_content("#quiz .quiz-answer-text")
        assert answer == f"pfn {alloc['pfn']:#x}", answer
        # The split cascade: every sentence names its pfns in hex, the decimal on hover.
        splits = [e for e in debug(pg, "state.events") if e["kind"] == "split"]
        assert len(splits) == 10
        assert f"(pfn {splits[0]['half_pfn']:#x}, order 9)" in splits[0]["message"]
        got = read(pg)
        check_hex(got)
        assert len(got["spans"]) >= 3 * len(splits)
        shot(pg, "pfns-in-hex")
        # The chips: hex, and the decimal in their label.
        chips = pg.evaluate(
            """() => [...document.querySelectorAll('#freelists .chip[data-pfn]')]
              .map((c) => [Number(c.dataset.pfn), c.textContent, c.title])"""
        )
        assert len(chips) >= 10
        for pfn, text, title in chips:
            assert text.startswith(f"{pfn:#x}") and f"pfn {pfn:#x} ({pfn})" in title, title
        # The inspector: the block in hex (its decimal on hover, not printed beside it).
        pfn = chips[0][0]
        pg.click(f'#freelists .chip[data-pfn="{pfn}"]')
        pg.wait_for_function(
            """() => { const i = document.querySelector('#inspector');
              return !i.hidden && i.querySelector('.kdump') !== null; }"""
        )
        got = read(pg)
        check_hex(got)
        head = pg.locator("#inspector .insp-head h3")
        assert head.text_content() == f"pfn {pfn:#x}"
        assert head.locator(".pfn").get_attribute("title") == f"{pfn} in decimal"
        assert problems == [], problems
