"""A team lead's own switches (`lead_prefs`): the daily thanks nudge, and the language of a
lead who is not an agent. Leads are e-mail addresses in breather.yml, so the row is keyed by a
keyed hash of the e-mail, never the address; `breather keys rotate` re-makes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.config import BreatherConfig
from bot.pseudonyms import Keyring
from storage.models import LeadPrefs
from storage.upsert import insert_ignore

PURPOSE = "lead-prefs"  # bot/keys.py re-makes these tokens under a new key


def lead_emails(config: BreatherConfig | None) -> list[str]:
    """Everyone who may have a `lead_prefs` row: the teams' leads and the admins."""
    if config is None:
        return []
    emails = {email.lower() for team in config.teams for email in team.managers}
    return sorted(emails | {admin.lower() for admin in config.settings.admins})


def lead_keys(keyring: Keyring, email: str) -> tuple[str, ...]:
    """The lead's row key under every live pseudonym key, the current one first."""
    return keyring.tokens(PURPOSE, email.lower())


def lead_rows(session: Session, keyring: Keyring, email: str) -> list[LeadPrefs]:
    """The lead's rows (more than one only during a key rotation), the current key's first."""
    keys = lead_keys(keyring, email)
    rows = session.exec(select(LeadPrefs).where(col(LeadPrefs.person_key).in_(keys))).all()
    return sorted(rows, key=lambda row: keys.index(row.person_key))


def set_lead_prefs(session: Session, keyring: Keyring, email: str, now: datetime, **values: Any) -> None:
    """Write `values` into the lead's row, creating it under the current key when missing;
    every live row is kept in step so a rotation under way loses nothing."""
    insert_ignore(
        session,
        LeadPrefs,
        {"person_key": lead_keys(keyring, email)[0], **values, "updated_at": now},
        ["person_key"],
    )
    for row in lead_rows(session, keyring, email):
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = now
        session.add(row)


def forget_former_leads(session: Session, keyring: Keyring, config: BreatherConfig) -> int:
    """Delete the switches of people who no longer lead a team or administer Breather: the
    data inventory keeps `lead_prefs` only while the person leads. Returns how many went."""
    kept = [key for email in lead_emails(config) for key in lead_keys(keyring, email)]
    statement = delete(LeadPrefs).where(col(LeadPrefs.person_key).not_in(kept))
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
