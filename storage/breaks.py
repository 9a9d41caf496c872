"""Break queue operations: which breaks need the phone system now. Callers own the transaction.

A break is due while it waits to be set (`requested`) or to be restored (`on_break`, due at
its end). Claiming stamps `claimed_at`, a lease: a worker that dies mid-call leaves the lease
to expire and another worker takes the break over. On PostgreSQL the claim skips rows other
workers hold (FOR UPDATE SKIP LOCKED), so several processes never act on one break at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from storage.claims import claim
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
    values = {"claimed_at": now, "attempts": col(Break.attempts) + 1}
    return claim(session, Break, due=_due(now), order_by=Break.next_attempt_at, values=values, limit=limit)


def next_due_at(session: Session) -> datetime | None:
    """When the next unclaimed break falls due (None when nothing is waiting)."""
    statement = select(func.min(col(Break.next_attempt_at))).where(
        col(Break.state).in_(ACTIVE_STATES), col(Break.claimed_at).is_(None)
    )
    return session.exec(statement).one()
