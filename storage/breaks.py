"""Break queue operations: which breaks need the phone system now. Callers own the transaction.

A break is due while it waits to be set (`requested`) or to be restored (`on_break`, due at
its end). Claiming stamps `claimed_at`, a lease: a worker that dies mid-call leaves the lease
to expire and another worker takes the break over. On PostgreSQL the claim skips rows other
workers hold (FOR UPDATE SKIP LOCKED), so several processes never act on one break at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlmodel import Session, col, select

from storage.models.recovery import ACTIVE_STATES, Break

LEASE = timedelta(seconds=120)  # longer than the slowest phone-system call with its retries


def _due(now: datetime) -> Any:
    return and_(
        col(Break.state).in_(ACTIVE_STATES),
        col(Break.next_attempt_at) <= now,
        or_(col(Break.claimed_at).is_(None), col(Break.claimed_at) < now - LEASE),
    )


def claim_due(session: Session, *, now: datetime, limit: int) -> list[Break]:
    """Atomically take up to `limit` due breaks for this worker, soonest first."""
    due_ids = (
        select(col(Break.id))
        .where(_due(now))
        .order_by(col(Break.next_attempt_at), col(Break.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(Break)
        .where(col(Break.id).in_(due_ids))
        .values(claimed_at=now, attempts=col(Break.attempts) + 1)
        .returning(Break)
    )
    rows: list[Break] = list(
        session.execute(statement, execution_options={"synchronize_session": False}).scalars()
    )
    return sorted(rows, key=lambda row: (row.next_attempt_at, row.id))


def next_due_at(session: Session) -> datetime | None:
    """When the next unclaimed break falls due (None when nothing is waiting)."""
    statement = select(func.min(col(Break.next_attempt_at))).where(
        col(Break.state).in_(ACTIVE_STATES), col(Break.claimed_at).is_(None)
    )
    return session.exec(statement).one()
