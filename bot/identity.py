"""Who is this chat user, and which teams do they lead: the one place that answers both.

A chat user is matched to breather.yml by the platform's user id (from the file, or remembered
in `chat_addresses`), else by the e-mail address the platform holds for them. Team leads are
usually not agents: they are known by that e-mail address alone, listed in a team's `managers`;
admins may read every team's figures without leading any.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import Engine
from sqlmodel import col, select

from bot.config import TeamConfig
from bot.messenger import ChatPlatform
from bot.roster import Roster, RosterAgent
from storage.db import session_scope
from storage.models import ChatAddress

EmailLookup = Callable[[str], str | None]


def teams_led(teams: Iterable[TeamConfig], email: str | None) -> list[TeamConfig]:
    """The teams that list `email` among their leads (`managers`)."""
    if not email:
        return []
    email = email.lower()
    return [team for team in teams if email in team.managers]


def readable_teams(teams: Iterable[TeamConfig], admins: Iterable[str], email: str | None) -> list[TeamConfig]:
    """Teams whose figures `email` may read: their own as a lead, or all as an admin."""
    if not email:
        return []
    if email.lower() in {admin.lower() for admin in admins}:
        return list(teams)
    return teams_led(teams, email)


class Identity:
    """Resolves chat users against the live roster (built at start, so read through a callable)."""

    def __init__(
        self, engine: Engine, roster: Callable[[], Roster], teams: Iterable[TeamConfig], admins: Iterable[str]
    ) -> None:
        self.engine = engine
        self.roster = roster
        self.teams = tuple(teams)
        self.admins = tuple(admins)

    def agent(
        self, platform: ChatPlatform, user_id: str, email_lookup: EmailLookup | None = None
    ) -> RosterAgent | None:
        """The agent behind a platform's user id, or None for someone not on the roster."""
        roster = self.roster()
        agent = roster.find(f"{platform}_user_id", user_id)
        if agent is not None:
            return agent
        with session_scope(self.engine) as session:
            address = session.exec(
                select(ChatAddress).where(
                    col(ChatAddress.platform) == platform, col(ChatAddress.user_id) == user_id
                )
            ).first()
        if address is not None:
            agent = roster.by_id(address.agent_id)
        elif email_lookup is not None:
            email = email_lookup(user_id)
            agent = roster.find("email", email) if email else None
        if agent is not None:
            roster.remember(f"{platform}_user_id", user_id, agent)
        return agent

    def teams_led(self, email: str | None) -> list[TeamConfig]:
        return teams_led(self.teams, email)

    def readable_teams(self, email: str | None) -> list[TeamConfig]:
        return readable_teams(self.teams, self.admins, email)

    def leads(self, email: str | None) -> bool:
        return bool(self.teams_led(email))

    def known(self, email: str | None) -> bool:
        """On the roster as an agent, or listed as a team's lead."""
        return bool(email) and (self.roster().find("email", email or "") is not None or self.leads(email))
