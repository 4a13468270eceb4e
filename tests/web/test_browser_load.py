"""The load dialog in a real browser: a session from an uploaded workload file, from a
pasted /proc/buddyinfo + pagetypeinfo, and from a kernel trace; the server's refusal of
a bad file shown word for word with nothing changed; where the session came from in
the top bar; and the unusable free space index in the state panel.  Each result is
compared with the model run in-process on the same text.  Any console error or warning
fails the test; screenshots land in test-results/browser/.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from browserkit import READ_ROWS, debug, open_dashboard, send, settle, shot, watched_page
from playwright.sync_api import Browser, Page, expect
from wirehelp import LiveServer

from allocator_model import Node
from allocator_model.kernel.fragmentation import unusable_free_index
from allocator_model.sources.procfs import parse_buddyinfo, parse_pagetypeinfo
from allocator_model.sources.trace import parse_trace, sample_trace
from backend.headless import NO_CHECKPOINTS
from backend.sources import SessionConfig, plan_for
from backend.timeline import start_branch

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

DATA = Path(__file__).resolve().parents[1] / "model" / "data"

WORKLOAD = {
    "name": "two-zones",
    "title": "Two zones, a few allocations and frees",
    "seed": 3,
    "config": {"zones": [["DMA32", 0, 4096], ["Normal", 4096, 4096]], "min_free_kbytes": 0},
    "workload": [
        {"op": "alloc", "order": 2, "count": 5, "label": "a"},
        {"op": "alloc", "order": 0, "count": 3, "zone": "DMA32", "label": "b"},
        {"op": "free", "label": "a", "fraction": 0.4},
        {"op": "alloc", "order": 5, "migratetype": "Unmovable", "label": "c"},
    ],
}

SWITCHED = """([old, kind]) => { const b = window.__buddyscope;
  return b.session !== null && b.session !== old && b.state.config.source?.kind === kind; }"""

READ_BUDDYINFO = """() => Object.fromEntries([...document.querySelectorAll('#buddyinfo tbody tr')]
  .map((tr) => [tr.dataset.zone, [...tr.querySelectorAll('td.num:not(.total)')]
  .map((td) => Number(td.textContent.replaceAll(',', '')))]))"""

READ_UNUSABLE = """(sel) => { const t = document.querySelector(sel);
  const zones = t.dataset.zones.split(',');
  return Object.fromEntries(zones.map((z) => [z, [...t.querySelectorAll(`td[data-zone="${z}"]`)]
    .map((td) => td.dataset.value === '' ? null : Number(td.dataset.value))])); }"""


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    with watched_page(browser) as (pg, problems):
        yield pg, problems
        assert problems == [], problems


def open_load(pg: Page, kind: str) -> None:
    pg.click("#btn-load")
    expect(pg.locator("dialog#load")).to_be_visible()
    pg.check(f'input[name="load-kind"][value="{kind}"]')


def switched(pg: Page, old: str, kind: str) -> str:
    pg.wait_for_function(SWITCHED, arg=[old, kind])
    settle(pg)
    sid: str = debug(pg, "session")
    return sid


def zones_of(node: Node) -> dict[str, list[int]]:
    return {z.name: list(z.nr_free) for z in node.zones}


def drawn_counts(pg: Page, zones: list[str]) -> dict[str, list[int]]:
    """nr_free per order of every zone, as the page draws it: the zone table, and each
    zone's free-list rows (picked one by one)."""
    table: dict[str, list[int]] = pg.evaluate(READ_BUDDYINFO)
    assert list(table) == zones
    for name in zones:
        pg.click(f'#buddyinfo button.zone-pick:text-is("{name}")')
        pg.wait_for_function(
            f"() => document.querySelector('#freelists').dataset.zone === '{name}'"
        )
        rows = pg.evaluate(READ_ROWS)
        assert [r["nrFree"] for r in rows] == table[name], name
        assert [int(r["shown"]) for r in rows] == table[name], name
    return table


def test_a_workload_file_becomes_a_session_that_runs_like_the_model(
    live: LiveServer, page: tuple[Page, list[str]], tmp_path: Path
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url)
    old = debug(pg, "session")
    text = json.dumps(WORKLOAD, indent=2) + "\n"
    path = tmp_path / "two-zones.json"
    path.write_text(text)
    open_load(pg, "workload")
    # The example is this session as a scenario file (GET /api/sessions/{id}/scenario).
    pg.click("#load-example")
    with urllib.request.urlopen(f"{live.url}api/sessions/{old}/scenario") as answer:
        expect(pg.locator("#load-text")).to_have_value(answer.read().decode())
    pg.set_input_files("#load-file", str(path))
    expect(pg.locator("#load-text")).to_have_value(text)
    expect(pg.locator(".load-file-note")).to_contain_text("two-zones.json")
    pg.click("dialog#load button[type=submit]")
    sid = switched(pg, old, "workload")
    expect(pg.locator("dialog#load")).to_be_hidden()
    # The page controls the new session and the address names it (a reload reopens it),
    # without its control token: the tab keeps that (a copied address gives no control).
    assert debug(pg, "role") == "controller"
    assert f"session={sid}" in pg.url and "token" not in pg.url
    fact = pg.locator("#source-fact")
    expect(fact).to_have_attribute("data-kind", "workload")
    expect(fact.locator("summary")).to_have_text("workload two-zones")
    # The same text through the model in-process, step by step.
    plan = plan_for(SessionConfig(workload=text))
    view = start_branch(0, plan, NO_CHECKPOINTS)
    names = [z.name for z in view.node.zones]
    assert drawn_counts(pg, names) == zones_of(view.node)
    for step in range(1, len(plan.source.workload) + 1):
        assert "ack" in send(pg, "step")
        view.forward(None, extend=True, policy=NO_CHECKPOINTS, max_steps=100)
        assert debug(pg, "step") == step
        assert drawn_counts(pg, names) == zones_of(view.node), f"step {step}"
    # The unusable free space index of every zone and order, as the kernel computes it.
    unusable = pg.evaluate(READ_UNUSABLE, "#st-watermarks table.unusable")
    assert unusable == {
        z.name: [unusable_free_index(z.nr_free, k) for k in range(view.node.max_order)]
        for z in view.node.zones
    }
    # The zone the lists show is marked in both bands of orders (0-5, 6-10).
    expect(pg.locator("#st-watermarks table.unusable th.selected")).to_have_text(["Normal"] * 2)
    # The old session is still on the server, as it was.
    assert old in live.state.manager.sessions
    shot(pg, "load-workload")
    pg.locator("#st-watermarks table.unusable").scroll_into_view_if_needed()
    shot(pg, "unusable-index")


def test_a_pasted_buddyinfo_starts_a_node_with_its_free_lists(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, _ = page
    open_dashboard(pg, live.url)
    old = debug(pg, "session")
    buddyinfo = (DATA / "buddyinfo.txt").read_text()
    pagetypeinfo = (DATA / "pagetypeinfo.txt").read_text()
    open_load(pg, "proc")
    expect(pg.locator("#load-help")).to_contain_text("production host")
    pg.fill("#load-text", buddyinfo + pagetypeinfo)
    pg.select_option("#load-strategy", "reporting")
    pg.click("dialog#load button[type=submit]")
    switched(pg, old, "buddyinfo")
    assert debug(pg, "state.config.hinting") == "reporting"
    rows = parse_buddyinfo(buddyinfo)
    expected = {r.zone: list(r.counts) for r in rows}
    assert drawn_counts(pg, list(expected)) == expected
    # Each zone's lanes hold pagetypeinfo's count for every order and migratetype.
    info = parse_pagetypeinfo(pagetypeinfo)
    for name in expected:
        pg.click(f'#buddyinfo button.zone-pick:text-is("{name}")')
        pg.wait_for_function(
            f"() => document.querySelector('#freelists').dataset.zone === '{name}'"
        )
        drawn = {
            (r["order"], lane["migratetype"]): lane["length"]
            for r in pg.evaluate(READ_ROWS)
            for lane in r["lanes"]
        }
        want = {
            (order, f.migratetype): n
            for f in info.free
            if f.zone == name
            for order, n in enumerate(f.counts)
            if n
        }
        assert drawn == want, name
    fact = pg.locator("#source-fact")
    expect(fact.locator("summary")).to_have_text("buddyinfo of a real machine")
    about = plan_for(SessionConfig(buddyinfo=buddyinfo, pagetypeinfo=pagetypeinfo)).source.info
    assert about is not None
    expect(fact.locator("summary")).to_have_attribute(
        "title", "\n".join([about.title, about.summary, *about.notes])
    )
    unusable = pg.evaluate(READ_UNUSABLE, "#st-watermarks table.unusable")
    assert unusable == {
        zone: [unusable_free_index(counts, k) for k in range(len(counts))]
        for zone, counts in expected.items()
    }
    shot(pg, "load-buddyinfo")


def refusal(url: str, body: str) -> list[str]:
    """What the server answers a text it refuses: one sentence per problem."""
    try:
        headers = {"x-buddyscope-client": "test"}  # urllib's default type is a form's
        urllib.request.urlopen(urllib.request.Request(url, body.encode(), headers, method="POST"))
    except urllib.error.HTTPError as exc:
        assert exc.code == 422
        return [d["msg"] for d in json.loads(exc.read())["detail"]]
    raise AssertionError("the server accepted the text")


def expected_refusals(problems: list[str], route: str) -> None:
    """Chromium logs every 4xx answer to the console ("Failed to load resource"), also
    the refusal the page expects and shows: take exactly those out, nothing else."""
    refused = [p for p in problems if "status of 422" in p and route in p]
    assert len(refused) == 1, problems
    problems.remove(refused[0])


def test_a_bad_workload_shows_the_servers_problems_and_changes_nothing(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, console = page
    open_dashboard(pg, live.url)
    steps_before = debug(pg, "step")
    sid = debug(pg, "session")
    snapshots = debug(pg, "snapshots")
    url = pg.url
    bad = json.dumps(
        {**WORKLOAD, "workload": [{"op": "alloc", "order": 99}, {"op": "jump"}]}, indent=2
    )
    said = refusal(live.url + "api/sessions/from-workload", bad)
    assert len(said) >= 2 and all(m.startswith("line ") for m in said), said
    sessions = set(live.state.manager.sessions)
    open_load(pg, "workload")
    # Nothing to load: said in the dialog, nothing sent.
    pg.click("dialog#load button[type=submit]")
    expect(pg.locator("#load-problems li")).to_have_text(
        ["nothing to load: choose a file or paste the text first"]
    )
    pg.fill("#load-text", bad)
    pg.click("dialog#load button[type=submit]")
    problems = pg.locator("#load-problems li .problem-text")
    expect(problems).to_have_text(said)
    expect(pg.locator("#load-text")).to_have_attribute("aria-invalid", "true")
    expect(pg.locator("dialog#load")).to_be_visible()
    # "show line N" selects that line of the text.
    first = pg.locator("#load-problems li").first
    line = int(first.get_attribute("data-line") or "0")
    first.locator("button.goto-line").click()
    selected = pg.evaluate(
        """() => { const t = document.querySelector('#load-text');
             return t.value.slice(t.selectionStart, t.selectionEnd); }"""
    )
    assert selected == bad.split("\n")[line - 1]
    shot(pg, "load-bad-workload")
    # The page's session is untouched: same id, step, snapshots and address, no new session.
    pg.keyboard.press("Escape")
    expect(pg.locator("dialog#load")).to_be_hidden()
    assert debug(pg, "session") == sid
    assert debug(pg, "step") == steps_before
    assert debug(pg, "snapshots") == snapshots
    assert pg.url == url
    assert set(live.state.manager.sessions) == sessions
    expected_refusals(console, "/api/sessions/from-workload")


def test_a_trace_says_what_it_imported(live: LiveServer, page: tuple[Page, list[str]]) -> None:
    pg, _ = page
    open_dashboard(pg, live.url)
    old = debug(pg, "session")
    text = (
        sample_trace()
        + "CPU 0 is empty\nnot a trace line\n"
        # A page allocated before the trace began.
        + " kswapd0-77  [000]  1006.000000: mm_page_free:  page=0xffffea0000fa0000"
        + " pfn=64000 order=0\n"
    )
    imported = parse_trace(text)
    events = sum(imported.events.values())
    assert imported.unknown_lines == 2 and imported.unmatched_frees == 1
    open_load(pg, "trace")
    # The example is the shipped sample, byte for byte (GET /api/examples/sample.trace).
    pg.click("#load-example")
    expect(pg.locator("#load-text")).to_have_value(
        (files("allocator_model.sources") / "traces" / "sample.trace").read_text()
    )
    expect(pg.locator(".load-howto")).to_contain_text(
        "trace-cmd record -e kmem:mm_page_alloc -e kmem:mm_page_free -e kmem:mm_page_free_batched"
    )
    pg.fill("#load-text", text)
    pg.click("dialog#load button[type=submit]")
    switched(pg, old, "trace")
    summary = pg.locator("#source-fact summary")
    expect(summary).to_have_text(
        f"trace: {events:,} events, {imported.unknown_lines} unknown lines skipped"
    )
    detail = pg.locator("#source-fact .source-detail")
    expect(detail).to_be_hidden()
    assert f"{imported.unknown_lines} unknown lines skipped" in (
        summary.get_attribute("title") or ""
    )
    summary.click()
    expect(detail).to_be_visible()
    examples = ", ".join(str(n) for n in imported.unknown_examples)
    expect(detail.locator("li")).to_contain_text(
        [
            *(f"{name}: {n:,}" for name, n in sorted(imported.events.items())),
            f"{imported.unknown_lines} unknown lines skipped (e.g. line {examples})",
            "1 free of pages allocated before the trace began (not replayed)",
        ]
    )
    # The detail stays open while the session moves (the fact is kept, not redrawn).
    assert "ack" in send(pg, "step")
    expect(detail).to_be_visible()
    shot(pg, "load-trace")
    summary.press("Enter")
    expect(detail).to_be_hidden()


def test_the_example_is_this_machines_buddyinfo(
    live: LiveServer, page: tuple[Page, list[str]]
) -> None:
    pg, console = page
    open_dashboard(pg, live.url)
    old = debug(pg, "session")
    open_load(pg, "proc")
    pg.click("#load-example")
    expect(pg.locator("#load-text")).not_to_have_value("")
    text = pg.input_value("#load-text")
    pasted = parse_buddyinfo(text)
    here = parse_buddyinfo(Path("/proc/buddyinfo").read_text())
    # The counts move between reads; the zones and the orders do not.
    assert [(r.node, r.zone, len(r.counts)) for r in pasted] == [
        (r.node, r.zone, len(r.counts)) for r in here
    ]
    pg.click("dialog#load button[type=submit]")
    if len({r.node for r in pasted}) > 1:  # the model has one node: the server says so
        expect(pg.locator("#load-problems li")).to_contain_text(["several NUMA nodes"])
        expected_refusals(console, "/api/sessions/from-proc")
        return
    switched(pg, old, "buddyinfo")
    expected: dict[str, Any] = {r.zone: list(r.counts) for r in pasted}
    assert drawn_counts(pg, list(expected)) == expected
