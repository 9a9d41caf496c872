"""The break worker: sets due breaks in the phone system and gives agents their status back.

Breaks are rows, so a restart loses nothing: a break due while the process was down is
restored as soon as a worker runs again. Each claimed break is handled outside any database
transaction (phone systems can be slow), then its outcome is written in a short one. Several
processes may run this worker on one PostgreSQL database; a break is claimed by one at a time.

Retries are bounded. Setting a break gives up quickly (the agent is waiting for an answer and
is then asked to set it themselves); restoring tries for several minutes, because leaving an
agent unavailable by mistake costs them calls and looks like slacking.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.clock import utcnow
from bot.loop import log_failure, work_until_stopped
from bot.recovery.breaks import BreakService
from bot.recovery.phone import PhoneStatus, PhoneSystemError, PhoneUnavailable, StatusChanged
from storage import breaks as queue
from storage.db import session_scope
from storage.models import Break, BreakState

log = logging.getLogger(__name__)

START_ATTEMPTS = 3  # then the agent is told to set the break themselves
START_BACKOFF_S = 1.0
RESTORE_ATTEMPTS = 10  # about five minutes of trying
RESTORE_BACKOFF_S = 2.0
MAX_BACKOFF_S = 60.0


def backoff(attempts: int, base: float, retry_after: float | None) -> float:
    wait: float = min(base * 2.0 ** max(attempts - 1, 0), MAX_BACKOFF_S)
    return max(wait, retry_after or 0.0)


class BreakWorker:
    def __init__(
        self,
        *,
        engine: Engine,
        breaks: BreakService,
        wake: threading.Event,
        batch: int = 10,
        poll_s: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.breaks = breaks
        self.wake = wake
        self.batch = batch
        self.poll_s = poll_s
        self.clock = clock

    def run_once(self) -> int:
        with session_scope(self.engine) as session:
            rows = queue.claim_due(session, now=self.clock(), limit=self.batch)
        for row in rows:
            try:
                if row.state == BreakState.REQUESTED:
                    self._start(row)
                else:
                    self._restore(row)
            except Exception as error:  # keep the break, try again after its lease runs out
                log_failure(log, f"break {row.id} could not be handled", error)
        return len(rows)

    def _retry_or(self, row: Break, error: PhoneUnavailable, *, attempts: int, base: float) -> bool:
        """Schedule another attempt; False when the attempts are used up."""
        if row.attempts >= attempts:
            return False
        at = self.clock() + timedelta(seconds=backoff(row.attempts, base, error.retry_after))
        with session_scope(self.engine) as session:
            self.breaks.retry_later(session, row, at=at, error=str(error))
        return True

    def _start(self, row: Break) -> None:
        system = self.breaks.phones.get(row.provider or "")
        if system is None or row.phone_user_id is None:
            with session_scope(self.engine) as session:
                self.breaks.failed(session, row, error="phone system not configured", now=self.clock())
            return
        if self.clock() - row.requested_at > timedelta(minutes=row.minutes):
            # Found after a long outage: the break would already be over, so starting it now
            # would take the agent off calls by surprise. Say it did not happen instead.
            with session_scope(self.engine) as session:
                self.breaks.failed(
                    session, row, error="request expired before it could be set", now=self.clock()
                )
            return
        try:
            if row.previous_status is None:
                previous = system.read_status(row.phone_user_id)
                with session_scope(self.engine) as session:
                    if not self.breaks.remember_previous(session, row, previous):
                        return  # another worker took the break over
            on_break = system.set_break(row.phone_user_id)
        except PhoneUnavailable as error:
            log.warning("setting a break in %s failed (attempt %d): %s", system.label, row.attempts, error)
            if not self._retry_or(row, error, attempts=START_ATTEMPTS, base=START_BACKOFF_S):
                with session_scope(self.engine) as session:
                    self.breaks.failed(session, row, error=str(error), now=self.clock())
            return
        except PhoneSystemError as error:
            log.error("%s refused to set a break: %s", system.label, error)
            with session_scope(self.engine) as session:
                self.breaks.failed(session, row, error=str(error), now=self.clock())
            return
        with session_scope(self.engine) as session:
            self.breaks.started(session, row, on_break, self.clock())

    def _restore(self, row: Break) -> None:
        system = self.breaks.phones.get(row.provider or "")
        if system is None or row.phone_user_id is None or row.previous_status is None:
            with session_scope(self.engine) as session:
                self.breaks.finished(
                    session, row, BreakState.RESTORE_FAILED, self.clock(), error="phone system not configured"
                )
            return
        try:
            current = system.read_status(row.phone_user_id)
            if current.value != row.break_status:
                outcome = BreakState.KEPT  # the agent changed it themselves: their choice wins
            else:
                if row.previous_status != row.break_status:
                    system.set_status(row.phone_user_id, PhoneStatus(row.previous_status), expected=current)
                outcome = BreakState.RESTORED
        except StatusChanged:
            outcome = BreakState.KEPT
        except PhoneUnavailable as error:
            log.warning("restoring a status in %s failed (attempt %d): %s", system.label, row.attempts, error)
            if not self._retry_or(row, error, attempts=RESTORE_ATTEMPTS, base=RESTORE_BACKOFF_S):
                log.error("gave up restoring a status in %s after %d attempts", system.label, row.attempts)
                with session_scope(self.engine) as session:
                    self.breaks.finished(
                        session, row, BreakState.RESTORE_FAILED, self.clock(), error=str(error)
                    )
            return
        except PhoneSystemError as error:
            log.error("%s refused to restore a status: %s", system.label, error)
            with session_scope(self.engine) as session:
                self.breaks.finished(session, row, BreakState.RESTORE_FAILED, self.clock(), error=str(error))
            return
        with session_scope(self.engine) as session:
            self.breaks.finished(session, row, outcome, self.clock())

    def run_forever(self, stop: threading.Event) -> None:
        work_until_stopped("break worker", stop, self.wake, self.run_once, self._idle_wait)

    def _idle_wait(self) -> float:
        with session_scope(self.engine) as session:  # failures: bot/loop.py's one line
            due = queue.next_due_at(session)
        if due is None:
            return self.poll_s
        return min(max((due - self.clock()).total_seconds(), 0.01), self.poll_s)
