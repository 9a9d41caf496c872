"""Adaptive Card builders: pure functions from the neutral message model to Teams card JSON.

They mirror handlers/slack/blocks.py: the same catalogue text, and the same interaction ids,
which become `Action.Execute` verbs (and `data.action`, where the Teams SDK routes by name).
A form (Slack's modal) becomes a card with inputs whose submit button's verb is the form's
callback id; the typed values come back merged into the action's data, next to `context`.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from bot.i18n.bidi import direction
from bot.messenger import (
    Buttons,
    ChoiceField,
    Credit,
    Divider,
    Form,
    FormPart,
    Heading,
    HomeView,
    Image,
    Mention,
    Message,
    Note,
    Part,
    PersonField,
    Quote,
    Text,
    TextField,
)

Card = dict[str, Any]
Element = dict[str, Any]

CARD_VERSION = "1.5"  # Action.Execute (Universal Actions) needs 1.4+; 1.5 is what Teams documents
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
EXPANDED_CHOICES_MAX = 10  # more options than this read better as a drop-down
QUOTE_TEXT_MAX = 2500
# Keys Breather puts in an action's data; everything else there is a submitted input value.
ACTION_KEY, VALUE_KEY, CONTEXT_KEY = "action", "value", "context"
RESERVED_KEYS = frozenset({ACTION_KEY, VALUE_KEY, CONTEXT_KEY})
PEOPLE_DATASET = "graph.microsoft.com/users"  # Teams' people picker for Input.ChoiceSet

_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_SLOT = re.compile(r"\{(\d+)\}")
_MARKDOWN_SPECIAL = re.compile(r"([\\*_`\[\]#>~])")


def markdown(text: str) -> str:
    """The catalogue's Slack-style markup in Teams' markdown: `*bold*` becomes `**bold**`, code
    quotes are dropped (Teams cards do not render them), and each line break is kept (a single
    newline in a TextBlock would be ignored)."""
    text = _BOLD.sub(r"**\1**", text).replace("`", "")
    return text.replace("\r\n", "\n").replace("\n", "\n\n")


def literal(text: str) -> str:
    """Someone's name inside a markdown TextBlock, shown as written."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _text_block(text: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def mention_name(person: Mention) -> str:
    # Teams matches the tag text to the entity; angle brackets would end the tag early.
    return re.sub(r"[<>]", "", person.name).strip() or "someone"


def credit_block(part: Credit) -> tuple[Element, list[Element]]:
    """The sentence with `<at>Name</at>` for each person Teams can mention (their Teams user id
    is known: TeamsMessenger resolves it first), their plain name otherwise; and the entities."""
    entities: list[Element] = []

    def slot(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(part.mentions):
            return match.group()
        person = part.mentions[index]
        name = mention_name(person)
        if not person.user_id:
            return literal(person.name)
        tag = f"<at>{name}</at>"
        entities.append({"type": "mention", "text": tag, "mentioned": {"id": person.user_id, "name": name}})
        return tag

    return _text_block(_SLOT.sub(slot, markdown(part.text))), entities


def quote_block(text: str) -> Element:
    """A customer's or team mate's words, exactly as written: a TextRun renders no markdown."""
    clipped = text.strip()
    if len(clipped) > QUOTE_TEXT_MAX:
        clipped = clipped[: QUOTE_TEXT_MAX - 1] + "…"
    return {
        "type": "Container",
        "style": "emphasis",
        "items": [
            {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": clipped, "italic": True}]}
        ],
    }


def button_action(action: str, label: str, value: str, style: str | None) -> Element:
    element: Element = {
        "type": "Action.Execute",
        "title": label,
        "verb": action,
        "data": {ACTION_KEY: action, VALUE_KEY: value},
    }
    if style == "primary":
        element["style"] = "positive"
    elif style == "danger":
        element["style"] = "destructive"
    return element


def _choice_input(part: ChoiceField, required: str) -> Element:
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": part.id,
        "label": part.label,
        "style": "expanded" if len(part.options) <= EXPANDED_CHOICES_MAX else "compact",
        "choices": [{"title": option.label, "value": option.value} for option in part.options],
    }
    if part.initial is not None:
        element["value"] = part.initial
    return _required(element, part.optional, required)


def _text_input(part: TextField, required: str) -> Element:
    element: Element = {
        "type": "Input.Text",
        "id": part.id,
        "label": part.label,
        "isMultiline": part.multiline,
    }
    if part.max_length is not None:
        element["maxLength"] = part.max_length
    if part.placeholder:
        element["placeholder"] = part.placeholder
    return _required(element, part.optional, required)


def _person_input(part: PersonField, required: str) -> Element:
    # Teams' people picker: the submitted value is the person's Entra object id.
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": part.id,
        "label": part.label,
        "choices": [],
        "choices.data": {"type": "Data.Query", "dataset": PEOPLE_DATASET},
        "isMultiSelect": False,
    }
    return _required(element, part.optional, required)


def _required(element: Element, optional: bool, message: str) -> Element:
    # Teams checks required inputs before sending the action, and shows the message by the field.
    if not optional:
        element["isRequired"] = True
        element["errorMessage"] = message
    return element


def part_elements(part: Part | FormPart, *, required: str = "") -> tuple[list[Element], list[Element]]:
    """The card elements for one part, and any mention entities they need."""
    if isinstance(part, Text):
        return [_text_block(markdown(part.text))], []
    if isinstance(part, Quote):
        return [quote_block(part.text)], []
    if isinstance(part, Credit):
        block, entities = credit_block(part)
        return [block], entities
    if isinstance(part, Note):
        return [_text_block(markdown(part.text), size="Small", isSubtle=True)], []
    if isinstance(part, Heading):
        return [_text_block(part.text, size="Medium", weight="Bolder")], []
    if isinstance(part, Divider):
        return [], []  # card_body turns it into a separator line above the next element
    if isinstance(part, Buttons):
        actions = [button_action(b.action, b.label, b.value, b.style) for b in part.buttons]
        return [{"type": "ActionSet", "id": part.block_id, "actions": actions}], []
    if isinstance(part, Image):
        image: Element = {"type": "Image", "url": part.url, "altText": part.alt}
        return ([_text_block(part.title, weight="Bolder")] if part.title else []) + [image], []
    if isinstance(part, ChoiceField):
        return [_choice_input(part, required), *_hint(part.hint)], []
    if isinstance(part, TextField):
        return [_text_input(part, required), *_hint(part.hint)], []
    if isinstance(part, PersonField):
        return [_person_input(part, required), *_hint(part.hint)], []
    raise TypeError(f"no Adaptive Card element for {type(part).__name__}")


def _hint(hint: str | None) -> list[Element]:
    return [_text_block(markdown(hint), size="Small", isSubtle=True, spacing="None")] if hint else []


def card_body(
    parts: tuple[Part | FormPart, ...], *, required: str = ""
) -> tuple[list[Element], list[Element]]:
    body: list[Element] = []
    entities: list[Element] = []
    separate = False
    for part in parts:
        if isinstance(part, Divider):
            separate = bool(body)
            continue
        elements, found = part_elements(part, required=required)
        if separate and elements:
            elements[0] = {**elements[0], "separator": True, "spacing": "Medium"}
            separate = False
        body.extend(elements)
        entities.extend(found)
    return body, entities


def card(body: list[Element], *, fallback: str, entities: list[Element] | None = None) -> Card:
    result: Card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "fallbackText": fallback,
        "body": body,
    }
    if entities:
        result["msteams"] = {"entities": entities}
    if direction(fallback) == "rtl":
        result["rtl"] = True  # Persian: the whole card, its inputs and buttons, right to left
    return result


def message_card(message: Message) -> Card:
    body, entities = card_body(message.parts)
    return card(body or [_text_block(markdown(message.text))], fallback=message.text, entities=entities)


def home_card(view: HomeView) -> Card:
    """Teams has no App Home tab: the same page, as a card in the person's chat with Breather."""
    body, entities = card_body(view.parts)
    fallback = next((p.text for p in view.parts if isinstance(p, Heading)), "Breather")
    return card(body, fallback=fallback, entities=entities)


def form_card(form: Form, *, required: str, in_dialog: bool = False) -> Card:
    """A form as a card in the chat (Teams' stand-in for a Slack modal), or `in_dialog` (a
    message action's dialog, which takes Action.Submit, not Universal Actions). `required` is
    shown by an unanswered required field; a read-only form (no submit) is just its text."""
    body, entities = card_body(form.parts, required=required)
    body.insert(0, _text_block(form.title, size="Medium", weight="Bolder"))
    if form.submit is not None:
        submit: Element = {
            "type": "Action.Submit" if in_dialog else "Action.Execute",
            "title": form.submit,
            "data": {ACTION_KEY: form.callback_id, CONTEXT_KEY: form.context},
            "style": "positive",
        }
        if not in_dialog:
            submit.update(verb=form.callback_id, associatedInputs="auto")
        body.append({"type": "ActionSet", "id": f"{form.callback_id}.submit", "actions": [submit]})
    return card(body, fallback=form.title, entities=entities)


def image_card(*, title: str, alt: str, png: bytes) -> Card:
    """A chart inside a card, as a data URL: bots cannot upload a file into a 1:1 chat without a
    consent prompt, and Teams does not count base64 images against a message's size limit."""
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    return card(
        [
            _text_block(title, weight="Bolder"),
            {"type": "Image", "url": url, "altText": alt, "size": "Stretch"},
        ],
        fallback=title,
    )


def attachment(content: Card) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": content}


def submitted_values(data: dict[str, Any]) -> dict[str, str]:
    """{field id: chosen value or typed text} from an action's data (empty when unanswered)."""
    values: dict[str, str] = {}
    for key, value in data.items():
        if key in RESERVED_KEYS or key == "msteams":
            continue
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            values[key] = str(value)
    return values
