"""The words of breaks and talk requests, composed from the catalogue (pure functions).

Replies to the check-in replace its buttons (an update of the check-in message); what
happens later (the welcome back, a chat request) is a new direct message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.checkins.messages import CHECKIN_BLOCK_ID, checkin_answered
from bot.config import SupportResource
from bot.i18n import Catalogue
from bot.ids import ActionId, CallbackId, CheckinAnswer
from bot.messenger import Button, Buttons, ChoiceField, Form, FormPart, Message, Note, Option, Text

TALK_FIELD = "person"


def local_clock(cat: Catalogue, moment: datetime, zone: ZoneInfo) -> str:
    """14:35 in the team's time zone: the way the agent reads the time on their wall."""
    return cat.formats.time(moment.astimezone(zone))


def break_reply(cat: Catalogue, reply: str, *, break_minutes: float) -> Message:
    """The check-in message once the break choice is settled, saying what really happened."""
    return checkin_answered(cat, answer=CheckinAnswer.BREAK, break_minutes=break_minutes, reply=reply)


def break_setting(cat: Catalogue, *, phone: str, break_minutes: float) -> Message:
    """While the break worker talks to the phone system (retries can take a minute): the
    buttons are gone and the agent knows it is in hand. The outcome replaces this."""
    return break_reply(cat, cat.t("recovery.break.setting", phone=phone), break_minutes=break_minutes)


def break_started(cat: Catalogue, *, until: str, phone: str, break_minutes: float) -> Message:
    return break_reply(
        cat, cat.t("recovery.break.started", until=until, phone=phone), break_minutes=break_minutes
    )


def break_failed(cat: Catalogue, *, phone: str, break_minutes: float) -> Message:
    text = cat.t("recovery.break.failed", phone=phone, count=break_minutes, minutes=break_minutes)
    return break_reply(cat, text, break_minutes=break_minutes)


def break_capped(cat: Catalogue, *, taken: int, break_minutes: float) -> Message:
    """The daily cap is reached: no status change this time, and the honest reason."""
    text = cat.t("recovery.break.capped", count=taken)
    return break_reply(cat, text, break_minutes=break_minutes)


def break_self_service(cat: Catalogue, *, break_minutes: float) -> Message:
    text = cat.t("recovery.break.self_service", count=break_minutes, minutes=break_minutes)
    return break_reply(cat, text, break_minutes=break_minutes)


def _direct(text: str) -> Message:
    return Message(text=text, parts=(Text(text=text),))


def break_over(cat: Catalogue, *, phone: str, kept: bool) -> Message:
    return _direct(cat.t("recovery.break.over_kept" if kept else "recovery.break.over", phone=phone))


def restore_failed(cat: Catalogue, *, phone: str) -> Message:
    return _direct(cat.t("recovery.break.restore_failed", phone=phone))


# --- talk to someone ---------------------------------------------------------------------


@dataclass(frozen=True)
class TalkChoice:
    value: str  # what the form submits: "<kind>:<key>"
    kind: str  # mate, lead or support
    name: str


def talk_chosen(cat: Catalogue, *, checkin_id: str, break_minutes: float) -> Message:
    """The check-in after "Talk to someone": a button reopens the choice if the window was closed."""
    reopen = Buttons(
        block_id=CHECKIN_BLOCK_ID,
        buttons=(
            Button(action=ActionId.CHECKIN_TALK.value, label=cat.t("recovery.talk.reopen"), value=checkin_id),
        ),
    )
    return checkin_answered(
        cat,
        answer=CheckinAnswer.TALK,
        break_minutes=break_minutes,
        reply=cat.t("recovery.talk.chosen"),
        buttons=reopen,
    )


def _resource_line(cat: Catalogue, resource: SupportResource) -> str:
    if resource.note:
        return cat.t(
            "recovery.talk.resource_note", name=resource.name, contact=resource.contact, note=resource.note
        )
    return cat.t("recovery.talk.resource", name=resource.name, contact=resource.contact)


def talk_form(
    cat: Catalogue, *, checkin_id: str, choices: Sequence[TalkChoice], resources: Sequence[SupportResource]
) -> Form:
    parts: list[FormPart] = [Text(text=cat.t("recovery.talk.intro" if choices else "recovery.talk.nobody"))]
    if choices:
        options = tuple(
            Option(value=c.value, label=cat.t(f"recovery.talk.{c.kind}", name=c.name)) for c in choices
        )
        parts.append(ChoiceField(id=TALK_FIELD, label=cat.t("recovery.talk.choice"), options=options))
    if resources:
        lines = "\n".join(f"• {_resource_line(cat, r)}" for r in resources)
        parts.append(Text(text=f"{cat.t('recovery.talk.resources')}\n{lines}"))
    parts.append(Note(text=cat.t("recovery.talk.privacy")))
    return Form(
        callback_id=CallbackId.TALK.value,
        title=cat.t("recovery.talk.title"),
        submit=cat.t("recovery.talk.submit"),
        close=cat.t("recovery.talk.close"),
        context=checkin_id,
        parts=tuple(parts),
    )


def talk_ask(cat: Catalogue, *, requester: str) -> Message:
    """What the chosen person reads: who would like a chat, and nothing about why."""
    text = cat.t("recovery.talk.ask", name=requester)
    return Message(
        text=text, parts=(Text(text=text), Note(text=cat.t("recovery.talk.ask_note", name=requester)))
    )


def talk_sent(cat: Catalogue, *, name: str) -> Message:
    return _direct(cat.t("recovery.talk.sent", name=name))


def resource_details(cat: Catalogue, resource: SupportResource) -> Message:
    text = cat.t("recovery.talk.resource_dm", name=resource.name, contact=resource.contact)
    parts: tuple[Text | Note, ...] = (Text(text=text),)
    if resource.note:
        parts = (*parts, Note(text=resource.note))
    return Message(text=text, parts=parts)
