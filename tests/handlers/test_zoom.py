"""Zoom Contact Center: x-zm-signature, the URL validation challenge, engagement events, and
the user-status client against the fake Zoom API (Server-to-Server OAuth token included)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.errors import InvalidInput, InvalidSignature
from bot.events import AgentKey, CallEnded
from bot.recovery.phone import PhoneRefused, PhoneStatus
from handlers.telephony.base import RawRequest
from handlers.telephony.rest import make_http_client
from handlers.telephony.zoom import ZoomAdapter, sign
from handlers.telephony.zoom_api import ZoomContactCenterUsers
from tests.conftest import FakeApi
from tests.fakes.platform_apis import FakeZoom
from tests.handlers.hostile import put, sweep

FIXTURES = Path(__file__).parents[1] / "fixtures" / "zoom"
SECRET = "test-zoom-webhook-secret-token"
ENGAGEMENT = "dGhpcy1pcy1hbi1lbmdhZ2VtZW50LWlk"
USER = "zU4kLm9pQrS2tUvWxYz0Ab"
TS = "1773134627"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def request(body: dict[str, Any] | bytes, *, secret: str = SECRET, timestamp: str = TS) -> RawRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "content-type": "application/json",
        "x-zm-request-timestamp": timestamp,
        "x-zm-signature": sign(secret, timestamp, raw),
    }
    return RawRequest("/webhooks/zoom", "https://breather.example.org/webhooks/zoom", headers, raw)


def parse(raw: RawRequest) -> list[CallEnded]:
    adapter = ZoomAdapter(SECRET)
    adapter.verify(raw)
    return [event for event in adapter.parse(raw) if isinstance(event, CallEnded)]


def test_signature_is_v0_hex_hmac_sha256_of_version_timestamp_and_body() -> None:
    body = b'{"event":"x"}'
    expected = hmac.new(SECRET.encode(), b"v0:" + TS.encode() + b":" + body, hashlib.sha256).hexdigest()

    assert sign(SECRET, TS, body) == f"v0={expected}"


def test_user_ended_is_the_agents_call() -> None:
    [event] = parse(request(fixture("engagement_user_ended")))

    assert event == CallEnded(
        provider="zoom",
        event_id=f"contact_center.engagement_user_ended:{ENGAGEMENT}:{USER}:1773134627512",
        call_id=ENGAGEMENT,
        agent=AgentKey(kind="zoom_user_id", id=USER),
        started_at=datetime(2026, 3, 10, 9, 13, 35, tzinfo=UTC),
        ended_at=datetime(2026, 3, 10, 9, 23, 47, tzinfo=UTC),
        duration_s=612,
        hold_s=95,
        direction="inbound",
        queue="Billing",
    )


def test_an_agent_known_only_by_email_is_matched_by_email() -> None:
    body = fixture("engagement_user_ended")
    del body["payload"]["object"]["user_id"]

    [event] = parse(request(body))

    assert event.agent == AgentKey(kind="email", id="ana@example.com")


def test_engagement_ended_tags_each_agents_call_with_the_dispositions() -> None:
    [event] = parse(request(fixture("engagement_ended")))

    assert (event.call_id, event.agent.id, event.tags, event.is_update) == (
        ENGAGEMENT,
        USER,
        ("Abusive caller",),
        True,
    )


def test_other_events_and_channels_are_ignored() -> None:
    chat = fixture("engagement_user_ended")
    chat["payload"]["object"]["channel"] = "chat"
    other = {**fixture("engagement_user_ended"), "event": "contact_center.engagement_user_hold"}

    assert parse(request(chat)) == [] and parse(request(other)) == []


def test_url_validation_is_answered_with_the_hmac_of_the_plain_token() -> None:
    adapter = ZoomAdapter(SECRET)
    raw = request(fixture("url_validation"))
    adapter.verify(raw)

    answer = adapter.challenge(raw)

    plain = "qgg8vlvZRS6UYooatFL8Aw"
    digest = hmac.new(SECRET.encode(), plain.encode(), hashlib.sha256).hexdigest()
    assert answer == {"plainToken": plain, "encryptedToken": digest}
    assert adapter.challenge(request(fixture("engagement_user_ended"))) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: RawRequest(r.path, r.public_url, {**r.headers, "x-zm-signature": "v0=00"}, r.body),
        lambda r: RawRequest(
            r.path, r.public_url, {**r.headers, "x-zm-request-timestamp": "1773134628"}, r.body
        ),
        lambda r: RawRequest(r.path, r.public_url, r.headers, r.body.replace(b"612", b"61")),
        lambda r: RawRequest(
            r.path, r.public_url, {k: v for k, v in r.headers.items() if k != "x-zm-signature"}, r.body
        ),
        lambda r: RawRequest(r.path, r.public_url, {**r.headers, "x-zm-request-timestamp": "soon"}, r.body),
    ],
)
def test_tampered_or_unsigned_requests_are_refused(tamper: Any) -> None:
    with pytest.raises(InvalidSignature):
        ZoomAdapter(SECRET).verify(tamper(request(fixture("engagement_user_ended"))))


def test_unset_secret_refuses_everything_including_the_challenge() -> None:
    with pytest.raises(InvalidSignature, match="ZOOM_WEBHOOK_SECRET"):
        ZoomAdapter(None).verify(request(fixture("url_validation")))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e["payload"]["object"].pop("engagement_id"), "engagement_id"),
        (lambda e: e["payload"]["object"].update(talk_duration=-1), "talk_duration"),
        (lambda e: e["payload"]["object"].update(end_time="later"), "end_time"),
        (lambda e: e.update(event_ts="now"), "event_ts"),
        (lambda e: e["payload"].update(object=[]), "payload.object"),
        # Issue 20: an offset that overflows the calendar was a generic "cannot be read";
        # booleans and numeric strings were read as numbers; any integer was a time.
        (lambda e: e["payload"]["object"].update(end_time="9999-12-31T23:59:59-14:00"), "end_time"),
        (lambda e: e["payload"]["object"].update(start_time="0001-01-01T00:00:00+14:00"), "start_time"),
        (lambda e: e["payload"]["object"].update(end_time="2200-01-01T00:00:00Z"), "end_time"),
        (lambda e: e["payload"]["object"].update(talk_duration=True), "talk_duration"),
        (lambda e: e["payload"]["object"].update(hold_duration="1e5"), "hold_duration"),
        (lambda e: e["payload"]["object"].update(transfer_count=True), "transfer_count"),
        (lambda e: e["payload"]["object"].update(transfer_count="2"), "transfer_count"),
        (lambda e: e.update(event_ts=-1), "event_ts"),
        (lambda e: e.update(event_ts=10**19), "event_ts"),
    ],
)
def test_bad_input_names_the_field(change: Any, field: str) -> None:
    body = fixture("engagement_user_ended")
    change(body)

    with pytest.raises(InvalidInput, match=field):
        parse(request(body))


READ = {
    "engagement_user_ended": [
        "event",
        "event_ts",
        "payload",
        "payload.object",
        *(
            f"payload.object.{name}"
            for name in (
                "engagement_id",
                "channel",
                "direction",
                "user_id",
                "user_email",
                "queue_name",
                "start_time",
                "end_time",
                "date_time",
                "talk_duration",
                "hold_duration",
                "transfer_count",
                "disposition_name",
                "dispositions",
            )
        ),
    ],
    "engagement_ended": ["payload.object.agents", "payload.object.dispositions"],
}


@pytest.mark.parametrize(("name", "path"), [(name, path) for name, paths in READ.items() for path in paths])
def test_any_value_in_a_field_it_reads_is_read_or_refused_naming_the_field(name: str, path: str) -> None:
    assert sweep(lambda raw: parse(request(raw)), fixture(name), path) == []


def test_ids_at_their_limits_make_a_key_that_fits_and_is_the_same_for_a_duplicate() -> None:
    body = put(fixture("engagement_user_ended"), "payload.object.engagement_id", "e" * 100)
    body = put(body, "payload.object.user_id", None)
    body = put(body, "payload.object.user_email", "a" * 240 + "@example.com")

    [first], [again] = parse(request(body)), parse(request(body))

    assert first.event_id == again.event_id and len(first.event_id) <= 200
    assert first.agent == AgentKey(kind="email", id="a" * 240 + "@example.com")


def test_a_retry_signed_at_another_time_is_the_same_event() -> None:
    body = fixture("engagement_user_ended")

    [first], [second] = parse(request(body)), parse(request(body, timestamp=str(int(TS) + 3600)))

    assert first.event_id == second.event_id


@pytest.mark.parametrize(
    "payload",
    [
        {"plainToken": None},
        {"plainToken": 5},
        {"plainToken": True},
        {"plainToken": ["a"]},
        {"plainToken": {"a": "b"}},
        {"plainToken": ""},
        {"plainToken": "x" * 201},
        {},
        "token",
        None,
    ],
)
def test_url_validation_with_a_bad_plain_token_is_a_422_naming_it(payload: Any) -> None:
    body = {**fixture("url_validation"), "payload": payload}
    raw = request(body)
    ZoomAdapter(SECRET).verify(raw)

    with pytest.raises(InvalidInput, match="payload.plainToken") as error:
        ZoomAdapter(SECRET).challenge(raw)
    assert error.value.status == 422


@pytest.mark.parametrize("token", ["a\x00b", "\ud800", "a\x1bb"])
def test_url_validation_with_text_that_cannot_be_stored_is_refused_before_any_hmac(token: str) -> None:
    raw = request({**fixture("url_validation"), "payload": {"plainToken": token}})

    with pytest.raises(InvalidInput, match="plainToken"):
        ZoomAdapter(SECRET).challenge(raw)


# --- user status ----------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_http_client() as made:
        yield made


@pytest.fixture
def zoom_api(fake_api: FakeApi) -> FakeZoom:
    server: FakeZoom = fake_api(FakeZoom, account_id="acct-1", client_id="zcid", client_secret="zsecret")
    server.add_user(USER)
    return server


def users(client: httpx.Client, server: FakeZoom, *, account: str = "acct-1") -> ZoomContactCenterUsers:
    return ZoomContactCenterUsers(
        client,
        api_url=server.url,
        oauth_url=server.url,
        account_id=account,
        client_id="zcid",
        client_secret="zsecret",
        break_status_id=FakeZoom.NOT_READY,
        break_sub_status_id="b7d1c2e3-break",
    )


def test_break_is_not_ready_with_the_break_reason_and_the_ready_status_comes_back(
    client: httpx.Client, zoom_api: FakeZoom
) -> None:
    zoom = users(client, zoom_api)

    before = zoom.read_status(USER)
    on_break = zoom.set_break(USER)
    assert zoom_api.status_of(USER) == "Not Ready (Break)"
    assert zoom.read_status(USER) == on_break == PhoneStatus("2:b7d1c2e3-break")
    zoom.set_status(USER, before, expected=on_break)

    assert zoom_api.status_of(USER) == "Ready"
    token = zoom_api.requests("POST")[0]
    assert token.body == {"grant_type": "account_credentials", "account_id": "acct-1"}


def test_a_wrong_account_is_refused_by_the_token_endpoint(client: httpx.Client, zoom_api: FakeZoom) -> None:
    with pytest.raises(PhoneRefused, match="token: HTTP 400"):
        users(client, zoom_api, account="acct-2").read_status(USER)
