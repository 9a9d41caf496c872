"""Snooze with a date and time off (issue 16, points 4 and 5): `/breather pause for 2 hours |
until Monday | until 2026-12-28`, `/breather away until …` and the App Home's choices, in
Slack, Teams and the console; the pause ends by itself and the agent is told once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from bot.app import create_app
from storage.db import session_scope
from storage.models import AgentPrefs, OutboxMessage, SurveyInvitation
from tests.conftest import Harness, MakeSettings, hard_call, teams_app
from tests.e2e.test_console import Console, console_client
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.helpers import Clock, action_ids, roster_with, settled
from tests.teams_harness import TeamsHarness, card_text

# Friday 4 December 2026, 14:30 in Bucharest (the test team's zone).
FRIDAY = datetime(2026, 12, 4, 12, 30, tzinfo=UTC)
BACK = "Welcome back: check-ins are on again"


@pytest.fixture
def slack_at(make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Any]:
    clients: list[TestClient] = []

    def start(moment: datetime, **teams: dict[str, Any]) -> tuple[Harness, Clock]:
        clock = Clock(moment)
        fake_slack.clock = clock.timestamp
        settings = make_settings(config_path=roster_with(tmp_path, teams=teams or None))
        app = create_app(settings, clock=clock)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return Harness(client, app.state.services, fake_slack), clock

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def say(harness: Harness, text: str, user_id: str = "U0ANA") -> str:
    response = harness.command(user_id=user_id, command="/breather", text=text)
    assert response.status_code == 200
    return str(response.json()["text"])


def now_text(clock: Clock) -> str:
    return clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")


def dms_to(slack: FakeSlack, channel: str) -> list[str]:
    return [p.params["text"] for p in slack.calls("chat.postMessage") if p.params["channel"] == channel]


def test_a_pause_for_two_hours_ends_by_itself_and_the_agent_is_told_once(slack_at: Any) -> None:
    harness, clock = slack_at(FRIDAY)
    reply = say(harness, "pause for 2 hours")
    assert reply.startswith("Paused until Friday, 4 December at 16:30.")
    harness.post_event(hard_call(ended_at=now_text(clock)))
    settled(harness.services)
    assert harness.slack.calls("chat.postMessage") == []
    clock.advance(hours=2, seconds=1)
    # Over at its time, even before the job has run: a hard call now gets its check-in.
    harness.post_event(hard_call(ended_at=now_text(clock)))
    harness.slack.wait_for("chat.postMessage")
    assert harness.services.home.end_pauses() == 1
    harness.slack.wait_for("chat.postMessage", 2)
    assert harness.services.home.end_pauses() == 0
    settled(harness.services)
    assert [text.startswith(BACK) for text in dms_to(harness.slack, "D0ANA")] == [False, True]
    with session_scope(harness.services.engine) as session:
        prefs = session.exec(select(AgentPrefs)).one()
        assert not prefs.paused and prefs.paused_until is None


def test_the_note_that_checkins_are_back_waits_for_the_agents_shift(slack_at: Any) -> None:
    office = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "17:00"}
    harness, clock = slack_at(FRIDAY, billing={"shift": office})
    assert say(harness, "pause until Monday").startswith("Paused until Monday, 7 December.")
    clock.now = datetime(2026, 12, 6, 22, 0, 30, tzinfo=UTC)  # Monday 00:00:30 in Bucharest
    assert harness.services.home.end_pauses() == 1
    with session_scope(harness.services.engine) as session:
        (note,) = session.exec(select(OutboxMessage).where(col(OutboxMessage.kind) == "direct")).all()
        assert note.next_attempt_at == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 08:00, her shift
    clock.now = datetime(2026, 12, 7, 6, 0, 1, tzinfo=UTC)
    harness.services.outbox.wake.set()
    (post,) = harness.slack.wait_for("chat.postMessage")
    assert post.params["channel"] == "D0ANA" and post.params["text"].startswith(BACK)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("pause until blursday", 'I couldn\'t read "until blursday". Try `for 2 hours`'),
        ("pause until 2020-01-01", "That time has already passed."),
        ("away until 2099-01-01", "That's too far ahead: a pause can last up to 90 days."),
        ("away", "When are you back?"),
        ("away for ever", 'I couldn\'t read "for ever"'),
    ],
)
def test_bad_times_get_one_friendly_line_that_says_what_works(
    shared_harness: Harness, words: str, expected: str
) -> None:
    reply = say(shared_harness, words)
    assert reply.startswith(expected) and "\n" not in reply
    with session_scope(shared_harness.services.engine) as session:
        assert all(not prefs.paused for prefs in session.exec(select(AgentPrefs)))


def test_time_off_holds_back_checkins_and_survey_invitations_and_is_not_counted_invited(
    slack_at: Any,
) -> None:
    harness, clock = slack_at(FRIDAY, billing={"pulse": {"instruments": ["burnout_single"]}})
    reply = say(harness, "away until 2026-12-28")
    assert reply.startswith("Enjoy your time off.") and "until Monday, 28 December" in reply
    outcome = harness.services.survey_actions.start_round("billing")
    harness.slack.wait_for("chat.postMessage", 4)
    harness.post_event(hard_call(ended_at=now_text(clock)))
    settled(harness.services)
    assert dms_to(harness.slack, "D0ANA") == []
    counts = harness.services.survey_actions.round_counts(outcome.round.id)
    assert (counts.in_round, counts.invited) == (5, 4)
    with session_scope(harness.services.engine) as session:
        states = sorted(i.state for i in session.exec(select(SurveyInvitation)))
    assert states == ["expired", "sent", "sent", "sent", "sent"]  # closes before she is back


def test_the_app_home_offers_the_same_choices_and_shows_the_end(slack_at: Any) -> None:
    harness, _ = slack_at(FRIDAY)
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="home.pause_tomorrow", value="")
    home = harness.slack.wait_for("views.publish")[0].params["view"]
    assert "Check-ins are *paused* until Saturday, 5 December." in json.dumps(home)
    languages = ["home.language.en", "home.language.fa", "home.language.ro"]
    assert action_ids(home["blocks"]) == ["home.resume", "home.surveys_off", "home.buddy_on", *languages]
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="home.resume", value="")
    home = harness.slack.wait_for("views.publish", 2)[1].params["view"]
    assert action_ids(home["blocks"]) == [
        "home.pause",
        "home.pause_2h",
        "home.pause_tomorrow",
        "home.pause_monday",
        "home.surveys_off",
        "home.buddy_on",
        *languages,
    ]


def test_teams_pauses_with_a_date_from_the_chat_and_the_home_card(
    make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector
) -> None:
    clock = Clock(FRIDAY)
    app = teams_app(make_teams_settings(), fake_teams, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        teams = TeamsHarness(client, app.state.services, fake_teams)
        teams.install("ana@example.com")
        teams.say("ana@example.com", "breather away until 2026-12-28")
        assert "until Monday, 28 December" in card_text(fake_teams.wait_for("send")[0].card)
        teams.say("ana@example.com", "pause until someday")
        assert "couldn't read" in card_text(fake_teams.wait_for("send", 2)[1].card)
        answer = teams.click("ana@example.com", "home.pause_2h", reply_to=None)
        assert "Paused until Friday, 4 December at 16:30." in answer.text
        assert app.state.services.home.end_pauses() == 0
        clock.advance(hours=2, seconds=1)
        assert app.state.services.home.end_pauses() == 1
        assert BACK in card_text(fake_teams.wait_for("send", 3)[2].card)


def test_the_console_pauses_for_a_while_and_shows_the_end_on_home(
    make_settings: MakeSettings,
) -> None:
    settings = make_settings(messenger="sandbox", slack_bot_token=None, slack_signing_secret=None)
    app = create_app(settings, clock=Clock(FRIDAY))
    with console_client(app) as client:
        console = Console(client, app)
        ana = "ana@example.com"
        reply = console.post("command", ana, text="/breather pause for 3 days").json()["html"]
        assert "Paused until Monday, 7 December at 14:30." in reply
        console.post("home", ana)
        shown = "<strong>paused</strong> until Monday, 7 December at 14:30."
        console.wait_for(ana, lambda v: any(p["id"] == "home" and shown in p["html"] for p in v["panes"]))
