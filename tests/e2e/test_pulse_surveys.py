"""Pulse surveys end to end: rounds, invitations at sane times, the modal, reminders, opt-out."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from apscheduler.triggers.base import BaseTrigger
from sqlmodel import col, select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from bot.app import create_app, make_messenger
from bot.checkins.policy import in_shift
from bot.cli import app as cli
from bot.config import Settings, load_config
from bot.container import Services
from bot.scheduler import JobSpec
from handlers.sandbox.interactions import block_actions_body, choices_submission_body, signed_headers
from storage.db import make_engine, session_scope, upgrade
from storage.models import Checkin, SurveyAnswer, SurveyInvitation, SurveyRound
from tests.conftest import PSEUDONYM_KEY, ROSTER, SIGNING_SECRET, Harness, MakeSettings
from tests.fakes.slack_api import FakeSlack
from tests.helpers import Clock as Clock  # still importable from here, as other tests did
from tests.helpers import action_ids, button_values, roster_with, settled

BUCHAREST = ZoneInfo("Europe/Bucharest")
# Thursday 26 November 2026, 14:00 in Bucharest: the default round time.
T0 = datetime(2026, 11, 26, 14, 0, tzinfo=BUCHAREST).astimezone(UTC)
WHO5_OK = {"who5_1": "3", "who5_2": "3", "who5_3": "2", "who5_4": "2", "who5_5": "3"}  # raw 13 -> 52
WHO5_LOW = {"who5_1": "3", "who5_2": "2", "who5_3": "2", "who5_4": "2", "who5_5": "3"}  # raw 12 -> 48


@dataclass
class SurveyHarness(Harness):
    clock: Clock

    def open(self, user_id: str, invitation: str, ts: str = "1.5") -> Any:
        body = block_actions_body(
            user_id=user_id,
            channel=f"D{user_id[1:]}",
            ts=ts,
            action_id="pulse.open",
            value=invitation,
            block_id="pulse",
        )
        return self.client.post(
            "/slack/events",
            content=body,
            headers=signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded"),
        )

    def button(self, user_id: str, action_id: str, invitation: str) -> Any:
        body = block_actions_body(
            user_id=user_id,
            channel=f"D{user_id[1:]}",
            ts="1.5",
            action_id=action_id,
            value=invitation,
            block_id="pulse",
        )
        return self.client.post(
            "/slack/events",
            content=body,
            headers=signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded"),
        )

    def submit(self, user_id: str, context: str, values: dict[str, str]) -> Any:
        body = choices_submission_body(
            user_id=user_id, callback_id="pulse.survey", private_metadata=context, values=values
        )
        return self.client.post(
            "/slack/events",
            content=body,
            headers=signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded"),
        )

    def invitations(self) -> dict[str, str]:
        """DM channel -> invitation id, from what the fake Slack received."""
        found = {}
        for post in self.slack.calls("chat.postMessage"):
            if "pulse.open" in action_ids(post.params["blocks"]):
                found[post.params["channel"]] = next(iter(button_values(post.params["blocks"])))
        return found


PULSE_TEAMS: dict[str, dict[str, Any]] = {
    "billing": {"pulse": {"instruments": ["who5", "burnout_single"]}},
    "nights": {"pulse": {"day": "mon", "at": "23:00", "instruments": ["cbi_client"]}},
}


@contextmanager
def running(settings: Settings, fake_slack: FakeSlack, clock: Clock) -> Iterator[SurveyHarness]:
    """The real app on `settings`' database, started and, on leaving, stopped (as a process is)."""
    engine = make_engine(settings.database_url)
    services = Services(settings, engine, make_messenger(settings, engine), clock=clock)
    app = create_app(settings, services=services)
    try:
        with TestClient(app) as client:
            yield SurveyHarness(client, services, fake_slack, clock)
    finally:
        engine.dispose()


@pytest.fixture
def surveys(make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[SurveyHarness]:
    settings = make_settings(config_path=roster_with(tmp_path, teams=PULSE_TEAMS))
    with running(settings, fake_slack, Clock(T0)) as harness:
        yield harness


def test_a_round_invites_every_agent_once_and_a_repeat_invites_nobody(surveys: SurveyHarness) -> None:
    outcome = surveys.services.survey_actions.start_round("billing")
    assert outcome.created and outcome.round.invited == 5
    surveys.slack.wait_for("chat.postMessage", 5)
    settled(surveys.services)
    post = surveys.slack.calls("chat.postMessage")[0]
    assert action_ids(post.params["blocks"]) == ["pulse.open", "pulse.skip", "pulse.opt_out"]
    assert "groups of 5 or more" in json.dumps(post.params["blocks"])  # who can see what, in one line
    again = surveys.services.survey_actions.start_round("billing")
    assert not again.created
    surveys.services.survey_actions.dispatch()
    settled(surveys.services)
    assert len(surveys.slack.calls("chat.postMessage")) == 5


def test_start_opens_the_modal_and_the_answers_are_scored_under_a_pseudonym(surveys: SurveyHarness) -> None:
    surveys.services.survey_actions.start_round("billing")
    surveys.slack.wait_for("chat.postMessage", 5)
    invitation = surveys.invitations()["D0ANA"]
    assert surveys.open("U0ANA", invitation).status_code == 200
    view = surveys.slack.wait_for("views.open")[0].params["view"]
    assert view["callback_id"] == "pulse.survey"
    fields = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert fields == ["who5_1", "who5_2", "who5_3", "who5_4", "who5_5", "burnout_single_1"]
    assert "I have felt cheerful and in good spirits" in json.dumps(view)

    answer = surveys.submit("U0ANA", view["private_metadata"], {**WHO5_LOW, "burnout_single_1": "3"})
    assert answer.status_code == 200
    reply = answer.json()
    assert reply["response_action"] == "update"
    assert "shared after the round closes on Sunday, 29 November" in json.dumps(reply["view"])
    with session_scope(surveys.services.engine) as session:
        rows = {a.instrument: a for a in session.exec(select(SurveyAnswer))}
        ana = surveys.services.roster.find("email", "ana@example.com")
        assert ana is not None
        assert rows["who5"].score == 48 and rows["who5"].flagged and rows["who5"].pseudonym == ana.pseudonym
        assert rows["burnout_single"].score == 3 and rows["burnout_single"].flagged
        assert rows["who5"].instrument_version == "1"
        assert session.exec(select(SurveyRound)).one().responded == 1
    update = surveys.slack.wait_for("chat.update")[0]
    assert update.params["channel"] == "D0ANA" and action_ids(update.params["blocks"]) == []
    home = surveys.slack.wait_for("views.publish")[-1].params
    assert home["user_id"] == "U0ANA"
    assert "*48* out of 100" in json.dumps(home["view"]) and "low side" in json.dumps(home["view"])


def test_an_incomplete_form_gets_field_errors_and_stores_nothing(surveys: SurveyHarness) -> None:
    surveys.services.survey_actions.start_round("billing")
    surveys.slack.wait_for("chat.postMessage", 5)
    surveys.open("U0ANA", surveys.invitations()["D0ANA"])
    view = surveys.slack.wait_for("views.open")[0].params["view"]
    partial = {k: v for k, v in WHO5_OK.items() if k != "who5_3"} | {"burnout_single_1": "9"}
    reply = surveys.submit("U0ANA", view["private_metadata"], partial).json()
    assert reply == {
        "response_action": "errors",
        "errors": {"who5_3": "Please choose an answer.", "burnout_single_1": "Please choose an answer."},
    }
    with session_scope(surveys.services.engine) as session:
        assert session.exec(select(SurveyAnswer)).all() == []


def test_someone_else_cannot_answer_or_open_your_invitation(surveys: SurveyHarness) -> None:
    surveys.services.survey_actions.start_round("billing")
    surveys.slack.wait_for("chat.postMessage", 5)
    surveys.open("U0CRIS", surveys.invitations()["D0ANA"])
    settled(surveys.services)
    assert surveys.slack.calls("views.open") == []


def test_one_reminder_after_a_day_to_non_responders_only(surveys: SurveyHarness) -> None:
    surveys.services.survey_actions.start_round("billing")
    surveys.slack.wait_for("chat.postMessage", 5)
    invitations = surveys.invitations()
    surveys.open("U0ANA", invitations["D0ANA"])
    view = surveys.slack.wait_for("views.open")[0].params["view"]
    surveys.submit("U0ANA", view["private_metadata"], {**WHO5_OK, "burnout_single_1": "1"})
    surveys.button("U0CRIS", "pulse.skip", invitations["D0CRIS"])
    surveys.clock.advance(hours=23)
    surveys.services.survey_actions.dispatch()
    settled(surveys.services)
    assert len(surveys.slack.calls("chat.postMessage")) == 5  # not yet
    surveys.clock.advance(hours=2)
    surveys.services.survey_actions.dispatch()
    surveys.slack.wait_for("chat.postMessage", 8)
    settled(surveys.services)
    reminded = [p.params["channel"] for p in surveys.slack.calls("chat.postMessage")[5:]]
    assert sorted(reminded) == ["D0BOB", "D0DANA", "D0EMIL"]  # not Ana (answered), not Cris (not now)
    assert "gentle reminder" in surveys.slack.calls("chat.postMessage")[5].params["text"]
    surveys.clock.advance(hours=24)
    surveys.services.survey_actions.dispatch()
    settled(surveys.services)
    assert len(surveys.slack.calls("chat.postMessage")) == 8  # only one reminder, ever
    surveys.clock.advance(days=3)  # the round has closed: a late answer is refused kindly
    surveys.open("U0DANA", invitations["D0DANA"])
    update = surveys.slack.wait_for("chat.update", 3)[-1]
    assert "has closed" in update.params["text"]


def test_reminders_held_back_never_crowd_out_the_ones_due(surveys: SurveyHarness) -> None:
    """With small batches, paused agents' reminders (held back) must not fill every batch."""
    services = surveys.services
    services.survey_actions.start_round("billing")
    surveys.slack.wait_for("chat.postMessage", 5)
    for user in ("U0ANA", "U0BOB", "U0CRIS"):
        assert "Paused" in surveys.command(user_id=user, command="/breather", text="pause").text
    surveys.clock.advance(hours=25)
    for _ in range(3):  # a batch of two at a time, each in its own transaction
        with session_scope(services.engine) as session:
            services.surveys.dispatch(session, roster=services.roster, now=surveys.clock(), limit=2)
    surveys.slack.wait_for("chat.postMessage", 7)
    settled(services)
    reminded = [p.params["channel"] for p in surveys.slack.calls("chat.postMessage")[5:]]
    assert sorted(reminded) == ["D0DANA", "D0EMIL"]


def test_stop_asking_me_withdraws_and_resume_turns_surveys_back_on(surveys: SurveyHarness) -> None:
    surveys.services.survey_actions.start_round("billing")
    surveys.slack.wait_for("chat.postMessage", 5)
    surveys.button("U0ANA", "pulse.opt_out", surveys.invitations()["D0ANA"])
    update = surveys.slack.wait_for("chat.update")[0]
    assert "no more pulse check-ins" in update.params["text"]
    surveys.clock.advance(hours=25)
    surveys.services.survey_actions.dispatch()
    settled(surveys.services)
    assert "D0ANA" not in [p.params["channel"] for p in surveys.slack.calls("chat.postMessage")[5:]]
    reply = surveys.command(user_id="U0ANA", command="/breather", text="resume")
    assert "pulse check-ins are on" in reply.text


def test_off_shift_invitations_wait_for_the_next_shift(surveys: SurveyHarness) -> None:
    toronto = ZoneInfo("America/Toronto")
    surveys.clock.now = datetime(2026, 11, 23, 12, 0, tzinfo=toronto).astimezone(UTC)  # Monday noon
    outcome = surveys.services.survey_actions.start_round("nights")
    assert outcome.created
    settled(surveys.services)
    assert surveys.slack.calls("chat.postMessage") == []  # Nora works 22:00-06:00
    surveys.clock.now = datetime(2026, 11, 23, 22, 0, 30, tzinfo=toronto).astimezone(UTC)
    surveys.services.survey_actions.dispatch()
    post = surveys.slack.wait_for("chat.postMessage")[0]
    assert post.params["channel"] == "D0NORA"


def test_an_agent_who_just_had_a_hard_call_checkin_is_invited_an_hour_later(surveys: SurveyHarness) -> None:
    ana = surveys.services.roster.find("email", "ana@example.com")
    assert ana is not None
    with session_scope(surveys.services.engine) as session:
        from storage.models import Call

        call = Call(
            provider="generic",
            call_id="c1",
            team_id="billing",
            pseudonym=ana.pseudonym,
            kid=ana.kid,
            ended_at=T0 - timedelta(minutes=10),
        )
        session.add(call)
        session.flush()
        session.add(
            Checkin(
                id="chk1",
                call_id=call.id or 0,
                team_id="billing",
                pseudonym=ana.pseudonym,
                kid=ana.kid,
                created_at=T0 - timedelta(minutes=10),
            )
        )
    surveys.services.survey_actions.start_round("billing")
    surveys.slack.wait_for("chat.postMessage", 4)
    settled(surveys.services)
    assert "D0ANA" not in surveys.invitations()
    surveys.clock.advance(minutes=51)
    surveys.services.survey_actions.dispatch()
    surveys.slack.wait_for("chat.postMessage", 5)
    assert "D0ANA" in surveys.invitations()
    with session_scope(surveys.services.engine) as session:
        assert {i.state for i in session.exec(select(SurveyInvitation))} == {"sent"}


def test_scheduled_rounds_run_every_other_week_at_local_time_across_dst(surveys: SurveyHarness) -> None:
    jobs = {job.id: job for job in surveys.services.jobs()}
    assert {"pulse:billing", "pulse:nights", "pulse-dispatch", "purge"} <= set(jobs)
    trigger = jobs["pulse:billing"].trigger
    before_dst_end = datetime(2026, 10, 20, tzinfo=UTC)
    first = trigger.get_next_fire_time(None, before_dst_end)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    assert first is not None and second is not None
    # Thursdays at 14:00 in Bucharest on both sides of the clock change (25 October 2026).
    assert [t.astimezone(BUCHAREST).strftime("%a %H:%M %z") for t in (first, second)] == [
        "Thu 14:00 +0300",
        "Thu 14:00 +0200",
    ]
    team = surveys.services.config.team("billing")
    assert surveys.services.surveys.due_now(team, first) != surveys.services.surveys.due_now(team, second)


NEW_YORK = ZoneInfo("America/New_York")
TEHRAN = ZoneInfo("Asia/Tehran")
WEEKDAYS_MON_FRI = ["mon", "tue", "wed", "thu", "fri"]


def scheduled_jobs(settings: Settings) -> dict[str, JobSpec]:
    """The jobs exactly as a starting process schedules them (nothing is run)."""
    engine = make_engine(settings.database_url)
    try:
        services = Services(settings, engine, make_messenger(settings, engine))
        return {job.id: job for job in services.jobs()}
    finally:
        engine.dispose()


def fire_times(trigger: BaseTrigger, after: datetime, count: int) -> list[datetime]:
    """The trigger's next `count` fire times after `after`, as APScheduler computes them."""
    times: list[datetime] = []
    previous: datetime | None = None
    now = after
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        times.append(fire)
        # Step on in UTC: adding to a local time in a repeated hour would step back an hour.
        previous, now = fire, fire.astimezone(UTC) + timedelta(seconds=1)
    return times


def local(moments: list[datetime], zone: ZoneInfo) -> list[str]:
    # Through UTC: astimezone() to a datetime's own zone would return it unchanged, even a
    # wall time that does not exist.
    return [m.astimezone(UTC).astimezone(zone).strftime("%a %d %b %H:%M %z") for m in moments]


def utc(moments: list[datetime]) -> list[str]:
    return [m.astimezone(UTC).strftime("%d %b %H:%M") for m in moments]


def test_new_york_rounds_open_at_14_00_local_inside_the_shift_across_both_clock_changes(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    day_shift = {"days": WEEKDAYS_MON_FRI, "start": "08:00", "end": "17:00"}
    teams = {"billing": {"timezone": "America/New_York", "shift": day_shift, "pulse": {}}}
    settings = make_settings(config_path=roster_with(tmp_path, teams=teams))
    trigger = scheduled_jobs(settings)["pulse:billing"].trigger
    # Clocks go forward on Sunday 8 March 2026 and back on Sunday 1 November 2026.
    spring = fire_times(trigger, datetime(2026, 3, 1, tzinfo=UTC), 2)
    autumn = fire_times(trigger, datetime(2026, 10, 26, tzinfo=UTC), 2)
    assert local(spring + autumn, NEW_YORK) == [
        "Thu 05 Mar 14:00 -0500",
        "Thu 12 Mar 14:00 -0400",
        "Thu 29 Oct 14:00 -0400",
        "Thu 05 Nov 14:00 -0500",
    ]
    assert utc(spring + autumn) == ["05 Mar 19:00", "12 Mar 18:00", "29 Oct 18:00", "05 Nov 19:00"]
    with running(settings, fake_slack, Clock(autumn[1])) as surveys:
        services = surveys.services
        team = services.config.team("billing")
        assert all(in_shift(team.shift, team.zone, t, timedelta(0)) for t in spring + autumn)
        # Every other week; the Thursday after each change is a round week.
        assert [services.surveys.due_now(team, t) for t in spring + autumn] == [False, True, False, True]
        # The job at 14:00 EST opens the round and the invitations go out then, not at the next shift.
        next(job for job in services.jobs() if job.id == "pulse:billing").func()
        surveys.slack.wait_for("chat.postMessage", 5)
        settled(services)
        with session_scope(services.engine) as session:
            round_ = session.exec(select(SurveyRound)).one()
            assert abs(round_.opened_at - autumn[1]) < timedelta(seconds=30)
            sent = [i.sent_at for i in session.exec(select(SurveyInvitation))]
        assert len(sent) == 5 and all(t is not None and t - autumn[1] < timedelta(minutes=1) for t in sent)


def test_a_night_round_in_new_yorks_repeated_hour_fires_twice_but_invites_once(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    night = {"days": ["sat", "sun"], "start": "22:00", "end": "06:00"}
    pulse = {"day": "sun", "at": "01:30", "instruments": ["cbi_client"], "every_weeks": 1}
    teams = {"nights": {"timezone": "America/New_York", "shift": night, "pulse": pulse}}
    settings = make_settings(config_path=roster_with(tmp_path, teams=teams))
    trigger = scheduled_jobs(settings)["pulse:nights"].trigger
    fires = fire_times(trigger, datetime(2026, 10, 31, 12, tzinfo=UTC), 3)
    # 01:30 happens twice on 1 November (EDT, then EST); APScheduler fires at both.
    assert local(fires, NEW_YORK) == [
        "Sun 01 Nov 01:30 -0400",
        "Sun 01 Nov 01:30 -0500",
        "Sun 08 Nov 01:30 -0500",
    ]
    assert utc(fires) == ["01 Nov 05:30", "01 Nov 06:30", "08 Nov 06:30"]
    with running(settings, fake_slack, Clock(fires[0])) as surveys:
        services = surveys.services
        team = services.config.team("nights")
        assert all(in_shift(team.shift, team.zone, t, timedelta(0)) for t in fires)
        job = next(j for j in services.jobs() if j.id == "pulse:nights")
        job.func()
        surveys.slack.wait_for("chat.postMessage")
        surveys.clock.now = fires[1]
        job.func()  # the same local time again, an hour later
        services.survey_actions.dispatch()
        settled(services)
        assert [p.params["channel"] for p in surveys.slack.calls("chat.postMessage")] == ["D0NORA"]
        with session_scope(services.engine) as session:
            assert len(session.exec(select(SurveyRound)).all()) == 1


def test_a_round_time_skipped_by_new_yorks_spring_change_still_opens_that_days_round(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    night = {"days": ["sat", "sun"], "start": "22:00", "end": "06:00"}
    pulse = {"day": "sun", "at": "02:30", "instruments": ["cbi_client"], "every_weeks": 1}
    teams = {"nights": {"timezone": "America/New_York", "shift": night, "pulse": pulse}}
    settings = make_settings(config_path=roster_with(tmp_path, teams=teams))
    fires = fire_times(scheduled_jobs(settings)["pulse:nights"].trigger, datetime(2026, 3, 7, tzinfo=UTC), 2)
    # 02:30 does not exist on 8 March (02:00 EST is 03:00 EDT): the job runs at 03:30 EDT
    # that morning rather than skipping the week, still inside the night shift.
    assert local(fires, NEW_YORK) == ["Sun 08 Mar 03:30 -0400", "Sun 15 Mar 02:30 -0400"]
    team = next(t for t in load_config(settings.config_path).teams if t.id == "nights")
    assert all(in_shift(team.shift, team.zone, t, timedelta(0)) for t in fires)


def test_tehran_rounds_stay_at_10_30_utc_all_year_since_iran_dropped_dst(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    # Iran abolished daylight saving time from 2022 (tzdata 2022b). Check what this machine's
    # tzdata says before relying on it: +03:30 in summer and winter alike.
    assert datetime(2026, 7, 1, 12, tzinfo=TEHRAN).utcoffset() == timedelta(hours=3, minutes=30), (
        "the installed tzdata predates 2022b and still has Iranian DST; update tzdata"
    )
    assert datetime(2021, 7, 1, 12, tzinfo=TEHRAN).utcoffset() == timedelta(hours=4, minutes=30)
    week = {"days": ["sat", "sun", "mon", "tue", "wed"], "start": "08:00", "end": "16:00"}
    pulse = {"day": "sun", "at": "14:00", "instruments": ["cbi_client"], "every_weeks": 1}
    teams = {"nights": {"timezone": "Asia/Tehran", "shift": week, "pulse": pulse}}
    settings = make_settings(config_path=roster_with(tmp_path, teams=teams))
    trigger = scheduled_jobs(settings)["pulse:nights"].trigger
    year = fire_times(trigger, datetime(2026, 1, 1, tzinfo=UTC), 52)  # every Sunday of 2026
    assert {" ".join(when.split()[::3]) for when in local(year, TEHRAN)} == {"Sun 14:00"}
    assert {when.split()[-1] for when in local(year, TEHRAN)} == {"+0330"}
    assert {when.split()[-1] for when in utc(year)} == {"10:30"}
    # That includes the Sundays after the dates Iran used to change its clocks (about 21 March
    # and 21 September); the same trigger still follows the old rule for a year when it applied.
    assert {"Sun 22 Mar 14:00 +0330", "Sun 27 Sep 14:00 +0330"} <= set(local(year, TEHRAN))
    back_then = fire_times(trigger, datetime(2021, 3, 15, tzinfo=UTC), 2)
    assert utc(back_then) == ["21 Mar 10:30", "28 Mar 09:30"]
    team = next(t for t in load_config(settings.config_path).teams if t.id == "nights")
    assert all(in_shift(team.shift, team.zone, t, timedelta(0)) for t in year)


def test_survey_send_command_is_idempotent_and_explains_errors(
    make_settings: MakeSettings, tmp_path: Path, database_url: str
) -> None:
    config = roster_with(tmp_path, teams={"billing": {"pulse": {}}})
    env = {
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_CONFIG": str(config),
        "DATABASE_URL": database_url,
        "BREATHER_MESSENGER": "sandbox",
    }
    # Ana paused Breather: her invitation waits, and the count says so instead of calling her invited.
    settings = make_settings(config_path=config)
    engine = make_engine(database_url)
    upgrade(engine)
    services = Services(settings, engine, make_messenger(settings, engine))
    services.sync()
    services.home.set_paused(services.roster.find("email", "ana@example.com"), True)  # type: ignore[arg-type]
    engine.dispose()
    runner = CliRunner()
    first = runner.invoke(cli, ["survey", "send", "--team", "billing"], env=env)
    assert first.exit_code == 0, first.output
    assert "pulse round for billing opened" in first.output
    assert "4 of 5 agent(s) invited now; 1 held back for now" in first.output
    again = runner.invoke(cli, ["survey", "send", "--team", "billing"], env=env)
    assert again.exit_code == 0 and "already opened" in again.output
    assert "nobody was invited again. So far 4 of 5 agent(s) invited; 1 held back" in again.output
    unknown = runner.invoke(cli, ["survey", "send", "--team", "sales"], env=env)
    assert unknown.exit_code == 1 and "no team 'sales'" in unknown.output
    no_pulse = runner.invoke(cli, ["survey", "send", "--team", "nights"], env=env)
    assert no_pulse.exit_code == 1 and "has no pulse: block" in no_pulse.output


# --- restarts and the fatigue window --------------------------------------------------------

# Thursday 3 December 2026, 14:00 in Bucharest: a round week for billing (every other week).
ROUND_DAY = datetime(2026, 12, 3, 14, 0, tzinfo=BUCHAREST).astimezone(UTC)
TORONTO = ZoneInfo("America/Toronto")


def invitations_per_channel(slack: FakeSlack) -> Counter[str]:
    return Counter(
        post.params["channel"]
        for post in slack.calls("chat.postMessage")
        if "pulse.open" in action_ids(post.params["blocks"]) and "reminder" not in post.params["text"]
    )


def round_job(surveys: SurveyHarness, team: str) -> JobSpec:
    return next(job for job in surveys.services.jobs() if job.id == f"pulse:{team}")


def test_a_restart_in_the_middle_of_a_round_invites_nobody_twice(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    settings = make_settings(config_path=roster_with(tmp_path, teams=PULSE_TEAMS))
    clock = Clock(ROUND_DAY)
    with running(settings, fake_slack, clock) as first:
        services = first.services
        team = services.config.team("billing")
        assert services.surveys.due_now(team, clock())
        billing = [agent for agent in services.roster.agents() if agent.team.id == "billing"]
        # The round is opened and one batch of two invitations goes out; then the process stops.
        with session_scope(services.engine) as session:
            services.surveys.start_round(session, team=team, agents=billing, now=clock())
        # Statuses are read outside the transaction (survey_actions.dispatch does it between batches).
        services.away.look_up(agent.ref() for agent in billing)
        with session_scope(services.engine) as session:
            services.surveys.dispatch(session, roster=services.roster, now=clock(), limit=2)
        first.slack.wait_for("chat.postMessage", 2)
        settled(services)
    assert sum(invitations_per_channel(fake_slack).values()) == 2

    clock.advance(minutes=3)
    with running(settings, fake_slack, clock) as second:  # a new process on the same database
        round_job(second, "billing").func()  # the round job runs again (a late start, a second serve)
        second.services.survey_actions.dispatch()
        second.slack.wait_for("chat.postMessage", 5)
        clock.advance(minutes=1)
        round_job(second, "billing").func()
        second.services.survey_actions.dispatch()
        settled(second.services)
        with session_scope(second.services.engine) as session:
            assert len(session.exec(select(SurveyRound)).all()) == 1
            assert {i.state for i in session.exec(select(SurveyInvitation))} == {"sent"}
    assert invitations_per_channel(fake_slack) == {
        "D0ANA": 1,
        "D0BOB": 1,
        "D0CRIS": 1,
        "D0DANA": 1,
        "D0EMIL": 1,
    }


@pytest.mark.parametrize(
    ("first_round", "close_after_days", "second_invitation"),
    [
        # `breather survey send` on a Friday morning, then the next period's scheduled round on
        # Thursday: the second invitation waits until Friday morning, a week after the first.
        (datetime(2026, 11, 27, 10, 0, tzinfo=BUCHAREST), 3, datetime(2026, 12, 4, 10, 0, tzinfo=BUCHAREST)),
        # The same in the afternoon with rounds open one day: the week is up only after the
        # second round has closed, so nobody is asked in it at all.
        (datetime(2026, 11, 27, 16, 0, tzinfo=BUCHAREST), 1, None),
    ],
)
def test_a_second_round_within_a_week_delays_the_invitation_instead_of_sending_it(
    make_settings: MakeSettings,
    fake_slack: FakeSlack,
    tmp_path: Path,
    first_round: datetime,
    close_after_days: int,
    second_invitation: datetime | None,
) -> None:
    teams = {"billing": {"pulse": {"close_after_days": close_after_days}}}
    settings = make_settings(config_path=roster_with(tmp_path, teams=teams))
    with running(settings, fake_slack, Clock(first_round.astimezone(UTC))) as surveys:
        services = surveys.services
        assert services.survey_actions.start_round("billing").created
        surveys.slack.wait_for("chat.postMessage", 5)
        settled(services)
        surveys.clock.now = ROUND_DAY
        round_job(surveys, "billing").func()  # the next period's round opens on schedule...
        settled(services)
        assert invitations_per_channel(surveys.slack).most_common(1)[0][1] == 1  # ...and asks nobody yet
        with session_scope(services.engine) as session:
            rounds = session.exec(select(SurveyRound).order_by(col(SurveyRound.opened_at))).all()
            assert len(rounds) == 2
            second_round = rounds[1]
        if second_invitation is None:
            surveys.clock.now = second_round.closes_at + timedelta(hours=1)
            services.survey_actions.dispatch()
            settled(services)
            assert sum(invitations_per_channel(surveys.slack).values()) == 5
            with session_scope(services.engine) as session:
                late = session.exec(
                    select(SurveyInvitation).where(col(SurveyInvitation.round_id) == second_round.id)
                ).all()
                assert {i.state for i in late} == {"expired"}
            return
        surveys.clock.now = second_invitation.astimezone(UTC) - timedelta(minutes=1)
        services.survey_actions.dispatch()
        settled(services)
        assert sum(invitations_per_channel(surveys.slack).values()) == 5
        surveys.clock.now = second_invitation.astimezone(UTC) + timedelta(seconds=30)
        services.survey_actions.dispatch()
        surveys.slack.wait_for("chat.postMessage", 10)
        settled(services)
        assert set(invitations_per_channel(surveys.slack).values()) == {2}
        with session_scope(services.engine) as session:
            sent: dict[str, list[datetime]] = {}
            for invitation in session.exec(select(SurveyInvitation)):
                assert invitation.sent_at is not None
                sent.setdefault(invitation.pseudonym, []).append(invitation.sent_at)
        assert all(abs(b - a) >= timedelta(days=7) for a, b in sent.values())


def test_an_agent_who_moves_team_is_not_asked_again_within_the_week_for_other_instruments(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Ana is asked the WHO-5 with billing, then moves to the night desk, which asks the CBI:
    the night desk's round asks her only once a week has passed since billing's invitation."""
    first = make_settings(config_path=roster_with(tmp_path, teams=PULSE_TEAMS))
    clock = Clock(T0)
    with running(first, fake_slack, clock) as surveys:
        surveys.services.survey_actions.start_round("billing")
        surveys.slack.wait_for("chat.postMessage", 5)
        settled(surveys.services)

    roster = yaml.safe_load(ROSTER.read_text())
    billing_agents, night_agents = (team["agents"] for team in roster["teams"])
    ana = next(agent for agent in billing_agents if agent["email"] == "ana@example.com")
    moved = {
        "billing": {**PULSE_TEAMS["billing"], "agents": [a for a in billing_agents if a is not ana]},
        "nights": {**PULSE_TEAMS["nights"], "agents": [*night_agents, ana]},
    }
    (tmp_path / "moved").mkdir()
    second = make_settings(config_path=roster_with(tmp_path / "moved", teams=moved))
    clock.now = datetime(2026, 11, 30, 23, 0, tzinfo=TORONTO).astimezone(UTC)  # nights' Monday 23:00
    with running(second, fake_slack, clock) as surveys:
        round_job(surveys, "nights").func()
        surveys.slack.wait_for("chat.postMessage", 6)
        settled(surveys.services)
        assert invitations_per_channel(surveys.slack)["D0NORA"] == 1
        assert invitations_per_channel(surveys.slack)["D0ANA"] == 1  # billing's, last Thursday
        clock.now = T0 + timedelta(days=7) - timedelta(minutes=1)
        surveys.services.survey_actions.dispatch()
        settled(surveys.services)
        assert invitations_per_channel(surveys.slack)["D0ANA"] == 1
        # A week on, at the start of her next night shift (before the round closes), she is asked.
        clock.now = datetime(2026, 12, 3, 22, 0, 30, tzinfo=TORONTO).astimezone(UTC)
        surveys.services.survey_actions.dispatch()
        surveys.slack.wait_for("chat.postMessage", 7)
        settled(surveys.services)
        assert invitations_per_channel(surveys.slack)["D0ANA"] == 2
        surveys.open("U0ANA", surveys.invitations()["D0ANA"])
        view = surveys.slack.wait_for("views.open")[0].params["view"]
        assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"][0] == "cbi_client_1"


# --- the agent's Home tab: support resources for them only ------------------------------------

SUPPORT = {"name": "Employee assistance line", "contact": "0800 123 456", "note": "Free and confidential."}
WHO5_SEVERE = {"who5_1": "1", "who5_2": "2", "who5_3": "1", "who5_4": "2", "who5_5": "1"}  # raw 7 -> 28


def answer_round(surveys: SurveyHarness, answers: dict[str, dict[str, str]]) -> None:
    """Each agent (Slack id -> WHO-5 answers) opens their latest invitation and submits it."""
    invitations = surveys.invitations()
    for user, who5 in answers.items():
        opened = len(surveys.slack.calls("views.open"))
        surveys.open(user, invitations[f"D{user[1:]}"])
        view = surveys.slack.wait_for("views.open", opened + 1)[-1].params["view"]
        reply = surveys.submit(user, view["private_metadata"], {**who5, "burnout_single_1": "1"})
        assert reply.json()["response_action"] == "update"
    settled(surveys.services)


def latest_home(surveys: SurveyHarness, user: str) -> str:
    published = [c for c in surveys.slack.calls("views.publish") if c.params["user_id"] == user]
    assert published, f"no Home tab was published for {user}"
    return json.dumps(published[-1].params["view"])


def test_the_home_tab_offers_support_only_to_an_agent_whose_own_latest_who5_is_low(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.add_user("U0RADU", "radu@example.com")  # billing's lead, not an agent
    config = roster_with(tmp_path, teams=PULSE_TEAMS, support_resources=[SUPPORT])
    with running(make_settings(config_path=config), fake_slack, Clock(T0)) as surveys:
        surveys.services.survey_actions.start_round("billing")
        surveys.slack.wait_for("chat.postMessage", 5)
        answer_round(surveys, {"U0ANA": WHO5_SEVERE, "U0DANA": WHO5_LOW, "U0CRIS": WHO5_OK})
        ana, dana, cris = (latest_home(surveys, user) for user in ("U0ANA", "U0DANA", "U0CRIS"))
        assert "*28* out of 100" in ana and "Please consider reaching out for support" in ana  # <= 28
        assert "*48* out of 100" in dana and "on the low side" in dana
        for low in (ana, dana):
            assert "If you'd like support" in low
            assert "*Employee assistance line*: 0800 123 456" in low and "Free and confidential." in low
        assert "*52* out of 100" in cris and "Employee assistance line" not in cris

        # The lead opens Breather's Home tab: team-level figures only, never the offer of support.
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": "T0TEST",
                "api_app_id": "A1",
                "event_id": "EvLead",
                "event": {"type": "app_home_opened", "user": "U0RADU", "tab": "home", "event_ts": "1.2"},
            }
        )
        surveys.client.post(
            "/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body, "application/json")
        )
        surveys.slack.wait_for("views.publish", 4)
        settled(surveys.services)
        lead = latest_home(surveys, "U0RADU")
        assert "Your teams (team-level only)" in lead
        assert "Employee assistance line" not in lead and "If you'd like support" not in lead

        # Two weeks later Ana's own latest WHO-5 is in the usual range: the offer goes away.
        surveys.clock.advance(days=14)
        surveys.services.survey_actions.start_round("billing")
        surveys.slack.wait_for("chat.postMessage", 10)
        answer_round(surveys, {"U0ANA": WHO5_OK})
        ana = latest_home(surveys, "U0ANA")
        assert "*52* out of 100" in ana and "*28* out of 100" in ana  # both of her results, newest first
        assert ana.index("*52*") < ana.index("*28*")
        assert "Employee assistance line" not in ana


# --- WHO-5's individual follow-up rule: support contacts in the person's own thank-you ----------

WHO5_ONE_ITEM_LOW = {"who5_1": "3", "who5_2": "3", "who5_3": "3", "who5_4": "3", "who5_5": "1"}  # 52
SUPPORT_WORDS = ("Employee assistance line", "0800 123 456", "Free and confidential", "been heavy")


def submit_round(surveys: SurveyHarness, answers: dict[str, dict[str, str]]) -> dict[str, str]:
    """Like `answer_round`, returning each person's thank-you (the view Slack shows them)."""
    invitations = surveys.invitations()
    thanks = {}
    for user, who5 in answers.items():
        opened = len(surveys.slack.calls("views.open"))
        surveys.open(user, invitations[f"D{user[1:]}"], ts=f"1.{user}")  # each DM its own message
        view = surveys.slack.wait_for("views.open", opened + 1)[-1].params["view"]
        reply = surveys.submit(user, view["private_metadata"], {**who5, "burnout_single_1": "1"}).json()
        assert reply["response_action"] == "update"
        thanks[user] = json.dumps(reply["view"])
        settled(surveys.services)
    return thanks


def every_cell(surveys: SurveyHarness) -> list[str]:
    """Every value in every table of the database, as text."""
    from sqlalchemy import MetaData

    metadata = MetaData()
    metadata.reflect(surveys.services.engine)
    cells: list[str] = []
    with surveys.services.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(table.select()):
                cells.extend(json.dumps(value, default=str, ensure_ascii=False) for value in row)
    return cells


def metric_series(surveys: SurveyHarness) -> set[str]:
    """The names and labels of every series /metrics exposes (their values aside)."""
    text = surveys.client.get("/metrics").text
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}


def test_the_thank_you_offers_support_only_to_the_person_whose_own_who5_needs_follow_up(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    config = roster_with(tmp_path, teams=PULSE_TEAMS, support_resources=[SUPPORT], anonymity_min_group=3)
    with running(make_settings(config_path=config), fake_slack, Clock(T0)) as surveys:
        surveys.services.survey_actions.start_round("billing")
        surveys.slack.wait_for("chat.postMessage", 5)
        thanks = submit_round(surveys, {"U0CRIS": WHO5_OK})
        series_after_an_ordinary_answer = metric_series(surveys)
        thanks.update(submit_round(surveys, {"U0ANA": WHO5_ONE_ITEM_LOW, "U0DANA": WHO5_LOW}))

        # Index 52 with one item at 1, and index 48: both see the contacts; index 52 without
        # an item at 0 or 1 does not.
        for user in ("U0ANA", "U0DANA"):
            assert "Thank you." in thanks[user]
            assert all(word in thanks[user] for word in SUPPORT_WORDS), user
        assert "Thank you." in thanks["U0CRIS"]
        assert not any(word in thanks["U0CRIS"] for word in SUPPORT_WORDS)

        # Once per round: answering again only says it was already answered.
        view = surveys.slack.calls("views.open")[1].params["view"]  # Ana's form
        again = surveys.submit(
            "U0ANA", view["private_metadata"], {**WHO5_ONE_ITEM_LOW, "burnout_single_1": "1"}
        )
        assert "already answered" in json.dumps(again.json()) and "Employee assistance" not in again.text

        # The note left in each DM is the same for everyone: nothing in chat history tells.
        notes = [
            c.params["text"]
            for c in surveys.slack.calls("chat.update")
            if "Thank you" in c.params.get("text", "")
        ]
        assert len(notes) == 3 and len(set(notes)) == 1

        # Nothing of it is stored: no cell anywhere holds the contacts or the words of the offer,
        # and Ana's stored WHO-5 (52) is not flagged.
        cells = every_cell(surveys)
        assert not any(word in cell for cell in cells for word in SUPPORT_WORDS)
        with session_scope(surveys.services.engine) as session:
            flagged = {
                (a.score, a.flagged)
                for a in session.exec(select(SurveyAnswer).where(col(SurveyAnswer.instrument) == "who5"))
            }
        assert flagged == {(52.0, False), (48.0, True)}

        # /metrics grew no series of its own for the two follow-ups.
        assert metric_series(surveys) == series_after_an_ordinary_answer

        # The lead's digest for the week counts only index <= 50 as low (Dana), and says
        # nothing of follow-ups or support.
        surveys.clock.advance(days=7)
        with session_scope(surveys.services.engine) as session:
            digest = surveys.services.digests.digest(
                session, surveys.services.config.team("billing"), surveys.clock.now
            ).to_json()
        assert digest["respondents"] == {"at_least": 3}
        # One of three (Dana) is within a third of the bottom: the band, never "33 %" (two of
        # three would read "at least 67 %").
        assert digest["metrics"]["who5_low_share"] == {"at_most": 0.33}
        shown = json.dumps(digest)
        assert "follow" not in shown and not any(word in shown for word in SUPPORT_WORDS)


def test_a_romanian_team_is_asked_in_romanian_with_the_questionnaires_in_english(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """No checked Romanian wording ships, so WHO-5 and the burnout item are asked in English
    inside a Romanian survey; the answers score exactly as an English answer would."""
    teams = {"billing": {**PULSE_TEAMS["billing"], "language": "ro"}}
    with running(make_settings(config_path=roster_with(tmp_path, teams=teams)), fake_slack, Clock(T0)) as s:
        s.services.survey_actions.start_round("billing")
        s.slack.wait_for("chat.postMessage", 5)
        invitation = next(
            post for post in s.slack.calls("chat.postMessage") if post.params["channel"] == "D0ANA"
        )
        assert (
            "Ai un minut?" in invitation.params["text"]
            and "duminică, 29 noiembrie" in invitation.params["text"]
        )
        assert "Nu mă mai întreba" in json.dumps(invitation.params["blocks"], ensure_ascii=False)
        s.open("U0ANA", s.invitations()["D0ANA"])
        view = s.slack.wait_for("views.open")[0].params["view"]
        shown = json.dumps(view, ensure_ascii=False)
        assert view["title"]["text"] == "Chestionar de un minut"
        assert "Cum ai fost în ultima vreme" in shown and "Care afirmație ți se potrivește" in shown
        assert shown.count("Întrebările acestea rămân în engleză") == 2
        assert "I have felt cheerful and in good spirits" in shown and "All of the time" in shown

        reply = s.submit("U0ANA", view["private_metadata"], {**WHO5_LOW, "burnout_single_1": "3"}).json()
        assert "după ce runda se încheie (duminică, 29 noiembrie)" in json.dumps(reply, ensure_ascii=False)
        with session_scope(s.services.engine) as session:
            rows = {a.instrument: a for a in session.exec(select(SurveyAnswer))}
            assert (rows["who5"].score, rows["who5"].flagged, rows["who5"].instrument_version) == (
                48,
                True,
                "1",
            )
            assert rows["burnout_single"].score == 3
        s.slack.wait_for("views.publish")
        home = latest_home(s, "U0ANA")
        assert "Stare de bine (WHO-5)" in home and "*48* din 100" in home


@pytest.mark.parametrize(
    ("calendar", "closes"), [("solar_hijri", "یکشنبه ۸ آذر"), ("gregorian", "یکشنبه ۲۹ نوامبر")]
)
def test_a_persian_team_reads_dates_in_its_calendar_with_persian_digits(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path, calendar: str, closes: str
) -> None:
    teams = {"billing": {**PULSE_TEAMS["billing"], "language": "fa", "persian_calendar": calendar}}
    with running(make_settings(config_path=roster_with(tmp_path, teams=teams)), fake_slack, Clock(T0)) as s:
        s.services.survey_actions.start_round("billing")
        s.slack.wait_for("chat.postMessage", 5)
        invitation = next(
            post for post in s.slack.calls("chat.postMessage") if post.params["channel"] == "D0ANA"
        )
        assert closes in invitation.params["text"]
        s.open("U0ANA", s.invitations()["D0ANA"])
        view = s.slack.wait_for("views.open")[0].params["view"]
        s.submit("U0ANA", view["private_metadata"], {**WHO5_LOW, "burnout_single_1": "3"})
        s.slack.wait_for("views.publish")
        home = json.loads(latest_home(s, "U0ANA"))
        home = json.dumps(home, ensure_ascii=False)
        assert "*۴۸* از ۱۰۰" in home  # the score in Persian digits
        assert ("۵ آذر" if calendar == "solar_hijri" else "۲۶ نوامبر") in home  # answered Thursday
