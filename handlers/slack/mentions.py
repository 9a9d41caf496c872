"""Slack's escaped text (`<@U123|ana>`, `<#C1|general>`, `<!here>`, `&lt;`) made plain, and the
leading mention of `/kudos @someone message` picked out."""

from __future__ import annotations

import re
from collections.abc import Callable

_LEADING_USER = re.compile(r"^\s*<@([UW][A-Z0-9]+)(?:\|[^>]*)?>[\s,:]*(.*)$", re.DOTALL)
_ESCAPED = re.compile(r"<([^<>]*)>")

NameOf = Callable[[str], str | None]


def _plain(token: str, name_of: NameOf) -> str:
    target, _, label = token.partition("|")
    if target.startswith("@"):
        return "@" + (label or name_of(target[1:]) or "someone")
    if target.startswith("#"):
        return "#" + (label or "channel")
    if target.startswith("!"):
        # Broadcasts (<!here>, <!channel>, user groups) come back as words: nobody gets pinged.
        return "@" + (label or target[1:].split("^", 1)[0])
    return label or target  # a link: its label, or the address itself


def plain_text(text: str, name_of: NameOf = lambda _: None) -> str:
    """What a person typed, without Slack's markup (reposting it must not ping anyone)."""
    text = _ESCAPED.sub(lambda m: _plain(m.group(1), name_of), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def leading_mention(text: str) -> tuple[str | None, str]:
    """(`U123`, "the rest") for "<@U123|ana> the rest"; (None, text) without a leading mention."""
    match = _LEADING_USER.match(text)
    if match is None:
        return None, text
    return match.group(1), match.group(2)
