"""Dates, times and numbers as each language writes them (CLDR via Babel; Solar Hijri via jdatetime)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.config import BreatherConfig
from bot.digests.messages import digest_text
from bot.digests.model import Digest
from bot.i18n import catalogue
from bot.i18n.formats import Formats, native_digits
from bot.surveys.messages import day_text

TEAM = {"id": "support", "name": "Support", "language": "fa"}
SUNDAY = date(2026, 11, 29)  # 8 Azar 1405 in the Solar Hijri calendar


@pytest.mark.parametrize(
    ("language", "calendar", "with_weekday", "with_year"),
    [
        ("en", None, "Sunday, 29 November", "29 November 2026"),
        ("ro", None, "duminică, 29 noiembrie", "29 noiembrie 2026"),
        ("fa", None, "یکشنبه ۸ آذر", "۸ آذر ۱۴۰۵"),
        ("fa", "gregorian", "یکشنبه ۲۹ نوامبر", "۲۹ نوامبر ۲۰۲۶"),
        ("ro", "solar_hijri", "duminică, 29 noiembrie", "29 noiembrie 2026"),  # Persian's setting only
    ],
)
def test_a_day_in_each_language_and_calendar(language, calendar, with_weekday, with_year) -> None:
    formats = Formats(language, calendar)
    assert formats.day(SUNDAY) == with_weekday
    assert formats.day(SUNDAY, weekday=False, year=True) == with_year


def test_the_solar_hijri_new_year_falls_on_the_march_equinox() -> None:
    assert Formats("fa").day(date(2026, 3, 21), weekday=False, year=True) == "۱ فروردین ۱۴۰۵"
    assert Formats("fa").day(date(2026, 3, 20), weekday=False, year=True) == "۲۹ اسفند ۱۴۰۴"


@pytest.mark.parametrize(
    ("language", "decimal", "whole", "large", "share", "clock"),
    [
        ("en", "52.5", "5", "1,234", "40%", "09:05"),
        ("ro", "52,5", "5", "1.234", "40\u00a0%", "09:05"),  # a no-break space
        ("fa", "۵۲٫۵", "۵", "۱٬۲۳۴", "۴۰٪", "۰۹:۰۵"),
    ],
)
def test_numbers_and_times(language, decimal, whole, large, share, clock) -> None:
    formats = Formats(language)
    assert formats.number(52.5) == decimal
    assert formats.number(5.0) == whole
    assert formats.number(1234) == large
    assert formats.percent(0.4) == share
    assert formats.time(time(9, 5)) == clock
    assert formats.time(datetime(2026, 1, 1, 21, 40)) == native_digits(language, "21:40")  # 24-hour


def test_numbers_filled_into_a_sentence_are_written_the_languages_way() -> None:
    assert catalogue("fa").t("checkin.button.break", count=5, minutes=5) == "۵ دقیقه استراحت"
    assert (
        catalogue("ro").t("checkin.button.break", count=0.5, minutes=0.5) == "Ia-ți un respiro de 0,5 minute"
    )
    assert catalogue("en").t("checkin.button.break", count=0.5, minutes=0.5) == "Take a 0.5-minute breather"


def test_text_placeholders_keep_their_digits() -> None:
    """An e-mail address or a phone number is not a number to localise."""
    text = catalogue("fa").t("recovery.break.failed", phone="0722 123 456", count=5, minutes=5)
    assert "0722 123 456" in text and "۵" in text


def test_a_survey_date_uses_the_teams_zone_and_the_calendar() -> None:
    late_saturday_utc = datetime(2026, 11, 28, 22, 30, tzinfo=UTC)  # already Sunday in Tehran
    assert day_text(catalogue("fa"), late_saturday_utc, ZoneInfo("Asia/Tehran")) == "یکشنبه ۸ آذر"
    assert day_text(catalogue("fa", "gregorian"), late_saturday_utc, ZoneInfo("Asia/Tehran")) == (
        "یکشنبه ۲۹ نوامبر"
    )
    assert (
        day_text(catalogue("ro"), late_saturday_utc, ZoneInfo("Europe/Bucharest")) == "duminică, 29 noiembrie"
    )


def test_the_digest_writes_dates_and_shares_in_persian() -> None:
    digest = {
        "team": "support",
        "period": {"start": "2026-11-23", "end": "2026-11-29"},
        "min_group": 5,
        "suppressed": False,
        "respondents": {"at_least": 5},
        "metrics": {"who5_mean": 52.4, "who5_low_share": 0.33, "response_rate": {"at_least": 0.8}},
        "calls": {"calls": 120, "calls_per_agent_hour": 2.5, "hard_share": 0.25, "abusive": 3},
        "checkins": {"sent": 12, "break_share": 0.33, "talk_share": {"at_most": 0.2}},
        "compliments": 7,
    }
    text = digest_text(catalogue("fa"), "پشتیبانی", Digest.from_json(digest))
    assert "۲ آذر ۱۴۰۵" in text  # Monday 23 November 2026
    assert "۵۲٫۴" in text and "۲۵٪" in text
    assert not any(c in text.replace("WHO-5", "") for c in "0123456789"), text


def test_the_calendar_is_a_teams_setting_in_breather_yml() -> None:
    config = BreatherConfig.model_validate({"teams": [{**TEAM, "persian_calendar": "gregorian"}]})
    assert config.teams[0].persian_calendar == "gregorian"
    assert BreatherConfig.model_validate({"teams": [TEAM]}).teams[0].persian_calendar == "solar_hijri"
    with pytest.raises(ValueError, match="persian_calendar"):
        BreatherConfig.model_validate({"teams": [{**TEAM, "persian_calendar": "lunar"}]})
