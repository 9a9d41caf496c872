"""The chat platform's own out-of-office signal (issue 16, point 4): a Slack status with a vacation
or sick emoji holds back check-ins, survey invitations and reminders until it ends; a round does
not count someone away for all of it as invited; a failing lookup never stops a message."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from starlette.testclient import TestClient

from bot.app import create_app
from bot.away import AwaySignals, PlatformStatus
from bot.config import load_config
from bot.errors import ConfigError, RateLimited
from bot.messenger import AgentRef
from tests.conftest import FakeApi, Harness, MakeSettings, hard_call, teams_app
from tests.e2e.test_buddies import ask_for_talk, buddies, say
from tests.e2e.test_recovery_talk import submit
from tests.fakes.graph_api import FakeGraph
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.helpers import Clock, roster_with, settled
from tests.teams_harness import APP_ID, TeamsHarness

BUCHAREST = ZoneInfo("Europe/Bucharest")
THURSDAY = datetime(2026, 12, 3, 10, tzinfo=BUCHAREST).astimezone(UTC)
ANA_DM = "D0ANA"  # the fake's conversations.open names a DM after the user id


@pytest.fixture
def office(make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Any]:
    clients: list[TestClient] = []

    def start(**settings: Any) -> tuple[Harness, Clock]:
        clock = Clock(THURSDAY)
        fake_slack.clock = clock.timestamp
        roster = roster_with(
            tmp_path, teams={"billing": {"pulse": {"day": "thu", "at": "10:00"}}}, **settings
        )
        app = create_app(make_settings(config_path=roster), clock=clock)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return Harness(client, app.state.services, fake_slack), clock

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def checkin_sent(harness: Harness, clock: Clock) -> bool:
    before = len(harness.slack.messages(ANA_DM))
    harness.post_event(hard_call(ended_at=clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")))
    settled(harness.services)
    return len(harness.slack.messages(ANA_DM)) > before


def test_a_vacation_status_holds_back_checkins_until_it_expires(office: Any) -> None:
    harness, clock = office()
    harness.slack.set_status("U0ANA", ":palm_tree:", expiration=(clock.now + timedelta(hours=1)).timestamp())
    assert not checkin_sent(harness, clock)
    assert harness.slack.calls("users.info")  # the status was read before the check-in would go
    clock.advance(hours=2)  # Slack has not cleared the status yet: its expiry is what counts
    assert checkin_sent(harness, clock)


def test_a_sick_status_without_an_end_lasts_until_it_changes(office: Any) -> None:
    harness, clock = office()
    harness.slack.set_status("U0ANA", ":face_with_thermometer::skin-tone-3:")
    assert not checkin_sent(harness, clock)
    clock.advance(days=3)
    assert not checkin_sent(harness, clock)  # still set: still away
    harness.slack.set_status("U0ANA", "")
    harness.services.away.forget()  # what Slack said is trusted for a few minutes
    assert checkin_sent(harness, clock)


def test_any_other_status_changes_nothing(office: Any) -> None:
    harness, clock = office()
    harness.slack.set_status(
        "U0ANA", ":spiral_calendar_pad:", expiration=(clock.now + timedelta(hours=1)).timestamp()
    )
    assert checkin_sent(harness, clock)


def test_the_emoji_list_is_the_teams_to_choose(office: Any) -> None:
    harness, clock = office(away_status_emoji=["sunflower"])
    harness.slack.set_status("U0ANA", ":palm_tree:")
    assert checkin_sent(harness, clock)
    harness.slack.set_status("U0ANA", ":sunflower:")
    harness.services.away.forget()
    clock.advance(hours=2)  # past the cooldown after the first check-in
    assert not checkin_sent(harness, clock)


def test_an_empty_emoji_list_turns_status_reads_off(office: Any) -> None:
    harness, clock = office(away_status_emoji=[])
    harness.slack.set_status("U0ANA", ":palm_tree:")
    assert checkin_sent(harness, clock)
    assert harness.slack.calls("users.info") == []


def test_a_failing_status_lookup_still_sends_and_is_logged_once_without_anyone(
    office: Any, caplog: pytest.LogCaptureFixture
) -> None:
    harness, clock = office()
    harness.slack.set_status("U0ANA", ":palm_tree:")
    harness.slack.fail_next("users.info", 500, times=5)
    with caplog.at_level(logging.INFO):
        assert checkin_sent(harness, clock)
    failures = [r for r in caplog.records if r.name == "bot.away"]
    assert len(failures) == 1 and failures[0].levelno == logging.WARNING
    text = failures[0].getMessage()
    assert "U0ANA" not in text and "ana" not in text.lower()


def test_survey_invitations_wait_out_a_status_and_the_round_does_not_count_someone_away_for_all_of_it(
    office: Any,
) -> None:
    harness, clock = office()
    closes = clock.now + timedelta(days=3)
    harness.slack.set_status("U0ANA", ":airplane:", expiration=(closes + timedelta(days=4)).timestamp())
    harness.slack.set_status("U0BOB", ":palm_tree:", expiration=(clock.now + timedelta(hours=2)).timestamp())
    outcome = harness.services.survey_actions.start_round("billing")
    settled(harness.services)
    counts = harness.services.survey_actions.round_counts(outcome.round.id)
    assert (counts.in_round, counts.invited) == (5, 3)  # Ana and Bob wait
    assert harness.slack.messages(ANA_DM) == [] and harness.slack.messages("D0BOB") == []
    clock.advance(hours=3)  # Bob is back; Ana is away until after the round closes
    harness.services.survey_actions.dispatch()
    settled(harness.services)
    assert len(harness.slack.messages("D0BOB")) == 1
    assert harness.slack.messages(ANA_DM) == []
    assert harness.services.survey_actions.round_counts(outcome.round.id).invited == 4


def test_a_rate_limited_lookup_holds_survey_invitations_briefly_but_never_a_checkin(office: Any) -> None:
    harness, clock = office()
    harness.slack.set_status("U0ANA", ":palm_tree:", expiration=(clock.now + timedelta(days=5)).timestamp())
    harness.slack.fail_next("users.list", 429, retry_after=1)  # a round's five are read in one call
    outcome = harness.services.survey_actions.start_round("billing")
    settled(harness.services)
    assert harness.services.survey_actions.round_counts(outcome.round.id).invited == 0  # all wait a moment
    assert checkin_sent(harness, clock)  # a check-in does not wait: it goes out unchecked
    time.sleep(1.1)  # Retry-After, on the lookups' own (real) clock
    clock.advance(seconds=2)
    harness.services.survey_actions.dispatch()
    settled(harness.services)
    assert harness.services.survey_actions.round_counts(outcome.round.id).invited == 4  # Ana is away
    assert len(harness.slack.messages(ANA_DM)) == 1  # the check-in only


def test_a_reminder_waits_while_someone_is_away(office: Any) -> None:
    harness, clock = office()
    harness.services.survey_actions.start_round("billing")
    settled(harness.services)
    assert len(harness.slack.messages(ANA_DM)) == 1
    harness.slack.set_status(
        "U0ANA", ":desert_island:", expiration=(clock.now + timedelta(days=2)).timestamp()
    )
    harness.services.away.forget()  # what Slack said at the invitation is trusted for a few minutes
    clock.advance(hours=25)  # the reminder is due
    harness.services.survey_actions.dispatch()
    settled(harness.services)
    assert len(harness.slack.messages(ANA_DM)) == 1
    clock.advance(days=1, hours=1)  # back, with the round still open
    harness.services.survey_actions.dispatch()
    settled(harness.services)
    assert len(harness.slack.messages(ANA_DM)) == 2


class Source:
    def __init__(self, status: PlatformStatus | None) -> None:
        self.status, self.asked = status, 0

    def status_of(self, to: AgentRef) -> PlatformStatus | None:
        self.asked += 1
        if self.status is None:
            raise TimeoutError("no answer")
        return self.status


ANA = AgentRef(agent_id="ana", email="ana@example.com")


def test_lookups_are_cached_and_paused_after_a_failure() -> None:
    now, ticks = THURSDAY, [0.0]
    source = Source(PlatformStatus(out_of_office=True))
    signals = AwaySignals(source, monotonic=lambda: ticks[0])
    assert signals.away_until(ANA, now) == now + timedelta(hours=4)  # no end: looked at again later
    assert signals.away_until(ANA, now) is not None and source.asked == 1
    ticks[0] = 301.0
    source.status = None  # the platform stops answering
    assert signals.away_until(ANA, now) is None and source.asked == 2
    assert signals.away_until(ANA, now) is None and source.asked == 2  # not asked again for a minute
    ticks[0] = 362.0
    source.status = PlatformStatus()
    assert signals.away_until(ANA, now) is None and source.asked == 3


def test_a_rate_limit_makes_waiting_messages_wait_and_others_go() -> None:
    now, ticks = THURSDAY, [0.0]
    source = Source(PlatformStatus(emoji=":palm_tree:"))
    signals = AwaySignals(source, emoji=[":palm_tree:"], monotonic=lambda: ticks[0])

    def limited(to: AgentRef) -> PlatformStatus | None:
        raise RateLimited("users.info: rate limited", 3.0)

    signals.source = type("Limited", (), {"status_of": staticmethod(limited)})()
    assert signals.hold_until(ANA, now) == (now + timedelta(seconds=3), False)
    assert signals.away_until(ANA, now) is None  # a check-in goes out
    ticks[0] = 1.0
    assert signals.hold_until(ANA, now) == (now + timedelta(seconds=2), False)  # not asked again
    ticks[0] = 3.5
    signals.source = source
    assert signals.hold_until(ANA, now) == (now + timedelta(hours=4), True)


def test_an_emoji_list_that_is_not_emoji_names_is_refused_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="away_status_emoji"):
        load_config(roster_with(tmp_path, away_status_emoji=["palm tree!"]))


# --- Teams: presence "OutOfOffice" through Microsoft Graph -------------------------------------


@pytest.fixture
def teams_office(
    make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector, fake_api: FakeApi, tmp_path: Path
) -> Iterator[tuple[TeamsHarness, FakeGraph, Clock]]:
    graph: FakeGraph = fake_api(FakeGraph, app_id=APP_ID)
    pulse = {"billing": {"pulse": {"day": "thu", "at": "10:00"}}}
    settings = make_teams_settings(
        config_path=roster_with(tmp_path, teams=pulse), teams_presence=True, teams_graph_url=graph.url
    )
    clock = Clock(THURSDAY)
    app = teams_app(settings, fake_teams, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        harness = TeamsHarness(client, app.state.services, fake_teams)
        for email in ("ana@example.com", "bob@example.com", "cris@example.com"):
            harness.install(email)
        yield harness, graph, clock


def teams_checkin_sent(harness: TeamsHarness, clock: Clock) -> bool:
    chat = harness.user("ana@example.com").conversation
    before = len(harness.teams.calls("send", conversation=chat))
    harness.post_event(hard_call(ended_at=clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")))
    settled(harness.services)
    return len(harness.teams.calls("send", conversation=chat)) > before


@pytest.mark.parametrize("signal", ["activity", "settings"])
def test_teams_out_of_office_holds_back_a_checkin_until_it_ends(teams_office: Any, signal: str) -> None:
    harness, graph, clock = teams_office
    ana = harness.user("ana@example.com")
    if signal == "activity":
        graph.set_presence(ana.aad, "OutOfOffice")
    else:  # an out-of-office window in Outlook, while Teams shows them Available
        graph.set_presence(ana.aad, "Available", out_of_office=True)
    assert not teams_checkin_sent(harness, clock)
    (asked,) = [r for r in graph.requests("GET") if "presences" in r.path]
    assert asked.path == f"/v1.0/communications/presences/{ana.aad}"
    assert asked.headers["authorization"].startswith("Bearer ey")
    graph.set_presence(ana.aad, "Available")
    harness.services.away.forget()
    clock.advance(hours=1)
    assert teams_checkin_sent(harness, clock)


def test_teams_presence_away_or_busy_is_not_out_of_office(teams_office: Any) -> None:
    harness, graph, clock = teams_office
    graph.set_presence(harness.user("ana@example.com").aad, "Away")
    assert teams_checkin_sent(harness, clock)


def test_teams_survey_round_does_not_count_someone_out_of_office(teams_office: Any) -> None:
    harness, graph, clock = teams_office
    ana = harness.user("ana@example.com")
    graph.set_presence(ana.aad, "OutOfOffice")
    outcome = harness.services.survey_actions.start_round("billing")
    settled(harness.services)
    assert harness.teams.calls("send", conversation=ana.conversation) == []
    invited_first = harness.services.survey_actions.round_counts(outcome.round.id).invited
    assert invited_first == 4  # everyone but Ana
    clock.advance(days=4)  # still out of office when the round closes
    harness.services.survey_actions.dispatch()
    settled(harness.services)
    assert harness.teams.calls("send", conversation=ana.conversation) == []
    assert harness.services.survey_actions.round_counts(outcome.round.id).invited == invited_first


@pytest.mark.parametrize("failure", ["permission", "outage", "throttled"])
def test_a_failing_graph_still_sends(
    teams_office: Any, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    harness, graph, clock = teams_office
    graph.set_presence(harness.user("ana@example.com").aad, "OutOfOffice")
    if failure == "permission":
        graph.refuse_presence()
    elif failure == "outage":
        graph.fail_next("GET", 503, times=3)
    else:
        graph.fail_next("GET", 429, retry_after=1)
    with caplog.at_level(logging.WARNING):
        assert teams_checkin_sent(harness, clock)
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "bot.away"]
    assert ("RateLimited" if failure == "throttled" else "GraphError") in warning
    assert "ana" not in warning.lower()


__all__ = ["buddies"]  # a fixture, used below


def test_a_buddy_on_holiday_is_not_asked(buddies: Harness) -> None:
    say(buddies, "U0CRIS", "buddy on")
    say(buddies, "U0DANA", "buddy on")
    buddies.slack.add_user("U0DANA", "dana@example.com")
    buddies.slack.set_status("U0DANA", ":palm_tree:")
    checkin_id, _ = ask_for_talk(buddies, "U0ANA", "ana@example.com")
    submit(buddies, checkin_id, "buddy:any")
    settled(buddies.services)
    assert buddies.slack.messages("D0CRIS") and not buddies.slack.messages("D0DANA")


def test_the_slack_manifest_grants_the_scope_status_reads_need() -> None:
    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())
    assert "users:read" in manifest["oauth_config"]["scopes"]["bot"]  # users.info carries the status


def test_one_by_one_lookups_are_made_side_by_side() -> None:
    # Three people wanted at once are asked at the same time: each answer waits until all
    # three questions are in flight, so one at a time would never finish.
    together = threading.Barrier(3, timeout=10)

    class Slow:
        def status_of(self, to: AgentRef) -> PlatformStatus | None:
            together.wait()
            return PlatformStatus(emoji=":palm_tree:" if to.agent_id == "b" else "")

    signals = AwaySignals(Slow(), emoji=[":palm_tree:"])
    people = [AgentRef(agent_id=name, email=f"{name}@example.com") for name in "abc"]
    signals.look_up(people, bulk=False)
    assert [signals.away_until(to, THURSDAY, ask=False) is not None for to in people] == [False, True, False]


def test_two_askers_at_once_about_one_person_share_one_read() -> None:
    # A check-in's status read ahead of its batch, and the batch asking too before it is
    # done: the platform is asked once and both get its answer.
    reading, answer = threading.Event(), threading.Event()
    source = Source(PlatformStatus(emoji=":palm_tree:"))
    status_of = source.status_of

    def slow(to: AgentRef) -> PlatformStatus | None:
        reading.set()
        answer.wait(10)
        return status_of(to)

    source.status_of = slow  # type: ignore[method-assign]
    signals = AwaySignals(source, emoji=[":palm_tree:"])
    first = threading.Thread(target=signals.look_up, args=([ANA],))
    first.start()
    assert reading.wait(5)
    second = threading.Thread(target=signals.look_up, args=([ANA],))
    second.start()
    time.sleep(0.05)  # the second asker is waiting, not reading
    answer.set()
    first.join(5)
    second.join(5)
    assert source.asked == 1
    assert signals.away_until(ANA, THURSDAY, ask=False) is not None
