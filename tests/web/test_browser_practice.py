"""The practice page in Chromium at 1280x720: an exercise opened by its address, a wrong
reply answered with a hint (no answer, no explanation), the right one with the model's
events and the zone afterwards, "next exercise", and the address reproducing the same
exercise; reached from the lessons' header.  No console errors or warnings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browserkit import SHOTS, watched_page
from playwright.sync_api import Browser, Page, expect
from wirehelp import LiveServer, serve

from allocator_model.lab.practice import exercise
from allocator_model.sources.builtin import build_small
from backend.app import create_app

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    with serve(create_app(build_small)) as server:
        yield server


#: Facts of the header cut off at 1280 px: outside their box, or the seed or kernel not whole.
FACTS_CUT = """() => { const box = document.querySelector('.session-facts').getBoundingClientRect();
  return [...document.querySelectorAll('.session-facts > *')].filter((f) => {
    const r = f.getBoundingClientRect();
    const whole = /^seed|^Linux [0-9.]+$/.test(f.textContent);  // never cut short
    return r.right > box.right + 0.5 || (whole && f.scrollWidth > f.clientWidth);
  }).map((f) => f.textContent.slice(0, 30)); }"""


#: The map key's states cut off or squeezed at 1280 px (each must show whole).
KEY_CUT = """() => { const key = document.querySelector('#legend-map-short');
  const box = key.getBoundingClientRect();
  return [...key.querySelectorAll(':scope > .legend-item')].filter((item) => {
    const r = item.getBoundingClientRect();
    return r.right > box.right + 0.5 || r.bottom > box.bottom + 0.5
      || item.scrollWidth > r.width + 0.5 || r.height > 24;
  }).map((item) => item.textContent); }"""


def loaded(page: Page, kind: str, seed: int) -> None:
    page.wait_for_function(
        """([kind, seed]) => { const p = window.__practice?.debug();
          return p && p.exercise && p.exercise.kind === kind && p.exercise.seed === seed; }""",
        arg=[kind, seed],
    )


def shown(page: Page) -> list[str]:
    return page.locator("#px-events li").all_inner_texts()


def test_an_exercise_by_address_answered_wrong_then_right(
    browser: Browser, live: LiveServer
) -> None:
    ex = exercise("merge", 42)
    with watched_page(browser) as (page, problems):
        page.goto(live.url + "practice.html?kind=merge&seed=42")
        loaded(page, "merge", 42)
        expect(page.locator("#px-ask")).to_have_text(ex.ask)
        expect(page.locator("#px-setup li")).to_have_count(len(ex.setup))
        # the pfns of the setup lines are hex with their decimal on hover
        first = page.locator("#px-setup li span.pfn").first
        value = int(first.inner_text(), 16)
        expect(first).to_have_attribute("title", f"{value} in decimal")
        # every free list of the zone shown, head -> tail, in hex
        for fl in ex.before["lists"]:
            where = f'[data-order="{fl["order"]}"][data-migratetype="{fl["migratetype"]}"]'
            row = page.locator(f"#px-before tr{where} .px-chip")
            expect(row).to_have_text([f"{b['pfn']:#x}" for b in fl["blocks"]])
            # with the decimal value a hover away, as on the lesson page
            for chip, b in zip(row.all(), fl["blocks"], strict=True):
                expect(chip).to_have_attribute("title", f"pfn {b['pfn']:#x} ({b['pfn']})")
        expect(page.locator("#px-before .px-strip .b")).to_have_count(len(ex.before["blocks"]))
        expect(page.locator('button[data-kind="merge"]')).to_have_attribute("aria-pressed", "true")

        wrong = str((int(ex.answer) + 1) % 6)
        page.locator(".px-input").fill(wrong)
        page.locator(".px-input").press("Enter")
        expect(page.locator("#px-verdict")).to_have_attribute("data-tone", "wrong")
        expect(page.locator("#px-verdict")).to_contain_text("Hint:")
        assert ex.answer not in page.locator("#px-verdict").inner_text().split("Hint")[0]
        expect(page.locator("#px-why")).to_be_hidden()

        page.locator(".px-input").fill(ex.answer)
        page.get_by_role("button", name="check").click()
        expect(page.locator("#px-verdict")).to_have_text(f"Right: {ex.answer}.")
        expect(page.locator("#px-why")).to_be_visible()
        events = shown(page)
        assert len(events) == len(ex.events)
        key = page.locator("#px-events li.key")
        expect(key).to_have_count(1)
        expect(key).to_contain_text(ex.events[ex.key]["message"])
        expect(page.locator("#px-after .px-strip .b")).to_have_count(len(ex.after["blocks"]))
        page.screenshot(path=str(SHOTS / "practice-merge-42.png"))

        # next exercise: the next seed, in the address too
        page.get_by_role("button", name="next exercise →").click()
        loaded(page, "merge", 43)
        assert page.url.endswith("practice.html?kind=merge&seed=43")
        expect(page.locator("#px-ask")).to_have_text(exercise("merge", 43).ask)
        expect(page.locator("#px-why")).to_be_hidden()

        # the link reproduces the exercise: a fresh page at the same address
        link = page.url
        other = page.context.new_page()
        other.goto(link)
        loaded(other, "merge", 43)
        assert other.locator("#px-ask").inner_text() == page.locator("#px-ask").inner_text()
        assert other.locator("#px-setup").inner_text() == page.locator("#px-setup").inner_text()
        assert other.locator("#px-before").inner_text() == page.locator("#px-before").inner_text()

        # head or tail by buttons; the report batch typed in any order, shown by giving up
        page.locator('button[data-kind="end"]').click()
        loaded(page, "end", 43)
        end = exercise("end", 43)
        page.keyboard.press("1" if end.answer == "head" else "2")  # the keys pick too
        expect(page.locator("#px-verdict")).to_have_text(f"Right: {end.answer}.")
        page.goto(live.url + "practice.html?kind=report&seed=5")
        loaded(page, "report", 5)
        page.get_by_role("button", name="show the answer").click()
        expect(page.locator("#px-verdict")).to_have_text(
            f"The answer: {exercise('report', 5).answer}."
        )
        expect(page.locator("#px-events li.key")).to_contain_text("report")
        assert problems == []


def test_the_lessons_header_leads_to_practice_and_a_bad_address_says_so(
    browser: Browser, live: LiveServer
) -> None:
    with watched_page(browser) as (page, problems):
        facts = page.context.new_page()  # unwatched: leaving it may cut its requests short
        for scenario in ("v2-vs-merged", "reporting-passes", "zone-gate"):  # long facts beside it
            facts.goto(f"{live.url}?scenario={scenario}")
            facts.wait_for_function("() => window.__buddyscope?.configured")
            cut = facts.evaluate(FACTS_CUT)
            assert cut == [], (scenario, cut)
            cut = facts.evaluate(KEY_CUT)
            assert cut == [], (scenario, cut)
        facts.close()
        # the page asks the server about its session once it has it: leave after that
        with page.expect_response(lambda r: "/api/sessions/" in r.url):
            page.goto(live.url)
        page.locator("#btn-practice").click()
        loaded(page, "pfn", 0)
        assert page.url.endswith("practice.html?kind=pfn&seed=0")
        page.goto(live.url + "practice.html?kind=split&seed=x")
        loaded(page, "pfn", 0)
        expect(page.locator("#px-banner")).to_contain_text("kind=split")
        page.locator(".px-input").fill("the head")
        page.locator(".px-input").press("Enter")
        expect(page.locator("#px-verdict")).to_have_attribute("data-tone", "problem")
        expect(page.locator("#px-verdict")).to_contain_text("is not a pfn")
        assert problems == []
