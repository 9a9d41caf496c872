"""Block Kit builders: pure functions from the neutral message model to Slack JSON."""

from __future__ import annotations

from typing import Any

from bot.messenger import Buttons, Divider, Heading, HomeView, Image, Message, Note, Part, Text

Block = dict[str, Any]

# Slack's documented limits (see docs/slack limits); longer text would be refused.
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(text, SECTION_TEXT_MAX)}


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def part_block(part: Part) -> Block:
    if isinstance(part, Text):
        return {"type": "section", "text": mrkdwn(part.text)}
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
    raise TypeError(f"no Block Kit for {type(part).__name__}")


def message_blocks(message: Message) -> list[Block]:
    return [part_block(part) for part in message.parts]


def home_view(view: HomeView) -> Block:
    return {"type": "home", "blocks": [part_block(part) for part in view.parts]}
