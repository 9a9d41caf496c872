"""INSERT ... ON CONFLICT DO NOTHING / DO UPDATE for both SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def _insert_for(session: Session, model: type[SQLModel]) -> tuple[Any, Any]:
    """The model's table, and the dialect's INSERT that knows ON CONFLICT."""
    dialect = session.get_bind().dialect.name
    return model.__table__, (postgresql.insert if dialect == "postgresql" else sqlite.insert)  # type: ignore[attr-defined]


def insert_ignore(session: Session, model: type[SQLModel], values: dict[str, Any], keys: list[str]) -> bool:
    """Insert a row unless one with the same natural key exists. True when a row was inserted."""
    table, insert = _insert_for(session, model)
    # RETURNING tells reliably whether a row went in (rowcount is -1 on some drivers).
    statement = (
        insert(table).values(**values).on_conflict_do_nothing(index_elements=keys).returning(table.c[keys[0]])
    )
    return session.execute(statement).first() is not None


def insert_ignore_many(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]], keys: list[str]
) -> set[tuple[Any, ...]]:
    """Insert many rows in one statement, skipping those whose natural key exists; returns the
    natural keys that went in."""
    if not rows:
        return set()
    table, insert = _insert_for(session, model)
    # One statement executed with many parameter sets: SQLAlchemy sends it as multi-row INSERTs
    # ("insertmanyvalues") but builds and caches the statement once, whatever the row count,
    # which costs half the time of building a VALUES list for every batch.
    statement = (
        insert(table).on_conflict_do_nothing(index_elements=keys).returning(*(table.c[k] for k in keys))
    )
    return {tuple(row) for row in session.execute(statement, rows)}


def upsert_many(
    session: Session,
    model: type[SQLModel],
    rows: list[dict[str, Any]],
    keys: list[str],
    *,
    keep_when_null: tuple[str, ...] = (),
) -> None:
    """Insert many rows in one statement, or update those whose natural key exists: every given
    column is overwritten, except that a None in a `keep_when_null` column keeps the stored
    value. All rows must give the same columns."""
    if not rows:
        return
    table, insert = _insert_for(session, model)
    statement = insert(table)
    changed = {
        name: func.coalesce(statement.excluded[name], table.c[name])
        if name in keep_when_null
        else statement.excluded[name]
        for name in rows[0]
        if name not in keys
    }
    session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changed), rows)
