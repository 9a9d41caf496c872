"""Right to left: Persian lines open right to left, Latin values inside them stay whole, and each
platform is told the direction (Teams' card `rtl`; the chart draws joined Persian letters)."""

from __future__ import annotations

import io
import warnings
from datetime import date

import matplotlib.ft2font
import pytest
from PIL import Image

from bot.digests.chart import trend_png
from bot.digests.messages import chart_text
from bot.digests.model import Digest
from bot.i18n import catalogue
from bot.i18n.bidi import FSI, PDI, RLM, direction, dominant_direction, isolate, right_to_left_lines
from bot.messenger import Message, Text
from handlers.teams.cards import message_card


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Salut", "ltr"),
        ("سلام Ana", "rtl"),
        (f"{FSI}Ana{PDI} سلام", "rtl"),  # an isolate does not decide (Unicode P2)
        ("123 ۴۵", "ltr"),  # digits are not strong: nothing decides
        (f"{RLM}/breather pause", "rtl"),
    ],
)
def test_direction_is_the_first_strong_character(text: str, expected: str) -> None:
    assert direction(text) == expected


def test_a_page_with_a_latin_heading_over_persian_text_reads_right_to_left() -> None:
    assert dominant_direction("Breather\nبعد از تماس‌های سخت، خصوصی حالتان را می‌پرسم.") == "rtl"
    assert dominant_direction("Breather\nI check in privately.") == "ltr"


@pytest.mark.parametrize(
    ("value", "isolated"),
    [
        ("ana.pop@example.com", True),
        ("0722 123 456", True),  # spaced digit groups would be reordered in an RTL line
        ("Ana Popescu", True),
        ("۵", False),
        ("52", False),
        ("۴۰٪", False),
        ("سارا", False),
        ("", False),
    ],
)
def test_latin_and_spaced_digit_values_are_isolated(value: str, isolated: bool) -> None:
    assert (isolate(value) == f"{FSI}{value}{PDI}") is isolated
    if not isolated:
        assert isolate(value) == value


def test_a_persian_line_that_opens_with_latin_gets_a_right_to_left_mark() -> None:
    text = "• `/breather pause` توقف\nسلام\nHello"
    assert right_to_left_lines(text) == f"{RLM}• `/breather pause` توقف\nسلام\nHello"
    # Bold stays bold: the mark goes inside the opening marker.
    assert right_to_left_lines("*Breather* سلام") == f"*{RLM}Breather* سلام"
    assert direction(right_to_left_lines("*Breather* سلام")) == "rtl"


def test_persian_sentences_keep_names_phone_numbers_and_emails_whole() -> None:
    fa = catalogue("fa")
    failed = fa.t("recovery.break.failed", phone="Aircall", count=5, minutes=5)
    assert f"{FSI}Aircall{PDI}" in failed and "۵" in failed
    bullets = [line for line in fa.t("command.help").split("\n") if "•" in line]
    assert bullets and all(line.startswith(RLM + "• `/") for line in bullets)
    # English and Romanian are untouched.
    assert catalogue("en").t("recovery.break.failed", phone="Aircall", count=5, minutes=5).count(FSI) == 0
    assert RLM not in catalogue("ro").t("command.help")


def test_a_teams_card_in_persian_is_right_to_left() -> None:
    fa, en = catalogue("fa"), catalogue("en")
    persian = fa.t("command.paused")
    assert message_card(Message(text=persian, parts=(Text(text=persian),))).get("rtl") is True
    english = en.t("command.paused")
    assert "rtl" not in message_card(Message(text=english, parts=(Text(text=english),)))


def test_matplotlib_lays_persian_out_with_the_fonts_it_ships() -> None:
    """Joined letters need matplotlib's libraqm layout (3.11+); its bundled DejaVu Sans has the
    Persian glyphs, so a fresh machine draws the chart without a system font (a missing glyph
    would be a warning, and warnings fail the test)."""
    assert matplotlib.ft2font.__libraqm_version__

    def week(start: str, end: str, who5: float, hard: float) -> dict[str, object]:
        return {
            "team": "billing",
            "period": {"start": start, "end": end},
            "min_group": 5,
            "suppressed": False,
            "respondents": {"at_least": 5},
            "metrics": {"who5_mean": who5},
            "calls": {"calls": 40, "hard_share": hard, "abusive": 0, "calls_per_agent_hour": 1.0},
            "checkins": {"suppressed": True, "reason": "fewer than 5 agents"},
            "compliments": {"suppressed": True, "reason": "fewer than 5 agents"},
        }

    digest = Digest.from_json(
        {**week("2026-11-23", "2026-11-29", 52.4, 0.25), "trend": [week("2026-11-16", "2026-11-22", 58, 0.2)]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = trend_png(digest, chart_text(catalogue("fa"), team="Billing support"))
    assert Image.open(io.BytesIO(png)).size == (800, 750)
    assert chart_text(catalogue("fa"), team="x").day(date(2026, 11, 23)) == "۲ آذر"
