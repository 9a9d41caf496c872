"""`breather audit` (issue 13, point 8): who read which team's digest and when, and what changed
in the configuration, exported as CSV or JSON from what Breather keeps anyway; never a word
about what an agent answered or did. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app as cli
from storage.db import make_engine, session_scope
from storage.models import Compliment, ComplimentStatus, DigestAccess, Kudos
from tests.conftest import PSEUDONYM_KEY, ROSTER


def run(database_url: str, *args: str) -> tuple[int, str, str]:
    env = {
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_CONFIG": str(ROSTER),
        "DATABASE_URL": database_url,
    }
    result = CliRunner().invoke(cli, ["audit", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_the_audit_lists_digest_reads_and_the_roster_as_loaded(database_url: str, tmp_path: Path) -> None:
    # The operator reads billing's digest (a read that is logged), then two leads read it in Slack.
    env = {
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_CONFIG": str(ROSTER),
        "DATABASE_URL": database_url,
    }
    assert (
        CliRunner().invoke(cli, ["digest", "--team", "billing", "--format", "json"], env=env).exit_code == 0
    )
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            session.add(
                DigestAccess(
                    reader="radu@example.com",
                    team_id="billing",
                    via="slack command",
                    at=datetime(2026, 11, 2, 9, tzinfo=UTC),
                )
            )
            session.add(
                DigestAccess(
                    reader="radu@example.com",
                    team_id="billing",
                    via="weekly dm",
                    at=datetime(2026, 11, 30, 9, tzinfo=UTC),
                )
            )
    finally:
        engine.dispose()

    code, out, _ = run(database_url)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    reads = [(r["team"], r["who"], r["detail"]) for r in rows if r["event"] == "digest_read"]
    assert reads[:2] == [
        ("billing", "radu@example.com", "via slack command"),
        ("billing", "radu@example.com", "via weekly dm"),
    ]
    assert reads[2] == ("billing", "operator (cli)", "via cli")
    assert {r["team"] for r in rows if r["event"] == "agent_joined"} == {"billing", "nights"}
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    # Agents are never named: the roster events say a team gained an agent, not who.
    for name in ("ana", "bob", "cris", "dana", "emil", "nora", "Popescu", "U0ANA"):
        assert name not in out

    code, out, _ = run(database_url, "--since", "2026-11-15", "--format", "json")
    assert code == 0
    exported = json.loads(out)
    assert [e["detail"] for e in exported if e["event"] == "digest_read"] == ["via weekly dm", "via cli"]
    assert set(exported[0]) == {"at", "event", "team", "who", "detail"}


def test_bad_options_are_one_line_and_exit_1(database_url: str) -> None:
    for args, says in (
        (["--since", "last week"], "--since must be a date"),
        (["--format", "xml"], "--format must be csv or json"),
    ):
        code, out, err = run(database_url, *args)
        assert code == 1 and out == "" and says in err and err.count("\n") == 1


def test_breather_purge_deletes_what_the_nightly_purge_does(database_url: str) -> None:
    # A compliment and a kudos past retention (the roster keeps 90 days) go, as they do at night;
    # before, `breather purge` ran only the general policy and left them.
    long_ago = datetime.now(UTC) - timedelta(days=400)
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            session.add(
                Compliment(
                    id="old",
                    source="test",
                    source_key="old",
                    team_id="billing",
                    pseudonym="p" * 64,
                    kid="k1",
                    text="Thank you, Ana",
                    status=ComplimentStatus.PRIVATE,
                    received_at=long_ago,
                )
            )
            session.add(Kudos(id="old", team_id="billing", author_key="a", created_at=long_ago))
        env = {
            "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
            "BREATHER_CONFIG": str(ROSTER),
            "DATABASE_URL": database_url,
        }
        result = CliRunner().invoke(cli, ["purge"], env=env)
        assert result.exit_code == 0, result.output
        assert "compliments: 1 deleted" in result.stdout and "kudos: 1 deleted" in result.stdout
        with session_scope(engine) as session:
            assert session.exec(select(Compliment)).all() == []
            assert session.exec(select(Kudos)).all() == []
    finally:
        engine.dispose()
