"""The outbox worker's group commit (bot/outbox_records.py): delivery threads hand what they
learned to the worker's loop, which writes it in the same transaction that claims the next
rows. On SQLite and PostgreSQL, against the fake Slack Web API; the loop's passes are run one
at a time here (`record_and_claim`), as `run_forever` runs them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, update
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from bot.clock import utcnow
from bot.delivery import Outbox, OutboxWorker
from bot.messenger import AgentRef, Message, Text
from bot.metrics import Metrics
from bot.pseudonyms import Keyring
from handlers.slack.messenger import SlackMessenger, make_web_client
from storage import outbox as queue
from storage.db import session_scope
from storage.models import OutboxMessage, OutboxStatus
from tests.conftest import PSEUDONYM_KEY
from tests.fakes.slack_api import FakeSlack

ANA = AgentRef(agent_id="agent-ana", email="ana@example.com", slack_user_id="U0ANA")
BOB = AgentRef(agent_id="agent-bob", email="bob@example.com", slack_user_id="U0BOB")


@pytest.fixture
def messenger(engine: Engine, fake_slack: FakeSlack) -> Iterator[SlackMessenger]:
    messenger = SlackMessenger(make_web_client("xoxb-test", fake_slack.url), engine)
    yield messenger
    messenger.close()


@pytest.fixture
def outbox() -> Outbox:
    return Outbox(Keyring(PSEUDONYM_KEY.encode()))


def _worker(engine: Engine, messenger: SlackMessenger) -> OutboxWorker:
    return OutboxWorker(
        engine=engine, messenger=messenger, metrics=Metrics(), wake=threading.Event(), pace_s=0
    )


def _queue(engine: Engine, outbox: Outbox, *messages: tuple[str, AgentRef]) -> None:
    with session_scope(engine) as session:
        for key, to in messages:
            outbox.send_direct(
                session, key=key, to=to, message=Message(text=key, parts=(Text(text=key),)), now=utcnow()
            )


def _handed_in(worker: OutboxWorker, count: int) -> None:
    """Wait until the delivery threads have handed `count` outcomes to the next pass."""
    deadline = time.monotonic() + 10
    while worker.outcomes.count() < count:
        assert time.monotonic() < deadline, "the delivery threads never finished"
        time.sleep(0.01)


def _status(engine: Engine, outbox: Outbox, key: str) -> str:
    with session_scope(engine) as session:
        row = outbox.find(session, key=key)
        assert row is not None
        return row.status


def _posted(fake_slack: FakeSlack) -> list[str]:
    return [call.params["text"] for call in fake_slack.calls("chat.postMessage") if call.status == 200]


@pytest.fixture
def commits(engine: Engine) -> Iterator[list[str]]:
    """The commits this test's own thread makes (the passes), not the messenger's cache writes."""
    seen: list[str] = []
    me = threading.current_thread()

    def count(_connection: Any) -> None:
        if threading.current_thread() is me:
            seen.append("commit")

    event.listen(engine, "commit", count)
    yield seen
    event.remove(engine, "commit", count)


@pytest.fixture
def failing_commits(engine: Engine) -> Iterator[threading.Event]:
    """While set, every commit made by this test's thread fails as if the database went away."""
    failing = threading.Event()
    me = threading.current_thread()

    def fail(_connection: Any) -> None:
        if failing.is_set() and threading.current_thread() is me:
            raise OperationalError("COMMIT", None, Exception("injected: the database went away"))

    event.listen(engine, "commit", fail)
    yield failing
    event.remove(engine, "commit", fail)


def test_one_commit_records_what_was_sent_and_claims_the_next_message(
    engine: Engine, messenger: SlackMessenger, outbox: Outbox, fake_slack: FakeSlack, commits: list[str]
) -> None:
    _queue(engine, outbox, ("ana 1", ANA), ("bob 1", BOB), ("ana 2", ANA))
    worker = _worker(engine, messenger)
    assert worker.record_and_claim() == 2  # one row per conversation: ana 1 and bob 1
    _handed_in(worker, 2)
    assert _status(engine, outbox, "ana 1") == OutboxStatus.SENDING  # sent, not yet recorded

    commits.clear()
    assert worker.record_and_claim() == 3  # two outcomes written, ana 2 claimed ...
    assert commits == ["commit"]  # ... together
    assert _status(engine, outbox, "ana 1") == _status(engine, outbox, "bob 1") == OutboxStatus.SENT
    assert _status(engine, outbox, "ana 2") == OutboxStatus.SENDING

    _handed_in(worker, 1)
    worker.record_and_claim()
    assert _status(engine, outbox, "ana 2") == OutboxStatus.SENT
    posted = _posted(fake_slack)
    assert sorted(posted) == ["ana 1", "ana 2", "bob 1"] and posted.index("ana 1") < posted.index("ana 2")


def test_a_failed_commit_is_retried_and_the_message_is_never_sent_again(
    engine: Engine,
    messenger: SlackMessenger,
    outbox: Outbox,
    fake_slack: FakeSlack,
    failing_commits: threading.Event,
) -> None:
    _queue(engine, outbox, ("ana 1", ANA), ("ana 2", ANA))
    worker = _worker(engine, messenger)
    worker.record_and_claim()
    _handed_in(worker, 1)

    failing_commits.set()
    with pytest.raises(OperationalError):
        worker.record_and_claim()
    failing_commits.clear()
    assert _status(engine, outbox, "ana 1") == OutboxStatus.SENDING
    assert worker.outcomes.count() == 1  # kept for the next pass

    # The next pass writes the owed "sent" before it claims anything: even with its clock past
    # the lease the worker does not take the row back, and the next message waits behind it.
    worker.clock = lambda: utcnow() + queue.LEASE + timedelta(seconds=1)
    worker.record_and_claim()
    assert _status(engine, outbox, "ana 1") == OutboxStatus.SENT
    _handed_in(worker, 1)
    worker.record_and_claim()
    assert _posted(fake_slack) == ["ana 1", "ana 2"]  # each once, in order


def test_a_crash_after_a_failed_commit_does_not_send_the_message_again(
    engine: Engine,
    messenger: SlackMessenger,
    outbox: Outbox,
    fake_slack: FakeSlack,
    failing_commits: threading.Event,
) -> None:
    _queue(engine, outbox, ("ana 1", ANA))
    worker = _worker(engine, messenger)
    worker.record_and_claim()
    _handed_in(worker, 1)
    failing_commits.set()
    with pytest.raises(OperationalError):
        worker.record_and_claim()
    failing_commits.clear()
    # The process dies with the outcome unwritten; its lease runs out.
    with session_scope(engine) as session:
        session.execute(
            update(OutboxMessage).values(claimed_at=utcnow() - queue.LEASE - timedelta(seconds=1))
        )
    _worker(engine, messenger).run_once()
    assert _posted(fake_slack) == ["ana 1"]
    assert len(fake_slack.calls("conversations.history")) == 1  # looked for, found, not sent
    with session_scope(engine) as session:
        assert session.exec(select(col(OutboxMessage.status))).all() == [OutboxStatus.SENT]


def test_a_clean_stop_records_what_the_threads_sent(
    engine: Engine, messenger: SlackMessenger, outbox: Outbox, fake_slack: FakeSlack
) -> None:
    _queue(engine, outbox, ("ana 1", ANA), ("bob 1", BOB))
    worker = _worker(engine, messenger)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while len(_posted(fake_slack)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    worker.wake.set()
    thread.join(10)
    assert _status(engine, outbox, "ana 1") == _status(engine, outbox, "bob 1") == OutboxStatus.SENT
