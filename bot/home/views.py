"""The agent's own page (Slack App Home): their switches and their own results, for them only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import ProductSettings
from bot.i18n import Catalogue, available_languages, language_name
from bot.ids import ActionId, language_action
from bot.messenger import Button, Buttons, Divider, Heading, HomeView, Note, Part, Text
from bot.surveys.instruments import WHO5_SEVERE, InstrumentId
from bot.surveys.messages import day_text
from bot.surveys.service import OwnResult


def _meaning(cat: Catalogue, result: OwnResult) -> str:
    if result.instrument is InstrumentId.WHO5:
        level = "severe" if result.score <= WHO5_SEVERE else ("low" if result.flagged else "good")
        return cat.t(f"results.who5_meaning.{level}")
    if result.instrument is InstrumentId.BURNOUT_SINGLE:
        return cat.t("results.burnout_meaning." + ("symptoms" if result.flagged else "none"))
    return cat.t("results.cbi_meaning." + ("high" if result.flagged else "lower"))


def result_lines(cat: Catalogue, results: Sequence[OwnResult], zone: ZoneInfo) -> list[Part]:
    keys = {
        InstrumentId.WHO5: "results.who5",
        InstrumentId.BURNOUT_SINGLE: "results.burnout",
        InstrumentId.CBI_CLIENT: "results.cbi",
    }
    parts: list[Part] = []
    for result in results:
        score = cat.formats.number(result.score)
        line = cat.t(keys[result.instrument], date=day_text(cat, result.submitted_at, zone), score=score)
        parts.append(Text(text=f"{line} {_meaning(cat, result)}"))
    return parts


def language_buttons(current: str) -> Buttons:
    """Each language under its own name; the one in use is highlighted."""
    return Buttons(
        block_id="home-language",
        buttons=tuple(
            Button(
                action=language_action(code),
                label=language_name(code),
                value=code,
                style="primary" if code == current else None,
            )
            for code in available_languages()
        ),
    )


def when_text(cat: Catalogue, moment: datetime, zone: ZoneInfo) -> str:
    """When a pause ends, as the person reads it: the day, and the time unless it is midnight."""
    local = moment.astimezone(zone)
    day = day_text(cat, moment, zone)
    if (local.hour, local.minute) == (0, 0):
        return day
    return cat.t("command.day_time", day=day, time=cat.formats.time(local))


def manager_home(cat: Catalogue, lead_parts: Sequence[Part]) -> HomeView:
    """A team lead who is not an agent: the Manager section, and the language they read it in."""
    return HomeView(
        parts=(
            Heading(text=cat.t("home.title")),
            Heading(text=cat.t("digest.manager_heading")),
            *lead_parts,
            Divider(),
            Heading(text=cat.t("home.language")),
            language_buttons(cat.language),
        )
    )


def _pairing_parts(cat: Catalogue, pairing: bool | None) -> list[Part]:
    """Coffee pairs, when the agent's team has them: in or out, and the switch."""
    if pairing is None:
        return []
    button = (
        Button(action=ActionId.HOME_PAIRING_OFF.value, label=cat.t("home.pairing_off"))
        if pairing
        else Button(action=ActionId.HOME_PAIRING_ON.value, label=cat.t("home.pairing_on"))
    )
    return [
        Text(text=cat.t("home.pairing_yes" if pairing else "home.pairing_no")),
        Buttons(block_id="home_pairing", buttons=(button,)),
    ]


def _pause_line(cat: Catalogue, paused: bool, until: datetime | None, zone: ZoneInfo) -> str:
    if paused and until is not None:
        return cat.t("home.paused_until", when=when_text(cat, until, zone))
    return cat.t("home.paused" if paused else "home.active")


def home_view(
    cat: Catalogue,
    settings: ProductSettings,
    *,
    paused: bool,
    surveys_on: bool,
    results: Sequence[OwnResult],
    zone: ZoneInfo,
    lead_parts: Sequence[Part] = (),
    paused_until: datetime | None = None,
    buddy: bool = False,
    pairing: bool | None = None,
) -> HomeView:
    pauses = (
        (Button(action=ActionId.HOME_RESUME.value, label=cat.t("home.resume"), style="primary"),)
        if paused
        else (
            Button(action=ActionId.HOME_PAUSE.value, label=cat.t("home.pause")),
            Button(action=ActionId.HOME_PAUSE_2H.value, label=cat.t("home.pause_2h")),
            Button(action=ActionId.HOME_PAUSE_TOMORROW.value, label=cat.t("home.pause_tomorrow")),
            Button(action=ActionId.HOME_PAUSE_MONDAY.value, label=cat.t("home.pause_monday")),
        )
    )
    surveys = (
        Button(action=ActionId.HOME_SURVEYS_OFF.value, label=cat.t("results.turn_off"))
        if surveys_on
        else Button(action=ActionId.HOME_SURVEYS_ON.value, label=cat.t("results.turn_on"))
    )
    parts: list[Part] = [
        Heading(text=cat.t("home.title")),
        Text(text=cat.t("home.intro")),
        Text(text=_pause_line(cat, paused, paused_until, zone)),
        Text(text=cat.t("results.surveys_on" if surveys_on else "results.surveys_off")),
        Buttons(block_id="home", buttons=(*pauses, surveys)),
        Text(text=cat.t("home.buddy_yes" if buddy else "home.buddy_no")),
        Buttons(
            block_id="home_buddy",
            buttons=(
                Button(action=ActionId.HOME_BUDDY_OFF.value, label=cat.t("home.buddy_off"))
                if buddy
                else Button(action=ActionId.HOME_BUDDY_ON.value, label=cat.t("home.buddy_on")),
            ),
        ),
        *_pairing_parts(cat, pairing),
        Divider(),
        Heading(text=cat.t("results.heading")),
    ]
    parts.extend(result_lines(cat, results, zone) or [Text(text=cat.t("results.none"))])
    latest_who5 = next((r for r in results if r.instrument is InstrumentId.WHO5), None)
    if latest_who5 is not None and latest_who5.flagged and settings.support_resources:
        parts.append(Heading(text=cat.t("results.support_heading")))
        for resource in settings.support_resources:
            line = cat.t("results.support_item", name=resource.name, contact=resource.contact)
            parts.append(Text(text=f"{line}\n{resource.note}" if resource.note else line))
    parts.extend([Divider(), Heading(text=cat.t("home.language")), language_buttons(cat.language)])
    parts.append(Note(text=cat.t("home.privacy_note", min_group=settings.anonymity_min_group)))
    if lead_parts:
        parts.extend([Divider(), Heading(text=cat.t("digest.manager_heading")), *lead_parts])
    return HomeView(parts=tuple(parts))
