"""The send budget: nothing held back until a 429, then a steady rate under what was accepted."""

from __future__ import annotations

import pytest

from bot.send_budget import (
    BACK_OFF,
    MAX_FAILURE_HOLD_S,
    MIN_RATE,
    MIN_SAMPLE,
    PROBE_EVERY_S,
    PROBE_STEP,
    SendBudget,
)


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
    for _ in range(MIN_SAMPLE):
        budget.accepted()
    budget.refused(1.0)  # learns about MIN_SAMPLE a second ...
    for _ in range(200):  # ... and each later 429 lowers it a step
        ticks.now += 2.0
        budget.refused(1.0)
    assert budget.rate == MIN_RATE


def test_a_429_with_too_little_accepted_to_learn_from_only_holds(ticks: Ticks) -> None:
    budget = SendBudget(ticks)
    budget.refused(1.0)  # the very first send met a 429 (say, in a storm)
    assert budget.rate is None and budget.held_for() == 1.0
    ticks.now += 1.0
    assert [budget.reserve(1.0) for _ in range(20)] == [0.0] * 20  # then full speed again


def test_failures_in_a_row_hold_everything_for_at_most_a_few_seconds(ticks: Ticks) -> None:
    budget = SendBudget(ticks)
    assert budget.failed() == 0.0  # one failure may be the message's own trouble: no hold
    holds = [budget.failed() for _ in range(6)]
    assert holds == [1.0, 2.0, 4.0, MAX_FAILURE_HOLD_S, MAX_FAILURE_HOLD_S, MAX_FAILURE_HOLD_S]
    assert budget.reserve(max_wait_s=1.0) is None
    ticks.now += MAX_FAILURE_HOLD_S
    budget.accepted()  # the platform is back: the next failure starts from scratch
    assert budget.failed() == 0.0


def test_a_429_right_after_a_storm_does_not_crawl_at_one_a_second(ticks: Ticks) -> None:
    budget = SendBudget(ticks)
    for _ in range(40):
        budget.accepted()
        ticks.now += 0.01
    budget.refused(retry_after_s=1.0)
    learnt = budget.rate
    for _ in range(5):  # a storm: server errors and 429s, nothing accepted for seconds
        ticks.now += budget.failed()  # a 500: every send waits ...
        budget.refused(retry_after_s=1.0)  # ... and the first try after the wait meets a 429
        ticks.now += 1.0
    assert learnt is not None and budget.rate is not None
    assert budget.rate >= learnt * BACK_OFF**5  # lowered step by step, not to what the storm let through
    assert budget.rate > 10 * MIN_RATE
