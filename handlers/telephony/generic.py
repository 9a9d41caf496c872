"""The generic signed webhook (`POST /webhooks/calls`), for any system that can sign JSON.

Header: `Breather-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
Several `v1=` entries may be sent while a secret is being rotated; any match is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import InvalidInput, InvalidSignature
from bot.events import (
    MAX_SECONDS,
    MAX_TRANSFERS,
    AgentKey,
    CallEnded,
    CustomerFeedback,
    Disconnect,
    InboundEvent,
    Rating,
)
from handlers.signatures import unix_seconds
from handlers.telephony.base import RawRequest, aware, describe, json_object, require_secret, same

PROVIDER = "generic"
HEADER = "breather-signature"
TOLERANCE_S = 300


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value a sender puts on `body` (used by `breather simulate` and the tests)."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")
    event_id: str = Field(min_length=1, max_length=200)
    agent_email: str = Field(min_length=3, max_length=320)


class GenericCall(_Event):
    type: Literal["call.ended"]
    call_id: str | None = Field(None, min_length=1, max_length=200)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = Field(None, ge=0, le=MAX_SECONDS)
    direction: Literal["inbound", "outbound"] | None = None
    disconnected_by: Disconnect | None = None
    transfers: int | None = Field(None, ge=0, le=MAX_TRANSFERS)
    hold_s: float | None = Field(None, ge=0, le=MAX_SECONDS)
    sentiment: float | None = Field(None, ge=-1, le=1)
    csat: float | None = Field(None, ge=0, le=1)
    tags: list[str] = Field(default_factory=list, max_length=50)
    queue: str | None = Field(None, max_length=100)


class GenericFeedback(_Event):
    type: Literal["feedback"]
    rating: Rating | None = None
    comment: str | None = Field(None, max_length=5000)
    source: str | None = Field(None, max_length=50)
    call_id: str | None = Field(None, max_length=200)
    customer_name: str | None = Field(None, max_length=200)


class GenericAdapter:
    provider = PROVIDER
    accepted_status = 202
    media_types: tuple[str, ...] = ("application/json",)

    def __init__(self, secret: str | None, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._clock = clock

    def verify(self, request: RawRequest) -> None:
        secret = require_secret(self._secret, "BREATHER_WEBHOOK_SECRET")
        header = request.headers.get(HEADER)
        if not header:
            raise InvalidSignature("missing Breather-Signature header")
        parts = [item.strip().split("=", 1) for item in header.split(",")]
        fields = [(k, v) for k, v in (p for p in parts if len(p) == 2)]
        stamps = [v for k, v in fields if k == "t"]
        candidates = [v for k, v in fields if k == "v1"]
        signed_at = unix_seconds(stamps[0]) if len(stamps) == 1 else None
        if signed_at is None or not candidates:
            raise InvalidSignature("Breather-Signature must look like t=<unix seconds>,v1=<hex>")
        if abs(self._clock() - signed_at) > TOLERANCE_S:
            raise InvalidSignature("Breather-Signature timestamp is more than 5 minutes off")
        expected = hmac.new(
            secret.encode(), stamps[0].encode() + b"." + request.body, hashlib.sha256
        ).hexdigest()
        if not any(same(expected, candidate) for candidate in candidates):
            raise InvalidSignature("Breather-Signature does not match the body")

    def parse(self, request: RawRequest) -> list[InboundEvent]:
        data = json_object(request.body)
        kind = data.get("type")
        try:
            if kind == "call.ended":
                return [self._call(GenericCall.model_validate(data))]
            if kind == "feedback":
                return [self._feedback(GenericFeedback.model_validate(data))]
        except ValidationError as error:
            raise InvalidInput(describe(error)) from None
        if kind is None:
            raise InvalidInput("type: field required (call.ended or feedback)")
        raise InvalidInput(f"type: {str(kind)[:40]!r} is not call.ended or feedback")

    @staticmethod
    def _call(event: GenericCall) -> CallEnded:
        duration = event.duration_s
        if duration is None and event.started_at and event.ended_at:
            duration = max((event.ended_at - event.started_at).total_seconds(), 0.0)
        return CallEnded(
            provider=PROVIDER,
            event_id=event.event_id,
            call_id=event.call_id or event.event_id,
            agent=AgentKey(kind="email", id=event.agent_email.lower()),
            started_at=aware(event.started_at),
            ended_at=aware(event.ended_at),
            duration_s=duration,
            direction=event.direction,
            disconnected_by=event.disconnected_by,
            transfers=event.transfers,
            hold_s=event.hold_s,
            sentiment=event.sentiment,
            csat=event.csat,
            tags=tuple(event.tags),
            queue=event.queue,
        )

    @staticmethod
    def _feedback(event: GenericFeedback) -> CustomerFeedback:
        return CustomerFeedback(
            provider=PROVIDER,
            event_id=event.event_id,
            agent=AgentKey(kind="email", id=event.agent_email.lower()),
            rating=event.rating,
            comment=event.comment,
            source=event.source,
            call_id=event.call_id,
            customer_name=event.customer_name,
        )
