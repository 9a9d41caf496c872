"""What agents see of a pulse survey: invitation, reminder, the modal, thanks (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import SupportResource
from bot.i18n import Catalogue
from bot.ids import ActionId, CallbackId
from bot.messenger import Button, Buttons, ChoiceField, Form, FormPart, Message, Note, Option, Text
from bot.surveys.instruments import INSTRUMENTS, Instrument, InstrumentId
from bot.surveys.wording import WORDINGS, Wording, Wordings

INVITATION_BLOCK_ID = "pulse"


def day_text(cat: Catalogue, moment: datetime, zone: ZoneInfo) -> str:
    return cat.formats.day(moment.astimezone(zone))


def _buttons(cat: Catalogue, invitation_id: str) -> Buttons:
    return Buttons(
        block_id=INVITATION_BLOCK_ID,
        buttons=(
            Button(
                action=ActionId.PULSE_OPEN.value,
                label=cat.t("pulse.button.open"),
                value=invitation_id,
                style="primary",
            ),
            Button(action=ActionId.PULSE_SKIP.value, label=cat.t("pulse.button.skip"), value=invitation_id),
            Button(
                action=ActionId.PULSE_OPT_OUT.value, label=cat.t("pulse.button.opt_out"), value=invitation_id
            ),
        ),
    )


def invitation(
    cat: Catalogue,
    *,
    invitation_id: str,
    closes_at: datetime,
    zone: ZoneInfo,
    min_group: int,
    reminder: bool = False,
) -> Message:
    text = cat.t("pulse.reminder" if reminder else "pulse.invitation", closes=day_text(cat, closes_at, zone))
    return Message(
        text=text,
        parts=(
            Text(text=text),
            _buttons(cat, invitation_id),
            Note(text=cat.t("pulse.who_sees", min_group=min_group)),
        ),
    )


def closed_note(cat: Catalogue, key: str, **params: object) -> Message:
    """The invitation after the agent dealt with it: no buttons, one honest line."""
    text = cat.t(key, **params)
    return Message(text=text, parts=(Text(text=text),))


def _choice(wording: Wording, field_id: str, label: str, options: Sequence[tuple[int, str]]) -> ChoiceField:
    return ChoiceField(
        id=field_id,
        label=label,
        options=tuple(Option(value=str(value), label=wording.t(key)) for value, key in options),
    )


def _instrument_parts(cat: Catalogue, instrument: Instrument, wording: Wording) -> list[FormPart]:
    """One questionnaire under Breather's heading, in the wording of its chosen language version."""
    heading = f"*{cat.t(f'pulse.section.{instrument.id.value}')}*"
    parts: list[FormPart] = []
    if instrument.id is InstrumentId.WHO5:
        parts.append(Text(text=f"{heading}\n{wording.t('stem')}"))
        for number, item in enumerate(instrument.items, start=1):
            parts.append(_choice(wording, item.id, wording.t(f"item.{number}"), item.scale.options))
    elif instrument.id is InstrumentId.BURNOUT_SINGLE:
        statements = "\n".join(f"{n}. {wording.t(f'statement.{n}')}" for n in range(1, 6))
        parts.append(Text(text=f"{heading}\n{wording.t('question')}\n{statements}"))
        item = instrument.items[0]
        parts.append(_choice(wording, item.id, cat.t("pulse.burnout_label"), item.scale.options))
    else:
        parts.append(Text(text=heading))
        for number, item in enumerate(instrument.items, start=1):
            parts.append(_choice(wording, item.id, wording.t(f"item.{number}"), item.scale.options))
    if wording.language != cat.language:
        parts.insert(1, Note(text=cat.t("pulse.in_english")))
    return parts


def survey_form(
    cat: Catalogue, *, instruments: Sequence[str], context: str, wordings: Wordings = WORDINGS
) -> Form:
    """Breather's words in the person's language; each questionnaire in a validated version of
    that language, or else in English."""
    parts: list[FormPart] = [Note(text=cat.t("pulse.form_privacy"))]
    for name in instruments:
        instrument = INSTRUMENTS[InstrumentId(name)]
        parts.extend(_instrument_parts(cat, instrument, wordings.version(instrument.id, cat.language)))
    return Form(
        callback_id=CallbackId.PULSE_SURVEY.value,
        title=cat.t("pulse.form_title"),
        submit=cat.t("pulse.form_submit"),
        close=cat.t("pulse.form_close"),
        context=context,
        parts=tuple(parts),
    )


def thanks_form(cat: Catalogue, *, text: str, support: Sequence[SupportResource] | None = None) -> Form:
    """The modal after answering. `support` (the person's own answers met the instrument's
    follow-up rule) adds the operator's support contacts, or a general pointer when there are
    none; this view is answered straight to the person and never stored."""
    parts: list[FormPart] = [Text(text=text)]
    if support is not None:
        parts.append(Text(text=cat.t("pulse.support_intro" if support else "pulse.support_none")))
        for resource in support:
            line = cat.t("results.support_item", name=resource.name, contact=resource.contact)
            parts.append(Text(text=f"{line}\n{resource.note}" if resource.note else line))
    return Form(
        callback_id=CallbackId.PULSE_SURVEY.value,
        title=cat.t("pulse.form_title"),
        submit=None,
        close=cat.t("pulse.form_done"),
        parts=tuple(parts),
    )
