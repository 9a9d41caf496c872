"""Check-ins and the agent's own preferences, stored under a pseudonym only."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import json_column, now, utc_column


class Checkin(SQLModel, table=True):
    """One private check-in after a hard call; at most one per call."""

    __tablename__ = "checkins"
    __table_args__ = (Index("ix_checkins_pseudonym_created", "pseudonym", "created_at"),)
    id: str = Field(primary_key=True, max_length=32)
    call_id: int = Field(foreign_key="calls.id", unique=True)
    team_id: str = Field(max_length=64, index=True)
    pseudonym: str = Field(max_length=64)
    kid: str = Field(max_length=16)
    reasons: list[str] = Field(default_factory=list, sa_column=json_column(nullable=False))
    created_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
    answer: str | None = Field(default=None, max_length=16)
    answered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class AgentPrefs(SQLModel, table=True):
    """An agent's own switches (pause), keyed by pseudonym; never shown to managers."""

    __tablename__ = "agent_prefs"
    pseudonym: str = Field(primary_key=True, max_length=64)
    kid: str = Field(max_length=16)
    paused: bool = False
    # When a pause (or time off) ends by itself; None while `paused` means until resumed.
    paused_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    surveys_opted_out: bool = False
    buddy: bool = False  # offers to be a buddy for their team (issue 16); never shown to anyone
    pairing: bool = False  # takes part in the team's weekly coffee pairs (issue 16)
    pairing_skip: date | None = None  # the Monday of a week they skip
    # The language the agent chose themselves, and the one their chat platform reports (issue 14).
    language: str | None = Field(default=None, max_length=16)
    platform_language: str | None = Field(default=None, max_length=16)
    updated_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))


class Pairing(SQLModel, table=True):
    """One person's place in a week's coffee pairs (issue 16); a pair's rows share `pair_id`."""

    __tablename__ = "pairings"
    __table_args__ = (
        UniqueConstraint("team_id", "week_start", "pseudonym", name="uq_pairings_team_week_person"),
    )
    id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(max_length=64)
    week_start: date
    pair_id: str = Field(max_length=32, index=True)
    pseudonym: str = Field(max_length=64)
    kid: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
