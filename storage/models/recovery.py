"""Protected breaks and talk requests: stored under a pseudonym, counted per team only.

A break keeps what it needs to give the agent their status back (the provider's user id,
the status before the break, where to tell them) only while it runs; once it is over,
those columns are emptied and only pseudonym, team, state and times remain.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import now, utc_column


class BreakState(StrEnum):
    REQUESTED = "requested"  # the agent asked; the worker sets it in the phone system
    ON_BREAK = "on_break"  # set; restored at ends_at
    RESTORED = "restored"  # over; the previous status is back
    KEPT = "kept"  # over; the agent had changed their status themselves, so it was left alone
    RESTORE_FAILED = "restore_failed"  # over; the agent was asked to set their status back
    FAILED = "failed"  # could not be set; the agent was asked to set it themselves
    SELF_SERVICE = "self_service"  # no phone system Breather can change for this agent
    CAPPED = "capped"  # the daily cap was reached; nothing was changed


ACTIVE_STATES = (BreakState.REQUESTED, BreakState.ON_BREAK)
# Breaks that changed (or are about to change) the agent's status: these count towards the cap.
TAKEN_STATES = (
    BreakState.REQUESTED,
    BreakState.ON_BREAK,
    BreakState.RESTORED,
    BreakState.KEPT,
    BreakState.RESTORE_FAILED,
)


class Break(SQLModel, table=True):
    __tablename__ = "breaks"
    __table_args__ = (
        Index("ix_breaks_due", "state", "next_attempt_at"),
        Index("ix_breaks_pseudonym_requested", "pseudonym", "requested_at"),
        Index("ix_breaks_team_requested", "team_id", "requested_at"),
    )
    id: str = Field(primary_key=True, max_length=32)
    request_key: str = Field(max_length=200, unique=True)  # one break per check-in
    team_id: str = Field(max_length=64)
    pseudonym: str = Field(max_length=64)
    kid: str = Field(max_length=16)
    provider: str | None = Field(default=None, max_length=32)
    state: str = Field(max_length=16)
    minutes: float
    requested_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ends_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    next_attempt_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
    attempts: int = 0
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_error: str | None = Field(default=None, max_length=200)
    # Only while the break runs:
    phone_user_id: str | None = Field(default=None, max_length=100)
    previous_status: str | None = Field(default=None, max_length=200)
    break_status: str | None = Field(default=None, max_length=200)
    message_channel: str | None = Field(default=None, max_length=64)
    message_ts: str | None = Field(default=None, max_length=32)


class TalkRequest(SQLModel, table=True):
    """That an agent asked to talk, and to what kind of person; never to whom."""

    __tablename__ = "talk_requests"
    __table_args__ = (Index("ix_talk_requests_team_created", "team_id", "created_at"),)
    id: str = Field(primary_key=True, max_length=32)
    request_key: str = Field(max_length=200, unique=True)  # one request per check-in
    team_id: str = Field(max_length=64)
    pseudonym: str = Field(max_length=64)
    kid: str = Field(max_length=16)
    kind: str = Field(max_length=16)  # mate, lead or support
    created_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))


class BuddyAsk(SQLModel, table=True):
    """One discreet ask of an opted-in buddy (issue 16), stored under the buddy's pseudonym so
    the daily cap and the rotation can be kept; the asker is the talk request's pseudonym."""

    __tablename__ = "buddy_asks"
    __table_args__ = (
        Index("ix_buddy_asks_pseudonym_created", "pseudonym", "created_at"),
        UniqueConstraint("request_id", "attempt", name="uq_buddy_asks_request_attempt"),
    )
    id: str = Field(primary_key=True, max_length=32)
    request_id: str = Field(max_length=32, index=True)  # talk_requests.id
    team_id: str = Field(max_length=64)
    pseudonym: str = Field(max_length=64)  # the buddy asked
    kid: str = Field(max_length=16)
    attempt: int = 1  # 2 when the first buddy could not
    state: str = Field(default="asked", max_length=16)  # asked, free or cant
    created_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
