"""Survey periods and shift arithmetic, in the team's own time zone (pure)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import WEEKDAYS, DayOff, Shift

# Periods are fixed, non-overlapping windows counted from a Monday, so every process, the
# scheduler and `breather survey send` agree on which round a moment belongs to.
ANCHOR = date(2024, 1, 1)


def period_start(local_day: date, every_weeks: int) -> date:
    weeks = (local_day - ANCHOR).days // 7
    return ANCHOR + timedelta(weeks=weeks - weeks % every_weeks)


def is_first_week_of_period(local_day: date, every_weeks: int) -> bool:
    return ((local_day - ANCHOR).days // 7) % every_weeks == 0


def next_shift_start(
    shift: Shift, zone: ZoneInfo, after: datetime, day_off: DayOff | None = None
) -> datetime:
    """The first shift start strictly after `after` (an aware datetime), holidays skipped."""
    local = after.astimezone(zone)
    for days_ahead in range(0, 400):  # a long closure still ends within a year
        day = local.date() + timedelta(days=days_ahead)
        if WEEKDAYS[day.weekday()] not in shift.days or (day_off is not None and day_off(day)):
            continue
        start = datetime.combine(day, shift.start, zone)
        if start > local:
            return start
    raise ValueError("the shift has no working days")  # config validation forbids this
