"""A survey round reads out-of-office statuses in bulk (bot/away.py): Slack's users.list pages
and Graph's getPresencesByUserId answer for a whole batch, so a big round is not paced by one
users.info call per person; a vacation status in the bulk answer still holds an invitation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from bot.app import create_app
from tests.conftest import ROSTER, Harness, MakeSettings
from tests.e2e.test_platform_away import THURSDAY, teams_office  # noqa: F401 - a fixture
from tests.fakes.graph_api import FakeGraph
from tests.fakes.slack_api import FakeSlack
from tests.helpers import Clock, settled
from tests.teams_harness import TeamsHarness

CROWD = 300


@pytest.fixture
def crowd(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> Iterator[tuple[Harness, Clock]]:
    """The billing team with CROWD more agents, each known to Slack."""
    data = yaml.safe_load(ROSTER.read_text())
    billing = next(team for team in data["teams"] if team["id"] == "billing")
    billing["pulse"] = {"day": "thu", "at": "10:00"}
    for n in range(CROWD):
        user_id, email = f"U1{n:04d}", f"agent{n}@example.com"
        billing["agents"].append({"email": email, "slack_user_id": user_id})
        fake_slack.add_user(user_id, email)
    roster = tmp_path / "roster.yml"
    roster.write_text(yaml.safe_dump(data))
    clock = Clock(THURSDAY)
    fake_slack.clock = clock.timestamp
    app = create_app(make_settings(config_path=roster), clock=clock)
    with TestClient(app) as client:
        yield Harness(client, app.state.services, fake_slack), clock


def test_a_big_slack_round_reads_statuses_a_page_at_a_time(crowd: tuple[Harness, Clock]) -> None:
    harness, clock = crowd
    closes = clock.now + timedelta(days=3)
    harness.slack.set_status("U10007", ":palm_tree:", expiration=(closes + timedelta(days=1)).timestamp())
    harness.slack.set_status("U0ANA", ":palm_tree:", expiration=(clock.now + timedelta(hours=2)).timestamp())
    outcome = harness.services.survey_actions.start_round("billing")
    settled(harness.services, timeout=60)
    counts = harness.services.survey_actions.round_counts(outcome.round.id)
    # Everyone is invited at once, but the two on holiday (Bob is matched by e-mail).
    assert (counts.in_round, counts.invited) == (CROWD + 5, CROWD + 3)
    assert harness.slack.messages("D10007") == [] and harness.slack.messages("D0ANA") == []
    assert 1 <= len(harness.slack.calls("users.list")) <= 6
    assert harness.slack.calls("users.info") == []
    clock.advance(hours=3)  # Ana is back; agent 7 is away until after the round closes
    harness.services.away.forget()
    harness.services.survey_actions.dispatch()
    settled(harness.services)
    assert len(harness.slack.messages("D0ANA")) == 1
    assert harness.slack.messages("D10007") == []


def test_a_rate_limited_bulk_read_holds_the_round_briefly(crowd: tuple[Harness, Clock]) -> None:
    harness, clock = crowd
    harness.slack.fail_next("users.list", 429, retry_after=30)
    outcome = harness.services.survey_actions.start_round("billing")
    settled(harness.services)
    assert harness.services.survey_actions.round_counts(outcome.round.id).invited == 0  # all wait
    assert harness.slack.calls("users.info") == []  # no one-by-one reads while Slack says wait


def test_a_teams_round_reads_presences_in_one_call(teams_office: Any) -> None:  # noqa: F811
    harness, graph, clock = teams_office
    assert isinstance(harness, TeamsHarness) and isinstance(graph, FakeGraph)
    ana = harness.user("ana@example.com")
    graph.set_presence(ana.aad, "OutOfOffice")
    outcome = harness.services.survey_actions.start_round("billing")
    settled(harness.services)
    assert harness.teams.calls("send", conversation=ana.conversation) == []
    assert harness.services.survey_actions.round_counts(outcome.round.id).invited == 4
    (bulk,) = [r for r in graph.requests("POST") if r.path.endswith("/getPresencesByUserId")]
    assert ana.aad in bulk.body["ids"] and bulk.headers["authorization"].startswith("Bearer ")
    assert [r for r in graph.requests("GET") if "presences" in r.path] == []  # none one by one


def test_checkins_read_statuses_one_by_one_never_in_bulk(crowd: tuple[Harness, Clock]) -> None:
    # A batch of hard calls for eight people not seen lately: users.list (Tier 2, paging through
    # the workspace) would be called all day long and soon refused, holding back survey rounds.
    harness, _ = crowd
    services = harness.services
    harness.slack.set_status("U10003", ":palm_tree:")
    people = [services.roster.find("email", f"agent{n}@example.com") for n in range(8)]
    services.checkins.look_up([agent.ref() for agent in people if agent is not None])
    assert harness.slack.calls("users.list") == []
    assert len(harness.slack.calls("users.info")) == 8
    assert all(services.away.known(agent.ref()) for agent in people if agent is not None)
    away = people[3]
    assert away is not None and services.away.away_until(away.ref(), datetime.now(UTC), ask=False)
