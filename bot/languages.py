"""Which language each person reads Breather in.

In order: the language the person chose themselves (`/breather language ro`, the Home tab,
the Teams command), else the language their chat platform reports for them (Slack's user
locale, the locale of their Teams messages) when Breather speaks it, else their team's
`language`. English from the platform is no signal: it is what Slack and Teams show people
whose own language they lack (Slack offers neither Romanian nor Persian), so a Romanian team
on an English Slack still reads Romanian. Both are kept in the person's own switches row
(`agent_prefs`, under their pseudonym). A channel post (a shared compliment, kudos, the
weekly roll-up) is read by the whole team and stays in the team's language.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.i18n import FALLBACK, Catalogue, available_languages, team_catalogue
from bot.roster import RosterAgent
from storage.db import read_scope
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
    prefs = _prefs(session, agent)
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


def catalogue_for(engine: Engine, agent: RosterAgent) -> Catalogue:
    """`agent_catalogue` outside a unit of work: its own short read."""
    with read_scope(engine) as session:
        return agent_catalogue(session, agent)


def choose_language(session: Session, agent: RosterAgent, language: str | None, now: datetime) -> bool:
    """Record the agent's own choice (None: back to the default); False when nothing changed."""
    if language is not None and language not in available_languages():
        raise ValueError(f"no catalogue for {language!r}")
    from bot.checkins.service import lock_prefs  # the check-in service reads languages too

    prefs = lock_prefs(session, agent, now)
    if prefs.language == language:
        return False
    prefs.language, prefs.updated_at = language, now
    session.add(prefs)
    return True


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
