"""Microsoft Teams: where to reach a person, learnt when they install Breather or talk to it.

Teams only lets a bot write to people who have the app: their 1:1 chat with Breather has a
conversation id and a regional service URL that cannot be derived, so they are kept here.
A row is keyed by the person's Entra object id; `email` is the address that matched
breather.yml (their mail or UPN). No wellbeing data lives here.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import now, utc_column


class TeamsConversation(SQLModel, table=True):
    __tablename__ = "teams_conversations"
    id: int | None = Field(default=None, primary_key=True)
    aad_object_id: str = Field(max_length=64, unique=True)
    teams_user_id: str | None = Field(default=None, max_length=200, index=True)  # "29:…", per bot
    email: str | None = Field(default=None, max_length=320, index=True)
    upn: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    conversation_id: str | None = Field(default=None, max_length=300, index=True)  # their chat with us
    service_url: str | None = Field(default=None, max_length=300)
    tenant_id: str | None = Field(default=None, max_length=64)
    # The "home" card (Teams has no App Home tab): the message to refresh in place, and whether
    # the person asked for a fresh one (`breather home`) that is not posted yet.
    home_activity_id: str | None = Field(default=None, max_length=200)
    home_requested: bool = False
    updated_at: datetime = Field(default_factory=now, sa_column=utc_column(nullable=False))
