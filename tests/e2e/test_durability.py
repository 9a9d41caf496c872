"""Nothing is lost, nothing is sent twice: restarts, expired leases, several workers."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update
from sqlmodel import col, select
from starlette.testclient import TestClient

from bot.app import create_app
from bot.clock import utcnow
from bot.delivery import Outbox, OutboxWorker
from bot.events import InboundEvent
from bot.messenger import Message, Text
from bot.metrics import Metrics
from bot.pseudonyms import Keyring
from handlers.slack.messenger import SlackMessenger, make_web_client
from handlers.telephony.base import RawRequest
from handlers.telephony.generic import GenericAdapter
from storage.db import make_engine, session_scope, upgrade
from storage.models import OutboxMessage, OutboxStatus
from tests.conftest import PSEUDONYM_KEY, MakeSettings, hard_call
from tests.fakes.slack_api import FakeSlack
from tests.helpers import settled, wait_until


def _parsed(event: dict[str, object]) -> list[InboundEvent]:
    import json

    raw = RawRequest(path="/webhooks/calls", public_url="", headers={}, body=json.dumps(event).encode())
    return list(GenericAdapter(None).parse(raw))


def test_events_stored_before_a_restart_are_processed_after_it(
    make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    settings = make_settings()
    first = create_app(settings)
    services = first.state.services
    upgrade(services.engine)
    services.sync()
    # Stored (acknowledged to the provider) but the process stopped before working on it.
    services.intake.accept("generic", _parsed(hard_call()))
    services.engine.dispose()
    assert fake_slack.calls("chat.postMessage") == []

    second = create_app(settings)
    with TestClient(second):
        post = fake_slack.wait_for("chat.postMessage")[0]
        settled(second.state.services)
    assert post.params["channel"] == "D0ANA"
    assert len(fake_slack.calls("chat.postMessage")) == 1


def test_a_message_that_failed_before_a_restart_is_delivered_once_after_it(
    make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    settings = make_settings()
    fake_slack.fail_next("chat.postMessage", 500)
    app = create_app(settings)
    with TestClient(app) as client:
        from tests.conftest import Harness

        Harness(client, app.state.services, fake_slack).post_event(hard_call())
        fake_slack.wait_for("chat.postMessage")  # the failed attempt; stop before the retry
    with session_scope(app.state.services.engine) as session:
        row = session.exec(select(OutboxMessage)).one()
        assert row.status == OutboxStatus.PENDING and row.attempts == 1
    app.state.services.engine.dispose()

    again = create_app(settings)
    with TestClient(again):
        fake_slack.wait_for("chat.postMessage", 2, timeout=15)
        settled(again.state.services)
    assert len(fake_slack.calls("chat.postMessage")) == 2


def test_a_row_left_sending_by_a_crashed_worker_is_claimed_again_after_its_lease(
    make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    settings = make_settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    outbox = Outbox(Keyring(PSEUDONYM_KEY.encode()))
    message = Message(text="hello", parts=(Text(text="hello"),))
    with session_scope(engine) as session:
        outbox.post_to_channel(session, key="crashed", channel="C0BILLING", message=message, now=utcnow())
        outbox.post_to_channel(session, key="fresh-claim", channel="C0OTHER", message=message, now=utcnow())
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.key) == outbox.stored_key("crashed"))
            .values(status=OutboxStatus.SENDING, claimed_at=utcnow() - timedelta(minutes=5), attempts=1)
        )
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.key) == outbox.stored_key("fresh-claim"))
            .values(status=OutboxStatus.SENDING, claimed_at=utcnow(), attempts=1)
        )
    worker = OutboxWorker(
        engine=engine,
        messenger=SlackMessenger(make_web_client("xoxb-test", fake_slack.url), engine),
        metrics=Metrics(),
        wake=threading.Event(),
    )
    assert worker.run_once() == 1  # only the expired lease; another worker still holds the fresh one
    assert [c.params["channel"] for c in fake_slack.calls("chat.postMessage")] == ["C0BILLING"]
    engine.dispose()


def all_sent(engine: Engine) -> bool:
    with session_scope(engine) as session:
        return {row.status for row in session.exec(select(OutboxMessage))} == {OutboxStatus.SENT}


def test_two_workers_on_postgresql_never_deliver_a_row_twice(
    pg_schema_url: str, fake_slack: FakeSlack
) -> None:
    engines = [make_engine(pg_schema_url) for _ in range(2)]
    upgrade(engines[0])
    outbox = Outbox(Keyring(PSEUDONYM_KEY.encode()))
    with session_scope(engines[0]) as session:
        for i in range(40):
            outbox.post_to_channel(
                session,
                key=f"m{i}",
                channel=f"C{i:03d}",
                message=Message(text=f"m{i}", parts=()),
                now=utcnow(),
            )
    fake_slack.state.latency_s = 0.01  # slow enough for the two workers to overlap
    stop = threading.Event()
    workers = [
        OutboxWorker(
            engine=engine,
            messenger=SlackMessenger(make_web_client("xoxb-test", fake_slack.url), engine),
            metrics=Metrics(),
            wake=threading.Event(),
            batch=5,
            poll_s=0.05,
        )
        for engine in engines
    ]
    threads = [threading.Thread(target=w.run_forever, args=(stop,)) for w in workers]
    for thread in threads:
        thread.start()
    try:
        fake_slack.wait_for("chat.postMessage", 40, timeout=20)
        wait_until(lambda: all_sent(engines[0]))
    finally:
        # Once both workers have stopped, a late duplicate would already have been sent.
        stop.set()
        for worker in workers:
            worker.wake.set()
        for thread in threads:
            thread.join(5)
    assert not any(thread.is_alive() for thread in threads)
    channels = Counter(c.params["channel"] for c in fake_slack.calls("chat.postMessage"))
    assert len(channels) == 40 and set(channels.values()) == {1}
    with session_scope(engines[0]) as session:
        assert {row.status for row in session.exec(select(OutboxMessage))} == {OutboxStatus.SENT}
    for engine in engines:
        engine.dispose()


@pytest.mark.parametrize("status", [404, 400])
def test_a_permanent_slack_error_is_not_retried(
    make_settings: MakeSettings, fake_slack: FakeSlack, status: int
) -> None:
    fake_slack.fail_next("chat.postMessage", status, error="channel_not_found")
    app = create_app(make_settings())
    with TestClient(app) as client:
        from tests.conftest import Harness

        Harness(client, app.state.services, fake_slack).post_event(hard_call())
        fake_slack.wait_for("chat.postMessage")
        settled(app.state.services)  # nothing waits to be sent or retried...
        with session_scope(app.state.services.engine) as session:  # ...because the row failed for good
            row = session.exec(select(OutboxMessage)).one()
            assert row.status == OutboxStatus.FAILED and "channel_not_found" in (row.last_error or "")
    assert len(fake_slack.calls("chat.postMessage")) == 1
