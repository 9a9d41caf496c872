"""Teams and agents, synced from breather.yml; chat addresses cached from the platforms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import json_column, now, utc_column


class Team(SQLModel, table=True):
    __tablename__ = "teams"
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    timezone: str = Field(max_length=64)
    language: str = Field(max_length=16)
    channel: str | None = Field(default=None, max_length=64)
    active: bool = True
    updated_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))


class Agent(SQLModel, table=True):
    """The operator's directory entry. `id` is stable and is what pseudonyms are made from."""

    __tablename__ = "agents"
    id: str = Field(primary_key=True, max_length=32)
    email: str = Field(max_length=320, unique=True)
    team_id: str = Field(foreign_key="teams.id", max_length=64, index=True)
    name: str = Field(max_length=200)
    provider_ids: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    active: bool = True
    created_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))


class ChatAddress(SQLModel, table=True):
    """Where to reach a person on a chat platform (looked-up user id, opened DM channel).

    `agent_id` is an agent's stable id, or `person:<hash of e-mail>` for someone who is not an
    agent (a team lead receiving a digest), so it carries no foreign key.
    """

    __tablename__ = "chat_addresses"
    __table_args__ = (UniqueConstraint("agent_id", "platform", name="uq_chat_addresses_agent_platform"),)
    id: int | None = Field(default=None, primary_key=True)
    agent_id: str = Field(max_length=64)
    platform: str = Field(max_length=16)
    user_id: str | None = Field(default=None, max_length=64, index=True)
    dm_channel: str | None = Field(default=None, max_length=64)
    updated_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
