"""Hard-call detection: independent signals from facts about the call, never about the agent.

A call is hard when an abuse marker is present (alone sufficient) or when two or more other
signals agree. Duration is judged against the agent's own recent calls (robust z-score of
log duration, median/MAD), or the team's while the agent has too few calls of their own.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Signal(StrEnum):
    ABUSE = "abuse"
    LONG = "long"
    SENTIMENT = "sentiment"
    HANGUP = "hangup"
    TRANSFERS = "transfers"
    HOLD = "hold"
    CSAT = "csat"


@dataclass(frozen=True)
class Thresholds:
    outlier_z: float = 3.0  # modified z-score above which a duration is an outlier
    min_own_calls: int = 10  # below this, compare with the team instead
    min_team_calls: int = 20  # below this, no duration judgement at all
    min_mad: float = 0.2  # log-duration MAD floor: with very regular calls, still need ~2.4x to flag
    sentiment: float = -0.5  # customer sentiment at or below this (scale -1..1)
    transfers: int = 2
    hold_s: float = 180.0
    csat: float = 0.25  # normalised 0..1; "bad" is 0, 2 of 5 stars is 0.25


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class CallFacts:
    duration_s: float | None = None
    disconnected_by: str | None = None
    transfers: int | None = None
    hold_s: float | None = None
    sentiment: float | None = None
    csat: float | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assessment:
    hard: bool
    signals: tuple[Signal, ...]


def has_abuse_marker(tags: Iterable[str], markers: Iterable[str]) -> bool:
    wanted = {marker.lower() for marker in markers}
    return any(tag.strip().lower() in wanted for tag in tags)


def robust_z(value: float, sample: Sequence[float], min_mad: float) -> float:
    """Modified z-score of log(value) against log(sample): 0.6745 * (x - median) / MAD."""
    logs = [math.log1p(x) for x in sample]
    centre = statistics.median(logs)
    mad = max(statistics.median(abs(x - centre) for x in logs), min_mad)
    return 0.6745 * (math.log1p(value) - centre) / mad


def is_long(duration_s: float, own: Sequence[float], team: Sequence[float], t: Thresholds) -> bool:
    if len(own) >= t.min_own_calls:
        sample = own
    elif len(team) >= t.min_team_calls:
        sample = team
    else:
        return False
    return robust_z(duration_s, sample, t.min_mad) > t.outlier_z


Durations = Callable[[], tuple[Sequence[float], Sequence[float]]]


def score_call(
    facts: CallFacts,
    *,
    durations: Durations,
    abuse_markers: Iterable[str],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Assessment:
    """`durations()` gives (the agent's own recent durations, the team's); it is asked only when
    the length of the call could matter, because it costs a query."""
    t = thresholds
    signals: list[Signal] = []
    if has_abuse_marker(facts.tags, abuse_markers):
        signals.append(Signal.ABUSE)
    if facts.sentiment is not None and facts.sentiment <= t.sentiment:
        signals.append(Signal.SENTIMENT)
    if facts.disconnected_by == "customer":
        signals.append(Signal.HANGUP)
    if facts.transfers is not None and facts.transfers >= t.transfers:
        signals.append(Signal.TRANSFERS)
    if facts.hold_s is not None and facts.hold_s >= t.hold_s:
        signals.append(Signal.HOLD)
    if facts.csat is not None and facts.csat <= t.csat:
        signals.append(Signal.CSAT)
    # The length is judged only when it can tip the balance: a long call alone is not hard,
    # and a call already hard needs no more evidence.
    already_hard = Signal.ABUSE in signals or len(signals) >= 2
    if len(signals) == 1 and not already_hard and facts.duration_s is not None:
        own, team = durations()
        if is_long(facts.duration_s, own, team, t):
            signals.insert(1 if signals[0] is Signal.ABUSE else 0, Signal.LONG)
    hard = Signal.ABUSE in signals or len(signals) >= 2
    return Assessment(hard=hard, signals=tuple(signals))
