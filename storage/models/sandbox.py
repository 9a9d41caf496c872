"""What the sandbox messenger would have sent, kept for the demo console and terminal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from storage.types import json_column, now, utc_column


class SandboxMessage(SQLModel, table=True):
    __tablename__ = "sandbox_messages"
    id: int | None = Field(default=None, primary_key=True)
    conversation: str = Field(max_length=200, index=True)
    ts: str = Field(max_length=32, unique=True)
    kind: str = Field(max_length=32)
    payload: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    created_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
