"""An agent's own switches: pause / resume check-ins, with or without an end (their pulse-survey
switch is in surveys)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from bot.checkins.service import find_prefs, is_paused, lock_prefs, switch_pref
from bot.roster import RosterAgent
from storage.models import AgentPrefs


@dataclass(frozen=True)
class Prefs:
    paused: bool
    paused_until: datetime | None  # when the pause ends by itself; None: until resumed
    surveys_on: bool
    buddy: bool = False
    pairing: bool = False


def read_prefs(session: Session, agent: RosterAgent, now: datetime) -> Prefs:
    prefs = find_prefs(session, agent)
    paused = is_paused(prefs, now)
    return Prefs(
        paused=paused,
        paused_until=prefs.paused_until if paused and prefs else None,
        surveys_on=not (prefs and prefs.surveys_opted_out),
        buddy=bool(prefs and prefs.buddy),
        pairing=bool(prefs and prefs.pairing),
    )


def set_pairing(session: Session, agent: RosterAgent, on: bool, now: datetime) -> bool:
    """Join (or leave) the team's coffee pairs; False when nothing changed."""
    return switch_pref(session, agent, now, "pairing", on)


def skip_pairing(session: Session, agent: RosterAgent, week: date, now: datetime) -> bool:
    return switch_pref(session, agent, now, "pairing_skip", week)


def set_buddy(session: Session, agent: RosterAgent, on: bool, now: datetime) -> bool:
    """Offer (or stop offering) to be a buddy; False when nothing changed."""
    return switch_pref(session, agent, now, "buddy", on)


def set_paused(
    session: Session, agent: RosterAgent, paused: bool, now: datetime, until: datetime | None = None
) -> bool:
    """Returns False when nothing changed (already in that state, with the same end)."""
    prefs = lock_prefs(session, agent, now)
    until = until if paused else None
    if is_paused(prefs, now) == paused and (not paused or prefs.paused_until == until):
        return False
    prefs.paused, prefs.paused_until, prefs.updated_at = paused, until, now
    session.add(prefs)
    return True


def end_pauses(session: Session, now: datetime, limit: int = 200) -> list[tuple[str, datetime]]:
    """End the pauses whose time has come: (pseudonym, when it ended) for each. Rows are locked
    and skipped by another process doing the same, so each end is handled once."""
    rows = session.exec(
        select(AgentPrefs)
        .where(col(AgentPrefs.paused), col(AgentPrefs.paused_until) <= now)
        .order_by(col(AgentPrefs.paused_until))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    ended = []
    for row in rows:
        assert row.paused_until is not None  # the query asked for it
        ended.append((row.pseudonym, row.paused_until))
        row.paused, row.paused_until, row.updated_at = False, None, now
        session.add(row)
    return ended
