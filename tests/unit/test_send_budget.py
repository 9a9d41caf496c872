"""The send budget: nothing held back until a 429, then a steady rate under what was accepted."""

from __future__ import annotations

import pytest

from bot.send_budget import BACK_OFF, PROBE_EVERY_S, PROBE_STEP, SendBudget


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


def test_without_a_429_every_send_may_go_at_once(ticks: Ticks) -> None:
    budget = SendBudget(ticks)
    assert [budget.reserve(1.0) for _ in range(100)] == [0.0] * 100
    assert budget.rate is None


def test_a_429_holds_everything_for_its_retry_after_then_paces_under_what_was_accepted(
    ticks: Ticks,
) -> None:
    budget = SendBudget(ticks)
    for _ in range(40):  # the platform took 40 in the last second ...
        budget.accepted()
        ticks.now += 0.01
    budget.refused(retry_after_s=2.0)  # ... then said: wait two seconds
    assert budget.held_for() == pytest.approx(2.0)
    assert budget.rate == pytest.approx(40 * BACK_OFF)
    assert budget.reserve(max_wait_s=1.0) is None  # the hold is longer than we would wait
    assert budget.free_in() == pytest.approx(2.0)
    ticks.now += 2.0
    waits = [budget.reserve(max_wait_s=5.0) for _ in range(4)]
    spacing = 1 / (40 * BACK_OFF)
    assert waits == pytest.approx([0.0, spacing, 2 * spacing, 3 * spacing])


def test_429s_from_sends_already_under_way_do_not_lower_the_rate_again(ticks: Ticks) -> None:
    budget = SendBudget(ticks)
    for _ in range(20):
        budget.accepted()
    budget.refused(1.0)
    first = budget.rate
    ticks.now += 0.1
    budget.refused(1.0)  # another thread's request, sent before the hold began
    budget.refused(3.0)
    assert budget.rate == first
    assert budget.held_for() == pytest.approx(3.0)  # the longest Retry-After wins


def test_the_rate_creeps_up_while_no_429_comes(ticks: Ticks) -> None:
    budget = SendBudget(ticks)
    for _ in range(10):
        budget.accepted()
    budget.refused(1.0)
    learnt = budget.rate
    assert learnt is not None
    ticks.now += PROBE_EVERY_S + 1
    budget.reserve(5.0)
    assert budget.rate == pytest.approx(learnt * PROBE_STEP)


def test_the_rate_never_falls_below_one_a_second(ticks: Ticks) -> None:
    budget = SendBudget(ticks)
    budget.refused(1.0)  # a 429 with nothing accepted at all
    assert budget.rate == 1.0
