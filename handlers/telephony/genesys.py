"""Genesys Cloud conversation detail events, through Amazon EventBridge (`POST /webhooks/genesys`).

Genesys publishes the topics chosen in its "Amazon EventBridge Source" integration to a partner
event source; an EventBridge rule forwards them to this endpoint through an API destination
(authenticated as handlers/telephony/eventbridge.py describes). The envelope's `detail` holds
`topicName` and `eventBody`. Breather reads two topics of
`v2.detail.events.conversation.{id}.…`:

- `user.end`: the agent's part of the conversation ended (`userId`, `interactingDurationMs`,
  `heldDurationMs`, `disconnectType` relative to the agent, `direction`, `queueId`): the call;
- `acw`: after-call work ended, with the wrap-up code (`wrapupCode`, an id): a late tag.

`customer.end` and `acd.end` name no agent (the customer's and the queue's parts): acknowledged
and ignored, as is every other topic. Either of the two may arrive first, twice, or alone; the
events are merged per conversation and agent. Genesys' speech and text analytics (sentiment,
empathy scores) are never subscribed to or read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import InvalidInput
from bot.events import MAX_SECONDS, AgentKey, CallEnded, Disconnect, InboundEvent
from handlers.telephony.base import RawRequest, describe, epoch
from handlers.telephony.eventbridge import envelope, verify_connection

PROVIDER = "genesys"
SETTING = "GENESYS_EVENTBRIDGE_SECRET"
TOPIC_PREFIX = "v2.detail.events.conversation."
CALL_END = "user.end"
WRAP_UP = "acw"
MAX_MS = MAX_SECONDS * 1000

# disconnectType on the agent's own participant, in the provider-neutral words.
_DISCONNECT: dict[str, Disconnect] = {
    "peer": "customer",  # another participant (the customer) ended it
    "client": "agent",  # the agent, in the Genesys Cloud UI
    "endpoint": "agent",  # the agent's phone or browser
    "transfer": "transfer",
    "system": "system",
    "error": "system",
    "timeout": "system",
    "transport.failure": "system",
    "other": "unknown",
}


class GenesysBody(BaseModel):
    """The fields of UserEndEvent and AcwEvent Breather reads; everything else is ignored."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    conversationId: str = Field(min_length=1, max_length=100)
    userId: str | None = Field(None, max_length=100)
    sessionId: str | None = Field(None, max_length=100)
    eventTime: int | float | str | None = None
    direction: str | None = Field(None, max_length=20)
    disconnectType: str | None = Field(None, max_length=40)
    queueId: str | None = Field(None, max_length=100)
    interactingDurationMs: float | None = Field(None, ge=0, le=MAX_MS)
    heldDurationMs: float | None = Field(None, ge=0, le=MAX_MS)
    wrapupCode: str | None = Field(None, max_length=100)


class GenesysAdapter:
    provider = PROVIDER
    accepted_status = 200
    media_types: tuple[str, ...] = ("application/json",)

    def __init__(self, secret: str | None) -> None:
        self._secret = secret

    def verify(self, request: RawRequest) -> None:
        verify_connection(request, self._secret, SETTING)

    def parse(self, request: RawRequest) -> list[InboundEvent]:
        event = envelope(request)
        topic = event.detail.get("topicName") or event.detail_type
        if not isinstance(topic, str) or not topic.startswith(TOPIC_PREFIX):
            return []
        kind = _kind(topic)
        if kind not in (CALL_END, WRAP_UP):
            return []
        raw = event.detail.get("eventBody")
        if not isinstance(raw, dict):
            raise InvalidInput("detail.eventBody: must be a JSON object")
        try:
            body = GenesysBody.model_validate(raw)
        except ValidationError as error:
            raise InvalidInput(f"detail.eventBody.{describe(error)}") from None
        if not body.userId:
            return []  # not one agent's part of the conversation
        return [_call(body, kind, body.userId)]


def _kind(topic: str) -> str:
    """`v2.detail.events.conversation.{id}.user.end` -> `user.end` (the id holds no dots)."""
    rest = topic.removeprefix(TOPIC_PREFIX)
    _, _, kind = rest.partition(".")
    return kind


def moment(value: int | float | str | None, field: str) -> datetime | None:
    """Genesys detail events stamp eventTime in epoch milliseconds; ISO-8601 is taken too."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str) and not value.replace(".", "", 1).isdigit():
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return epoch(value)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(f"detail.eventBody.{field}: not a timestamp") from None


def _call(body: GenesysBody, kind: str, user_id: str) -> CallEnded:
    ended = moment(body.eventTime, "eventTime")
    common: dict[str, Any] = {
        "provider": PROVIDER,
        # Genesys may publish one detail event twice under different EventBridge ids: the
        # business key (conversation, agent, topic, session) is what stays the same.
        "event_id": f"{body.conversationId}:{user_id}:{kind}:{body.sessionId or ''}".rstrip(":"),
        "call_id": body.conversationId,
        "agent": AgentKey(kind="genesys_user_id", id=user_id),
    }
    if kind == WRAP_UP:
        code = (body.wrapupCode or "").strip()
        return CallEnded(**common, tags=(code,) if code else (), is_update=True)
    direction = (body.direction or "").lower()
    disconnect = (body.disconnectType or "").lower()
    if disconnect.startswith("transfer"):
        disconnect = "transfer"
    return CallEnded(
        **common,
        ended_at=ended,
        duration_s=None if body.interactingDurationMs is None else body.interactingDurationMs / 1000,
        hold_s=None if body.heldDurationMs is None else body.heldDurationMs / 1000,
        direction=direction if direction in ("inbound", "outbound") else None,
        disconnected_by=_DISCONNECT.get(disconnect) if disconnect else None,
        transfers=1 if disconnect == "transfer" else None,
        queue=body.queueId,
    )
