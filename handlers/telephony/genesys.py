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

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from bot.errors import InvalidInput
from bot.events import MAX_SECONDS, AgentKey, CallEnded, Disconnect, InboundEvent
from handlers.telephony.base import RawRequest, business_key, describe, epoch, moment_in_calendar
from handlers.telephony.eventbridge import envelope, verify_connection

PROVIDER = "genesys"
SETTING = "GENESYS_EVENTBRIDGE_SECRET"
TOPIC_PREFIX = "v2.detail.events.conversation."
CALL_END = "user.end"
WRAP_UP = "acw"
MAX_MS = MAX_SECONDS * 1000
# A number, never a string or a boolean (pydantic would read "1e5" and true as numbers).
Milliseconds = Annotated[float, Strict(), Field(ge=0, le=MAX_MS)]

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
    eventTime: Any = None  # epoch ms or ISO-8601: read by `moment`, which names the field
    direction: str | None = Field(None, max_length=20)
    disconnectType: str | None = Field(None, max_length=40)
    queueId: str | None = Field(None, max_length=100)
    interactingDurationMs: Milliseconds | None = None
    heldDurationMs: Milliseconds | None = None
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


def moment(value: Any, field: str) -> datetime | None:
    """Genesys detail events stamp eventTime in epoch milliseconds; ISO-8601 is taken too.
    Digits are ASCII only: `str.isdigit()` and `float()` also read other scripts' digits
    ("١٢٣", fullwidth "９９"), and a boolean is no time."""
    if value is None or value == "":
        return None
    where = f"detail.eventBody.{field}"
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(value)
        if isinstance(value, str) and not (value.isascii() and value.replace(".", "", 1).isdigit()):
            return moment_in_calendar(datetime.fromisoformat(value.replace("Z", "+00:00")), where)
        parsed = epoch(value)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(f"{where}: not a timestamp") from None
    return None if parsed is None else moment_in_calendar(parsed, where)


def _call(body: GenesysBody, kind: str, user_id: str) -> CallEnded:
    common: dict[str, Any] = {
        "provider": PROVIDER,
        # Genesys may publish one detail event twice under different EventBridge ids: the
        # business key (conversation, agent, topic, session) is what stays the same.
        "event_id": business_key(body.conversationId, user_id, kind, *filter(None, [body.sessionId])),
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
        ended_at=moment(body.eventTime, "eventTime"),  # only the end's time is read
        duration_s=None if body.interactingDurationMs is None else body.interactingDurationMs / 1000,
        hold_s=None if body.heldDurationMs is None else body.heldDurationMs / 1000,
        direction=direction if direction in ("inbound", "outbound") else None,
        disconnected_by=_DISCONNECT.get(disconnect) if disconnect else None,
        transfers=1 if disconnect == "transfer" else None,
        queue=body.queueId,
    )
