"""The console's one line about what a policy held back for the person viewed as, and why.

The check-in service and the survey dispatcher tell `Services.hold_backs` (bot/holdbacks.py);
the console keeps the latest notice per agent, in memory only, and shows it above the
conversation until something newer arrives for that person.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import ProductSettings
from bot.holdbacks import HeldBack
from bot.i18n import Catalogue

SHOWN_FOR = timedelta(minutes=10)  # an old notice says nothing about now


def duration(cat: Catalogue, span: timedelta) -> str:
    seconds = max(0, round(span.total_seconds()))
    if seconds < 90:
        return cat.t("console.duration.seconds", n=seconds)
    return cat.t("console.duration.minutes", n=round(seconds / 60))


def notice_text(cat: Catalogue, notice: HeldBack, settings: ProductSettings, zone: ZoneInfo) -> str | None:
    key = f"console.held_back.{notice.what}.{notice.reason}"
    if cat.entry(key) is None:
        return None
    gap_minutes = (
        settings.checkin_cooldown_minutes
        if notice.what == "checkin"
        else settings.survey_gap_after_checkin_minutes
    )
    last = notice.last_checkin_at
    return cat.t(
        key,
        ago=duration(cat, notice.at - last) if last else "",
        gap=duration(cat, timedelta(minutes=gap_minutes)),
        at=cat.formats.time(notice.until.astimezone(zone)) if notice.until else "",
    )


def still_news(received_at: datetime, *, now: datetime, latest_message_at: datetime | None) -> bool:
    """Shown until a message reaches the person after it, or until it is old. On the wall clock,
    as the sandbox stamps its messages (the app's own clock may be a test's)."""
    if now - received_at > SHOWN_FOR:
        return False
    return latest_message_at is None or latest_message_at <= received_at
