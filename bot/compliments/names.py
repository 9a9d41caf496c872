"""The agent's own name in a stored compliment.

Customers thank agents by name ("Ana was so patient"), and the agent should read it that way.
But a stored compliment sits beside the agent's pseudonym, so its words must not name the agent:
the name is stored as a numbered marker (which word of the agent's name it was) and put back,
from the roster, only when the compliment is shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Private-use characters: nothing a customer types means anything with them, and any that do
# arrive are removed first, so a stored marker is always one of ours.
_OPEN, _CLOSE = "\ue000", "\ue001"
_PRIVATE = re.compile(f"[{_OPEN}{_CLOSE}]")
_MARKER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")


def name_words(name: str) -> list[str]:
    return [word for word in name.split() if len(word) >= 2]


def _strip_stray(text: str) -> str:
    """Private-use characters that are not one of our markers are removed."""
    pieces = _MARKER.split(text)  # text, index, text, index, ...
    return "".join(
        f"{_OPEN}{piece}{_CLOSE}" if position % 2 else _PRIVATE.sub("", piece)
        for position, piece in enumerate(pieces)
    )


def conceal(text: str, name: str) -> str:
    """`text` with every whole-word mention of a word of `name` replaced by its marker
    (concealing twice changes nothing)."""
    text = _strip_stray(text)
    words = name_words(name)
    # Longest first, so "Ana-Maria" is taken before "Ana".
    for index, word in sorted(enumerate(words), key=lambda pair: -len(pair[1])):
        pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
        text = pattern.sub(f"{_OPEN}{index}{_CLOSE}", text)
    return text


def reveal(text: str, name: str | None, unknown: str) -> str:
    """The stored text with the markers replaced by the agent's name words (`unknown` when the
    agent is no longer on the roster)."""
    words: Sequence[str] = name_words(name) if name else ()

    def word(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return words[index] if index < len(words) else unknown

    return _MARKER.sub(word, text)
