"""Customer compliments (scrubbed, under the agent's pseudonym) and kudos between team mates.

Compliments hold only text that has been through the scrubber. No table here is ever shown
per person: the weekly roll-up counts a team's compliments, never an agent's.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import now, utc_column

# `Compliment.source` of a message a team's lead (or an admin) passed on to an agent of that
# team: the agent gets it like any other, but it never counts in the team's figures (a lead
# must not be able to make "compliments received" reach the anonymity threshold).
FROM_A_LEAD = "message-lead"


class ComplimentStatus(StrEnum):
    PENDING = "pending"  # waiting for the agent's choice
    SHARED = "shared"  # the agent chose to share it: posted to the team channel
    PRIVATE = "private"  # the agent chose to keep it
    EXPIRED = "expired"  # no choice within the consent window: private
    REMOVED = "removed"  # shared, then taken down by the agent


class Compliment(SQLModel, table=True):
    """One kind customer comment about one agent, unique on where it came from."""

    __tablename__ = "compliments"
    __table_args__ = (
        UniqueConstraint("source", "source_key", name="uq_compliments_source_key"),
        Index("ix_compliments_team_received", "team_id", "received_at"),
        Index("ix_compliments_status_received", "status", "received_at"),
        Index("ix_compliments_post", "post_channel", "post_ts"),
    )
    id: str = Field(primary_key=True, max_length=32)
    source: str = Field(max_length=32)
    source_key: str = Field(max_length=200)
    team_id: str = Field(max_length=64)
    pseudonym: str = Field(max_length=64)
    kid: str = Field(max_length=16)
    text: str = Field(sa_column=Column(Text(), nullable=False))
    status: str = Field(default=ComplimentStatus.PENDING, max_length=16)
    received_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    removed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    post_channel: str | None = Field(default=None, max_length=64)
    post_ts: str | None = Field(default=None, max_length=32)


class Kudos(SQLModel, table=True):
    """That someone sent kudos (the words went to the channel and are not kept).

    `author_key` is a keyed hash of the author's chat user id: enough for the daily limit.
    """

    __tablename__ = "kudos"
    __table_args__ = (
        Index("ix_kudos_author_created", "author_key", "created_at"),
        Index("ix_kudos_team_created", "team_id", "created_at"),
    )
    id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(max_length=64)
    author_key: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))


class LeadPrefs(SQLModel, table=True):
    """A team lead's own switches (issue 16: the daily thanks nudge; issue 14: the language of a
    lead who is not an agent), under a keyed hash of their e-mail, never the address."""

    __tablename__ = "lead_prefs"
    person_key: str = Field(primary_key=True, max_length=64)
    thanks_off: bool = False
    language: str | None = Field(default=None, max_length=16)
    platform_language: str | None = Field(default=None, max_length=16)
    updated_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
