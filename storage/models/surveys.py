"""Pulse-survey rounds, invitations and answers. People appear only as pseudonyms."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import json_column, now, utc_column


class InvitationState(StrEnum):
    """Where a pulse-survey invitation stands (`survey_invitations.state`)."""

    QUEUED = "queued"
    SENT = "sent"
    ANSWERED = "answered"
    SKIPPED = "skipped"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class SurveyRound(SQLModel, table=True):
    """One round per team and period; the counts are team-level (response rate)."""

    __tablename__ = "survey_rounds"
    __table_args__ = (UniqueConstraint("team_id", "period_start", name="uq_survey_rounds_team_period"),)
    id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(max_length=64)
    period_start: date
    instruments: list[str] = Field(default_factory=list, sa_column=json_column(nullable=False))
    opened_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
    closes_at: datetime = Field(sa_column=utc_column(nullable=False))
    invited: int = 0
    responded: int = 0


class SurveyInvitation(SQLModel, table=True):
    """Whom a round asked, so reminders go to non-responders only. Never shown to anyone."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        UniqueConstraint("round_id", "pseudonym", name="uq_survey_invitations_round_person"),
        Index("ix_survey_invitations_due", "state", "send_after"),
        Index("ix_survey_invitations_person_sent", "pseudonym", "sent_at"),
    )
    id: str = Field(primary_key=True, max_length=32)
    round_id: str = Field(foreign_key="survey_rounds.id", max_length=32)
    pseudonym: str = Field(max_length=64)
    kid: str = Field(max_length=16)
    state: str = Field(max_length=16)  # an InvitationState
    # When the next message is due: the invitation while queued, then the one reminder.
    send_after: datetime = Field(sa_column=utc_column(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class SurveyAnswer(SQLModel, table=True):
    """One person's answers to one instrument in one round, with the instrument version."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        UniqueConstraint("round_id", "pseudonym", "instrument", name="uq_survey_answers_once"),
        Index("ix_survey_answers_team_submitted", "team_id", "submitted_at"),
        Index("ix_survey_answers_person_submitted", "pseudonym", "submitted_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    round_id: str = Field(foreign_key="survey_rounds.id", max_length=32)
    team_id: str = Field(max_length=64)
    pseudonym: str = Field(max_length=64)
    kid: str = Field(max_length=16)
    instrument: str = Field(max_length=32)
    instrument_version: str = Field(max_length=16)
    answers: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    score: float
    flagged: bool
    submitted_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
