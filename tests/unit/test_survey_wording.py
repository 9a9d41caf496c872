"""Questionnaires are shown only in a validated wording: the language's own version, or English.

The rest of the survey (headings, privacy note, buttons) follows the person's language either way,
and the answers are the same numbers whatever wording was shown, so they score and aggregate alike.
"""

from __future__ import annotations

import re
import shutil
from importlib import resources
from pathlib import Path

import pytest
import yaml

from bot.i18n import available_languages, catalogue
from bot.messenger import ChoiceField, Form, Note, Text
from bot.surveys.instruments import INSTRUMENTS, InstrumentId
from bot.surveys.messages import survey_form
from bot.surveys.wording import WORDINGS, Wordings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "instruments.md"
ALL = [i.value for i in InstrumentId]
# The published English items (Topp et al. 2015; Dolan et al. 2015; Kristensen et al. 2005).
WHO5_ITEMS = [
    "I have felt cheerful and in good spirits",
    "I have felt calm and relaxed",
    "I have felt active and vigorous",
    "I woke up feeling fresh and rested",
    "My daily life has been filled with things that interest me",
]
CBI_FIRST = "Do you find it hard to work with customers?"
BURNOUT_QUESTION = "Overall, based on your definition of burnout, how would you rate your level of burnout?"


def texts(form: Form) -> list[str]:
    return [part.text for part in form.parts if isinstance(part, Text | Note)]


def choices(form: Form) -> list[ChoiceField]:
    return [part for part in form.parts if isinstance(part, ChoiceField)]


def structure(form: Form) -> list[tuple[str, tuple[str, ...]]]:
    return [(field.id, tuple(o.value for o in field.options)) for field in choices(form)]


@pytest.fixture
def english_only(tmp_path: Path) -> Wordings:
    """The English originals alone: no instrument has a validated translation."""
    shutil.copy(str(resources.files("bot.surveys").joinpath("wording", "en.yml")), tmp_path / "en.yml")
    return Wordings(tmp_path)


@pytest.fixture
def versions(tmp_path: Path) -> Wordings:
    """The shipped versions plus a stand-in Romanian WHO-5, so the mechanism can be seen to pick it.

    The stand-in's text is a marker, not a translation: no checked Romanian wording exists here.
    """
    shipped = resources.files("bot.surveys").joinpath("wording")
    for entry in shipped.iterdir():
        if entry.name.endswith(".yml"):
            (tmp_path / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    who5 = {
        "source": "Test fixture standing in for a published Romanian version.",
        "stem": "[ro-who5 stem]",
        "item": {str(n): f"[ro-who5 item {n}]" for n in range(1, 6)},
        "scale": {str(v): f"[ro-who5 scale {v}]" for v in range(6)},
    }
    (tmp_path / "ro.yml").write_text(yaml.safe_dump({"who5": who5}, allow_unicode=True), encoding="utf-8")
    return Wordings(tmp_path)


def test_english_shows_the_published_wording() -> None:
    form = survey_form(catalogue("en"), instruments=ALL, context="c")
    assert [field.label for field in choices(form)[:5]] == WHO5_ITEMS
    assert [o.label for o in choices(form)[0].options] == [
        "All of the time",
        "Most of the time",
        "More than half of the time",
        "Less than half of the time",
        "Some of the time",
        "At no time",
    ]
    assert any(BURNOUT_QUESTION in text for text in texts(form))
    assert choices(form)[6].label == CBI_FIRST
    assert catalogue("en").t("pulse.in_english") not in texts(form)


@pytest.mark.parametrize("language", ["ro", "fa"])
def test_an_instrument_without_a_validated_version_stays_english_inside_a_translated_survey(
    language: str, english_only: Wordings
) -> None:
    cat = catalogue(language)
    form = survey_form(cat, instruments=ALL, context="c", wordings=english_only)
    assert form.title == cat.t("pulse.form_title") != catalogue("en").t("pulse.form_title")
    assert texts(form)[0] == cat.t("pulse.form_privacy")
    shown = "\n".join(texts(form))
    for name in ALL:
        assert f"*{cat.t(f'pulse.section.{name}')}*" in shown  # Breather's heading, translated
    assert texts(form).count(cat.t("pulse.in_english")) == 3  # one honest note per questionnaire
    assert [field.label for field in choices(form)[:5]] == WHO5_ITEMS
    assert choices(form)[5].label == cat.t("pulse.burnout_label")
    assert choices(form)[6].label == CBI_FIRST
    assert structure(form) == structure(survey_form(catalogue("en"), instruments=ALL, context="c"))


def test_a_validated_version_is_shown_in_its_own_words_and_the_others_in_english(versions: Wordings) -> None:
    cat = catalogue("ro")
    assert versions.validated_languages(InstrumentId.WHO5) == {"en", "ro"}
    assert versions.validated_languages(InstrumentId.CBI_CLIENT) == {"en"}
    form = survey_form(cat, instruments=ALL, context="c", wordings=versions)
    who5, rest = choices(form)[:5], choices(form)[5:]
    assert [field.label for field in who5] == [f"[ro-who5 item {n}]" for n in range(1, 6)]
    assert [o.label for o in who5[0].options] == [f"[ro-who5 scale {v}]" for v in (5, 4, 3, 2, 1, 0)]
    assert f"*{cat.t('pulse.section.who5')}*\n[ro-who5 stem]" in texts(form)
    assert rest[1].label == CBI_FIRST
    assert texts(form).count(cat.t("pulse.in_english")) == 2  # the burnout item and the CBI only
    # Same fields, same answer values: a Romanian and an English answer score the same way.
    english = survey_form(catalogue("en"), instruments=ALL, context="c", wordings=versions)
    assert structure(form) == structure(english)
    answers = {field.id: int(field.options[2].value) for field in choices(form)}
    for instrument in INSTRUMENTS.values():
        assert instrument.score(answers) == instrument.score(
            {field.id: int(field.options[2].value) for field in choices(english)}
        )


def test_a_language_version_without_its_source_is_refused(tmp_path: Path) -> None:
    shutil.copy(str(resources.files("bot.surveys").joinpath("wording", "en.yml")), tmp_path / "en.yml")
    (tmp_path / "fa.yml").write_text(yaml.safe_dump({"who5": {"stem": "x"}}), encoding="utf-8")
    with pytest.raises(ValueError, match="fa.yml: who5 has no source"):
        Wordings(tmp_path)


def test_every_shipped_version_is_complete_and_cited() -> None:
    english = {(w.instrument, key) for w in WORDINGS.versions() if w.language == "en" for key in w.texts}
    for wording in WORDINGS.versions():
        mine = {(wording.instrument, key) for key in wording.texts}
        assert mine == {(i, k) for i, k in english if i is wording.instrument}, wording.language
        assert wording.source


def test_the_docs_say_which_language_each_instrument_is_shown_in() -> None:
    """docs/instruments.md has one row per instrument and language, matching the data."""
    docs = DOCS.read_text(encoding="utf-8")
    rows = {
        (instrument, language): shown
        for instrument, language, shown in re.findall(r"^\| `(\w+)` \| `(\w+)` \| ([^|]+?) \|", docs, re.M)
    }
    for instrument in InstrumentId:
        for language in available_languages():
            shown = rows.get((instrument.value, language))
            assert shown, f"docs/instruments.md: no row for {instrument.value} in {language}"
            validated = language in WORDINGS.validated_languages(instrument)
            assert shown.startswith("validated" if validated else "English"), (instrument, language, shown)
