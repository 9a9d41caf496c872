"""Provider-neutral events. Every telephony adapter turns its payload into these."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Disconnect = Literal["customer", "agent", "system", "transfer", "unknown"]
Rating = Literal["good", "bad"]


class AgentKey(BaseModel):
    """How the provider names the agent: a roster field (`aircall_user_id`, `email`, ...) and value."""

    model_config = ConfigDict(frozen=True)
    kind: str
    id: str


class CallEnded(BaseModel):
    """A call (or a later enrichment of it: tags, sentiment, CSAT) for one agent.

    Missing facts are None, never 0. `sentiment` is the *customer's*, normalised to -1..1;
    `csat` is normalised to 0..1. `is_update` marks late signals for a call already reported.
    """

    model_config = ConfigDict(frozen=True)
    provider: str
    event_id: str = Field(min_length=1, max_length=200)
    call_id: str = Field(min_length=1, max_length=200)
    agent: AgentKey
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = Field(None, ge=0)
    direction: str | None = None
    disconnected_by: Disconnect | None = None
    transfers: int | None = Field(None, ge=0)
    hold_s: float | None = Field(None, ge=0)
    sentiment: float | None = Field(None, ge=-1, le=1)
    csat: float | None = Field(None, ge=0, le=1)
    tags: tuple[str, ...] = ()
    queue: str | None = None
    is_update: bool = False


class CustomerFeedback(BaseModel):
    """A customer's rating or comment about an agent (CSAT, survey, e-mail)."""

    model_config = ConfigDict(frozen=True)
    provider: str
    event_id: str = Field(min_length=1, max_length=200)
    agent: AgentKey
    rating: Rating | None = None
    comment: str | None = None
    source: str | None = None
    call_id: str | None = None
    customer_name: str | None = None


InboundEvent = CallEnded | CustomerFeedback
