"""Migrated databases for tests, without migrating once per test.

Alembic is the only source of schema, and running every migration takes about 0.1 s on SQLite
and 0.3 to 1 s on PostgreSQL; with hundreds of tests on each, that was most of the suite's
set-up. So the migrations run once per test session, and each test gets a database that is
exactly what `upgrade()` makes of an empty one:

- SQLite: one migrated template file, copied to the test's own temporary directory.
- PostgreSQL: one migrated schema per session (a unique name, so test runs sharing the server
  never meet, dropped at the end), emptied before each test: every table's rows deleted and
  every sequence restarted, which costs milliseconds where creating a schema costs a second.
  Connections a previous test left open are closed first, so nothing it held (a row lock, the
  scheduler's advisory lock) reaches the next test. A test that leaves the schema at another
  revision (the downgrade test, should it fail half way) gets it rebuilt from scratch.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import sqlalchemy
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table on the metadata)
from storage.db import make_engine, upgrade


def _revision(engine: sqlalchemy.Engine) -> str | None:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


class SqliteTemplate:
    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.db"
        engine = make_engine(f"sqlite:///{self.path}")
        upgrade(engine)
        engine.dispose()  # the last connection to close folds the WAL into the file
        for leftover in ("-wal", "-shm"):
            assert not Path(f"{self.path}{leftover}").exists(), "the template is not self-contained"

    def copy_to(self, path: Path) -> str:
        shutil.copyfile(self.path, path)
        return f"sqlite:///{path}"


def schema_url(server_url: str, schema: str, *, named: bool = True) -> str:
    """The server's URL with `schema` as the search path: the app's tables live there. Its
    connections are `named` after the schema, so the ones a test leaves open can be found."""
    separator = "&" if "?" in server_url else "?"
    url = f"{server_url}{separator}options=-csearch_path%3D{schema}"
    return f"{url}&application_name={schema}" if named else url


class PostgresSchema:
    """One migrated schema for a whole test session, handed to each test emptied."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.admin = sqlalchemy.create_engine(
            server_url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.NullPool
        )
        self.schema = ""
        self._build()

    def _build(self) -> None:
        self.schema = f"t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{self.schema}"')
        self.url = schema_url(self.server_url, self.schema)
        # Not named: it survives the closing of the tests' connections, and keeps one open.
        self.engine = sqlalchemy.create_engine(schema_url(self.server_url, self.schema, named=False))
        upgrade(self.engine)
        self.head = _revision(self.engine)
        with self.engine.connect() as connection:
            self.sequences: list[str] = list(
                connection.exec_driver_sql(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
                )
                .scalars()
                .all()
            )
        # Children before parents, so no foreign key is ever left dangling.
        self.tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]

    def _drop(self) -> None:
        self.engine.dispose()
        self._close_others()
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def _close_others(self) -> None:
        """End every connection still open on this schema (they carry its name)."""
        with self.admin.connect() as connection:
            connection.execute(
                sqlalchemy.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self.schema},
            )

    def fresh(self) -> str:
        """The schema's URL, its tables empty and its sequences back at the start."""
        self._close_others()
        try:
            current = _revision(self.engine)
        except sqlalchemy.exc.DBAPIError:
            current = None
        if current != self.head:
            self._drop()
            self._build()
            return self.url
        with self.engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            connection.exec_driver_sql(";".join(f'DELETE FROM "{table}"' for table in self.tables))
            for sequence in self.sequences:
                connection.execute(sqlalchemy.text("SELECT setval(:s, 1, false)"), {"s": f'"{sequence}"'})
        return self.url

    def close(self) -> None:
        self._drop()
        self.admin.dispose()
