"""Outbox queue operations. Callers own the transaction; these functions only flush.

A row is claimed by moving it to `sending` with a lease; a worker that dies mid-send leaves
the lease to expire and the row is claimed again. A `sent` row is never claimed again.
Every claim raises `attempts`, so (id, attempts) names one claim: an outcome is recorded only
by the worker whose claim is still current, never by one whose lease ran out meanwhile.
On PostgreSQL the claim skips rows other workers hold (FOR UPDATE SKIP LOCKED), so several
processes can drain one outbox without delivering a row twice.

A conversation's messages go out in the order they were queued: a row is claimed only when no
earlier row of its conversation is still waiting or being sent (so a claim holds at most one row
per conversation). A row claimed again after its lease ran out is marked `IN_DOUBT`: the worker
that held it may have died after the platform accepted the message, and before sending it again
the worker looks for it on the platform (bot/delivery.py).

Keys and conversation keys arrive here already turned into keyed hashes (bot/delivery.py);
look-ups take every form a key may be stored under (one per live pseudonym key). Once a row is
final (sent, failed or withdrawn) it keeps no recipient: its target, its words and, unless it
was a post in a team channel, its conversation are erased in the same UPDATE.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, func, or_, type_coerce, update
from sqlmodel import Session, col, select

from storage.claims import due_ids
from storage.models.outbox import OutboxMessage, OutboxStatus
from storage.upsert import insert_ignore, insert_ignore_many

LEASE = timedelta(seconds=60)
IN_DOUBT = "claimed again after its lease ran out: it may have been sent"
WITHDRAWN = "withdrawn"
UNFINISHED = (OutboxStatus.PENDING, OutboxStatus.SENDING)
TEAM_CHANNEL = "channel:"  # conversation keys of posts in a team channel (not about one person)


def _forgotten_conversation() -> Any:
    """What a final row keeps of its conversation: a team channel, never a person's."""
    return case(
        (col(OutboxMessage.channel_key).startswith(TEAM_CHANNEL), col(OutboxMessage.channel_key)), else_=""
    )


FINAL: dict[str, Any] = {"target": {}, "payload": {}}  # what a final row keeps of its recipient and words


def _final_if(condition: Any) -> dict[str, Any]:
    """FINAL where `condition` holds, the row's own target and words elsewhere."""
    columns = OutboxMessage.__table__.c  # type: ignore[attr-defined]
    return {
        name: case((condition, type_coerce(empty, columns[name].type)), else_=columns[name])
        for name, empty in FINAL.items()
    }


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    channel_key: str,
    target: dict[str, Any],
    payload: dict[str, Any],
    now: datetime,
    not_before: datetime | None = None,
    aliases: Sequence[str] = (),
) -> bool:
    """Queue one logical message; a second enqueue with the same key is a no-op. `aliases` are
    the forms the same key takes under older pseudonym keys (during a key rotation)."""
    if (
        aliases
        and session.exec(select(col(OutboxMessage.id)).where(col(OutboxMessage.key).in_(aliases))).first()
    ):
        return False
    return insert_ignore(
        session, OutboxMessage, _row(key, kind, channel_key, target, payload, now, not_before), ["key"]
    )


def enqueue_many(
    session: Session,
    *,
    kind: str,
    messages: Sequence[tuple[str, Sequence[str], str, dict[str, Any], dict[str, Any], datetime]],
) -> set[str]:
    """`enqueue` for many messages in one INSERT (at most one more query, during a key
    rotation): each is (key, aliases, channel_key, target, payload, now). Returns the keys queued."""
    old_forms = [alias for _, aliases, *_ in messages for alias in aliases]
    seen = (
        set(session.exec(select(col(OutboxMessage.key)).where(col(OutboxMessage.key).in_(old_forms))).all())
        if old_forms
        else set()
    )
    rows = [
        _row(key, kind, channel_key, target, payload, now, None)
        for key, aliases, channel_key, target, payload, now in messages
        if not seen.intersection(aliases)
    ]
    return {key for (key,) in insert_ignore_many(session, OutboxMessage, rows, ["key"])}


def _row(
    key: str,
    kind: str,
    channel_key: str,
    target: dict[str, Any],
    payload: dict[str, Any],
    now: datetime,
    not_before: datetime | None,
) -> dict[str, Any]:
    return {
        "key": key,
        "kind": kind,
        "channel_key": channel_key,
        "target": target,
        "payload": payload,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }


_TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]


def _claim_statement(*, skip_busy: bool) -> Any:
    """The claim as one UPDATE ... RETURNING, built once: the outbox worker claims on every pass
    of its loop (dozens a second under load), and building, keying and compiling the statement
    anew each time cost three times the CPU of running it. Parameters: `now`, `lease_cutoff`,
    `limit` and, with `skip_busy`, `busy` (row ids)."""
    t = _TABLE
    now = bindparam("now", type_=t.c.next_attempt_at.type)
    due = or_(
        and_(t.c.status == OutboxStatus.PENDING, t.c.next_attempt_at <= now),
        and_(
            t.c.status == OutboxStatus.SENDING,
            t.c.claimed_at < bindparam("lease_cutoff", type_=t.c.claimed_at.type),
        ),
    )
    # No earlier row of the conversation holds this one back. An earlier row holds it back
    # while it is due, being sent or waiting for a retry; one queued for later (a welcome back
    # at the end of a break, a reminder) never tried yet does not: it would hold a person's
    # messages for hours. A row put back without spending an attempt (paced, or a 429's
    # Retry-After) has been claimed before: its `last_error` says why it waits, so it keeps
    # its place.
    earlier = t.alias("earlier")
    first_of_its_conversation = ~exists().where(
        earlier.c.channel_key == t.c.channel_key,
        earlier.c.id < t.c.id,
        earlier.c.status.in_(UNFINISHED),
        or_(earlier.c.attempts > 0, earlier.c.last_error.is_not(None), earlier.c.next_attempt_at <= now),
    )
    wanted = [due, first_of_its_conversation]
    if skip_busy:
        wanted.append(t.c.id.not_in(bindparam("busy", expanding=True)))
    picked = due_ids(t.c.id, due=and_(*wanted), order_by=t.c.next_attempt_at, limit=bindparam("limit"))
    values = {
        "status": OutboxStatus.SENDING,
        "claimed_at": now,
        "attempts": t.c.attempts + 1,
        # SET sees the row as it was: still `sending` means its last worker never said how it went
        # (a row withdrawn meanwhile stays withdrawn: the worker closes it without sending).
        "last_error": case(
            (t.c.last_error == WITHDRAWN, WITHDRAWN),
            (t.c.status == OutboxStatus.SENDING, IN_DOUBT),
            else_=t.c.last_error,
        ),
    }
    return update(t).where(t.c.id.in_(picked)).values(**values).returning(*t.c)


_CLAIM = {skip_busy: _claim_statement(skip_busy=skip_busy) for skip_busy in (False, True)}


def claim_due(
    session: Session, *, now: datetime, limit: int, busy: Collection[int] = ()
) -> list[OutboxMessage]:
    """Atomically take up to `limit` due rows for this worker, at most one per conversation,
    soonest first. `busy`: rows this worker is sending right now, never taken again by it (even
    when a clock moved on past their lease). The rows returned are detached copies."""
    parameters: dict[str, Any] = {"now": now, "lease_cutoff": now - LEASE, "limit": limit}
    if busy:
        parameters["busy"] = list(busy)
    found = session.connection().execute(_CLAIM[bool(busy)], parameters)
    rows = [OutboxMessage(**row._mapping) for row in found]
    return sorted(rows, key=lambda row: (row.next_attempt_at, row.id or 0))


def next_due_at(session: Session) -> datetime | None:
    statement = select(func.min(col(OutboxMessage.next_attempt_at))).where(
        col(OutboxMessage.status) == OutboxStatus.PENDING
    )
    return session.exec(statement).one()


def _ours(row: OutboxMessage) -> Any:
    """The row as this worker claimed it: still sending, and not claimed again since."""
    return and_(
        col(OutboxMessage.id) == row.id,
        col(OutboxMessage.status) == OutboxStatus.SENDING,
        col(OutboxMessage.attempts) == row.attempts,
    )


def _mark_sent_statement() -> Any:
    """One UPDATE for any number of rows, run with a parameter set per row: built once, and sent
    to PostgreSQL in one round trip (psycopg pipelines an executemany)."""
    table = _TABLE
    return (
        update(table)
        .where(
            table.c.id == bindparam("row_id"),
            table.c.status == OutboxStatus.SENDING,
            table.c.attempts == bindparam("row_attempts"),
        )
        .values(
            status=OutboxStatus.SENT,
            sent_at=bindparam("row_sent_at", type_=table.c.sent_at.type),
            result=bindparam("row_result", type_=table.c.result.type),
            last_error=None,
            # Once delivered, who it went to and what it said are no longer needed here:
            # dropping them keeps the outbox from linking a person to, say, their answer.
            channel_key=_forgotten_conversation(),
            **FINAL,
        )
    )


_MARK_SENT = _mark_sent_statement()


def mark_sent(session: Session, row: OutboxMessage, *, now: datetime, result: dict[str, Any] | None) -> None:
    mark_sent_many(session, [(row, now, result)])


def mark_sent_many(
    session: Session, sent: Sequence[tuple[OutboxMessage, datetime, dict[str, Any] | None]]
) -> None:
    """Each row as its worker claimed it (still sending, same attempt) is marked sent at its
    time, keeping `result` (where a channel post landed, or None)."""
    if sent:
        session.execute(
            _MARK_SENT,
            [
                {"row_id": row.id, "row_attempts": row.attempts, "row_sent_at": at, "row_result": result}
                for row, at, result in sent
            ],
        )


def reschedule(
    session: Session, row: OutboxMessage, *, at: datetime, error: str, spend_attempt: bool = True
) -> None:
    """Back to pending until `at`; without `spend_attempt` the try does not count (it was
    never made: paced, or the platform asked us to wait). A row withdrawn while it was being
    sent is not tried again: it is closed."""
    # One statement, so that a withdrawal committed while it waits for the row is seen (on
    # PostgreSQL the SET is worked out again on the row as the withdrawal left it).
    withdrawn = col(OutboxMessage.last_error) == WITHDRAWN
    values: dict[str, Any] = {
        "status": case((withdrawn, OutboxStatus.FAILED), else_=OutboxStatus.PENDING),
        "next_attempt_at": at,
        "claimed_at": None,
        "last_error": case((withdrawn, WITHDRAWN), else_=error[:500]),
        "channel_key": case((withdrawn, _forgotten_conversation()), else_=col(OutboxMessage.channel_key)),
        **_final_if(withdrawn),
    }
    if not spend_attempt:
        values["attempts"] = row.attempts - 1
    session.execute(update(OutboxMessage).where(_ours(row)).values(**values))


def mark_failed(session: Session, row: OutboxMessage, *, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(_ours(row))
        .values(
            status=OutboxStatus.FAILED,
            claimed_at=None,
            last_error=error[:500],
            channel_key=_forgotten_conversation(),
            **FINAL,
        )
    )


def _keys(key: str | Sequence[str]) -> list[str]:
    return [key] if isinstance(key, str) else list(key)


def cancel(session: Session, key: str | Sequence[str]) -> bool:
    """Withdraw a pending message before any worker claims it; True when it was withdrawn."""
    statement = (
        update(OutboxMessage)
        .where(col(OutboxMessage.key).in_(_keys(key)), col(OutboxMessage.status) == OutboxStatus.PENDING)
        .values(
            status=OutboxStatus.FAILED, last_error=WITHDRAWN, channel_key=_forgotten_conversation(), **FINAL
        )
        .returning(col(OutboxMessage.id))
    )
    return session.execute(statement).first() is not None


def withdraw(session: Session, key: str | Sequence[str]) -> bool:
    """Like `cancel`, and also for a message being sent right now: if that send fails it is
    not tried again (`reschedule` closes it). For a note that a later message makes wrong, such
    as "setting your break…" once the break is set. A message being sent stays `sending` until
    its worker records how it went: it keeps holding back the rest of its conversation, so the
    later message cannot overtake it on the platform and be hidden by it."""
    sending = col(OutboxMessage.status) == OutboxStatus.SENDING
    statement = (
        update(OutboxMessage)
        .where(
            col(OutboxMessage.key).in_(_keys(key)),
            col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
            or_(col(OutboxMessage.last_error).is_(None), col(OutboxMessage.last_error) != WITHDRAWN),
        )
        # One statement (see `reschedule`): a row put back meanwhile is closed, not left waiting.
        .values(
            status=case((sending, OutboxStatus.SENDING), else_=OutboxStatus.FAILED),
            claimed_at=case((sending, col(OutboxMessage.claimed_at)), else_=None),
            last_error=WITHDRAWN,
            channel_key=case((sending, col(OutboxMessage.channel_key)), else_=_forgotten_conversation()),
            **_final_if(~sending),
        )
        .returning(col(OutboxMessage.id))
    )
    return session.execute(statement).first() is not None


def depth(session: Session) -> int:
    unfinished = col(OutboxMessage.status).in_(UNFINISHED)
    statement = select(func.count()).select_from(OutboxMessage).where(unfinished)
    return session.exec(statement).one()


def overdue(session: Session, *, due_before: datetime) -> tuple[int, datetime | None]:
    """Messages not yet delivered that were due before `due_before`, and the earliest due time
    among them. Messages scheduled for later (a break's welcome back, a reminder) are not
    overdue, so they never show who is on a break or was reminded."""
    count, earliest = session.exec(
        select(func.count(), func.min(col(OutboxMessage.next_attempt_at))).where(
            col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
            col(OutboxMessage.next_attempt_at) <= due_before,
        )
    ).one()
    return int(count), earliest


def find(session: Session, key: str | Sequence[str]) -> OutboxMessage | None:
    return session.exec(select(OutboxMessage).where(col(OutboxMessage.key).in_(_keys(key)))).first()
