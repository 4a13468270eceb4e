"""The settings form in a real browser (issue 12 point 4): v2 picked on a scenario
runs on its own 5.3 base with no label; a kernel picked with it is a what-if, and the
kernel fact says so."""

from __future__ import annotations

import pytest
from browserkit import debug, model, open_dashboard, settle, watched_page
from playwright.sync_api import Browser
from wirehelp import LiveServer

from allocator_model.kernel.node import what_if

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def test_v2_picked_alone_runs_on_5_3_and_with_a_kernel_is_labelled_a_what_if(
    browser: Browser, live: LiveServer
) -> None:
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, "?scenario=reporting-passes")
        assert debug(pg, "state.config.kernel") == "5.7"
        pg.click("#session-edit > summary")
        pg.select_option("#form-config select[name=hinting]", "hinting-v2")
        pg.click("#form-config button[type=submit]")
        pg.wait_for_function("() => window.__buddyscope.state.config.hinting === 'hinting-v2'")
        settle(pg)
        node = model(live, pg)
        assert (node.kernel, node.what_if) == ("5.3", None)
        assert pg.locator("#session-facts .fact.kernel").text_content() == "Linux 5.3"
        assert pg.locator("#session-facts .what-if").count() == 0
        pg.click("#session-edit > summary")
        pg.select_option("#form-config select[name=kernel]", "5.10")
        pg.click("#form-config button[type=submit]")
        pg.wait_for_function("() => window.__buddyscope.state.config.kernel === '5.10'")
        settle(pg)
        assert model(live, pg).what_if == what_if("hinting-v2", "5.10")
        fact = pg.locator("#session-facts .fact.kernel.what-if")
        assert fact.get_attribute("data-whole") == "Linux 5.10 · what if"
        assert fact.get_attribute("title") == what_if("hinting-v2", "5.10")
        assert problems == []
