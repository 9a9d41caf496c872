"""Withdrawing an outbox message that a later one makes wrong, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.clock import utcnow
from bot.delivery import OutboxWorker
from bot.metrics import Metrics
from handlers.slack.messenger import SlackMessenger, make_web_client
from storage import outbox
from storage.db import session_scope
from storage.models import OutboxMessage, OutboxStatus
from tests.fakes.slack_api import FakeSlack


def enqueue_note(engine: Engine, key: str) -> None:
    with session_scope(engine) as session:
        outbox.enqueue(
            session,
            key=key,
            kind="update",
            channel_key="agent:a1",
            target={"where": {"channel": "D0ANA", "ts": "1.1"}},
            payload={"text": "Setting your break…"},
            now=utcnow(),
        )


def test_a_waiting_message_is_withdrawn_and_never_sent(engine: Engine) -> None:
    enqueue_note(engine, "checkin:c1:answer")
    with session_scope(engine) as session:
        assert outbox.withdraw(session, "checkin:c1:answer") is True
    with session_scope(engine) as session:
        assert outbox.claim_due(session, now=utcnow() + timedelta(hours=1), limit=10) == []
        row = outbox.find(session, "checkin:c1:answer")
        assert row is not None and row.status == OutboxStatus.FAILED and row.payload == {}


def test_a_message_being_sent_when_withdrawn_is_not_retried_after_a_failure(engine: Engine) -> None:
    enqueue_note(engine, "checkin:c2:answer")
    now = utcnow()
    with session_scope(engine) as session:
        (claimed,) = outbox.claim_due(session, now=now, limit=10)
    with session_scope(engine) as session:
        assert outbox.cancel(session, "checkin:c2:answer") is False  # cancel leaves it to the worker
        assert outbox.withdraw(session, "checkin:c2:answer") is True
    assert claimed.id is not None
    with session_scope(engine) as session:  # the send under way got a 429: the worker reschedules
        outbox.reschedule(session, claimed, at=now + timedelta(seconds=1), error="rate limited")
    with session_scope(engine) as session:
        later = now + timedelta(minutes=5)  # past the retry and past the sending lease
        assert outbox.claim_due(session, now=later, limit=10) == []
        row = outbox.find(session, "checkin:c2:answer")
        assert row is not None and row.status == OutboxStatus.FAILED and row.last_error == "withdrawn"
    with session_scope(engine) as session:
        assert outbox.withdraw(session, "checkin:c2:answer") is False  # once is enough


def test_the_outcome_waits_until_the_withdrawn_note_being_sent_has_landed(engine: Engine) -> None:
    # Sent side by side, the note's update could land after the outcome's and hide it (the
    # console demo once ended on "Setting your break…" with the break set).
    enqueue_note(engine, "checkin:c3:answer")
    now = utcnow()
    with session_scope(engine) as session:
        (note,) = outbox.claim_due(session, now=now, limit=10)
    with session_scope(engine) as session:
        assert outbox.withdraw(session, "checkin:c3:answer") is True
        assert outbox.withdraw(session, "checkin:c3:answer") is False  # once is enough
        outbox.enqueue(
            session,
            key="break:b3:reply",
            kind="update",
            channel_key="agent:a1",
            target={"where": {"channel": "D0ANA", "ts": "1.1"}},
            payload={"text": "You're on a protected break"},
            now=now,
        )
    with session_scope(engine) as session:
        assert outbox.claim_due(session, now=now, limit=10) == []  # the note is still on its way
        outbox.mark_sent(session, note, now=now, result=None)
    with session_scope(engine) as session:
        (said,) = outbox.claim_due(session, now=now, limit=10)
        assert said.key == "break:b3:reply"
        row = outbox.find(session, "checkin:c3:answer")
        assert row is not None and row.status == OutboxStatus.SENT and row.payload == {}


def test_a_withdrawn_note_whose_worker_died_mid_send_is_not_sent_again(
    engine: Engine, fake_slack: FakeSlack
) -> None:
    enqueue_note(engine, "checkin:c4:answer")
    now = utcnow()
    with session_scope(engine) as session:
        outbox.claim_due(session, now=now, limit=10)
    with session_scope(engine) as session:
        assert outbox.withdraw(session, "checkin:c4:answer") is True
    messenger = SlackMessenger(make_web_client("xoxb-test", fake_slack.url), engine)
    later = now + outbox.LEASE * 2  # its worker never said how the send went
    worker = OutboxWorker(
        engine=engine, messenger=messenger, metrics=Metrics(), wake=threading.Event(), clock=lambda: later
    )
    try:
        worker.run_once()
    finally:
        messenger.close()
    assert fake_slack.calls("chat.update") == []
    with session_scope(engine) as session:
        row = outbox.find(session, "checkin:c4:answer")
        assert row is not None and row.status == OutboxStatus.FAILED and row.payload == {}
        assert outbox.claim_due(session, now=later + outbox.LEASE * 2, limit=10) == []


def test_a_withdrawal_committed_while_the_worker_puts_the_note_back_wins(engine: Engine) -> None:
    # The break worker withdraws the note just as the outbox worker records a 429 for it: the
    # put-back waits for the withdrawal's lock and must not undo it (the note was then sent).
    enqueue_note(engine, "checkin:c5:answer")
    now = utcnow()
    with session_scope(engine) as session:
        (note,) = outbox.claim_due(session, now=now, limit=10)
    put_back = threading.Thread(
        target=lambda: _reschedule(engine, note, at=now + timedelta(seconds=5)), daemon=True
    )
    with session_scope(engine) as session:
        assert outbox.withdraw(session, "checkin:c5:answer") is True
        put_back.start()
        put_back.join(0.5)  # it waits for this transaction
    put_back.join(10)
    assert not put_back.is_alive()
    with session_scope(engine) as session:
        row = outbox.find(session, "checkin:c5:answer")
        assert row is not None and row.status == OutboxStatus.FAILED and row.last_error == "withdrawn"
        assert outbox.claim_due(session, now=now + timedelta(minutes=5), limit=10) == []


def _reschedule(engine: Engine, row: OutboxMessage, *, at: datetime) -> None:
    with session_scope(engine) as session:
        outbox.reschedule(session, row, at=at, error="rate limited", spend_attempt=False)
