"""Dates, times and numbers as each language writes them, from CLDR (Babel) and, for the Solar
Hijri calendar, jdatetime.

Romanian: "duminică 29 noiembrie", "14:05", "52,5", "40 %". Persian: Persian digits, the
momayyez as decimal separator and, unless the operator chose the Gregorian calendar, Solar Hijri
dates ("یکشنبه ۸ آذر"). Times are 24-hour everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time
from functools import cache
from typing import Literal

import jdatetime
from babel import Locale
from babel.dates import format_date, format_skeleton, get_date_format, get_day_names
from babel.numbers import format_decimal, format_percent

Calendar = Literal["solar_hijri", "gregorian"]
# The calendar each language uses unless the operator says otherwise (only Persian differs).
DEFAULT_CALENDAR: dict[str, Calendar] = {"fa": "solar_hijri"}
# Babel formats with a numbering system's symbols but always with ASCII digits.
_DIGITS = {"arabext": "۰۱۲۳۴۵۶۷۸۹", "arab": "٠١٢٣٤٥٦٧٨٩"}


_YEAR = re.compile(r",?\s*y+|y+\s*,?\s*")
# The catalogue's English is British ("anonymised"), so it writes dates the British way.
_REGION = {"en": "en_GB"}


def _babel_locale(language: str) -> str:
    return _REGION.get(language, language)


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def _numbering(language: str) -> str:
    return str(_locale(language).default_numbering_system)


def native_digits(language: str, text: str) -> str:
    """ASCII digits written in the language's own (Persian: ۰۱۲۳۴۵۶۷۸۹); others unchanged."""
    digits = _DIGITS.get(_numbering(language))
    return text.translate(str.maketrans("0123456789", digits)) if digits else text


class Formats:
    """How one language writes dates, times and numbers, in the calendar it is given."""

    def __init__(self, language: str, calendar: Calendar | None = None) -> None:
        self.language = language
        self.calendar: Calendar = calendar or DEFAULT_CALENDAR.get(language, "gregorian")
        if language not in DEFAULT_CALENDAR:
            self.calendar = "gregorian"  # the setting chooses Persian's calendar only

    def number(self, value: float) -> str:
        """52.5 -> "52.5" / "52,5" / "۵۲٫۵"; whole floats lose their ".0"."""
        text = format_decimal(value, locale=self.language, numbering_system=_numbering(self.language))
        return native_digits(self.language, text)

    def percent(self, share: float) -> str:
        """0.4 -> "40%" / "40 %" / "۴۰٪"."""
        numbering = _numbering(self.language)
        text = format_percent(share, locale=self.language, numbering_system=numbering)
        sign = _locale(self.language).number_symbols.get(numbering, {}).get("percentSign", "%")
        return native_digits(self.language, text.replace("%", sign))

    def series(self, items: Sequence[str]) -> str:
        """Items one after another with the language's separator: "a, b" / "a،‏ b" (CLDR)."""
        middle = _locale(_babel_locale(self.language)).list_patterns["standard"]["middle"]
        joined = items[0] if items else ""
        for item in items[1:]:
            joined = middle.format(joined, item)
        return joined

    def time(self, moment: datetime | time) -> str:
        """24-hour "14:05" in the language's digits (the moment already in local time)."""
        return native_digits(self.language, f"{moment.hour:02d}:{moment.minute:02d}")

    def day(self, day: date, *, weekday: bool = True, year: bool = False) -> str:
        """ "Sunday 29 November", "duminică 29 noiembrie", "یکشنبه ۸ آذر" (Solar Hijri)."""
        if isinstance(day, datetime):
            day = day.date()
        if self.calendar == "solar_hijri":
            return self._solar_hijri(day, weekday=weekday, year=year)
        locale = _babel_locale(self.language)
        pattern = get_date_format("full" if weekday else "long", locale=locale).pattern
        if not year:
            pattern = _YEAR.sub("", pattern).strip(" ,")
        return native_digits(self.language, format_date(day, pattern, locale=locale))

    def short_day(self, day: date) -> str:
        """A day where room is short (a chart's axis): "25 Nov", "25 nov.", "۴ آذر"."""
        if self.calendar == "solar_hijri":  # Persian months have no short forms
            return self._solar_hijri(day, weekday=False, year=False)
        locale = _babel_locale(self.language)
        return native_digits(self.language, format_skeleton("MMMd", day, locale=locale))

    def _solar_hijri(self, day: date, *, weekday: bool, year: bool) -> str:
        solar = jdatetime.date.fromgregorian(date=day)
        month = jdatetime.date.j_months_fa[solar.month - 1]
        words = [str(solar.day), month] + ([str(solar.year)] if year else [])
        if weekday:  # the weekday's name does not depend on the calendar: CLDR's
            words.insert(0, get_day_names("wide", locale=self.language)[day.weekday()])
        return native_digits(self.language, " ".join(words))
