"""Each phone system's real webhook, signed as the provider signs it, through the running app."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from sqlmodel import col, select
from twilio.request_validator import RequestValidator

from storage.db import session_scope
from storage.models import Call
from tests.conftest import AIRCALL_TOKEN, DIALPAD_SECRET, TWILIO_TOKEN, Harness, call_event
from tests.helpers import action_ids, settled, stored_call_keys

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def load(provider: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / provider / f"{name}.json").read_text())
    return data


def assert_one_checkin_for_ana(harness: Harness) -> None:
    post = harness.slack.wait_for("chat.postMessage")[0]
    assert post.params["channel"] == "D0ANA"
    assert action_ids(post.params["blocks"]) == ["checkin.ok", "checkin.break", "checkin.talk"]
    settled(harness.services)
    assert len(harness.slack.calls("chat.postMessage")) == 1


def test_twilio_taskrouter_wrapup_with_abuse_tag(harness: Harness) -> None:
    params = load("twilio", "task_wrapup")
    attributes = json.loads(params["TaskAttributes"])
    attributes["tags"] = ["abusive"]
    params["TaskAttributes"] = json.dumps(attributes)
    params.update({"Timestamp": str(int(time.time())), "TimestampMs": str(int(time.time() * 1000))})
    url = "https://breather.test/webhooks/twilio"  # BREATHER_PUBLIC_URL + path: what Twilio signed
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, params),
    }
    response = harness.client.post("/webhooks/twilio", content=urlencode(params), headers=headers)
    assert response.status_code == 204
    assert_one_checkin_for_ana(harness)
    # task.completed for the same task is the same call: no second check-in.
    completed = {**params, "EventType": "task.completed", "Sid": "EV" + "1" * 32}
    headers["X-Twilio-Signature"] = RequestValidator(TWILIO_TOKEN).compute_signature(url, completed)
    assert (
        harness.client.post("/webhooks/twilio", content=urlencode(completed), headers=headers).status_code
        == 204
    )
    settled(harness.services)
    assert len(harness.slack.calls("chat.postMessage")) == 1


def _post_twilio(harness: Harness, params: dict[str, str]) -> None:
    url = "https://breather.test/webhooks/twilio"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, params),
    }
    response = harness.client.post("/webhooks/twilio", content=urlencode(params), headers=headers)
    assert response.status_code == 204, response.text


def _twilio_call(harness: Harness, *, task: str, queued_s: int, talked_s: int) -> None:
    """A Twilio call as TaskRouter reports it: accepted after `queued_s` in the queue, then
    wrapped up `talked_s` later; TaskAge counts from the task's creation, queue included."""
    now = time.time()
    accepted, ended = now - talked_s, now
    base = {"TaskSid": task, "ResourceSid": task}
    _post_twilio(
        harness,
        {
            **load("twilio", "reservation_accepted"),
            **base,
            "Sid": "EV" + task[2:],
            "Timestamp": str(int(accepted)),
            "TimestampMs": str(int(accepted * 1000)),
            "TaskAge": str(queued_s),
        },
    )
    wrapup = load("twilio", "task_wrapup")
    attributes = json.loads(wrapup["TaskAttributes"])
    attributes.pop("disposition")  # the customer hung up: one signal, not an abuse marker
    attributes["tags"] = []
    _post_twilio(
        harness,
        {
            **wrapup,
            **base,
            "Sid": "EF" + task[2:],
            "TaskAttributes": json.dumps(attributes),
            "Timestamp": str(int(ended)),
            "TimestampMs": str(int(ended * 1000)),
            "TaskAge": str(queued_s + talked_s),
        },
    )


def _seed_two_minute_calls(harness: Harness) -> None:
    for _ in range(10):
        assert harness.post_event(call_event(duration_s=120, disconnected_by="agent")).status_code == 202
    settled(harness.services)


def _duration(harness: Harness, task: str) -> float | None:
    with session_scope(harness.services.engine) as session:
        keys = stored_call_keys(harness, task, provider="twilio")
        return session.exec(select(col(Call.duration_s)).where(col(Call.call_id).in_(keys))).one()


def test_twilio_queue_wait_is_not_talk_time(harness: Harness) -> None:
    """20 minutes in the queue, then a 2-minute call the customer ended: not a long call, so
    the hang-up alone is one signal and nobody is asked."""
    _seed_two_minute_calls(harness)
    task = "WT" + "2" * 32

    _twilio_call(harness, task=task, queued_s=20 * 60, talked_s=120)

    settled(harness.services)
    assert harness.slack.calls("chat.postMessage") == []
    assert _duration(harness, task) == pytest.approx(120, abs=1)


def test_twilio_long_talk_is_still_a_long_call(harness: Harness) -> None:
    """The same hang-up after 30 minutes of talk: long and hung up on, two signals, one check-in."""
    _seed_two_minute_calls(harness)
    task = "WT" + "3" * 32

    _twilio_call(harness, task=task, queued_s=30, talked_s=30 * 60)

    assert_one_checkin_for_ana(harness)
    assert _duration(harness, task) == pytest.approx(30 * 60, abs=1)


def test_twilio_signature_for_another_url_is_refused(harness: Harness) -> None:
    params = load("twilio", "task_wrapup")
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        "https://elsewhere.test/webhooks/twilio", params
    )
    response = harness.client.post(
        "/webhooks/twilio",
        content=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    assert response.status_code == 401


def test_aircall_call_ended_then_tagged_abusive(harness: Harness) -> None:
    ended = load("aircall", "call_ended")
    now = int(time.time())
    ended["token"] = AIRCALL_TOKEN
    ended["data"].update({"started_at": now - 300, "answered_at": now - 290, "ended_at": now - 5, "tags": []})
    assert harness.client.post("/webhooks/aircall", json=ended).status_code == 200
    settled(harness.services)
    assert harness.slack.calls("chat.postMessage") == []  # an ordinary call
    tagged = load("aircall", "call_tagged")
    tagged["token"] = AIRCALL_TOKEN
    tagged["data"].update(
        {"id": ended["data"]["id"], "tags": [{"id": 1, "name": "Abusive"}], "ended_at": now - 5}
    )
    assert harness.client.post("/webhooks/aircall", json=tagged).status_code == 200
    assert_one_checkin_for_ana(harness)
    # The same delivery again (Aircall retries) changes nothing.
    again = harness.client.post("/webhooks/aircall", json=tagged)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"


def test_aircall_wrong_token_is_refused(harness: Harness) -> None:
    event = load("aircall", "call_ended")
    event["token"] = "guess"
    assert harness.client.post("/webhooks/aircall", json=event).status_code == 401


def test_dialpad_hangup_signed_as_a_jwt(harness: Harness) -> None:
    event = load("dialpad", "hangup")
    now_ms = int(time.time() * 1000)
    event.update(
        {
            "date_started": now_ms - 300_000,
            "date_connected": now_ms - 290_000,
            "date_ended": now_ms,
            "event_timestamp": now_ms,
            "iat": now_ms // 1000,
        }
    )
    token = jwt.encode(event, DIALPAD_SECRET, algorithm="HS256")
    response = harness.client.post(
        "/webhooks/dialpad", content=token, headers={"Content-Type": "application/jwt"}
    )
    assert response.status_code == 200
    assert_one_checkin_for_ana(harness)
    replay = harness.client.post(
        "/webhooks/dialpad", content=token, headers={"Content-Type": "application/jwt"}
    )
    assert replay.json()["status"] == "duplicate"


def test_dialpad_token_signed_with_another_secret_is_refused(harness: Harness) -> None:
    token = jwt.encode(
        load("dialpad", "hangup"), "another-secret-that-is-long-enough-0123", algorithm="HS256"
    )
    response = harness.client.post(
        "/webhooks/dialpad", content=token, headers={"Content-Type": "application/jwt"}
    )
    assert response.status_code == 401
    settled(harness.services)
    assert harness.slack.calls("chat.postMessage") == []


def test_dialpad_jwt_is_accepted_on_any_media_type_and_non_jwt_is_a_415(harness: Harness) -> None:
    # Dialpad does not document the Content-Type of its JWT bodies.
    now_ms = int(time.time() * 1000)
    for number, content_type in enumerate(("application/json", "text/plain", None)):
        event = {**load("dialpad", "hangup"), "call_id": 9000 + number, "labels": []}
        event.update({"date_ended": now_ms, "event_timestamp": now_ms, "iat": now_ms // 1000})
        token = jwt.encode(event, DIALPAD_SECRET, algorithm="HS256").encode()
        headers = {} if content_type is None else {"Content-Type": content_type}
        response = harness.client.post("/webhooks/dialpad", content=token, headers=headers)
        assert response.status_code == 200, (content_type, response.text)
        assert response.json()["status"] == "accepted"
    refused = harness.client.post(
        "/webhooks/dialpad", content=b"call_id=1&state=hangup", headers={"Content-Type": "text/plain"}
    )
    assert refused.status_code == 415
    assert "not a JWT" in refused.json()["error"]
