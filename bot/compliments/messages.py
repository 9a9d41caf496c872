"""The compliment and kudos messages, composed from the catalogue (pure functions).

Customer and team-mate words travel as `Quote` parts (shown verbatim, never as markup);
people are credited through `Credit` parts, which each platform turns into its own mention.
Nothing here ever counts per person.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.i18n import Catalogue
from bot.ids import ActionId, CallbackId
from bot.messenger import (
    Button,
    Buttons,
    Credit,
    Divider,
    Form,
    Heading,
    Mention,
    Message,
    Note,
    PersonField,
    Quote,
    Text,
)

COMPLIMENT_BLOCK_ID = "compliment"
RECIPIENT_FIELD = "recipient"
QUOTES_IN_ROLLUP = 3
FORM_TEXT_MAX = 2000  # what rides along in the modal (Slack allows 3,000 characters there)


class Outcome:
    """What the agent's DM says after a choice (keys under `compliment.`)."""

    SHARED = "shared"
    KEPT = "kept"
    EXPIRED = "expired"
    NO_CHANNEL = "no_channel"
    REMOVED = "removed"


def _intro(cat: Catalogue, sharer: Mention | None) -> Text | Credit:
    if sharer is None:
        return Text(text=cat.t("compliment.intro"))
    return Credit(text=cat.t("compliment.intro_passed_on", sharer="{0}"), mentions=(sharer,))


def consent_prompt(
    cat: Catalogue, *, compliment_id: str, text: str, consent_hours: float, sharer: Mention | None = None
) -> Message:
    """The private DM: the scrubbed words and the agent's two choices."""
    buttons = (
        Button(
            action=ActionId.COMPLIMENT_SHARE.value,
            label=cat.t("compliment.share"),
            value=compliment_id,
            style="primary",
        ),
        Button(
            action=ActionId.COMPLIMENT_KEEP_PRIVATE.value,
            label=cat.t("compliment.keep_private"),
            value=compliment_id,
        ),
    )
    return Message(
        text=cat.t("compliment.notification"),
        parts=(
            _intro(cat, sharer),
            Quote(text=text),
            Buttons(block_id=COMPLIMENT_BLOCK_ID, buttons=buttons),
            Note(text=cat.t("compliment.ask_note", count=consent_hours, hours=consent_hours)),
        ),
    )


def consent_answered(cat: Catalogue, *, compliment_id: str, text: str, outcome: str) -> Message:
    """The same DM after the agent's choice: the words stay, the buttons go. A shared
    compliment keeps one button, to take it down again."""
    parts: list[Text | Quote | Buttons | Note] = [
        Text(text=cat.t("compliment.intro")),
        Quote(text=text),
        Text(text=cat.t(f"compliment.{outcome}")),
    ]
    if outcome == Outcome.SHARED:
        remove = Button(
            action=ActionId.COMPLIMENT_REMOVE.value, label=cat.t("compliment.remove"), value=compliment_id
        )
        parts.append(Buttons(block_id=COMPLIMENT_BLOCK_ID, buttons=(remove,)))
    return Message(text=cat.t(f"compliment.{outcome}"), parts=tuple(parts))


def channel_post(cat: Catalogue, *, agent: Mention, text: str) -> Message:
    """The team channel post for a compliment the agent chose to share: it credits them."""
    return Message(
        text=cat.t("compliment.post.notification", name=agent.name),
        parts=(
            Credit(text=cat.t("compliment.post.credit", person="{0}"), mentions=(agent,)),
            Quote(text=text),
            Note(text=cat.t("compliment.post.note", person=agent.name)),
        ),
    )


@dataclass(frozen=True)
class WeekOfCompliments:
    """What the roll-up may say. `count` is None when too few people received compliments
    for a number to be shown (the anonymity threshold applies to counts)."""

    count: int | None
    kudos: int
    quotes: Sequence[str]


def weekly_rollup(cat: Catalogue, week: WeekOfCompliments) -> Message:
    parts: list[Heading | Text | Quote | Divider | Note] = [Heading(text=cat.t("compliment.rollup.heading"))]
    if week.count is None:
        parts.append(Text(text=cat.t("compliment.rollup.count_hidden")))
    elif week.count > 0:
        parts.append(Text(text=cat.t("compliment.rollup.count", count=week.count)))
    if week.kudos:
        parts.append(Text(text=cat.t("compliment.rollup.kudos", count=week.kudos)))
    if week.quotes:
        parts.append(Text(text=cat.t("compliment.rollup.quotes")))
        parts.extend(Quote(text=quote) for quote in week.quotes[:QUOTES_IN_ROLLUP])
    parts.append(Note(text=cat.t("compliment.rollup.note")))
    return Message(text=cat.t("compliment.rollup.notification"), parts=tuple(parts))


def kudos_post(cat: Catalogue, *, author: Mention, recipient: Mention, text: str) -> Message:
    return Message(
        text=cat.t("kudos.post.notification", name=recipient.name),
        parts=(
            Credit(
                text=cat.t("kudos.post.credit", author="{0}", recipient="{1}"), mentions=(author, recipient)
            ),
            Quote(text=text),
        ),
    )


def recipient_form(cat: Catalogue, *, text: str, source: str) -> Form:
    """The modal behind "Share as a compliment": the scrubbed words and who they are about."""
    clipped = text[:FORM_TEXT_MAX]
    return Form(
        callback_id=CallbackId.COMPLIMENT_RECIPIENT.value,
        title=cat.t("compliment.form.title"),
        submit=cat.t("compliment.form.submit"),
        close=cat.t("compliment.form.close"),
        context=json.dumps({"text": clipped, "source": source}, ensure_ascii=False),
        parts=(
            Text(text=cat.t("compliment.form.intro")),
            Quote(text=clipped),
            PersonField(
                id=RECIPIENT_FIELD,
                label=cat.t("compliment.form.recipient"),
                hint=cat.t("compliment.form.hint"),
            ),
        ),
    )


def notice(cat: Catalogue, text: str) -> Form:
    """A small modal that only says something (the outcome of a shortcut)."""
    return Form(
        callback_id=CallbackId.COMPLIMENT_NOTICE.value,
        title=cat.t("compliment.notice.title"),
        submit=cat.t("compliment.notice.close"),
        close=cat.t("compliment.notice.close"),
        parts=(Text(text=text),),
    )
