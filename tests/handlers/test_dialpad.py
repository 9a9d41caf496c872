"""Dialpad call events: HS256 JWT bodies, and parsing call states."""

from __future__ import annotations

import base64
import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from bot.config import Settings
from bot.errors import InvalidInput, InvalidSignature
from bot.events import AgentKey, CallEnded
from handlers.telephony.base import RawRequest
from handlers.telephony.dialpad import DialpadAdapter
from handlers.telephony.registry import build_adapters

FIXTURES = Path(__file__).parents[1] / "fixtures" / "dialpad"
# 64 bytes, so HS512 can be signed too (for the wrong-algorithm test) without PyJWT's key warning.
SECRET = "test-dialpad-webhook-secret-0123456789abcdefghijklmnopqrstuvwxyz"
CALL_ID = "6254931830415360"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def token(event: dict[str, Any], *, secret: str = SECRET, algorithm: str = "HS256", **claims: Any) -> bytes:
    """The JWT Dialpad sends for `event`; `iat` is now unless a claim overrides it."""
    payload = {**event, "iat": int(time.time()), **claims}
    return jwt.encode(payload, secret, algorithm=algorithm).encode()


def request(body: bytes, content_type: str | None = "application/jwt") -> RawRequest:
    headers = {} if content_type is None else {"content-type": content_type}
    return RawRequest("/webhooks/dialpad", "https://breather.example.org/webhooks/dialpad", headers, body)


def accept(raw: RawRequest, *, secret: str = SECRET) -> list[CallEnded]:
    adapter = DialpadAdapter(secret)
    adapter.verify(raw)
    events = adapter.parse(raw)
    assert all(isinstance(event, CallEnded) for event in events)
    return [event for event in events if isinstance(event, CallEnded)]


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_hangup_becomes_a_call_end() -> None:
    [event] = accept(request(token(fixture("hangup"))))

    assert event == CallEnded(
        provider="dialpad",
        event_id=f"{CALL_ID}:hangup:1773134627512",
        call_id=CALL_ID,
        agent=AgentKey(kind="dialpad_user_id", id="2001"),
        started_at=datetime(2026, 3, 10, 9, 14, 5, tzinfo=UTC),
        ended_at=datetime(2026, 3, 10, 9, 23, 47, tzinfo=UTC),
        duration_s=576,  # 576000 ms of talk
        direction="inbound",
        disconnected_by=None,
        transfers=0,
        csat=None,
        tags=("abusive", "billing"),
    )


def test_csat_is_a_late_update_of_the_same_call() -> None:
    [ended] = accept(request(token(fixture("hangup"))))
    [rated] = accept(request(token(fixture("csat"))))

    assert rated.is_update and not ended.is_update
    assert rated.call_id == ended.call_id == CALL_ID
    assert rated.event_id == f"{CALL_ID}:csat:1773135012345"
    assert rated.csat == 0.25  # 2 on Dialpad's 1-5 scale
    assert (rated.duration_s, rated.transfers) == (None, None)


def test_dispositions_are_a_late_update_carrying_labels() -> None:
    event = {
        **fixture("hangup"),
        "state": "dispositions",
        "labels": ["Escalated"],
        "event_timestamp": 1773134700000,
    }

    [update] = accept(request(token(event)))

    assert (update.is_update, update.call_id, update.tags) == (True, CALL_ID, ("Escalated",))


@pytest.mark.parametrize(
    ("score", "csat"),
    [
        (1, 0.0),
        (5, 1.0),
        ("4", 0.75),
        (3.0, 0.5),
        (0, None),
        (6, None),
        ("great", None),
        (True, None),
        (None, None),
    ],
)
def test_csat_score_is_normalised_when_it_is_on_the_1_to_5_scale(score: Any, csat: float | None) -> None:
    [rated] = accept(request(token({**fixture("csat"), "csat_score": score})))

    assert rated.csat == csat


def test_transferred_call_counts_one_transfer() -> None:
    [event] = accept(request(token({**fixture("hangup"), "is_transferred": True})))

    assert event.transfers == 1


def test_tampered_body_is_refused() -> None:
    header, _, signature = token(fixture("hangup")).decode().split(".")
    forged = {**fixture("hangup"), "labels": [], "iat": int(time.time())}

    with pytest.raises(InvalidSignature):
        DialpadAdapter(SECRET).verify(request(f"{header}.{b64(forged)}.{signature}".encode()))


def test_token_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        DialpadAdapter(SECRET).verify(request(token(fixture("hangup"), secret="x" * 40)))


def test_missing_signature_is_refused() -> None:
    header, payload, _ = token(fixture("hangup")).decode().split(".")

    with pytest.raises(InvalidSignature):
        DialpadAdapter(SECRET).verify(request(f"{header}.{payload}.".encode()))


def test_alg_none_token_is_refused() -> None:
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({**fixture('hangup'), 'iat': int(time.time())})}."

    with pytest.raises(InvalidSignature):
        DialpadAdapter(SECRET).verify(request(unsigned.encode()))


def test_other_algorithm_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        DialpadAdapter(SECRET).verify(request(token(fixture("hangup"), algorithm="HS512")))


def test_plain_json_event_is_refused() -> None:
    # What Dialpad sends when the webhook has no secret: never accepted.
    with pytest.raises(InvalidSignature):
        DialpadAdapter(SECRET).verify(request(json.dumps(fixture("hangup")).encode()))


def test_empty_body_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        DialpadAdapter(SECRET).verify(request(b""))


@pytest.mark.parametrize("secret", [None, ""])
def test_unset_secret_refuses_everything(secret: str | None) -> None:
    with pytest.raises(InvalidSignature):
        DialpadAdapter(secret).verify(request(token(fixture("hangup"))))


def test_token_issued_more_than_five_minutes_ago_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        DialpadAdapter(SECRET).verify(request(token(fixture("hangup"), iat=int(time.time()) - 400)))


def test_expired_token_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        DialpadAdapter(SECRET).verify(request(token(fixture("hangup"), exp=int(time.time()) - 120)))


def test_token_issued_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        DialpadAdapter(SECRET).verify(request(token(fixture("hangup"), iat=int(time.time()) + 3600)))


def test_token_without_time_claims_is_refused() -> None:
    # Such a token never expires: a copy would be accepted at any age (issue 20, item 6).
    body = jwt.encode(fixture("hangup"), SECRET, algorithm="HS256").encode()
    with pytest.raises(InvalidSignature, match="iat or exp"):
        DialpadAdapter(SECRET).verify(request(body))


def test_token_with_only_a_near_exp_is_accepted_and_a_far_one_refused() -> None:
    near = jwt.encode({**fixture("hangup"), "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    assert accept(request(near.encode()))[0].call_id == CALL_ID
    far = jwt.encode({**fixture("hangup"), "exp": int(time.time()) + 86400 * 365}, SECRET, algorithm="HS256")
    with pytest.raises(InvalidSignature, match="too far ahead"):
        DialpadAdapter(SECRET).verify(request(far.encode()))


def test_short_secret_is_reported_once_and_still_works(caplog: pytest.LogCaptureFixture) -> None:
    short = "test-dialpad-webhook-secret"  # 27 bytes: below what HS256 calls for
    with pytest.warns(InsecureKeyLengthWarning):
        body = token(fixture("hangup"), secret=short)
    with caplog.at_level(logging.WARNING, logger="handlers.telephony.dialpad"):
        adapter = DialpadAdapter(short)

    assert "shorter than the 32 bytes" in caplog.text
    # No InsecureKeyLengthWarning per request (warnings are errors in this suite).
    adapter.verify(request(body))
    assert [event.call_id for event in adapter.parse(request(body))] == [CALL_ID]


@pytest.mark.parametrize(
    "content_type",
    ["application/jwt", "application/json", "text/plain; charset=utf-8", "application/octet-stream", None],
)
def test_a_signed_jwt_is_accepted_whatever_the_media_type_says(content_type: str | None) -> None:
    # Dialpad does not document the Content-Type; the signature is what authenticates.
    [event] = accept(request(token(fixture("hangup")), content_type))

    assert event.call_id == CALL_ID


def test_a_jwt_sent_as_a_json_string_is_read_too() -> None:
    body = json.dumps(token(fixture("hangup")).decode()).encode()

    [event] = accept(request(body, "application/json"))

    assert event.call_id == CALL_ID


@pytest.mark.parametrize(
    "body", [b"not-a-jwt", b"a.b", b"\xff\xfe.\x00.x", b"e30.e30.e30.e30", b"call_id=1&state=hangup", b"<x/>"]
)
def test_a_body_that_is_no_jwt_at_all_is_a_415(body: bytes) -> None:
    with pytest.raises(InvalidInput) as refused:
        DialpadAdapter(SECRET).verify(request(body))

    assert refused.value.status == 415
    assert "not a JWT" in str(refused.value)


@pytest.mark.parametrize("body", [b"_-_.e30.x", b"e30e.e30.x"])
def test_a_jwt_shaped_body_whose_header_does_not_decode_is_a_400(body: bytes) -> None:
    with pytest.raises(InvalidInput) as refused:
        DialpadAdapter(SECRET).verify(request(body))

    assert refused.value.status == 400


@pytest.mark.parametrize("body", [b"e30.e30.e30", b"eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln"])
def test_a_jwt_that_decodes_but_is_not_signed_with_the_secret_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidSignature):
        DialpadAdapter(SECRET).verify(request(body))


def test_signed_payload_that_is_not_an_object_is_a_400() -> None:
    body = jwt.api_jws.encode(b"[1, 2, 3]", SECRET, algorithm="HS256").encode()

    with pytest.raises(InvalidInput) as refused:
        DialpadAdapter(SECRET).verify(request(body))

    assert refused.value.status == 400


@pytest.mark.parametrize("state", ["connected", "ringing", "hold", "missed", "postcall", "recording"])
def test_states_breather_does_not_use_are_ignored(state: str) -> None:
    assert accept(request(token({**fixture("connected"), "state": state}))) == []


def test_call_centre_leg_is_ignored() -> None:
    event = fixture("hangup")
    event["target"] = {**event["entry_point_target"]}

    assert accept(request(token(event))) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.pop("call_id"), "call_id"),
        (lambda e: e.pop("state"), "state"),
        (lambda e: e.update(duration="long"), "duration"),
        (lambda e: e.update(labels="abusive"), "labels"),
        (lambda e: e.update(date_ended=10**20), "date_ended"),
    ],
)
def test_event_with_missing_or_wrong_fields_is_a_422(change: Any, field: str) -> None:
    event = fixture("hangup")
    change(event)

    with pytest.raises(InvalidInput) as refused:
        accept(request(token(event)))

    assert refused.value.status == 422
    assert field in str(refused.value)


def test_registered_with_the_secret_from_settings() -> None:
    settings = Settings(
        _env_file=None,
        pseudonym_key="p" * 40,
        messenger="sandbox",
        dialpad_webhook_secret=SECRET,
    )

    adapter = build_adapters(settings)["dialpad"]
    adapter.verify(request(token(fixture("hangup"))))

    assert (adapter.provider, adapter.accepted_status) == ("dialpad", 200)
    assert adapter.media_types == ()  # any media type


def test_an_undocumented_media_type_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    adapter = DialpadAdapter(SECRET)
    with caplog.at_level(logging.INFO, logger="handlers.telephony.dialpad"):
        for content_type in ("text/plain", "text/plain", "application/jwt"):
            raw = request(token(fixture("hangup")), content_type)
            adapter.verify(raw)
            adapter.parse(raw)

    notes = [r.getMessage() for r in caplog.records if "does not document" in r.getMessage()]
    assert notes == [
        "Dialpad sent a signed event as text/plain; accepted, since Dialpad does not document "
        "the media type (logged once)"
    ]
