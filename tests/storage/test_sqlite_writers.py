"""SQLite: the writers of one process take the write lock in turn (storage/db.py, _WriterQueue),
and no way a write transaction can end leaves the next writer waiting."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import text

from storage.db import make_engine, read_scope, session_scope

WAIT_S = 10.0  # far under the 30 s a writer would wait behind a lock that was never released


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sqlalchemy.Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    with made.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    yield made
    made.dispose()


def write(engine: sqlalchemy.Engine, n: int = 1) -> None:
    with session_scope(engine) as session:
        session.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})


def in_thread(work: Callable[[], None]) -> bool:
    """Runs `work` in another thread; whether it finished in time."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(WAIT_S)
    return not thread.is_alive()


def count(engine: sqlalchemy.Engine) -> int:
    with read_scope(engine) as session:
        return int(session.execute(text("SELECT count(*) FROM t")).scalar_one())


def test_many_threads_writing_at_once_all_commit(engine: sqlalchemy.Engine) -> None:
    def writer() -> None:
        for _ in range(25):
            write(engine)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    assert count(engine) == 200


def test_a_failed_transaction_lets_the_next_writer_in(engine: sqlalchemy.Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.execute(text("INSERT INTO t (n) VALUES (1)"))
        raise RuntimeError("a bug halfway through")
    assert in_thread(lambda: write(engine, 2))
    assert count(engine) == 1


def test_a_connection_given_back_mid_transaction_lets_the_next_writer_in(engine: sqlalchemy.Engine) -> None:
    for lost in (False, True):
        connection = engine.connect()
        connection.execute(text("INSERT INTO t (n) VALUES (1)"))  # begins a write transaction
        if lost:
            connection.invalidate()  # as after a connection lost mid-transaction
        else:
            connection.close()  # neither committed nor rolled back
        assert in_thread(lambda: write(engine, 2))
    assert count(engine) == 2  # the two writes after, not the unfinished ones


def test_readers_never_wait_for_a_writer(engine: sqlalchemy.Engine) -> None:
    write(engine)
    with session_scope(engine) as session:
        session.execute(text("INSERT INTO t (n) VALUES (2)"))  # holds the write lock, uncommitted
        seen: list[int] = []
        assert in_thread(lambda: seen.append(count(engine)))
        assert seen == [1]  # the committed row only
    assert count(engine) == 2
