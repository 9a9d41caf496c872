"""Customer-satisfaction ratings to Breather's good/bad: the one place each scale is mapped.

Zendesk has two CSAT systems (see docs/providers/conformance.md for the pages):

* legacy satisfaction ratings: `good` or `bad` (plus the states `offered`/`unoffered`, which are
  no rating yet). In a trigger's webhook body the placeholder `{{satisfaction.current_rating}}`
  renders the rating's *display text* in the requester's language ("Good, I'm satisfied"), so
  Breather's trigger bodies send a literal `"good"` or `"bad"` instead, one trigger per rating;
  display texts are still read, as a fallback, in every language Breather speaks.
* the newer CSAT survey: a rating on a scale of 2, 3 or 5 points shown as numbers, emoji or
  custom labels. Zendesk itself counts the top of each scale as good and the rest as bad
  (2 points: 2 good; 3 points: 3 good; 5 points: 4-5 good), and Breather does the same
  (`scale_verdict`).

Anything else is not a rating Breather can read: the webhook answers 422 naming the field, so
the operator sees it in Zendesk's webhook log instead of ratings vanishing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Literal

Verdict = Literal["good", "bad"]

NOT_YET = frozenset({"offered", "unoffered"})  # legacy states: a survey sent, no answer yet
# Zendesk's scales and the lowest value counted as good on each (Zendesk's own reading).
GOOD_FROM = {2: 2, 3: 3, 5: 4}

# Words of the legacy ratings' display texts ("Good, I'm satisfied" / "Bad, I'm unsatisfied"),
# per catalogue language. A text is bad when it has a bad word, good when it has a good word
# and no bad one. English is Zendesk's wording; Romanian and Persian are Breather's reading of
# the same two sentences (Zendesk's own translations could not be checked), matched word by
# word so close variants ("Bună", "Rău, nu sunt mulțumit") are read too.
DISPLAY_WORDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "en": (
        frozenset({"good", "satisfied", "great"}),
        frozenset({"bad", "unsatisfied", "dissatisfied", "not", "poor"}),
    ),
    "ro": (
        frozenset({"bun", "buna", "bine", "multumit", "multumita", "multumiti"}),
        frozenset({"rau", "slab", "prost", "nemultumit", "nemultumita", "nu"}),
    ),
    "fa": (
        frozenset({"خوب", "راضی", "راضیم", "عالی"}),
        frozenset({"بد", "ناراضی", "نیستم", "نه", "ضعیف"}),
    ),
}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Arabic letters that Persian keyboards and Arabic ones write differently.
_PERSIAN = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "\u200c": " "})


def _words(text: str) -> list[str]:
    """Lower-case words without accents ("Mulțumit" -> "multumit"), Persian letters unified."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_PERSIAN).casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _WORD.findall(unicodedata.normalize("NFKC", plain))


def display_verdict(text: str, languages: Iterable[str] = DISPLAY_WORDS) -> Verdict | None:
    """good/bad from a rating's display text in any of `languages`; None if not recognised."""
    words = set(_words(text))
    verdict: Verdict | None = None
    for language in languages:
        good, bad = DISPLAY_WORDS.get(language, (frozenset(), frozenset()))
        if words & bad:
            return "bad"
        if words & good:
            verdict = "good"
    return verdict


def is_not_yet_rated(text: str) -> bool:
    return " ".join(_words(text)) in NOT_YET


def scale_verdict(rating: float, scale: int) -> Verdict:
    """A rating on Zendesk's newer CSAT scale to good/bad; ValueError when it is off the scale."""
    if scale not in GOOD_FROM:
        raise ValueError(
            f"a scale of {scale} points is not one of Zendesk's ({', '.join(map(str, GOOD_FROM))})"
        )
    if rating != int(rating) or not 1 <= rating <= scale:
        raise ValueError(f"{rating:g} is not a rating on a {scale}-point scale")
    return "good" if rating >= GOOD_FROM[scale] else "bad"


def normalised(rating: float, scale: int) -> float:
    """A rating on a 1..scale scale as 0..1, as Breather stores CSAT ((x - min) / (max - min))."""
    return (rating - 1) / (scale - 1)
