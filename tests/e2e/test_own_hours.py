"""Per-person shift and time zone (issue 16, point 6): an agent's own hours decide their quiet
hours, survey timing and clocks, and daylight-saving changes in their zone keep working."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from starlette.testclient import TestClient

from bot.app import create_app
from bot.config import BreatherConfig, load_config
from bot.errors import ConfigError
from tests.conftest import ROSTER, Harness, MakeSettings, hard_call
from tests.fakes.slack_api import FakeSlack
from tests.helpers import Clock, settled

TORONTO = ZoneInfo("America/Toronto")
BUCHAREST = ZoneInfo("Europe/Bucharest")
OFFICE = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "17:00"}


def own_hours_roster(tmp_path: Path, **ana: Any) -> Path:
    """The test roster with billing on office hours in Bucharest and Ana's own fields."""
    data = yaml.safe_load(ROSTER.read_text())
    billing = data["teams"][0]
    billing["shift"] = OFFICE
    billing["pulse"] = {"day": "mon", "at": "09:00", "instruments": ["burnout_single"], "every_weeks": 1}
    billing["agents"][0].update(ana)
    path = tmp_path / "roster.yml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def app_at(make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Any]:
    clients: list[TestClient] = []

    def start(moment: datetime, **ana: Any) -> tuple[Harness, Clock]:
        clock = Clock(moment)
        fake_slack.clock = clock.timestamp
        app = create_app(make_settings(config_path=own_hours_roster(tmp_path, **ana)), clock=clock)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return Harness(client, app.state.services, fake_slack), clock

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def ended(clock: Clock) -> str:
    return clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_agent_on_her_own_hours_is_checked_in_while_the_team_is_off(app_at: Any) -> None:
    # Monday 18:00 in Bucharest (the team's shift is over) is 11:00 in Toronto (Ana's).
    moment = datetime(2026, 11, 23, 18, 0, tzinfo=BUCHAREST).astimezone(UTC)
    harness, clock = app_at(moment, timezone="America/Toronto", shift=OFFICE)
    harness.post_event(hard_call(ended_at=ended(clock)))
    harness.post_event(hard_call(agent_email="cris@example.com", ended_at=ended(clock)))
    post = harness.slack.wait_for("chat.postMessage")[0]
    settled(harness.services)
    assert [p.params["channel"] for p in harness.slack.calls("chat.postMessage")] == [post.params["channel"]]
    assert post.params["channel"] == "D0ANA"  # Cris, on the team's hours, is off shift


def test_an_agent_whose_own_shift_is_over_gets_no_checkin_while_the_team_works(app_at: Any) -> None:
    moment = datetime(2026, 11, 23, 11, 0, tzinfo=BUCHAREST).astimezone(UTC)  # 04:00 in Toronto
    harness, clock = app_at(moment, timezone="America/Toronto")  # the team's hours, Ana's zone
    harness.post_event(hard_call(ended_at=ended(clock)))
    settled(harness.services)
    assert harness.slack.calls("chat.postMessage") == []
    metrics = harness.client.get("/metrics").text
    assert "breather_hard_calls_total 1.0" in metrics  # judged hard, and held back (counted nowhere)


@pytest.mark.parametrize(
    ("moment", "sent"),
    [
        # 12:30 UTC is 08:30 in Toronto on summer time (Monday 26 October 2026) ...
        (datetime(2026, 10, 26, 12, 30, tzinfo=UTC), True),
        # ... and 07:30 after the clocks went back on Sunday 1 November: before her shift.
        (datetime(2026, 11, 2, 12, 30, tzinfo=UTC), False),
    ],
)
def test_own_hours_follow_daylight_saving_time_in_the_agents_zone(
    app_at: Any, moment: datetime, sent: bool
) -> None:
    harness, clock = app_at(moment, timezone="America/Toronto", shift=OFFICE)
    harness.post_event(hard_call(ended_at=ended(clock)))
    settled(harness.services)
    assert bool(harness.slack.calls("chat.postMessage")) is sent


def test_a_survey_invitation_waits_for_the_agents_own_shift_and_shows_her_clock(app_at: Any) -> None:
    # Opened at 01:00 on Monday in Bucharest: it closes at 01:00 on Thursday there, which is
    # still Wednesday evening in Toronto.
    harness, clock = app_at(
        datetime(2026, 11, 23, 1, 0, tzinfo=BUCHAREST).astimezone(UTC),
        timezone="America/Toronto",
        shift=OFFICE,
    )
    harness.services.survey_actions.start_round("billing")
    settled(harness.services)
    assert harness.slack.calls("chat.postMessage") == []  # nobody's shift has started
    clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=BUCHAREST).astimezone(UTC)  # 02:00 in Toronto
    harness.services.survey_actions.dispatch()
    team = harness.slack.wait_for("chat.postMessage", 4)
    settled(harness.services)
    assert "D0ANA" not in [p.params["channel"] for p in harness.slack.calls("chat.postMessage")]
    assert "Thursday" in json.dumps(team[0].params["blocks"])
    clock.now = datetime(2026, 11, 23, 8, 0, 30, tzinfo=TORONTO).astimezone(UTC)
    harness.services.survey_actions.dispatch()
    post = harness.slack.wait_for("chat.postMessage", 5)[-1]
    assert post.params["channel"] == "D0ANA"
    assert "Wednesday" in json.dumps(post.params["blocks"])


def test_an_agents_unknown_time_zone_is_refused_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(own_hours_roster(tmp_path, timezone="Mars/Olympus"))
    assert "teams[0].agents[0].timezone" in str(error.value) and "Mars/Olympus" in str(error.value)


def test_an_agents_own_shift_overrides_the_teams(tmp_path: Path) -> None:
    config: BreatherConfig = load_config(
        own_hours_roster(tmp_path, shift={"days": ["sat", "sun"], "start": "22:00", "end": "06:00"})
    )
    ana, bob = config.teams[0].agents[:2]
    assert ana.shift is not None and ana.shift.days == ["sat", "sun"]
    assert bob.shift is None and bob.timezone is None  # the team's
