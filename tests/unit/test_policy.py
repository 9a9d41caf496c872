"""The nudge policy: shifts in the team's own zone (DST included), cooldown, daily cap, pause."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.checkins.policy import NudgeHistory, Refusal, in_shift, local_day_start, refusal
from bot.config import ProductSettings, Shift

BUCHAREST = ZoneInfo("Europe/Bucharest")
TORONTO = ZoneInfo("America/Toronto")
DAY = Shift(days=["mon", "tue", "wed", "thu", "fri"], start=time(8), end=time(17))
NIGHT = Shift(days=["mon", "tue", "wed", "thu", "fri"], start=time(22), end=time(6))
GRACE = timedelta(minutes=30)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(BUCHAREST, 2026, 11, 23, 10, 0), True),  # Monday morning
        (local(BUCHAREST, 2026, 11, 23, 7, 59), False),  # before the shift
        (local(BUCHAREST, 2026, 11, 23, 17, 30), True),  # end + 30 min grace
        (local(BUCHAREST, 2026, 11, 23, 17, 31), False),
        (local(BUCHAREST, 2026, 11, 28, 10, 0), False),  # Saturday
    ],
)
def test_day_shift_in_the_teams_zone(moment: datetime, expected: bool) -> None:
    assert in_shift(DAY, BUCHAREST, moment, GRACE) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(TORONTO, 2026, 11, 23, 23, 0), True),  # Monday night
        (local(TORONTO, 2026, 11, 24, 5, 59), True),  # Tuesday early: Monday's shift
        (local(TORONTO, 2026, 11, 28, 2, 0), True),  # Saturday early: Friday's shift
        (local(TORONTO, 2026, 11, 29, 2, 0), False),  # Sunday early: no Saturday shift
        (local(TORONTO, 2026, 11, 24, 12, 0), False),  # midday
    ],
)
def test_night_shift_belongs_to_the_day_it_starts(moment: datetime, expected: bool) -> None:
    assert in_shift(NIGHT, TORONTO, moment, GRACE) is expected


def test_shift_hours_follow_daylight_saving_time() -> None:
    every_day = Shift(days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start=time(8), end=time(17))
    # Bucharest leaves summer time on 2026-10-25: 05:30 UTC is 08:30 before, 07:30 after.
    assert in_shift(every_day, BUCHAREST, datetime(2026, 10, 24, 5, 30, tzinfo=UTC), timedelta(0))
    assert not in_shift(every_day, BUCHAREST, datetime(2026, 10, 25, 5, 30, tzinfo=UTC), timedelta(0))
    assert in_shift(every_day, BUCHAREST, datetime(2026, 10, 25, 6, 30, tzinfo=UTC), timedelta(0))


def test_local_day_starts_at_local_midnight() -> None:
    moment = local(TORONTO, 2026, 11, 23, 0, 30)
    assert local_day_start(TORONTO, moment) == local(TORONTO, 2026, 11, 23, 0, 0)


NOW = local(BUCHAREST, 2026, 11, 23, 10, 0)
SETTINGS = ProductSettings()


def decide(**history: Any) -> Refusal | None:
    base: dict[str, Any] = {"paused": False, "last_sent_at": None, "sent_today": 0}
    base.update(history)
    ended = base.pop("ended", NOW - timedelta(minutes=1))
    return refusal(
        now=NOW,
        call_ended_at=ended,
        history=NudgeHistory(**base),
        shift=DAY,
        zone=BUCHAREST,
        settings=SETTINGS,
    )


def test_a_first_hard_call_in_shift_gets_a_checkin() -> None:
    assert decide() is None


def test_paused_agents_are_never_nudged() -> None:
    assert decide(paused=True) is Refusal.PAUSED


def test_cooldown_of_one_hour() -> None:
    assert decide(last_sent_at=NOW - timedelta(minutes=59)) is Refusal.COOLDOWN
    assert decide(last_sent_at=NOW - timedelta(minutes=60)) is None


def test_at_most_three_a_day() -> None:
    assert decide(sent_today=2) is None
    assert decide(sent_today=3) is Refusal.DAILY_CAP


def test_a_call_that_ended_long_ago_is_not_worth_a_nudge() -> None:
    assert decide(ended=NOW - timedelta(hours=2)) is Refusal.STALE


def test_off_shift_no_checkin() -> None:
    late = local(BUCHAREST, 2026, 11, 23, 19, 0)
    result = refusal(
        now=late,
        call_ended_at=late,
        history=NudgeHistory(False, None, 0),
        shift=DAY,
        zone=BUCHAREST,
        settings=SETTINGS,
    )
    assert result is Refusal.OFF_SHIFT
