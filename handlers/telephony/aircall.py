"""Aircall webhooks (`POST /webhooks/aircall`).

Every event is one JSON envelope: `event`, `resource`, `timestamp` (Unix seconds), `token` and
`data` (the call at that moment). There is no signature header: the body's `token` must equal the
token Aircall issued for the webhook, so the body is never logged. `call.ended` (about 30 s after
`call.hungup`, once the data is final) reports the call; `call.tagged` and `call.commented` come
later and only enrich it. Aircall wants a fast 200 and disables a webhook that keeps failing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import InvalidInput, InvalidSignature
from bot.events import MAX_SECONDS, AgentKey, CallEnded, InboundEvent
from handlers.telephony.base import RawRequest, describe, epoch, json_object, require_secret, same

PROVIDER = "aircall"
CALL_END = "call.ended"
ENRICHMENTS = frozenset({"call.tagged", "call.commented"})


def _body(request: RawRequest) -> dict[str, Any]:
    try:
        return json_object(request.body)
    except RecursionError:
        raise InvalidInput("body is not valid JSON", status=400) from None


class _User(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int | str


class _Tag(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=100)


class _Number(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(None, max_length=100)


class AircallCall(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    id: int | str
    direction: str | None = Field(None, max_length=20)
    started_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    duration: float | None = Field(None, ge=0, le=MAX_SECONDS)
    user: _User | None = None
    tags: list[_Tag] | None = Field(None, max_length=50)
    number: _Number | None = None
    transferred_to: Any = None


class AircallEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    event: str = Field(min_length=1, max_length=50)
    timestamp: int
    data: AircallCall


class AircallAdapter:
    provider = PROVIDER
    accepted_status = 200
    media_types: tuple[str, ...] = ("application/json",)

    def __init__(self, token: str | None) -> None:
        self._token = token

    def verify(self, request: RawRequest) -> None:
        expected = require_secret(self._token, "AIRCALL_WEBHOOK_TOKEN")
        sent = _body(request).get("token")
        if not isinstance(sent, str) or not sent:
            raise InvalidSignature("missing token in the body")
        if not same(expected, sent):
            raise InvalidSignature("token does not match AIRCALL_WEBHOOK_TOKEN")

    def parse(self, request: RawRequest) -> list[InboundEvent]:
        data = _body(request)
        kind = data.get("event")
        if not isinstance(kind, str) or not kind:
            raise InvalidInput("event: field required")
        if kind != CALL_END and kind not in ENRICHMENTS:
            return []
        try:
            event = AircallEvent.model_validate(data)
            if event.data.user is None:
                return []  # nobody answered or placed it (IVR, missed call)
            return [_call(event, str(event.data.user.id))]
        except ValidationError as error:
            raise InvalidInput(describe(error)) from None


def _moment(value: float | None, field: str) -> datetime | None:
    try:
        return epoch(value)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(f"data.{field}: not a Unix timestamp") from None


def _call(event: AircallEvent, user_id: str) -> CallEnded:
    call = event.data
    common: dict[str, Any] = {
        "provider": PROVIDER,
        "event_id": f"{event.event}:{call.id}:{event.timestamp}",
        "call_id": str(call.id),
        "agent": AgentKey(kind="aircall_user_id", id=user_id),
        "started_at": _moment(call.started_at, "started_at"),
        "ended_at": _moment(call.ended_at, "ended_at"),
        "tags": tuple(dict.fromkeys(tag.name for tag in call.tags or ())),
    }
    if event.event != CALL_END:
        return CallEnded(**common, is_update=True)
    # `duration` includes ringing; talk time is ended_at - answered_at when both are known.
    duration = call.duration
    if call.answered_at is not None and call.ended_at is not None:
        duration = max(call.ended_at - call.answered_at, 0.0)
    transfers = None
    if "transferred_to" in call.model_fields_set:
        transfers = 0 if call.transferred_to is None else 1
    return CallEnded(
        **common,
        duration_s=duration,
        direction=call.direction if call.direction in ("inbound", "outbound") else None,
        transfers=transfers,
        queue=call.number.name if call.number else None,
    )
