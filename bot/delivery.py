"""The outbox, seen from the domain (`Outbox`: queue a message in the caller's transaction)
and the worker that drains it (`OutboxWorker`: claim due rows -> Messenger -> sent or retry).

The worker paces each conversation, honours a platform's Retry-After, backs off on server
and connection errors, and gives up on errors that can never succeed.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import Session

from bot.clock import utcnow
from bot.errors import DeliveryFailed, RateLimited
from bot.loop import work_until_stopped
from bot.messenger import AgentRef, Delivered, FileUpload, FindsSent, HomeView, Message, Messenger
from bot.metrics import Metrics
from bot.outbox_keys import Topic
from bot.outbox_records import Outcome, PendingOutcomes, Sent, Waiting
from bot.pseudonyms import Keyring
from bot.send_budget import SendBudget
from storage import outbox as queue
from storage.db import read_scope, session_scope, unreachable
from storage.models import OutboxKind, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_S = 4.0
# A message that keeps failing for reasons worth retrying is given up only after MAX_ATTEMPTS
# tries *and* this long: short backoffs must not turn a few minutes' outage into lost messages.
RETRY_FOR = timedelta(minutes=15)
LOOKUP_MARGIN = timedelta(minutes=2)  # clocks differ: read the history from a little earlier
DEFAULT_PACE_S = 1.0  # Slack: about one message a second per channel
# A batch starts no send later than this after its claim: even the slowest send (three calls,
# 10 s timeout each) then ends well inside the outbox lease (60 s).
SEND_WINDOW_S = 20.0
MAX_TURN_WAIT_S = 1.0  # a row whose turn in the send budget is further away is put back


def pace_for(messenger: Messenger, configured: float | None = None) -> float:
    """Seconds between two sends to one conversation: `configured` when set
    (BREATHER_SEND_PACE_SECONDS), else the platform's. A messenger whose platform allows more
    declares `pace_s` (Teams: 7 a second per conversation, 60 in 30 seconds)."""
    if configured is not None:
        return configured
    return float(getattr(messenger, "pace_s", DEFAULT_PACE_S))


class Outbox:
    """Queues messages as outbox rows; `wake` tells this process's worker there is work.

    A message's key (`checkin:<id>:answer`, `home:<agent>:pause:<time>`, ...) says what it is
    about, so it is stored only as a keyed hash; the same goes for the conversation a person's
    messages are paced in. Callers keep using readable keys: they are hashed here, and looked up
    under every live pseudonym key during a key rotation.
    """

    def __init__(self, keyring: Keyring) -> None:
        self.wake = threading.Event()
        self.keyring = keyring

    def stored_key(self, key: str) -> str:
        """The form `key` is stored in (under the current pseudonym key)."""
        return self.keyring.token("outbox", key)

    def stored_keys(self, key: str) -> tuple[str, ...]:
        """Every form `key` may be stored in (one per live pseudonym key)."""
        return self.keyring.tokens("outbox", key)

    def _person(self, agent_id: str) -> str:
        return "dm:" + self.keyring.token("conversation", agent_id)

    def _enqueue(
        self,
        session: Session,
        *,
        key: str,
        kind: OutboxKind,
        channel_key: str,
        target: dict[str, Any],
        payload: dict[str, Any],
        now: datetime,
        not_before: datetime | None = None,
    ) -> bool:
        # The worker is woken once this transaction has committed; before, it could not see the row.
        event.listen(session, "after_commit", self._wake_after_commit, once=True)
        stored = self.stored_keys(key)
        queued = queue.enqueue(
            session,
            key=stored[0],
            aliases=stored[1:],
            kind=kind,
            channel_key=channel_key,
            target=target,
            payload=payload,
            now=now,
            not_before=not_before,
        )
        return queued

    def _wake_after_commit(self, session: Session) -> None:
        self.wake.set()

    def send_direct(
        self,
        session: Session,
        *,
        key: str,
        to: AgentRef,
        message: Message,
        now: datetime,
        topic: Topic = Topic.NONE,
        not_before: datetime | None = None,
    ) -> bool:
        return self._enqueue(
            session,
            key=key,
            kind=OutboxKind.DIRECT,
            channel_key=self._person(to.agent_id),
            target={"agent": to.model_dump(), "topic": topic},
            payload=message.model_dump(mode="json"),
            now=now,
            not_before=not_before,
        )

    def send_direct_many(
        self, session: Session, messages: Sequence[tuple[str, AgentRef, Message, datetime]], *, topic: Topic
    ) -> set[str]:
        """`send_direct` for many (key, to, message, now) in one INSERT; returns the keys queued."""
        if not messages:
            return set()
        event.listen(session, "after_commit", self._wake_after_commit, once=True)
        stored = {key: self.stored_keys(key) for key, *_ in messages}
        queued = queue.enqueue_many(
            session,
            kind=OutboxKind.DIRECT,
            messages=[
                (
                    stored[key][0],
                    stored[key][1:],
                    self._person(to.agent_id),
                    {"agent": to.model_dump(), "topic": topic},
                    message.model_dump(mode="json"),
                    now,
                )
                for key, to, message, now in messages
            ],
        )
        return {key for key in stored if stored[key][0] in queued}

    def post_to_channel(
        self,
        session: Session,
        *,
        key: str,
        channel: str,
        message: Message,
        now: datetime,
        topic: Topic = Topic.NONE,
        ref: str = "",
    ) -> bool:
        """`ref` is handed to the topic's `on_sent` hook (which thing the post is about)."""
        return self._enqueue(
            session,
            key=key,
            kind=OutboxKind.CHANNEL,
            channel_key=f"{queue.TEAM_CHANNEL}{channel}",
            target={"channel": channel, "topic": topic, "ref": ref},
            payload=message.model_dump(mode="json"),
            now=now,
        )

    def update(
        self,
        session: Session,
        *,
        key: str,
        where: Delivered,
        message: Message,
        now: datetime,
        agent_id: str | None = None,
    ) -> bool:
        # An update to a person's message is paced (and ordered) with their other messages.
        # Without the person (they left breather.yml meanwhile) the conversation is still
        # hashed: a DM channel id names someone as much as their user id does.
        channel_key = self._person(agent_id or f"conversation:{where.channel}")
        return self._enqueue(
            session,
            key=key,
            kind=OutboxKind.UPDATE,
            channel_key=channel_key,
            target={"where": where.model_dump()},
            payload=message.model_dump(mode="json"),
            now=now,
        )

    def upload_file(
        self, session: Session, *, key: str, to: AgentRef, file: FileUpload, now: datetime
    ) -> bool:
        payload = {
            "filename": file.filename,
            "title": file.title,
            "alt": file.alt,
            "content_b64": base64.b64encode(file.content).decode(),
        }
        return self._enqueue(
            session,
            key=key,
            kind=OutboxKind.FILE,
            channel_key=self._person(to.agent_id),
            target={"agent": to.model_dump()},
            payload=payload,
            now=now,
        )

    def delete(self, session: Session, *, key: str, where: Delivered, now: datetime) -> bool:
        """Remove a message Breather posted (a shared compliment the agent takes back)."""
        return self._enqueue(
            session,
            key=key,
            kind=OutboxKind.DELETE,
            channel_key=f"{queue.TEAM_CHANNEL}{where.channel}",
            target={"where": where.model_dump()},
            payload={},
            now=now,
        )

    def cancel(self, session: Session, *, key: str) -> bool:
        """Withdraw a message not yet claimed for sending; False when it is already on its way."""
        return queue.cancel(session, self.stored_keys(key))

    def withdraw(self, session: Session, *, key: str) -> bool:
        """Withdraw a message that a later one makes wrong: not sent if still waiting, and not
        retried if the send under way fails."""
        return queue.withdraw(session, self.stored_keys(key))

    def find(self, session: Session, *, key: str) -> OutboxMessage | None:
        return queue.find(session, self.stored_keys(key))

    def publish_home(
        self, session: Session, *, key: str, to: AgentRef, view: HomeView, now: datetime
    ) -> bool:
        return self._enqueue(
            session,
            key=key,
            kind=OutboxKind.HOME,
            channel_key="home:" + self.keyring.token("conversation", to.agent_id),
            target={"agent": to.model_dump()},
            payload=view.model_dump(mode="json"),
            now=now,
        )


def _file(payload: dict[str, Any]) -> FileUpload:
    return FileUpload(
        filename=payload["filename"],
        title=payload["title"],
        alt=payload["alt"],
        content=base64.b64decode(payload["content_b64"]),
    )


def deliver(messenger: Messenger, row: OutboxMessage) -> dict[str, Any] | None:
    """Perform one outbox row's platform call; returns what to remember about the result. A
    message carries its row's key as a tag, so it can be found again (see `find_delivered`)."""
    if row.kind == OutboxKind.DIRECT:
        to = AgentRef(**row.target["agent"])
        return messenger.send_direct(to, Message(**row.payload), tag=row.key).model_dump()
    if row.kind == OutboxKind.CHANNEL:
        return messenger.post_to_channel(
            row.target["channel"], Message(**row.payload), tag=row.key
        ).model_dump()
    if row.kind == OutboxKind.UPDATE:
        return messenger.update(Delivered(**row.target["where"]), Message(**row.payload)).model_dump()
    if row.kind == OutboxKind.FILE:
        messenger.upload_file(AgentRef(**row.target["agent"]), _file(row.payload))
        return None
    if row.kind == OutboxKind.HOME:
        messenger.publish_home(AgentRef(**row.target["agent"]), HomeView(**row.payload))
        return None
    if row.kind == OutboxKind.DELETE:
        messenger.delete(Delivered(**row.target["where"]))
        return None
    raise DeliveryFailed(f"unknown outbox kind {row.kind!r}", permanent=True)


def find_delivered(messenger: Messenger, row: OutboxMessage) -> dict[str, Any] | None:
    """Where a message whose last worker died while sending it landed, if the platform can tell
    and it did arrive. Only new messages need this: an update, a Home tab or a deletion done
    twice looks the same as done once. (A chart sent twice is the one duplicate left.)"""
    if not isinstance(messenger, FindsSent) or row.kind not in (OutboxKind.DIRECT, OutboxKind.CHANNEL):
        return None
    to = AgentRef(**row.target["agent"]) if row.kind == OutboxKind.DIRECT else str(row.target["channel"])
    found = messenger.find_sent(to, row.key, row.created_at - LOOKUP_MARGIN)
    return found.model_dump() if found is not None else None


def backoff(attempts: int) -> float:
    """Exponential backoff with jitter: about 1, 2, 4 seconds, never more than MAX_BACKOFF_S
    (plus jitter), so a message is tried again soon after the platform recovers."""
    base = min(2.0 ** max(attempts - 1, 0), MAX_BACKOFF_S)
    return base * random.uniform(0.8, 1.2)


# Called in the transaction that marks a row sent, for rows queued with that `topic`: how a
# feature learns where its channel post landed (the outbox forgets it after a week).
SentHook = Callable[[Session, OutboxMessage, dict[str, Any] | None, datetime], None]


class OutboxWorker:
    def __init__(
        self,
        *,
        engine: Engine,
        messenger: Messenger,
        metrics: Metrics,
        wake: threading.Event,
        pace_s: float = DEFAULT_PACE_S,
        batch: int = 16,
        parallel: int = 4,
        poll_s: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        on_sent: Mapping[str, SentHook] | None = None,
    ) -> None:
        self.engine = engine
        self.messenger = messenger
        self.metrics = metrics
        self.wake = wake
        self.on_sent = dict(on_sent or {})
        self.pace_s = pace_s
        self.batch = batch
        self.poll_s = poll_s
        self.clock = clock
        self._last_sent: dict[str, float] = {}
        self.budget = SendBudget()
        self._pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="breather-send")
        self._parallel = parallel
        self._sending = 0  # delivery threads busy with a row handed out by `record_and_claim`
        self._sending_lock = threading.Lock()
        self.outcomes = PendingOutcomes()  # what the threads learned, written by `record_and_claim`

    def run_once(self) -> int:
        """Deliver what is due now; returns how many rows were claimed.

        A batch at a time (tests and tools; the server runs `run_forever`). Conversations are
        served in parallel (a slow DM must not hold up the others); a claim holds at most one
        row per conversation (storage/outbox.py), so their order is kept and pacing still
        applies. The batch's outcomes are recorded together at the end; a crash before that
        leaves its rows in doubt, and those are looked for on the platform before being sent
        again. No send starts later than SEND_WINDOW_S after the claim, so the batch is recorded
        before its lease runs out.
        """
        deadline = time.monotonic() + SEND_WINDOW_S
        with session_scope(self.engine) as session:
            rows = queue.claim_due(session, now=self.clock(), limit=self.batch)
        if not rows:
            return 0
        by_conversation: dict[str, list[OutboxMessage]] = {}
        for row in rows:
            by_conversation.setdefault(row.channel_key, []).append(row)
        groups = self._pool.map(lambda group: self._serve(group, deadline), by_conversation.values())
        outcomes = [outcome for group in groups for outcome in group]
        if outcomes:
            with session_scope(self.engine) as session:
                for outcome in outcomes:
                    outcome(session)
        return len(rows)

    def _serve(self, group: list[OutboxMessage], deadline: float) -> list[Outcome]:
        """One conversation's rows in order; returns what to record about each. Once one is not
        sent, the ones after it wait too (the claim gives them back only after it)."""
        outcomes: list[Outcome] = []
        for index, row in enumerate(group):
            outcome, sent = self._handle(row, deadline)
            outcomes.append(outcome)
            if not sent:
                outcomes.extend(
                    self._put_back(r, after_s=0.0, reason="after an earlier message")
                    for r in group[index + 1 :]
                )
                break
        return outcomes

    def _put_back(self, row: OutboxMessage, *, after_s: float, reason: str) -> Outcome:
        """Not sent now and not a failed try: due again in `after_s` seconds."""
        at = self.clock() + timedelta(seconds=after_s)
        return lambda s: queue.reschedule(s, row, at=at, error=reason, spend_attempt=False)

    def _send(self, row: OutboxMessage) -> dict[str, Any] | None:
        if row.last_error == queue.IN_DOUBT:
            try:
                found = find_delivered(self.messenger, row)
            except DeliveryFailed as error:
                if not error.permanent:
                    raise
                # Not allowed to read the history (a missing *:history scope): send again
                # rather than risk losing the message.
                log.warning("outbox row %s: cannot look for an earlier send (%s); sending it", row.id, error)
                found = None
            if found is not None:
                log.info("outbox row %s had arrived before its worker stopped: not sent again", row.id)
                return found
        return deliver(self.messenger, row)

    def _handle(self, row: OutboxMessage, deadline: float) -> tuple[Outcome, bool]:
        """What to record about one row, and whether it was sent."""
        row_id = row.id
        assert row_id is not None
        if row.last_error == queue.WITHDRAWN:  # withdrawn while its last worker, now gone, sent it
            return lambda s: queue.mark_failed(s, row, error=queue.WITHDRAWN), False
        if time.monotonic() > deadline:
            return self._put_back(row, after_s=0.0, reason="batch ran long"), False
        since_last = time.monotonic() - self._last_sent.get(row.channel_key, float("-inf"))
        if since_last < self.pace_s:
            # Another message just went to this conversation: wait our turn.
            return self._put_back(row, after_s=self.pace_s - since_last, reason="paced"), False
        wait = self.budget.reserve(MAX_TURN_WAIT_S)
        if wait is None:
            return self._put_back(row, after_s=self.budget.free_in(), reason="rate budget"), False
        if wait:
            time.sleep(wait)
        held = self.budget.held_for()  # another thread may have met a 429 meanwhile
        if held:
            return self._put_back(row, after_s=held, reason="held after a 429"), False
        try:
            result = self._send(row)
        except RateLimited as error:
            self.metrics.delivery_failures.labels("rate_limited").inc()
            self.budget.refused(error.retry_after)
            return self._put_back(row, after_s=error.retry_after, reason=str(error)), False
        except DeliveryFailed as error:
            return self._failed(row, str(error), permanent=error.permanent), False
        except Exception as error:  # a bug or an unexpected library error: retry, loudly
            log.exception("outbox row %s (%s) raised unexpectedly", row.id, row.kind)
            # Only the class is stored: an unexpected error's text may quote the recipient.
            return self._failed(row, f"unexpected {type(error).__name__}", permanent=False), False
        self.budget.accepted()
        now = self.clock()
        self._last_sent[row.channel_key] = time.monotonic()
        # Only public channel posts keep where they landed (to be edited or removed later); a
        # DM's location would tie the message, and so an answer, to a person.
        kept = result if row.kind == OutboxKind.CHANNEL else None
        hook = self.on_sent.get(str(row.target.get("topic", "")))
        if hook is None:
            return Sent(row, now, kept), True

        def record(session: Session) -> None:
            queue.mark_sent(session, row, now=now, result=kept)
            try:
                with session.begin_nested():
                    hook(session, row, result, now)
            except Exception:  # never undo "sent": that would send the message again
                log.exception("after-delivery step for outbox row %s failed", row_id)

        return record, True

    def _failed(self, row: OutboxMessage, error: str, *, permanent: bool) -> Outcome:
        row_id = row.id
        assert row_id is not None
        self.metrics.delivery_failures.labels("permanent" if permanent else "transient").inc()
        now = self.clock()
        if permanent or (row.attempts >= MAX_ATTEMPTS and now - row.created_at >= RETRY_FOR):
            log.error(
                "outbox row %s (%s) failed for good after %d attempt(s): %s",
                row_id,
                row.kind,
                row.attempts,
                error,
            )
            return lambda s: queue.mark_failed(s, row, error=error)
        # Failures in a row from several sends mean the platform is in trouble: all sending waits.
        held = self.budget.failed()
        at = now + timedelta(seconds=max(backoff(row.attempts), held))
        log.warning(
            "outbox row %s (%s) attempt %d failed, retrying: %s", row_id, row.kind, row.attempts, error
        )
        return lambda s: queue.reschedule(s, row, at=at, error=error)

    def run_forever(self, stop: threading.Event) -> None:
        """Deliver until `stop`: rows are claimed as delivery threads become free, not a batch
        at a time, so a new check-in never waits behind a batch's slowest send."""
        try:
            work_until_stopped("outbox worker", stop, self.wake, self.record_and_claim, self._idle_wait)
        finally:
            self._pool.shutdown(wait=True)
            self._record_left()

    def record_and_claim(self) -> int:
        """One pass of the loop, one transaction: write every outcome the delivery threads
        handed in (bot/outbox_records.py), then claim as many due rows as there are idle
        threads and hand one to each. Returns how many outcomes and rows it handled."""
        entries = self.outcomes.take()
        with self._sending_lock:
            free = self._parallel - self._sending
        if not entries and free <= 0:
            return 0  # a thread that finishes sets `wake`
        deadline = time.monotonic() + SEND_WINDOW_S
        busy = self.outcomes.busy()
        try:
            with session_scope(self.engine) as session:
                self.outcomes.write(session, entries)
                rows = queue.claim_due(session, now=self.clock(), limit=free, busy=busy) if free > 0 else []
        except Exception as error:
            if not entries:
                raise
            if unreachable(error) or len(entries) == 1:
                self.outcomes.failed(entries, error)
                raise  # the loop logs it and waits a moment
            # One outcome the database refuses must not hold back the others: one at a time.
            log.warning("recording %d outbox outcomes together failed; one at a time", len(entries))
            for entry in entries:
                self._record_alone(entry)
            return len(entries)
        self.outcomes.recorded(entries)
        claimed = [row.id for row in rows if row.id is not None]
        self.outcomes.hold(claimed)
        with self._sending_lock:
            self._sending += len(rows)
        for row in rows:
            self._pool.submit(self._deliver_one, row, deadline)
        return len(entries) + len(rows)

    def _record_alone(self, entry: Waiting) -> None:
        try:
            with session_scope(self.engine) as session:
                self.outcomes.write(session, [entry])
        except Exception as error:
            self.outcomes.failed([entry], error)
        else:
            self.outcomes.recorded([entry])

    def _record_left(self) -> None:
        """On a clean stop, write what the threads handed in since the last pass."""
        entries = self.outcomes.take()
        if not entries:
            return
        try:
            with session_scope(self.engine) as session:
                self.outcomes.write(session, entries)
        except Exception as error:
            log.warning(
                "outbox worker stopping: %d outcome(s) not recorded (%s); their leases will run out",
                len(entries),
                type(error).__name__,
            )
        else:
            self.outcomes.recorded(entries)

    def _deliver_one(self, row: OutboxMessage, deadline: float) -> None:
        """A delivery thread: send one row, hand its outcome to the next pass, be free again."""
        row_id = row.id or 0
        outcomes: list[Outcome] = []
        try:
            outcomes = self._serve([row], deadline)
        except Exception:
            log.exception("outbox row %s: delivery failed unexpectedly", row_id)
        finally:
            for outcome in outcomes:
                self.outcomes.add(row_id, outcome)
            if not outcomes:
                self.outcomes.release(row_id)
            with self._sending_lock:
                self._sending -= 1
            self.wake.set()

    def _idle_wait(self) -> float:
        with self._sending_lock:
            if self._sending >= self._parallel:
                return self.poll_s  # every thread is busy; the first to finish wakes us
        with read_scope(self.engine) as session:
            due = queue.next_due_at(session)
        if due is None:
            return self.poll_s
        return min(max((due - self.clock()).total_seconds(), 0.01), self.poll_s)
