"""Scheduled jobs (APScheduler 3), run by exactly one process.

Jobs are rebuilt from the configuration on every start under stable ids
(`f"{JobId.X}:{team_id}"`), so nothing about them needs to be stored; the work they do is
idempotent in the database (a survey round per team and period, say), so even an
unlucky double run is harmless.

Leadership: on PostgreSQL several `serve` processes may share the database; the one that
holds a session-level advisory lock on a dedicated connection runs the scheduler, and the
lock goes away with that connection if the process dies. The lock is keyed by the schema too,
so two installations sharing one database do not block each other. SQLite means one process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import Connection, Engine, text

from bot.loop import log_failure
from storage.db import is_sqlite

log = logging.getLogger(__name__)

SCHEDULER_LOCK = 7_240_302
TRY_LOCK = text("SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))")
UNLOCK = text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))")
MISFIRE_GRACE_S = 900  # a job due while the process was restarting still runs, up to 15 min late


@dataclass(frozen=True)
class JobSpec:
    id: str
    trigger: BaseTrigger
    func: Callable[[], object]


class Leadership:
    def __init__(self, engine: Engine, key: int = SCHEDULER_LOCK) -> None:
        self.engine = engine
        self.key = key
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        if is_sqlite(self.engine):
            return True
        if self._connection is not None:
            return True
        connection = self.engine.connect()
        try:
            won = bool(connection.execute(TRY_LOCK, {"k": self.key}).scalar())
            connection.commit()
        except Exception:
            connection.close()
            raise
        if won:
            self._connection = connection
        else:
            connection.close()
        return won

    def still_held(self) -> bool:
        if is_sqlite(self.engine):
            return True
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except Exception:
            log.warning("lost the scheduler lock's database connection")
            self._drop()
            return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(UNLOCK, {"k": self.key})
                self._connection.commit()
            except Exception:
                log.debug("could not unlock cleanly; closing the connection releases the lock anyway")
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                log.debug("closing a broken connection failed", exc_info=True)
            self._connection = None


def guarded(job_id: str, func: Callable[[], object]) -> Callable[[], None]:
    """Each run is its own error boundary: one failing job never stops the others."""

    def run() -> None:
        try:
            func()
        except Exception as error:
            log_failure(log, f"scheduled job {job_id} failed", error)

    return run


class SchedulerRunner:
    """Tries to lead every `retry_s` seconds; while leading, runs the jobs."""

    def __init__(self, engine: Engine, jobs: Callable[[], list[JobSpec]], retry_s: float = 15.0) -> None:
        self.leadership = Leadership(engine)
        self.jobs = jobs
        self.retry_s = retry_s
        self.scheduler: BackgroundScheduler | None = None
        self.leading = threading.Event()

    def _start(self) -> None:
        scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S},
        )
        for job in self.jobs():
            scheduler.add_job(
                guarded(job.id, job.func), trigger=job.trigger, id=job.id, replace_existing=True
            )
        scheduler.start()
        self.scheduler = scheduler
        self.leading.set()
        log.info("this process runs the scheduled jobs (%d)", len(scheduler.get_jobs()))

    def _stop(self) -> None:
        if self.scheduler is not None:
            # A job under way finishes first: it must not work on after the database is closed.
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        self.leading.clear()

    def run_forever(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    if self.scheduler is None:
                        if self.leadership.try_acquire():
                            self._start()
                    elif not self.leadership.still_held():
                        self._stop()
                except Exception as error:
                    log_failure(log, "scheduler leadership check failed; retrying", error)
                stop.wait(self.retry_s)
        finally:
            self._stop()
            self.leadership.release()
