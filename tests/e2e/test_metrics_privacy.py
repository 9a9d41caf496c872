"""/metrics has no side channel (issue 13, point 4): read beside the phone system's call log, no
metric may move because one person did something personal. The test scrapes /metrics after
each step of a day and compares: answering a check-in, pausing and resuming, asking a team mate
to talk, a break and a hard call held back while paused change nothing but what any hard call
changes (an event in, a call judged hard)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy
from starlette.testclient import TestClient

from bot.app import create_app
from handlers.slack.bolt_app import wait_for_listeners
from storage import outbox
from storage.db import session_scope
from tests.conftest import Harness, MakeSettings, hard_call
from tests.e2e.test_recovery_talk import options, submit
from tests.fakes.slack_api import FakeSlack
from tests.helpers import button_values, roster_with, settled


@pytest.fixture
def day(make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Harness]:
    roster = roster_with(tmp_path, support_resources=[{"name": "Helpline", "contact": "0800 123 456"}])
    app = create_app(make_settings(config_path=roster))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Harness(client, app.state.services, fake_slack)


def scrape(harness: Harness) -> dict[str, float]:
    assert wait_for_listeners(harness.client.app.state.bolt, 15)  # type: ignore[attr-defined]
    settled(harness.services, 15)
    values: dict[str, float] = {}
    for line in harness.client.get("/metrics").text.splitlines():
        if line and not line.startswith("#") and not line.split("{")[0].split(" ")[0].endswith("_created"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def moved(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {
        name: after.get(name, 0.0) - before.get(name, 0.0)
        for name in after.keys() | before.keys()
        if after.get(name, 0.0) != before.get(name, 0.0)
    }


def checkin_of(harness: Harness, channel: str) -> str:
    post = [c for c in harness.slack.calls("chat.postMessage") if c.params["channel"] == channel][-1]
    (checkin_id,) = button_values(post.params["blocks"])
    return checkin_id


def test_no_metric_moves_because_one_person_did_something_personal(day: Harness) -> None:
    start = scrape(day)
    day.post_event(hard_call(event_id="m1", call_id="m1"))
    after_call = scrape(day)
    any_hard_call = moved(start, after_call)
    assert any_hard_call == {
        'breather_events_received_total{provider="generic"}': 1.0,
        "breather_hard_calls_total": 1.0,
    }

    # Ana answers "I'm OK": one message updated, nothing counted.
    day.click(
        user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="checkin.ok", value=checkin_of(day, "D0ANA")
    )
    day.slack.wait_for("chat.update")
    assert moved(after_call, scrape(day)) == {}

    # Ana pauses; her next hard call is held back. It moves exactly what a check-in call moved.
    assert "Paused" in day.command(user_id="U0ANA", command="/breather", text="pause").text
    paused = scrape(day)
    assert moved(after_call, paused) == {}
    day.post_event(hard_call(event_id="m2", call_id="m2"))
    assert moved(paused, scrape(day)) == any_hard_call
    day.command(user_id="U0ANA", command="/breather", text="resume")
    resumed = scrape(day)

    # Dana asks for a break (no phone system here: she is told to set it herself).
    day.post_event(hard_call(event_id="m3", call_id="m3", agent_email="dana@example.com"))
    dana_called = scrape(day)
    assert moved(resumed, dana_called) == any_hard_call
    day.click(
        user_id="U0DANA",
        channel="D0DANA",
        ts="1.2",
        action_id="checkin.break",
        value=checkin_of(day, "D0DANA"),
    )
    day.slack.wait_for("chat.update", 2)
    assert moved(dana_called, scrape(day)) == {}

    # Cris asks Bob to talk: three messages (the modal's answer, Bob's DM, Cris's note).
    day.post_event(hard_call(event_id="m4", call_id="m4", agent_email="cris@example.com"))
    cris_called = scrape(day)
    checkin_id = checkin_of(day, "D0CRIS")
    day.click(user_id="U0CRIS", channel="D0CRIS", ts="1.3", action_id="checkin.talk", value=checkin_id)
    view = day.slack.wait_for("views.open")[0].params["view"]
    sent_before = len(day.slack.calls("chat.postMessage"))
    assert submit(day, checkin_id, options(view)["Bob Stan (team mate)"], user_id="U0CRIS").status_code == 200
    day.slack.wait_for("chat.postMessage", sent_before + 2)
    assert moved(cris_called, scrape(day)) == {}


def test_the_outbox_gauges_count_only_messages_overdue_by_a_minute(engine: sqlalchemy.Engine) -> None:
    """A message a click caused is delivered long before a minute has passed, and one scheduled
    for later (a break's welcome back, a reminder) is not due: neither is overdue. A backlog is."""
    from bot.clock import utcnow

    now = utcnow()
    with session_scope(engine) as session:
        for key, due in (
            ("backlog", now - timedelta(minutes=3)),
            ("just-now", now),
            ("later", now + timedelta(minutes=5)),
        ):
            outbox.enqueue(
                session, key=key, kind="dm", channel_key=key, target={}, payload={}, now=now, not_before=due
            )
    with session_scope(engine) as session:
        count, earliest = outbox.overdue(session, due_before=now - timedelta(minutes=1))
    assert count == 1
    assert earliest is not None and abs((earliest - (now - timedelta(minutes=3))).total_seconds()) < 1


def test_stopping_or_skipping_pulse_surveys_moves_no_metric(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Opting out ("Stop asking me") or skipping a round, and the reminder round that then
    leaves those people out: /metrics is the same before and after."""
    from tests.e2e.test_pulse_surveys import PULSE_TEAMS, T0, running
    from tests.helpers import Clock

    settings = make_settings(config_path=roster_with(tmp_path, teams=PULSE_TEAMS))
    with running(settings, fake_slack, Clock(T0)) as surveys:
        surveys.services.survey_actions.start_round("billing")
        surveys.slack.wait_for("chat.postMessage", 5)
        before = scrape(surveys)
        invitations = surveys.invitations()
        surveys.button("U0ANA", "pulse.opt_out", invitations["D0ANA"])
        surveys.button("U0CRIS", "pulse.skip", invitations["D0CRIS"])
        surveys.slack.wait_for("chat.update", 2)
        assert moved(before, scrape(surveys)) == {}
        surveys.clock.advance(hours=25)
        surveys.services.survey_actions.dispatch()  # reminders go to the others only
        assert moved(before, scrape(surveys)) == {}
