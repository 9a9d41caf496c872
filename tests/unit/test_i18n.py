"""The message catalogues: complete, consistent with English, plural-aware, in each script's letters.

The failure messages list the exact keys to fix, so a new English key's translations can be asked
for by name.
"""

from __future__ import annotations

import re
import string

import pytest

from bot.i18n import (
    FALLBACK,
    Catalogue,
    Plural,
    available_languages,
    catalogue,
    plural_categories,
)

TRANSLATIONS = [language for language in available_languages() if language != FALLBACK]
EMOJI = re.compile(r":([a-z0-9_+-]+):")
COUNTS = (0, 1, 2, 3, 5, 11, 19, 20, 21, 100, 101, 0.5, 1.5)


def placeholders(entry: str | Plural) -> set[str]:
    texts = entry.forms.values() if isinstance(entry, Plural) else [entry]
    return {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}


def texts(entry: str | Plural) -> list[str]:
    return list(entry.forms.values()) if isinstance(entry, Plural) else [entry]


def own(language: str) -> dict[str, str | Plural]:
    cat = catalogue(language)
    found = {}
    for key in sorted(cat.keys()):
        entry = cat.entry(key)
        assert entry is not None
        found[key] = entry
    return found


def test_romanian_and_persian_are_shipped() -> None:
    assert {"en", "ro", "fa"} <= set(available_languages())


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_every_english_key_is_translated_and_nothing_else(language: str) -> None:
    english, other = set(own(FALLBACK)), set(own(language))
    missing, unknown = sorted(english - other), sorted(other - english)
    assert not missing, f"{language}.yml lacks these keys ({len(missing)}): {', '.join(missing)}"
    assert not unknown, f"{language}.yml has keys English does not: {', '.join(unknown)}"


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translations_use_the_same_placeholders_and_emoji_as_english(language: str) -> None:
    english, other = own(FALLBACK), own(language)
    wrong = [
        f"{key} uses {sorted(placeholders(entry))}, English {sorted(placeholders(english[key]))}"
        for key, entry in sorted(other.items())
        if key in english and placeholders(entry) != placeholders(english[key])
    ]
    assert not wrong, f"{language}: " + "; ".join(wrong)
    emoji = [
        key
        for key, entry in sorted(other.items())
        if key in english
        and {c for t in texts(entry) for c in EMOJI.findall(t)}
        != {c for t in texts(english[key]) for c in EMOJI.findall(t)}
    ]
    assert not emoji, f"{language}: emoji codes differ from English in {', '.join(emoji)}"


@pytest.mark.parametrize("language", available_languages())
def test_plural_values_have_exactly_the_languages_cldr_forms(language: str) -> None:
    english, other = own(FALLBACK), own(language)
    needed = plural_categories(language)
    problems = []
    for key, entry in sorted(other.items()):
        english_plural = isinstance(english.get(key), Plural)
        if english_plural and not isinstance(entry, Plural):
            problems.append(f"{key} needs plural forms {sorted(needed)}")
        elif isinstance(entry, Plural) and not english_plural:
            problems.append(f"{key} has plural forms but English looks it up without a count")
        elif isinstance(entry, Plural) and set(entry.forms) != needed:
            lacking, extra = sorted(needed - set(entry.forms)), sorted(set(entry.forms) - needed)
            problems.append(f"{key} lacks {lacking}" if lacking else f"{key} has unused forms {extra}")
    assert not problems, f"{language}: " + "; ".join(problems)


def test_each_language_has_the_cldr_plural_categories() -> None:
    assert plural_categories("en") == {"one", "other"}
    assert plural_categories("ro") == {"one", "few", "other"}
    assert plural_categories("fa") == {"one", "other"}


@pytest.mark.parametrize("language", available_languages())
def test_every_value_formats_with_sample_values_and_every_count(language: str) -> None:
    cat = catalogue(language)
    for key, entry in own(language).items():
        sample = {name: f"<{name}>" for name in placeholders(entry)}
        if isinstance(entry, Plural):
            for count in COUNTS:
                text = cat.t(key, **{**sample, "count": count})
                assert text and "{" not in text, (language, key, count)
        else:
            text = cat.t(key, **sample)
            assert text and "{" not in text.replace("{0}", ""), (language, key)


def test_romanian_uses_comma_below_never_the_cedilla() -> None:
    cedilla = re.compile("[şţŞŢ]")
    wrong = sorted(key for key, entry in own("ro").items() if any(cedilla.search(t) for t in texts(entry)))
    assert not wrong, f"ro: cedilla ş/ţ instead of ș/ț in {', '.join(wrong)}"
    assert any("ș" in t or "ț" in t for entry in own("ro").values() for t in texts(entry))


def test_persian_uses_persian_letters_and_the_zero_width_non_joiner() -> None:
    arabic = re.compile("[\u064a\u0643\u0649\u0660-\u0669]")  # ي ك ى and Arabic-Indic digits
    wrong = sorted(key for key, entry in own("fa").items() if any(arabic.search(t) for t in texts(entry)))
    assert not wrong, f"fa: Arabic letters (ي ك ى) or digits instead of Persian ones in {', '.join(wrong)}"
    # The present-tense prefix joins its verb with a ZWNJ: می‌خواهید, never می خواهید.
    loose = re.compile(r"(?<![\w\u200c])(ن?می) (?=[\u0600-\u06ff])")
    unjoined = sorted(key for key, entry in own("fa").items() if any(loose.search(t) for t in texts(entry)))
    assert not unjoined, f"fa: می/نمی without a zero-width non-joiner in {', '.join(unjoined)}"
    assert catalogue("fa").t("pulse.button.opt_out") == "دیگر نپرس"
    assert "\u200c" in catalogue("fa").t("command.paused")  # نمی‌پرسم


SLACK_LIMITS = {
    24: ("pulse.form_title", "pulse.form_submit", "pulse.form_close", "pulse.form_done")
    + ("compliment.form.title", "compliment.form.submit", "compliment.form.close")
    + ("recovery.talk.title", "recovery.talk.submit", "recovery.talk.close")
    + ("checkin.notice.title", "checkin.notice.close", "compliment.notice.title", "compliment.notice.close"),
    75: ("checkin.button.ok", "checkin.button.break", "checkin.button.talk")
    + ("pulse.button.open", "pulse.button.skip", "pulse.button.opt_out", "pulse.burnout_label")
    + ("compliment.share", "compliment.keep_private", "compliment.remove", "recovery.talk.reopen")
    + ("home.pause", "home.resume", "results.turn_off", "results.turn_on"),
}


@pytest.mark.parametrize("language", available_languages())
def test_titles_and_buttons_fit_slacks_limits(language: str) -> None:
    entries = own(language)
    too_long = [
        f"{key} ({len(text)} > {limit})"
        for limit, keys in SLACK_LIMITS.items()
        for key in keys
        for text in texts(entries[key])
        if len(text.replace("{minutes}", "0.5")) > limit
    ]
    assert not too_long, f"{language}: " + ", ".join(too_long)


@pytest.mark.parametrize("language", available_languages())
def test_messages_to_agents_stay_short(language: str) -> None:
    for key, entry in own(language).items():
        if key.startswith(("checkin.", "home.")):
            assert all(len(text) <= 240 for text in texts(entry)), (language, key)


@pytest.mark.parametrize(
    ("count", "english", "romanian"),
    [
        (1, "Take a 1-minute breather", "Ia-ți un respiro de 1 minut"),
        (5, "Take a 5-minute breather", "Ia-ți un respiro de 5 minute"),
        (0.5, "Take a 0.5-minute breather", "Ia-ți un respiro de 0.5 minute"),
        (19, "Take a 19-minute breather", "Ia-ți un respiro de 19 minute"),
        (20, "Take a 20-minute breather", "Ia-ți un respiro de 20 de minute"),
        (101, "Take a 101-minute breather", "Ia-ți un respiro de 101 minute"),
    ],
)
def test_the_count_picks_the_languages_plural_form(count: float, english: str, romanian: str) -> None:
    written = f"{count:g}"
    assert catalogue("en").t("checkin.button.break", count=count, minutes=written) == english
    assert catalogue("ro").t("checkin.button.break", count=count, minutes=written) == romanian
    persian = catalogue("fa").t("checkin.button.break", count=count, minutes=written)
    assert persian == f"{written} دقیقه استراحت"


def test_a_count_of_one_reads_naturally() -> None:
    english = catalogue("en")
    assert english.t("compliment.rollup.count", count=1) == "Customers thanked this team once last week."
    assert english.t("compliment.rollup.count", count=3) == "Customers thanked this team 3 times last week."
    assert catalogue("ro").t("recovery.break.capped", count=1).startswith("Ai avut deja o pauză cu mine azi")
    assert catalogue("ro").t("recovery.break.capped", count=3).startswith("Ai avut deja 3 pauze cu mine azi")
    assert catalogue("ro").t("recovery.break.capped", count=25).startswith("Ai avut deja 25 de pauze")


def test_a_plural_value_needs_a_count() -> None:
    with pytest.raises(TypeError, match="compliment.rollup.kudos"):
        catalogue("en").t("compliment.rollup.kudos")


def test_a_missing_key_falls_back_to_english_with_the_english_plural_rule() -> None:
    partial = Catalogue("ro", entries={"pulse.button.open": "Încep"})
    assert partial.t("pulse.button.open") == "Încep"
    assert partial.t("pulse.button.skip") == "Not now"
    # Romanian would choose "few" for 2; the English fallback is chosen by English's rule.
    assert partial.t("compliment.rollup.kudos", count=2) == "Team mates sent each other 2 kudos."


def test_unknown_language_falls_back_to_english() -> None:
    assert catalogue("xx").t("checkin.button.ok") == "I'm OK"
    assert catalogue("xx").language == "en"
