"""The loop every background worker runs (bot/loop.py): a database that is away for a moment is
one warning line and another look a second later; anything else is a bug and keeps its traceback."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy.exc import OperationalError

from bot.loop import work_until_stopped


def _run_one_idle_pass(idle_wait_error: Exception) -> None:
    stop, wake = threading.Event(), threading.Event()

    def run_once() -> int:
        return 0

    def idle_wait() -> float:
        stop.set()  # one pass is enough
        raise idle_wait_error

    work_until_stopped("test worker", stop, wake, run_once, idle_wait)


def test_an_unreachable_database_while_idle_is_one_line_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    away = OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
    with caplog.at_level(logging.WARNING, logger="bot.loop"):
        _run_one_idle_pass(away)
    assert [record.levelno for record in caplog.records] == [logging.WARNING]
    assert caplog.records[0].exc_info is None
    assert caplog.records[0].getMessage() == (
        "test worker: cannot tell when work is due; looking again shortly"
        " (the database is unreachable: OperationalError)"
    )


def test_a_bug_while_idle_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.loop"):
        _run_one_idle_pass(ValueError("a bug"))
    assert len(caplog.records) == 1
    assert caplog.records[0].levelno == logging.ERROR
    assert caplog.records[0].exc_info is not None
