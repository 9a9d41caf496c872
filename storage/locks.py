"""A lock on a name for the rest of the transaction, for a decision that must be made one at
a time although there is no row to lock yet: "count, then insert" (the kudos daily limit).

PostgreSQL: a transaction-level advisory lock, keyed by the name within the current schema
(installations sharing one database never wait for each other), released at commit or
rollback. SQLite: nothing to take, because every write transaction begins IMMEDIATE
(storage/db.py) and so already holds the database's one write lock until it ends.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

NAMED_LOCK = 7_240_303  # advisory lock class (storage/db.py and bot/scheduler.py use 301, 302)
_LOCK = text("SELECT pg_advisory_xact_lock(:space, hashtext(current_schema() || '/' || :name))")


def lock_name(session: Session, name: str) -> None:
    """Wait until no other transaction holds `name`, then hold it until this one ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK, {"space": NAMED_LOCK, "name": name})
