"""INSERT ... ON CONFLICT DO NOTHING / DO UPDATE for both SQLite and PostgreSQL."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, func, select
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


@cache
def _rows_statement(
    table: Table,
    postgres: bool,
    names: tuple[str, ...],
    returning: tuple[str, ...],
    conflict: tuple[str, ...] = (),
    update: bool = False,
    keep_when_null: tuple[str, ...] = (),
) -> Any:
    """An INSERT of many rows giving the columns `names`, built once per shape: a statement
    SQLAlchemy has built and keyed before costs nothing to build again. `conflict` names the
    natural key whose conflicts are skipped, or with `update` overwritten (but a None in a
    `keep_when_null` column keeps the stored value).

    On PostgreSQL the rows travel as one array per column (INSERT ... SELECT FROM unnest), so
    the text is the same for any number of rows: psycopg caches and prepares it, where it parses
    a multi-row VALUES list of over 50 parameters again every time. On SQLite the rows are
    executed as parameter sets, which SQLAlchemy batches into multi-row INSERTs."""
    statement: Any
    if postgres:
        arrays = [
            # dimensions=1: a JSON column's list is one item, not a nested array.
            bindparam(f"rows_{name}", type_=postgresql.ARRAY(table.c[name].type, dimensions=1))
            for name in names
        ]
        source = func.unnest(*arrays).table_valued(*names).render_derived()
        statement = postgresql.insert(table).from_select(list(names), select(*source.c))
    else:
        statement = sqlite.insert(table)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=list(conflict),
            set_={
                name: func.coalesce(statement.excluded[name], table.c[name])
                if name in keep_when_null
                else statement.excluded[name]
                for name in names
                if name not in conflict
            },
        )
    elif conflict:
        statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
    return statement.returning(*(table.c[name] for name in returning)) if returning else statement


def _execute_rows(session: Session, model: type[SQLModel], rows: list[dict[str, Any]], **shape: Any) -> Any:
    """Run the statement `_rows_statement` builds for `rows`, which all give the same columns."""
    postgres = session.get_bind().dialect.name == "postgresql"
    names = tuple(rows[0])
    statement = _rows_statement(model.__table__, postgres, names, **shape)  # type: ignore[attr-defined]
    if postgres:
        return session.execute(statement, {f"rows_{name}": [row[name] for row in rows] for name in names})
    return session.execute(statement, rows)


def insert_many(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]], returning: list[str]
) -> list[tuple[Any, ...]]:
    """Insert many rows in one statement (any conflict fails it); the `returning` columns of
    the rows inserted, in no particular order."""
    if not rows:
        return []
    return [tuple(row) for row in _execute_rows(session, model, rows, returning=tuple(returning))]


def insert_ignore_many(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]], keys: list[str]
) -> set[tuple[Any, ...]]:
    """Insert many rows in one statement, skipping those whose natural key exists; returns the
    natural keys that went in."""
    if not rows:
        return set()
    shape = {"returning": tuple(keys), "conflict": tuple(keys)}
    return {tuple(row) for row in _execute_rows(session, model, rows, **shape)}


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
    shape = {"returning": (), "conflict": tuple(keys), "update": True, "keep_when_null": keep_when_null}
    _execute_rows(session, model, rows, **shape)
