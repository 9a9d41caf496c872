"""Events delivered by an Amazon EventBridge API destination (Genesys Cloud, Amazon Connect).

EventBridge signs nothing: the rule's target is an API destination whose *connection* adds a
credential to every request. Breather accepts either form a connection can send:

- API key: key name `x-breather-key`, value the secret (`x-breather-key: <secret>`);
- Basic: user name `breather`, password the secret.

Both compared in constant time. The body is the EventBridge envelope: `id` (stable across
EventBridge's own retries), `detail-type`, `source`, `time`, `detail` (the platform's event).
An API destination must be answered within 5 s; EventBridge retries for up to 24 h
(185 attempts) by default, so duplicates are normal.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from bot.errors import InvalidInput, InvalidSignature
from handlers.telephony.base import RawRequest, json_object, require_secret, same, text_or_none

KEY_HEADER = "x-breather-key"
BASIC_USER = "breather"


def verify_connection(request: RawRequest, secret: str | None, setting: str) -> None:
    """The credential an EventBridge connection adds, checked against `setting`'s value."""
    expected = require_secret(secret, setting)
    sent = request.headers.get(KEY_HEADER)
    if sent is not None:
        if not same(expected, sent.strip()):
            raise InvalidSignature(f"{KEY_HEADER} does not match {setting}")
        return
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise InvalidSignature(f"missing {KEY_HEADER} header or Basic credentials")
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidSignature("malformed Basic credentials") from None
    # Both halves are compared, so a wrong user name costs the same time as a wrong password.
    if not (same(BASIC_USER, user) & same(expected, password)):
        raise InvalidSignature(f"Basic credentials do not match {setting}")


@dataclass(frozen=True)
class Envelope:
    id: str | None
    detail_type: str
    source: str
    time: str | None
    detail: dict[str, Any]


def envelope(request: RawRequest) -> Envelope:
    data = json_object(request.body)
    detail_type = data.get("detail-type")
    if not isinstance(detail_type, str) or not detail_type:
        raise InvalidInput("detail-type: field required")
    detail = data.get("detail")
    if not isinstance(detail, dict):
        raise InvalidInput("detail: must be a JSON object")
    source = data.get("source")
    return Envelope(
        id=text_or_none(data.get("id")),
        detail_type=detail_type,
        source=source if isinstance(source, str) else "",
        time=text_or_none(data.get("time")),
        detail=detail,
    )
