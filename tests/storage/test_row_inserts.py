"""Many rows in one statement (storage/upsert.py): what goes in comes back exactly, on both
databases, whatever the number of rows and whatever the text or JSON holds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, exc
from sqlmodel import col, select

from bot.clock import utcnow
from storage.db import session_scope
from storage.models import Call, InboundEvent
from storage.upsert import insert_ignore_many, insert_many
from tests.helpers import inbound_row

# Text that a driver sending arrays as text must quote: braces, commas, quotes, backslashes,
# NULL spelled out, spaces, and letters beyond ASCII.
AWKWARD = ["a,b", "{x}", 'say "hi"', "back\\slash", "NULL", " padded ", "şi fără", "خسته"]


def call_row(index: int, **changes: Any) -> dict[str, Any]:
    moment = utcnow() - timedelta(minutes=index)
    values: dict[str, Any] = {
        "provider": "generic",
        "call_id": f"key-{index}",
        "team_id": "billing",
        "pseudonym": "p" * 64,
        "kid": "k0000000",
        "started_at": None if index % 2 else moment - timedelta(minutes=3),
        "ended_at": moment,
        "duration_s": None if index % 3 == 0 else 60.5 + index,
        "direction": None,
        "disconnected_by": "customer" if index % 2 else None,
        "transfers": index % 4,
        "hold_s": None,
        "sentiment": -0.25,
        "csat": None,
        "tags": [AWKWARD[index % len(AWKWARD)], "abusive"] if index % 5 else [],
        "queue": AWKWARD[index % len(AWKWARD)],
        "hard": bool(index % 2),
        "signals": ["hangup"] if index % 2 else [],
        "created_at": moment,
        "updated_at": moment,
    }
    return {**values, **changes}


def test_many_rows_go_in_as_given_and_give_back_their_ids(engine: Engine) -> None:
    rows = [call_row(i) for i in range(120)]  # far more parameters than one statement caches
    with session_scope(engine) as session:
        returned = insert_many(session, Call, rows, ["call_id", "id"])
    assert sorted(key for key, _ in returned) == sorted(row["call_id"] for row in rows)
    ids = dict(returned)
    with session_scope(engine) as session:
        stored = {call.call_id: call for call in session.exec(select(Call))}
    for row in rows:
        call = stored[row["call_id"]]
        assert call.id == ids[row["call_id"]]
        assert call.model_dump(exclude={"id"}) == row


def test_a_row_whose_key_is_taken_fails_the_whole_insert(engine: Engine) -> None:
    with session_scope(engine) as session:
        insert_many(session, Call, [call_row(1)], ["id"])
    with pytest.raises(exc.IntegrityError), session_scope(engine) as session:
        insert_many(session, Call, [call_row(2), call_row(1)], ["id"])
    with session_scope(engine) as session:
        assert session.exec(select(col(Call.call_id))).all() == ["key-1"]


def test_rows_already_there_are_skipped_and_the_others_named(engine: Engine) -> None:
    payloads = {f"e{i}": {"comment": AWKWARD[i % len(AWKWARD)], "tags": AWKWARD, "n": i} for i in range(30)}
    with session_scope(engine) as session:
        first = insert_ignore_many(
            session, InboundEvent, [inbound_row("e0", payload={"first": True})], ["provider", "event_id"]
        )
        later = insert_ignore_many(
            session,
            InboundEvent,
            [inbound_row(k, payload=v) for k, v in payloads.items()],
            ["provider", "event_id"],
        )
    assert first == {("generic", "e0")}
    assert later == {("generic", key) for key in payloads} - {("generic", "e0")}
    with session_scope(engine) as session:
        stored = {row.event_id: row.payload for row in session.exec(select(InboundEvent))}
    assert stored == {**payloads, "e0": {"first": True}}
