"""Personal data scrubbing for customer-written text, before it is stored or shown to anyone.

A pure function of the text: links with query strings, e-mail addresses, card numbers (Luhn),
phone numbers in any of the configured regions' formats (and with + anywhere), numbers split
by spaces or dashes, long account or order numbers (six digits or more, split up or not; dates
and times stay), and the customer's own name are replaced by neutral placeholders from the
catalogue.

Matching runs on a *probe*: a copy of the text with the same length in which every Unicode
decimal digit (Persian ۰-۹, Arabic-Indic ٠-٩, full-width ...) is an ASCII digit, dashes are
"-", unusual spaces and direction marks are " ", and letters lose their accents (for names:
"Ștefan" matches "Stefan"; Arabic ي and ك match Persian ی and ک). Because the probe keeps
every index, spans found on it are cut out of the original text, which otherwise stays
exactly as the customer wrote it.
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

# A link with a scheme, "www.", or a bare domain followed by a path, a query or a fragment
# ("shop.example.com/x?id=1", "example.com?ref=jo"). A "?" or "#" must be followed by a word
# character, so a question after a missing space ("It worked.Really? Yes") is not a link.
_LINK = re.compile(
    r"(?:\bhttps?://|\bwww\.|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?:/|[?#](?=\w)))[^\s<>\"']*",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# 13-19 digits, single spaces or dashes allowed between them (as cards are usually written).
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")
# A run of digits split by spaces, dashes, dots or brackets: phone and account numbers typed
# by hand ("0 7 2 2 ...", "0722-12-34-56", "(0722) 123 456").
_SPLIT_RUN = re.compile(r"(?<![\w])\+?\(?\d(?:[ \-().]{0,3}\d)+\)?")
LONG_NUMBER_DIGITS = 6  # this many digits identify an order or an account, split up or not
_ORDER_NUMBER = re.compile(r"#\s?\d{4,}\b")
_LONG_NUMBER = re.compile(rf"(?<!\d)\d{{{LONG_NUMBER_DIGITS},}}(?!\d)")
# Dates and times, which a split-up digit run may be made of and which stay as written:
# 12.05.2024, 05/12/24, 2024-05-12 (also Solar Hijri 1403-02-23), 12.05, 10:30, a year.
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:1[34]|19|20)\d{2}"  # Gregorian, or Solar Hijri as written in Iran
_SEP = r"[-./ ]"
_CALENDAR_PIECE = (
    rf"(?:{_YEAR}{_SEP}{_MONTH}{_SEP}{_DAY}"
    rf"|{_DAY}{_SEP}{_MONTH}{_SEP}(?:{_YEAR}|\d{{2}})"
    rf"|{_MONTH}{_SEP}{_DAY}{_SEP}(?:{_YEAR}|\d{{2}})"
    rf"|(?:[01]?\d|2[0-3])[.:][0-5]\d"
    rf"|{_DAY}[./]{_MONTH}"
    rf"|{_YEAR})"
)
# One or more of them, side by side or as a range: "12/05/2024 10:30", "09.00 - 17.30".
_CALENDAR = re.compile(rf"{_CALENDAR_PIECE}(?:(?:\s*-\s*|\s+){_CALENDAR_PIECE})*")
_CALENDAR_CHARS = frozenset("0123456789 -./:()")
# Ids mixing letters and digits ("AB12345", "INV-2024-0017", "X7K9P2Q8"): 6+ characters,
# at least one letter and three digits, so "mp3", "iPhone15" or "COVID-19" stay.
_MIXED_ID = re.compile(r"(?<![\w-])(?=[\w-]*[^\W\d_])(?=(?:[\w-]*?\d){3})[\w][\w-]{4,}[\w](?![\w-])")


@dataclass(frozen=True)
class Scrubbed:
    text: str
    found: tuple[Kind, ...]  # what was replaced, in order (for tests and metrics; never the values)


# Arabic letters Persian writes with its own code points: a name typed on an Arabic keyboard
# ("علي كريمي") is the same name as on a Persian one ("علی کریمی").
_SAME_LETTER = {"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9"}


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


def _fold_char(char: str) -> str:
    return _SAME_LETTER.get(char) or unicodedata.normalize("NFD", char)[:1] or char


def fold(text: str) -> str:
    """`probe`, letters without their accents, and Arabic ي/ى/ك as Persian ی/ک; still the same
    length."""
    return "".join(_fold_char(char) for char in probe(text))


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


def _calendar_around(text: str, start: int, end: int) -> bool:
    """Is the digit run at [start, end) part of dates and times only? Looks at the whole
    stretch of digits and separators around it, so "12/05/2024 10:30" is seen whole even though
    the run itself ("2024 10") stops at the "/" and the ":"."""
    while start > 0 and text[start - 1] in _CALENDAR_CHARS:
        start -= 1
    while end < len(text) and text[end] in _CALENDAR_CHARS:
        end += 1
    return _CALENDAR.fullmatch(text[start:end].strip(" -.()")) is not None


def _split_run_kind(candidate: str) -> Kind | None:
    """A split-up digit run long enough to identify someone, and what it most likely is.
    As long as a plain number that is scrubbed, whether split by spaces or by dashes."""
    digits = re.sub(r"\D", "", candidate)
    if len(digits) < LONG_NUMBER_DIGITS:
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
    runs = [
        (m.span(), _split_run_kind(m.group()))
        for m in _SPLIT_RUN.finditer(work.probe)
        if not _calendar_around(work.probe, *m.span())
    ]
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
