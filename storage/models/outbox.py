"""The outbox: every outbound chat-platform call, written with the decision that caused it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from storage.types import json_column, now, utc_column


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxKind(StrEnum):
    """Which platform call a row makes (bot/delivery.py `deliver`)."""

    DIRECT = "direct"
    CHANNEL = "channel"
    UPDATE = "update"
    FILE = "file"
    HOME = "home"
    DELETE = "delete"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # "Is an earlier message of this conversation still unfinished?", asked by every claim.
        Index("ix_outbox_conversation", "channel_key", "status", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=32)
    channel_key: str = Field(max_length=200)
    target: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    payload: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_error: str | None = Field(default=None, max_length=500)
    result: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    created_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
