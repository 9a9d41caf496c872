"""How long `breather keys rotate` takes on a 100,000-row dataset, on SQLite or PostgreSQL.

The dataset is a centre of `--agents` agents with `--rows` rows under pseudonyms of the old key,
spread over the tables as a few months of use would (mostly calls, then events, survey rows,
check-ins, compliments, breaks, talk requests and every agent's switches), plus kudos and
digest releases. Rotation (`bot.keys.rotate`, in batches of `--batch` rows, each its own
transaction, as it runs beside `breather serve`) moves them to the new key.

The floor, measured on the same database in the same run: a plain UPDATE rewriting the same
columns (`pseudonym`, with its indexes, and `kid`) of the same rows, one statement per table,
with no look-up of the new value and no batches; the least a re-key must do is write every row
once.

    python bench/rotate.py [--rows 100000] [--agents 1000] [--batch 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, text  # noqa: E402

from bench.common import fresh_database, say  # noqa: E402
from bot.keys import PSEUDONYM_TABLES, rotate, usage  # noqa: E402
from bot.pseudonyms import Keyring  # noqa: E402
from storage.db import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Agent,
    AgentPrefs,
    Break,
    Call,
    Checkin,
    Compliment,
    DigestRelease,
    InboundEvent,
    Kudos,
    SurveyAnswer,
    SurveyInvitation,
    SurveyRound,
    TalkRequest,
    Team,
)

OLD = b"bench-old-pseudonym-key-0123456789-abcdefghij"
NEW = b"bench-new-pseudonym-key-0123456789-abcdefghij"
# Share of the rows per table (agent_prefs: one per agent, on top).
SHARES = {
    "calls": 0.70,
    "inbound_events": 0.10,
    "survey_invitations": 0.05,
    "survey_answers": 0.05,
    "checkins": 0.07,
    "compliments": 0.01,
    "breaks": 0.005,
    "talk_requests": 0.005,
}


def seed(engine: Engine, rows: int, agents: int, rng: random.Random) -> int:
    """Write the dataset under the old key; returns how many rows carry a pseudonym."""
    old = Keyring(OLD)
    now = datetime.now(UTC)
    ids = [uuid.uuid4().hex for _ in range(agents)]
    pseudonyms = [old.of(agent_id) for agent_id in ids]
    common = {"team_id": "t1", "kid": old.kid}

    def who() -> tuple[str, str]:
        index = rng.randrange(agents)
        return ids[index], pseudonyms[index]

    def when() -> datetime:
        return now - timedelta(minutes=rng.randrange(90 * 24 * 60))

    counts = {table: int(rows * share) for table, share in SHARES.items()}
    tables: dict[Any, list[dict[str, Any]]] = {
        Team: [
            {"id": "t1", "name": "T", "timezone": "UTC", "language": "en", "active": True, "updated_at": now}
        ],
        Agent: [
            {
                "id": a,
                "email": f"a{i}@bench.example",
                "team_id": "t1",
                "name": f"Agent {i}",
                "provider_ids": {},
            }
            | {"active": True, "created_at": now, "updated_at": now}
            for i, a in enumerate(ids)
        ],
        AgentPrefs: [
            {"pseudonym": p, "kid": old.kid, "paused": i % 7 == 0, "updated_at": now}
            for i, p in enumerate(pseudonyms)
        ],
        SurveyRound: [
            {
                "id": f"r{n}",
                "team_id": "t1",
                "period_start": (now - timedelta(weeks=2 * n)).date(),
                "instruments": ["who5"],
            }
            | {"opened_at": now, "closes_at": now, "invited": agents, "responded": 0}
            for n in range(6)
        ],
    }
    calls = []
    for n in range(counts["calls"]):
        agent_id, pseudonym = who()
        token = old.token("call", "generic", f"c{n}", agent_id)
        ended = when()
        calls.append(
            {"id": n + 1, "provider": "generic", "call_id": token, "pseudonym": pseudonym, "ended_at": ended}
            | {
                "duration_s": 240.0,
                "tags": [],
                "signals": [],
                "hard": n % 10 == 0,
                "created_at": ended,
                "updated_at": ended,
            }
            | common
        )
    tables[Call] = calls
    tables[Checkin] = [
        {
            "id": uuid.uuid4().hex,
            "call_id": calls[n * 10]["id"],
            "pseudonym": calls[n * 10]["pseudonym"],
            "reasons": ["abuse"],
        }
        | {"created_at": calls[n * 10]["ended_at"], "answer": "ok"}
        | common
        for n in range(min(counts["checkins"], len(calls) // 10))
    ]
    tables[InboundEvent] = [
        {
            "provider": "generic",
            "event_id": old.token("event", "generic", f"e{n}"),
            "kind": "call",
            "pseudonym": who()[1],
        }
        | {"payload": {}, "received_at": now, "processed_at": now}
        | common
        for n in range(counts["inbound_events"])
    ]
    invited: set[tuple[str, str]] = set()
    invitations: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    while len(invitations) < counts["survey_invitations"]:
        slot = (f"r{rng.randrange(6)}", who()[1])
        if slot in invited:
            continue
        invited.add(slot)
        invitations.append(
            {
                "id": uuid.uuid4().hex,
                "round_id": slot[0],
                "pseudonym": slot[1],
                "kid": old.kid,
                "state": "answered",
            }
            | {"send_after": now}
        )
        if len(answers) < counts["survey_answers"]:
            answers.append(
                {"round_id": slot[0], "pseudonym": slot[1], "instrument": "who5", "instrument_version": "1"}
                | {"answers": {}, "score": 60.0, "flagged": False, "submitted_at": now}
                | common
            )
    tables[SurveyInvitation], tables[SurveyAnswer] = invitations, answers
    tables[Compliment] = [
        {
            "id": uuid.uuid4().hex,
            "source": "generic",
            "source_key": old.token("compliment", "generic", f"f{n}"),
        }
        | {"pseudonym": who()[1], "text": "Thank you", "status": "private", "received_at": now}
        | common
        for n in range(counts["compliments"])
    ]
    tables[Break] = [
        {"id": uuid.uuid4().hex, "request_key": f"checkin:b{n}", "pseudonym": who()[1], "state": "restored"}
        | {"minutes": 5.0, "requested_at": now, "next_attempt_at": now, "attempts": 0}
        | common
        for n in range(counts["breaks"])
    ]
    tables[TalkRequest] = [
        {
            "id": uuid.uuid4().hex,
            "request_key": f"checkin:t{n}",
            "pseudonym": who()[1],
            "kind": "mate",
            "created_at": now,
        }
        | common
        for n in range(counts["talk_requests"])
    ]
    tables[Kudos] = [
        {
            "id": uuid.uuid4().hex,
            "team_id": "t1",
            "author_key": old.token("kudos-author", "agent", who()[0]),
            "created_at": now,
        }
        for _ in range(max(rows // 100, 1))
    ]
    tables[DigestRelease] = [
        {
            "team_id": "t1",
            "period_start": (now - timedelta(weeks=n)).date(),
            "metric": "calls",
            "scope": "team",
        }
        | {
            "values": {},
            "contributors": sorted(old.current.fingerprint(p) for p in pseudonyms[:20]),
            "kid": old.kid,
            "released_at": now,
        }
        for n in range(12)
    ]
    with engine.begin() as connection:
        for model, values in tables.items():
            if values:
                connection.execute(model.__table__.insert(), values)
    return sum(
        len(tables[model])
        for model in (
            Call,
            Checkin,
            InboundEvent,
            SurveyInvitation,
            SurveyAnswer,
            Compliment,
            Break,
            TalkRequest,
            AgentPrefs,
        )
    )


def floor(engine: Engine, kid: str) -> float:
    """Rewrite `pseudonym` (to a value of the same length) and `kid` of every row of the same
    tables: one plain UPDATE per table."""
    started = time.perf_counter()
    for table, _ in PSEUDONYM_TABLES:
        with engine.begin() as connection:
            connection.execute(
                text(f"UPDATE {table.name} SET pseudonym = upper(pseudonym), kid = :kid"), {"kid": kid}
            )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="breather-bench-rotate-"))
    database = fresh_database(args.database_url, workdir)
    engine = database.engine()
    try:
        upgrade(engine)
        say(f"seeding {args.rows} rows for {args.agents} agents ({database.backend})")
        started = time.perf_counter()
        stored = seed(engine, args.rows, args.agents, random.Random(args.seed))
        say(f"seeded {stored} pseudonymous rows in {time.perf_counter() - started:.1f} s")
        keyring = Keyring(NEW, [OLD])
        started = time.perf_counter()
        (result,) = rotate(engine, keyring, batch=args.batch)
        seconds = time.perf_counter() - started
        rekeyed = sum(n for place, n in result.rekeyed.items() if place.endswith(".pseudonym"))
        left = [use for use in usage(engine) if use.kid == result.old]
        pseudonyms_left = sum(use.rows for use in left if use.place.endswith(".pseudonym"))
        say(f"rotated {rekeyed} pseudonyms in {seconds:.2f} s; under the old key still: {left}")
        floor_seconds = floor(engine, keyring.kid)
        say(f"floor (plain UPDATE of the same rows): {floor_seconds:.2f} s")
        report = {
            "backend": database.backend,
            "rows": stored,
            "rekeyed": rekeyed,
            "kudos": result.rekeyed.get("kudos.author_key", 0),
            "digest_releases": result.rekeyed.get("digest_releases.contributors", 0),
            "batch": args.batch,
            "seconds": round(seconds, 2),
            "rows_per_s": round(rekeyed / seconds),
            "floor_seconds": round(floor_seconds, 2),
            "ratio": round(seconds / floor_seconds, 1),
            "pseudonyms_left": pseudonyms_left,
            "dedupe_hashes_left": sum(use.rows for use in left) - pseudonyms_left,
        }
    finally:
        engine.dispose()
        database.drop()
    print(json.dumps(report))
    return 0 if report["pseudonyms_left"] == 0 and report["rekeyed"] == stored else 1


if __name__ == "__main__":
    raise SystemExit(main())
