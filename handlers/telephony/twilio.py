"""Twilio TaskRouter event callbacks (`POST /webhooks/twilio`).

The workspace's EventCallbackUrl receives one form-encoded POST per TaskRouter event, signed in
`X-Twilio-Signature` (base64 HMAC-SHA1 with the account auth token over the called URL plus every
POST parameter). Twilio wants `204` within 15 s. `task.wrapup`, `task.completed` and
`reservation.completed` mean a call is over; they share the TaskSid, so the domain merges them.
Flex reporting facts (who hung up, hold time, transfers) live in `TaskAttributes.conversations`,
a JSON string filled by Studio flows or Flex plugins: every one of them is optional.

Talk time: `TaskAge` counts from the task's creation, so it includes the wait in the queue and is
never read as the call's length. `reservation.accepted` (the agent took the call) reports only
when the talk started; the domain measures the call from there to the first end event.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from twilio.request_validator import RequestValidator

from bot.errors import InvalidInput, InvalidSignature
from bot.events import MAX_SECONDS, AgentKey, CallEnded, Disconnect, InboundEvent
from handlers.boundary import load_json
from handlers.telephony.base import Notes, RawRequest, aware, describe, epoch, require_secret
from handlers.telephony.emotion import names_agent_emotion, without_agent_emotion

log = logging.getLogger(__name__)

PROVIDER = "twilio"
HEADER = "x-twilio-signature"
CALL_END_EVENTS = frozenset({"task.wrapup", "task.completed", "reservation.completed"})
CALL_START = "reservation.accepted"
MAX_FIELDS = 500  # a TaskRouter callback has a few dozen


class _Form(dict[str, list[str]]):
    """Every received value per name; RequestValidator signs repeated names through `getall`."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def read_form(body: bytes) -> _Form:
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("body is not valid form data", status=400) from None
    form = _Form()
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


class TaskEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    EventType: str = Field(min_length=1, max_length=100)
    Sid: str | None = Field(None, max_length=64)
    ResourceSid: str | None = Field(None, max_length=64)
    Timestamp: str | None = Field(None, max_length=32)
    TimestampMs: str | None = Field(None, max_length=32)
    TaskSid: str | None = Field(None, max_length=64)
    WorkerSid: str | None = Field(None, max_length=64)
    TaskQueueName: str | None = Field(None, max_length=100)
    TaskAttributes: str | None = None


class TwilioAdapter:
    provider = PROVIDER
    accepted_status = 204
    media_types: tuple[str, ...] = ("application/x-www-form-urlencoded",)

    def __init__(self, auth_token: str | None) -> None:
        self._auth_token = auth_token
        self.notes = Notes(log)

    def verify(self, request: RawRequest) -> None:
        token = require_secret(self._auth_token, "TWILIO_AUTH_TOKEN")
        signature = request.headers.get(HEADER)
        if not signature:
            raise InvalidSignature("missing X-Twilio-Signature header")
        form = read_form(request.body)
        # All received parameters, never a fixed list: Twilio adds new ones without notice.
        if not RequestValidator(token).validate(request.public_url, form, signature):
            raise InvalidSignature("X-Twilio-Signature does not match the URL and parameters")

    def parse(self, request: RawRequest) -> list[InboundEvent]:
        form = read_form(request.body)
        # A blank value means "not known", the same as an absent one.
        fields = {
            name: values[0]
            for name, values in form.items()
            if values[0] != "" and not names_agent_emotion(name)
        }
        kind = fields.get("EventType")
        if kind is None:
            raise InvalidInput("EventType: field required")
        if kind not in CALL_END_EVENTS and kind != CALL_START:
            return []
        try:
            event = TaskEvent.model_validate(fields)
        except ValidationError as error:
            raise InvalidInput(describe(error)) from None
        if event.WorkerSid is None:
            return []  # a task that never reached an agent
        if event.TaskSid is None:
            raise InvalidInput("TaskSid: field required")
        if event.Sid is None:
            self.notes.once(
                "no-sid",
                "a Twilio event callback came without its Sid (it is not in Twilio's parameter table); "
                "keyed by EventType, ResourceSid and Timestamp instead (logged once)",
            )
        try:
            if kind == CALL_START:
                return [_start(event, event.TaskSid, event.WorkerSid)]
            return [_call(event, event.TaskSid, event.WorkerSid)]
        except ValidationError as error:
            raise InvalidInput(describe(error)) from None


def _event_id(event: TaskEvent) -> str:
    if event.Sid:
        return event.Sid
    stamp = event.TimestampMs or event.Timestamp
    resource = event.ResourceSid or event.TaskSid
    if not stamp or not resource:
        raise InvalidInput("Sid, or ResourceSid and Timestamp, are needed to identify the event")
    return f"{event.EventType}:{resource}:{stamp}"


def _moment(event: TaskEvent) -> datetime | None:
    """When the event happened (callbacks carry the time they were sent)."""
    stamp = event.TimestampMs or event.Timestamp
    try:
        return epoch(stamp)
    except (ValueError, OverflowError, OSError):
        pass
    # Unix time is what callbacks carry; an ISO-8601 value is read too rather than refused.
    try:
        return aware(datetime.fromisoformat(stamp or ""))
    except ValueError:
        return None


def _attributes(raw: str | None) -> dict[str, Any]:
    # Attributes are whatever the flow wrote; unreadable ones just mean no extra facts.
    if not raw:
        return {}
    try:
        data = load_json(raw)
    except InvalidInput:
        return {}
    return without_agent_emotion(data) if isinstance(data, dict) else {}


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if 0 <= number <= MAX_SECONDS else None


def _hung_up_by(value: Any) -> Disconnect | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    if text == "customer":
        return "customer"
    if text == "agent":
        return "agent"
    # The Flex "hang up by" sample plugin also writes "Cold Transfer" / "Warm Transfer".
    return "transfer" if "transfer" in text else "unknown"


def _tags(attributes: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    disposition = attributes.get("disposition")
    if isinstance(disposition, str) and disposition.strip():
        found.append(disposition.strip())
    tags = attributes.get("tags")
    if isinstance(tags, str):
        tags = [tags]
    if isinstance(tags, list):
        found.extend(tag.strip() for tag in tags if isinstance(tag, str) and tag.strip())
    return tuple(dict.fromkeys(found))[:50]


def _start(event: TaskEvent, task_sid: str, worker_sid: str) -> CallEnded:
    """The agent accepted the call: when the talk began, and nothing else. Tags or attributes
    set this early are read from the end event, so nothing here can prompt a check-in mid-call."""
    return CallEnded(
        provider=PROVIDER,
        event_id=_event_id(event),
        call_id=task_sid,
        agent=AgentKey(kind="twilio_worker_sid", id=worker_sid),
        started_at=_moment(event),
    )


def _call(event: TaskEvent, task_sid: str, worker_sid: str) -> CallEnded:
    attributes = _attributes(event.TaskAttributes)
    conversations = attributes.get("conversations")
    if not isinstance(conversations, dict):
        conversations = {}
    followed_by = conversations.get("followed_by")
    hung_up_by = _hung_up_by(conversations.get("hang_up_by"))
    transferred = (isinstance(followed_by, str) and "transfer" in followed_by.lower()) or (
        hung_up_by == "transfer"
    )
    direction = attributes.get("direction")
    return CallEnded(
        provider=PROVIDER,
        event_id=_event_id(event),
        call_id=task_sid,
        agent=AgentKey(kind="twilio_worker_sid", id=worker_sid),
        ended_at=_moment(event),
        direction=direction if direction in ("inbound", "outbound") else None,
        disconnected_by=hung_up_by,
        transfers=1 if transferred else None,
        hold_s=_seconds(conversations.get("hold_time")),
        tags=_tags(attributes),
        queue=event.TaskQueueName,
    )
