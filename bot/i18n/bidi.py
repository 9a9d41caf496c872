"""Right-to-left text: which way a message reads, and the Unicode marks that keep a Latin name,
an e-mail address or a phone number whole inside a Persian sentence.

Chat clients lay out a paragraph by its first strong character (Unicode's rule P2/P3, and
`dir="auto"`). A Persian line that starts with a Latin word (`/breather pause` …) would be laid
out left to right, so such a line gets a RIGHT-TO-LEFT MARK in front. A value filled into a
Persian sentence that holds Latin letters or digits is wrapped in FIRST STRONG ISOLATE … POP
DIRECTIONAL ISOLATE, so "0722 123 456" or "ana.pop@example.com" keeps its own order and does
not drag the words around it. Platforms that take a direction (Teams' Adaptive Card `rtl`, the
console's `dir`) read it from the text with `direction()`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Literal

from babel import Locale

Direction = Literal["ltr", "rtl"]
RLM = "\u200f"  # RIGHT-TO-LEFT MARK
FSI, PDI = "\u2068", "\u2069"  # FIRST STRONG ISOLATE, POP DIRECTIONAL ISOLATE
_PLAIN_NUMBER = re.compile(r"^[0-9۰-۹][0-9۰-۹٫٬.,]*\u00a0?[%٪]?$")


@cache
def is_rtl(language: str) -> bool:
    """From CLDR: Persian (and Arabic, Hebrew...) is written right to left."""
    return str(Locale.parse(language).character_order) == "right-to-left"


def _strong(char: str) -> Direction | None:
    kind = unicodedata.bidirectional(char)
    if kind == "L":
        return "ltr"
    if kind in ("R", "AL"):
        return "rtl"
    return None


def direction(text: str) -> Direction:
    """The direction of `text`'s first strong character (left to right when there is none)."""
    depth = 0
    for char in text:
        if char in (FSI, "\u2066", "\u2067"):
            depth += 1  # an isolate's content does not decide the paragraph's direction
        elif char == PDI:
            depth = max(0, depth - 1)
        elif depth == 0 and (found := _strong(char)) is not None:
            return found
    return "ltr"


def dominant_direction(text: str) -> Direction:
    """Right to left when most of the strong characters are (a page or form whose headings or
    brand name are Latin, with Persian sentences under them)."""
    rtl = sum(1 for char in text if _strong(char) == "rtl")
    ltr = sum(1 for char in text if _strong(char) == "ltr")
    return "rtl" if rtl > ltr else "ltr"


def isolate(value: str) -> str:
    """Wrap a value holding Latin letters or digits, so it keeps its own direction inside RTL text
    (a single number, in either digits, needs no wrapping and is left as it is)."""
    if not value or _PLAIN_NUMBER.match(value):
        return value
    kinds = {unicodedata.bidirectional(c) for c in value}
    # Latin letters; or digits with no Persian words around them ("0722 123 456"): a Persian
    # phrase with a number in it ("۵ دقیقه استراحت") already reads right.
    if "L" in kinds or (kinds & {"EN", "AN"} and not kinds & {"R", "AL"}):
        return f"{FSI}{value}{PDI}"
    return value


_MARKS = re.compile("[\u200e\u200f\u2066-\u2069]")


def without_marks(text: str) -> str:
    """The text without direction marks: for a terminal, which lays out no bidi anyway, and where
    an invisible mark copied with a URL would break it."""
    return _MARKS.sub("", text)


def _has_rtl(text: str) -> bool:
    return any(_strong(char) == "rtl" for char in text)


def _first_strong(text: str) -> Direction | None:
    return next((found for char in text if (found := _strong(char)) is not None), None)


def right_to_left_lines(text: str) -> str:
    """A RIGHT-TO-LEFT MARK before each line that has right-to-left words but does not open with
    one. Isolates are looked into here: not every renderer skips them when it picks a line's
    direction (matplotlib does not), so a line opening with an isolated Latin name gets the mark
    too. A line with no right-to-left word at all is left alone."""
    return "\n".join(
        _marked(line) if _has_rtl(line) and _first_strong(line) != "rtl" else line
        for line in text.split("\n")
    )


def _marked(line: str) -> str:
    # Inside an opening *bold* or _italic_ marker: Slack sees that marker at the start of the
    # line as before, and the mark still comes before any letter.
    if line[:1] in ("*", "_"):
        return line[0] + RLM + line[1:]
    return RLM + line
