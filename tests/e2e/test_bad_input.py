"""Bad input gets a clear 4xx (or an ignored 2xx) and changes nothing: never a 5xx, never a DM."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import SIGNING_SECRET, Harness, hard_call
from tests.helpers import settled

BIG = json.dumps({**hard_call(), "pad": "x" * (2 * 1024 * 1024)}).encode()


def _no_dm_and_json_error(harness: Harness, response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]
    settled(harness.services)
    assert harness.slack.calls("chat.postMessage") == []


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("missing signature", 401),
        ("wrong secret", 401),
        ("tampered body", 401),
        ("stale signature", 401),
        ("garbled signature header", 401),
        ("not JSON", 400),
        ("JSON array", 400),
        ("2 MB body", 413),
        ("wrong content type", 415),
        ("missing event id", 422),
        ("missing agent", 422),
        ("wrongly typed field", 422),
        ("unknown type", 422),
    ],
)
def test_bad_generic_webhook_is_refused(harness: Harness, case: str, status: int) -> None:
    event = hard_call()
    body = json.dumps(event).encode()
    if case == "missing signature":
        response = harness.client.post(
            "/webhooks/calls", content=body, headers={"Content-Type": "application/json"}
        )
    elif case == "wrong secret":
        response = harness.post_event(event, secret="not-the-secret")
    elif case == "tampered body":
        from handlers.telephony.generic import sign

        header = sign("test-webhook-secret", body)
        tampered = body.replace(b"abusive", b"friendly")
        response = harness.client.post(
            "/webhooks/calls",
            content=tampered,
            headers={"Content-Type": "application/json", "Breather-Signature": header},
        )
    elif case == "stale signature":
        response = harness.post_event(event, timestamp=int(time.time()) - 301)
    elif case == "garbled signature header":
        response = harness.post_event(event, headers={"Breather-Signature": "v1=abc"})
    elif case == "not JSON":
        response = harness.post_event(b"{not json")
    elif case == "JSON array":
        response = harness.post_event(b"[1, 2]")
    elif case == "2 MB body":
        response = harness.post_event(BIG)
    elif case == "wrong content type":
        response = harness.post_event(event, headers={"Content-Type": "text/plain"})
    elif case == "missing event id":
        response = harness.post_event({k: v for k, v in event.items() if k != "event_id"})
    elif case == "missing agent":
        response = harness.post_event({k: v for k, v in event.items() if k != "agent_email"})
    elif case == "wrongly typed field":
        response = harness.post_event({**event, "transfers": "many"})
    else:
        response = harness.post_event({**event, "type": "call.started"})
    _no_dm_and_json_error(harness, response, status)
    if status == 422:
        assert any(
            word in response.json()["error"] for word in ("event_id", "agent_email", "transfers", "type")
        )


def test_generic_webhook_refuses_everything_without_a_secret(make_settings: Any, fake_slack: Any) -> None:
    from starlette.testclient import TestClient

    from bot.app import create_app

    app = create_app(make_settings(webhook_secret=None))
    with TestClient(app) as client:
        harness = Harness(client, app.state.services, fake_slack)
        response = harness.post_event(hard_call())
        assert response.status_code == 401
        assert "BREATHER_WEBHOOK_SECRET" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        "payload=%7Bnot-json",
        "payload=%5B%5D",
        'payload={"type": "block_actions"}',
        'payload={"type": "block_actions", "actions": [{"action_id": "checkin.ok"}]}',
        "command=%2Fbreather",
        "",
    ],
)
def test_signed_but_malformed_slack_payloads_are_not_server_errors(harness: Harness, body: str) -> None:
    from handlers.sandbox.interactions import signed_headers

    response = harness.client.post(
        "/slack/events",
        content=body,
        headers=signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded"),
    )
    assert response.status_code < 500
    settled(harness.services)
    assert harness.slack.calls("chat.update") == []


def test_unsigned_slack_request_is_refused(harness: Harness) -> None:
    response = harness.client.post(
        "/slack/events",
        content="command=%2Fbreather&text=pause&user_id=U0ANA",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401
