"""What the outbox worker's delivery threads learned, waiting to be written (a group commit).

A delivery thread that has sent a row (or put it back, or failed) hands the outcome here and is
free at once; the worker's loop writes every outcome waiting in one transaction, the same one
that claims the next rows. The database then sees one short write per pass of the loop instead
of two per message (a claim and a "sent"), which on SQLite all queue for one write lock with the
webhooks' group commits; the crash window stays one pass of the loop (milliseconds).

The guarantees this keeps:

- a row is `busy` for this worker from its claim until its outcome is committed, so the worker
  never claims it again meanwhile (even with a clock moved past the lease);
- its conversation's next row is held back by the row itself (still `sending` in the database)
  until its "sent" is committed, so order holds and the next claim sees it sent;
- an outcome whose commit fails stays waiting and is written by a later pass; if the process
  dies first, the row's lease runs out and the next claim looks for the message on the platform
  before sending it again (storage/outbox.py, `IN_DOUBT`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage import outbox as queue
from storage.db import unreachable
from storage.models.outbox import OutboxMessage

log = logging.getLogger(__name__)

Outcome = Callable[[Session], None]  # what to record about one row, applied in the writer's transaction

# An outcome the database keeps refusing (not an outage: a bad statement) is given up after this
# many passes; its row's lease then runs out and the in-doubt look-up decides, never a blind resend.
MAX_TRIES = 5


@dataclass(frozen=True)
class Sent:
    """The outcome "sent" with nothing else to record: the pass writes all of these together,
    in one statement (one round trip), instead of one UPDATE each."""

    row: OutboxMessage
    at: datetime
    result: dict[str, Any] | None = None

    def __call__(self, session: Session) -> None:
        queue.mark_sent(session, self.row, now=self.at, result=self.result)


@dataclass
class Waiting:
    row_id: int
    outcome: Outcome
    tries: int = 0


class PendingOutcomes:
    """Outcomes waiting to be written, and the rows this worker holds (claimed, not yet recorded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[Waiting] = []
        self._busy: set[int] = set()

    def hold(self, row_ids: list[int]) -> None:
        """Rows just claimed: this worker's until their outcome is written."""
        with self._lock:
            self._busy.update(row_ids)

    def add(self, row_id: int, outcome: Outcome) -> None:
        with self._lock:
            self._waiting.append(Waiting(row_id, outcome))

    def release(self, row_id: int) -> None:
        """A held row with nothing to write (its delivery thread failed unexpectedly)."""
        with self._lock:
            self._busy.discard(row_id)

    def busy(self) -> set[int]:
        with self._lock:
            return set(self._busy)

    def count(self) -> int:
        with self._lock:
            return len(self._waiting)

    def take(self) -> list[Waiting]:
        with self._lock:
            taken, self._waiting = self._waiting, []
        return taken

    def write(self, session: Session, entries: list[Waiting]) -> None:
        sent = [entry.outcome for entry in entries if isinstance(entry.outcome, Sent)]
        queue.mark_sent_many(session, [(s.row, s.at, s.result) for s in sent])
        for entry in entries:
            if not isinstance(entry.outcome, Sent):
                entry.outcome(session)

    def recorded(self, entries: list[Waiting]) -> None:
        with self._lock:
            self._busy.difference_update(entry.row_id for entry in entries)

    def failed(self, entries: list[Waiting], error: BaseException) -> None:
        """Their commit failed: keep them for the next pass (ahead of newer ones), except those
        the database refused too often for a reason other than an outage."""
        kept: list[Waiting] = []
        for entry in entries:
            entry.tries += 1
            if entry.tries >= MAX_TRIES and not unreachable(error):
                log.error(
                    "outbox row %s: its outcome could not be recorded (%s); its lease will run out",
                    entry.row_id,
                    type(error).__name__,
                )
                self.release(entry.row_id)
            else:
                kept.append(entry)
        with self._lock:
            self._waiting = kept + self._waiting
