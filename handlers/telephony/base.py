"""What every telephony adapter provides. To add a provider: write a module with a class that
satisfies `TelephonyAdapter`, keep a realistic payload in tests/fixtures/<provider>/, and add
it to `build_adapters()` in handlers/telephony/registry.py.

What the contact-centre platforms (Genesys Cloud, Amazon Connect, Zoom, Webex) added to that
shape, each still one module:
- one call arrives as several events (an end, after-call work, a wrap-up code, a rule match),
  in any order and more than once: parse each into a `CallEnded` keyed by the platform's call
  id (`call_id`) and a stable business key (`event_id`), late facts as `is_update`; intake
  stores each key once and merges a call's facts per agent, and a call gets one check-in;
- a platform that authenticates by a shared credential rather than a signature (EventBridge
  API destinations) verifies it in constant time like a signature (eventbridge.py);
- a platform that also sends verified requests wanting an answer of their own (Zoom's URL
  validation) implements `Challenged`;
- REST clients for breaks get their bearer token from oauth.py (client credentials,
  account credentials or a refresh token) or sign with sigv4.py (AWS).

Rules: an unset secret refuses everything (InvalidSignature), never "accept unsigned";
verify on the raw bytes before parsing; pass every decoded payload through
`emotion.without_agent_emotion` before reading a field (`json_object` does it); bad input
raises InvalidInput with the HTTP status to answer, naming the sender's field (times through
`moment_in_calendar`, keys through `business_key`, so that a refusal never names a field of
Breather's own, like `ended_at`); events the product does not use parse to an empty list
(acknowledged, ignored).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import ValidationError

from bot.errors import InvalidInput, InvalidSignature
from bot.events import EARLIEST, LATEST, InboundEvent
from handlers.boundary import load_json_object
from handlers.telephony.emotion import without_agent_emotion


@dataclass(frozen=True)
class RawRequest:
    path: str
    public_url: str  # the URL the provider called, rebuilt from BREATHER_PUBLIC_URL
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class TelephonyAdapter(Protocol):
    provider: str
    accepted_status: int  # what the provider expects on success (Twilio: 204)
    media_types: tuple[str, ...]  # accepted Content-Types, anything else answered 415; () = any

    def verify(self, request: RawRequest) -> None: ...

    def parse(self, request: RawRequest) -> list[InboundEvent]: ...


@runtime_checkable
class Challenged(Protocol):
    """An adapter whose provider also sends verified requests that want an answer of their own
    rather than an event stored (Zoom's endpoint URL validation). Called after `verify`;
    returns the JSON body to answer with 200, or None for an ordinary event."""

    def challenge(self, request: RawRequest) -> dict[str, str] | None: ...


class Notes:
    """Readings Breather makes where a provider's documentation is silent (a media type it does
    not name, a body it does not promise), logged once each per adapter, so once per process:
    enough for an operator to notice, never a line per request, and never request content."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def once(self, key: str, message: str) -> None:
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
        self._logger.info(message)


def require_media_type(request: RawRequest, allowed: tuple[str, ...]) -> None:
    if allowed and request.media_type not in allowed:
        raise InvalidInput(f"Content-Type must be {' or '.join(allowed)}", status=415)


def aware(value: datetime | None) -> datetime | None:
    """Timestamps without a zone are taken as UTC."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before the calendar in UTC
        raise InvalidInput("a timestamp is outside the calendar") from None


def moment_in_calendar(value: datetime, field: str) -> datetime:
    """`value` in UTC (no zone: taken as UTC), or InvalidInput naming `field` when it is not a
    moment a call can have: the domain's range, checked here so that the 422 names the
    sender's field rather than `ended_at`, and before a far date's offset overflows."""
    try:
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):  # 9999-12-31T23:59:59-14:00 is past the calendar in UTC
        moment = None
    if moment is None or not EARLIEST <= moment < LATEST:
        raise InvalidInput(f"{field}: must be a moment between {EARLIEST.year} and {LATEST.year}")
    return moment


MAX_KEY = 200  # CallEnded.event_id's limit


def business_key(*parts: str) -> str:
    """An event's idempotency key from the parts that identify it, joined with ':'. Each part
    is within its field's limit, but together they may not be: a longer key is replaced by its
    SHA-256, the same for every delivery of the event (intake stores keys only as keyed
    tokens anyway), so a duplicate stays a duplicate and the 422 never names `event_id`, a
    field the sender never sent."""
    key = ":".join(parts)
    if len(key) <= MAX_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def require_secret(secret: str | None, setting: str) -> str:
    if not secret:
        raise InvalidSignature(f"this webhook is disabled until {setting} is set")
    return secret


def same(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time comparison of two secrets or signatures."""
    left = a.encode() if isinstance(a, str) else a
    right = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


def json_object(body: bytes) -> dict[str, Any]:
    data = load_json_object(body)  # the boundary's rules: depth, numbers, text (handlers/boundary.py)
    # Agent emotion data is dropped before any field is read (handlers/telephony/emotion.py).
    cleaned: dict[str, Any] = without_agent_emotion(data)
    return cleaned


def describe(error: ValidationError) -> str:
    """The first problem, naming the field: `ended_at: Input should be a valid datetime`."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def epoch(value: Any) -> datetime | None:
    """Unix seconds (or milliseconds, when the number is that large) to aware UTC."""
    if value is None or value == "":
        return None
    number = float(value)
    if number > 10**11:
        number /= 1000
    return datetime.fromtimestamp(number, UTC)


def text_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
