"""Amazon Connect contact events, through Amazon EventBridge (`POST /webhooks/connect`).

An EventBridge rule on the default bus forwards Connect's events to this endpoint through an
API destination (authenticated as handlers/telephony/eventbridge.py describes). Breather reads:

- `Amazon Connect Contact Event` with `eventType` `DISCONNECTED` (the call ended) or `COMPLETED`
  (after-contact work ended): the agent (`agentInfo.agentArn`), when they were connected and
  when the call ended, the disconnect reason where present, how the contact began;
- `Contact Lens Post Call Rules Matched` and `Contact Lens Realtime Rules Matched`: the rule's
  name becomes a tag on the call (a rule for abusive language is an abuse marker).

AWS's own samples spell keys in both camel cases (`agentInfo`, `AgentInfo`), so keys are matched
without regard to case. Voice contacts only: chats, tasks and e-mails are acknowledged and
ignored, as are other event types. Contact Lens sentiment (the agent's or the customer's) is
never read: only the matched rule's name is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.errors import InvalidInput
from bot.events import MAX_SECONDS, AgentKey, CallEnded, Disconnect, InboundEvent
from handlers.telephony.base import RawRequest, business_key, moment_in_calendar
from handlers.telephony.eventbridge import envelope, verify_connection

PROVIDER = "connect"
SETTING = "CONNECT_EVENTBRIDGE_SECRET"
CONTACT_EVENT = "amazon connect contact event"
LENS_RULES = frozenset({"contact lens post call rules matched", "contact lens realtime rules matched"})
CALL_ENDS = frozenset({"DISCONNECTED", "COMPLETED"})
MAX_ID = 200

_DISCONNECT: dict[str, Disconnect] = {
    "CUSTOMER_DISCONNECT": "customer",
    "AGENT_DISCONNECT": "agent",
    "THIRD_PARTY_DISCONNECT": "unknown",
    "TELECOM_PROBLEM": "system",
    "CONTACT_FLOW_DISCONNECT": "system",
    "EXPIRED": "system",
    "BARGED": "system",
    "OTHER": "unknown",
}
_TRANSFERRED = frozenset({"TRANSFER", "QUEUE_TRANSFER", "EXTERNAL_OUTBOUND"})


def _lower(value: Any) -> Any:
    """Keys in lower case, all the way down: `AgentInfo` and `agentInfo` read the same."""
    if isinstance(value, dict):
        return {str(key).lower(): _lower(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lower(item) for item in value]
    return value


def _text(detail: dict[str, Any], key: str, field: str, *, required: bool = False) -> str | None:
    value = detail.get(key)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"detail.{field}: field required")
        return None
    if not isinstance(value, str) or len(value) > MAX_ID:
        raise InvalidInput(f"detail.{field}: must be text of at most {MAX_ID} characters")
    return value


def _time(detail: dict[str, Any], key: str, field: str) -> datetime | None:
    value = _text(detail, key, field)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"detail.{field}: not an ISO-8601 timestamp") from None
    return moment_in_calendar(moment, f"detail.{field}")


def arn_tail(arn: str | None, kind: str, field: str) -> str | None:
    """`arn:aws:connect:…:instance/{instance}/agent/{id}` -> the id after `/{kind}/`."""
    if arn is None:
        return None
    marker = f"/{kind}/"
    if not arn.startswith("arn:") or marker not in arn:
        raise InvalidInput(f"detail.{field}: not an Amazon Connect {kind} ARN")
    tail = arn.rsplit(marker, 1)[1]
    if not tail or "/" in tail:
        raise InvalidInput(f"detail.{field}: not an Amazon Connect {kind} ARN")
    return tail


class ConnectAdapter:
    provider = PROVIDER
    accepted_status = 200
    media_types: tuple[str, ...] = ("application/json",)

    def __init__(self, secret: str | None) -> None:
        self._secret = secret

    def verify(self, request: RawRequest) -> None:
        verify_connection(request, self._secret, SETTING)

    def parse(self, request: RawRequest) -> list[InboundEvent]:
        event = envelope(request)
        kind = event.detail_type.strip().lower()
        detail = _lower(event.detail)
        if kind == CONTACT_EVENT:
            return _contact_event(detail)
        if kind in LENS_RULES:
            return _rule_matched(detail)
        return []


def _contact_event(detail: dict[str, Any]) -> list[InboundEvent]:
    event_type = _text(detail, "eventtype", "eventType", required=True)
    if event_type not in CALL_ENDS:
        return []
    contact = _text(detail, "contactid", "contactId", required=True)
    channel = _text(detail, "channel", "channel")
    if channel is not None and channel.upper() != "VOICE":
        return []
    agent_info = detail.get("agentinfo")
    if agent_info is None:
        return []  # nobody took it (abandoned in the queue, ended in the flow)
    if not isinstance(agent_info, dict):
        raise InvalidInput("detail.agentInfo: must be a JSON object")
    agent = arn_tail(
        _text(agent_info, "agentarn", "agentInfo.agentArn", required=True), "agent", "agentInfo.agentArn"
    )
    connected = _time(agent_info, "connectedtoagenttimestamp", "agentInfo.connectedToAgentTimestamp")
    ended = _time(detail, "disconnecttimestamp", "disconnectTimestamp")
    duration = None
    if connected is not None and ended is not None:
        span = (ended - connected).total_seconds()
        if not 0 <= span <= MAX_SECONDS:
            raise InvalidInput(
                "detail.disconnectTimestamp: not between agentInfo.connectedToAgentTimestamp"
                " and a month after it"
            )
        duration = span
    reason = (_text(detail, "disconnectreason", "disconnectReason") or "").upper()
    method = (_text(detail, "initiationmethod", "initiationMethod") or "").upper()
    queue = detail.get("queueinfo")
    queue_arn = _text(queue, "queuearn", "queueInfo.queueArn") if isinstance(queue, dict) else None
    return [
        CallEnded(
            provider=PROVIDER,
            event_id=business_key(contact or "", event_type),  # contact: required above
            call_id=contact,
            agent=AgentKey(kind="connect_user_id", id=agent or ""),
            started_at=connected,
            ended_at=ended,
            duration_s=duration,
            direction="inbound"
            if method == "INBOUND"
            else "outbound"
            if method in ("OUTBOUND", "CALLBACK")
            else None,
            disconnected_by=_DISCONNECT.get(reason) if reason else None,
            transfers=1 if method in _TRANSFERRED else None,
            queue=arn_tail(queue_arn, "queue", "queueInfo.queueArn") if queue_arn else None,
            is_update=event_type == "COMPLETED",
        )
    ]


def _rule_matched(detail: dict[str, Any]) -> list[InboundEvent]:
    rule = _text(detail, "rulename", "ruleName", required=True)
    contact = arn_tail(_text(detail, "contactarn", "contactArn", required=True), "contact", "contactArn")
    agent = arn_tail(_text(detail, "agentarn", "agentArn"), "agent", "agentArn")
    if agent is None or contact is None or rule is None:
        return []
    return [
        CallEnded(
            provider=PROVIDER,
            event_id=business_key(contact, "rule", rule),
            call_id=contact,
            agent=AgentKey(kind="connect_user_id", id=agent),
            tags=(rule,),
            is_update=True,
        )
    ]
