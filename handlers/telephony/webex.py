"""Webex Contact Center subscription webhooks (`POST /webhooks/webex`).

A Contact Center *subscription* (Subscriptions API, `POST /v1/subscriptions` on the region's
`api.wxcc-…cisco.com`) names the event types, the destination URL and a secret. Each delivery
carries `X-Webex-Signature`: the hex HMAC-SHA256 of the raw body keyed with that secret
(a `sha256=` prefix is accepted too), compared in constant time. The body follows CloudEvents:
`id`, `type`, `source`, `orgId`, `createdTime`, `data`. Cisco states that deliveries may come out
of order and more than once.

- `task:ended`: the task (call) ended: the agent (`data.owner`, else `data.agentId`), who
  ended it (`terminatingParty`), the queue and the direction; a task that re-enters the queue
  because the agent did not answer (RONA, ended by the System) is not a call the agent had.
- `task:wrapup` *(name unconfirmed)*: the wrap-up reason the agent chose (`wrapUpReason`,
  else `auxCodeId`): a late tag.

Voice (`channelType` `telephony`) only. Cisco's AI analytics (agent sentiment, "agent
wellness" or emotion scores) are never read: the body passes through
handlers/telephony/emotion.py first, and only the fields above are looked at.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from bot.errors import InvalidInput, InvalidSignature
from bot.events import MAX_SECONDS, AgentKey, CallEnded, Disconnect, InboundEvent
from handlers.telephony.base import (
    RawRequest,
    business_key,
    epoch,
    json_object,
    moment_in_calendar,
    require_secret,
    same,
)

PROVIDER = "webex"
SETTING = "WEBEX_WEBHOOK_SECRET"
SIGNATURE = "x-webex-signature"
ENDED = "task:ended"
WRAP_UP = frozenset({"task:wrapup", "task:wrapped_up"})
MAX_TEXT = 200
_PARTY: dict[str, Disconnect] = {"customer": "customer", "agent": "agent", "system": "system"}


def sign(secret: str, body: bytes) -> str:
    """The X-Webex-Signature for `body`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _text(data: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"data.{key}: field required")
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise InvalidInput(f"data.{key}: must be text of at most {MAX_TEXT} characters")
    return value


def _seconds(data: dict[str, Any], key: str) -> float | None:
    """Webex reports durations in milliseconds."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_SECONDS * 1000:
        raise InvalidInput(f"data.{key}: must be milliseconds between 0 and a month")
    return float(value) / 1000


def _moment(data: dict[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    moment = None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            moment = epoch(value)
        elif isinstance(value, str):
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        pass
    if moment is None:
        raise InvalidInput(f"data.{key}: not a timestamp")
    return moment_in_calendar(moment, f"data.{key}")


class WebexAdapter:
    provider = PROVIDER
    accepted_status = 200
    media_types: tuple[str, ...] = ("application/json",)

    def __init__(self, secret: str | None) -> None:
        self._secret = secret

    def verify(self, request: RawRequest) -> None:
        secret = require_secret(self._secret, SETTING)
        sent = request.headers.get(SIGNATURE, "").strip()
        if not sent:
            raise InvalidSignature("missing X-Webex-Signature")
        if not same(sign(secret, request.body), sent.removeprefix("sha256=").lower()):
            raise InvalidSignature(f"X-Webex-Signature does not match {SETTING}")

    def parse(self, request: RawRequest) -> list[InboundEvent]:
        body = json_object(request.body)
        kind = body.get("type")
        if not isinstance(kind, str) or not kind:
            raise InvalidInput("type: field required")
        if kind != ENDED and kind not in WRAP_UP:
            return []
        data = body.get("data")
        if not isinstance(data, dict):
            raise InvalidInput("data: must be a JSON object")
        task = _text(data, "taskId", required=True) or ""
        channel = _text(data, "channelType")
        if channel is not None and channel.lower() not in ("telephony", "voice"):
            return []
        agent = _text(data, "owner") or _text(data, "agentId")
        if agent is None:
            return []  # ended before any agent had it (abandoned, in the flow)
        common: dict[str, Any] = {
            "provider": PROVIDER,
            "call_id": task,
            "agent": AgentKey(kind="webex_agent_id", id=agent),
        }
        if kind in WRAP_UP:
            reason = _text(data, "wrapUpReason") or _text(data, "auxCodeId")
            return [
                CallEnded(
                    **common,
                    event_id=business_key(task, agent, "wrapup"),
                    tags=(reason,) if reason else (),
                    is_update=True,
                )
            ]
        party = (_text(data, "terminatingParty") or "").lower()
        reason = (_text(data, "reason") or "").lower()
        if party == "system" and "rona" in reason:
            return []  # rang on the agent unanswered and went back to the queue
        direction = (_text(data, "direction") or "").lower()
        return [
            CallEnded(
                **common,
                event_id=business_key(task, agent, "ended"),
                started_at=_moment(data, "connectedTime"),
                ended_at=_moment(data, "endedTime") or _moment(data, "createdTime"),
                duration_s=_seconds(data, "connectedDuration"),
                hold_s=_seconds(data, "holdDuration"),
                direction=direction if direction in ("inbound", "outbound") else None,
                disconnected_by=_PARTY.get(party) if party else None,
                queue=_text(data, "queueId"),
            )
        ]
