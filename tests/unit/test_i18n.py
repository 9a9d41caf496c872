"""The message catalogue: complete, consistent placeholders, English as the fallback."""

from __future__ import annotations

import re

import pytest

from bot.i18n import available_languages, catalogue

PLACEHOLDER = re.compile(r"{(\w+)}")


@pytest.mark.parametrize("language", available_languages())
def test_translations_use_the_same_placeholders_as_english(language: str) -> None:
    english, other = catalogue("en"), catalogue(language)
    for key in sorted(other.keys()):
        assert key in english._own, f"{language}: {key} is not an English key"
        ours = set(PLACEHOLDER.findall(other._own[key]))
        theirs = set(PLACEHOLDER.findall(english._own[key]))
        assert ours == theirs, f"{language}: {key} uses {ours}, English {theirs}"


def test_unknown_language_falls_back_to_english() -> None:
    assert catalogue("xx").t("checkin.button.ok") == "I'm OK"


def test_messages_to_agents_stay_short() -> None:
    english = catalogue("en")
    for key in english._own:
        if key.startswith(("checkin.", "home.")):
            assert len(english._own[key]) <= 240, key
