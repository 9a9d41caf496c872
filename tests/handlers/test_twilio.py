"""Twilio TaskRouter event callbacks: signature over URL + all form params, and parsing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from bot.config import Settings
from bot.errors import InvalidInput, InvalidSignature
from bot.events import AgentKey, CallEnded
from handlers.telephony.base import RawRequest
from handlers.telephony.registry import build_adapters
from handlers.telephony.twilio import TwilioAdapter

FIXTURES = Path(__file__).parents[1] / "fixtures" / "twilio"
TOKEN = "test-twilio-auth-token"
URL = "https://breather.example.org/webhooks/twilio"
TASK_SID = "WTc460ecdf6c974b5031ecede5bc2d0c83"


def fixture(name: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def signed(
    form: dict[str, str], *, url: str = URL, sign_url: str | None = None, token: str = TOKEN
) -> RawRequest:
    """The request Twilio would send for `form`, signed for `sign_url` (default: the URL called)."""
    signature = RequestValidator(token).compute_signature(sign_url or url, form)
    return RawRequest(
        path="/webhooks/twilio",
        public_url=url,
        headers={
            "content-type": "application/x-www-form-urlencoded; charset=UTF-8",
            "x-twilio-signature": signature,
        },
        body=urlencode(form).encode(),
    )


def accept(request: RawRequest) -> list[CallEnded]:
    adapter = TwilioAdapter(TOKEN)
    adapter.verify(request)
    events = adapter.parse(request)
    assert all(isinstance(event, CallEnded) for event in events)
    return [event for event in events if isinstance(event, CallEnded)]


def test_task_wrapup_becomes_a_call_end() -> None:
    [event] = accept(signed(fixture("task_wrapup")))

    assert event == CallEnded(
        provider="twilio",
        event_id="EVde7381b1870608c2ed46a4666142253f",
        call_id=TASK_SID,
        agent=AgentKey(kind="twilio_worker_sid", id="WK0001"),
        ended_at=datetime(2026, 3, 10, 9, 23, 47, 412000, tzinfo=UTC),
        duration_s=None,  # TaskAge (667) counts the queue too: never the call's length
        direction="inbound",
        disconnected_by="customer",
        transfers=None,
        hold_s=95,
        tags=("Abusive caller", "escalation"),
        queue="Billing",
    )


def test_every_end_event_of_one_task_shares_its_call_id() -> None:
    events = [
        event
        for name in ("task_wrapup", "task_completed", "reservation_completed")
        for event in accept(signed(fixture(name)))
    ]

    assert [event.call_id for event in events] == [TASK_SID] * 3
    assert len({event.event_id for event in events}) == 3
    assert {event.duration_s for event in events} == {None}


def test_reservation_accepted_reports_only_when_the_talk_began() -> None:
    [event] = accept(signed(fixture("reservation_accepted")))

    assert event == CallEnded(
        provider="twilio",
        event_id="EV1d5c0e2a3b4f5a6b7c8d9e0f1a2b3c4d",
        call_id=TASK_SID,
        agent=AgentKey(kind="twilio_worker_sid", id="WK0001"),
        started_at=datetime(2026, 3, 10, 9, 14, 11, 207000, tzinfo=UTC),
    )


def test_reservation_accepted_never_carries_tags_set_before_the_call_ends() -> None:
    # A tag the IVR set early must not prompt a check-in while the agent is still talking.
    form = fixture("reservation_accepted")
    form["TaskAttributes"] = json.dumps({"tags": ["abusive"], "conversations": {"hang_up_by": "Customer"}})

    [event] = accept(signed(form))

    assert (event.tags, event.disconnected_by, event.ended_at) == ((), None, None)


def test_event_id_is_built_from_type_resource_and_time_without_a_sid() -> None:
    form = fixture("task_wrapup")
    del form["Sid"]

    [event] = accept(signed(form))

    assert event.event_id == f"task.wrapup:{TASK_SID}:1773134627412"


def test_parameters_twilio_adds_later_are_signed_too() -> None:
    form = {**fixture("task_wrapup"), "TaskRoutingTarget": "", "SomeFutureParameter": "x"}

    [event] = accept(signed(form))

    assert event.call_id == TASK_SID


def test_tampered_body_is_refused() -> None:
    request = signed(fixture("task_wrapup"))
    tampered = RawRequest(
        request.path, request.public_url, request.headers, request.body.replace(b"TaskAge=667", b"TaskAge=9")
    )

    with pytest.raises(InvalidSignature):
        TwilioAdapter(TOKEN).verify(tampered)


def test_signature_for_a_different_url_is_refused() -> None:
    # Behind a proxy the internal URL differs from the one Twilio signed: BREATHER_PUBLIC_URL matters.
    request = signed(fixture("task_wrapup"), sign_url="http://10.0.0.7:3000/webhooks/twilio")

    with pytest.raises(InvalidSignature):
        TwilioAdapter(TOKEN).verify(request)


def test_signature_with_another_auth_token_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        TwilioAdapter(TOKEN).verify(signed(fixture("task_wrapup"), token="someone-elses-token"))


def test_missing_signature_is_refused() -> None:
    request = signed(fixture("task_wrapup"))
    headers = {k: v for k, v in request.headers.items() if k != "x-twilio-signature"}

    with pytest.raises(InvalidSignature):
        TwilioAdapter(TOKEN).verify(RawRequest(request.path, request.public_url, headers, request.body))


@pytest.mark.parametrize("token", [None, ""])
def test_unset_auth_token_refuses_everything(token: str | None) -> None:
    with pytest.raises(InvalidSignature):
        TwilioAdapter(token).verify(signed(fixture("task_wrapup")))


@pytest.mark.parametrize("body", [b"EventType=task.wrapup&TaskSid", b"EventType=%ff%fe", b"\xff\xfe\x00"])
def test_malformed_form_body_is_a_400(body: bytes) -> None:
    request = RawRequest("/webhooks/twilio", URL, {"x-twilio-signature": "c2lnbmF0dXJl"}, body)

    with pytest.raises(InvalidInput) as refused:
        TwilioAdapter(TOKEN).verify(request)

    assert refused.value.status == 400


def test_events_breather_does_not_use_are_ignored() -> None:
    created = {**fixture("task_wrapup"), "EventType": "task.created", "TaskAssignmentStatus": "pending"}

    assert accept(signed(fixture("worker_activity_update"))) == []
    assert accept(signed(created)) == []


def test_task_without_a_worker_is_ignored() -> None:
    form = fixture("task_completed")
    for name in ("WorkerSid", "WorkerName", "WorkerAttributes"):
        del form[name]

    assert accept(signed(form)) == []


def test_unreadable_task_attributes_leave_the_facts_unknown() -> None:
    form = {**fixture("task_wrapup"), "TaskAttributes": "{not json"}

    [event] = accept(signed(form))

    assert (event.disconnected_by, event.hold_s, event.transfers, event.tags) == (None, None, None, ())
    assert event.call_id == TASK_SID


def test_flex_transfer_attributes_count_one_transfer() -> None:
    form = fixture("task_wrapup")
    attributes = json.loads(form["TaskAttributes"])
    attributes["conversations"] = {"hang_up_by": "Cold Transfer", "followed_by": "Transfer to Queue"}
    form["TaskAttributes"] = json.dumps(attributes)

    [event] = accept(signed(form))

    assert (event.transfers, event.disconnected_by, event.hold_s) == (1, "transfer", None)


def test_agent_hanging_up_is_recorded() -> None:
    form = fixture("task_wrapup")
    form["TaskAttributes"] = json.dumps({"conversations": {"hang_up_by": "Agent"}})

    [event] = accept(signed(form))

    assert event.disconnected_by == "agent"


def test_end_event_without_task_sid_is_a_422() -> None:
    form = fixture("reservation_completed")
    del form["TaskSid"]

    with pytest.raises(InvalidInput) as refused:
        accept(signed(form))

    assert refused.value.status == 422


def test_task_age_is_not_read_so_an_odd_value_changes_nothing() -> None:
    [event] = accept(signed({**fixture("task_wrapup"), "TaskAge": "soon"}))

    assert (event.call_id, event.duration_s) == (TASK_SID, None)


def test_registered_with_the_auth_token_from_settings() -> None:
    settings = Settings(
        _env_file=None,
        pseudonym_key="p" * 40,
        messenger="sandbox",
        twilio_auth_token=TOKEN,
    )

    adapter = build_adapters(settings)["twilio"]
    adapter.verify(signed(fixture("task_wrapup")))

    assert (adapter.provider, adapter.accepted_status) == ("twilio", 204)
    assert adapter.media_types == ("application/x-www-form-urlencoded",)
    assert adapter.parse(signed(fixture("task_wrapup")))[0].call_id == TASK_SID
