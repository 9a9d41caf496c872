"""The message catalogue: every user-facing sentence, one YAML file per language.

Adding a language means adding `<code>.yml` next to `en.yml`; keys missing there fall back
to English, so a partial translation is still usable.

A value is a template (`"Sent to {name}."`) or, for a sentence that agrees with a number, a
mapping of CLDR plural categories to templates (`one: ...`, `few: ...`, `other: ...`). Which
category a number takes is the language's CLDR rule, from Babel: English and Persian have
one/other, Romanian one/few/other ("1 minut", "5 minute", "20 de minute"). A plural value is
looked up with `count=`; the other placeholders are filled as usual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Protocol

import yaml
from babel import Locale
from babel.plural import PluralRule

from bot.i18n.bidi import Direction, is_rtl, isolate, right_to_left_lines
from bot.i18n.formats import Calendar, Formats

FALLBACK = "en"
CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})


@dataclass(frozen=True)
class Plural:
    """One sentence in each plural category the language distinguishes."""

    forms: Mapping[str, str]

    def template(self, category: str) -> str:
        return self.forms.get(category) or self.forms["other"]


Entry = str | Plural


def _is_plural(value: dict[str, Any]) -> bool:
    return "other" in value and set(value) <= CATEGORIES and all(isinstance(v, str) for v in value.values())


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Entry]:
    flat: dict[str, Entry] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and _is_plural(value):
            flat[name] = Plural({str(k): v for k, v in value.items()})
        elif isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


@cache
def _load(language: str) -> dict[str, Entry]:
    text = resources.files(__package__).joinpath(f"{language}.yml").read_text(encoding="utf-8")
    return _flatten(yaml.safe_load(text))


@cache
def available_languages() -> tuple[str, ...]:
    return tuple(
        sorted(p.name[:-4] for p in resources.files(__package__).iterdir() if p.name.endswith(".yml"))
    )


@cache
def _plural_rule(language: str) -> PluralRule:
    return Locale.parse(language).plural_form


def plural_categories(language: str) -> frozenset[str]:
    """The categories the language's CLDR rule can choose, so every one needs a form."""
    return _plural_rule(language).tags | {"other"}


def plural_category(language: str, count: float) -> str:
    return str(_plural_rule(language)(count))


class Catalogue:
    """Looks up `key` in one language, falling back to English."""

    def __init__(
        self, language: str, entries: Mapping[str, Entry] | None = None, *, calendar: Calendar | None = None
    ) -> None:
        """`entries` stands in for the language's own file (a partial translation, say);
        `calendar` is the operator's choice for Persian dates (Solar Hijri unless told)."""
        self.language = language if language in available_languages() else FALLBACK
        self._own = entries if entries is not None else _load(self.language)
        self._fallback = _load(FALLBACK)
        self.formats = Formats(self.language, calendar)

    def t(self, key: str, /, **params: Any) -> str:
        own = self._own.get(key)
        entry, language = (own, self.language) if own else (self._fallback[key], FALLBACK)
        if isinstance(entry, Plural):
            if "count" not in params:
                raise TypeError(f"{key} has plural forms: look it up with count=")
            template = entry.template(plural_category(language, params["count"]))
        else:
            template = entry
        rtl = language == self.language and is_rtl(language)
        if params:
            # Numbers are written the language's way ("52,5", "۵۲٫۵"); strings are left as
            # given, isolated inside right-to-left text when they hold Latin letters or digits.
            shown = {
                name: self.formats.number(value)
                if isinstance(value, int | float) and not isinstance(value, bool)
                else (isolate(value) if rtl and isinstance(value, str) else value)
                for name, value in params.items()
            }
            template = template.format(**shown)
        return right_to_left_lines(template) if rtl else template

    @property
    def direction(self) -> Direction:
        return "rtl" if is_rtl(self.language) else "ltr"

    def entry(self, key: str) -> Entry | None:
        """This language's own value for `key` (None when it falls back to English)."""
        return self._own.get(key)

    def templates(self, key: str) -> list[str]:
        """Every template `key` can produce here: one, or one per plural form."""
        entry = self._own.get(key) or self._fallback[key]
        return list(entry.forms.values()) if isinstance(entry, Plural) else [entry]

    def keys(self) -> set[str]:
        return set(self._own)


@cache
def catalogue(language: str, calendar: Calendar | None = None) -> Catalogue:
    return Catalogue(language, calendar=calendar)


def language_name(language: str) -> str:
    """A language's own name for itself, from CLDR: "English", "Română", "فارسی"."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


def language_choices() -> str:
    """`en` English, `ro` Română, `fa` فارسی: the same list whatever language it is shown in."""
    return ", ".join(f"`{code}` {language_name(code)}" for code in available_languages())


class _TeamLike(Protocol):
    @property
    def language(self) -> str: ...

    @property
    def persian_calendar(self) -> Calendar: ...


def team_catalogue(team: _TeamLike, language: str | None = None) -> Catalogue:
    """The catalogue in `language` (the team's own by default), dated in the team's calendar."""
    return catalogue(language or team.language, team.persian_calendar)
