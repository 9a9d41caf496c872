"""`breather serve` killed with SIGKILL while it is sending (issue 20, item 7): a new process
delivers the rest, none lost and none twice, on SQLite and PostgreSQL.

The fake Slack answers each post after 0.2 s, so about four sends are under way (one per
delivery thread) when the kill comes: Slack has those messages, Breather has not recorded
them. The new process must find them in the conversations' history instead of posting again.
The 60-second lease is moved back in the database rather than waited out. bench/crash.py does
the same with a 2,000-agent survey round.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter

import httpx
from sqlalchemy import Engine, text, update

from bot.clock import utcnow
from bot.delivery import Outbox
from bot.messenger import Message, Text
from bot.pseudonyms import Keyring
from handlers.slack.messenger import METADATA_EVENT
from storage import outbox as queue
from storage.db import make_engine, read_scope, session_scope
from storage.models import OutboxMessage, OutboxStatus
from tests.conftest import PSEUDONYM_KEY, ROSTER, SIGNING_SECRET, WEBHOOK_SECRET
from tests.fakes.slack_api import FakeSlack

MESSAGES = 24


def _serve(database_url: str, slack: FakeSlack) -> tuple[subprocess.Popen[str], int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/tmp",
        "DATABASE_URL": database_url,
        "BREATHER_CONFIG": str(ROSTER),
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return process, port


def _accepted(slack: FakeSlack) -> Counter[str]:
    return Counter(
        call.params["metadata"]["event_payload"]["key"]
        for call in slack.calls("chat.postMessage")
        if call.status == 200 and call.params.get("metadata", {}).get("event_type") == METADATA_EVENT
    )


def _depth(engine: Engine) -> int:
    with read_scope(engine) as session:  # a write transaction would hold SQLite's lock meanwhile
        return queue.depth(session)


def _until(check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_server_killed_while_sending_loses_nothing_and_sends_nothing_twice(
    database_url: str, fake_slack: FakeSlack
) -> None:
    engine = make_engine(database_url)
    outbox = Outbox(Keyring(PSEUDONYM_KEY.encode()))
    with session_scope(engine) as session:
        for n in range(MESSAGES):
            message = Message(text=f"post {n}", parts=(Text(text=f"post {n}"),))
            outbox.post_to_channel(
                session, key=f"post:{n}", channel=f"C{n:03d}", message=message, now=utcnow()
            )
    fake_slack.state.latency_s = 0.2

    first, _ = _serve(database_url, fake_slack)
    try:
        _until(lambda: sum(_accepted(fake_slack).values()) >= 8, timeout=60)
        first.send_signal(signal.SIGKILL)
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate(timeout=10)
    with session_scope(engine) as session:  # the dead process's lease runs out
        in_flight: int = session.execute(
            text("SELECT count(*) FROM outbox WHERE status = 'sending'")
        ).scalar_one()
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENDING)  # type: ignore[arg-type]
            .values(claimed_at=utcnow() - queue.LEASE)
        )
    assert in_flight > 0  # the kill came while rows were claimed

    second, port = _serve(database_url, fake_slack)
    try:
        _until(lambda: len(_accepted(fake_slack)) >= MESSAGES, timeout=90)
        _until(lambda: _depth(engine) == 0, timeout=30)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        second.send_signal(signal.SIGTERM)
        log = second.communicate(timeout=30)[1]
        engine.dispose()
    accepted = _accepted(fake_slack)
    assert len(accepted) == MESSAGES, log  # none lost
    assert set(accepted.values()) == {1}, {k: n for k, n in accepted.items() if n > 1}  # none twice
    assert fake_slack.calls("conversations.history"), "no in-doubt row was looked for"
