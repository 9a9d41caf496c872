"""Inbound events: store each once (acknowledge fast), then process it after the ack.

`Intake.accept` runs inside the webhook request: it resolves the agent from the in-memory
roster, pseudonymises, and inserts into `inbound_events` unique on (provider, event_id).
`EventProcessor` drains unprocessed rows in a background thread; on PostgreSQL several
processes can share the work (rows are claimed with FOR UPDATE SKIP LOCKED).

The provider's event id is stored only as a keyed hash (the phone system knows who took each
call, so its ids identify people too), and the event's payload, which still holds the call id
and the facts, is emptied once the event is processed: by then its facts live in `calls`.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from sqlalchemy import Engine, tuple_, update
from sqlmodel import Session, col, select

from bot.checkins.service import KNOWN_CALLS, CallUpdate, CheckinService, HardCall
from bot.clock import utcnow
from bot.events import CallEnded, CustomerFeedback, InboundEvent
from bot.loop import work_until_stopped
from bot.messenger import AgentRef
from bot.metrics import Metrics
from bot.pseudonyms import Keyring
from bot.roster import Roster, RosterAgent
from storage.db import is_sqlite, session_scope, unreachable
from storage.models import InboundEvent as InboundRow
from storage.models import InboundKind
from storage.upsert import insert_ignore_many

log = logging.getLogger(__name__)

# How long a webhook waits for an unreachable database before it is answered 503: longer than
# a PostgreSQL restart (well under a second with -m fast), shorter than the strictest provider's
# deadline (Dialpad: 5 s; docs/providers/conformance.md), with time left to answer.
OUTAGE_S = 3.0

_CALL_FACTS = (
    "started_at",
    "duration_s",
    "direction",
    "disconnected_by",
    "transfers",
    "hold_s",
    "sentiment",
    "csat",
    "queue",
)


@dataclass(frozen=True)
class IntakeResult:
    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0


def _masked(kind: str, value: str) -> str:
    if kind == "email" and "@" in value:
        local, domain = value.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return value


class _Batch:
    """Rows from one request, and the future its handler waits on. `aliases` holds, per row,
    the forms its event id takes under older pseudonym keys (during a key rotation)."""

    __slots__ = ("aliases", "future", "rows")

    def __init__(self, rows: list[dict[str, object]], aliases: list[tuple[str, ...]] | None = None) -> None:
        self.rows = rows
        self.aliases = aliases or [() for _ in rows]
        self.future: Future[int] = Future()


class IntakeWriter:
    """Group commit: requests hand their rows to one writer thread, which stores everything
    waiting in a single transaction and then answers every waiting request.

    A request is acknowledged only after its rows are durably stored, yet a burst of webhooks
    costs one commit per batch instead of one per request (and takes the SQLite write lock once).
    """

    MAX_BATCH = 500

    def __init__(
        self, engine: Engine, *, outage_s: float = OUTAGE_S, on_stored: Callable[[], None] | None = None
    ) -> None:
        self.engine = engine
        self.outage_s = outage_s
        # Told from this thread as soon as new rows are committed (the event processor's wake):
        # a request's handler would learn it only when the event loop next gets round to it.
        self.on_stored = on_stored
        self._queue: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(
        self, rows: list[dict[str, object]], aliases: list[tuple[str, ...]] | None = None
    ) -> Future[int]:
        """Store `rows` (ignoring duplicates); the future gives how many were new."""
        batch = _Batch(rows, aliases)
        self._ensure_running()
        self._queue.put(batch)
        return batch.future

    def _ensure_running(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="breather-intake", daemon=True)
                    self._thread.start()

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batches = [first]
            size = len(first.rows)
            while size < self.MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batches.append(more)
                size += len(more.rows)
            self._store(batches)

    def _insert(self, batches: list[_Batch]) -> set[tuple[Any, ...]]:
        """Store the batches' rows; while the database is unreachable (a restart, a failover),
        try again for up to `outage_s`, so the provider sees a slow answer instead of an error."""
        give_up_at = time.monotonic() + self.outage_s
        pause = 0.05
        while True:
            try:
                with session_scope(self.engine) as session:
                    rows = [row for batch in batches for row in batch.rows]
                    rows = _not_seen_under_old_keys(session, batches) if _any_aliases(batches) else rows
                    return insert_ignore_many(session, InboundRow, rows, ["provider", "event_id"])
            except Exception as error:
                if not unreachable(error) or time.monotonic() + pause > give_up_at:
                    raise
                log.warning(
                    "database unreachable (%s); storing %d request(s) again",
                    type(error).__name__,
                    len(batches),
                )
            time.sleep(pause)  # waiting out an outage: nothing else this thread could do
            pause = min(pause * 2, 1.0)

    def _store(self, batches: list[_Batch]) -> None:
        try:
            inserted = self._insert(batches)
        except Exception as error:
            if len(batches) > 1 and not unreachable(error):
                # One request's row the database refuses fails the whole statement: store each
                # request on its own, so only that request is answered with the error.
                log.warning(
                    "group commit of %d requests failed (%s); storing them one at a time",
                    len(batches),
                    type(error).__name__,
                )
                for batch in batches:
                    self._store([batch])
                return
            log.error("could not store %d inbound batch(es): %s", len(batches), type(error).__name__)
            for batch in batches:
                batch.future.set_exception(error)
            return
        if inserted and self.on_stored is not None:
            self.on_stored()
        for batch in batches:
            count = 0
            for row in batch.rows:
                key = (row["provider"], row["event_id"])
                if key in inserted:
                    inserted.discard(key)  # the same event twice in one batch: only one is new
                    count += 1
            batch.future.set_result(count)


def _any_aliases(batches: list[_Batch]) -> bool:
    return any(alias for batch in batches for alias in batch.aliases)


def _not_seen_under_old_keys(session: Session, batches: list[_Batch]) -> list[dict[str, object]]:
    """The rows whose event was not already stored under an older key's hash of its id."""
    wanted = [
        (row["provider"], alias)
        for b in batches
        for row, aliases in zip(b.rows, b.aliases, strict=True)
        for alias in aliases
    ]
    seen = set(
        session.exec(
            select(col(InboundRow.provider), col(InboundRow.event_id)).where(
                tuple_(col(InboundRow.provider), col(InboundRow.event_id)).in_(wanted)
            )
        ).all()
    )
    return [
        row
        for batch in batches
        for row, aliases in zip(batch.rows, batch.aliases, strict=True)
        if not any((row["provider"], alias) in seen for alias in aliases)
    ]


class Intake:
    def __init__(
        self,
        *,
        engine: Engine,
        roster: Callable[[], Roster],
        metrics: Metrics,
        wake: threading.Event,
        keyring: Keyring,
        clock: Callable[[], datetime] = utcnow,
        redact: Callable[[CustomerFeedback, RosterAgent], CustomerFeedback] | None = None,
        read_ahead: Callable[[Sequence[tuple[RosterAgent, CallEnded]]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.roster = roster
        self.keyring = keyring
        self.metrics = metrics
        self.clock = clock
        self.writer = IntakeWriter(engine, on_stored=wake.set)  # wakes the event processor
        # Customer-written text is cut down before it is stored, even in the raw event log.
        self.redact = redact
        # Told about the calls as they arrive, so a status a check-in will need is read while
        # the event is stored and waits for the processor (CheckinService.read_ahead).
        self.read_ahead = read_ahead

    def _rows(
        self, provider: str, events: Sequence[InboundEvent]
    ) -> tuple[list[dict[str, object]], list[tuple[str, ...]], int]:
        roster = self.roster()
        now = self.clock()
        rows: list[dict[str, object]] = []
        aliases: list[tuple[str, ...]] = []
        ignored = 0
        calls: list[tuple[RosterAgent, CallEnded]] = []
        for event in events:
            agent = roster.find(event.agent.kind, event.agent.id)
            if agent is None:
                ignored += 1
                self.metrics.events_ignored.labels(provider).inc()
                log.info(
                    "%s event %s ignored: %s %s is not on the roster",
                    provider,
                    event.event_id,
                    event.agent.kind,
                    _masked(event.agent.kind, event.agent.id),
                )
                continue
            if isinstance(event, CustomerFeedback) and self.redact is not None:
                event = self.redact(event, agent)
            if isinstance(event, CallEnded):
                calls.append((agent, event))
            event_keys = self.keyring.tokens("event", provider, event.event_id)
            aliases.append(event_keys[1:])
            rows.append(
                {
                    "provider": provider,
                    "event_id": event_keys[0],
                    "kind": InboundKind.CALL if isinstance(event, CallEnded) else InboundKind.FEEDBACK,
                    "team_id": agent.team.id,
                    "pseudonym": agent.pseudonym,
                    "kid": agent.kid,
                    "payload": event.model_dump(mode="json", exclude={"agent", "provider", "event_id"}),
                    "received_at": now,
                }
            )
        if calls and self.read_ahead is not None:
            self.read_ahead(calls)  # returns at once; the read goes on while the rows are stored
        return rows, aliases, ignored

    def _result(self, provider: str, rows: int, accepted: int, ignored: int) -> IntakeResult:
        duplicates = rows - accepted
        if accepted:  # the writer has woken the event processor already
            self.metrics.events_received.labels(provider).inc(accepted)
        if duplicates:
            self.metrics.events_duplicate.labels(provider).inc(duplicates)
        return IntakeResult(accepted=accepted, duplicates=duplicates, ignored=ignored)

    async def accept_async(self, provider: str, events: Sequence[InboundEvent]) -> IntakeResult:
        """For request handlers: waits for the group commit without holding a thread."""
        rows, aliases, ignored = self._rows(provider, events)
        accepted = await asyncio.wrap_future(self.writer.submit(rows, aliases)) if rows else 0
        return self._result(provider, len(rows), accepted, ignored)

    def accept(self, provider: str, events: Sequence[InboundEvent]) -> IntakeResult:
        rows, aliases, ignored = self._rows(provider, events)
        accepted = self.writer.submit(rows, aliases).result() if rows else 0
        return self._result(provider, len(rows), accepted, ignored)


Waiting = list[tuple[InboundRow, HardCall]]  # events whose check-in waits for a status read


@dataclass
class _Read:
    """Status reads in flight for these waiting events (the server's loop)."""

    done: Future[None]
    waiting: Waiting


def _waits(hard: HardCall | None) -> TypeGuard[HardCall]:
    """The event's check-in waits for its agent's out-of-office status: process it again later."""
    return hard is not None and hard.waits


def call_keys(keyring: Keyring, provider: str, call_id: str, agent_id: str) -> tuple[str, ...]:
    """How a call is stored: a keyed hash of the provider's call id *and the agent*, so two
    agents on one call (a conference, a transfer) never share a row; one form per live key."""
    return keyring.tokens("call", provider, call_id, agent_id)


class EventProcessor:
    """Turns stored events into calls, check-ins and outbox rows."""

    def __init__(
        self,
        *,
        engine: Engine,
        roster: Callable[[], Roster],
        checkins: CheckinService,
        wake: threading.Event,
        batch: int | None = None,
        poll_s: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        keyring: Keyring,
        on_feedback: Callable[[Session, RosterAgent, CustomerFeedback, datetime], None] | None = None,
    ) -> None:
        self.engine = engine
        self.roster = roster
        self.keyring = keyring
        self.checkins = checkins
        self.on_feedback = on_feedback
        self.wake = wake
        # On SQLite a batch holds the one write lock the webhooks wait for: keep it small there.
        # On PostgreSQL 50 was tried (a batch's check-ins are visible only once it commits), but
        # the processor fell further behind: 200 gave the better end-to-end DM times.
        self.batch = batch or (25 if is_sqlite(engine) else 200)
        self.poll_s = poll_s
        self.clock = clock
        self._reads: list[_Read] = []  # the server's loop only (`_step`)

    def run_once(self) -> int:
        """Process a batch in one transaction; if anything in it fails, redo it event by event
        (each in a savepoint), so one bad event is logged and never blocks the others.

        An event whose check-in waits for the agent's out-of-office status is left unprocessed:
        the status is read after the commit (no lock or connection held during the round trip)
        and the check-in is decided at once, in a second transaction (`_decide_waiting`), rather
        than behind the next full batch. The server's loop does the same without waiting for
        the reads (`_step`)."""
        count, waiting, wanted = self._run_batch()
        if waiting:
            self.checkins.look_up(wanted)
            self._decide_waiting(waiting)
        return count

    def _step(self) -> int:
        """One pass of the server's loop: `run_once`, except that the status reads run on a
        reading thread while the next batches go on (a read is a round trip to the chat
        platform: waiting for it held up every event behind it). The check-ins that waited are
        decided by the first pass after their reads are done, and their events are left out
        of the claims meanwhile."""
        # One look at each read: one finishing meanwhile waits for the next pass, not lost.
        finished = {id(read): read.done.done() for read in self._reads}
        ready = [entry for read in self._reads if finished[id(read)] for entry in read.waiting]
        self._reads = [read for read in self._reads if not finished[id(read)]]
        if ready:
            self._decide_waiting(ready)
        in_flight = [row.id for read in self._reads for row, _ in read.waiting if row.id is not None]
        count, waiting, wanted = self._run_batch(leave_out=in_flight)
        if waiting:
            read = _Read(self.checkins.read_soon(wanted), waiting)
            read.done.add_done_callback(lambda _: self.wake.set())
            self._reads.append(read)
        return count + len(ready)

    def _run_batch(self, leave_out: Sequence[int] = ()) -> tuple[int, Waiting, list[AgentRef]]:
        """One batch of the oldest events (but those in `leave_out`): how many it held, the
        hard calls left waiting for a status read, with their events, and whose status to read."""
        try:
            with session_scope(self.engine) as session:
                rows = self._claim(session, leave_out)
                self.checkins.load_calls(session, [key for row in rows if (key := self._call_keys(row))])
                # Every event's call first, then the hard calls' check-ins together: a fixed
                # number of queries per batch instead of several per hard call.
                hard = {row.id: self._process(session, row, self.clock()) for row in rows}
                self.checkins.decide(session, [h for h in hard.values() if h is not None])
                self._mark_processed(session, [row for row in rows if not _waits(hard[row.id])])
                wanted = self.checkins.lookups_wanted(session)
            return len(rows), [(row, h) for row in rows if _waits(h := hard[row.id])], wanted
        except Exception as error:
            if unreachable(error):  # every event would fail too: bot/loop.py waits and retries
                raise
            log.warning("an event batch failed; processing its events one at a time", exc_info=True)
        with session_scope(self.engine) as session:
            rows = self._claim(session, leave_out)
            done: list[InboundRow] = []
            waiting: Waiting = []
            for row in rows:
                one = None
                try:
                    with session.begin_nested():
                        one = self._process(session, row, self.clock())
                        self.checkins.decide(session, [one] if one is not None else [])
                except Exception as error:
                    if unreachable(error):
                        raise
                    # Keep the event (marked processed) rather than block the queue behind it.
                    log.exception("could not process %s event %s", row.provider, row.event_id)
                    session.info.pop(KNOWN_CALLS, None)  # it may hold a call the savepoint undid
                    one = None
                if _waits(one):
                    waiting.append((row, one))
                else:
                    done.append(row)
            self._mark_processed(session, done)
            wanted = self.checkins.lookups_wanted(session)
        return len(rows), waiting, wanted

    def _decide_waiting(self, waiting: Waiting) -> None:
        """Decide the check-ins that waited for a status read, now that it is done. Their calls
        were merged and committed with the batch: only the decision is left, so there is no
        claim, no call to load or merge again. Deciding twice is harmless (a check-in is made
        once per call, under the agent's locked preferences), so an event another process took
        meanwhile costs nothing; one still waiting, or a failure here, leaves its event for the
        next batch, which processes it in full."""
        for _, hard in waiting:
            hard.waits = False
            hard.new = False  # committed now: another process may have asked about it since
        try:
            with session_scope(self.engine) as session:
                self.checkins.decide(session, [hard for _, hard in waiting])
                self._mark_processed(session, [row for row, hard in waiting if not hard.waits])
        except Exception as error:
            if unreachable(error):
                raise
            log.warning(
                "deciding %d waiting check-in(s) failed; the next batch retries", len(waiting), exc_info=True
            )

    def _claim(self, session: Session, leave_out: Sequence[int] = ()) -> list[InboundRow]:
        statement = select(InboundRow).where(col(InboundRow.processed_at).is_(None))
        if leave_out:
            statement = statement.where(col(InboundRow.id).not_in(leave_out))
        return list(
            session.exec(
                statement.order_by(col(InboundRow.id)).limit(self.batch).with_for_update(skip_locked=True)
            )
        )

    def _call_keys(self, row: InboundRow) -> tuple[str, tuple[str, ...]] | None:
        """The call an event is about, for loading the batch's calls at once."""
        call_id = row.payload.get("call_id")
        agent = self.roster().by_pseudonym(row.pseudonym)
        if not call_id or agent is None:
            return None
        return row.provider, call_keys(self.keyring, row.provider, str(call_id), agent.id)

    def _mark_processed(self, session: Session, rows: list[InboundRow]) -> None:
        # The payload (call id, facts, a scrubbed comment) was needed only for processing.
        if rows:
            session.execute(
                update(InboundRow)
                .where(col(InboundRow.id).in_([row.id for row in rows]))
                .values(processed_at=self.clock(), payload={}),
                execution_options={"synchronize_session": False},
            )

    def _process(self, session: Session, row: InboundRow, now: datetime) -> HardCall | None:
        """Merge and judge the event's call; a hard one is returned for `CheckinService.decide`."""
        agent = self.roster().by_pseudonym(row.pseudonym)
        if agent is None:
            log.info("%s event %s skipped: its agent has left the roster", row.provider, row.event_id)
            return None
        if row.kind == InboundKind.CALL:
            return self._call(session, agent, row, now)
        if row.kind == InboundKind.FEEDBACK:
            return self._feedback(session, agent, row, now)
        return None

    def _call(self, session: Session, agent: RosterAgent, row: InboundRow, now: datetime) -> HardCall | None:
        event = CallEnded.model_validate(
            {
                **row.payload,
                "agent": {"kind": "id", "id": agent.id},
                "provider": row.provider,
                "event_id": row.event_id,
            }
        )
        update = CallUpdate(
            provider=row.provider,
            call_keys=call_keys(self.keyring, row.provider, event.call_id, agent.id),
            ended_at=event.ended_at,
            facts={name: getattr(event, name) for name in _CALL_FACTS},
            tags=event.tags,
        )
        return self.checkins.judge_call(session, agent=agent, update=update, now=now)

    def _feedback(
        self, session: Session, agent: RosterAgent, row: InboundRow, now: datetime
    ) -> HardCall | None:
        event = CustomerFeedback.model_validate(
            {
                **row.payload,
                "agent": {"kind": "id", "id": agent.id},
                "provider": row.provider,
                "event_id": row.event_id,
            }
        )
        # A bad rating about a known call is a late signal on that call.
        hard = None
        if event.rating == "bad" and event.call_id:
            update = CallUpdate(
                provider=row.provider,
                call_keys=call_keys(self.keyring, row.provider, event.call_id, agent.id),
                ended_at=None,
                facts={"csat": 0.0},
                tags=(),
            )
            hard = self.checkins.judge_call(session, agent=agent, update=update, now=now)
        if self.on_feedback is not None:
            self.on_feedback(session, agent, event, now)
        return hard

    def run_forever(self, stop: threading.Event) -> None:
        # Events still waiting for a read when it stops stay unprocessed: the next start
        # processes them (the app closes the reading threads, CheckinService.close).
        work_until_stopped("event processor", stop, self.wake, self._step, lambda: self.poll_s)
