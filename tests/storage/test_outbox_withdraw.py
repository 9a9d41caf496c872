"""Withdrawing an outbox message that a later one makes wrong, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from bot.clock import utcnow
from storage import outbox
from storage.db import session_scope
from storage.models import OutboxStatus


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
