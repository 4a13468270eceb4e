"""The printable handout in Chromium: handout.html?scenario=NAME lists every chapter of
the scenario (the timeline's own chapters) with its narration, its presenter notes and
pictures of the free lists and the memory map as it opens and after its steps; printed
(emulated print media and a PDF), no control shows.  The lesson outline links to it.  No
console errors or warnings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browserkit import SHOTS, open_dashboard, watched_page
from playwright.sync_api import Browser, Page, expect
from wirehelp import LiveServer, serve

from allocator_model.sources.builtin import build_default
from backend.app import create_app
from backend.sources import SessionConfig, plan_for
from backend.timeline import CheckpointPolicy, open_branch

pytestmark = pytest.mark.timeout(600)

SCENARIO = "head-or-tail"


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    with serve(create_app(build_default)) as server:
        yield server


def chapters_of(name: str) -> list[tuple[str, str | None, dict[int, list[int]]]]:
    """(title, notes, {step: the zone's nr_free} as it opens and after its steps) of each
    chapter."""
    plan = plan_for(SessionConfig(scenario=name))
    view = open_branch(1, plan, CheckpointPolicy(), 100_000)
    marks = view.branch.chapters()
    ends = [c.step - 1 for c in marks[1:]] + [view.length]
    out = []
    for c, end in zip(marks, ends, strict=True):
        counts = {}
        for step in (c.step, end):
            view.seek(step)
            (zone,) = view.node.zones
            counts[step] = list(zone.nr_free)
        out.append((c.title, c.notes, counts))
    return out


def ready(page: Page) -> None:
    page.wait_for_function("() => window.__handout?.debug().done === true")


def test_the_handout_lists_every_chapter_with_its_picture_and_prints_clean(
    browser: Browser, live: LiveServer
) -> None:
    chapters = chapters_of(SCENARIO)
    with watched_page(browser) as (page, problems):
        page.goto(f"{live.url}handout.html?scenario={SCENARIO}")
        ready(page)
        sections = page.locator(".ho-chapter")
        expect(sections).to_have_count(len(chapters))
        titles = page.locator(".ho-chapter h2").all_inner_texts()
        for (title, _, _), shown in zip(chapters, titles, strict=True):
            assert title in shown, (title, shown)
        for i, (_, notes, counts) in enumerate(chapters):
            section = sections.nth(i)
            if notes:  # the presenter's notes for the chapter, to discuss
                expect(section.locator(".ho-notes")).to_contain_text(notes)
            expect(section.locator(".ho-says p").first).not_to_be_empty()
            # a picture as the chapter opens and one after its steps: the lists' counts
            # are the model's at those steps
            expect(section.locator(".ho-figure")).to_have_count(len(counts))
            for step, nr_free in counts.items():
                figure = section.locator(f'.ho-figure[data-step="{step}"]')
                expect(figure.locator(".freelists .fl-row .fl-nr")).to_have_text(
                    [str(n) for n in nr_free]
                )
                img = figure.locator(".ho-map img")
                expect(img).to_have_count(1)
                assert img.evaluate(
                    "(i) => i.naturalWidth > 0 && i.src.startsWith('data:image/png')"
                )
        page.screenshot(path=str(SHOTS / f"handout-{SCENARIO}.png"), full_page=True)
        page.emulate_media(media="print")
        for sel in (".handout-tools", "button", "#ho-stage"):
            visible = page.locator(sel).evaluate_all(
                "(els) => els.filter((e) => e.getClientRects().length > 0).length"
            )
            assert visible == 0, sel
        expect(sections.first).to_be_visible()
        # the lists' blocks print (on the page they are buttons; on paper labels)
        chips = page.locator(".ho-figure .chip").evaluate_all(
            "(els) => els.filter((e) => e.getClientRects().length > 0).length"
        )
        assert chips > 0
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
        assert problems == []


def test_the_lesson_outline_links_to_its_handout(browser: Browser, live: LiveServer) -> None:
    with watched_page(browser) as (page, problems):
        # the page asks the server about its session once it has it: leave after that
        with page.expect_response(lambda r: "/api/sessions/" in r.url):
            open_dashboard(page, live.url, f"?scenario={SCENARIO}")
        link = page.locator("#outline a.handout-link")
        expect(link).to_have_attribute("href", f"handout.html?scenario={SCENARIO}")
        page.goto(f"{live.url}handout.html?scenario=../etc")
        expect(page.locator("#ho-banner")).to_contain_text("is not a scenario name")
        assert problems == []
