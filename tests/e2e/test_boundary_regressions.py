"""Issue 20's examples of bad input that once answered 5xx, kept as explicit regression cases:
each is refused with a 4xx JSON message, stores and sends nothing, and the app still works."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from handlers.sandbox.interactions import signed_headers
from handlers.telephony.zendesk import sign as zendesk_sign
from tests.conftest import (
    AIRCALL_TOKEN,
    FIXTURES,
    SIGNING_SECRET,
    ZENDESK_SECRET,
    Harness,
    MakeSettings,
    hard_call,
)
from tests.e2e.test_bad_input import _load, _set, send_signed
from tests.helpers import settled
from tests.teams_harness import TeamsHarness

LONG = "9" * 5000  # past Python's int-parsing limit (4,300 digits)
DEEP = "[" * 50_000 + "]" * 50_000


def refused(harness: Harness, response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]
    settled(harness.services)
    assert harness.slack.calls("chat.postMessage") == []


def still_works(harness: Harness) -> None:
    good = harness.post_event(hard_call(event_id=f"after-{time.monotonic_ns()}"))
    assert good.status_code == 202 and good.json()["status"] == "accepted"


def test_an_unsigned_aircall_body_with_a_huge_number_is_400_not_503(shared_harness: Harness) -> None:
    # The Aircall token is inside the body, so the body is read before anything is verified.
    event = json.loads((FIXTURES / "aircall" / "call_ended.json").read_text())
    text = json.dumps({**event, "token": "wrong"}).replace('"token"', f'"n": {LONG}, "token"', 1)
    response = shared_harness.client.post(
        "/webhooks/aircall", content=text, headers={"Content-Type": "application/json"}
    )
    refused(shared_harness, response, 400)
    assert "too long" in response.json()["error"]


def post_signed_text(harness: Harness, provider: str, text: str) -> Any:
    """`text` (a JSON text, maybe breaking the rules) sent as `provider` signs it."""
    body = text.encode()
    if provider == "generic":
        return harness.post_event(body)
    if provider == "aircall":  # its token is inside the body
        return harness.client.post(
            "/webhooks/aircall", content=body, headers={"Content-Type": "application/json"}
        )
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    headers = {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": zendesk_sign(ZENDESK_SECRET, body, stamp),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }
    return harness.client.post("/webhooks/zendesk", content=body, headers=headers)


BASES = {
    "generic": lambda: hard_call(),
    "aircall": lambda: {**_load("aircall", "call_ended"), "token": AIRCALL_TOKEN},
    "zendesk": lambda: _load("zendesk", "satisfaction_good"),
}
LITERALS = {
    "long": (LONG, 400),
    "nan": ("NaN", 400),
    "1e999": ("1e999", 400),
    "deep": (DEEP, 400),
    "surrogate": ('"\\udc00"', 422),
    "control": ('"\\u001b"', 422),
}


@pytest.mark.parametrize("provider", BASES)
@pytest.mark.parametrize("value", LITERALS)
def test_signed_bodies_breaking_the_json_rules_are_refused(
    shared_harness: Harness, provider: str, value: str
) -> None:
    literal, status = LITERALS[value]
    text = json.dumps({**BASES[provider](), "extra": "__BAD__"}).replace('"__BAD__"', literal)
    response = post_signed_text(shared_harness, provider, text)
    refused(shared_harness, response, status)


@pytest.mark.parametrize(
    ("field", "moment"),
    [
        ("started_at", "0001-01-01T00:00:00+14:00"),
        ("ended_at", "9999-12-31T23:59:59-14:00"),
        ("ended_at", "1900-01-01T00:00:00Z"),
    ],
)
def test_dates_at_the_calendar_edges_are_refused_422(harness: Harness, field: str, moment: str) -> None:
    response = harness.post_event(hard_call(**{field: moment}))
    refused(harness, response, 422)
    still_works(harness)


def test_twilio_attributes_with_a_huge_number_are_ignored_not_a_5xx(shared_harness: Harness) -> None:
    response = send_signed(
        shared_harness, "twilio", _set("TaskAttributes", '{"n": ' + LONG + ', "tags": ["abusive"]}')
    )
    assert response.status_code < 500


def test_twilio_timestamp_ms_that_is_not_a_number_is_not_a_5xx(shared_harness: Harness) -> None:
    for stamp in ("abc", LONG, "1e999", "nan", "-inf", "0001-01-01T00:00:00+14:00"):
        response = send_signed(shared_harness, "twilio", _set("TimestampMs", stamp))
        assert response.status_code < 500, (stamp, response.text)


@pytest.mark.parametrize("body", [DEEP, '{"type": "event_callback", "n": ' + LONG + "}"])
def test_signed_slack_json_that_breaks_the_rules_is_400(shared_harness: Harness, body: str) -> None:
    response = shared_harness.client.post(
        "/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body, "application/json")
    )
    refused(shared_harness, response, 400)


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ('{"type": "view_submission", "view": {"private_metadata": "\\ud800"}}', 422),
        ("[" * 50_000 + "]" * 50_000, 400),
    ],
)
def test_signed_slack_interactions_that_break_the_rules_are_refused(
    shared_harness: Harness, payload: str, status: int
) -> None:
    body = urlencode({"payload": payload})
    response = shared_harness.client.post(
        "/slack/events",
        content=body,
        headers=signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded"),
    )
    refused(shared_harness, response, status)


def test_a_slash_command_with_a_lone_surrogate_is_refused_422(shared_harness: Harness) -> None:
    body = "command=%2Fkudos&text=%ED%A0%80&user_id=U0ANA"  # UTF-8 of a surrogate: not UTF-8
    response = shared_harness.client.post(
        "/slack/events",
        content=body,
        headers=signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded"),
    )
    refused(shared_harness, response, 400)
    assert shared_harness.slack.calls("chat.postEphemeral") == []


@pytest.mark.parametrize("body", [DEEP.encode(), b'{"type": "message", "n": ' + LONG.encode() + b"}"])
def test_teams_bodies_that_break_the_rules_are_400(shared_teams_harness: TeamsHarness, body: bytes) -> None:
    response = shared_teams_harness.post(body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]
    settled(shared_teams_harness.services)
    assert shared_teams_harness.teams.calls() == []


def test_sandbox_api_bodies_that_break_the_rules_are_400(make_settings: MakeSettings) -> None:
    from bot.app import create_app
    from tests.e2e.test_console import console_client

    app = create_app(make_settings(messenger="sandbox", slack_bot_token=None, slack_signing_secret=None))
    with console_client(app) as client:
        for path in ("click", "command", "control", "modal/submit"):
            for body in (DEEP, '{"as": "lead:radu@example.com", "text": ' + LONG + "}"):
                response = client.post(
                    f"/sandbox/api/{path}", content=body, headers={"Content-Type": "application/json"}
                )
                assert response.status_code == 400, (path, response.text)
                assert response.json()["error"]
