"""Personal data scrubbing for customer-written text, before it is stored or shown to anyone.

A pure function of the text: links with query strings, e-mail addresses, card numbers (Luhn),
phone numbers in any of the configured regions' formats (and with + anywhere), numbers split
by spaces or dashes, long account or order numbers, and the customer's own name are replaced
by neutral placeholders from the catalogue.

Matching runs on a *probe*: a copy of the text with the same length in which every Unicode
decimal digit (Persian ۰-۹, Arabic-Indic ٠-٩, full-width ...) is an ASCII digit, dashes are
"-", unusual spaces and direction marks are " ", and letters lose their accents (for names:
"Ștefan" matches "Stefan"). Because the probe keeps every index, spans found on it are cut
out of the original text, which otherwise stays exactly as the customer wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from phonenumbers import Leniency, PhoneNumberMatcher


class Kind(StrEnum):
    """What was found; each has a placeholder in the catalogue (`compliment.placeholder.<kind>`)."""

    LINK = "link"
    EMAIL = "email"
    CARD = "card"
    PHONE = "phone"
    NUMBER = "number"
    CUSTOMER = "customer"


DEFAULT_PLACEHOLDERS: Mapping[Kind, str] = {kind: f"[{kind.value}]" for kind in Kind}
DEFAULT_REGIONS: tuple[str, ...] = ("RO", "IR", "US", "GB", "DE", "FR")
MIN_NAME_PART = 3  # shorter name parts ("Al", "Jo") would blank ordinary words

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SPACES = "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_MARKS = "\u200b\u200c\u200d\u200e\u200f\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\u202e\ufeff"

# A link with a scheme, "www.", or a bare domain followed by a path ("shop.example.com/x?id=1").
_LINK = re.compile(r"(?:\bhttps?://|\bwww\.|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/)[^\s<>\"']*", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# 13-19 digits, single spaces or dashes allowed between them (as cards are usually written).
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")
# A run of digits split by spaces, dashes, dots or brackets: phone and account numbers typed
# by hand ("0 7 2 2 ...", "0722-12-34-56", "(0722) 123 456").
_SPLIT_RUN = re.compile(r"(?<![\w])\+?\(?\d(?:[ \-().]{0,3}\d)+\)?")
_DATE = re.compile(r"^(?:\d{1,2}[-./ ]\d{1,2}[-./ ]\d{2,4}|\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2})$")
_ORDER_NUMBER = re.compile(r"#\s?\d{4,}\b")
_LONG_NUMBER = re.compile(r"(?<!\d)\d{6,}(?!\d)")
# Ids mixing letters and digits ("AB12345", "INV-2024-0017", "X7K9P2Q8"): 6+ characters,
# at least one letter and three digits, so "mp3", "iPhone15" or "COVID-19" stay.
_MIXED_ID = re.compile(r"(?<![\w-])(?=[\w-]*[^\W\d_])(?=(?:[\w-]*?\d){3})[\w][\w-]{4,}[\w](?![\w-])")


@dataclass(frozen=True)
class Scrubbed:
    text: str
    found: tuple[Kind, ...]  # what was replaced, in order (for tests and metrics; never the values)


def _probe_char(char: str) -> str:
    if char.isdecimal() and not char.isascii():
        return str(unicodedata.decimal(char))
    if char in _DASHES:
        return "-"
    if char in _SPACES or char in _MARKS:
        return " "
    return char


def probe(text: str) -> str:
    """The matching copy of `text`: same length, ASCII digits, plain dashes and spaces."""
    return "".join(_probe_char(char) for char in text)


def fold(text: str) -> str:
    """`probe`, and letters without their accents; still the same length."""
    return "".join(unicodedata.normalize("NFD", char)[:1] or char for char in probe(text))


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class _Text:
    """The original text and its probe, edited together so indexes keep matching."""

    def __init__(self, text: str) -> None:
        self.original = text
        self.probe = probe(text)
        self.found: list[Kind] = []

    def replace(self, spans: Iterable[tuple[int, int]], kind: Kind, placeholder: str) -> None:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        for start, end in reversed(merged):
            self.original = self.original[:start] + placeholder + self.original[end:]
            self.probe = self.probe[:start] + placeholder + self.probe[end:]
            self.found.append(kind)

    def spans(
        self, pattern: re.Pattern[str], keep: Callable[[str], bool] = lambda _: True
    ) -> list[tuple[int, int]]:
        return [m.span() for m in pattern.finditer(self.probe) if keep(m.group())]


def _is_link_with_query(url: str) -> bool:
    return "?" in url or "#" in url


def _is_card(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _phone_spans(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    spans: set[tuple[int, int]] = set()
    for region in regions:
        for match in PhoneNumberMatcher(text, region, leniency=Leniency.VALID):
            spans.add((match.start, match.end))
    return list(spans)


def _split_run_kind(candidate: str) -> Kind | None:
    """A split-up digit run long enough to identify someone, and what it most likely is."""
    if _DATE.match(candidate.strip("()")):
        return None
    digits = re.sub(r"\D", "", candidate)
    if len(digits) < 7:
        return None
    if candidate.startswith(("+", "0", "(")) or 9 <= len(digits) <= 15:
        return Kind.PHONE
    return Kind.NUMBER


def _name_pattern(name: str, keep: Iterable[str]) -> re.Pattern[str] | None:
    folded = " ".join(fold(name).split())
    if not folded:
        return None
    kept = {fold(word).casefold() for word in keep}
    parts = [
        p for p in re.split(r"[\s,.'-]+", folded) if len(p) >= MIN_NAME_PART and p.casefold() not in kept
    ]
    # The whole name first, so "Jo Bloggs" becomes one placeholder rather than two.
    alternatives = sorted({folded, *parts} - {""}, key=len, reverse=True)
    if folded.casefold() in kept:
        alternatives.remove(folded)
    if not alternatives:
        return None
    words = "|".join(r"\s+".join(map(re.escape, a.split())) for a in alternatives)
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)


def scrub(
    text: str,
    *,
    customer_name: str | None = None,
    keep: Iterable[str] = (),
    regions: Sequence[str] = DEFAULT_REGIONS,
    placeholders: Mapping[Kind, str] = DEFAULT_PLACEHOLDERS,
) -> Scrubbed:
    """Replace personal data in `text`. `keep` lists words never taken for the customer's name
    (the agent's own name: customers thank agents by name)."""
    work = _Text(text)
    work.replace(work.spans(_LINK, _is_link_with_query), Kind.LINK, placeholders[Kind.LINK])
    work.replace(work.spans(_EMAIL), Kind.EMAIL, placeholders[Kind.EMAIL])
    work.replace(work.spans(_CARD, _is_card), Kind.CARD, placeholders[Kind.CARD])
    # Ids mixing letters and digits go before phone numbers, so "INV-2024-0017" goes whole.
    work.replace(work.spans(_MIXED_ID), Kind.NUMBER, placeholders[Kind.NUMBER])
    work.replace(_phone_spans(work.probe, regions), Kind.PHONE, placeholders[Kind.PHONE])
    runs = [(m.span(), _split_run_kind(m.group())) for m in _SPLIT_RUN.finditer(work.probe)]
    for span, kind in reversed(runs):  # from the end, so the spans before stay where they are
        if kind is not None:
            work.replace([span], kind, placeholders[kind])
    for pattern in (_ORDER_NUMBER, _LONG_NUMBER):
        work.replace(work.spans(pattern), Kind.NUMBER, placeholders[Kind.NUMBER])
    if customer_name:
        name = _name_pattern(customer_name, keep)
        if name is not None:
            spans = [m.span() for m in name.finditer(fold(work.original))]
            work.replace(spans, Kind.CUSTOMER, placeholders[Kind.CUSTOMER])
    return Scrubbed(text=work.original, found=tuple(work.found))
