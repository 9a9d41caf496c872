"""Aircall webhooks: the body's token, and parsing call events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.errors import InvalidInput, InvalidSignature
from bot.events import AgentKey, CallEnded
from handlers.telephony.aircall import AircallAdapter
from handlers.telephony.base import RawRequest
from handlers.telephony.registry import build_adapters

FIXTURES = Path(__file__).parents[1] / "fixtures" / "aircall"
TOKEN = "test-aircall-webhook-token"
CALL_ID = "1874422193"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def request(event: dict[str, Any] | bytes, *, token: str | None = TOKEN) -> RawRequest:
    if isinstance(event, dict):
        event = {**event, "token": token} if token is not None else event
        event = json.dumps(event).encode()
    return RawRequest("/webhooks/aircall", "https://breather.example.org/webhooks/aircall", {}, event)


def accept(raw: RawRequest) -> list[CallEnded]:
    adapter = AircallAdapter(TOKEN)
    adapter.verify(raw)
    events = adapter.parse(raw)
    assert all(isinstance(event, CallEnded) for event in events)
    return [event for event in events if isinstance(event, CallEnded)]


def test_call_ended_becomes_a_call_end() -> None:
    [event] = accept(request(fixture("call_ended")))

    assert event == CallEnded(
        provider="aircall",
        event_id=f"call.ended:{CALL_ID}:1773134657",
        call_id=CALL_ID,
        agent=AgentKey(kind="aircall_user_id", id="1001"),
        started_at=datetime(2026, 3, 10, 9, 14, 5, tzinfo=UTC),
        ended_at=datetime(2026, 3, 10, 9, 23, 47, tzinfo=UTC),
        duration_s=576,  # answered to ended; Aircall's own `duration` (582) includes ringing
        direction="inbound",
        disconnected_by=None,
        transfers=0,
        tags=("Billing dispute",),
        queue="Billing",
    )


def test_call_tagged_is_a_late_update_of_the_same_call() -> None:
    [ended] = accept(request(fixture("call_ended")))
    [tagged] = accept(request(fixture("call_tagged")))

    assert tagged.is_update and not ended.is_update
    assert tagged.call_id == ended.call_id == CALL_ID
    assert tagged.event_id != ended.event_id
    assert tagged.tags == ("Billing dispute", "Abusive")
    # An update carries no call facts, so it never overwrites what call.ended reported.
    assert (tagged.duration_s, tagged.transfers, tagged.queue) == (None, None, None)


def test_call_commented_is_a_late_update_without_the_comment_text() -> None:
    [commented] = accept(request(fixture("call_commented")))

    assert commented.is_update
    assert commented.call_id == CALL_ID
    assert commented.event_id == f"call.commented:{CALL_ID}:1773134719"
    assert "threatened" not in commented.model_dump_json()


def test_tampered_token_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        AircallAdapter(TOKEN).verify(request(fixture("call_ended"), token=TOKEN + "x"))


@pytest.mark.parametrize("token", ["", 123, None, ["test-aircall-webhook-token"]])
def test_missing_or_non_text_token_is_refused(token: object) -> None:
    event = fixture("call_ended")
    event["token"] = token

    with pytest.raises(InvalidSignature):
        AircallAdapter(TOKEN).verify(request(event, token=None))


def test_body_without_a_token_is_refused() -> None:
    event = fixture("call_ended")
    del event["token"]

    with pytest.raises(InvalidSignature):
        AircallAdapter(TOKEN).verify(request(event, token=None))


@pytest.mark.parametrize("configured", [None, ""])
def test_unset_token_refuses_everything(configured: str | None) -> None:
    with pytest.raises(InvalidSignature):
        AircallAdapter(configured).verify(request(fixture("call_ended"), token=""))


@pytest.mark.parametrize("body", [b"token=abc", b"[1, 2]", b"\xff\xfe", b"[" * 100_000])
def test_malformed_body_is_a_400(body: bytes) -> None:
    with pytest.raises(InvalidInput) as refused:
        AircallAdapter(TOKEN).verify(request(body))

    assert refused.value.status == 400


@pytest.mark.parametrize("kind", ["call.hungup", "call.created", "call.answered", "user.opened"])
def test_events_breather_does_not_use_are_ignored(kind: str) -> None:
    event = {**fixture("call_hungup"), "event": kind}

    assert accept(request(event)) == []


def test_call_nobody_answered_is_ignored() -> None:
    assert accept(request(fixture("call_ended_missed"))) == []


def test_unanswered_outbound_call_falls_back_to_aircalls_duration() -> None:
    event = fixture("call_ended")
    event["data"].update(
        {"direction": "outbound", "answered_at": None, "ended_at": 1773134090, "duration": 45}
    )

    [call] = accept(request(event))

    assert (call.duration_s, call.direction) == (45, "outbound")


def test_transferred_call_counts_one_transfer() -> None:
    event = fixture("call_ended")
    event["data"]["transferred_to"] = {"id": 1002, "name": "Bob Stan", "email": "bob@example.com"}

    [call] = accept(request(event))

    assert call.transfers == 1


def test_call_without_transfer_field_leaves_transfers_unknown() -> None:
    event = fixture("call_ended")
    del event["data"]["transferred_to"]

    [call] = accept(request(event))

    assert call.transfers is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e["data"].pop("id"), "data.id"),
        (lambda e: e.pop("timestamp"), "timestamp"),
        (lambda e: e["data"].update(duration=-3), "data.duration"),
        (lambda e: e["data"].update(tags="Abusive"), "data.tags"),
        (lambda e: e["data"].update(ended_at=10**20), "data.ended_at"),
    ],
)
def test_call_with_missing_or_wrong_fields_is_a_422(change: Any, field: str) -> None:
    event = fixture("call_ended")
    change(event)

    with pytest.raises(InvalidInput) as refused:
        accept(request(event))

    assert refused.value.status == 422
    assert field in str(refused.value)


def test_errors_never_echo_the_token() -> None:
    event = fixture("call_ended")
    event["data"]["id"] = None

    with pytest.raises(InvalidInput) as refused:
        accept(request(event))

    assert TOKEN not in str(refused.value)


def test_registered_with_the_token_from_settings() -> None:
    settings = Settings(
        _env_file=None,
        pseudonym_key="p" * 40,
        messenger="sandbox",
        aircall_webhook_token=TOKEN,
    )

    adapter = build_adapters(settings)["aircall"]
    adapter.verify(request(fixture("call_ended")))

    assert (adapter.provider, adapter.accepted_status, adapter.media_types) == (
        "aircall",
        200,
        ("application/json",),
    )
