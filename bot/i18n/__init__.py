"""The message catalogue: every user-facing sentence, one YAML file per language.

Adding a language means adding `<code>.yml` next to `en.yml`; keys missing there fall back
to English, so a partial translation is still usable.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

FALLBACK = "en"


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


@cache
def _load(language: str) -> dict[str, str]:
    text = resources.files(__package__).joinpath(f"{language}.yml").read_text(encoding="utf-8")
    return _flatten(yaml.safe_load(text))


@cache
def available_languages() -> tuple[str, ...]:
    return tuple(
        sorted(p.name[:-4] for p in resources.files(__package__).iterdir() if p.name.endswith(".yml"))
    )


class Catalogue:
    """Looks up `key` in one language, falling back to English."""

    def __init__(self, language: str) -> None:
        self.language = language if language in available_languages() else FALLBACK
        self._own = _load(self.language)
        self._fallback = _load(FALLBACK)

    def t(self, key: str, **params: Any) -> str:
        template = self._own.get(key) or self._fallback[key]
        return template.format(**params) if params else template

    def keys(self) -> set[str]:
        return set(self._own)


@cache
def catalogue(language: str) -> Catalogue:
    return Catalogue(language)


def minutes(value: float) -> str:
    """5.0 -> "5", 0.5 -> "0.5": how a person writes a number of minutes."""
    return f"{value:g}"
