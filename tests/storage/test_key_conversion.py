"""Migration 0008 on a database written by an earlier version: identifiers stored in the clear
become keyed hashes (with the key `breather db upgrade` hands over), and a bare migration
without the key refuses to run; and a rotation merges a person's row written twice."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, select

from bot.compliments import names
from bot.keys import legacy_conversion, rotate
from bot.pseudonyms import Keyring
from storage.db import make_engine, upgrade
from tests.conftest import PSEUDONYM_KEY

KEYRING = Keyring(PSEUDONYM_KEY.encode())
NOW = datetime.now(UTC)


def tables(engine: Engine) -> dict[str, Table]:
    metadata = MetaData()
    metadata.reflect(engine)
    return dict(metadata.tables)


def seed_an_old_version(engine: Engine) -> str:
    """Rows as Breather wrote them before keyed hashes; returns Ana's pseudonym."""
    ana = KEYRING.of("a1")
    t = tables(engine)
    common = {"team_id": "billing", "pseudonym": ana, "kid": KEYRING.kid}
    rows: dict[str, list[dict[str, Any]]] = {
        "teams": [
            {
                "id": "billing",
                "name": "Billing",
                "timezone": "UTC",
                "language": "en",
                "active": True,
                "updated_at": NOW,
            }
        ],
        "agents": [
            {
                "id": "a1",
                "email": "ana@example.com",
                "team_id": "billing",
                "name": "Ana Popescu",
                "provider_ids": {},
                "active": True,
                "created_at": NOW,
                "updated_at": NOW,
            }
        ],
        "inbound_events": [
            {
                "provider": "generic",
                "event_id": "evt-1",
                "kind": "call",
                "payload": {"call_id": "c-1"},
                "received_at": NOW,
                "processed_at": NOW,
                **common,
            }
        ],
        "calls": [
            {
                "provider": "generic",
                "call_id": "c-1",
                "ended_at": NOW,
                "tags": [],
                "signals": [],
                "hard": False,
                "created_at": NOW,
                "updated_at": NOW,
                **common,
            }
        ],
        "outbox": [
            {
                "key": "checkin:x1:answer",
                "kind": "update",
                "channel_key": "agent:a1",
                "target": {},
                "payload": {},
                "status": "sent",
                "attempts": 1,
                "next_attempt_at": NOW,
                "created_at": NOW,
            },
            {
                "key": "compliment:c9:post",
                "kind": "channel",
                "channel_key": "channel:C0BILLING",
                "target": {"channel": "C0BILLING", "topic": "compliment_post"},
                "payload": {"text": "hi"},
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": NOW,
                "created_at": NOW,
            },
        ],
        "compliments": [
            {
                "id": "c9",
                "source": "zendesk",
                "source_key": "ticket:77:good",
                "text": "Ana was so patient",
                "status": "shared",
                "received_at": NOW,
                **common,
            }
        ],
        "kudos": [{"id": "k1", "team_id": "billing", "author_key": "0" * 64, "created_at": NOW}],
        "chat_addresses": [
            {"agent_id": "person:" + "f" * 24, "platform": "slack", "user_id": "U0RADU", "updated_at": NOW},
            {"agent_id": "a1", "platform": "slack", "user_id": "U0ANA", "updated_at": NOW},
        ],
        "digest_releases": [
            {
                "team_id": "billing",
                "period_start": (NOW - timedelta(days=7)).date(),
                "metric": "calls",
                "scope": "team",
                "values": {"calls": 9},
                "contributors": [hashlib.sha256(ana.encode()).hexdigest()[:16]],
                "released_at": NOW,
            }
        ],
    }
    with engine.begin() as connection:
        for name, values in rows.items():
            connection.execute(t[name].insert(), values)
    return ana


def test_an_upgrade_hashes_what_an_earlier_version_stored_in_the_clear(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    upgrade(engine, "0007")
    ana = seed_an_old_version(engine)
    upgrade(engine, convert_legacy=legacy_conversion(KEYRING))
    t = tables(engine)
    with engine.connect() as connection:
        event = connection.execute(select(t["inbound_events"])).mappings().one()
        call = connection.execute(select(t["calls"])).mappings().one()
        sent, pending = sorted(connection.execute(select(t["outbox"])).mappings(), key=lambda r: r["status"])[
            ::-1
        ]
        compliment = connection.execute(select(t["compliments"])).mappings().one()
        kudos = connection.execute(select(t["kudos"])).mappings().one()
        addresses: list[str] = list(connection.execute(select(t["chat_addresses"].c.agent_id)).scalars())
        release = connection.execute(select(t["digest_releases"])).mappings().one()
    assert (event["event_id"], event["payload"]) == (KEYRING.token("event", "generic", "evt-1"), {})
    assert call["call_id"] == KEYRING.token("call", "generic", "c-1", "a1")
    assert (sent["key"], sent["channel_key"]) == (KEYRING.token("outbox", "checkin:x1:answer"), "")
    assert pending["key"] == KEYRING.token("outbox", "compliment:c9:post")
    assert pending["channel_key"] == "channel:C0BILLING" and pending["target"]["ref"] == "c9"
    assert compliment["source_key"] == KEYRING.token("compliment", "zendesk", "ticket:77:good")
    assert "Ana" not in compliment["text"]
    assert names.reveal(compliment["text"], "Ana Popescu", "?") == "Ana was so patient"
    assert kudos["author_key"] == "-"
    assert addresses == ["a1"]
    assert release["kid"] == KEYRING.kid and release["contributors"] == [KEYRING.current.fingerprint(ana)]
    engine.dispose()


def test_a_bare_migration_without_the_key_refuses_to_touch_stored_identifiers(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    upgrade(engine, "0007")
    seed_an_old_version(engine)
    with pytest.raises(RuntimeError, match="run `breather db upgrade`"):
        upgrade(engine)
    engine.dispose()


def test_a_switch_written_under_both_keys_mid_rotation_is_merged_keeping_the_latest(engine: Engine) -> None:
    new = Keyring(b"another-pseudonym-key-for-this-test-0123456789", [PSEUDONYM_KEY.encode()])
    t = tables(engine)
    with engine.begin() as connection:
        connection.execute(
            t["teams"].insert(),
            {
                "id": "billing",
                "name": "B",
                "timezone": "UTC",
                "language": "en",
                "active": True,
                "updated_at": NOW,
            },
        )
        connection.execute(
            t["agents"].insert(),
            {
                "id": "a1",
                "email": "a@example.com",
                "team_id": "billing",
                "name": "A",
                "provider_ids": {},
                "active": True,
                "created_at": NOW,
                "updated_at": NOW,
            },
        )
        prefs = t["agent_prefs"]
        connection.execute(
            prefs.insert(),
            [
                {
                    "pseudonym": KEYRING.of("a1"),
                    "kid": KEYRING.kid,
                    "paused": True,
                    "surveys_opted_out": False,
                    "updated_at": NOW,
                },
                {
                    "pseudonym": new.of("a1"),
                    "kid": new.kid,
                    "paused": False,
                    "surveys_opted_out": False,
                    "updated_at": NOW - timedelta(hours=1),
                },
            ],
        )
    (result,) = rotate(engine, new)
    assert result.merged == 1 and result.retired
    with engine.connect() as connection:
        (row,) = connection.execute(select(t["agent_prefs"])).mappings().all()
    assert (row["pseudonym"], row["kid"], row["paused"]) == (new.of("a1"), new.kid, True)
