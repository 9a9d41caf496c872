"""What Slack and webhook senders wrote never reaches the logs, nor does any secret."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from slack_bolt import BoltRequest
from starlette.testclient import TestClient

from bot.app import create_app
from tests.conftest import PSEUDONYM_KEY, ROSTER, MakeSettings

MARKER = "MARKER-what-an-agent-wrote-7f3a"


def test_a_slack_request_with_a_bad_signature_never_logs_its_body(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    # Set before the app is built: Bolt's loggers copy their level when they are created.
    caplog.set_level(logging.DEBUG)
    app = create_app(make_settings())
    body = f"command=%2Fkudos&text={MARKER}&user_id=U0ANA"
    stale = str(int(time.time()) - 3600)
    with TestClient(app) as client:
        response = client.post(
            "/slack/events",
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stale,
                "X-Slack-Signature": "v0=" + "0" * 64,
            },
        )
        assert response.status_code == 401
        # Bolt itself, as any other mount of it would call it, logs nothing of the body either.
        headers: dict[str, str | Sequence[str]] = {
            "x-slack-request-timestamp": stale,
            "x-slack-signature": "v0=" + "0" * 64,
        }
        assert app.state.bolt.dispatch(BoltRequest(body=body, headers=headers)).status == 401
    assert caplog.records  # logging was on
    assert MARKER not in caplog.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_masks_secrets_in_uvicorn_log_lines(tmp_path: Path) -> None:
    secret = "webhook-secret-in-a-query-string-0123"
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "DATABASE_URL": f"sqlite:///{tmp_path}/breather.db",
        "BREATHER_CONFIG": str(ROSTER),
        "BREATHER_MESSENGER": "sandbox",
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_WEBHOOK_SECRET": secret,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=os.getcwd(),
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        # A sender that put the secret in the URL: uvicorn's access log prints the query.
        httpx.post(f"{url}/webhooks/calls?token={secret}", content=b"{}", timeout=5)
        # The console asks as a lead, by e-mail, in its query string.
        httpx.get(f"{url}/sandbox/api/view?as=lead:radu@example.com", timeout=5)
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=30)
    assert "/webhooks/calls?token=***" in err  # uvicorn's own line, through the masking handler
    assert secret not in err
    assert "/sandbox/api/view?as=" in err and "radu@example.com" not in err
