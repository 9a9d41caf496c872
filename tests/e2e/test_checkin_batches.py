"""Events the processor takes in one batch are decided together (bot/checkins/service.py
`decide`): the nudge policy still sees the check-ins decided earlier in the same batch."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from bot.app import create_app
from bot.events import InboundEvent
from bot.messenger import AgentRef
from handlers.telephony.base import RawRequest
from handlers.telephony.generic import GenericAdapter
from storage.db import session_scope, upgrade
from storage.models import Call, Checkin, OutboxMessage
from storage.models import InboundEvent as InboundRow
from tests.conftest import MakeSettings, call_event, hard_call
from tests.fakes.slack_api import FakeSlack
from tests.helpers import roster_with, settled, wait_until


def _parsed(events: list[dict[str, Any]]) -> list[InboundEvent]:
    return [
        event
        for body in events
        for event in GenericAdapter(None).parse(
            RawRequest(path="/webhooks/calls", public_url="", headers={}, body=json.dumps(body).encode())
        )
    ]


def _dms_after_one_batch(settings: Any, fake_slack: FakeSlack, events: list[dict[str, Any]]) -> Counter[str]:
    """Store `events` in one transaction before the app starts (so its processor finds them
    all in its first batch), run the app until everything is sent; the DMs per channel."""
    app = create_app(settings)
    services = app.state.services
    upgrade(services.engine)
    services.sync()
    services.intake.accept("generic", _parsed(events))
    services.engine.dispose()
    with TestClient(create_app(settings)) as client:
        settled(client.app.state.services)  # type: ignore[attr-defined]
    return Counter(str(call.params["channel"]) for call in fake_slack.calls("chat.postMessage"))


def test_one_batch_of_hard_calls_asks_each_agent_once_within_the_cooldown(
    make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    events = [
        *(hard_call() for _ in range(3)),
        hard_call(agent_email="cris@example.com"),
        # Dana's call, then a late tag that makes it hard, then another late tag on it.
        call_event(agent_email="dana@example.com", call_id="c-dana", event_id="e-dana-1"),
        call_event(agent_email="dana@example.com", call_id="c-dana", event_id="e-dana-2", tags=["abusive"]),
        call_event(agent_email="dana@example.com", call_id="c-dana", event_id="e-dana-3", tags=["threat"]),
    ]
    dms = _dms_after_one_batch(make_settings(), fake_slack, events)
    assert dms == {"D0ANA": 1, "D0CRIS": 1, "D0DANA": 1}


def test_one_batch_of_hard_calls_keeps_to_the_daily_cap(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    # A cooldown of 60 ns never holds back two calls processed one after the other.
    roster = roster_with(tmp_path, checkin_cooldown_minutes=1e-9, checkins_per_day=2)
    cris = [hard_call(agent_email="cris@example.com") for _ in range(2)]
    events = [*(hard_call() for _ in range(4)), *cris]
    dms = _dms_after_one_batch(make_settings(config_path=roster), fake_slack, events)
    assert dms == {"D0ANA": 2, "D0CRIS": 2}


def test_two_processes_sharing_the_backlog_ask_each_agent_once_within_the_cooldown(
    make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    settings = make_settings()
    first = create_app(settings)
    upgrade(first.state.services.engine)
    first.state.services.sync()
    agents = ["ana@example.com", "cris@example.com", "dana@example.com"]
    first.state.services.intake.accept("generic", _parsed([hard_call(agent_email=a) for a in agents * 3]))
    second = create_app(settings)
    # Small batches, so each agent's calls are split between the two processes' batches.
    first.state.services.processor.batch = second.state.services.processor.batch = 2
    with TestClient(first), TestClient(second):
        settled(first.state.services)
        settled(second.state.services)
    dms = Counter(str(call.params["channel"]) for call in fake_slack.calls("chat.postMessage"))
    assert dms == {"D0ANA": 1, "D0CRIS": 1, "D0DANA": 1}


def test_a_hard_call_that_waits_for_a_status_read_is_decided_in_the_same_pass(
    make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    # Nobody's Slack status is known yet: the pass reads the statuses after its commit and
    # decides those calls at once, not behind the next batch (the check-in DM's latency).
    fake_slack.set_status("U0CRIS", ":palm_tree:")
    app = create_app(make_settings())
    services = app.state.services
    upgrade(services.engine)
    services.sync()
    emails = ["ana@example.com", "cris@example.com", "dana@example.com"]
    services.intake.accept("generic", _parsed([hard_call(agent_email=email) for email in emails]))
    assert services.processor.run_once() == 3
    with session_scope(services.engine) as session:
        assert session.exec(select(InboundRow).where(col(InboundRow.processed_at).is_(None))).all() == []
        assert len(session.exec(select(Checkin)).all()) == 2  # Cris is on holiday
    assert len(fake_slack.calls("users.info")) == 3
    services.engine.dispose()


def test_a_waiting_call_that_another_process_decided_meanwhile_gets_one_checkin(
    make_settings: MakeSettings, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # While this process reads the statuses, its events are unprocessed and unlocked: a second
    # process takes them and decides them in full. Deciding them again here must add nothing.
    settings = make_settings()
    services = create_app(settings).state.services
    upgrade(services.engine)
    services.sync()
    services.intake.accept("generic", _parsed([hard_call(), hard_call(agent_email="dana@example.com")]))
    other = create_app(settings).state.services
    other.sync()
    read = services.checkins.look_up

    def read_while_the_other_process_takes_them(people: list[AgentRef]) -> None:
        read(people)
        assert other.processor.run_once() == 2

    monkeypatch.setattr(services.checkins, "look_up", read_while_the_other_process_takes_them)
    assert services.processor.run_once() == 2
    with session_scope(services.engine) as session:
        assert session.exec(select(InboundRow).where(col(InboundRow.processed_at).is_(None))).all() == []
        assert len(session.exec(select(Checkin)).all()) == 2
        assert len(session.exec(select(OutboxMessage).where(col(OutboxMessage.kind) == "direct")).all()) == 2
    services.engine.dispose()
    other.engine.dispose()


def test_the_calls_earlier_in_a_batch_are_the_history_a_long_call_is_measured_against(
    make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    # Dana's ten ordinary calls and then a very long one that the customer hung up, all in one
    # batch: the long call is judged against the ten (written before its history is read), so
    # it is long *and* hung up, which is hard. Without them it would be a hang-up alone.
    ordinary = [
        call_event(agent_email="dana@example.com", duration_s=240 + 10 * i, disconnected_by="agent")
        for i in range(10)
    ]
    long_one = call_event(agent_email="dana@example.com", duration_s=4000, disconnected_by="customer")
    dms = _dms_after_one_batch(make_settings(), fake_slack, [*ordinary, long_one])
    assert dms == {"D0DANA": 1}
    (prompt,) = fake_slack.calls("chat.postMessage")
    assert "long" in json.dumps(prompt.params).lower()


def test_a_batch_stores_each_new_call_once_with_every_fact_its_events_brought(
    make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    # A call's first event and two later ones in the same batch: one row, holding all three.
    events = [
        call_event(call_id="c-merge", event_id="m-1", duration_s=None, sentiment=None),
        call_event(call_id="c-merge", event_id="m-2", duration_s=300, sentiment=None, tags=["billing"]),
        call_event(call_id="c-merge", event_id="m-3", duration_s=None, sentiment=-0.9, tags=["refund"]),
        call_event(call_id="c-other", event_id="o-1"),
    ]
    settings = make_settings()
    _dms_after_one_batch(settings, fake_slack, events)
    services = create_app(settings).state.services
    with session_scope(services.engine) as session:
        calls = session.exec(select(Call)).all()
    assert len(calls) == 2
    (merged,) = [call for call in calls if call.duration_s == 300]
    assert (merged.sentiment, sorted(merged.tags)) == (-0.9, ["billing", "refund"])
    services.engine.dispose()


def test_the_server_loop_goes_on_with_new_events_while_a_status_read_is_slow(
    make_settings: MakeSettings, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ana's hard call needs her Slack status and the read hangs: Dana's call, arriving
    # meanwhile, is processed at once, Ana's event is not taken up again, and Ana's check-in
    # is decided as soon as the read is done.
    services = create_app(make_settings()).state.services
    upgrade(services.engine)
    services.sync()
    reading, release = threading.Event(), threading.Event()
    read = services.checkins.look_up

    def slow_read(people: list[AgentRef]) -> None:
        reading.set()
        release.wait(10)
        read(people)

    monkeypatch.setattr(services.checkins, "look_up", slow_read)

    def unprocessed() -> list[str]:
        with session_scope(services.engine) as session:
            rows = session.exec(select(InboundRow).where(col(InboundRow.processed_at).is_(None))).all()
            return sorted(row.pseudonym for row in rows)

    def checkins() -> int:
        with session_scope(services.engine) as session:
            return len(session.exec(select(Checkin)).all())

    stop = threading.Event()
    loop = threading.Thread(target=services.processor.run_forever, args=(stop,), daemon=True)
    services.intake.accept("generic", _parsed([hard_call()]))
    ana = unprocessed()
    loop.start()
    try:
        assert reading.wait(5)
        services.intake.accept("generic", _parsed([call_event(agent_email="dana@example.com")]))
        wait_until(lambda: unprocessed() == ana)  # Dana's done, Ana's still waiting
        assert checkins() == 0
        release.set()
        wait_until(lambda: unprocessed() == [])
        assert checkins() == 1
        assert len(fake_slack.calls("users.info")) == 1
    finally:
        release.set()
        stop.set()
        services.processor.wake.set()
        loop.join(5)
        services.engine.dispose()


def test_a_call_hard_by_its_own_facts_has_its_agents_status_read_as_it_arrives(
    make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    # Ana's and Cris's calls are hard by their tags, Dana's is easy: the two statuses are read
    # while the events wait for the processor, which then decides at once (Cris is on holiday)
    # and reads nothing more.
    fake_slack.set_status("U0CRIS", ":palm_tree:")
    services = create_app(make_settings()).state.services
    upgrade(services.engine)
    services.sync()
    calls = [
        hard_call(),
        hard_call(agent_email="cris@example.com"),
        call_event(agent_email="dana@example.com"),
    ]
    services.intake.accept("generic", _parsed(calls))
    wait_until(lambda: len(fake_slack.calls("users.info")) == 2)
    assert sorted(call.params["user"] for call in fake_slack.calls("users.info")) == ["U0ANA", "U0CRIS"]
    assert services.processor.run_once() == 3
    with session_scope(services.engine) as session:
        assert session.exec(select(InboundRow).where(col(InboundRow.processed_at).is_(None))).all() == []
        ana = services.roster.find("email", "ana@example.com")
        assert ana is not None
        assert [c.pseudonym for c in session.exec(select(Checkin))] == [ana.pseudonym]
    assert len(fake_slack.calls("users.info")) == 2
    services.engine.dispose()
