"""Block Kit as plain terminal text, for the demo's running commentary."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from handlers.sandbox.blockkit_html import emoji

# <@U123>, <@U123|ana>, <#C123|billing>, <!here>, <https://…|label>: how Slack writes references.
_REFERENCE = re.compile(r"<([^<>\n]+)>")
_SLACK_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def plain(text: str, names: Mapping[str, str]) -> str:
    """Slack's mrkdwn as a person reads it: people and channels by name, emoji as emoji."""

    def reference(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "@" + (names.get(target[1:]) or label or target[1:])
        if target.startswith("#"):
            return "#" + (names.get(target[1:]) or label or target[1:])
        if target.startswith("!"):
            return label or "@" + target[1:].split("^", 1)[0]
        return f"{label} ({target})" if label and label != target else target

    text = _REFERENCE.sub(reference, text)
    for entity, char in _SLACK_ENTITIES:
        text = text.replace(entity, char)
    return emoji(text)


def block_lines(blocks: list[dict[str, Any]], names: Mapping[str, str] | None = None) -> list[str]:
    names = names or {}
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind in ("section", "header"):
            lines.append(plain(str(block.get("text", {}).get("text", "")), names))
        elif kind == "context":
            lines.extend(
                f"  ({plain(str(element.get('text', '')), names)})" for element in block.get("elements", [])
            )
        elif kind == "actions":
            labels = [f"[{element.get('text', {}).get('text', '')}]" for element in block.get("elements", [])]
            lines.append(" ".join(labels))
        elif kind == "divider":
            lines.append("-" * 20)
    return lines


def find_buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        element
        for block in blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if element.get("type") == "button"
    ]
