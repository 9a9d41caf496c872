"""The nudge policy: when a hard call may lead to a check-in. Pure functions of time and history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.config import WEEKDAYS, DayOff, ProductSettings, Shift


class Refusal(StrEnum):
    PAUSED = "paused"
    OFF_SHIFT = "off_shift"
    COOLDOWN = "cooldown"
    DAILY_CAP = "daily_cap"
    STALE = "stale"
    AWAY = "away"  # the chat platform says out of office (bot/away.py); decided by the service


@dataclass(frozen=True)
class NudgeHistory:
    paused: bool
    last_sent_at: datetime | None
    sent_today: int


def no_days_off(day: date) -> bool:
    return False


def works_on(shift: Shift, day: date, day_off: DayOff) -> bool:
    """Whether a shift starts on `day`: one of its weekdays, and not a holiday."""
    return WEEKDAYS[day.weekday()] in shift.days and not day_off(day)


def shift_window(
    shift: Shift, zone: ZoneInfo, moment: datetime, day_off: DayOff = no_days_off
) -> tuple[datetime, datetime] | None:
    """The shift that contains or most recently started before `moment`, as aware datetimes.

    Shifts ending at or before their start run past midnight (a night shift belongs to the
    day it starts on, and so does its holiday).
    """
    local = moment.astimezone(zone)
    for days_back in (0, 1):
        day = local.date() - timedelta(days=days_back)
        if not works_on(shift, day, day_off):
            continue
        start = datetime.combine(day, shift.start, zone)
        end_day = day if shift.end > shift.start else day + timedelta(days=1)
        end = datetime.combine(end_day, shift.end, zone)
        if start <= local:
            return start, end
    return None


def in_shift(
    shift: Shift, zone: ZoneInfo, moment: datetime, grace: timedelta, day_off: DayOff = no_days_off
) -> bool:
    window = shift_window(shift, zone, moment, day_off)
    return window is not None and window[0] <= moment <= window[1] + grace


def local_day_start(zone: ZoneInfo, moment: datetime) -> datetime:
    local = moment.astimezone(zone)
    return datetime.combine(local.date(), datetime.min.time(), zone)


def refusal(
    *,
    now: datetime,
    call_ended_at: datetime,
    history: NudgeHistory,
    shift: Shift,
    zone: ZoneInfo,
    settings: ProductSettings,
    day_off: DayOff = no_days_off,
) -> Refusal | None:
    """None when a check-in may be sent now; otherwise the first rule that says no."""
    if history.paused:
        return Refusal.PAUSED
    if now - call_ended_at > timedelta(minutes=settings.checkin_max_age_minutes):
        return Refusal.STALE
    if not in_shift(shift, zone, now, timedelta(minutes=settings.shift_grace_minutes), day_off):
        return Refusal.OFF_SHIFT
    if history.last_sent_at is not None and now - history.last_sent_at < timedelta(
        minutes=settings.checkin_cooldown_minutes
    ):
        return Refusal.COOLDOWN
    if history.sent_today >= settings.checkins_per_day:
        return Refusal.DAILY_CAP
    return None
