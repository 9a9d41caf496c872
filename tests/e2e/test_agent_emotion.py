"""Agent emotion data is refused at ingest (issue 13, point 7): fields a phone system sends about
the agent's sentiment, emotion or empathy are dropped before anything is read, scored or stored,
in every adapter. Each payload carries such fields with a marker value; the same call without
them must give the same events, and after the app has processed them no stored cell holds a
marker or a field name."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from twilio.request_validator import RequestValidator

from handlers.telephony.aircall import AircallAdapter
from handlers.telephony.base import RawRequest, TelephonyAdapter
from handlers.telephony.connect import ConnectAdapter
from handlers.telephony.dialpad import DialpadAdapter
from handlers.telephony.emotion import names_agent_emotion, without_agent_emotion
from handlers.telephony.generic import GenericAdapter, sign
from handlers.telephony.genesys import GenesysAdapter
from handlers.telephony.twilio import TwilioAdapter
from handlers.telephony.zendesk import ZendeskAdapter
from handlers.telephony.zendesk import sign as zendesk_sign
from storage.models import Call
from tests.conftest import (
    AIRCALL_TOKEN,
    DIALPAD_SECRET,
    TWILIO_TOKEN,
    WEBHOOK_SECRET,
    ZENDESK_SECRET,
    Harness,
    call_event,
)
from tests.e2e.test_privacy_at_rest import stored_cells
from tests.helpers import settled

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MARK = 0.4242  # a value no real payload in these tests carries
WORD = "AGENTFEELING7F3A"
TWILIO_URL = "https://breather.test/webhooks/twilio"


def load(provider: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / provider / f"{name}.json").read_text())
    return data


# What vendors send about the agent, in their own shapes (flat scores, per-participant records,
# a sentiment object keyed by role), plus one tag naming the agent's mood.
EMOTION_FIELDS: dict[str, Any] = {
    "agent_sentiment": MARK,
    "agentSentimentScore": MARK,
    "empathy_score": MARK,
    "agent_emotion": WORD,
    "sentiments": [
        {"participant_type": "agent", "value": WORD, "sentiment": MARK},
        {"participant_type": "external", "value": "NEUTRAL"},
    ],
    "Sentiment": {"OverallSentiment": {"AGENT": MARK, "CUSTOMER": -1.0}},
}


def test_the_helper_drops_what_describes_the_agent_and_keeps_the_customer() -> None:
    payload = {"sentiment": -0.8, "csat": 0.2, "user": {"id": 1}, **EMOTION_FIELDS}

    assert without_agent_emotion(payload) == {
        "sentiment": -0.8,
        "csat": 0.2,
        "user": {"id": 1},
        "sentiments": [
            {"participant_type": "agent", "value": WORD},
            {"participant_type": "external", "value": "NEUTRAL"},
        ],
        "Sentiment": {"OverallSentiment": {"CUSTOMER": -1.0}},
    }
    for name in (
        "agent_sentiment",
        "AgentEmpathy",
        "empathyScore",
        "user_sentiment",
        "stress-level",
        "agent frustrated",
    ):
        assert names_agent_emotion(name), name
    for name in ("sentiment", "customer_sentiment", "csat", "hold_time", "tags", "abusive"):
        assert not names_agent_emotion(name), name


def _generic(extra: dict[str, Any]) -> RawRequest:
    body = json.dumps(call_event(event_id="emo-1", call_id="emo-call-1", **extra)).encode()
    return RawRequest(
        "/webhooks/calls",
        "https://breather.test/webhooks/calls",
        {"breather-signature": sign(WEBHOOK_SECRET, body)},
        body,
    )


def _aircall(extra: dict[str, Any]) -> RawRequest:
    event = load("aircall", "call_ended")
    event["token"] = AIRCALL_TOKEN
    event["data"].update(extra)
    return RawRequest(
        "/webhooks/aircall", "https://breather.test/webhooks/aircall", {}, json.dumps(event).encode()
    )


def _dialpad(extra: dict[str, Any]) -> RawRequest:
    event = {**load("dialpad", "hangup"), **extra, "iat": int(time.time())}
    body = jwt.encode(event, DIALPAD_SECRET, algorithm="HS256").encode()
    return RawRequest(
        "/webhooks/dialpad",
        "https://breather.test/webhooks/dialpad",
        {"content-type": "application/jwt"},
        body,
    )


def _twilio_params(extra: dict[str, Any]) -> dict[str, str]:
    params: dict[str, str] = load("twilio", "task_wrapup")
    attributes = json.loads(params["TaskAttributes"])
    attributes.update(extra)
    params = {**params, "TaskAttributes": json.dumps(attributes)}
    if extra:
        params["AgentSentiment"] = str(MARK)
    return params


def _twilio(extra: dict[str, Any]) -> RawRequest:
    params = _twilio_params(extra)
    headers = {"x-twilio-signature": RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, params)}
    return RawRequest("/webhooks/twilio", TWILIO_URL, headers, urlencode(params).encode())


def _zendesk_body(extra: dict[str, Any]) -> dict[str, Any]:
    data = load("zendesk", "satisfaction_good")
    data["satisfaction_rating"] = {**data["satisfaction_rating"], **extra}
    return data


def _zendesk(extra: dict[str, Any]) -> RawRequest:
    body = json.dumps(_zendesk_body(extra)).encode()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        "x-zendesk-webhook-signature": zendesk_sign(ZENDESK_SECRET, body, stamp),
        "x-zendesk-webhook-signature-timestamp": stamp,
    }
    return RawRequest("/webhooks/zendesk", "https://breather.test/webhooks/zendesk", headers, body)


def _eventbridge(provider: str, fixture: str, secret: str) -> Callable[[dict[str, Any]], RawRequest]:
    """Amazon Connect and Genesys Cloud arrive through EventBridge: the fields go in `detail`."""

    def build(extra: dict[str, Any]) -> RawRequest:
        event = load(provider, fixture)
        event["detail"] = {**event["detail"], **extra}
        if isinstance(event["detail"].get("eventBody"), dict):  # Genesys: the conversation event
            event["detail"]["eventBody"] = {**event["detail"]["eventBody"], **extra}
        headers = {"content-type": "application/json", "x-breather-key": secret}
        url = f"https://breather.test/webhooks/{provider}"
        return RawRequest(f"/webhooks/{provider}", url, headers, json.dumps(event).encode())

    return build


CONNECT_SECRET, GENESYS_SECRET = "emotion-test-connect-secret", "emotion-test-genesys-secret"


ADAPTERS: dict[str, tuple[Callable[[], TelephonyAdapter], Callable[[dict[str, Any]], RawRequest]]] = {
    "generic": (lambda: GenericAdapter(WEBHOOK_SECRET), _generic),
    "aircall": (lambda: AircallAdapter(AIRCALL_TOKEN), _aircall),
    "dialpad": (lambda: DialpadAdapter(DIALPAD_SECRET), _dialpad),
    "twilio": (lambda: TwilioAdapter(TWILIO_TOKEN), _twilio),
    "zendesk": (lambda: ZendeskAdapter(ZENDESK_SECRET), _zendesk),
    "connect": (
        lambda: ConnectAdapter(CONNECT_SECRET),
        _eventbridge("connect", "disconnected", CONNECT_SECRET),
    ),
    "genesys": (
        lambda: GenesysAdapter(GENESYS_SECRET),
        _eventbridge("genesys", "user_end", GENESYS_SECRET),
    ),
}


@pytest.mark.parametrize("provider", sorted(ADAPTERS))
def test_every_adapter_reads_the_same_call_with_or_without_agent_emotion_fields(provider: str) -> None:
    build, request = ADAPTERS[provider]
    adapter = build()
    with_fields = request(EMOTION_FIELDS)
    adapter.verify(with_fields)
    plain = adapter.parse(request({}))
    assert plain  # the call (or rating) was read at all
    assert adapter.parse(with_fields) == plain


def test_agent_emotion_fields_leave_no_trace_in_the_database(harness: Harness) -> None:
    """Through the running app, on SQLite and PostgreSQL: a hard call from each phone system
    whose payload carries the agent's sentiment, emotion and empathy."""
    now = int(time.time())
    generic = call_event(
        event_id="emo-g", call_id="emo-g", tags=["abusive", "agent stressed"], **EMOTION_FIELDS
    )
    assert harness.post_event(generic).status_code == 202

    aircall = load("aircall", "call_ended")
    aircall["token"] = AIRCALL_TOKEN
    aircall["data"].update(
        {"started_at": now - 300, "answered_at": now - 290, "ended_at": now - 5, **EMOTION_FIELDS}
    )
    aircall["data"]["tags"] = [{"id": 1, "name": "Abusive"}, {"id": 9, "name": "agent frustrated"}]
    assert harness.client.post("/webhooks/aircall", json=aircall).status_code == 200

    now_ms = now * 1000
    dialpad = {
        **load("dialpad", "hangup"),
        **EMOTION_FIELDS,
        "date_ended": now_ms,
        "event_timestamp": now_ms,
        "iat": now,
    }
    token = jwt.encode(dialpad, DIALPAD_SECRET, algorithm="HS256")
    response = harness.client.post(
        "/webhooks/dialpad", content=token, headers={"Content-Type": "application/jwt"}
    )
    assert response.status_code in (200, 202)

    params = _twilio_params(EMOTION_FIELDS)
    params.update({"Timestamp": str(now), "TimestampMs": str(now_ms)})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, params),
    }
    assert (
        harness.client.post("/webhooks/twilio", content=urlencode(params), headers=headers).status_code == 204
    )

    body = json.dumps(_zendesk_body(EMOTION_FIELDS)).encode()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    zendesk_headers = {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": zendesk_sign(ZENDESK_SECRET, body, stamp),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }
    assert harness.client.post("/webhooks/zendesk", content=body, headers=zendesk_headers).status_code == 200
    settled(harness.services, 15)

    engine = harness.services.engine
    with engine.connect() as connection:
        assert connection.execute(Call.__table__.select()).fetchall()  # type: ignore[attr-defined]
    traces = sorted(
        f"{table}.{column}"
        for table, column, cell in stored_cells(engine)
        if str(MARK) in cell
        or WORD.lower() in cell.lower()
        or any(
            name.lower() in cell.lower()
            for name in (
                "agent_sentiment",
                "agentsentiment",
                "empathy",
                "agent_emotion",
                "frustrated",
                "stressed",
            )
        )
    )
    assert traces == []
