"""An agent's own switches: pause / resume check-ins (their pulse-survey switch is in surveys)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.checkins.service import find_prefs, lock_prefs
from bot.roster import RosterAgent


def read_prefs(session: Session, agent: RosterAgent) -> tuple[bool, bool]:
    """(paused, surveys on) for the agent."""
    prefs = find_prefs(session, agent)
    return (bool(prefs and prefs.paused), not (prefs and prefs.surveys_opted_out))


def set_paused(session: Session, agent: RosterAgent, paused: bool, now: datetime) -> bool:
    """Returns False when nothing changed (already in that state)."""
    prefs = lock_prefs(session, agent, now)
    if prefs.paused == paused:
        return False
    prefs.paused, prefs.updated_at = paused, now
    session.add(prefs)
    return True
