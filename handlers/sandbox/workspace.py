"""The sandbox workspace: who can look at the console, and what each of them may see.

Agents come from the roster and team leads from each team's `managers`. Everyone gets a
Slack-looking user id (the one in breather.yml, or one made up from the e-mail address), so a
click from the console resolves to a person exactly as a click from Slack does.

What a person sees is what Slack would show them: direct messages addressed to them, their
teams' channels, their own App Home, and modals opened for their own clicks. Never anyone
else's direct messages: the console is a faithful demo of Breather's privacy, too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session, col, select

from bot.config import TeamConfig
from bot.roster import Roster, RosterAgent
from handlers.sandbox.messenger import dm_channel
from storage.models import SandboxMessage

HISTORY = 100  # messages shown per conversation; older ones stay in the table
DIRECT_SCAN = 2000  # recent direct messages looked through to find one person's


def made_up_user_id(email: str) -> str:
    """A stable Slack-looking id for someone breather.yml gives none (team leads, mostly)."""
    return "U" + hashlib.sha256(email.lower().encode()).hexdigest()[:10].upper()


def _name_from_email(email: str) -> str:
    return email.split("@", 1)[0].replace(".", " ").title()


@dataclass(frozen=True)
class Viewer:
    key: str  # "agent:<agent id>" or "lead:<e-mail>", used by the console's "View as"
    kind: Literal["agent", "lead"]
    name: str
    email: str
    user_id: str
    teams: tuple[TeamConfig, ...]
    agent: RosterAgent | None = None
    home_key: str | None = None  # the messenger's key for this person's App Home

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(team.channel for team in self.teams if team.channel)

    @property
    def home_conversation(self) -> str | None:
        # The sandbox messenger keeps each person's published App Home under this name: an
        # agent's by their agent id, a lead's (the Manager section) by their keyed person id.
        if self.agent:
            return f"home:{self.agent.id}"
        return f"home:{self.home_key}" if self.home_key else None

    @property
    def direct_channel(self) -> str:
        """The DM channel id of this person's conversation with Breather."""
        return dm_channel(self.agent.id) if self.agent else "D" + self.user_id[1:]

    def can_see(self, row: SandboxMessage) -> bool:
        if row.kind == "home":
            return row.conversation == self.home_conversation
        if row.conversation in self.channels:
            return True
        return row.conversation.startswith("D") and str(row.payload.get("to", "")).lower() == self.email


def build_viewers(roster: Roster) -> list[Viewer]:
    """Every agent, then every team lead (a lead of several teams sees all of their channels)."""
    viewers = [
        Viewer(
            key=f"agent:{agent.id}",
            kind="agent",
            name=agent.name,
            email=agent.email,
            user_id=agent.config.slack_user_id or made_up_user_id(agent.email),
            teams=(agent.team,),
            agent=agent,
        )
        for agent in sorted(roster.agents(), key=lambda a: (a.team.id, a.name))
    ]
    leads: dict[str, list[TeamConfig]] = {}
    for team in roster.teams:
        for email in team.managers:
            leads.setdefault(email, []).append(team)
    for email, teams in leads.items():
        viewers.append(
            Viewer(
                key=f"lead:{email}",
                kind="lead",
                name=_name_from_email(email),
                email=email,
                user_id=made_up_user_id(email),
                teams=tuple(teams),
                home_key=roster.person_ref(email).agent_id,
            )
        )
    return viewers


def direct_messages(session: Session, viewer: Viewer) -> list[SandboxMessage]:
    """Breather's DMs to this person, oldest first.

    Matched by recipient e-mail rather than channel id, so a message to a team lead (who has no
    roster id) is found however the feature that sent it named its recipient.
    """
    recent = session.exec(
        select(SandboxMessage)
        .where(col(SandboxMessage.kind) == "message", col(SandboxMessage.conversation).startswith("D"))
        .order_by(col(SandboxMessage.id).desc())
        .limit(DIRECT_SCAN)
    ).all()
    mine = [row for row in recent if viewer.can_see(row)][:HISTORY]
    return mine[::-1]


def channel_messages(session: Session, channel: str) -> list[SandboxMessage]:
    rows = session.exec(
        select(SandboxMessage)
        .where(col(SandboxMessage.kind) == "message", col(SandboxMessage.conversation) == channel)
        .order_by(col(SandboxMessage.id).desc())
        .limit(HISTORY)
    ).all()
    return list(rows)[::-1]


def latest(session: Session, conversation: str) -> SandboxMessage | None:
    """The newest row of a conversation: the App Home as last published, or a modal."""
    return session.exec(
        select(SandboxMessage)
        .where(col(SandboxMessage.conversation) == conversation)
        .order_by(col(SandboxMessage.id).desc())
        .limit(1)
    ).first()


def message_by_ts(session: Session, ts: str) -> SandboxMessage | None:
    return session.exec(select(SandboxMessage).where(col(SandboxMessage.ts) == ts)).first()
