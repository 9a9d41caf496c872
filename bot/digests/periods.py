"""Digest periods: whole weeks, Monday to Sunday in the team's own time zone (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import Shift

TREND_PERIODS = 12


@dataclass(frozen=True)
class Week:
    start: date  # Monday, local
    begins: datetime  # UTC
    ends: datetime  # UTC, exclusive

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)


def complete_weeks(zone: ZoneInfo, now: datetime, count: int = TREND_PERIODS) -> list[Week]:
    """The last `count` whole weeks before the current one, oldest first.

    Managers see fixed, finished weeks only: a figure for a week still in progress would change
    with every new call, and two such views could be subtracted to single someone out.
    """
    today = now.astimezone(zone).date()
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=n) for n in range(count, 0, -1)]
    return [Week(m, _local_midnight(m, zone), _local_midnight(m + timedelta(days=7), zone)) for m in mondays]


def end_of_week(day: date, zone: ZoneInfo) -> datetime:
    """The moment the week containing `day` (Monday to Sunday, local) is over, in UTC."""
    monday = day - timedelta(days=day.weekday())
    return _local_midnight(monday + timedelta(days=7), zone)


def shift_hours_per_week(shift: Shift) -> float:
    start = shift.start.hour * 60 + shift.start.minute
    end = shift.end.hour * 60 + shift.end.minute
    minutes = end - start if end > start else end - start + 24 * 60
    return len(shift.days) * minutes / 60
