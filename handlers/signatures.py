"""What every signature check shares: reading the signed timestamp strictly."""

from __future__ import annotations

MAX_DIGITS = 12  # Unix seconds have 10 digits until the year 5138


def unix_seconds(text: str) -> int | None:
    """A signature's timestamp, or None unless it is plain ASCII digits.

    Stricter than int(): that also takes "+5", " 5", "1_000" and other scripts' digits, and
    str.isdigit() takes "²", which int() then refuses with an error nobody catches.
    """
    if not text or len(text) > MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
