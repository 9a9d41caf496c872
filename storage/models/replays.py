"""Signed requests already handled, so that a replay inside the signature window does nothing."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import utc_column


class SeenRequest(SQLModel, table=True):
    __tablename__ = "seen_requests"
    # A keyed hash of the request's signature: it tells two copies apart and nothing else.
    digest: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
