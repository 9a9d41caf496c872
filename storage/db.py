"""Engine, sessions and migrations. Nothing is created at import time."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

MIGRATIONS = Path(__file__).parent / "migrations"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    # An error's text must not carry the statement's values (e-mails, ids) into a log line.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        writers = _WriterQueue()
        event.listen(engine, "begin", writers.begin)
        for name in ("commit", "rollback"):
            event.listen(engine, name, writers.end)
        for name in ("checkin", "invalidate"):  # a transaction that never ended (an error, a bug)
            event.listen(engine, name, writers.returned)
        return engine
    # Request handlers no longer hold connections (intake is group-committed); the pool serves
    # the background workers, Slack listeners and the occasional burst.
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=20, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's documented pysqlite recipe: let SQLAlchemy emit BEGIN itself, so
    # SAVEPOINTs work; see _WriterQueue for which BEGIN.
    dbapi_connection.isolation_level = None
    # WAL lets the webhook handlers, the workers and the CLI read while one of them writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


READ_ONLY = "breather_read_only"


WRITER_WAIT_S = 30.0  # as long as SQLite's own busy timeout
HOLDS_WRITE = "breather_holds_write"


class _WriterQueue:
    """The threads of one process take SQLite's one write lock in turn.

    IMMEDIATE takes the write lock up front: a transaction that reads and then writes can
    otherwise fail at once with "database is locked" when another writer got in between.
    Read-only work (read_scope) begins deferred and so never waits for writers under WAL.
    Writers of this process first queue on a lock of their own: SQLite's busy handler polls
    with sleeps of up to 100 ms, so with the intake, the event processor and the outbox all
    writing, a writer could lose that race again and again (a check-in DM waited 0.5 s at the
    95th percentile); a waiter on this lock is woken as soon as the writer before it ends.
    Other processes (the CLI) still meet SQLite's busy timeout.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        # Never forever: a thread that already writes on another connection would wait for
        # itself; after the wait SQLite's own busy timeout decides, as it did before.
        writes = not read_only and not connection.info.get(HOLDS_WRITE)
        if writes and self._lock.acquire(timeout=WRITER_WAIT_S):
            connection.info[HOLDS_WRITE] = True
        try:
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
        except BaseException:
            self.end(connection)
            raise

    def end(self, connection: Any) -> None:
        self._release(connection.info)

    def returned(self, _dbapi_connection: Any, record: Any, *_exception: Any) -> None:
        if record is not None:
            self._release(record.info)

    def _release(self, info: dict[str, Any]) -> None:
        if info.pop(HOLDS_WRITE, False):
            self._lock.release()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A session for reading only: on SQLite it does not take the write lock."""
    with Session(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


# A data step a migration may need from the application (migration 0008: hashing, with the
# pseudonym key, identifiers stored in the clear by earlier versions).
LegacyConversion = Callable[[Connection], object]


def alembic_config(engine: Engine, convert_legacy: LegacyConversion | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    if convert_legacy is not None:
        config.attributes["convert_legacy"] = convert_legacy
    return config


MIGRATION_LOCK = 7_240_301  # advisory lock id: one process migrates at a time
# Keyed by the schema too, so installations sharing one database never block each other.
LOCK = text("SELECT pg_advisory_lock(:key, hashtext(current_schema()))")
UNLOCK = text("SELECT pg_advisory_unlock(:key, hashtext(current_schema()))")


@functools.cache
def _newest_revision() -> str | None:
    # Reading the migration scripts is most of what an upgrade that has nothing to do costs:
    # once per process is enough, they do not change under it.
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def at_head(engine: Engine) -> bool:
    """Whether the schema is already at the newest migration. A migration under way elsewhere
    is not: its revision is stamped in the same transaction as its changes."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        current: list[str] = list(
            connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        )
    return current == [_newest_revision()]


def upgrade(
    engine: Engine, revision: str = "head", *, convert_legacy: LegacyConversion | None = None
) -> None:
    """Bring the schema to `revision` (Alembic is the only source of schema).

    On PostgreSQL an advisory lock makes concurrent starts of several processes wait for
    one another instead of racing to create the same tables.
    """
    if revision == "head" and at_head(engine):
        return  # a restart, most of the time: nothing to run, no lock to wait for
    config = alembic_config(engine, convert_legacy)
    if is_sqlite(engine):
        command.upgrade(config, revision)
        return
    with engine.connect() as lock:
        lock.execute(LOCK, {"key": MIGRATION_LOCK})
        try:
            command.upgrade(config, revision)
        finally:
            lock.execute(UNLOCK, {"key": MIGRATION_LOCK})
            lock.commit()


def unreachable(error: BaseException) -> bool:
    """The database itself is failing (down, restarting, the connection lost), not one statement."""
    return isinstance(error, OperationalError | InterfaceError) or bool(
        getattr(error, "connection_invalidated", False)
    )


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
