"""Breaks in the database, on SQLite and PostgreSQL: claimed by one worker at a time, taken
over when a worker dies, purged when old (never while running)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import select

from bot.clock import utcnow
from bot.config import load_config
from bot.delivery import Outbox
from bot.pseudonyms import Keyring
from bot.recovery.breaks import BreakService
from bot.recovery.phone import PhoneSystem
from bot.recovery.worker import BreakWorker
from bot.retention import purge
from bot.roster import Roster
from handlers.telephony.aircall_api import AircallUsers
from handlers.telephony.rest import make_http_client
from storage import breaks as queue
from storage.db import make_engine, session_scope, upgrade
from storage.models import Break, BreakState, OutboxMessage, TalkRequest
from tests.conftest import PSEUDONYM_KEY, ROSTER, FakeApi
from tests.fakes.provider_apis import FakeAircall
from tests.helpers import wait_until

CONFIG = load_config(ROSTER)
KEYRING = Keyring(PSEUDONYM_KEY.encode())
ROSTER_NOW = Roster(
    CONFIG,
    {a.email: uuid.uuid4().hex for t in CONFIG.teams for a in t.agents},
    KEYRING,
)


def on_break(n: int, *, ends: datetime, team: str = "billing", claimed_at: datetime | None = None) -> Break:
    return Break(
        id=f"b{n:04d}",
        request_key=f"checkin:{n}",
        team_id=team,
        pseudonym=f"p{n}",
        kid="k",
        provider="aircall",
        state=BreakState.ON_BREAK,
        minutes=5,
        requested_at=ends - timedelta(minutes=5),
        started_at=ends - timedelta(minutes=5),
        ends_at=ends,
        next_attempt_at=ends,
        phone_user_id=str(1000 + n),
        previous_status="available",
        break_status="unavailable",
        claimed_at=claimed_at,
    )


def service(phones: dict[str, PhoneSystem]) -> BreakService:
    return BreakService(
        settings=CONFIG.settings,
        outbox=Outbox(KEYRING),
        phones=phones,
        roster=lambda: ROSTER_NOW,
        wake=threading.Event(),
    )


def test_a_break_is_claimed_once_and_again_only_after_its_lease_runs_out(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        session.add(on_break(1, ends=now - timedelta(seconds=1)))
        session.add(
            on_break(2, ends=now - timedelta(seconds=1), claimed_at=now - timedelta(minutes=5))
        )  # dead worker
        session.add(on_break(3, ends=now - timedelta(seconds=1), claimed_at=now))  # a live worker holds it
        session.add(on_break(4, ends=now + timedelta(minutes=1)))  # not due yet
    with session_scope(engine) as session:
        claimed = {row.id for row in queue.claim_due(session, now=now, limit=10)}
    assert claimed == {"b0001", "b0002"}
    with session_scope(engine) as session:
        assert queue.claim_due(session, now=now, limit=10) == []
        assert queue.next_due_at(session) == now + timedelta(minutes=1)


def test_purge_keeps_running_breaks_and_forgets_old_finished_ones(engine: Engine) -> None:
    now = utcnow()
    old = now - timedelta(days=91)
    with session_scope(engine) as session:
        session.add(on_break(1, ends=old))  # still to be restored, however old
        done = on_break(2, ends=old)
        done.state = BreakState.RESTORED
        session.add(done)
        session.add(on_break(3, ends=now))
        session.add(
            TalkRequest(
                id="t1",
                request_key="checkin:t1",
                team_id="billing",
                pseudonym="p",
                kid="k",
                kind="mate",
                created_at=old,
            )
        )
        session.add(
            TalkRequest(
                id="t2",
                request_key="checkin:t2",
                team_id="billing",
                pseudonym="p",
                kid="k",
                kind="lead",
                created_at=now,
            )
        )
    with session_scope(engine) as session:
        counts = purge(session, CONFIG.settings, now=now)
    assert counts["breaks"] == 1 and counts["talk requests"] == 1
    with session_scope(engine) as session:
        assert sorted(b.id for b in session.exec(select(Break))) == ["b0001", "b0003"]
        assert [t.id for t in session.exec(select(TalkRequest))] == ["t2"]


def test_two_workers_on_postgresql_restore_each_break_exactly_once(
    pg_schema_url: str, fake_api: FakeApi
) -> None:
    engines = [make_engine(pg_schema_url) for _ in range(2)]
    upgrade(engines[0])
    fake: FakeAircall = fake_api(FakeAircall, api_id="id", api_token="token")
    fake.state.latency_s = 0.01  # slow enough for the two workers to overlap
    now = utcnow()
    with session_scope(engines[0]) as session:
        for n in range(30):
            fake.add_user(str(1000 + n), "unavailable")
            session.add(on_break(n, ends=now - timedelta(seconds=1)))
    stop = threading.Event()
    clients = [make_http_client() for _ in engines]
    workers = [
        BreakWorker(
            engine=engine,
            breaks=service(
                {"aircall": AircallUsers(client, base_url=fake.url, api_id="id", api_token="token")}
            ),
            wake=threading.Event(),
            batch=3,
            poll_s=0.05,
        )
        for engine, client in zip(engines, clients, strict=True)
    ]
    threads = [threading.Thread(target=w.run_forever, args=(stop,)) for w in workers]
    for thread in threads:
        thread.start()
    try:
        fake.wait_for("PUT", 30, timeout=20)
        wait_until(lambda: all_restored(engines[0]))
    finally:
        # Once both workers have stopped, a late second restore would already be recorded.
        stop.set()
        for worker in workers:
            worker.wake.set()
        for thread in threads:
            thread.join(5)
        for client in clients:
            client.close()
    assert not any(thread.is_alive() for thread in threads)
    restored = Counter(r.path for r in fake.requests("PUT"))
    assert len(restored) == 30 and set(restored.values()) == {1}
    with session_scope(engines[0]) as session:
        rows = list(session.exec(select(Break)))
        assert {row.state for row in rows} == {BreakState.RESTORED}
        assert all(row.phone_user_id is None and row.previous_status is None for row in rows)
    for engine in engines:
        engine.dispose()


def all_restored(engine: Engine) -> bool:
    with session_scope(engine) as session:
        return {row.state for row in session.exec(select(Break))} == {BreakState.RESTORED}


def test_a_break_request_found_only_after_its_time_is_dropped_not_started(
    engine: Engine, fake_api: FakeApi
) -> None:
    fake: FakeAircall = fake_api(FakeAircall, api_id="id", api_token="token")
    fake.add_user("1001", "available")
    now = utcnow()
    with session_scope(engine) as session:
        session.add(
            Break(
                id="stale",
                request_key="checkin:stale",
                team_id="billing",
                pseudonym="p",
                kid="k",
                provider="aircall",
                state=BreakState.REQUESTED,
                minutes=5,
                requested_at=now - timedelta(minutes=30),  # the process was down since the click
                next_attempt_at=now - timedelta(minutes=30),
                phone_user_id="1001",
                message_channel="D0ANA",
                message_ts="1.1",
            )
        )
    with make_http_client() as client:
        api = AircallUsers(client, base_url=fake.url, api_id="id", api_token="token")
        worker = BreakWorker(engine=engine, breaks=service({"aircall": api}), wake=threading.Event())
        assert worker.run_once() == 1
    assert fake.requests() == []  # the agent is not taken off calls by surprise
    with session_scope(engine) as session:
        row = session.get(Break, "stale")
        assert row is not None and row.state == BreakState.FAILED and row.phone_user_id is None
        (update,) = session.exec(select(OutboxMessage)).all()
        assert update.kind == "update" and "couldn't change your status in Aircall" in update.payload["text"]
