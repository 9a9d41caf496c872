"""A short database outage costs no webhook (issue 20, item 8): while PostgreSQL is away for a
moment (a restart, a failover), webhooks wait for it instead of answering 503, and the
background workers carry on once it is back.

The outage is played by a TCP proxy between the app and the shared test server
(tests/fakes/tcp_proxy.py): restarting the real server would break every other test run on
the machine. `bench/outage.py` measures a real `pg_ctl restart -m fast` on a private server.
SQLite has no server to lose, so these tests are PostgreSQL only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import func, select
from starlette.testclient import TestClient

from bot.app import create_app
from bot.clock import utcnow
from bot.intake import IntakeWriter
from handlers.telephony.generic import sign
from storage.db import make_engine, session_scope
from storage.models import InboundEvent
from tests.conftest import WEBHOOK_SECRET, app_settings, call_event, hard_call
from tests.databases import PostgresSchema
from tests.fakes.slack_api import FakeSlack
from tests.fakes.tcp_proxy import TcpProxy

OUTAGE_S = 1.0


@pytest.fixture
def proxied_url(_pg_schema: PostgresSchema) -> Iterator[tuple[str, TcpProxy]]:
    """The test's PostgreSQL schema, reached through a proxy that can play an outage."""
    url = make_url(_pg_schema.fresh())
    with TcpProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy


def _post(client: TestClient, event: dict[str, object]) -> int:
    body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", "Breather-Signature": sign(WEBHOOK_SECRET, body)}
    status: int = client.post("/webhooks/calls", content=body, headers=headers).status_code
    return status


def _stored(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(InboundEvent)).one()


def test_webhooks_during_a_short_outage_are_stored_not_refused(
    proxied_url: tuple[str, TcpProxy], fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    url, proxy = proxied_url
    app = create_app(app_settings(database_url=url, slack_api_url=fake_slack.url))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert _post(client, call_event()) == 202  # the pool holds live connections now
        proxy.outage(OUTAGE_S)
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(lambda _: _post(client, call_event(agent_email="bob@example.com")), range(16))
            )
        waited = time.monotonic() - started
        assert statuses == [202] * 16
        assert proxy.refused > 0 and waited >= OUTAGE_S * 0.8  # the outage happened, and was waited out
        # The workers lived through it: a hard call afterwards still becomes a check-in.
        assert _post(client, hard_call()) == 202
        fake_slack.wait_for("chat.postMessage", timeout=15)
        assert _stored(app.state.services.engine) == 18
    # An outage is a warning line per worker, not a traceback (the break worker logged one).
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


def test_an_outage_longer_than_the_wait_is_answered_503_and_stores_nothing_twice(
    proxied_url: tuple[str, TcpProxy],
) -> None:
    url, proxy = proxied_url
    engine = make_engine(url)
    writer = IntakeWriter(engine, outage_s=0.3)
    row: dict[str, object] = {
        "provider": "generic",
        "event_id": "e1",
        "kind": "call",
        "team_id": "billing",
        "pseudonym": "p",
        "kid": "k",
        "payload": {},
        "received_at": utcnow(),
    }
    assert writer.submit([row]).result(10) == 1
    proxy.outage(2.0)
    with pytest.raises(Exception) as refused:
        writer.submit([{**row, "event_id": "e2"}]).result(10)
    assert "OperationalError" in type(refused.value).__name__ or "Operational" in repr(refused.value)
    time.sleep(2.0)  # the outage ends (it is a fixed two seconds; nothing is proved by this wait)
    assert writer.submit([{**row, "event_id": "e2"}]).result(10) == 1  # the provider's retry
    assert writer.submit([row]).result(10) == 0  # and a replay of the first is a duplicate
    writer.stop()
    engine.dispose()
