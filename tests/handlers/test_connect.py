"""Amazon Connect: EventBridge contact events and Contact Lens rule matches, AWS Signature
Version 4 (against AWS's published examples), and the agent-status client against the fake
Connect API."""

from __future__ import annotations

import hashlib
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
from handlers.telephony.connect import ConnectAdapter
from handlers.telephony.connect_api import ConnectAgentStatus
from handlers.telephony.rest import make_http_client
from handlers.telephony.sigv4 import signature
from tests.conftest import FakeApi
from tests.fakes.platform_apis import FakeConnect
from tests.handlers.hostile import put, sweep

FIXTURES = Path(__file__).parents[1] / "fixtures" / "connect"
SECRET = "test-connect-eventbridge-secret"
CONTACT = "6f5e4d3c-2b1a-4f0e-9d8c-7b6a5f4e3d2c"
AGENT = "a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b7c6d"
INSTANCE = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def request(body: dict[str, Any] | bytes, key: str = SECRET) -> RawRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json", "x-breather-key": key}
    return RawRequest("/webhooks/connect", "https://breather.example.org/webhooks/connect", headers, raw)


def parse(raw: RawRequest) -> list[CallEnded]:
    adapter = ConnectAdapter(SECRET)
    adapter.verify(raw)
    return [event for event in adapter.parse(raw) if isinstance(event, CallEnded)]


def test_disconnected_is_the_agents_call_with_talk_time_and_who_hung_up() -> None:
    [event] = parse(request(fixture("disconnected")))

    assert event == CallEnded(
        provider="connect",
        event_id=f"{CONTACT}:DISCONNECTED",
        call_id=CONTACT,
        agent=AgentKey(kind="connect_user_id", id=AGENT),
        started_at=datetime(2026, 3, 10, 9, 13, 35, tzinfo=UTC),
        ended_at=datetime(2026, 3, 10, 9, 23, 47, tzinfo=UTC),
        duration_s=612,  # connected to the agent until the disconnect
        direction="inbound",
        disconnected_by="customer",
        queue="1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    )


def test_completed_in_pascal_case_keys_is_the_same_call_after_contact_work() -> None:
    [event] = parse(request(fixture("completed")))

    assert (event.call_id, event.agent.id, event.is_update) == (CONTACT, AGENT, True)
    assert event.event_id == f"{CONTACT}:COMPLETED" and event.duration_s == 612


def test_a_contact_lens_rule_match_tags_the_call_with_the_rules_name() -> None:
    [event] = parse(request(fixture("lens_rule")))

    assert (event.call_id, event.agent.id, event.tags, event.is_update) == (
        CONTACT,
        AGENT,
        ("abusive-language",),
        True,
    )


@pytest.mark.parametrize(
    ("reason", "by"),
    [
        ("AGENT_DISCONNECT", "agent"),
        ("TELECOM_PROBLEM", "system"),
        ("OTHER", "unknown"),
        ("NEW_REASON", None),
    ],
)
def test_disconnect_reasons(reason: str, by: str | None) -> None:
    body = fixture("disconnected")
    body["detail"]["disconnectReason"] = reason

    [event] = parse(request(body))

    assert event.disconnected_by == by


def test_a_transferred_contact_counts_one_transfer() -> None:
    body = fixture("disconnected")
    body["detail"]["initiationMethod"] = "TRANSFER"

    [event] = parse(request(body))

    assert (event.transfers, event.direction) == (1, None)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(eventType="CONNECTED_TO_AGENT"),
        lambda d: d.update(channel="CHAT"),
        lambda d: d.pop("agentInfo"),
    ],
)
def test_other_events_chats_and_contacts_nobody_took_are_ignored(change: Any) -> None:
    body = fixture("disconnected")
    change(body["detail"])

    assert parse(request(body)) == []


def test_other_detail_types_are_ignored_and_sentiment_is_never_read() -> None:
    lens = fixture("disconnected")
    lens["detail-type"] = "Contact Lens Analysis State Change"
    body = fixture("disconnected")
    body["detail"]["ContactLens"] = {"Sentiment": {"OverallSentiment": {"AGENT": -4.5, "CUSTOMER": -5}}}

    assert parse(request(lens)) == []
    [event] = parse(request(body))
    assert event.sentiment is None and "4.5" not in event.model_dump_json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("contactId"), "contactId"),
        (lambda d: d["agentInfo"].update(agentArn="agent-1"), "agentArn"),
        (lambda d: d.update(disconnectTimestamp="soon"), "disconnectTimestamp"),
        (lambda d: d.update(disconnectTimestamp="2026-03-09T09:00:00Z"), "disconnectTimestamp"),
        (lambda d: d.update(contactId=["x"]), "contactId"),
        (lambda d: d.update(agentInfo="me"), "agentInfo"),
        # Issue 20: an offset that overflows the calendar was a generic "cannot be read".
        (lambda d: d.update(disconnectTimestamp="9999-12-31T23:59:59-14:00"), "disconnectTimestamp"),
        (
            lambda d: d["agentInfo"].update(connectedToAgentTimestamp="0001-01-01T00:00:00+14:00"),
            "connectedToAgentTimestamp",
        ),
        (lambda d: d.update(disconnectTimestamp="1969-12-31T23:59:59Z"), "disconnectTimestamp"),
    ],
)
def test_bad_input_names_the_field(change: Any, field: str) -> None:
    body = fixture("disconnected")
    change(body["detail"])

    with pytest.raises(InvalidInput, match=field):
        parse(request(body))


READ = {
    "disconnected": [
        "detail-type",
        "detail",
        *(
            f"detail.{name}"
            for name in (
                "eventType",
                "contactId",
                "channel",
                "agentInfo",
                "agentInfo.agentArn",
                "agentInfo.connectedToAgentTimestamp",
                "disconnectTimestamp",
                "disconnectReason",
                "initiationMethod",
                "queueInfo",
                "queueInfo.queueArn",
            )
        ),
    ],
    "completed": ["detail.AgentInfo.ConnectedToAgentTimestamp", "detail.DisconnectTimestamp"],
    "lens_rule": ["detail.ruleName", "detail.contactArn", "detail.agentArn"],
}


@pytest.mark.parametrize(("name", "path"), [(name, path) for name, paths in READ.items() for path in paths])
def test_any_value_in_a_field_it_reads_is_read_or_refused_naming_the_field(name: str, path: str) -> None:
    assert sweep(lambda raw: parse(request(raw)), fixture(name), path) == []


def test_ids_at_their_limits_make_a_key_that_fits_and_is_the_same_for_a_duplicate() -> None:
    body = put(fixture("disconnected"), "detail.contactId", "c" * 200)
    rule = fixture("lens_rule")
    rule = put(rule, "detail.contactArn", rule["detail"]["contactArn"].rsplit("/", 1)[0] + "/" + "c" * 90)
    rule = put(rule, "detail.ruleName", "r" * 200)

    for sent in (body, rule):
        [first], [again] = parse(request(sent)), parse(request(sent))
        assert first.event_id == again.event_id and len(first.event_id) <= 200


def test_a_redelivery_under_another_eventbridge_id_is_the_same_event() -> None:
    again = {**fixture("disconnected"), "id": "another-eventbridge-id"}

    [first], [second] = parse(request(fixture("disconnected"))), parse(request(again))

    assert first.event_id == second.event_id


def test_the_connection_credential_is_required() -> None:
    with pytest.raises(InvalidSignature):
        ConnectAdapter(SECRET).verify(request(fixture("disconnected"), key="guess"))
    with pytest.raises(InvalidSignature, match="CONNECT_EVENTBRIDGE_SECRET"):
        ConnectAdapter(None).verify(request(fixture("disconnected")))


# --- Signature Version 4 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # AWS's SigV4 test suite, "get-vanilla" and "get-vanilla-query-order-key-case"-style
        # ordering ("get-vanilla-query" with two parameters given out of order).
        ("", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ("Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    ],
)
def test_signature_matches_awss_published_examples(query: str, expected: str) -> None:
    names, sig = signature(
        method="GET",
        raw_path="/",
        raw_query=query,
        headers={"host": "example.amazonaws.com", "x-amz-date": "20150830T123600Z"},
        payload_hash=hashlib.sha256(b"").hexdigest(),
        secret="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        service="service",
        amz_date="20150830T123600Z",
    )

    assert (names, sig) == ("host;x-amz-date", expected)


# --- agent status ---------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_http_client() as made:
        yield made


@pytest.fixture
def connect_api(fake_api: FakeApi) -> FakeConnect:
    server: FakeConnect = fake_api(
        FakeConnect,
        access_key_id="AKIDTEST",
        secret_access_key="connect-secret",
        region="eu-west-2",
        instance_id=INSTANCE,
    )
    server.add_user(AGENT, "Available")
    return server


def connect(
    client: httpx.Client, server: FakeConnect, *, secret: str = "connect-secret", name: str = "Break"
) -> ConnectAgentStatus:
    return ConnectAgentStatus(
        client,
        api_url=server.url,
        region="eu-west-2",
        instance_id=INSTANCE,
        access_key_id="AKIDTEST",
        secret_access_key=secret,
        session_token=None,
        break_status=name,
    )


def test_break_and_restore_through_put_user_status_signed_with_sigv4(
    client: httpx.Client, connect_api: FakeConnect
) -> None:
    status = connect(client, connect_api)

    before = status.read_status(AGENT)
    on_break = status.set_break(AGENT)
    assert connect_api.status_of(AGENT) == "Break"
    assert status.read_status(AGENT) == on_break
    status.set_status(AGENT, before, expected=on_break)

    assert connect_api.status_of(AGENT) == "Available"
    put = connect_api.requests("PUT")[0]
    assert put.path == f"/users/{INSTANCE}/{AGENT}/status"
    assert put.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/")


def test_a_wrong_secret_key_is_refused_and_never_shown(
    client: httpx.Client, connect_api: FakeConnect
) -> None:
    with pytest.raises(PhoneRefused) as error:
        connect(client, connect_api, secret="not-the-secret").read_status(AGENT)
    assert "403" in str(error.value) and "not-the-secret" not in str(error.value)


@pytest.mark.parametrize("name", ["Available", "Coffee"])
def test_a_break_status_that_routes_contacts_or_is_missing_is_refused(
    client: httpx.Client, connect_api: FakeConnect, name: str
) -> None:
    with pytest.raises(PhoneRefused, match="CONNECT_BREAK_STATUS"):
        connect(client, connect_api, name=name).set_break(AGENT)
    assert connect_api.status_of(AGENT) == "Available"


def test_current_status_comes_back_as_the_status_id(client: httpx.Client, connect_api: FakeConnect) -> None:
    connect_api.set_status(AGENT, "Lunch")

    assert connect(client, connect_api).read_status(AGENT) == PhoneStatus(connect_api.status_id("Lunch"))
