"""Compliment records on SQLite and PostgreSQL: consent expiry and retention."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import select

from bot.clock import utcnow
from bot.compliments.service import ComplimentService
from bot.config import ProductSettings
from bot.delivery import Outbox
from bot.pseudonyms import Keyring
from bot.roster import Roster
from storage.db import session_scope
from storage.models import Compliment, ComplimentStatus, Kudos
from tests.conftest import PSEUDONYM_KEY

SETTINGS = ProductSettings(retention_days=30, compliment_consent_hours=24)
KEYRING = Keyring(PSEUDONYM_KEY.encode())


def make_service() -> ComplimentService:
    def no_roster() -> Roster:
        raise AssertionError("these tests need no roster")

    return ComplimentService(settings=SETTINGS, outbox=Outbox(KEYRING), keyring=KEYRING, roster=no_roster)


def compliment(status: ComplimentStatus, age: timedelta, text: str = "Thank you") -> Compliment:
    return Compliment(
        id=uuid.uuid4().hex,
        source="test",
        source_key=uuid.uuid4().hex,
        team_id="billing",
        pseudonym="p" * 64,
        kid="k1",
        text=text,
        status=status,
        received_at=utcnow() - age,
    )


def test_unanswered_compliments_become_private_after_the_consent_window(engine: Engine) -> None:
    service = make_service()
    late, fresh, kept = (
        compliment(ComplimentStatus.PENDING, timedelta(hours=25)),
        compliment(ComplimentStatus.PENDING, timedelta(hours=23)),
        compliment(ComplimentStatus.PRIVATE, timedelta(hours=30)),
    )
    with session_scope(engine) as session:
        session.add_all([late, fresh, kept])
    with session_scope(engine) as session:
        assert service.expire(session, now=utcnow()) == 1
    with session_scope(engine) as session:
        statuses = {row.id: row.status for row in session.exec(select(Compliment))}
    assert statuses == {
        late.id: ComplimentStatus.EXPIRED,
        fresh.id: ComplimentStatus.PENDING,
        kept.id: ComplimentStatus.PRIVATE,
    }


def test_retention_deletes_old_compliments_but_keeps_a_shared_ones_way_back(engine: Engine) -> None:
    service = make_service()
    old_private = compliment(ComplimentStatus.PRIVATE, timedelta(days=31))
    old_removed = compliment(ComplimentStatus.REMOVED, timedelta(days=31))
    old_shared = compliment(ComplimentStatus.SHARED, timedelta(days=31), text="Still in the channel")
    old_shared.post_channel, old_shared.post_ts = "C0BILLING", "1.2"
    recent = compliment(ComplimentStatus.PRIVATE, timedelta(days=29))
    with session_scope(engine) as session:
        session.add_all([old_private, old_removed, old_shared, recent])
        session.add(
            Kudos(id="old", team_id="billing", author_key="a", created_at=utcnow() - timedelta(days=31))
        )
        session.add(Kudos(id="new", team_id="billing", author_key="a", created_at=utcnow()))
    with session_scope(engine) as session:
        counts = service.purge(session, now=utcnow())
    assert counts == {"compliments": 2, "shared compliments emptied": 1, "kudos": 1}
    with session_scope(engine) as session:
        left = {row.id: row for row in session.exec(select(Compliment))}
        assert set(left) == {old_shared.id, recent.id}
        assert left[old_shared.id].text == "" and left[old_shared.id].post_ts == "1.2"
        assert [k.id for k in session.exec(select(Kudos))] == ["new"]
