"""Outbox claims on SQLite and PostgreSQL: only the current claim may record an outcome."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, update
from sqlmodel import col, select

from bot.clock import utcnow
from storage import outbox as queue
from storage.db import session_scope
from storage.models import OutboxMessage, OutboxStatus


def _queue_one(engine: Engine) -> None:
    with session_scope(engine) as session:
        queue.enqueue(
            session,
            key="one",
            kind="channel",
            channel_key="channel:C1",
            target={"channel": "C1"},
            payload={"text": "hi", "parts": []},
            now=utcnow(),
        )


def _status(engine: Engine) -> tuple[str, int]:
    with session_scope(engine) as session:
        row = session.exec(select(OutboxMessage)).one()
        return row.status, row.attempts


def test_a_worker_whose_lease_ran_out_cannot_record_over_the_new_claim(engine: Engine) -> None:
    _queue_one(engine)
    with session_scope(engine) as session:
        (slow,) = queue.claim_due(session, now=utcnow(), limit=10)
    with session_scope(engine) as session:  # the slow worker's lease runs out ...
        session.execute(
            update(OutboxMessage).values(claimed_at=utcnow() - queue.LEASE - timedelta(seconds=1))
        )
    with session_scope(engine) as session:  # ... and another worker takes the row
        (current,) = queue.claim_due(session, now=utcnow(), limit=10)
    assert current.attempts == slow.attempts + 1
    with session_scope(engine) as session:
        queue.mark_failed(session, slow, error="timed out")
        queue.reschedule(session, slow, at=utcnow(), error="late", spend_attempt=False)
    assert _status(engine) == (OutboxStatus.SENDING, 2)  # the stale claim changed nothing
    with session_scope(engine) as session:
        queue.mark_sent(session, current, now=utcnow(), result=None)
    assert _status(engine) == (OutboxStatus.SENT, 2)


def test_putting_a_row_back_without_a_try_does_not_spend_an_attempt(engine: Engine) -> None:
    _queue_one(engine)
    with session_scope(engine) as session:
        (row,) = queue.claim_due(session, now=utcnow(), limit=10)
        queue.reschedule(session, row, at=utcnow(), error="paced", spend_attempt=False)
    assert _status(engine) == (OutboxStatus.PENDING, 0)
    with session_scope(engine) as session:
        (row,) = queue.claim_due(session, now=utcnow(), limit=10)
        queue.reschedule(session, row, at=utcnow(), error="HTTP 500")
    assert _status(engine) == (OutboxStatus.PENDING, 1)
    with session_scope(engine) as session:
        assert session.exec(select(col(OutboxMessage.last_error))).one() == "HTTP 500"


def _queue(engine: Engine, key: str, conversation: str) -> None:
    with session_scope(engine) as session:
        queue.enqueue(
            session,
            key=key,
            kind="channel",
            channel_key=conversation,
            target={"channel": conversation},
            payload={"text": key, "parts": []},
            now=utcnow(),
        )


def _queue_later(engine: Engine, key: str, conversation: str, delay: timedelta) -> None:
    with session_scope(engine) as session:
        queue.enqueue(
            session,
            key=key,
            kind="channel",
            channel_key=conversation,
            target={"channel": conversation},
            payload={"text": key, "parts": []},
            now=utcnow(),
            not_before=utcnow() + delay,
        )


def _claim_keys(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return [row.key for row in queue.claim_due(session, now=utcnow(), limit=10)]


def test_a_conversation_gives_one_row_at_a_time_and_a_retry_keeps_its_place(engine: Engine) -> None:
    for key, conversation in (("a1", "dm:a"), ("b1", "dm:b"), ("a2", "dm:a"), ("a3", "dm:a")):
        _queue(engine, key, conversation)
    assert _claim_keys(engine) == ["a1", "b1"]  # one per conversation, the earliest
    assert _claim_keys(engine) == []  # a2 waits while a1 is being sent
    with session_scope(engine) as session:  # a1 fails and is retried later; a2 is due now ...
        a1 = session.exec(select(OutboxMessage).where(col(OutboxMessage.key) == "a1")).one()
        queue.reschedule(session, a1, at=utcnow() + timedelta(seconds=30), error="HTTP 500")
    assert _claim_keys(engine) == []  # ... but does not overtake it
    with session_scope(engine) as session:
        session.execute(
            update(OutboxMessage).where(col(OutboxMessage.key) == "a1").values(next_attempt_at=utcnow())
        )
    (again,) = _claim_keys(engine)
    assert again == "a1"
    with session_scope(engine) as session:
        a1 = session.exec(select(OutboxMessage).where(col(OutboxMessage.key) == "a1")).one()
        queue.mark_sent(session, a1, now=utcnow(), result=None)
    assert _claim_keys(engine) == ["a2"]


def test_a_row_claimed_again_after_its_lease_ran_out_is_marked_in_doubt(engine: Engine) -> None:
    _queue_one(engine)
    with session_scope(engine) as session:
        (first,) = queue.claim_due(session, now=utcnow(), limit=10)
    assert first.last_error is None
    with session_scope(engine) as session:  # the worker died while sending
        session.execute(
            update(OutboxMessage).values(claimed_at=utcnow() - queue.LEASE - timedelta(seconds=1))
        )
    with session_scope(engine) as session:
        (second,) = queue.claim_due(session, now=utcnow(), limit=10)
        assert second.last_error == queue.IN_DOUBT
        queue.reschedule(session, second, at=utcnow(), error="HTTP 500")
    with session_scope(engine) as session:  # a row put back by a live worker is not in doubt
        (third,) = queue.claim_due(session, now=utcnow(), limit=10)
    assert third.last_error == "HTTP 500"


def test_a_worker_never_takes_back_a_row_it_is_still_sending(engine: Engine) -> None:
    """A clock moved on past the lease (a test's clock, or a long pause) must not make a worker
    claim, and so send again, a row its own delivery thread is still sending."""
    _queue_one(engine)
    with session_scope(engine) as session:
        (row,) = queue.claim_due(session, now=utcnow(), limit=10)
    later = utcnow() + queue.LEASE + timedelta(seconds=1)
    with session_scope(engine) as session:
        assert row.id is not None
        assert queue.claim_due(session, now=later, limit=10, busy={row.id}) == []
    with session_scope(engine) as session:  # another worker may take it: the lease ran out
        (again,) = queue.claim_due(session, now=later, limit=10)
    assert again.id == row.id and again.last_error == queue.IN_DOUBT


def test_a_message_queued_for_later_does_not_hold_back_what_is_due_now(engine: Engine) -> None:
    # A welcome back queued for the end of a break, then the break's confirmation: the
    # confirmation goes now, not after the break.
    _queue_later(engine, "welcome", "dm:a", timedelta(minutes=5))
    _queue(engine, "confirmation", "dm:a")
    assert _claim_keys(engine) == ["confirmation"]
    assert _claim_keys(engine) == []  # the welcome back waits for its time


def test_a_row_put_back_after_a_429_keeps_its_place_in_the_conversation(engine: Engine) -> None:
    """Put back without spending an attempt (a 429's Retry-After, or pacing), a row is due again
    only later, like a message queued for later, yet the next one must not overtake it."""
    _queue(engine, "part 1", "dm:a")
    _queue(engine, "part 2", "dm:a")
    with session_scope(engine) as session:
        (first,) = queue.claim_due(session, now=utcnow(), limit=10)
        queue.reschedule(
            session, first, at=utcnow() + timedelta(seconds=30), error="rate limited", spend_attempt=False
        )
    assert _claim_keys(engine) == []


def test_a_pass_marks_its_sent_rows_together_and_skips_a_row_claimed_again(engine: Engine) -> None:
    _queue(engine, "dm-1", "dm:U1")
    _queue(engine, "dm-2", "dm:U2")
    _queue(engine, "post", "channel:C1")
    with session_scope(engine) as session:
        rows = {row.key: row for row in queue.claim_due(session, now=utcnow(), limit=10)}
    assert set(rows) == {"dm-1", "dm-2", "post"}
    with session_scope(engine) as session:  # dm-2's lease runs out and another worker takes it
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.key) == "dm-2")
            .values(claimed_at=utcnow() - queue.LEASE - timedelta(seconds=1))
        )
    with session_scope(engine) as session:
        (again,) = queue.claim_due(session, now=utcnow(), limit=10)
    assert again.key == "dm-2"
    sent_at = utcnow()
    with session_scope(engine) as session:
        queue.mark_sent_many(
            session,
            [
                (rows["dm-1"], sent_at, None),
                (rows["dm-2"], sent_at, None),  # the stale claim: changes nothing
                (rows["post"], sent_at, {"channel": "C1", "ts": "1.2"}),
            ],
        )
    with session_scope(engine) as session:
        found = {row.key: row for row in session.exec(select(OutboxMessage))}
    assert found["dm-1"].status == OutboxStatus.SENT and found["dm-1"].sent_at is not None
    assert found["dm-1"].target == {} and found["dm-1"].payload == {} and found["dm-1"].channel_key == ""
    assert found["dm-2"].status == OutboxStatus.SENDING and found["dm-2"].target != {}
    assert found["post"].result == {"channel": "C1", "ts": "1.2"}
    assert found["post"].channel_key == "channel:C1"  # a team channel is no one's conversation
