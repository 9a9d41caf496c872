"""Webex Contact Center: X-Webex-Signature, task events (RONA re-queues ignored), and the
agent-state client against the fake Webex API (refresh-token exchange included)."""

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
from handlers.telephony.webex import WebexAdapter, sign
from handlers.telephony.webex_api import WebexAgentState
from tests.conftest import FakeApi
from tests.fakes.platform_apis import FakeWebex
from tests.handlers.hostile import put, sweep

FIXTURES = Path(__file__).parents[1] / "fixtures" / "webex"
SECRET = "test-webex-subscription-secret"
TASK = "7e6d5c4b-3a2f-4e1d-8c0b-9a8f7e6d5c4b"
AGENT = "4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def request(body: dict[str, Any] | bytes, *, secret: str = SECRET, prefix: str = "") -> RawRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json", "x-webex-signature": prefix + sign(secret, raw)}
    return RawRequest("/webhooks/webex", "https://breather.example.org/webhooks/webex", headers, raw)


def parse(raw: RawRequest) -> list[CallEnded]:
    adapter = WebexAdapter(SECRET)
    adapter.verify(raw)
    return [event for event in adapter.parse(raw) if isinstance(event, CallEnded)]


def test_signature_is_the_hex_hmac_sha256_of_the_body() -> None:
    body = b'{"type":"task:ended"}'
    assert sign(SECRET, body) == hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_task_ended_is_the_agents_call() -> None:
    [event] = parse(request(fixture("task_ended")))

    assert event == CallEnded(
        provider="webex",
        event_id=f"{TASK}:{AGENT}:ended",
        call_id=TASK,
        agent=AgentKey(kind="webex_agent_id", id=AGENT),
        started_at=datetime(2026, 3, 10, 9, 13, 35, tzinfo=UTC),
        ended_at=datetime(2026, 3, 10, 9, 23, 47, tzinfo=UTC),
        duration_s=612,
        hold_s=200,
        direction="inbound",
        disconnected_by="customer",
        queue="Q-Billing-7f8e9d",
    )


def test_wrap_up_is_a_late_tag_and_a_rona_requeue_is_not_a_call() -> None:
    [wrapped] = parse(request(fixture("task_wrapup")))

    assert (wrapped.call_id, wrapped.tags, wrapped.is_update) == (TASK, ("Abusive caller",), True)
    assert parse(request(fixture("task_ended_rona"))) == []


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e.update(type="task:connected"),
        lambda e: e["data"].update(channelType="chat"),
        lambda e: e["data"].pop("owner"),
    ],
)
def test_other_events_channels_and_unowned_tasks_are_ignored(change: Any) -> None:
    body = fixture("task_ended")
    change(body)

    assert parse(request(body)) == []


def test_agent_analytics_in_the_body_are_never_read() -> None:
    body = fixture("task_ended")
    body["data"].update(
        {"agentSentiment": -0.8, "agentEmotion": "stressed", "agentWellness": {"stress": 0.9}}
    )

    [event] = parse(request(body))

    assert event.sentiment is None and "stressed" not in event.model_dump_json()


def test_a_sha256_prefix_is_accepted_and_anything_else_is_refused() -> None:
    parse(request(fixture("task_ended"), prefix="sha256="))
    raw = request(fixture("task_ended"))
    for headers in (
        {**raw.headers, "x-webex-signature": sign("other", raw.body)},
        {k: v for k, v in raw.headers.items() if k != "x-webex-signature"},
    ):
        with pytest.raises(InvalidSignature):
            WebexAdapter(SECRET).verify(RawRequest(raw.path, raw.public_url, headers, raw.body))
    with pytest.raises(InvalidSignature, match="WEBEX_WEBHOOK_SECRET"):
        WebexAdapter(None).verify(raw)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e["data"].pop("taskId"), "taskId"),
        (lambda e: e["data"].update(connectedDuration=-1), "connectedDuration"),
        (lambda e: e["data"].update(endedTime="never"), "endedTime"),
        (lambda e: e["data"].update(owner=["a"]), "owner"),
        (lambda e: e.update(data=[]), "data"),
        (lambda e: e.pop("type"), "type"),
        # Issue 20: refused naming `ended_at` or `event_id`, fields the sender never sent.
        (lambda e: e["data"].update(endedTime=-1), "endedTime"),
        (lambda e: e["data"].update(connectedTime="9999-12-31T23:59:59.999999"), "connectedTime"),
        (lambda e: e["data"].update(endedTime="9999-12-31T23:59:59-14:00"), "endedTime"),
    ],
)
def test_bad_input_names_the_field(change: Any, field: str) -> None:
    body = fixture("task_ended")
    change(body)

    with pytest.raises(InvalidInput, match=field):
        parse(request(body))


READ = {
    "task_ended": [
        "type",
        "data",
        *(
            f"data.{name}"
            for name in (
                "taskId",
                "channelType",
                "owner",
                "agentId",
                "terminatingParty",
                "reason",
                "direction",
                "connectedTime",
                "endedTime",
                "createdTime",
                "connectedDuration",
                "holdDuration",
                "queueId",
            )
        ),
    ],
    "task_wrapup": ["data.wrapUpReason", "data.auxCodeId", "data.owner"],
}


@pytest.mark.parametrize(("name", "path"), [(name, path) for name, paths in READ.items() for path in paths])
def test_any_value_in_a_field_it_reads_is_read_or_refused_naming_the_field(name: str, path: str) -> None:
    assert sweep(lambda raw: parse(request(raw)), fixture(name), path) == []


def test_ids_at_their_limits_make_a_key_that_fits_and_is_the_same_for_a_duplicate() -> None:
    body = put(put(fixture("task_ended"), "data.taskId", "t" * 200), "data.owner", "o" * 200)

    [first], [again] = parse(request(body)), parse(request(body))

    assert first.event_id == again.event_id and len(first.event_id) <= 200
    assert first.call_id == "t" * 200


def test_a_redelivery_under_another_cloudevent_id_is_the_same_event() -> None:
    again = {**fixture("task_ended"), "id": "another-delivery-id"}

    [first], [second] = parse(request(fixture("task_ended"))), parse(request(again))

    assert first.event_id == second.event_id


@pytest.mark.parametrize(
    "header",
    [
        "",
        "   ",
        "sha256=",
        "sha256",
        "sha1=" + "0" * 40,
        "\u00e9" * 64,
        "0" * 64,
        "0" * 10_000,
        "sha256=sha256=",
    ],
)
def test_a_missing_or_garbled_signature_header_is_refused(header: str) -> None:
    raw = request(fixture("task_ended"))
    headers = {**raw.headers, "x-webex-signature": header}

    with pytest.raises(InvalidSignature):
        WebexAdapter(SECRET).verify(RawRequest(raw.path, raw.public_url, headers, raw.body))


def test_the_signature_is_read_in_either_case() -> None:
    raw = request(fixture("task_ended"))
    headers = {**raw.headers, "x-webex-signature": "SHA256=".lower() + sign(SECRET, raw.body).upper()}

    WebexAdapter(SECRET).verify(RawRequest(raw.path, raw.public_url, headers, raw.body))


# --- agent state ----------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_http_client() as made:
        yield made


@pytest.fixture
def webex_api(fake_api: FakeApi) -> FakeWebex:
    server: FakeWebex = fake_api(
        FakeWebex, client_id="wcid", client_secret="wsecret", refresh_token="refresh-1"
    )
    server.add_agent(AGENT, "Available")
    return server


def state(client: httpx.Client, server: FakeWebex, *, refresh: str = "refresh-1") -> WebexAgentState:
    return WebexAgentState(
        client,
        api_url=server.url,
        token_url=server.url + "/v1/access_token",
        client_id="wcid",
        client_secret="wsecret",
        refresh_token=refresh,
        break_aux_code_id="AXbreak0000000000001",
    )


def test_break_is_idle_with_the_break_code_and_available_comes_back(
    client: httpx.Client, webex_api: FakeWebex
) -> None:
    webex = state(client, webex_api)

    before = webex.read_status(AGENT)
    on_break = webex.set_break(AGENT)
    assert webex_api.state_of(AGENT) == "Idle (Break)"
    assert webex.read_status(AGENT) == on_break == PhoneStatus("Idle:AXbreak0000000000001")
    webex.set_status(AGENT, before, expected=on_break)

    assert webex_api.state_of(AGENT) == "Available"
    token = webex_api.requests("POST")[0]
    assert token.body["grant_type"] == "refresh_token" and "authorization" not in token.headers


def test_an_expired_refresh_token_is_refused_without_showing_it(
    client: httpx.Client, webex_api: FakeWebex
) -> None:
    with pytest.raises(PhoneRefused) as error:
        state(client, webex_api, refresh="refresh-old").read_status(AGENT)
    assert "400" in str(error.value) and "refresh-old" not in str(error.value)
