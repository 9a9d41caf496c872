"""Recovery settings in breather.yml: defaults, and errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import load_config
from bot.errors import ConfigError
from tests.conftest import ROSTER


def with_settings(tmp_path: Path, **settings: object) -> Path:
    data = yaml.safe_load(ROSTER.read_text())
    data["settings"] = settings
    path = tmp_path / "breather.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_defaults_allow_three_breaks_a_day_and_no_support_resources(tmp_path: Path) -> None:
    settings = load_config(with_settings(tmp_path)).settings
    assert (settings.break_minutes, settings.breaks_per_day, settings.support_resources) == (5, 3, [])


def test_support_resources_are_read_with_an_optional_note(tmp_path: Path) -> None:
    resources = [
        {"name": "Helpline", "contact": "0800 123", "note": "24/7"},
        {"name": "Mara", "contact": "m@x.org"},
    ]
    settings = load_config(with_settings(tmp_path, support_resources=resources)).settings
    assert [(r.name, r.note) for r in settings.support_resources] == [("Helpline", "24/7"), ("Mara", None)]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"breaks_per_day": 0}, "settings.breaks_per_day"),
        ({"support_resources": [{"name": "Helpline"}]}, "settings.support_resources[0].contact"),
        (
            {"support_resources": [{"name": "Helpline", "contact": "1", "phone": "2"}]},
            "support_resources[0].phone",
        ),
    ],
)
def test_bad_recovery_settings_name_the_field(
    tmp_path: Path, settings: dict[str, object], field: str
) -> None:
    with pytest.raises(ConfigError, match=field.replace("[", r"\[").replace("]", r"\]")):
        load_config(with_settings(tmp_path, **settings))
