"""Provider-neutral events. Every telephony adapter turns its payload into these."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

Disconnect = Literal["customer", "agent", "system", "transfer", "unknown"]
Rating = Literal["good", "bad"]

# Bounds on what any provider may report. Beyond them a value is a mistake or an attack, and
# would otherwise be accepted and then fail in processing ("integer out of range").
MAX_SECONDS = 31 * 24 * 3600  # a call, a hold or a task's age: a month is already absurd
MAX_TRANSFERS = 1000


class AgentKey(BaseModel):
    """How the provider names the agent: a roster field (`aircall_user_id`, `email`, ...) and value."""

    model_config = ConfigDict(frozen=True)
    kind: str
    id: str


# NUL (PostgreSQL refuses it) and UTF-16 surrogates (no encoder stores a lone one).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Moments a call can have: anything outside is a mistake, and near the calendar's ends a
# conversion to UTC or a later `+ timedelta` overflows.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, AgentKey):
        return _has_nul(value.kind) or _has_nul(value.id)
    return False


class _Inbound(BaseModel):
    """What every adapter's output has in common. Text from outside never holds NUL:
    PostgreSQL refuses it in text and JSON alike, so the insert (and the whole group commit)
    would fail. Checked here, on the one model every provider's events are built as."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise PydanticCustomError("nul_character", "must not contain a NUL character or a lone surrogate")
        if isinstance(value, datetime):
            return _in_calendar(value)
        return value


def _in_calendar(value: datetime) -> datetime:
    try:
        moment = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        moment = None
    if moment is None or not EARLIEST <= moment < LATEST:
        raise PydanticCustomError("date_range", "must be a moment between 1970 and 2200")
    return value


class CallEnded(_Inbound):
    """A call (or a later enrichment of it: tags, sentiment, CSAT) for one agent.

    Missing facts are None, never 0. `sentiment` is the *customer's*, normalised to -1..1;
    `csat` is normalised to 0..1. `is_update` marks late signals for a call already reported.
    """

    provider: str
    event_id: str = Field(min_length=1, max_length=200)
    call_id: str = Field(min_length=1, max_length=200)
    agent: AgentKey
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = Field(None, ge=0, le=MAX_SECONDS)
    direction: str | None = Field(None, max_length=16)
    disconnected_by: Disconnect | None = None
    transfers: int | None = Field(None, ge=0, le=MAX_TRANSFERS)
    hold_s: float | None = Field(None, ge=0, le=MAX_SECONDS)
    sentiment: float | None = Field(None, ge=-1, le=1)
    csat: float | None = Field(None, ge=0, le=1)
    tags: tuple[str, ...] = ()
    queue: str | None = Field(None, max_length=100)
    is_update: bool = False


class CustomerFeedback(_Inbound):
    """A customer's rating or comment about an agent (CSAT, survey, e-mail)."""

    provider: str
    event_id: str = Field(min_length=1, max_length=200)
    agent: AgentKey
    rating: Rating | None = None
    comment: str | None = None
    source: str | None = None
    call_id: str | None = None
    customer_name: str | None = None


InboundEvent = CallEnded | CustomerFeedback
