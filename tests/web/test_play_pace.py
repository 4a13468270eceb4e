"""The pace of play (``player.pace``): late steps are made up for, within a bound."""

from __future__ import annotations

from itertools import pairwise

from backend.player import CATCH_UP_S, pace

PERIOD = 2**-8  # 256 steps/s; powers of two keep the clock's sums exact


def _play(seconds: float, stalls: dict[int, float]) -> list[float]:
    """When each step starts, on a clock that moves only by waiting and by ``stalls``
    (step index -> seconds the process could not run before that step)."""
    now = deadline = 0.0
    starts: list[float] = []
    while True:
        deadline, delay = pace(deadline, now, PERIOD)
        now += delay + stalls.get(len(starts), 0.0)
        if now > seconds:
            return starts
        starts.append(now)


def _gaps(starts: list[float]) -> list[float]:
    return [b - a for a, b in pairwise(starts)]


def test_on_time_steps_wait_one_period_each() -> None:
    assert pace(10.0, 10.0 + PERIOD / 2, PERIOD) == (10.0 + PERIOD, PERIOD / 2)
    starts = _play(1.0, {})
    assert len(starts) == 256 and set(_gaps(starts)) == {PERIOD}


def test_a_late_step_is_made_up_for_so_play_keeps_its_speed() -> None:
    # 1/16 s without a core before step 50: the next 16 steps come at once (the loop
    # is served between them) until play is back on its schedule; a second still
    # holds its 256 steps.
    stall = 2**-4
    assert stall < CATCH_UP_S
    starts = _play(1.0, {50: stall})
    assert len(starts) == 256
    gaps = _gaps(starts)
    assert gaps[49] == PERIOD + stall
    assert gaps[50:66] == [0.0] * 16 and gaps[66] == PERIOD


def test_far_behind_the_schedule_starts_again_instead_of_bursting() -> None:
    # Stalled for longer than CATCH_UP_S: the missed steps are not made up for; play
    # goes on from there at its speed (one step at once, as it always did).
    stall = 0.5
    assert stall > CATCH_UP_S
    starts = _play(1.0, {50: stall})
    gaps = _gaps(starts)
    assert gaps[49] == PERIOD + stall and gaps[50] == 0.0
    assert set(gaps[51:]) == {PERIOD}
    assert len(starts) == 256 - stall / PERIOD + 1
