"""Zoom Contact Center webhooks (`POST /webhooks/zoom`).

Signature: `x-zm-signature` = `v0=` + hex HMAC-SHA256(secret token, `v0:{x-zm-request-timestamp}:{raw body}`),
compared in constant time. Zoom's endpoint URL validation (`endpoint.url_validation`, sent when
the endpoint is saved and about every 72 hours) is answered at once with
`{"plainToken", "encryptedToken": hex HMAC-SHA256(secret token, plainToken)}`, after the same
signature check: answering unsigned challenges would let anyone have Breather compute HMACs
with the secret. Zoom wants 200 or 204 within 3 seconds and retries three times (5, 20 and 60
minutes apart), with the original timestamp as far as is known, so the timestamp's age is not
enforced: retries are answered as duplicates instead.

Events (envelope `{event, event_ts, payload: {account_id, object}}`):

- `contact_center.engagement_user_ended`: an agent's part of an engagement ended: the call
  for that agent (`object.user_id`, else `object.user_email`);
- `contact_center.engagement_ended`: the whole engagement ended; its dispositions (where the
  object lists them) become tags on the call of each agent it names.

Only the voice channel is read. Zoom sends no event id: the key is event + engagement +
agent + `event_ts`.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from bot.errors import InvalidInput, InvalidSignature
from bot.events import MAX_SECONDS, AgentKey, CallEnded, InboundEvent
from handlers.telephony.base import (
    RawRequest,
    business_key,
    describe,
    json_object,
    moment_in_calendar,
    require_secret,
    same,
)

PROVIDER = "zoom"
SETTING = "ZOOM_WEBHOOK_SECRET"
VALIDATION = "endpoint.url_validation"
USER_ENDED = "contact_center.engagement_user_ended"
ENGAGEMENT_ENDED = "contact_center.engagement_ended"
LATEST_MS = 10**14  # event_ts: epoch milliseconds, far past any real moment (year 5138)
# Numbers, never strings or booleans: pydantic would read "1e5" as a number and true as 1.
Seconds = Annotated[float, Strict(), Field(ge=0, le=MAX_SECONDS)]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `x-zm-signature` Zoom sends for `body` at `timestamp`."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def encrypted_token(secret: str, plain_token: str) -> str:
    return hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()


class _Disposition(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(None, max_length=100)
    disposition_name: str | None = Field(None, max_length=100)


class _Agent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user_id: str | None = Field(None, max_length=100)
    user_email: str | None = Field(None, max_length=254)


class ZoomEngagement(BaseModel):
    """The fields of an engagement object Breather reads; the rest is ignored."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    engagement_id: str = Field(min_length=1, max_length=100)
    channel: str | None = Field(None, max_length=40)
    direction: str | None = Field(None, max_length=20)
    user_id: str | None = Field(None, max_length=100)
    user_email: str | None = Field(None, max_length=254)
    queue_name: str | None = Field(None, max_length=100)
    start_time: datetime | None = None
    end_time: datetime | None = None
    date_time: datetime | None = None
    talk_duration: Seconds | None = None
    hold_duration: Seconds | None = None
    transfer_count: Annotated[int, Strict()] | None = Field(None, ge=0, le=1000)
    disposition_name: str | None = Field(None, max_length=100)
    dispositions: list[_Disposition] | None = Field(None, max_length=50)
    agents: list[_Agent] | None = Field(None, max_length=50)


class ZoomAdapter:
    provider = PROVIDER
    accepted_status = 200
    media_types: tuple[str, ...] = ("application/json",)

    def __init__(self, secret: str | None) -> None:
        self._secret = secret

    def verify(self, request: RawRequest) -> None:
        secret = require_secret(self._secret, SETTING)
        signature = request.headers.get("x-zm-signature", "")
        timestamp = request.headers.get("x-zm-request-timestamp", "")
        if not signature or not timestamp:
            raise InvalidSignature("missing x-zm-signature or x-zm-request-timestamp")
        if not timestamp.isdigit():
            raise InvalidSignature("x-zm-request-timestamp must be Unix seconds")
        if not same(sign(secret, timestamp, request.body), signature.strip()):
            raise InvalidSignature(f"x-zm-signature does not match {SETTING}")

    def challenge(self, request: RawRequest) -> dict[str, str] | None:
        data = json_object(request.body)
        if data.get("event") != VALIDATION:
            return None
        payload = data.get("payload")
        plain = payload.get("plainToken") if isinstance(payload, dict) else None
        if not isinstance(plain, str) or not plain or len(plain) > 200:
            raise InvalidInput("payload.plainToken: field required")
        secret = require_secret(self._secret, SETTING)
        return {"plainToken": plain, "encryptedToken": encrypted_token(secret, plain)}

    def parse(self, request: RawRequest) -> list[InboundEvent]:
        data = json_object(request.body)
        event = data.get("event")
        if not isinstance(event, str) or not event:
            raise InvalidInput("event: field required")
        if event not in (USER_ENDED, ENGAGEMENT_ENDED):
            return []
        stamp = data.get("event_ts")
        if isinstance(stamp, bool) or not isinstance(stamp, int) or not 0 < stamp < LATEST_MS:
            raise InvalidInput("event_ts: must be an integer (epoch milliseconds)")
        payload = data.get("payload")
        raw = payload.get("object") if isinstance(payload, dict) else None
        if not isinstance(raw, dict):
            raise InvalidInput("payload.object: must be a JSON object")
        try:
            engagement = ZoomEngagement.model_validate(raw)
        except ValidationError as error:
            raise InvalidInput(f"payload.object.{describe(error)}") from None
        if engagement.channel is not None and engagement.channel.lower() not in ("voice", "phone"):
            return []
        if event == USER_ENDED:
            agent = _agent(engagement.user_id, engagement.user_email)
            return [] if agent is None else [_user_ended(engagement, agent, stamp)]
        return _engagement_ended(engagement, stamp)


def _agent(user_id: str | None, email: str | None) -> AgentKey | None:
    if user_id:
        return AgentKey(kind="zoom_user_id", id=user_id)
    if email:
        return AgentKey(kind="email", id=email.lower())
    return None


def _utc(value: datetime | None, field: str) -> datetime | None:
    return None if value is None else moment_in_calendar(value, f"payload.object.{field}")


def _user_ended(engagement: ZoomEngagement, agent: AgentKey, stamp: int) -> CallEnded:
    ended = (
        _utc(engagement.end_time, "end_time")
        if engagement.end_time
        else _utc(engagement.date_time, "date_time")
    )
    direction = (engagement.direction or "").lower()
    return CallEnded(
        provider=PROVIDER,
        event_id=business_key(USER_ENDED, engagement.engagement_id, agent.id, str(stamp)),
        call_id=engagement.engagement_id,
        agent=agent,
        started_at=_utc(engagement.start_time, "start_time"),
        ended_at=ended,
        duration_s=engagement.talk_duration,
        hold_s=engagement.hold_duration,
        direction=direction if direction in ("inbound", "outbound") else None,
        transfers=engagement.transfer_count,
        queue=engagement.queue_name,
        tags=_dispositions(engagement),
    )


def _dispositions(engagement: ZoomEngagement) -> tuple[str, ...]:
    names = [engagement.disposition_name or ""]
    names += [d.name or d.disposition_name or "" for d in engagement.dispositions or ()]
    return tuple(dict.fromkeys(name.strip() for name in names if name.strip()))


def _engagement_ended(engagement: ZoomEngagement, stamp: int) -> list[InboundEvent]:
    tags = _dispositions(engagement)
    people = [_agent(a.user_id, a.user_email) for a in engagement.agents or ()]
    people.append(_agent(engagement.user_id, engagement.user_email))
    agents = list(dict.fromkeys(agent for agent in people if agent is not None))
    return [
        CallEnded(
            provider=PROVIDER,
            event_id=business_key(ENGAGEMENT_ENDED, engagement.engagement_id, agent.id, str(stamp)),
            call_id=engagement.engagement_id,
            agent=agent,
            tags=tags,
            queue=engagement.queue_name,
            is_update=True,
        )
        for agent in agents
    ]
