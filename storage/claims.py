"""Claiming due rows for one worker, safe with several workers on PostgreSQL.

The due rows are picked in a sub-select that skips rows other workers hold (FOR UPDATE SKIP
LOCKED; SQLite has one writer at a time anyway), and marked as claimed in the same UPDATE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import update
from sqlmodel import Session, SQLModel, col, select

Row = TypeVar("Row", bound=SQLModel)


def due_ids(identity: Any, *, due: Any, order_by: Any, limit: Any) -> Any:
    """The sub-select of a claim: the ids of up to `limit` rows matching `due`, soonest first,
    skipping rows other workers hold. `limit` may be a number or a bound parameter."""
    return (
        select(identity)
        .where(due)
        .order_by(order_by, identity)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )


def claim(
    session: Session, model: type[Row], *, due: Any, order_by: Any, values: dict[str, Any], limit: int
) -> list[Row]:
    """Mark up to `limit` rows matching `due` with `values` and return them, soonest first."""
    identity = col(model.id)  # type: ignore[attr-defined]
    picked = due_ids(identity, due=due, order_by=col(order_by), limit=limit)
    statement = update(model).where(identity.in_(picked)).values(**values).returning(model)
    rows: list[Row] = list(
        session.execute(statement, execution_options={"synchronize_session": False}).scalars()
    )
    return sorted(rows, key=lambda row: (_when(getattr(row, order_by.key)), getattr(row, "id", 0) or 0))


def _when(value: datetime | None) -> datetime:
    return value if value is not None else datetime.min
