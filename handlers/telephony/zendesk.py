"""Zendesk satisfaction ratings (`POST /webhooks/zendesk`), from trigger-connected webhooks.

Zendesk has no fixed satisfaction event for webhooks: the operator connects a webhook to triggers
("Satisfaction is Good with comment", and one for Bad) whose JSON body is given by
`trigger_body()` (docs/phone-systems/zendesk.md and `breather zendesk trigger-body` print it).
Each trigger sends a literal score, `"good"` or `"bad"`, because the placeholder
`{{satisfaction.current_rating}}` renders the rating's display text in the requester's language.
The adapter reads
`satisfaction_rating.{score, rating, scale, comment, assignee_id, ticket_id, id}` and
`ticket.{id, requester.name}`; how each score is mapped to good/bad lives in `csat.py`, and how a
body with an unescaped comment is still read lives in `zendesk_body.py`.

Signature: `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(signing secret, timestamp + raw
body)), with the timestamp (ISO 8601, e.g. 2026-11-23T09:00:00Z) in
`X-Zendesk-Webhook-Signature-Timestamp`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import InvalidInput, InvalidSignature
from bot.events import AgentKey, CustomerFeedback, InboundEvent
from handlers.telephony import zendesk_body
from handlers.telephony.base import Notes, RawRequest, describe, require_secret, same
from handlers.telephony.csat import GOOD_FROM, Verdict, display_verdict, is_not_yet_rated, scale_verdict
from handlers.telephony.emotion import without_agent_emotion

log = logging.getLogger(__name__)

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
SHOWN_MAX = 40  # how much of an unreadable score an error message repeats


def trigger_body(score: Verdict) -> str:
    """The JSON body of the trigger that sends `score` ratings. The score is a literal, never a
    placeholder; the customer's comment comes last, where `zendesk_body` can still read it when
    Zendesk pastes it unescaped; every key appears once, so free text that breaks out of its
    string to add a key is caught as a key given twice."""
    return (
        '{"type": "satisfaction_rating",\n'
        ' "ticket": {"id": "{{ticket.id}}", "requester": {"name": "{{ticket.requester.name}}"}},\n'
        f' "satisfaction_rating": {{"score": "{score}", "ticket_id": "{{{{ticket.id}}}}",\n'
        '                         "assignee_id": "{{ticket.assignee.id}}",\n'
        '                         "comment": "{{satisfaction.current_comment}}"}}'
    )


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
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    id: int | str | None = None
    # good/bad, a display text ("Good, I'm satisfied"), or a number with `scale`
    score: str | float | None = None
    rating: float | None = None  # the newer CSAT: 1..scale
    scale: int | None = None  # 2, 3 or 5 points
    comment: str | None = None
    assignee_id: int | str | None = None
    ticket_id: int | str | None = None

    _ids = field_validator("id", "assignee_id", "ticket_id", "rating", "scale", mode="before")(_id)

    @field_validator("score", mode="before")
    @classmethod
    def _score(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value) > 200:
            raise ValueError("is too long to be a rating")
        return value


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
        self.notes = Notes(log)

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
        data, salvaged = zendesk_body.read(request.body)
        data = without_agent_emotion(data)
        if salvaged:
            self.notes.once(
                "unescaped",
                "a Zendesk trigger body held a comment or name with a quote, line break or backslash, "
                "pasted unescaped; read by cutting the free text out (logged once)",
            )
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
        verdict = _verdict(rating)
        if verdict is not None and _is_display_text(rating.score):
            self.notes.once(
                "display-text",
                "a Zendesk trigger sends the rating's display text ({{satisfaction.current_rating}}); "
                "read, but give each trigger a literal score: breather zendesk trigger-body good|bad "
                "(logged once)",
            )
        if verdict is None:
            return []  # "offered", "unoffered": a survey went out, no rating yet
        ticket_id = (
            rating.ticket_id if rating.ticket_id is not None else (body.ticket.id if body.ticket else None)
        )
        if ticket_id is None:
            raise InvalidInput("satisfaction_rating.ticket_id: field required")
        if rating.assignee_id is None:
            return []  # an unassigned ticket: about nobody in particular
        event_id = f"ticket:{ticket_id}:{verdict}" + (f":{rating.id}" if rating.id is not None else "")
        comment = (rating.comment or "").strip()[:COMMENT_MAX] or None
        requester = body.ticket.requester if body.ticket else None
        return [
            CustomerFeedback(
                provider=PROVIDER,
                event_id=event_id[:200],
                agent=AgentKey(kind="zendesk_user_id", id=str(rating.assignee_id)),
                rating=verdict,
                comment=comment,
                source="zendesk",
                customer_name=requester.name if requester else None,
            )
        ]


def _is_display_text(score: str | float | None) -> bool:
    return isinstance(score, str) and score.strip().lower() not in RATINGS and _number(score) is None


def _number(value: str | float) -> float | None:
    if isinstance(value, float | int):
        return float(value)
    try:
        return float(value.strip())
    except ValueError:
        return None


def _verdict(rating: _Rating) -> Verdict | None:
    """good/bad, or None for a survey not answered yet; InvalidInput (422) naming the field
    for anything Breather cannot read, so no rating is ever acknowledged and then lost."""
    score = rating.score
    text = score.strip() if isinstance(score, str) else None
    if text is not None and text.lower() in RATINGS:
        return "good" if text.lower() == "good" else "bad"
    number = rating.rating if rating.rating is not None else (_number(score) if score is not None else None)
    if number is not None:
        field = "rating" if rating.rating is not None else "score"
        if rating.scale is None:
            raise InvalidInput("satisfaction_rating.scale: field required with a numeric rating (2, 3 or 5)")
        if rating.scale not in GOOD_FROM:
            raise InvalidInput(
                f"satisfaction_rating.scale: {rating.scale} is not one of Zendesk's scales (2, 3 or 5)"
            )
        try:
            return scale_verdict(number, rating.scale)
        except ValueError as error:
            raise InvalidInput(f"satisfaction_rating.{field}: {error}") from None
    if not text:
        raise InvalidInput("satisfaction_rating.score: field required")
    if is_not_yet_rated(text):
        return None
    verdict = display_verdict(text)
    if verdict is None:
        shown = json.dumps(text[:SHOWN_MAX], ensure_ascii=False)
        raise InvalidInput(
            f'satisfaction_rating.score: {shown} is not a rating Breather can read; send "good" or "bad" '
            "(one trigger per rating, as in docs/phone-systems/zendesk.md)"
        )
    return verdict
