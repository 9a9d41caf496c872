"""The check-in's words and buttons, composed from the catalogue (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.checkins.scoring import Signal
from bot.i18n import Catalogue, catalogue
from bot.ids import CHECKIN_CHOICES, ActionId, CallbackId, CheckinAnswer
from bot.messenger import Button, Buttons, Form, Message, Note, Text

CHECKIN_BLOCK_ID = "checkin"


def reasons_text(cat: Catalogue, signals: Sequence[str], transfers: int | None = None) -> str:
    parts = [cat.t(f"checkin.reason.{Signal(s).value}", count=transfers or 2) for s in signals]
    return cat.formats.series(parts)


def _label(cat: Catalogue, action: ActionId, break_minutes: float) -> str:
    answer = CheckinAnswer.from_action(action)
    return cat.t(f"checkin.button.{answer.value}", count=break_minutes, minutes=break_minutes)


def checkin_prompt(
    cat: Catalogue, *, checkin_id: str, signals: Sequence[str], break_minutes: float, transfers: int | None
) -> Message:
    buttons = tuple(
        Button(
            action=action.value,
            label=_label(cat, action, break_minutes),
            value=checkin_id,
            style="primary" if action is ActionId.CHECKIN_OK else None,
        )
        for action in CHECKIN_CHOICES
    )
    return Message(
        text=cat.t("checkin.notification"),
        parts=(
            Text(text=cat.t("checkin.prompt")),
            Buttons(block_id=CHECKIN_BLOCK_ID, buttons=buttons),
            Note(text=cat.t("checkin.why", reasons=reasons_text(cat, signals, transfers))),
        ),
    )


def checkin_answered(
    cat: Catalogue,
    *,
    answer: CheckinAnswer,
    break_minutes: float,
    reply: str | None = None,
    buttons: Buttons | None = None,
) -> Message:
    """The check-in after the answer: the buttons give way to `reply` (and, if given, `buttons`)."""
    length = {"count": break_minutes, "minutes": break_minutes}
    reply = reply or cat.t(f"checkin.answered.{answer.value}", **length)
    choice = cat.t(f"checkin.button.{answer.value}", **length)
    follow_up = (buttons,) if buttons is not None else ()
    return Message(
        text=reply,
        parts=(
            Text(text=cat.t("checkin.prompt")),
            Text(text=reply),
            *follow_up,
            Note(text=cat.t("checkin.answered_note", choice=choice)),
        ),
    )


@dataclass(frozen=True)
class ClickNotice:
    """What only the person who clicked is told when the click changed nothing: a line (Teams
    shows it under the card) and the same line as a small read-only modal (Slack)."""

    text: str
    form: Form


def click_notice(cat: Catalogue, key: str) -> ClickNotice:
    text = cat.t(key)
    return ClickNotice(text=text, form=line_notice(text, cat))


def line_notice(text: str, cat: Catalogue | None = None) -> Form:
    """A small read-only window with one line, for the person who clicked."""
    cat = cat or catalogue("en")
    return Form(
        callback_id=CallbackId.CHECKIN_NOTICE.value,
        title=cat.t("checkin.notice.title"),
        submit=None,
        close=cat.t("checkin.notice.close"),
        parts=(Text(text=text),),
    )
