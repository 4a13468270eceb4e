"""How fast the page is, measured in this machine's Chromium (docs/performance.md).

Three figures, as issue #6 asks:

* **frame time** while a 1,048,576-page zone (4 GiB) plays at full speed: the
  intervals between requestAnimationFrame callbacks over the run, p95;
* **first full render** of a snapshot of that zone: from the websocket frame's arrival
  (before JSON decoding) to the end of the drawing that shows it;
* **step → visible change** on a small zone: from sending ``step`` to the start of the
  animation frame after the one that drew the new state (by then the drawing has been
  painted), p95 of many steps.

``make test`` runs this briefly and checks only what does not depend on the machine's
load (the zone played, every render finished, no console problem): CI is a shared
2-core machine, where a frame time says more about the neighbours than about the page.
``BUDDYSCOPE_BENCH=1`` runs the full benchmark (10 s of play, 50 steps, 5 snapshots),
asserts the issue's targets and writes the figures to ``test-results/browser/perf.json``;
docs/performance.md records a run.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browserkit import SHOTS, debug, launch, open_dashboard, settle, watched_page
from playwright.sync_api import Browser, Page, sync_playwright
from wirehelp import LiveServer, serve

from backend.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FULL = os.environ.get("BUDDYSCOPE_BENCH", "") not in ("", "0")
PLAY_SECONDS = 10 if FULL else 3
STEPS = 50 if FULL else 15
SNAPSHOTS = 5 if FULL else 2
BIG = "?scenario=fragmentation&pages=1048576"

# The targets, asserted only by the full benchmark.  rAF intervals are quantised
# to 0.1 ms around 16.67 ms, so one 60 Hz frame reads as 16.6, 16.7 or 16.8: the frame
# target allows that quantum.
FRAME_P95_MS = 16.7 + 0.15
FRAME_P50_MS = 16.7 + 0.15
FIRST_RENDER_MS = 1000.0
STEP_P95_MS = 50.0

RESULTS: dict[str, Any] = {}


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = launch(pw, chromium_path)
        RESULTS["chromium"] = b.version
        yield b
        b.close()


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    RESULTS.update(
        full=FULL,
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = Path(SHOTS / ("perf.json" if FULL else "perf-quick.json"))
    out.write_text(json.dumps(RESULTS, indent=2) + "\n")
    print(f"\nbrowser performance: {json.dumps(RESULTS)}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def test_first_full_render_of_a_4_gib_snapshot(browser: Browser, live: LiveServer) -> None:
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, BIG)
        assert debug(pg, "state.zones[0].spannedPages") == 1 << 20
        times = []
        for _ in range(SNAPSHOTS):
            before = debug(pg, "stats.snapshots")
            pg.evaluate("() => window.__buddyscope.send('get_snapshot')")
            pg.wait_for_function(f"() => window.__buddyscope.stats.snapshots > {before}")
            settle(pg)
            times.append(debug(pg, "stats.firstRenderMs"))
        RESULTS["first_render_ms"] = {"max": max(times), "all": [round(t, 1) for t in times]}
        if FULL:
            assert max(times) <= FIRST_RENDER_MS, times
        assert problems == []


def play_and_measure(pg: Page, seconds: float) -> dict[str, Any]:
    result: dict[str, Any] = pg.evaluate(
        """async (seconds) => {
          const b = window.__buddyscope;
          await b.send('first');
          const costs0 = { ...b.costs };
          const deltas0 = b.deltas;
          await b.send('play', { speed: 200 });
          const times = [];
          let last = performance.now();
          const end = last + seconds * 1000;
          await new Promise((resolve) => {
            const tick = (t) => {
              times.push(t - last);
              last = t;
              if (t < end) requestAnimationFrame(tick);
              else resolve();
            };
            requestAnimationFrame(tick);
          });
          await b.send('pause');
          return { intervals: times.slice(1), deltas: b.deltas - deltas0,
                   render_ms: b.costs.render - costs0.render,
                   message_ms: b.costs.messages - costs0.messages };
        }""",
        seconds,
    )
    return result


def test_frame_time_while_a_4_gib_zone_plays_at_full_speed(
    browser: Browser, live: LiveServer
) -> None:
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, BIG)
        r = play_and_measure(pg, PLAY_SECONDS)
        intervals = r["intervals"]
        p95 = percentile(intervals, 0.95)
        slow = sum(1 for t in intervals if t > 17.5)
        RESULTS["play"] = {
            "seconds": PLAY_SECONDS,
            "frames": len(intervals),
            "steps_drawn": r["deltas"],
            "frame_p50_ms": round(percentile(intervals, 0.5), 2),
            "frame_p95_ms": round(p95, 2),
            "frame_p99_ms": round(percentile(intervals, 0.99), 2),
            "frames_over_one_vsync": slow,
            "js_render_ms_per_frame": round(r["render_ms"] / max(1, len(intervals)), 2),
            "js_messages_ms_per_step": round(r["message_ms"] / max(1, r["deltas"]), 3),
        }
        # It really played: at full speed when benchmarking; on a loaded machine, at all.
        assert r["deltas"] > (PLAY_SECONDS * 50 if FULL else 0), r["deltas"]
        if FULL:
            assert p95 <= FRAME_P95_MS, RESULTS["play"]
            assert percentile(intervals, 0.5) <= FRAME_P50_MS, RESULTS["play"]
        assert problems == []


def test_step_to_visible_change_on_a_small_zone(browser: Browser, live: LiveServer) -> None:
    with watched_page(browser) as (pg, problems):
        # A step taken by hand is animated for the eye whatever the play speed (issue 11);
        # with reduced motion the page draws it at once: the change itself is measured.
        pg.emulate_media(reduced_motion="reduce")
        open_dashboard(pg, live.url, "?scenario=small")
        pg.evaluate("() => window.__buddyscope.send('first')")
        settle(pg)
        latencies: list[float] = pg.evaluate(
            """async (n) => {
              const b = window.__buddyscope;
              await b.send('speed', { value: 200 });
              const out = [];
              for (let i = 0; i < n; i += 1) {
                const target = b.step + 1;
                const drawn = b.whenDrawn(target);
                const t0 = performance.now();
                b.send('step');
                out.push((await drawn) - t0);
              }
              return out;
            }""",
            STEPS,
        )
        p95 = percentile(latencies, 0.95)
        RESULTS["step_latency_ms"] = {
            "steps": len(latencies),
            "p50": round(percentile(latencies, 0.5), 1),
            "p95": round(p95, 1),
            "max": round(max(latencies), 1),
        }
        if FULL:
            assert p95 <= STEP_P95_MS, RESULTS["step_latency_ms"]
        assert problems == []


# The session `make run` opens (its default guest): DMA, DMA32 and Normal, and the
# play's steps move between them (the view follows).
ZONES = ""


@pytest.fixture(scope="module")
def guest() -> Iterator[LiveServer]:
    with serve(create_app()) as server:
        yield server


@pytest.mark.parametrize(
    ("query", "server"), [(BIG, "live"), (ZONES, "guest")], ids=["4gib", "three-zones"]
)
def test_a_fast_play_redraws_one_panel_a_frame(
    browser: Browser, request: pytest.FixtureRequest, query: str, server: str
) -> None:
    """While a zone plays at full speed the panels built of many elements take turns
    (lib/cadence.js): no animation frame rebuilds two of them, even when the view
    follows a step into another zone; the log (scrolled out of view at 1280x720) is
    not rebuilt at all; and once the play stops every panel shows the last step."""
    live: LiveServer = request.getfixturevalue(server)
    with watched_page(browser) as (pg, problems):
        open_dashboard(pg, live.url, query)
        seen: dict[str, Any] = pg.evaluate(
            """async (seconds) => {
              const b = window.__buddyscope;
              // The first step's snapshot draws every panel at once: observe after it.
              const snapshots = b.snapshots;
              await b.send('first');
              await new Promise((drawn) => {
                const done = () => b.snapshots > snapshots && b.renderedSeq === b.seq
                  && !b.drawPending;
                const check = () => (done() ? drawn() : requestAnimationFrame(check));
                check();
              });
              const panels = { lists: '#freelists', narration: '#narration', log: '#log',
                               state: '.state-panel', charts: '#charts' };
              let frame = 0;
              let fullRenders = b.stats.fullRenders;
              const byFrame = new Map();
              // A page that fell behind catches up with a snapshot, drawn whole (a
              // loaded machine): the frames that drew one are left out.  Mutations are
              // delivered after each animation frame callback, so the count has moved
              // when the whole drawing's are.
              const caughtUp = new Set();
              const followed = new Set();
              const observers = Object.entries(panels).map(([name, sel]) => {
                const o = new MutationObserver(() => {
                  if (!b.playing) return; // the play ended (the timeline's end): drawn whole
                  const s = byFrame.get(frame) ?? new Set();
                  s.add(name);
                  byFrame.set(frame, s);
                  if (b.stats.fullRenders !== fullRenders) caughtUp.add(frame);
                  fullRenders = b.stats.fullRenders;
                });
                const all = { subtree: true, childList: true, characterData: true,
                              attributes: true };
                o.observe(document.querySelector(sel), all);
                return o;
              });
              await b.send('play', { speed: 200 });
              const end = performance.now() + seconds * 1000;
              await new Promise((resolve) => {
                const tick = (t) => {
                  frame += 1;
                  followed.add(b.selectedZone);
                  if (t < end) requestAnimationFrame(tick); else resolve();
                };
                requestAnimationFrame(tick);
              });
              observers.forEach((o) => o.disconnect());
              const logTop = document.querySelector('.log-panel').getBoundingClientRect().top;
              await b.send('pause');
              const sets = [...byFrame].filter(([f]) => !caughtUp.has(f))
                .map(([, s]) => [...s].sort());
              const busiest = sets.reduce((a, s) => (s.length > a.length ? s : a), []);
              return { zones: b.state.zones.length, followed: followed.size, frames: frame, busiest,
                       drawnIn: sets.length, log: sets.filter((s) => s.includes('log')).length,
                       lists: sets.filter((s) => s.includes('lists')).length, logTop,
                       height: window.innerHeight, deltas: b.deltas, caughtUp: caughtUp.size };
            }""",
            PLAY_SECONDS,
        )
        assert seen["deltas"] > 0 and seen["lists"] > 0, seen  # it played, and the lists moved
        if query == ZONES:
            assert seen["zones"] == 3 and seen["followed"] > 1, seen
        assert len(seen["busiest"]) == 1, seen
        assert seen["logTop"] > seen["height"], seen  # the log is out of view ...
        assert seen["log"] == 0, seen  # ... and was left alone
        settle(pg)
        step = debug(pg, "state.step")
        assert pg.eval_on_selector("#log .log-step", "e => Number(e.dataset.step)") == step
        badge = pg.text_content("#narration .step-badge")
        assert badge == f"step {step}", badge
        assert problems == []
