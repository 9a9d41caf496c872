"""Scoring exactly as published, with the reference's worked examples."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import load_config
from bot.errors import ConfigError
from bot.surveys.instruments import BURNOUT_SINGLE, CBI_CLIENT, INSTRUMENTS, WHO5, InstrumentId
from bot.surveys.periods import is_first_week_of_period, period_start
from bot.surveys.wording import WORDINGS


def who5(*answers: int) -> dict[str, int]:
    return {f"who5_{n}": value for n, value in enumerate(answers, start=1)}


@pytest.mark.parametrize(
    ("answers", "index", "low", "severe"),
    [
        ((3, 3, 2, 2, 3), 52, False, False),
        ((3, 2, 2, 2, 3), 48, True, False),
        ((1, 2, 1, 2, 1), 28, True, True),
        ((5, 5, 5, 5, 5), 100, False, False),
        ((0, 0, 0, 0, 0), 0, True, True),
    ],
)
def test_who5_index_is_raw_times_four_with_the_published_cut_offs(
    answers: tuple[int, ...], index: int, low: bool, severe: bool
) -> None:
    score = WHO5.score(who5(*answers))
    assert score is not None and (score.value, score.flag, score.severe) == (index, low, severe)


def test_who5_scores_only_complete_sets() -> None:
    assert WHO5.score(who5(3, 3, 2, 2)) is None


@pytest.mark.parametrize(("option", "symptoms"), [(1, False), (2, False), (3, True), (4, True), (5, True)])
def test_single_item_burnout_three_or_more_means_symptoms(option: int, symptoms: bool) -> None:
    score = BURNOUT_SINGLE.score({"burnout_single_1": option})
    assert score is not None and score.value == option and score.flag is symptoms


def test_cbi_client_scale_is_the_mean_of_answered_items_on_100_to_0() -> None:
    answers = {
        "cbi_client_1": 100,
        "cbi_client_2": 75,
        "cbi_client_3": 50,
        "cbi_client_4": 25,
        "cbi_client_5": 0,
        "cbi_client_6": 50,
    }
    score = CBI_CLIENT.score(answers)
    assert score is not None and score.value == 50.0 and score.flag  # 50 or more reads as high
    three = CBI_CLIENT.score({"cbi_client_1": 25, "cbi_client_2": 25, "cbi_client_5": 0})
    assert three is not None and round(three.value, 2) == 16.67 and not three.flag
    assert CBI_CLIENT.score({"cbi_client_1": 100, "cbi_client_2": 100}) is None  # fewer than 3 of 6


def test_a_value_off_the_scale_is_refused() -> None:
    with pytest.raises(ValueError):
        WHO5.score(who5(6, 3, 3, 3, 3))


def test_every_language_version_has_every_item_and_option_within_slack_limits() -> None:
    for wording in WORDINGS.versions():
        instrument = INSTRUMENTS[wording.instrument]
        for item in instrument.items:
            for _, key in item.scale.options:
                assert len(wording.t(key)) <= 75, (wording.language, key)  # a radio option's text limit
        numbered = {InstrumentId.WHO5: "item", InstrumentId.BURNOUT_SINGLE: "statement"}
        count = 5 if wording.instrument is InstrumentId.BURNOUT_SINGLE else len(instrument.items)
        for n in range(1, count + 1):
            assert wording.t(f"{numbered.get(wording.instrument, 'item')}.{n}"), (wording.language, n)
    english = WORDINGS.version(InstrumentId.CBI_CLIENT, "en")
    assert all("customers" in english.t(f"item.{n}") for n in range(1, 7))


def test_periods_are_fixed_windows_counted_from_a_monday() -> None:
    assert period_start(date(2026, 11, 26), 2) == period_start(date(2026, 11, 16), 2) == date(2026, 11, 16)
    assert period_start(date(2026, 11, 30), 2) == date(2026, 11, 30)
    assert is_first_week_of_period(date(2026, 11, 19), 2) and not is_first_week_of_period(
        date(2026, 11, 26), 2
    )
    assert all(is_first_week_of_period(date(2026, 11, d), 1) for d in (2, 9, 16))


def _team(tmp_path: Path, **pulse: object) -> Path:
    team = {
        "id": "t",
        "name": "T",
        "shift": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "17:00"},
        "pulse": pulse,
    }
    path = tmp_path / "b.yml"
    path.write_text(yaml.safe_dump({"teams": [team]}))
    return path


def test_pulse_defaults_and_validation(tmp_path: Path) -> None:
    pulse = load_config(_team(tmp_path)).teams[0].pulse
    assert pulse is not None
    assert (pulse.instruments, pulse.every_weeks, pulse.day, pulse.at, pulse.close_after_days) == (
        ["who5", "burnout_single"],
        2,
        "thu",
        time(14, 0),
        3,
    )
    cases: list[tuple[dict[str, Any], str]] = [
        ({"every_weeks": 1}, "recall period is two weeks"),
        ({"day": "sat"}, "pulse.day 'sat' is not one of the team's shift days"),
        ({"at": "19:00"}, "pulse.at 19:00 is outside the team's shift"),
        ({"instruments": ["mbi"]}, "teams[0].pulse.instruments[0]"),
        ({"close_after_days": 20}, "close_after_days must not be longer"),
    ]
    for bad, fragment in cases:
        with pytest.raises(ConfigError) as error:
            load_config(_team(tmp_path, **bad))
        assert fragment in str(error.value), str(error.value)
