"""Which language each person reads Breather in.

In order: the language the person chose themselves (`/breather language ro`, the Home tab,
the Teams command), else the language their chat platform reports for them (Slack's user
locale, the locale of their Teams messages) when Breather speaks it, else their team's
`language`. English from the platform is no signal: it is what Slack and Teams show people
whose own language they lack (Slack offers neither Romanian nor Persian), so a Romanian team
on an English Slack still reads Romanian. Both are kept in the person's own switches row
(`agent_prefs`, under their pseudonym). A channel post (a shared compliment, kudos, the
weekly roll-up) is read by the whole team and stays in the team's language.

A team lead (or an admin) who is not an agent has no agent switches: their choice and their
platform's language are kept in `lead_prefs` under a keyed hash of their e-mail, and what
Breather sends them about a team (digests, surge alerts, thanks nudges, a request to talk)
falls back to that team's language. A person who is both an agent and a lead has one language,
the agent's: it serves both roles, so a choice made either way is the same choice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.config import TeamConfig
from bot.i18n import FALLBACK, Catalogue, available_languages, catalogue, team_catalogue
from bot.lead_prefs import lead_rows, set_lead_prefs
from bot.pseudonyms import Keyring
from bot.roster import RosterAgent
from storage.db import read_scope, unreachable
from storage.models import AgentPrefs

# The word after `/breather language` that goes back to the team's (or the platform's) language.
DEFAULT_WORDS = frozenset({"auto", "default", "team"})


def language_from_locale(locale: str | None) -> str | None:
    """ "ro-RO" / "fa_IR" / "en-US" -> "ro" / "fa" / "en" when a catalogue exists, else None."""
    if not locale:
        return None
    primary = locale.replace("_", "-").split("-", 1)[0].strip().lower()
    return primary if primary in available_languages() else None


def _prefs(session: Session, agent: RosterAgent) -> AgentPrefs | None:
    rows = session.exec(select(AgentPrefs).where(col(AgentPrefs.pseudonym).in_(agent.pseudonyms))).all()
    return min(rows, key=lambda row: agent.pseudonyms.index(row.pseudonym), default=None)


def language_of(session: Session, agent: RosterAgent) -> str:
    return _language(_prefs(session, agent), agent)


def _language(prefs: AgentPrefs | None, agent: RosterAgent) -> str:
    if prefs is not None and prefs.language:
        return prefs.language
    if prefs is not None and prefs.platform_language and prefs.platform_language != FALLBACK:
        return prefs.platform_language
    return agent.team.language


def chosen_language(session: Session, agent: RosterAgent) -> str | None:
    """The language the agent picked themselves (None: they have not)."""
    prefs = _prefs(session, agent)
    return prefs.language if prefs is not None else None


def agent_catalogue(session: Session, agent: RosterAgent) -> Catalogue:
    """The agent's own language, dated in their team's calendar."""
    return team_catalogue(agent.team, language_of(session, agent))


def catalogue_with(prefs: AgentPrefs | None, agent: RosterAgent) -> Catalogue:
    """`agent_catalogue` from the agent's preferences already read (by `lock_prefs`, say)."""
    return team_catalogue(agent.team, _language(prefs, agent))


def catalogue_for(engine: Engine, agent: RosterAgent) -> Catalogue:
    """`agent_catalogue` outside a unit of work: its own short read."""
    with read_scope(engine) as session:
        return agent_catalogue(session, agent)


def failure_catalogue(engine: Engine, agent: RosterAgent | None, error: BaseException) -> Catalogue:
    """The language to say "something went wrong" in: the person's own choice, read only when
    the database is not what failed (a second wait on it would only delay the news), else
    their team's; English for someone not on the roster."""
    if agent is None:
        return catalogue(FALLBACK)
    if not unreachable(error):
        try:
            return catalogue_for(engine, agent)
        except Exception:  # whatever failed may fail again here: the team's language will do
            pass
    return team_catalogue(agent.team)


def choose_language(session: Session, agent: RosterAgent, language: str | None, now: datetime) -> bool:
    """Record the agent's own choice (None: back to the default); False when nothing changed."""
    if language is not None and language not in available_languages():
        raise ValueError(f"no catalogue for {language!r}")
    from bot.checkins.service import switch_pref  # the check-in service reads languages too

    return switch_pref(session, agent, now, "language", language)


def note_platform_locale(session: Session, agent: RosterAgent, locale: str | None, now: datetime) -> bool:
    """Remember the language the chat platform reports; True when it changed what the agent reads."""
    language = language_from_locale(locale)
    if language is None:
        return False
    prefs = _prefs(session, agent)
    if prefs is not None and prefs.platform_language == language:
        return False  # the common case: no write, no lock
    from bot.checkins.service import lock_prefs

    prefs = lock_prefs(session, agent, now)
    if prefs.platform_language == language:
        return False
    before = language_of(session, agent)
    prefs.platform_language, prefs.updated_at = language, now
    session.add(prefs)
    return language_of(session, agent) != before


def _known(language: str | None) -> str | None:
    if language is not None and language not in available_languages():
        raise ValueError(f"no catalogue for {language!r}")
    return language


class ReaderLanguages:
    """The language of someone Breather writes to by e-mail as a team lead or admin: the
    agent's own when they are on the roster, else what `lead_prefs` holds for them."""

    def __init__(self, keyring: Keyring, find_agent: Callable[[str], RosterAgent | None]) -> None:
        self.keyring = keyring
        self.find_agent = find_agent

    def language(self, session: Session, email: str, team: TeamConfig) -> str:
        """What they read a message about `team` in."""
        agent = self.find_agent(email)
        if agent is not None:
            return language_of(session, agent)
        for row in lead_rows(session, self.keyring, email):
            if row.language:
                return row.language
            if row.platform_language and row.platform_language != FALLBACK:
                return row.platform_language
        return team.language

    def catalogue(self, session: Session, email: str, team: TeamConfig) -> Catalogue:
        """Their language, dated in `team`'s calendar."""
        return team_catalogue(team, self.language(session, email, team))

    def chosen(self, session: Session, email: str) -> str | None:
        agent = self.find_agent(email)
        if agent is not None:
            return chosen_language(session, agent)
        return next((row.language for row in lead_rows(session, self.keyring, email) if row.language), None)

    def choose(self, session: Session, email: str, language: str | None, now: datetime) -> bool:
        """Record their own choice (None: back to the default); False when nothing changed."""
        agent = self.find_agent(email)
        if agent is not None:
            return choose_language(session, agent, language, now)
        if self.chosen(session, email) == _known(language):
            return False
        set_lead_prefs(session, self.keyring, email, now, language=language)
        return True

    def knows_locale(self, session: Session, email: str, locale: str | None) -> bool:
        """Whether noting `locale` for this lead (not an agent) would change nothing: read first,
        since every Teams activity carries it and a write takes SQLite's write lock."""
        language = language_from_locale(locale)
        rows = lead_rows(session, self.keyring, email)
        return language is None or bool(rows and rows[0].platform_language == language)

    def note_locale(self, session: Session, email: str, locale: str | None, now: datetime) -> bool:
        """Remember the language their chat platform reports; True when it was new."""
        agent = self.find_agent(email)
        if agent is not None:
            return note_platform_locale(session, agent, locale, now)
        if self.knows_locale(session, email, locale):
            return False  # the common case: no write
        set_lead_prefs(session, self.keyring, email, now, platform_language=language_from_locale(locale))
        return True
