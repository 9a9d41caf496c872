"""Team holidays (issue 16, point 4): breather.yml `holidays` (own dates and a country's public
holidays through the `holidays` package) mean no check-ins, invitations or reminders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from bot.checkins.policy import in_shift
from bot.config import Holidays, Shift, load_config
from bot.errors import ConfigError
from bot.surveys.periods import next_shift_start
from tests.conftest import Harness, MakeSettings, hard_call
from tests.fakes.slack_api import FakeSlack
from tests.helpers import Clock, roster_with, settled

BUCHAREST = ZoneInfo("Europe/Bucharest")
OFFICE = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "17:00"}
CALENDAR = {"country": "RO", "dates": ["2026-12-04"]}  # Friday 4 December: the team's own day off


def at(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=BUCHAREST).astimezone(UTC)


def test_a_teams_calendar_has_its_own_dates_and_the_countrys_public_holidays() -> None:
    calendar = Holidays.model_validate(CALENDAR)
    assert calendar.is_day_off(date(2026, 12, 4))  # its own
    assert calendar.is_day_off(date(2026, 12, 1))  # Romania's national day
    assert calendar.is_day_off(date(2026, 12, 25))
    assert not calendar.is_day_off(date(2026, 12, 3))


def test_shift_arithmetic_skips_holidays() -> None:
    shift = Shift(days=["mon", "tue", "wed", "thu", "fri"], start=time(8), end=time(17))
    calendar = Holidays.model_validate({"dates": ["2026-12-24"], "country": "RO"})
    christmas_eve = at(2026, 12, 24, 10)
    assert in_shift(shift, BUCHAREST, christmas_eve, timedelta(0))
    assert not in_shift(shift, BUCHAREST, christmas_eve, timedelta(0), calendar.is_day_off)
    # Thursday 24th, Friday 25th and the weekend off (26th is a public holiday too): Monday 28th.
    assert next_shift_start(shift, BUCHAREST, christmas_eve, calendar.is_day_off) == at(2026, 12, 28, 8)


@pytest.mark.parametrize(
    ("holidays", "message"),
    [
        ({"country": "XX"}, "teams[0].holidays.country: no public-holiday calendar for 'XX'"),
        ({"country": "CA", "subdivision": "ZZ"}, "subdivision 'ZZ' is not one of CA's"),
        ({"subdivision": "ON"}, "subdivision needs a country"),
        (["2026-13-01"], "teams[0].holidays.dates[0]"),
    ],
)
def test_a_bad_calendar_is_refused_naming_the_field(tmp_path: Path, holidays: Any, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(roster_with(tmp_path, teams={"billing": {"holidays": holidays}}))
    assert message in str(error.value)


def test_the_short_form_is_a_list_of_dates(tmp_path: Path) -> None:
    config = load_config(roster_with(tmp_path, teams={"billing": {"holidays": ["2026-12-31"]}}))
    assert config.teams[0].holidays.is_day_off(date(2026, 12, 31))


@pytest.fixture
def office(make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Any]:
    clients: list[TestClient] = []

    def start(moment: datetime) -> tuple[Harness, Clock]:
        clock = Clock(moment)
        fake_slack.clock = clock.timestamp
        billing = {"shift": OFFICE, "holidays": CALENDAR, "pulse": {"day": "fri", "at": "10:00"}}
        app = create_app(
            make_settings(config_path=roster_with(tmp_path, teams={"billing": billing})), clock=clock
        )
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return Harness(client, app.state.services, fake_slack), clock

    yield start
    for client in clients:
        client.__exit__(None, None, None)


@pytest.mark.parametrize(
    ("moment", "sent"),
    [
        (at(2026, 12, 3, 10), True),  # an ordinary Thursday
        (at(2026, 12, 4, 10), False),  # the team's own day off
        (at(2026, 12, 1, 10), False),  # a public holiday in Romania
    ],
)
def test_no_checkins_on_a_holiday(office: Any, moment: datetime, sent: bool) -> None:
    harness, clock = office(moment)
    harness.post_event(hard_call(ended_at=clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")))
    settled(harness.services)
    assert bool(harness.slack.calls("chat.postMessage")) is sent


def test_survey_invitations_wait_for_the_first_working_day(office: Any) -> None:
    harness, clock = office(at(2026, 12, 4, 10))
    harness.services.survey_actions.start_round("billing")
    settled(harness.services)
    assert harness.slack.calls("chat.postMessage") == []
    clock.now = at(2026, 12, 7, 8) + timedelta(seconds=30)  # Monday morning
    harness.services.survey_actions.dispatch()
    assert len(harness.slack.wait_for("chat.postMessage", 5)) == 5
