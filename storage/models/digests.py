"""What the digests have released (to freeze figures and guard against differencing), who read
them, and when a surge alert last went out. No per-agent value is stored here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import json_column, now, utc_column


class DigestRelease(SQLModel, table=True):
    """One released figure: its values and a fingerprint (hashes) of who contributed."""

    __tablename__ = "digest_releases"
    __table_args__ = (
        UniqueConstraint("team_id", "period_start", "metric", "scope", name="uq_digest_releases_figure"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=64)
    period_start: date
    metric: str = Field(max_length=32)
    scope: str = Field(max_length=200)
    values: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    # Keyed fingerprints of the contributors' pseudonyms, under the pseudonym key `kid`.
    contributors: list[str] = Field(default_factory=list, sa_column=json_column(nullable=False))
    kid: str = Field(max_length=16)
    released_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))


class DigestAccess(SQLModel, table=True):
    """Every read of a team digest, for the works council's audit."""

    __tablename__ = "digest_access_log"
    __table_args__ = (Index("ix_digest_access_log_at", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    reader: str = Field(max_length=320)
    team_id: str = Field(max_length=64)
    via: str = Field(max_length=32)
    at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))


class SurgeAlert(SQLModel, table=True):
    __tablename__ = "surge_alerts"
    __table_args__ = (Index("ix_surge_alerts_team_at", "team_id", "sent_at"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=64)
    sent_at: datetime = Field(sa_column=utc_column(nullable=False))
