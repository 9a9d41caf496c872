"""The group commit: one request whose row the database refuses fails alone, never the others."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, func, text
from sqlmodel import select

from bot.intake import IntakeWriter
from storage.db import is_sqlite, session_scope
from storage.models import InboundEvent
from tests.helpers import inbound_row as row


@pytest.mark.parametrize("bad", ["missing team", "NUL in the event id"])
def test_a_row_the_database_refuses_fails_only_its_own_request(engine: Engine, bad: str) -> None:
    if bad == "NUL in the event id" and is_sqlite(engine):
        pytest.skip("SQLite stores NUL characters; only PostgreSQL refuses them")
    refused = row("bad", team_id=None) if bad == "missing team" else row("bad\x00id")
    writer = IntakeWriter(engine)
    # Hold the table so the writer waits while the next requests queue up behind it: they are
    # then stored in one group commit, the refused row among them.
    with engine.connect() as holder:
        # On SQLite every write transaction begins IMMEDIATE, which takes the write lock.
        lock = "SELECT 1" if is_sqlite(engine) else "LOCK TABLE inbound_events IN SHARE MODE"
        holder.execute(text(lock))
        futures = [writer.submit([row("first")]), writer.submit([refused]), writer.submit([row("last")])]
        time.sleep(0.2)
        holder.rollback()
    try:
        assert futures[0].result(10) == 1 and futures[2].result(10) == 1
        assert futures[1].exception(10) is not None
    finally:
        writer.stop()
    with session_scope(engine) as session:
        stored = session.exec(select(InboundEvent.event_id).order_by(InboundEvent.event_id)).all()
        assert stored == ["first", "last"]
        assert session.exec(select(func.count()).select_from(InboundEvent)).one() == 2


def test_the_writer_itself_wakes_the_processor_once_new_rows_are_committed(engine: Engine) -> None:
    # From its own thread, before the requests' handlers hear back; a duplicate wakes nobody.
    woken: list[int] = []

    def wake() -> None:
        with session_scope(engine) as session:  # what the processor would find now
            woken.append(session.exec(select(func.count()).select_from(InboundEvent)).one())

    writer = IntakeWriter(engine, on_stored=wake)
    try:
        assert writer.submit([row("first")]).result(10) == 1
        assert writer.submit([row("first")]).result(10) == 0
    finally:
        writer.stop()
    assert woken == [1]
