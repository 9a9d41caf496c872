"""Who is who: breather.yml synced into the database, and an in-memory index for fast look-ups.

Webhooks resolve agents here without touching the database; pseudonyms are computed once.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.config import AgentConfig, BreatherConfig, Shift, TeamConfig
from bot.lead_prefs import forget_former_leads
from bot.messenger import AgentRef, ChatPlatform, ChatUser
from bot.pseudonyms import Keyring, People
from storage.locks import lock_name
from storage.models import Agent, AgentPrefs, ChatAddress, Team

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RosterAgent:
    id: str
    config: AgentConfig
    team: TeamConfig
    pseudonym: str  # under the current key: what new rows are written with
    kid: str
    # Under every live key, current first: what look-ups match while a key rotation is under way.
    pseudonyms: tuple[str, ...] = ()

    def owns(self, pseudonym: str) -> bool:
        """Whether a stored row's pseudonym is this agent's (under any live key)."""
        return pseudonym in self.pseudonyms

    @property
    def email(self) -> str:
        return self.config.email

    @property
    def name(self) -> str:
        return self.config.display_name

    @property
    def shift(self) -> Shift:
        """The agent's own shift when breather.yml gives one, else the team's."""
        return self.config.shift or self.team.shift

    def day_off(self, day: date) -> bool:
        """Whether `day` is a holiday on the agent's team calendar (breather.yml `holidays`)."""
        return self.team.holidays.is_day_off(day)

    @property
    def zone(self) -> ZoneInfo:
        """The agent's own time zone when breather.yml gives one, else the team's."""
        return ZoneInfo(self.config.timezone) if self.config.timezone else self.team.zone

    def ref(self) -> AgentRef:
        listed = (
            (ChatPlatform.SLACK, self.config.slack_user_id),
            (ChatPlatform.TEAMS, self.config.teams_user_id),
        )
        return AgentRef(
            agent_id=self.id,
            email=self.config.email,
            chat_users=tuple(ChatUser(platform=p, user_id=user_id) for p, user_id in listed if user_id),
        )


class Roster:
    """Agents by every id a provider or platform may use, plus by pseudonym."""

    def __init__(
        self,
        config: BreatherConfig,
        agent_ids: dict[str, str],
        keyring: Keyring,
        former_ids: Iterable[str] = (),
    ) -> None:
        self.config = config
        self.keyring = keyring
        self.kid = keyring.kid
        self._by_key: dict[tuple[str, str], RosterAgent] = {}
        self._by_pseudonym: dict[str, RosterAgent] = {}
        self._by_id: dict[str, RosterAgent] = {}
        self._lock = threading.Lock()
        for team in config.teams:
            for agent_config in team.agents:
                agent_id = agent_ids[agent_config.email]
                pseudonyms = keyring.pseudonyms(agent_id)
                agent = RosterAgent(agent_id, agent_config, team, pseudonyms[0], keyring.kid, pseudonyms)
                self._by_id[agent_id] = agent
                for pseudonym in pseudonyms:
                    self._by_pseudonym[pseudonym] = agent
                for kind, value in agent_config.provider_ids().items():
                    self._by_key[(kind, value.lower() if kind == "email" else value)] = agent
        # Everyone who may still have rows, including people who left breather.yml.
        self.people = People(keyring, [*self._by_id, *former_ids])

    @property
    def teams(self) -> list[TeamConfig]:
        return list(self.config.teams)

    def team(self, team_id: str) -> TeamConfig:
        return self.config.team(team_id)

    def agents(self) -> list[RosterAgent]:
        return list(self._by_id.values())

    def find(self, kind: str, value: str) -> RosterAgent | None:
        return self._by_key.get((kind, value.lower() if kind == "email" else value))

    def by_pseudonym(self, pseudonym: str) -> RosterAgent | None:
        return self._by_pseudonym.get(pseudonym)

    def readers_of(self, team: TeamConfig, admins: Iterable[str] = ()) -> frozenset[str]:
        """The current pseudonyms of the people on the roster who read `team`'s figures (its
        leads and the admins): what they did never counts towards a figure they read."""
        emails = {e.lower() for e in (*team.managers, *admins)}
        found = (self.find("email", email) for email in emails)
        return frozenset(agent.pseudonym for agent in found if agent is not None)

    def by_id(self, agent_id: str) -> RosterAgent | None:
        return self._by_id.get(agent_id)

    def remember(self, kind: str, value: str, agent: RosterAgent) -> None:
        """Learn an id found at run time (a Slack user id looked up by e-mail)."""
        with self._lock:
            self._by_key[(kind, value)] = agent

    def short_key(self, text: str) -> str:
        """A keyed, stable stand-in for a person or resource in a form value sent to the chat
        platform (its choice values come back on submit), never the address itself."""
        return self.keyring.token("choice", text).partition(".")[2][:16]

    def person_ref(self, email: str, chat_user: ChatUser | None = None) -> AgentRef:
        return person_ref(self.keyring, email, chat_user)


def sync_roster(session: Session, config: BreatherConfig, keyring: Keyring, now: datetime) -> dict[str, str]:
    """Make the teams and agents tables match breather.yml; returns e-mail -> stable agent id.

    Agents who left the file are deactivated and their own switches (pause) deleted, as the
    retention policy says (so are the switches of leads and admins no longer listed); their
    stable id is kept so they keep their pseudonym if they return.

    Replicas started together all sync at once: the lock makes them take turns, so the second
    finds the first one's rows instead of inserting the same team or e-mail again.
    """
    lock_name(session, "roster-sync")
    listed_teams = {team.id for team in config.teams}
    for team in config.teams:
        row = session.get(Team, team.id) or Team(
            id=team.id, name=team.name, timezone=team.timezone, language=team.language
        )
        row.name, row.timezone, row.language = team.name, team.timezone, team.language
        row.channel, row.active, row.updated_at = team.channel, True, now
        session.add(row)
    for stale in session.exec(select(Team).where(col(Team.id).not_in(listed_teams))):
        stale.active = False
        session.add(stale)
    session.flush()

    existing = {agent.email: agent for agent in session.exec(select(Agent))}
    listed: dict[str, str] = {}
    for team in config.teams:
        for agent_config in team.agents:
            agent = existing.get(agent_config.email) or Agent(
                id=uuid.uuid4().hex,
                email=agent_config.email,
                team_id=team.id,
                name=agent_config.display_name,
                created_at=now,
            )
            agent.team_id, agent.name, agent.active, agent.updated_at = (
                team.id,
                agent_config.display_name,
                True,
                now,
            )
            agent.provider_ids = agent_config.provider_ids()
            session.add(agent)
            listed[agent_config.email] = agent.id
    departed = [agent for email, agent in existing.items() if email not in listed and agent.active]
    for agent in departed:
        agent.active, agent.updated_at = False, now
        session.add(agent)
        session.execute(delete(AgentPrefs).where(col(AgentPrefs.pseudonym).in_(keyring.pseudonyms(agent.id))))
    if departed:
        log.info("roster: %d agent(s) left breather.yml and were deactivated", len(departed))
    if forgotten := forget_former_leads(session, keyring, config):
        log.info("roster: %d former lead(s)' own switches deleted", forgotten)
    session.flush()
    return listed


def load_chat_addresses(session: Session, roster: Roster, platform: ChatPlatform) -> None:
    """Teach the roster the chat user ids looked up earlier (so clicks resolve without a query)."""
    statement = select(ChatAddress).where(col(ChatAddress.platform) == platform)
    for address in session.exec(statement):
        agent = roster.by_id(address.agent_id)
        if agent is not None and address.user_id:
            roster.remember(f"{platform}_user_id", address.user_id, agent)


def former_agent_ids(session: Session, listed: dict[str, str]) -> list[str]:
    """Stable ids of agents who left breather.yml: their rows stay until retention removes them."""
    current = set(listed.values())
    return [agent_id for agent_id in session.exec(select(col(Agent.id))) if agent_id not in current]


def person_key(keyring: Keyring, email: str) -> str:
    """A stable key for someone who is not an agent (a team lead): keyed, so a guessed e-mail
    cannot be tested against it."""
    return "person:" + keyring.token("person", email.lower())


def person_ref(keyring: Keyring, email: str, chat_user: ChatUser | None = None) -> AgentRef:
    """How to reach someone known only by e-mail (a team lead who is not an agent): messengers
    find them by e-mail each time (unless `chat_user` says who they are) and keep no address."""
    return AgentRef(
        agent_id=person_key(keyring, email),
        email=email.lower(),
        chat_users=(chat_user,) if chat_user else (),
        on_roster=False,
    )
