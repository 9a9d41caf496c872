"""Storage on SQLite and PostgreSQL: migrations match the models, roster sync, retention."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import yaml
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlmodel import SQLModel, select

from bot.clock import utcnow
from bot.config import load_config
from bot.lead_prefs import lead_rows, set_lead_prefs
from bot.pseudonyms import Keyring
from bot.retention import purge
from bot.roster import Roster, sync_roster
from storage.db import (
    LOCK,
    MIGRATION_LOCK,
    UNLOCK,
    alembic_config,
    at_head,
    make_engine,
    session_scope,
    upgrade,
)
from storage.models import Agent, AgentPrefs, Call, Checkin, InboundEvent, Team
from tests.conftest import PSEUDONYM_KEY, ROSTER

PSEUDONYMS = Keyring(PSEUDONYM_KEY.encode())


def test_migrations_produce_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), SQLModel.metadata
        )
    assert diff == []


def test_migrations_downgrade_and_upgrade_again(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "base")
    upgrade(engine)
    with session_scope(engine) as session:
        assert session.exec(select(Agent)).all() == []


def test_a_restart_on_an_up_to_date_postgresql_schema_does_not_wait_for_a_migration_lock(
    pg_schema_url: str,
) -> None:
    """Every start runs upgrade(); when there is nothing to migrate it neither loads the migration
    scripts nor queues behind another process's migration lock (one held elsewhere here)."""
    engine = make_engine(pg_schema_url)
    other = make_engine(pg_schema_url)
    try:
        assert not at_head(engine)
        upgrade(engine)
        assert at_head(engine)
        with other.connect() as holder:
            holder.execute(LOCK, {"key": MIGRATION_LOCK})
            restarted = threading.Thread(target=upgrade, args=(engine,), daemon=True)
            restarted.start()
            restarted.join(5)
            waited = restarted.is_alive()
            holder.execute(UNLOCK, {"key": MIGRATION_LOCK})
            holder.commit()
        restarted.join(5)
        assert not waited, "an up-to-date schema waited for the migration lock"
        command.downgrade(alembic_config(engine), "-1")  # one step behind: not at head any more
        assert not at_head(engine)
        upgrade(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert at_head(engine)
    finally:
        engine.dispose()
        other.dispose()


def test_roster_sync_keeps_ids_and_retires_departed_agents(engine: Engine, tmp_path: Path) -> None:
    config = load_config(ROSTER)
    with session_scope(engine) as session:
        first = sync_roster(session, config, PSEUDONYMS, utcnow())
    ana = Roster(config, first, PSEUDONYMS).find("email", "ana@example.com")
    assert ana is not None
    with session_scope(engine) as session:
        session.add(AgentPrefs(pseudonym=ana.pseudonym, kid=ana.kid, paused=True))

    data = yaml.safe_load(ROSTER.read_text())
    data["teams"][0]["agents"] = [a for a in data["teams"][0]["agents"] if a["email"] != "ana@example.com"]
    data["teams"] = data["teams"][:1]
    smaller = tmp_path / "smaller.yml"
    smaller.write_text(yaml.safe_dump(data))
    with session_scope(engine) as session:
        second = sync_roster(session, load_config(smaller), PSEUDONYMS, utcnow())
    assert "ana@example.com" not in second
    assert second["bob@example.com"] == first["bob@example.com"]  # stable ids, so stable pseudonyms
    with session_scope(engine) as session:
        assert session.get(Agent, first["ana@example.com"]).active is False  # type: ignore[union-attr]
        assert session.get(AgentPrefs, ana.pseudonym) is None  # her own switches go with her
        assert session.get(Team, "nights").active is False  # type: ignore[union-attr]

    with session_scope(engine) as session:
        again = sync_roster(session, config, PSEUDONYMS, utcnow())
    assert again["ana@example.com"] == first["ana@example.com"]


def test_roster_sync_deletes_the_switches_of_people_who_no_longer_lead(
    engine: Engine, tmp_path: Path
) -> None:
    data = yaml.safe_load(ROSTER.read_text())
    data["teams"][1]["managers"] = ["mara@example.com"]
    data.setdefault("settings", {})["admins"] = ["ioana@example.com"]
    both = tmp_path / "both.yml"
    both.write_text(yaml.safe_dump(data))
    people = ("radu@example.com", "mara@example.com", "ioana@example.com")
    with session_scope(engine) as session:
        sync_roster(session, load_config(both), PSEUDONYMS, utcnow())
        for email in people:
            set_lead_prefs(session, PSEUDONYMS, email, utcnow(), thanks_off=True, language="ro")

    data["teams"] = data["teams"][:1]  # Mara's team goes, and Mara with it
    data["teams"][0]["managers"] = ["RADU@example.com"]  # the same lead, however it is spelt
    smaller = tmp_path / "smaller.yml"
    smaller.write_text(yaml.safe_dump(data))
    with session_scope(engine) as session:
        sync_roster(session, load_config(smaller), PSEUDONYMS, utcnow())
    with session_scope(engine) as session:
        kept = {email: lead_rows(session, PSEUDONYMS, email) for email in people}
    assert kept["mara@example.com"] == []
    assert [(row.thanks_off, row.language) for row in kept["radu@example.com"]] == [(True, "ro")]
    assert len(kept["ioana@example.com"]) == 1  # an admin's switches stay while they administer


def test_purge_deletes_raw_records_past_retention(engine: Engine) -> None:
    now = utcnow()
    old, recent = now - timedelta(days=91), now - timedelta(days=1)
    with session_scope(engine) as session:
        for number, when in enumerate((old, recent)):
            call = Call(
                provider="generic",
                call_id=f"c{number}",
                team_id="billing",
                pseudonym="p",
                kid="k",
                ended_at=when,
                created_at=when,
                updated_at=when,
            )
            session.add(call)
            session.flush()
            session.add(
                Checkin(
                    id=f"k{number}",
                    call_id=call.id or 0,
                    team_id="billing",
                    pseudonym="p",
                    kid="k",
                    created_at=when,
                )
            )
            session.add(
                InboundEvent(
                    provider="generic",
                    event_id=f"e{number}",
                    kind="call",
                    team_id="billing",
                    pseudonym="p",
                    kid="k",
                    payload={},
                    received_at=when,
                    processed_at=when,
                )
            )
    with session_scope(engine) as session:
        counts = purge(session, load_config(ROSTER).settings, now=now)
    assert counts["calls"] == 1 and counts["check-ins"] == 1 and counts["inbound events"] == 1
    with session_scope(engine) as session:
        assert [c.call_id for c in session.exec(select(Call))] == ["c1"]
        assert [e.event_id for e in session.exec(select(InboundEvent))] == ["e1"]


def test_roster_syncs_started_at_the_same_moment_on_an_empty_database_all_succeed(engine: Engine) -> None:
    """Replicas starting together: each syncs breather.yml into empty tables at once. Without
    turns, two of them insert the same team and one dies on the unique key."""
    config = load_config(ROSTER)
    start = threading.Barrier(4)
    results: list[dict[str, str]] = []
    errors: list[BaseException] = []

    def replica() -> None:
        try:
            with session_scope(engine) as session:
                start.wait(timeout=10)
                results.append(sync_roster(session, config, PSEUDONYMS, utcnow()))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(results) == 4 and all(result == results[0] for result in results)  # one id per person
    with session_scope(engine) as session:
        assert len(session.exec(select(Agent)).all()) == len(results[0])
