"""Reading what someone typed to Breather in Teams: `breather <sub-command>` and `kudos @someone
thanks`, with or without a leading slash or an @Breather mention (pure functions).

Teams has no slash commands for bots: the app manifest's command list only suggests what to
type, and the words arrive as a plain message. In a 1:1 chat the command word may be left
out (`pause` means `breather pause`). A kudos recipient is the first person mentioned after
the command; in a 1:1 chat, where people cannot be mentioned, an e-mail address works too.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

BREATHER, KUDOS = "breather", "kudos"
_EMAIL = re.compile(r"^([^@\s<>,:;]+@[^@\s<>,:;]+\.[^@\s<>,:;]+)[\s,:;]*(.*)$", re.DOTALL)
_OTHER_TAGS = re.compile(r"<(?!/?at>)[^>]*>")
_AT_TAGS = re.compile(r"</?at>")


@dataclass(frozen=True)
class Mentioned:
    """A mention entity of the message: who, and the `<at>…</at>` text standing for them."""

    id: str
    name: str
    text: str


@dataclass(frozen=True)
class ChatCommand:
    name: str  # breather or kudos
    text: str  # what follows the command word (for kudos: after the recipient)
    recipient: Mentioned | None = None  # kudos: the person mentioned
    recipient_email: str | None = None  # kudos: an e-mail address written instead


def _clean(text: str) -> str:
    """Teams' markup gone (a <p> wrapper, <br>, &nbsp;), mention tags kept; spaces collapsed."""
    text = _OTHER_TAGS.sub(" ", text)
    return " ".join(html.unescape(text).split())


def _plain(text: str, mentions: Sequence[Mentioned]) -> str:
    """Mentions of other people become "@Name" (repeating them must not ping anyone)."""
    for person in mentions:
        text = text.replace(person.text, f"@{person.name}")
    return " ".join(_AT_TAGS.sub("", text).split())


def message_text(content: str, *, is_html: bool = True) -> str:
    """The words of a Teams message (its body is usually HTML), for "Share as a compliment";
    a mention keeps the name it shows."""
    if is_html:
        content = html.unescape(_AT_TAGS.sub("", _OTHER_TAGS.sub(" ", content)))
    return " ".join(content.split())


def parse_command(text: str, mentions: Sequence[Mentioned], bot_id: str) -> ChatCommand:
    for mention in mentions:
        if mention.id == bot_id:
            text = text.replace(mention.text, " ")
    others = [m for m in mentions if m.id != bot_id]
    cleaned = _clean(text)
    word, _, rest = cleaned.partition(" ")
    head = word.lower().lstrip("/")
    if head == KUDOS:
        return _kudos(rest, others)
    if head == BREATHER:
        return ChatCommand(BREATHER, _plain(rest, others))
    return ChatCommand(BREATHER, _plain(cleaned, others))


def _kudos(rest: str, mentions: Sequence[Mentioned]) -> ChatCommand:
    for person in mentions:
        tag = _clean(person.text)
        if rest.startswith(tag):
            words = rest[len(tag) :].lstrip(" ,:")
            return ChatCommand(KUDOS, _plain(words, mentions), recipient=person)
    plain = _plain(rest, mentions)
    address = _EMAIL.match(plain)
    if address is not None:
        return ChatCommand(KUDOS, address.group(2), recipient_email=address.group(1).lower())
    return ChatCommand(KUDOS, plain)
