"""Crash-safe delivery (issue 20, item 7): a worker that dies after Slack accepted a message,
before it could record that, does not make the message arrive twice; a message it never got
to send still arrives once. On SQLite and PostgreSQL, against the fake Slack Web API.

The crash is the worker's own steps stopped half way: rows claimed, the platform called, the
outcome never recorded, then the lease runs out (moved back in the database, as waiting the
60 s would do). The whole process killed with SIGKILL is tested in test_crash_kill.py.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update
from sqlmodel import col, select

from bot.clock import utcnow
from bot.delivery import Outbox, OutboxWorker, deliver
from bot.messenger import AgentRef, ChatPlatform, ChatUser, Message, Text
from bot.metrics import Metrics
from bot.pseudonyms import Keyring
from handlers.slack.messenger import METADATA_EVENT, SlackMessenger, make_web_client
from storage import outbox as queue
from storage.db import session_scope
from storage.models import OutboxMessage, OutboxStatus
from tests.conftest import PSEUDONYM_KEY
from tests.fakes.slack_api import FakeSlack

SLACK = ChatPlatform.SLACK
ANA = AgentRef(
    agent_id="agent-ana", email="ana@example.com", chat_users=(ChatUser(platform=SLACK, user_id="U0ANA"),)
)
BOB = AgentRef(
    agent_id="agent-bob", email="bob@example.com", chat_users=(ChatUser(platform=SLACK, user_id="U0BOB"),)
)


@pytest.fixture
def messenger(engine: Engine, fake_slack: FakeSlack) -> Iterator[SlackMessenger]:
    messenger = SlackMessenger(make_web_client("xoxb-test", fake_slack.url), engine)
    yield messenger
    messenger.close()


def _worker(engine: Engine, messenger: SlackMessenger) -> OutboxWorker:
    return OutboxWorker(
        engine=engine, messenger=messenger, metrics=Metrics(), wake=threading.Event(), pace_s=0
    )


def _queue(engine: Engine) -> Outbox:
    outbox = Outbox(Keyring(PSEUDONYM_KEY.encode()))
    with session_scope(engine) as session:
        for to in (ANA, BOB):
            outbox.send_direct(
                session,
                key=f"checkin:{to.agent_id}",
                to=to,
                message=Message(text="How are you?", parts=(Text(text="How are you?"),)),
                now=utcnow(),
            )
        outbox.post_to_channel(
            session,
            key="kudos:1",
            channel="C0BILLING",
            message=Message(text="Well done", parts=()),
            now=utcnow(),
        )
    return outbox


def _crash_after_sending(engine: Engine, messenger: SlackMessenger, *, sent: int) -> None:
    """A worker claims every due row, the platform accepts the first `sent` of them, and the
    process dies before recording anything; then its lease runs out."""
    with session_scope(engine) as session:
        rows = queue.claim_due(session, now=utcnow(), limit=10)
    for row in rows[:sent]:
        deliver(messenger, row)
    with session_scope(engine) as session:
        session.execute(
            update(OutboxMessage).values(claimed_at=utcnow() - queue.LEASE - timedelta(seconds=1))
        )


def _posted_keys(fake_slack: FakeSlack) -> Counter[str]:
    return Counter(
        call.params["metadata"]["event_payload"]["key"]
        for call in fake_slack.calls("chat.postMessage")
        if call.params.get("metadata", {}).get("event_type") == METADATA_EVENT
    )


def _statuses(engine: Engine) -> set[str]:
    with session_scope(engine) as session:
        return set(session.exec(select(col(OutboxMessage.status))).all())


def test_messages_slack_accepted_before_the_worker_died_are_not_sent_again(
    engine: Engine, messenger: SlackMessenger, fake_slack: FakeSlack
) -> None:
    _queue(engine)
    _crash_after_sending(engine, messenger, sent=2)  # two of three arrived; nobody recorded it
    assert sum(_posted_keys(fake_slack).values()) == 2

    assert _worker(engine, messenger).run_once() == 3
    posted = _posted_keys(fake_slack)
    assert len(posted) == 3 and set(posted.values()) == {1}  # each message once, none lost
    assert len(fake_slack.calls("conversations.history")) == 3  # each in-doubt row was looked for
    assert _statuses(engine) == {OutboxStatus.SENT}


def test_a_found_channel_post_keeps_where_it_landed(
    engine: Engine, messenger: SlackMessenger, fake_slack: FakeSlack
) -> None:
    outbox = _queue(engine)
    _crash_after_sending(engine, messenger, sent=3)
    (landed,) = fake_slack.messages("C0BILLING")
    _worker(engine, messenger).run_once()
    assert len(fake_slack.calls("chat.postMessage")) == 3
    with session_scope(engine) as session:
        post = outbox.find(session, key="kudos:1")
        assert post is not None and post.result == {"channel": "C0BILLING", "ts": landed["ts"]}


def test_without_permission_to_read_history_an_in_doubt_message_is_sent_rather_than_lost(
    engine: Engine, messenger: SlackMessenger, fake_slack: FakeSlack
) -> None:
    _queue(engine)
    _crash_after_sending(engine, messenger, sent=0)
    fake_slack.fail_next("conversations.history", 200, times=3, error="missing_scope")
    _worker(engine, messenger).run_once()
    assert set(_posted_keys(fake_slack).values()) == {1} and len(_posted_keys(fake_slack)) == 3
    assert _statuses(engine) == {OutboxStatus.SENT}


def test_a_row_never_in_doubt_is_sent_without_reading_history(
    engine: Engine, messenger: SlackMessenger, fake_slack: FakeSlack
) -> None:
    _queue(engine)
    fake_slack.fail_next("chat.postMessage", 500)  # a failure the worker lived to record
    worker = _worker(engine, messenger)
    worker.run_once()
    with session_scope(engine) as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    worker.run_once()
    assert fake_slack.calls("conversations.history") == []
    assert len(_posted_keys(fake_slack)) == 3
