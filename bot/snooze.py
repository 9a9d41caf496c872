"""Reading when a pause or time off ends: "for 2 hours", "until Monday", "until 2026-12-28".

Pure functions of the words, the moment and the person's time zone. A day ("until Monday",
"until 2026-12-28", "until tomorrow") means check-ins are back from the start of that day in
the person's zone; a clock time ("until 17:00") is its next occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

_UNITS = {
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SPAN = re.compile(r"^(\d+(?:[.,]\d+)?|an?|one)\s*([a-z]+)$")
_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


class WhenProblem(StrEnum):
    UNREADABLE = "unreadable"
    PAST = "past"
    TOO_FAR = "too_far"


@dataclass(frozen=True)
class WhenRefused(Exception):
    """Why the words cannot be a pause's end; `problem` picks the catalogue line."""

    problem: WhenProblem

    def __str__(self) -> str:
        return self.problem.value


def _weekday(word: str) -> int | None:
    if len(word) < 3:
        return None
    return next((index for index, name in enumerate(_DAYS) if name.startswith(word)), None)


def _moment(words: str, now: datetime, zone: ZoneInfo) -> datetime:
    """When `words` (without "for"/"until") end, as an aware datetime; raises WhenRefused."""
    local = now.astimezone(zone)
    span = _SPAN.match(words)
    if span is not None and span.group(2) in _UNITS:
        amount = span.group(1)
        count = 1.0 if amount in ("a", "an", "one") else float(amount.replace(",", "."))
        return now + timedelta(seconds=count * _UNITS[span.group(2)])
    if words in ("tomorrow", "tmrw"):
        return datetime.combine(local.date() + timedelta(days=1), time(0), zone)
    if (day := _weekday(words.removeprefix("next "))) is not None:
        ahead = (day - local.weekday() - 1) % 7 + 1  # "until Monday" on a Monday: next week's
        return datetime.combine(local.date() + timedelta(days=ahead), time(0), zone)
    if (clock := _CLOCK.match(words)) is not None:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        if hour > 23 or minute > 59:
            raise WhenRefused(WhenProblem.UNREADABLE)
        at = datetime.combine(local.date(), time(hour, minute), zone)
        tomorrow = local.date() + timedelta(days=1)
        return at if at > local else datetime.combine(tomorrow, time(hour, minute), zone)
    if (found := _DATE.match(words)) is not None:
        try:
            day_ = date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            raise WhenRefused(WhenProblem.UNREADABLE) from None
        return datetime.combine(day_, time(0), zone)
    raise WhenRefused(WhenProblem.UNREADABLE)


def parse_until(words: str, *, now: datetime, zone: ZoneInfo, max_days: int) -> datetime | None:
    """When a pause asked for with `words` ends; None for no end ("/breather pause" alone).

    Raises WhenRefused for words it cannot read, a moment already past, or one more than
    `max_days` ahead.
    """
    text = " ".join(words.lower().replace("’", "'").split()).rstrip(".!")
    if not text:
        return None
    head, _, rest = text.partition(" ")
    if head in ("for", "until", "till", "til", "to"):
        text = rest.strip()
    if not text:
        raise WhenRefused(WhenProblem.UNREADABLE)
    ends = _moment(text, now, zone)
    if ends <= now:
        raise WhenRefused(WhenProblem.PAST)
    if ends - now > timedelta(days=max_days):
        raise WhenRefused(WhenProblem.TOO_FAR)
    return ends
