"""Block Kit builders: pure functions from the neutral message model to Slack JSON."""

from __future__ import annotations

import re
from typing import Any

from bot.messenger import (
    Buttons,
    ChatPlatform,
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

Block = dict[str, Any]

# Slack's documented limits (see docs/slack limits); longer text would be refused.
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
MODAL_TITLE_MAX = 24
OPTION_TEXT_MAX = 75
LABEL_MAX = 2000
RADIO_OPTIONS_MAX = 10  # Slack refuses radio buttons with more; longer lists become a menu
MENU_OPTIONS_MAX = 100


QUOTE_TEXT_MAX = 2500  # before escaping, which can lengthen the text
_SLOT = re.compile(r"\{(\d+)\}")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Slack's three control characters, so text shows as written: no links, no @-mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(person: Mention) -> str:
    """`<@U…>` when the Slack user id is known (SlackMessenger resolves it first), else the name."""
    user_id = person.user_id or (person.agent.user_id_on(ChatPlatform.SLACK) if person.agent else None)
    return f"<@{user_id}>" if user_id else escape(person.name)


def credit_text(part: Credit) -> str:
    def slot(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return mention(part.mentions[index]) if index < len(part.mentions) else match.group()

    return _SLOT.sub(slot, part.text)


def quote_text(text: str) -> str:
    lines = escape(_clip(text.strip(), QUOTE_TEXT_MAX)).splitlines() or [""]
    return "\n".join(f"> {line}" for line in lines)


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(text, SECTION_TEXT_MAX)}


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def part_block(part: Part | FormPart) -> Block:
    if isinstance(part, Text):
        return {"type": "section", "text": mrkdwn(part.text)}
    if isinstance(part, Quote):
        # verbatim: Slack must not turn the customer's words into links or channel names.
        return {"type": "section", "text": {**mrkdwn(quote_text(part.text)), "verbatim": True}}
    if isinstance(part, Credit):
        return {"type": "section", "text": mrkdwn(credit_text(part))}
    if isinstance(part, Note):
        return {"type": "context", "elements": [mrkdwn(part.text)]}
    if isinstance(part, Heading):
        return {"type": "header", "text": plain(part.text, HEADER_TEXT_MAX)}
    if isinstance(part, Divider):
        return {"type": "divider"}
    if isinstance(part, Buttons):
        elements = []
        for button in part.buttons:
            element: Block = {
                "type": "button",
                "action_id": button.action,
                "text": plain(button.label, BUTTON_TEXT_MAX),
            }
            if button.value:
                element["value"] = button.value
            if button.style:
                element["style"] = button.style
            elements.append(element)
        return {"type": "actions", "block_id": part.block_id, "elements": elements}
    if isinstance(part, Image):
        block: Block = {"type": "image", "image_url": part.url, "alt_text": part.alt}
        if part.title:
            block["title"] = plain(part.title, 2000)
        return block
    if isinstance(part, ChoiceField):
        menu = len(part.options) > RADIO_OPTIONS_MAX
        radios: Block = {
            "type": "static_select" if menu else "radio_buttons",
            "action_id": part.id,
            "options": [
                {"text": plain(o.label, OPTION_TEXT_MAX), "value": o.value}
                for o in part.options[:MENU_OPTIONS_MAX]
            ],
        }
        if menu:
            radios["placeholder"] = plain(part.label, 150)
        if part.initial is not None:
            chosen = next(o for o in part.options if o.value == part.initial)
            radios["initial_option"] = {"text": plain(chosen.label, OPTION_TEXT_MAX), "value": chosen.value}
        return _input(part.id, part.label, radios, part.optional, part.hint)
    if isinstance(part, TextField):
        text_input: Block = {"type": "plain_text_input", "action_id": part.id, "multiline": part.multiline}
        if part.max_length is not None:
            text_input["max_length"] = part.max_length
        if part.placeholder:
            text_input["placeholder"] = plain(part.placeholder, 150)
        return _input(part.id, part.label, text_input, part.optional, part.hint)
    if isinstance(part, PersonField):
        return _input(
            part.id, part.label, {"type": "users_select", "action_id": part.id}, part.optional, part.hint
        )
    raise TypeError(f"no Block Kit for {type(part).__name__}")


def _input(block_id: str, label: str, element: Block, optional: bool, hint: str | None) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, LABEL_MAX),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, LABEL_MAX)
    return block


def message_blocks(message: Message) -> list[Block]:
    return [part_block(part) for part in message.parts]


def home_view(view: HomeView) -> Block:
    return {"type": "home", "blocks": [part_block(part) for part in view.parts]}


def form_view(form: Form) -> Block:
    """A modal view for views.open."""
    view: Block = {
        "type": "modal",
        "callback_id": form.callback_id,
        "title": plain(form.title, MODAL_TITLE_MAX),
        "close": plain(form.close, MODAL_TITLE_MAX),
        "private_metadata": form.context,
        "blocks": [part_block(part) for part in form.parts],
    }
    if form.submit is not None:
        view["submit"] = plain(form.submit, MODAL_TITLE_MAX)
    return view


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """{field id: chosen value or typed text} from a view_submission's state (empty when unanswered)."""
    values: dict[str, str] = {}
    state = (view.get("state") or {}).get("values") or {}
    for block in state.values():
        if not isinstance(block, dict):
            continue
        for action_id, element in block.items():
            if not isinstance(element, dict):
                continue
            selected = element.get("selected_option")
            if isinstance(selected, dict):
                values[action_id] = str(selected.get("value", ""))
            elif isinstance(element.get("selected_user"), str):
                values[action_id] = element["selected_user"]
            elif isinstance(element.get("value"), str):
                values[action_id] = element["value"]
    return values
