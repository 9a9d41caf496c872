"""Replicas that start together (issue 20, item 9): several `breather serve` processes launched
at the same moment on one empty PostgreSQL schema all migrate, sync the roster and serve.

Real processes, because what races is two interpreters each migrating and seeding the same
tables; the in-process version of the roster race is in tests/storage/test_schema_and_roster.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import sqlalchemy

from bot.config import load_config
from tests.conftest import PSEUDONYM_KEY, ROSTER, SIGNING_SECRET, WEBHOOK_SECRET
from tests.fakes.slack_api import FakeSlack

REPLICAS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # polling a process that is starting up; no negative is proved by waiting
    return False


def test_replicas_started_together_on_an_empty_database_all_serve(
    pg_schema_url: str, fake_slack: FakeSlack
) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/tmp",
        "DATABASE_URL": pg_schema_url,
        "BREATHER_CONFIG": str(ROSTER),
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
    }
    ports = [_free_port() for _ in range(REPLICAS)]
    replicas = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for port in ports
    ]
    try:
        deadline = time.monotonic() + 90
        healthy = [_healthy(port, deadline) for port in ports]
        alive = [replica.poll() is None for replica in replicas]
    finally:
        for replica in replicas:
            replica.send_signal(signal.SIGTERM)
        logs = [replica.communicate(timeout=30)[1] for replica in replicas]
    assert alive == [True] * REPLICAS, logs
    assert healthy == [True] * REPLICAS, logs
    assert not any("Traceback" in log or "UniqueViolation" in log for log in logs), logs
    engine = sqlalchemy.create_engine(pg_schema_url)
    with engine.connect() as connection:
        agents = connection.exec_driver_sql("SELECT count(*), count(DISTINCT email) FROM agents").one()
        revisions = connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar()
    engine.dispose()
    assert agents[0] == agents[1] == sum(len(team.agents) for team in load_config(ROSTER).teams)
    assert revisions == 1
