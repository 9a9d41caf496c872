"""Who is who in Teams, and where to reach them: the `teams_conversations` table, cached.

A person is keyed by their Entra object id. They are remembered when they install Breather,
write to it or click a card (their 1:1 conversation and its service URL), and when someone
mentions them (their e-mail address, from the Bot Connector's member look-up). Breather can
only write to people it has a conversation with: that is Teams' rule, not ours.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, fields, replace

from sqlalchemy import Engine, delete, update
from sqlmodel import col, select

from bot.clock import utcnow
from bot.messenger import AgentRef, ChatPlatform
from storage.db import read_scope, session_scope
from storage.models import TeamsConversation
from storage.upsert import insert_ignore


@dataclass(frozen=True)
class TeamsPerson:
    aad_object_id: str
    teams_user_id: str | None = None
    email: str | None = None
    upn: str | None = None
    name: str | None = None
    conversation_id: str | None = None
    service_url: str | None = None
    tenant_id: str | None = None


_FIELDS = tuple(f.name for f in fields(TeamsPerson))


def _person(row: TeamsConversation) -> TeamsPerson:
    return TeamsPerson(**{name: getattr(row, name) for name in _FIELDS})


class TeamsDirectory:
    """Reads are cached for a few minutes: every click names its sender, and several `serve`
    processes may learn about the same person (an uninstall seen by another process is
    noticed here within CACHE_S)."""

    CACHE_S = 300.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._by_aad: dict[str, tuple[TeamsPerson, float]] = {}
        self._lock = threading.Lock()

    def _cache(self, person: TeamsPerson) -> TeamsPerson:
        with self._lock:
            self._by_aad[person.aad_object_id] = (person, time.monotonic())
        return person

    def _cached(self, aad_object_id: str) -> TeamsPerson | None:
        with self._lock:
            entry = self._by_aad.get(aad_object_id)
        if entry is None or time.monotonic() - entry[1] > self.CACHE_S:
            return None
        return entry[0]

    def remember(self, person: TeamsPerson) -> TeamsPerson:
        """Learn about a person; fields not given (None) keep what was known."""
        if person.email:
            person = replace(person, email=person.email.lower())
        known = self.by_aad(person.aad_object_id)
        given = {name: getattr(person, name) for name in _FIELDS if getattr(person, name) is not None}
        merged = replace(known, **given) if known is not None else person
        if known == merged:
            return merged  # nothing new: no write on every click
        values = {name: getattr(merged, name) for name in _FIELDS}
        with session_scope(self.engine) as session:
            inserted = insert_ignore(
                session,
                TeamsConversation,
                {**values, "home_requested": False, "updated_at": utcnow()},
                ["aad_object_id"],
            )
            if not inserted:
                session.execute(
                    update(TeamsConversation)
                    .where(col(TeamsConversation.aad_object_id) == merged.aad_object_id)
                    .values(**{k: v for k, v in values.items() if v is not None}, updated_at=utcnow())
                )
        return self._cache(merged)

    def _find(self, *conditions: object) -> TeamsPerson | None:
        with read_scope(self.engine) as session:
            row = session.exec(
                select(TeamsConversation)
                .where(*conditions)  # type: ignore[arg-type]
                .order_by(
                    col(TeamsConversation.conversation_id).is_(None), col(TeamsConversation.updated_at).desc()
                )
            ).first()
            return self._cache(_person(row)) if row is not None else None

    def by_aad(self, aad_object_id: str) -> TeamsPerson | None:
        cached = self._cached(aad_object_id)
        if cached is not None:
            return cached
        return self._find(col(TeamsConversation.aad_object_id) == aad_object_id)

    def by_email(self, email: str) -> TeamsPerson | None:
        return self._find(col(TeamsConversation.email) == email.lower())

    def by_teams_user_id(self, teams_user_id: str) -> TeamsPerson | None:
        return self._find(col(TeamsConversation.teams_user_id) == teams_user_id)

    def by_conversation(self, conversation_id: str) -> TeamsPerson | None:
        return self._find(col(TeamsConversation.conversation_id) == conversation_id)

    def for_ref(self, to: AgentRef) -> TeamsPerson | None:
        """The person an AgentRef means: by the Entra object id from breather.yml, else by e-mail."""
        listed = to.user_id_on(ChatPlatform.TEAMS)
        found = self.by_aad(listed) if listed else None
        return found or self.by_email(to.email)

    def forget(self, aad_object_id: str) -> None:
        """They removed Breather: nothing can reach them any more, and nothing is kept."""
        with session_scope(self.engine) as session:
            session.execute(
                delete(TeamsConversation).where(col(TeamsConversation.aad_object_id) == aad_object_id)
            )
        with self._lock:
            self._by_aad.pop(aad_object_id, None)

    # --- the home card --------------------------------------------------------------------

    def request_home(self, aad_object_id: str) -> None:
        """`breather home`: the next home view is posted as a new card (then refreshed in place)."""
        with session_scope(self.engine) as session:
            session.execute(
                update(TeamsConversation)
                .where(col(TeamsConversation.aad_object_id) == aad_object_id)
                .values(home_requested=True, home_activity_id=None, updated_at=utcnow())
            )

    def home(self, aad_object_id: str) -> tuple[str | None, bool]:
        """(the home card's activity id, whether a new one was asked for)."""
        with read_scope(self.engine) as session:
            row = session.exec(
                select(TeamsConversation).where(col(TeamsConversation.aad_object_id) == aad_object_id)
            ).first()
            return (row.home_activity_id, row.home_requested) if row is not None else (None, False)

    def home_posted(self, aad_object_id: str, activity_id: str) -> None:
        with session_scope(self.engine) as session:
            session.execute(
                update(TeamsConversation)
                .where(col(TeamsConversation.aad_object_id) == aad_object_id)
                .values(home_requested=False, home_activity_id=activity_id, updated_at=utcnow())
            )
