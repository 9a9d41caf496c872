"""Zendesk satisfaction ratings (`POST /webhooks/zendesk`), from a trigger-connected webhook.

Zendesk has no fixed satisfaction event: the operator connects a webhook to a trigger
("Satisfaction is Good with comment") with the JSON body given in the README, which this
adapter reads: `satisfaction_rating.{score, comment, assignee_id, ticket_id, id}` and
`ticket.{id, requester.name}`. Placeholders render ids as strings and scores as "Good", so
both are accepted.

Signature: `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(signing secret, timestamp + raw
body)), with the timestamp (ISO 8601, e.g. 2026-11-23T09:00:00Z) in
`X-Zendesk-Webhook-Signature-Timestamp`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import InvalidInput, InvalidSignature
from bot.events import AgentKey, CustomerFeedback, InboundEvent
from handlers.telephony.base import RawRequest, describe, json_object, require_secret, same

PROVIDER = "zendesk"
SIGNATURE = "x-zendesk-webhook-signature"
TIMESTAMP = "x-zendesk-webhook-signature-timestamp"
# Zendesk retries failed deliveries for a while, and whether a retry is signed again with a
# fresh timestamp is not documented. An hour accepts such retries and still bounds replays;
# a replay inside the hour changes nothing, because events are idempotent on ticket + score.
MAX_AGE_S = 3600
MAX_AHEAD_S = 300  # clock skew the other way
COMMENT_MAX = 5000
RATINGS = ("good", "bad")


def sign(secret: str, body: bytes, timestamp: str) -> str:
    """The signature Zendesk puts on `body` (used by the tests and `breather simulate`)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _id(value: Any) -> Any:
    """Zendesk placeholders render numbers as text; an empty placeholder means no value."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class _Rating(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int | str | None = None
    score: str | None = Field(None, max_length=20)
    comment: str | None = None
    assignee_id: int | str | None = None
    ticket_id: int | str | None = None

    _ids = field_validator("id", "assignee_id", "ticket_id", mode="before")(_id)


class _Requester(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(None, max_length=200)


class _Ticket(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int | str | None = None
    requester: _Requester | None = None

    _ids = field_validator("id", mode="before")(_id)


class ZendeskRating(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str | None = Field(None, max_length=50)
    satisfaction_rating: _Rating
    ticket: _Ticket | None = None


class ZendeskAdapter:
    provider = PROVIDER
    accepted_status = 200
    media_types: tuple[str, ...] = ("application/json",)

    def __init__(self, secret: str | None, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._clock = clock

    def verify(self, request: RawRequest) -> None:
        secret = require_secret(self._secret, "ZENDESK_WEBHOOK_SECRET")
        signature = request.headers.get(SIGNATURE)
        stamp = request.headers.get(TIMESTAMP)
        if not signature or not stamp:
            raise InvalidSignature("missing X-Zendesk-Webhook-Signature or its timestamp header")
        try:
            signed_at = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidSignature("X-Zendesk-Webhook-Signature-Timestamp is not an ISO 8601 time") from None
        if signed_at.tzinfo is None:
            signed_at = signed_at.replace(tzinfo=UTC)
        age = self._clock() - signed_at.timestamp()
        if age > MAX_AGE_S or age < -MAX_AHEAD_S:
            raise InvalidSignature("X-Zendesk-Webhook-Signature-Timestamp is too old or in the future")
        if not same(sign(secret, request.body, stamp), signature.strip()):
            raise InvalidSignature("X-Zendesk-Webhook-Signature does not match the body")

    def parse(self, request: RawRequest) -> list[InboundEvent]:
        data = json_object(request.body)
        if "satisfaction_rating" not in data:
            kind = data.get("type")
            if kind is None or kind == "satisfaction_rating":
                raise InvalidInput("satisfaction_rating: field required")
            # Another trigger's body (e.g. tags), whatever JSON its `type` is: nothing Breather
            # uses, so it is acknowledged and answered "ignored".
            return []
        try:
            body = ZendeskRating.model_validate(data)
        except ValidationError as error:
            raise InvalidInput(describe(error)) from None
        rating = body.satisfaction_rating
        score = (rating.score or "").strip().lower()
        if score not in RATINGS:
            return []  # "offered", "unoffered": no rating yet
        ticket_id = (
            rating.ticket_id if rating.ticket_id is not None else (body.ticket.id if body.ticket else None)
        )
        if ticket_id is None:
            raise InvalidInput("satisfaction_rating.ticket_id: field required")
        if rating.assignee_id is None:
            return []  # an unassigned ticket: about nobody in particular
        event_id = f"ticket:{ticket_id}:{score}" + (f":{rating.id}" if rating.id is not None else "")
        comment = (rating.comment or "").strip()[:COMMENT_MAX] or None
        requester = body.ticket.requester if body.ticket else None
        return [
            CustomerFeedback(
                provider=PROVIDER,
                event_id=event_id[:200],
                agent=AgentKey(kind="zendesk_user_id", id=str(rating.assignee_id)),
                rating="good" if score == "good" else "bad",
                comment=comment,
                source="zendesk",
                customer_name=requester.name if requester else None,
            )
        ]
