"""Genesys Cloud: EventBridge deliveries (connection credential, envelope, detail topics) and
the presence client against the fake Genesys Cloud API (token endpoint included)."""

from __future__ import annotations

import base64
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
from handlers.telephony.genesys import GenesysAdapter
from handlers.telephony.genesys_api import GenesysPresence
from handlers.telephony.rest import make_http_client
from tests.conftest import FakeApi
from tests.fakes.platform_apis import FakeGenesys
from tests.handlers.hostile import put, sweep

FIXTURES = Path(__file__).parents[1] / "fixtures" / "genesys"
SECRET = "test-genesys-eventbridge-secret"
CONVERSATION = "9b1e4c7a-2f3d-4e5a-8b6c-0d1e2f3a4b5c"
USER = "u-4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
WRAP_UP = "7c9e1f2a-3b4d-4e5f-8a6b-7c8d9e0f1a2b"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def request(body: dict[str, Any] | bytes, **headers: str) -> RawRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return RawRequest(
        "/webhooks/genesys",
        "https://breather.example.org/webhooks/genesys",
        {"content-type": "application/json", "x-breather-key": SECRET, **headers},
        raw,
    )


def parse(raw: RawRequest) -> list[CallEnded]:
    adapter = GenesysAdapter(SECRET)
    adapter.verify(raw)
    events = adapter.parse(raw)
    return [event for event in events if isinstance(event, CallEnded)]


def test_user_end_is_the_agents_call_with_talk_hold_and_who_hung_up() -> None:
    [event] = parse(request(fixture("user_end")))

    assert event == CallEnded(
        provider="genesys",
        event_id=f"{CONVERSATION}:{USER}:user.end:d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70",
        call_id=CONVERSATION,
        agent=AgentKey(kind="genesys_user_id", id=USER),
        ended_at=datetime(2026, 3, 10, 9, 23, 47, tzinfo=UTC),
        duration_s=612,
        hold_s=95,
        direction="inbound",
        disconnected_by="customer",  # peer, on the agent's participant
        queue="q-7f8e9d0c-1b2a-4c3d-8e4f-5a6b7c8d9e0f",
    )


def test_acw_is_a_late_tag_with_the_wrap_up_code() -> None:
    [event] = parse(request(fixture("acw")))

    assert (event.is_update, event.call_id, event.tags) == (True, CONVERSATION, (WRAP_UP,))
    assert event.duration_s is None and event.ended_at is None


@pytest.mark.parametrize(
    ("disconnect", "by", "transfers"),
    [
        ("client", "agent", None),
        ("endpoint", "agent", None),
        ("transfer.consult", "transfer", 1),
        ("system", "system", None),
        ("other", "unknown", None),
        ("something.new", None, None),
    ],
)
def test_disconnect_types_relative_to_the_agent(
    disconnect: str, by: str | None, transfers: int | None
) -> None:
    body = fixture("user_end")
    body["detail"]["eventBody"]["disconnectType"] = disconnect

    [event] = parse(request(body))

    assert (event.disconnected_by, event.transfers) == (by, transfers)


def test_topics_without_an_agent_or_not_read_are_acknowledged_and_ignored() -> None:
    other = fixture("user_end")
    other["detail"]["topicName"] = f"v2.detail.events.conversation.{CONVERSATION}.user.start"
    foreign = {**fixture("user_end"), "detail-type": "v2.users.{id}.activity", "detail": {"eventBody": {}}}

    assert parse(request(fixture("customer_end"))) == []
    assert parse(request(other)) == []
    assert parse(request(foreign)) == []


def test_sentiment_or_emotion_fields_are_never_read() -> None:
    body = fixture("user_end")
    body["detail"]["eventBody"].update({"sentimentScore": -0.9, "agentEmpathy": 0.1, "emotion": "angry"})

    [event] = parse(request(body))

    assert event.sentiment is None
    assert "angry" not in event.model_dump_json() and "0.1" not in event.model_dump_json()


@pytest.mark.parametrize(
    "headers",
    [
        {"x-breather-key": "guess"},
        {"x-breather-key": ""},
        {"x-breather-key": None},
        {"x-breather-key": None, "authorization": "Basic " + base64.b64encode(b"breather:guess").decode()},
        {
            "x-breather-key": None,
            "authorization": "Basic " + base64.b64encode(f"other:{SECRET}".encode()).decode(),
        },
        {"x-breather-key": None, "authorization": "Basic %%%"},
        {"x-breather-key": None, "authorization": f"Bearer {SECRET}"},
    ],
)
def test_requests_without_the_connection_credential_are_refused(headers: dict[str, str | None]) -> None:
    raw = request(fixture("user_end"))
    sent = {k: v for k, v in {**raw.headers, **headers}.items() if v is not None}

    with pytest.raises(InvalidSignature):
        GenesysAdapter(SECRET).verify(RawRequest(raw.path, raw.public_url, sent, raw.body))


def test_basic_credentials_are_accepted_as_an_eventbridge_connection_sends_them() -> None:
    basic = "Basic " + base64.b64encode(f"breather:{SECRET}".encode()).decode()
    raw = request(fixture("user_end"))
    headers = {k: v for k, v in raw.headers.items() if k != "x-breather-key"}

    GenesysAdapter(SECRET).verify(
        RawRequest(raw.path, raw.public_url, {**headers, "authorization": basic}, raw.body)
    )


def test_unset_secret_refuses_everything() -> None:
    with pytest.raises(InvalidSignature, match="GENESYS_EVENTBRIDGE_SECRET"):
        GenesysAdapter(None).verify(request(fixture("user_end")))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.pop("detail-type"), "detail-type"),
        (lambda e: e.update(detail="text"), "detail"),
        (lambda e: e["detail"].update(eventBody=[1]), "eventBody"),
        (lambda e: e["detail"]["eventBody"].pop("conversationId"), "conversationId"),
        (lambda e: e["detail"]["eventBody"].update(interactingDurationMs=-5), "interactingDurationMs"),
        (lambda e: e["detail"]["eventBody"].update(heldDurationMs=1e30), "heldDurationMs"),
        (lambda e: e["detail"]["eventBody"].update(eventTime="yesterday"), "eventTime"),
        # Issue 20: read as a moment or a length before, or refused naming `ended_at`.
        (lambda e: e["detail"]["eventBody"].update(eventTime=True), "eventTime"),
        (lambda e: e["detail"]["eventBody"].update(eventTime="\u0661\u0662\u0663"), "eventTime"),
        (lambda e: e["detail"]["eventBody"].update(eventTime="\uff19\uff19"), "eventTime"),
        (lambda e: e["detail"]["eventBody"].update(eventTime=-1), "eventTime"),
        (lambda e: e["detail"]["eventBody"].update(eventTime="9999-12-31T23:59:59.999999"), "eventTime"),
        (lambda e: e["detail"]["eventBody"].update(eventTime="9999-12-31T23:59:59-14:00"), "eventTime"),
        (lambda e: e["detail"]["eventBody"].update(interactingDurationMs=True), "interactingDurationMs"),
        (lambda e: e["detail"]["eventBody"].update(heldDurationMs="1e5"), "heldDurationMs"),
    ],
)
def test_bad_input_names_the_field(change: Any, field: str) -> None:
    body = fixture("user_end")
    change(body)

    with pytest.raises(InvalidInput, match=field):
        parse(request(body))


READ = [
    "detail-type",
    "detail",
    "detail.topicName",
    "detail.eventBody",
    *(
        f"detail.eventBody.{name}"
        for name in (
            "conversationId",
            "userId",
            "sessionId",
            "eventTime",
            "direction",
            "disconnectType",
            "queueId",
            "interactingDurationMs",
            "heldDurationMs",
            "wrapupCode",
        )
    ),
]


@pytest.mark.parametrize("path", READ)
@pytest.mark.parametrize("name", ["user_end", "acw"])
def test_any_value_in_a_field_it_reads_is_read_or_refused_naming_the_field(name: str, path: str) -> None:
    assert sweep(lambda raw: parse(request(raw)), fixture(name), path) == []


def test_ids_at_their_limits_make_a_key_that_fits_and_is_the_same_for_a_duplicate() -> None:
    body = fixture("user_end")
    for name in ("conversationId", "userId", "sessionId"):
        body = put(body, f"detail.eventBody.{name}", name[0] * 100)

    [first], [again] = parse(request(body)), parse(request(body))

    assert first.event_id == again.event_id and len(first.event_id) <= 200
    assert first.call_id == "c" * 100


def test_a_redelivery_under_another_eventbridge_id_is_the_same_event() -> None:
    again = {**fixture("user_end"), "id": "another-eventbridge-id", "time": "2026-03-10T10:00:00Z"}

    [first], [second] = parse(request(fixture("user_end"))), parse(request(again))

    assert first.event_id == second.event_id


def test_a_body_that_is_not_json_is_a_400() -> None:
    with pytest.raises(InvalidInput) as error:
        parse(request(b"{not json"))
    assert error.value.status == 400


# --- presence -------------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_http_client() as made:
        yield made


@pytest.fixture
def genesys_api(fake_api: FakeApi) -> FakeGenesys:
    server: FakeGenesys = fake_api(FakeGenesys, client_id="cid", client_secret="csecret")
    server.add_user(USER, "On Queue")
    return server


def presence(
    client: httpx.Client, server: FakeGenesys, *, secret: str = "csecret", name: str = "Break"
) -> GenesysPresence:
    return GenesysPresence(
        client,
        api_url=server.url,
        login_url=server.url,
        client_id="cid",
        client_secret=secret,
        break_presence=name,
    )


def test_break_and_restore_move_the_user_between_presences_with_one_token(
    client: httpx.Client, genesys_api: FakeGenesys
) -> None:
    genesys = presence(client, genesys_api)

    before = genesys.read_status(USER)
    on_break = genesys.set_break(USER)
    assert genesys_api.presence_of(USER) == "Break"
    genesys.set_status(USER, before, expected=on_break)

    assert genesys_api.presence_of(USER) == "On Queue"
    assert genesys_api.tokens_issued == 1
    token_call = genesys_api.requests("POST")[0]
    assert token_call.path == "/oauth/token" and token_call.body == {"grant_type": "client_credentials"}


def test_a_revoked_token_is_replaced_once_and_the_call_goes_through(
    client: httpx.Client, genesys_api: FakeGenesys
) -> None:
    genesys = presence(client, genesys_api)
    genesys.read_status(USER)
    genesys_api.revoke_tokens()

    assert genesys.read_status(USER) == PhoneStatus(genesys_api.definition_id("On Queue"))
    assert genesys_api.tokens_issued == 2


def test_wrong_client_secret_is_refused_without_the_secret_in_the_message(
    client: httpx.Client, genesys_api: FakeGenesys
) -> None:
    with pytest.raises(PhoneRefused) as error:
        presence(client, genesys_api, secret="wrong-secret").read_status(USER)
    assert "wrong-secret" not in str(error.value) and "401" in str(error.value)


@pytest.mark.parametrize("name", ["Lunch break", "On Queue", "Available"])
def test_a_break_presence_that_is_missing_or_routes_calls_is_refused(
    client: httpx.Client, genesys_api: FakeGenesys, name: str
) -> None:
    with pytest.raises(PhoneRefused, match="GENESYS_BREAK_PRESENCE"):
        presence(client, genesys_api, name=name).set_break(USER)
    assert genesys_api.presence_of(USER) == "On Queue"
