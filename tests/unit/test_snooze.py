"""Reading when a pause ends: spans, days, dates and clock times in the person's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.snooze import WhenProblem, WhenRefused, parse_until

BUCHAREST = ZoneInfo("Europe/Bucharest")
# Friday 4 December 2026, 14:30 in Bucharest.
NOW = datetime(2026, 12, 4, 14, 30, tzinfo=BUCHAREST).astimezone(UTC)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BUCHAREST).astimezone(UTC)


@pytest.mark.parametrize(
    ("words", "ends"),
    [
        ("", None),
        ("for 2 hours", NOW + timedelta(hours=2)),
        ("For 90 minutes", NOW + timedelta(minutes=90)),
        ("for an hour", NOW + timedelta(hours=1)),
        ("for 2h", NOW + timedelta(hours=2)),
        ("for 1.5 days", NOW + timedelta(hours=36)),
        ("for 3 days", NOW + timedelta(days=3)),
        ("2 weeks", NOW + timedelta(weeks=2)),
        ("until Monday", local(2026, 12, 7)),
        ("until mon", local(2026, 12, 7)),
        ("until Friday", local(2026, 12, 11)),  # on a Friday: next week's
        ("till tomorrow", local(2026, 12, 5)),
        ("until 2026-12-28", local(2026, 12, 28)),
        ("until 17:00", local(2026, 12, 4, 17)),
        ("until 9:15", local(2026, 12, 5, 9, 15)),  # already past today: tomorrow's
        ("until 2026-12-28.", local(2026, 12, 28)),
    ],
)
def test_readable_ends(words: str, ends: datetime | None) -> None:
    assert parse_until(words, now=NOW, zone=BUCHAREST, max_days=90) == ends


def test_a_day_ends_at_midnight_in_the_persons_own_zone() -> None:
    toronto = ZoneInfo("America/Toronto")
    assert parse_until("until 2026-12-28", now=NOW, zone=toronto, max_days=90) == datetime(
        2026, 12, 28, tzinfo=toronto
    )


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        ("until blursday", WhenProblem.UNREADABLE),
        ("for ages", WhenProblem.UNREADABLE),
        ("until", WhenProblem.UNREADABLE),
        ("until 2026-02-30", WhenProblem.UNREADABLE),
        ("until 25:00", WhenProblem.UNREADABLE),
        ("until 2026-12-04", WhenProblem.PAST),  # today began before now
        ("until 2025-12-28", WhenProblem.PAST),
        ("for 0 hours", WhenProblem.PAST),
        ("until 2027-12-28", WhenProblem.TOO_FAR),
        ("for 13 weeks", WhenProblem.TOO_FAR),
    ],
)
def test_unreadable_past_and_too_far(words: str, problem: WhenProblem) -> None:
    with pytest.raises(WhenRefused) as refused:
        parse_until(words, now=NOW, zone=BUCHAREST, max_days=90)
    assert refused.value.problem is problem
