"""Dialpad call events (`POST /webhooks/dialpad`).

With a secret on the webhook, Dialpad sends each event as a JWT signed HS256 with that secret;
the decoded payload is the call event (`call_id`, `state`, `target`, `date_*` in epoch ms,
`duration` in ms of talk, `labels`, `csat_score`, ...). Without a secret Dialpad sends plain
JSON, which is never accepted. One event per state: `hangup` reports the call, `csat` and
`dispositions` enrich it later. Dialpad allows 5 s, retries 5xx three times and never retries a 4xx.

Dialpad documents the body as a JWT but not the Content-Type that carries it, so any media type
is accepted: the signature is the authentication, the media type is not. A body that is no JWT
at all (not three base64url segments) is answered 415; plain JSON, what a webhook without a
secret sends, 401.
"""

from __future__ import annotations

import logging
import re
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import InvalidInput, InvalidSignature
from bot.events import MAX_SECONDS, AgentKey, CallEnded, InboundEvent
from handlers.boundary import load_json
from handlers.telephony.base import Notes, RawRequest, describe, epoch, require_secret
from handlers.telephony.csat import normalised
from handlers.telephony.emotion import without_agent_emotion

log = logging.getLogger(__name__)

PROVIDER = "dialpad"
ALGORITHM = "HS256"
MAX_AGE_S = 300
MAX_EXP_AHEAD_S = 3600  # a token with only an exp is replayable until then
LEEWAY_S = 30  # clock skew between Dialpad and us, for exp/nbf/iat
CALL_END = "hangup"
ENRICHMENTS = frozenset({"csat", "dispositions"})
# A compact JWS: header.payload.signature, each base64url without padding (the signature may be
# empty, which the signature check then refuses).
_COMPACT_JWS = re.compile(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class _Target(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int | str | None = None
    type: str | None = None


class DialpadCall(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    call_id: int | str
    state: str = Field(min_length=1, max_length=50)
    direction: str | None = Field(None, max_length=20)
    date_started: float | None = None
    date_ended: float | None = None
    duration: float | None = Field(None, ge=0, le=MAX_SECONDS * 1000)  # milliseconds of talk
    is_transferred: bool | None = None
    labels: list[str] | None = Field(None, max_length=50)
    csat_score: Any = None
    target: _Target | None = None
    event_timestamp: int | None = None


class DialpadAdapter:
    provider = PROVIDER
    accepted_status = 200
    media_types: tuple[str, ...] = ()  # any: see the module docstring

    def __init__(self, secret: str | None, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._clock = clock
        self.notes = Notes(log)
        if secret and len(secret.encode()) < 32:
            log.warning("DIALPAD_WEBHOOK_SECRET is shorter than the 32 bytes HS256 calls for")

    def verify(self, request: RawRequest) -> None:
        self._claims(request)

    def parse(self, request: RawRequest) -> list[InboundEvent]:
        # Decoded again (not cached between calls): the adapter is shared by concurrent requests.
        claims = self._claims(request)
        media = re.sub(r"[^\w.+/-]", "?", request.media_type[:60])
        if media != "application/jwt":
            self.notes.once(
                f"media:{media}",
                f"Dialpad sent a signed event as {media or 'no Content-Type'}; accepted, since Dialpad "
                "does not document the media type (logged once)",
            )
        if request.body.lstrip().startswith(b'"'):
            self.notes.once(
                "json-string", "Dialpad sent its JWT inside a JSON string; unwrapped (logged once)"
            )
        state = claims.get("state")
        if not isinstance(state, str) or not state:
            raise InvalidInput("state: field required")
        if state != CALL_END and state not in ENRICHMENTS:
            return []
        try:
            event = DialpadCall.model_validate(claims)
            target = event.target
            if target is None or target.type != "user" or target.id is None:
                return []  # a call centre, office or ring group leg, not one agent's
            return [_call(event, str(target.id))]
        except ValidationError as error:
            raise InvalidInput(describe(error)) from None

    def _claims(self, request: RawRequest) -> dict[str, Any]:
        secret = require_secret(self._secret, "DIALPAD_WEBHOOK_SECRET")
        token = _token(request.body)
        try:
            with warnings.catch_warnings():
                # A short secret is reported once at start-up, not on every request.
                warnings.simplefilter("ignore", InsecureKeyLengthWarning)
                claims: dict[str, Any] = jwt.decode(token, secret, algorithms=[ALGORITHM], leeway=LEEWAY_S)
        except jwt.InvalidSignatureError:
            raise InvalidSignature("JWT signature does not match DIALPAD_WEBHOOK_SECRET") from None
        except jwt.InvalidAlgorithmError:
            raise InvalidSignature(f"JWT must be signed with {ALGORITHM}") from None
        except jwt.ExpiredSignatureError:
            raise InvalidSignature("JWT has expired") from None
        except jwt.DecodeError:
            raise InvalidInput("body is not a valid JWT", status=400) from None
        except (jwt.PyJWTError, RecursionError):
            # Not-yet-valid or malformed time claims, an unusable key, and similar.
            raise InvalidSignature("JWT claims are not acceptable") from None
        issued = claims.get("iat")
        # PyJWT also takes "12" (a string) for iat, which the age check would then skip.
        if "iat" in claims and (isinstance(issued, bool) or not isinstance(issued, (int, float))):
            raise InvalidSignature("JWT iat must be a number of seconds")
        if isinstance(issued, (int, float)) and self._clock() - issued > MAX_AGE_S:
            raise InvalidSignature("JWT was issued more than 5 minutes ago")
        expires = claims.get("exp")  # PyJWT has checked it is a number and not past
        if issued is None:
            # Without either time claim a token would be good forever, and so could be replayed
            # at any age; an exp alone must be near, or it is the same thing.
            if expires is None:
                raise InvalidSignature("JWT needs an iat or exp claim")
            if expires - self._clock() > MAX_EXP_AHEAD_S:
                raise InvalidSignature("JWT exp is too far ahead (at most an hour)")
        return without_agent_emotion(claims)  # type: ignore[no-any-return]


def _token(body: bytes) -> bytes:
    """The JWT in the body, whatever the media type said; a JSON string holding one is unwrapped."""
    token = body.strip()
    if not token:
        raise InvalidSignature("missing JWT body")
    if token.startswith(b'"'):
        try:
            unwrapped = load_json(token)
        except InvalidInput:
            unwrapped = None
        if isinstance(unwrapped, str):
            token = unwrapped.strip().encode()
    if token.startswith(b"{"):
        raise InvalidSignature(
            "unsigned JSON event: set the same secret on the Dialpad webhook and in DIALPAD_WEBHOOK_SECRET"
        )
    if not _COMPACT_JWS.fullmatch(token):
        raise InvalidInput("body is not a JWT (header.payload.signature)", status=415)
    return token


def _moment(value: float | None, field: str) -> datetime | None:
    try:
        return epoch(value)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(f"{field}: not a Unix timestamp") from None


def _csat(value: Any) -> float | None:
    """Dialpad's 1-5 survey score, normalised to 0..1; anything else is unknown."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        score = float(value)
    except ValueError:
        return None
    return normalised(score, 5) if 1 <= score <= 5 else None


def _call(event: DialpadCall, user_id: str) -> CallEnded:
    stamp = event.event_timestamp if event.event_timestamp is not None else event.date_ended
    stamp_text = "" if stamp is None else f"{stamp:.0f}" if isinstance(stamp, float) else str(stamp)
    common: dict[str, Any] = {
        "provider": PROVIDER,
        "event_id": f"{event.call_id}:{event.state}:{stamp_text}".rstrip(":"),
        "call_id": str(event.call_id),
        "agent": AgentKey(kind="dialpad_user_id", id=user_id),
        "started_at": _moment(event.date_started, "date_started"),
        "ended_at": _moment(event.date_ended, "date_ended"),
        "csat": _csat(event.csat_score),
        "tags": tuple(dict.fromkeys(label.strip() for label in event.labels or () if label.strip())),
    }
    if event.state != CALL_END:
        return CallEnded(**common, is_update=True)
    return CallEnded(
        **common,
        duration_s=None if event.duration is None else event.duration / 1000,
        direction=event.direction if event.direction in ("inbound", "outbound") else None,
        transfers=None if event.is_transferred is None else int(event.is_transferred),
    )
