"""Bad input gets a clear 4xx (or an ignored 2xx) and changes nothing: never a 5xx, never a DM."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import pytest
from slack_sdk.signature import SignatureVerifier
from twilio.request_validator import RequestValidator

from handlers.sandbox.interactions import signed_headers
from handlers.telephony.zendesk import sign as zendesk_sign
from tests.conftest import (
    AIRCALL_TOKEN,
    DIALPAD_SECRET,
    FIXTURES,
    SIGNING_SECRET,
    TWILIO_TOKEN,
    WEBHOOK_SECRET,
    ZENDESK_SECRET,
    Harness,
    hard_call,
)
from tests.helpers import settled

TIMESTAMP = "X-Slack-Request-Timestamp"
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
def test_bad_generic_webhook_is_refused(shared_harness: Harness, case: str, status: int) -> None:
    event = hard_call()
    body = json.dumps(event).encode()
    if case == "missing signature":
        response = shared_harness.client.post(
            "/webhooks/calls", content=body, headers={"Content-Type": "application/json"}
        )
    elif case == "wrong secret":
        response = shared_harness.post_event(event, secret="not-the-secret")
    elif case == "tampered body":
        from handlers.telephony.generic import sign

        header = sign("test-webhook-secret", body)
        tampered = body.replace(b"abusive", b"friendly")
        response = shared_harness.client.post(
            "/webhooks/calls",
            content=tampered,
            headers={"Content-Type": "application/json", "Breather-Signature": header},
        )
    elif case == "stale signature":
        response = shared_harness.post_event(event, timestamp=int(time.time()) - 301)
    elif case == "garbled signature header":
        response = shared_harness.post_event(event, headers={"Breather-Signature": "v1=abc"})
    elif case == "not JSON":
        response = shared_harness.post_event(b"{not json")
    elif case == "JSON array":
        response = shared_harness.post_event(b"[1, 2]")
    elif case == "2 MB body":
        response = shared_harness.post_event(BIG)
    elif case == "wrong content type":
        response = shared_harness.post_event(event, headers={"Content-Type": "text/plain"})
    elif case == "missing event id":
        response = shared_harness.post_event({k: v for k, v in event.items() if k != "event_id"})
    elif case == "missing agent":
        response = shared_harness.post_event({k: v for k, v in event.items() if k != "agent_email"})
    elif case == "wrongly typed field":
        response = shared_harness.post_event({**event, "transfers": "many"})
    else:
        response = shared_harness.post_event({**event, "type": "call.started"})
    _no_dm_and_json_error(shared_harness, response, status)
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
def test_signed_but_malformed_slack_payloads_are_not_server_errors(
    shared_harness: Harness, body: str
) -> None:
    response = shared_harness.client.post(
        "/slack/events",
        content=body,
        headers=signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded"),
    )
    assert response.status_code < 500
    settled(shared_harness.services)
    assert shared_harness.slack.calls("chat.update") == []


def test_unsigned_slack_request_is_refused(shared_harness: Harness) -> None:
    response = shared_harness.client.post(
        "/slack/events",
        content="command=%2Fbreather&text=pause&user_id=U0ANA",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401


BAD_TIMESTAMPS = ["abc", "²", "1e5", "", " ", "-5", "+1700000000", "1_700_000_000", "١٧٠٠٠٠٠٠٠٠", "9" * 5000]


def post_raw(harness: Harness, path: str, body: bytes | str, headers: dict[str, str]) -> httpx.Response:
    """POST with header values sent as Latin-1 bytes where possible (else UTF-8), so the server
    reads "²" itself. The test client re-encodes header bytes; httpx's ASGI transport does not."""

    def raw(value: str) -> bytes:
        try:
            return value.encode("latin-1")
        except UnicodeEncodeError:
            return value.encode()

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=harness.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            sent = [(name.encode(), raw(value)) for name, value in headers.items()]
            return await client.post(path, content=body, headers=sent)

    return asyncio.run(send())


@pytest.mark.parametrize("stamp", BAD_TIMESTAMPS)
def test_slack_request_with_a_non_numeric_timestamp_is_refused_401(
    shared_harness: Harness, stamp: str
) -> None:
    body = "command=%2Fbreather&text=pause&user_id=U0ANA"
    headers = signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded")
    # Also signed over the bad timestamp, so that only the timestamp itself is wrong.
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body) or ""
    for bad in ({TIMESTAMP: stamp}, {TIMESTAMP: stamp, "X-Slack-Signature": signature}):
        response = post_raw(shared_harness, "/slack/events", body, {**headers, **bad})
        _no_dm_and_json_error(shared_harness, response, 401)
    assert shared_harness.slack.calls("chat.postEphemeral") == [] and "Paused" not in response.text


def test_slack_request_with_two_timestamp_headers_is_refused(shared_harness: Harness) -> None:
    body = "command=%2Fbreather&text=pause&user_id=U0ANA"
    headers = signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded")
    raw = [(name.encode(), value.encode()) for name, value in headers.items()]
    response = shared_harness.client.post(
        "/slack/events", content=body, headers=[*raw, (TIMESTAMP.encode(), b"abc")]
    )
    _no_dm_and_json_error(shared_harness, response, 401)


@pytest.mark.parametrize("stamp", BAD_TIMESTAMPS)
def test_generic_signature_with_a_non_numeric_timestamp_is_refused_401(
    shared_harness: Harness, stamp: str
) -> None:
    body = json.dumps(hard_call()).encode()
    digest = hmac.new(WEBHOOK_SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "Breather-Signature": f"t={stamp},v1={digest}"}
    response = post_raw(shared_harness, "/webhooks/calls", body, headers)
    _no_dm_and_json_error(shared_harness, response, 401)


@pytest.mark.parametrize(
    "stamp", ["abc", "²", "1e5", "", "9" * 5000, "٢٠٢٦-11-23T09:00:00Z", "2026-11-23T09:00:00²"]
)
def test_zendesk_signature_with_a_garbled_timestamp_is_refused_401(
    shared_harness: Harness, stamp: str
) -> None:
    body = (FIXTURES / "zendesk" / "satisfaction_good.json").read_bytes()
    headers = {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": zendesk_sign(ZENDESK_SECRET, body, stamp),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }
    response = post_raw(shared_harness, "/webhooks/zendesk", body, headers)
    _no_dm_and_json_error(shared_harness, response, 401)


# The id of a value read from the clock is fixed: test runners that collect in several processes
# (pytest-xdist) need the same test ids in each.
@pytest.mark.parametrize(
    "iat",
    ["abc", "²", "1e5", "", "12", pytest.param(str(int(time.time())), id="now-as-text"), True, None],
)
def test_dialpad_jwt_with_a_non_numeric_iat_is_refused_401(shared_harness: Harness, iat: Any) -> None:
    # PyJWT itself takes "12" for an iat; the age check must not be skipped because of that.
    event = json.loads((FIXTURES / "dialpad" / "hangup.json").read_text())
    token = jwt.encode({**event, "iat": iat}, DIALPAD_SECRET, algorithm="HS256")
    response = shared_harness.client.post(
        "/webhooks/dialpad", content=token, headers={"Content-Type": "application/jwt"}
    )
    _no_dm_and_json_error(shared_harness, response, 401)


def test_twilio_event_with_non_numeric_timestamps_is_still_a_call(harness: Harness) -> None:
    # Twilio signs the URL and parameters, not a time; its Timestamp fields are only facts.
    params = json.loads((FIXTURES / "twilio" / "task_wrapup.json").read_text())
    attributes = {**json.loads(params["TaskAttributes"]), "tags": ["abusive"]}
    params.update({"Timestamp": "²", "TimestampMs": "1e5x", "TaskAttributes": json.dumps(attributes)})
    url = "https://breather.test/webhooks/twilio"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, params),
    }
    response = harness.client.post("/webhooks/twilio", content=urlencode(params), headers=headers)
    assert response.status_code == 204
    assert harness.slack.wait_for("chat.postMessage")[0].params["channel"] == "D0ANA"
    settled(harness.services)


def test_aircall_event_with_a_non_numeric_timestamp_is_refused_422(shared_harness: Harness) -> None:
    event = json.loads((FIXTURES / "aircall" / "call_ended.json").read_text())
    response = shared_harness.client.post(
        "/webhooks/aircall", json={**event, "token": AIRCALL_TOKEN, "timestamp": "²"}
    )
    _no_dm_and_json_error(shared_harness, response, 422)
    assert "timestamp" in response.json()["error"]


def _load(provider: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / provider / f"{name}.json").read_text())
    return data


def send_signed(harness: Harness, provider: str, change: Callable[[dict[str, Any]], None]) -> Any:
    """A provider's realistic event, changed by `change`, then signed as that provider signs."""
    now = int(time.time())
    if provider == "generic":
        event = hard_call()
        change(event)
        return harness.post_event(event)
    if provider == "twilio":
        params = {**_load("twilio", "task_wrapup"), "Timestamp": str(now), "TimestampMs": str(now * 1000)}
        change(params)
        url = "https://breather.test/webhooks/twilio"
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        return harness.client.post("/webhooks/twilio", content=urlencode(params), headers=headers)
    if provider == "aircall":
        event = {**_load("aircall", "call_ended"), "token": AIRCALL_TOKEN}
        change(event)
        return harness.client.post("/webhooks/aircall", json=event)
    if provider == "dialpad":
        event = {**_load("dialpad", "hangup"), "iat": now}
        change(event)
        token = jwt.encode(event, DIALPAD_SECRET, algorithm="HS256")
        return harness.client.post(
            "/webhooks/dialpad", content=token, headers={"Content-Type": "application/jwt"}
        )
    data = _load("zendesk", "satisfaction_good")
    change(data)
    body = json.dumps(data).encode()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    headers = {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": zendesk_sign(ZENDESK_SECRET, body, stamp),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }
    return harness.client.post("/webhooks/zendesk", content=body, headers=headers)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[key]
        data[last] = value

    return change


NUL_CASES = {
    "generic event id": ("generic", _set("event_id", "evt-\x00-1")),
    "generic agent e-mail": ("generic", _set("agent_email", "ana@example.com\x00")),
    "generic tag": ("generic", _set("tags", ["abusive", "bill\x00ing"])),
    "generic queue": ("generic", _set("queue", "bill\x00ing")),
    "generic call id": ("generic", _set("call_id", "c\x00")),
    "twilio queue name": ("twilio", _set("TaskQueueName", "Bill\x00ing")),
    "aircall tag": ("aircall", _set("data.tags", [{"id": 1, "name": "abu\x00sive"}])),
    "dialpad label": ("dialpad", _set("labels", ["abusive\x00"])),
    "zendesk comment": ("zendesk", _set("satisfaction_rating.comment", "So kind\x00!")),
}


@pytest.mark.parametrize("case", NUL_CASES)
def test_a_nul_character_in_a_signed_event_is_refused_422(harness: Harness, case: str) -> None:
    # In JSON the NUL travels as the escape \u0000, which json.dumps writes for "\x00".
    provider, change = NUL_CASES[case]
    response = send_signed(harness, provider, change)
    _no_dm_and_json_error(harness, response, 422)
    assert "NUL" in response.json()["error"]
    # Refused before it was stored: the next good request goes through as usual.
    good = harness.post_event(hard_call())
    assert good.status_code == 202 and good.json()["status"] == "accepted"
    assert harness.slack.wait_for("chat.postMessage")[0].params["channel"] == "D0ANA"
    settled(harness.services)


def test_a_nul_character_in_feedback_is_refused_422(harness: Harness) -> None:
    feedback = {
        "type": "feedback",
        "event_id": "fb-1",
        "agent_email": "ana@example.com",
        "rating": "good",
        "comment": "Ana was\x00 kind",
    }
    response = harness.post_event(feedback)
    _no_dm_and_json_error(harness, response, 422)
    assert response.json()["error"].startswith("comment: ")


OUT_OF_RANGE = {
    "generic transfers 10**30": ("generic", _set("transfers", 10**30), "transfers"),
    "generic transfers 1001": ("generic", _set("transfers", 1001), "transfers"),
    "generic hold": ("generic", _set("hold_s", 1e30), "hold_s"),
    "generic duration": ("generic", _set("duration_s", 10**30), "duration_s"),
    "aircall duration": ("aircall", _set("data.duration", 10**30), "data.duration"),
    "dialpad duration": ("dialpad", _set("duration", 1e30), "duration"),
}


@pytest.mark.parametrize("case", OUT_OF_RANGE)
def test_a_number_out_of_range_is_refused_422_naming_the_field(shared_harness: Harness, case: str) -> None:
    provider, change, field = OUT_OF_RANGE[case]
    response = send_signed(shared_harness, provider, change)
    _no_dm_and_json_error(shared_harness, response, 422)
    assert response.json()["error"].startswith(f"{field}: ")
