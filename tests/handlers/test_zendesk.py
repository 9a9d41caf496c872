"""The Zendesk adapter: signature and freshness on the raw bytes, then the trigger body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.errors import InvalidInput, InvalidSignature
from bot.events import CustomerFeedback
from handlers.telephony.base import RawRequest
from handlers.telephony.zendesk import MAX_AGE_S, ZendeskAdapter, sign

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "zendesk"
SECRET = "zendesk-secret"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def request(
    body: bytes, *, signed_at: datetime = NOW, secret: str = SECRET, headers: dict[str, str] | None = None
) -> RawRequest:
    stamp = signed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    sent = {
        "content-type": "application/json",
        "x-zendesk-webhook-signature": sign(secret, body, stamp),
        "x-zendesk-webhook-signature-timestamp": stamp,
    }
    sent.update(headers or {})
    return RawRequest(
        path="/webhooks/zendesk", public_url="https://b.test/webhooks/zendesk", headers=sent, body=body
    )


def adapter(secret: str | None = SECRET) -> ZendeskAdapter:
    return ZendeskAdapter(secret, clock=NOW.timestamp)


def parse(data: dict[str, Any]) -> list[Any]:
    return adapter().parse(request(json.dumps(data).encode()))


def test_signature_is_base64_hmac_sha256_of_timestamp_then_body() -> None:
    body = b'{"say": "hello"}'
    expected = base64.b64encode(
        hmac.new(b"k", b"2026-11-23T09:00:00Z" + body, hashlib.sha256).digest()
    ).decode()
    assert sign("k", body, "2026-11-23T09:00:00Z") == expected


def test_a_correctly_signed_fresh_request_is_accepted() -> None:
    adapter().verify(request(b"{}"))


def test_a_retry_signed_half_an_hour_ago_is_still_accepted() -> None:
    adapter().verify(request(b"{}", signed_at=NOW - timedelta(minutes=30)))


@pytest.mark.parametrize(
    "bad",
    [
        lambda: request(b"{}", secret="wrong"),
        lambda: request(b"{}", signed_at=NOW - timedelta(seconds=MAX_AGE_S + 60)),
        lambda: request(b"{}", signed_at=NOW + timedelta(minutes=10)),
        lambda: request(b"{}", headers={"x-zendesk-webhook-signature-timestamp": "yesterday"}),
        lambda: request(b"{}", headers={"x-zendesk-webhook-signature": ""}),
        lambda: RawRequest(path="/", public_url="", headers={"content-type": "application/json"}, body=b"{}"),
    ],
    ids=["wrong secret", "stale", "future", "garbled timestamp", "empty signature", "no headers"],
)
def test_bad_signatures_are_refused(bad: Any) -> None:
    with pytest.raises(InvalidSignature):
        adapter().verify(bad())


def test_a_tampered_body_is_refused() -> None:
    signed = request(b'{"a": 1}')
    tampered = RawRequest(signed.path, signed.public_url, signed.headers, b'{"a": 2}')
    with pytest.raises(InvalidSignature):
        adapter().verify(tampered)


def test_without_a_secret_everything_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="ZENDESK_WEBHOOK_SECRET"):
        adapter(None).verify(request(b"{}"))


def test_good_rating_with_comment_becomes_customer_feedback() -> None:
    (event,) = parse(load("satisfaction_good"))
    assert isinstance(event, CustomerFeedback)
    assert (event.agent.kind, event.agent.id) == ("zendesk_user_id", "3001")
    assert event.rating == "good"  # "Good" as the placeholder renders it
    assert event.event_id == "ticket:77:good:901"
    assert event.customer_name == "Jo Bloggs"
    assert event.comment is not None and event.comment.startswith("Ana was so patient")


def test_numeric_ids_and_no_rating_id_make_the_same_kind_of_key() -> None:
    (event,) = parse(load("satisfaction_bad"))
    assert event.rating == "bad" and event.event_id == "ticket:78:bad"


@pytest.mark.parametrize("score", ["offered", "unoffered", ""])
def test_no_rating_yet_is_ignored(score: str) -> None:
    data = load("satisfaction_good")
    data["satisfaction_rating"]["score"] = score
    assert parse(data) == []


def test_an_unassigned_ticket_is_ignored() -> None:
    data = load("satisfaction_good")
    data["satisfaction_rating"]["assignee_id"] = ""
    assert parse(data) == []


def test_the_ticket_id_may_come_from_the_ticket() -> None:
    data = load("satisfaction_good")
    del data["satisfaction_rating"]["ticket_id"]
    (event,) = parse(data)
    assert event.event_id.startswith("ticket:77:")


def test_an_empty_comment_is_no_comment_and_a_long_one_is_clipped() -> None:
    data = load("satisfaction_good")
    data["satisfaction_rating"]["comment"] = "   "
    assert parse(data)[0].comment is None
    data["satisfaction_rating"]["comment"] = "x" * 9000
    assert len(parse(data)[0].comment) == 5000


def test_another_triggers_body_is_acknowledged_and_ignored() -> None:
    assert parse({"type": "ticket_tags", "ticket": {"id": 1}}) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1]", 400),
        (json.dumps({"type": "satisfaction_rating"}).encode(), 422),
        (json.dumps({"satisfaction_rating": {"score": "good", "assignee_id": {"x": 1}}}).encode(), 422),
        (json.dumps({"satisfaction_rating": {"score": "good", "assignee_id": 1}}).encode(), 422),
    ],
    ids=["not JSON", "array", "no rating", "wrongly typed agent", "no ticket id"],
)
def test_bad_bodies_are_refused_with_the_right_status(body: bytes, status: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        adapter().parse(request(body))
    assert raised.value.status == status
