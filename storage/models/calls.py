"""Inbound provider events (the dedupe log) and the calls they describe, pseudonymised."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import json_column, now, utc_column


class InboundKind(StrEnum):
    """What a provider's event was (`inbound_events.kind`)."""

    CALL = "call"  # a call ended
    FEEDBACK = "feedback"  # a customer's feedback on a call


class InboundEvent(SQLModel, table=True):
    """One delivery from a provider, unique on (provider, event_id); processed after the ack."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id", name="uq_inbound_events_provider_event"),
        Index("ix_inbound_events_pending", "processed_at", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=32)
    event_id: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    team_id: str = Field(max_length=64)
    pseudonym: str = Field(max_length=64)
    kid: str = Field(max_length=16)
    payload: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    received_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Call(SQLModel, table=True):
    """What we know about one call, merged from every event about it."""

    __tablename__ = "calls"
    __table_args__ = (
        # The keyed hash first: a batch's calls are looked up by it (bot/checkins/service.py).
        UniqueConstraint("call_id", "provider", name="uq_calls_call_provider"),
        Index("ix_calls_pseudonym_ended", "pseudonym", "ended_at"),
        Index("ix_calls_team_ended", "team_id", "ended_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=32)
    call_id: str = Field(max_length=200)
    team_id: str = Field(max_length=64)
    pseudonym: str = Field(max_length=64)
    kid: str = Field(max_length=16)
    started_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ended_at: datetime = Field(sa_column=utc_column(nullable=False))
    duration_s: float | None = None
    direction: str | None = Field(default=None, max_length=16)
    disconnected_by: str | None = Field(default=None, max_length=16)
    transfers: int | None = None
    hold_s: float | None = None
    sentiment: float | None = None
    csat: float | None = None
    tags: list[str] = Field(default_factory=list, sa_column=json_column(nullable=False))
    queue: str | None = Field(default=None, max_length=100)
    hard: bool = False
    signals: list[str] = Field(default_factory=list, sa_column=json_column(nullable=False))
    created_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
