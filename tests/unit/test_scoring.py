"""Hard-call detection, by table."""

from __future__ import annotations

from typing import Any

import pytest

from bot.checkins.scoring import Assessment, CallFacts, Signal, score_call

MARKERS = ("abusive", "abuse", "aggressive", "threat")
USUAL = [280.0, 300.0, 320.0, 290.0, 310.0, 305.0, 295.0, 315.0, 285.0, 300.0, 330.0, 270.0]


def judge(own: list[float] | None = None, team: list[float] | None = None, **facts: Any) -> Assessment:
    return score_call(CallFacts(**facts), durations=lambda: (own or [], team or []), abuse_markers=MARKERS)


@pytest.mark.parametrize("tag", ["abusive", "ABUSE", " Aggressive ", "threat"])
def test_an_abuse_marker_alone_makes_a_call_hard(tag: str) -> None:
    result = judge(tags=(tag,))
    assert result.hard and result.signals == (Signal.ABUSE,)


def test_a_tag_outside_the_list_is_not_abuse() -> None:
    assert judge(tags=("billing", "refund")).signals == ()


@pytest.mark.parametrize(
    ("facts", "signals"),
    [
        ({"disconnected_by": "customer"}, (Signal.HANGUP,)),
        ({"sentiment": -0.5}, (Signal.SENTIMENT,)),
        ({"transfers": 2}, (Signal.TRANSFERS,)),
        ({"hold_s": 180}, (Signal.HOLD,)),
        ({"csat": 0.25}, (Signal.CSAT,)),
    ],
)
def test_one_ordinary_signal_is_not_enough(facts: dict[str, Any], signals: tuple[Signal, ...]) -> None:
    result = judge(**facts)
    assert result.signals == signals and not result.hard


@pytest.mark.parametrize(
    "facts",
    [{"sentiment": -0.4}, {"transfers": 1}, {"hold_s": 179}, {"csat": 0.5}, {"disconnected_by": "agent"}, {}],
)
def test_below_thresholds_there_is_no_signal(facts: dict[str, Any]) -> None:
    assert judge(**facts).signals == ()


def test_two_signals_make_a_call_hard() -> None:
    result = judge(disconnected_by="customer", sentiment=-0.8)
    assert result.hard and set(result.signals) == {Signal.HANGUP, Signal.SENTIMENT}


def test_duration_is_judged_against_the_agents_own_calls() -> None:
    hung_up: dict[str, Any] = {"disconnected_by": "customer"}
    assert judge(own=USUAL, duration_s=1500, **hung_up).signals == (Signal.LONG, Signal.HANGUP)
    assert judge(own=USUAL, duration_s=1500, **hung_up).hard
    assert Signal.LONG not in judge(own=USUAL, duration_s=420, **hung_up).signals
    # The same 1500 s call is ordinary for an agent whose calls are usually that long.
    assert (
        Signal.LONG not in judge(own=[1400.0 + i * 20 for i in range(12)], duration_s=1500, **hung_up).signals
    )


def test_a_long_call_alone_is_not_hard_and_costs_no_history_query() -> None:
    def no_history() -> tuple[list[float], list[float]]:
        raise AssertionError("history was queried for a call with no other signal")

    result = score_call(CallFacts(duration_s=5000), durations=no_history, abuse_markers=MARKERS)
    assert not result.hard and result.signals == ()


def test_with_few_own_calls_the_team_is_the_baseline() -> None:
    assert Signal.LONG in judge(own=[300.0, 310.0], team=USUAL * 2, duration_s=1500, sentiment=-0.9).signals


def test_without_enough_history_duration_is_not_judged() -> None:
    assert Signal.LONG not in judge(own=[300.0], team=USUAL, duration_s=5000, sentiment=-0.9).signals


def test_identical_past_durations_do_not_flag_every_slightly_longer_call() -> None:
    same = [300.0] * 20
    assert Signal.LONG not in judge(own=same, duration_s=320, transfers=3).signals
    assert Signal.LONG in judge(own=same, duration_s=900, transfers=3).signals
