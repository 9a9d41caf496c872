"""Team digest benchmark: a synthetic year of a large contact centre, then the digest for one
team and for every team.

What it does:

1. builds a teams configuration in memory (`--teams` teams sharing `--agents` agents, Monday
   to Friday 08:00-17:00 in four time zones, 2-3 queues each, a pulse survey every 2 weeks);
2. migrates a fresh database with Alembic (SQLite in a temp dir, or a fresh schema in the
   PostgreSQL database given) and fills it with 52 weeks of calls, check-ins and survey
   rounds, invitations and answers, written with the driver directly (SQLite `executemany`
   in one transaction, PostgreSQL `COPY`), then `VACUUM ANALYZE` on PostgreSQL;
3. floor: `SELECT count(*)` of the first team's calls over the digest's 12 weeks, through the
   same engine and index the digest uses;
4. times `DigestService.digest` for that team in its own `session_scope`, as the app does:
   cold (no figure released yet for those weeks, so the gate logs every one) and warm (the
   same digest again, reading the frozen figures), each the median of `--runs`; then every
   team once, cold;
5. checks the digest against counts taken directly from the database.

Progress goes to stderr. The last line on stdout is one JSON object:
seconds (one team, cold, median), warm_seconds, floor_seconds, ratio (seconds / floor_seconds),
all_teams_seconds, all_teams_warm_seconds, per_team_max_seconds, calls, answers, checkins, teams, agents,
generate_seconds, backend, steps, verified.
The exit code is 1 when the digest disagrees with the direct counts, else 0 (goal met or not).

    .venv/bin/python bench/digest.py [--database-url URL] [--agents N] [--teams T]
                                     [--calls C] [--answers A] [--runs R] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import random
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, String, cast, func, select, text
from sqlmodel import col

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.config import WEEKDAYS, AgentConfig, BreatherConfig, PulseConfig, TeamConfig  # noqa: E402
from bot.digests.aggregates import call_weeks, checkin_weeks, wellbeing_weeks  # noqa: E402
from bot.digests.periods import Week, complete_weeks  # noqa: E402
from bot.digests.service import DigestService  # noqa: E402
from bot.pseudonyms import Keyring, People  # noqa: E402
from bot.surveys.instruments import BURNOUT_SINGLE, WHO5  # noqa: E402
from storage.db import make_engine, read_scope, session_scope, upgrade  # noqa: E402
from storage.models import Call, Checkin  # noqa: E402

# Wednesday 25 November 2026, 10:00 in Bucharest (as in tests/digest_seed.py). Fixed, so a kept
# database gives the same digest weeks when it is benchmarked again.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Europe/Bucharest")).astimezone(UTC)
YEAR_DAYS = 364  # 52 whole weeks of data, ending the day before NOW
ZONES = ("Europe/Bucharest", "Europe/Lisbon", "America/New_York", "Asia/Manila")
QUEUES = ("billing", "support", "sales")
# 16 slots each, picked by 4 random bits: 3 queues about 9:5:2, 2 queues about 11:5.
QUEUE_SLOTS = {3: (0,) * 9 + (1,) * 5 + (2,) * 2, 2: (0,) * 11 + (1,) * 5}
# Check-in answers, picked by 4 random bits: ok 6, break 4, talk 1, no answer 5.
ANSWER_SLOTS: tuple[str | None, ...] = ("ok",) * 6 + ("break",) * 4 + ("talk",) + (None,) * 5
HARD_PER_1024 = 102  # about 10 % of calls are hard
CHECKIN_PER_1024 = 819  # about 80 % of hard calls get a check-in, so about 8 % of all calls
ANSWERS_PER_AGENT = 50  # the 50,000 answers for 1,000 agents
INSTRUMENTS_PER_ROUND = 2  # WHO-5 and the single burnout item
KID = "kbench000"
GOAL_SECONDS = 2.0
PROGRESS_EVERY = 500_000

CALL_COLUMNS = (
    "id",
    "provider",
    "call_id",
    "team_id",
    "pseudonym",
    "kid",
    "started_at",
    "ended_at",
    "duration_s",
    "direction",
    "disconnected_by",
    "transfers",
    "hold_s",
    "sentiment",
    "csat",
    "tags",
    "queue",
    "hard",
    "signals",
    "created_at",
    "updated_at",
)
CHECKIN_COLUMNS = (
    "id",
    "call_id",
    "team_id",
    "pseudonym",
    "kid",
    "reasons",
    "created_at",
    "answer",
    "answered_at",
)
ROUND_COLUMNS = (
    "id",
    "team_id",
    "period_start",
    "instruments",
    "opened_at",
    "closes_at",
    "invited",
    "responded",
)
INVITATION_COLUMNS = (
    "id",
    "round_id",
    "pseudonym",
    "kid",
    "state",
    "send_after",
    "sent_at",
    "reminded_at",
    "answered_at",
)
ANSWER_COLUMNS = (
    "id",
    "round_id",
    "team_id",
    "pseudonym",
    "kid",
    "instrument",
    "instrument_version",
    "answers",
    "score",
    "flagged",
    "submitted_at",
)

Row = tuple[Any, ...]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the centre ------------------------------------------------------------------------------


def pseudonym(agent: int) -> str:
    return hashlib.sha256(f"breather-bench/agent/{agent}".encode()).hexdigest()


def build_config(teams: int, agents: int) -> BreatherConfig:
    """`teams` teams sharing `agents` agents a0..a{agents-1}@bench.example, in four time zones."""
    members = [agents // teams + (1 if index < agents % teams else 0) for index in range(teams)]
    configs = []
    first = 0
    for index, size in enumerate(members):
        configs.append(
            TeamConfig(
                id=f"team-{index:02d}",
                name=f"Team {index:02d}",
                timezone=ZONES[index % len(ZONES)],
                managers=[f"lead{index}@bench.example"],
                agents=[AgentConfig(email=f"a{n}@bench.example") for n in range(first, first + size)],
                pulse=PulseConfig(),
            )
        )
        first += size
    return BreatherConfig(teams=configs)


def agent_number(agent: AgentConfig) -> int:
    return int(agent.email.split("@", 1)[0][1:])


# --- generating rows ---------------------------------------------------------------------------


class Stamps:
    """Epoch seconds -> the text a UTC timestamp column holds ("YYYY-MM-DD HH:MM:SS.ffffff" and, for
    PostgreSQL, "+00"), formatted without a datetime per call."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.days: dict[int, str] = {}

    def __call__(self, seconds: int) -> str:
        day, rest = divmod(seconds, 86400)
        prefix = self.days.get(day)
        if prefix is None:
            prefix = self.days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d ")
        hour, rest = divmod(rest, 3600)
        minute, second = divmod(rest, 60)
        return f"{prefix}{hour:02d}:{minute:02d}:{second:02d}{self.suffix}"


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def local_epoch(day: date, hour: int, minute: int, zone: ZoneInfo) -> int:
    return epoch(datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone))


@dataclass
class Tally:
    """What was generated, and the calls of the measured team in its latest complete week."""

    calls: int = 0
    checkins: int = 0
    rounds: int = 0
    invitations: int = 0
    answers: int = 0
    latest_week_calls: int = 0


@dataclass
class Plan:
    config: BreatherConfig
    target_calls: int
    target_answers: int
    stamp: Stamps
    rng: random.Random
    tally: Tally = field(default_factory=Tally)
    checkins: list[Row] = field(default_factory=list)

    @cached_property
    def days(self) -> list[date]:
        last = NOW.astimezone(ZoneInfo(ZONES[0])).date() - timedelta(days=1)
        return [last - timedelta(days=n) for n in range(YEAR_DAYS - 1, -1, -1)]

    def shifts(self, team: TeamConfig) -> dict[date, tuple[int, int]]:
        """Each working day's shift as (start, length) in epoch seconds."""
        start, end = team.shift.start, team.shift.end
        length = ((end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)) % (24 * 60) or 24 * 60
        working = {WEEKDAYS.index(day) for day in team.shift.days}
        return {
            day: (local_epoch(day, start.hour, start.minute, team.zone), length * 60)
            for day in self.days
            if day.weekday() in working
        }

    def calls(self) -> Iterator[Row]:
        """The year's calls in time order; fills `self.checkins` on the way."""
        teams = self.config.teams
        shifts = [self.shifts(team) for team in teams]
        people = [[pseudonym(agent_number(a)) for a in team.agents] for team in teams]
        slots = sum(len(shifts[i]) * len(people[i]) for i in range(len(teams)))
        base, spare = divmod(self.target_calls, slots)
        spare_share = spare / slots
        jitter = 2 if base >= 2 else 0  # +-2 calls a day, when it cannot go below none
        latest = complete_weeks(teams[0].zone, NOW)[-1]
        latest_range = (epoch(latest.begins), epoch(latest.ends))
        rng, stamp, checkins, tally = self.rng, self.stamp, self.checkins, self.tally
        abuse, other, none = '["abuse"]', '["sentiment"]', "[]"
        number = 0
        started = time.monotonic()
        for day in self.days:
            for index, team in enumerate(teams):
                shift = shifts[index].get(day)
                if shift is None:
                    continue
                shift_start, shift_length = shift
                queues = QUEUES[: 3 if index % 2 == 0 else 2]
                queue_slots = QUEUE_SLOTS[len(queues)]
                for person in people[index]:
                    count = base + (rng.random() < spare_share) + rng.randint(-jitter, jitter)
                    for _ in range(max(count, 0)):
                        bits = rng.getrandbits(64)
                        number += 1
                        ended = shift_start + (bits & 0x7FFF) % shift_length
                        duration = 60 + ((bits >> 15) & 0x3FF)
                        hard = ((bits >> 25) & 0x3FF) < HARD_PER_1024
                        abusive = hard and (bits >> 35) % 3 == 0
                        ended_text = stamp(ended)
                        yield (
                            number,
                            "bench",
                            f"c{number:09d}",
                            team.id,
                            person,
                            KID,
                            stamp(ended - duration),
                            ended_text,
                            duration,
                            "inbound",
                            "customer" if (bits >> 37) & 1 else "agent",
                            0,
                            (bits >> 38) & 0x3F,
                            -0.6 if hard else 0.4,
                            None,
                            '["abusive"]' if abusive else none,
                            queues[queue_slots[(bits >> 44) & 0xF]],
                            hard,
                            abuse if abusive else (other if hard else none),
                            ended_text,
                            ended_text,
                        )
                        if hard and ((bits >> 48) & 0x3FF) < CHECKIN_PER_1024:
                            answer = ANSWER_SLOTS[(bits >> 58) & 0xF]
                            checkins.append(
                                (
                                    f"ck{number:030d}",
                                    number,
                                    team.id,
                                    person,
                                    KID,
                                    abuse if abusive else other,
                                    stamp(ended + 30),
                                    answer,
                                    stamp(ended + 150) if answer else None,
                                )
                            )
                        if index == 0 and latest_range[0] <= ended < latest_range[1]:
                            tally.latest_week_calls += 1
                        if number % PROGRESS_EVERY == 0:
                            say(f"  {number:,} calls generated ({time.monotonic() - started:.0f} s)")
        tally.calls = number
        tally.checkins = len(checkins)

    def surveys(self) -> tuple[list[Row], list[Row], list[Row]]:
        """Rounds every `every_weeks` on the pulse day, invitations to everyone, answers from a share
        of them chosen so that the answers add up to about `target_answers`."""
        rng, stamp = self.rng, self.stamp
        plans: list[tuple[TeamConfig, list[tuple[date, int, int]]]] = []
        for team in self.config.teams:
            pulse = team.pulse or PulseConfig()
            wanted = WEEKDAYS.index(pulse.day)
            first = next(day for day in self.days if day.weekday() == wanted)
            opened = []
            day = first
            while day <= self.days[-1]:
                opens = local_epoch(day, pulse.at.hour, pulse.at.minute, team.zone)
                closes = opens + pulse.close_after_days * 86400
                if closes < epoch(NOW):
                    opened.append((day, opens, closes))
                day += timedelta(weeks=pulse.every_weeks)
            plans.append((team, opened))
        invitations_total = sum(len(team.agents) * len(opened) for team, opened in plans)
        share = min(1.0, self.target_answers / (INSTRUMENTS_PER_ROUND * invitations_total or 1))
        say(f"  survey response share {share:.0%} for about {self.target_answers:,} answers")
        rounds: list[Row] = []
        invitations: list[Row] = []
        answers: list[Row] = []
        for team, opened in plans:
            people = [pseudonym(agent_number(a)) for a in team.agents]
            for day, opens, closes in opened:
                round_id = f"r-{team.id}-{day:%Y%m%d}"
                responded = 0
                for person in people:
                    answered = rng.random() < share
                    answered_at = opens + rng.randint(600, closes - opens - 600) if answered else None
                    invitations.append(
                        (
                            f"i{len(invitations) + 1:031d}",
                            round_id,
                            person,
                            KID,
                            "answered" if answered else "sent",
                            stamp(opens),
                            stamp(opens),
                            None if answered else stamp(opens + 86400),
                            stamp(answered_at) if answered_at else None,
                        )
                    )
                    if answered_at is None:
                        continue
                    responded += 1
                    level = rng.randint(1, 5)
                    items = {f"who5_{n}": max(0, min(5, level + rng.randint(-1, 1))) for n in range(1, 6)}
                    option = rng.choice((1, 2, 2, 3, 3, 4, 5))
                    for instrument, given in ((WHO5, items), (BURNOUT_SINGLE, {"burnout_single_1": option})):
                        score = instrument.score(given)
                        assert score is not None
                        answers.append(
                            (
                                len(answers) + 1,
                                round_id,
                                team.id,
                                person,
                                KID,
                                instrument.id.value,
                                instrument.version,
                                json.dumps(given),
                                score.value,
                                score.flag,
                                stamp(answered_at),
                            )
                        )
                rounds.append(
                    (
                        round_id,
                        team.id,
                        day.isoformat(),
                        json.dumps(["who5", "burnout_single"]),
                        stamp(opens),
                        stamp(closes),
                        len(people),
                        responded,
                    )
                )
        self.tally.rounds, self.tally.invitations, self.tally.answers = (
            len(rounds),
            len(invitations),
            len(answers),
        )
        return rounds, invitations, answers


# --- loading -----------------------------------------------------------------------------------


class Loader(Protocol):
    suffix: str

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> None: ...

    def finish(self) -> None: ...


class SqliteLoader:
    """One transaction of `executemany`, with durability switched off for the load only."""

    suffix = ".000000"

    def __init__(self, path: str) -> None:
        import sqlite3

        self.connection = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=OFF", "cache_size=-1048576", "temp_store=MEMORY"):
            self.connection.execute(f"PRAGMA {pragma}")
        self.connection.execute("BEGIN")

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
        marks = ", ".join("?" for _ in columns)
        self.connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def finish(self) -> None:
        self.connection.execute("COMMIT")
        self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.connection.close()


class PostgresLoader:
    """`COPY ... FROM STDIN` in one transaction, then the id sequences and VACUUM ANALYZE."""

    suffix = ".000000+00"

    def __init__(self, url: str) -> None:
        import psycopg

        self.connection = psycopg.connect(url)

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
        with (
            self.connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def finish(self) -> None:
        for table in ("calls", "survey_answers"):
            self.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        self.connection.commit()
        self.connection.autocommit = True
        started = time.monotonic()
        self.connection.execute("VACUUM ANALYZE")
        say(f"  VACUUM ANALYZE: {time.monotonic() - started:.1f} s")
        self.connection.close()


def generate(plan: Plan, loader: Loader) -> None:
    gc.disable()  # millions of short-lived tuples; nothing cyclic
    try:
        started = time.monotonic()
        loader.load("calls", CALL_COLUMNS, plan.calls())
        say(f"  calls: {plan.tally.calls:,} in {time.monotonic() - started:.1f} s")
        step = time.monotonic()
        loader.load("checkins", CHECKIN_COLUMNS, plan.checkins)
        say(f"  check-ins: {plan.tally.checkins:,} in {time.monotonic() - step:.1f} s")
        step = time.monotonic()
        rounds, invitations, answers = plan.surveys()
        loader.load("survey_rounds", ROUND_COLUMNS, rounds)
        loader.load("survey_invitations", INVITATION_COLUMNS, invitations)
        loader.load("survey_answers", ANSWER_COLUMNS, answers)
        say(
            f"  surveys: {len(rounds):,} rounds, {len(invitations):,} invitations, {len(answers):,} answers"
            f" in {time.monotonic() - step:.1f} s"
        )
        step = time.monotonic()
        loader.finish()
        say(f"  commit and finish: {time.monotonic() - step:.1f} s")
    finally:
        plan.checkins.clear()
        gc.enable()


# --- the database ------------------------------------------------------------------------------


@dataclass
class Database:
    url: str  # SQLAlchemy URL
    driver_url: str  # what the loader opens: a file path or a libpq URL
    backend: str
    cleanup: Callable[[], None] = lambda: None
    reusable: str = ""  # the --database-url that finds this database again


def sqlite_database(url: str | None, keep: bool) -> Database:
    if url is None:
        workdir = Path(tempfile.mkdtemp(prefix="breather-digest-"))
        path = workdir / "bench.db"
        url = f"sqlite:///{path}"

        def cleanup() -> None:
            if keep:
                say(f"kept {path}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)

        return Database(url, str(path), "sqlite", cleanup, url)
    return Database(url, url.split(":///", 1)[1], "sqlite", lambda: None, url)


def postgres_database(url: str, keep: bool) -> Database:
    """A fresh schema in the database given (its own search_path), dropped at the end; a URL that
    already sets search_path is used as it is (to benchmark a kept database again)."""
    import psycopg

    libpq = "postgresql://" + url.split("://", 1)[1]
    if "search_path" in url:
        return Database("postgresql+psycopg://" + libpq.split("://", 1)[1], libpq, "postgresql", reusable=url)
    schema = f"bench_digest_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    say(f"created schema {schema}")
    separator = "&" if "?" in libpq else "?"
    scoped = f"{libpq}{separator}options={quote(f'-csearch_path={schema}', safe='')}"

    def cleanup() -> None:
        if keep:
            say(f"kept schema {schema}")
            return
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        say(f"dropped schema {schema}")

    return Database(
        "postgresql+psycopg://" + scoped.split("://", 1)[1], scoped, "postgresql", cleanup, scoped
    )


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def server_version(engine: Engine) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return "SQLite " + str(connection.execute(text("SELECT sqlite_version()")).scalar_one())
        return "PostgreSQL " + str(connection.execute(text("SHOW server_version")).scalar_one())


# --- measuring ---------------------------------------------------------------------------------


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def forget_releases(engine: Engine, team_id: str | None = None) -> None:
    """Remove released figures, so the next digest is computed and gated from scratch."""
    with session_scope(engine) as session:
        if team_id is None:
            session.execute(text("DELETE FROM digest_releases"))
        else:
            session.execute(text("DELETE FROM digest_releases WHERE team_id = :team"), {"team": team_id})


def digest_once(engine: Engine, service: DigestService, team: TeamConfig) -> dict[str, Any]:
    """The digest in the contract's JSON form (what the checks below read)."""
    with session_scope(engine) as session:
        return service.digest(session, team, NOW).to_json()


def count_calls(engine: Engine, team_id: str, begins: datetime, ends: datetime) -> int:
    """The floor: the team's calls in the range, through the same index as the digest's query."""
    statement = (
        select(func.count())
        .select_from(Call)
        .where(col(Call.team_id) == team_id, col(Call.ended_at) >= begins, col(Call.ended_at) < ends)
    )
    with read_scope(engine) as session:
        return int(session.execute(statement).scalar_one())


def direct_week(engine: Engine, team_id: str, week: Week) -> dict[str, int]:
    """The latest week's call and check-in figures, counted without the digest's code."""
    in_week = (col(Call.ended_at) >= week.begins, col(Call.ended_at) < week.ends)
    checkin_in_week = (
        col(Checkin.team_id) == team_id,
        col(Checkin.created_at) >= week.begins,
        col(Checkin.created_at) < week.ends,
    )
    abusive = cast(col(Call.tags), String).like('%"abusive"%')
    calls: Any
    callers: Any
    checkins: Any
    checked: Any
    with read_scope(engine) as session:
        calls, callers = session.execute(
            select(func.count(), func.count(col(Call.pseudonym).distinct())).where(
                col(Call.team_id) == team_id, *in_week
            )
        ).one()
        abused: int = session.execute(
            select(func.count()).select_from(Call).where(col(Call.team_id) == team_id, abusive, *in_week)
        ).scalar_one()
        checkins, checked = session.execute(
            select(func.count(), func.count(col(Checkin.pseudonym).distinct())).where(*checkin_in_week)
        ).one()
    return {
        "calls": int(calls),
        "callers": int(callers),
        "abusive": int(abused),
        "checkins": int(checkins),
        "checked": int(checked),
    }


def shown(part: dict[str, Any], key: str) -> Any:
    return "suppressed" if part.get("suppressed") else part.get(key)


def verify(
    engine: Engine, team: TeamConfig, k: int, digest: dict[str, Any], twelve_weeks: int, tally: Tally | None
) -> bool:
    """The digest against direct counts; a figure of fewer than k people must be suppressed."""
    week = complete_weeks(team.zone, NOW)[-1]
    direct = direct_week(engine, team.id, week)

    def expect(value: int, people: int) -> Any:
        return value if people >= k else "suppressed"

    checks: list[tuple[str, Any, Any]] = [
        (
            "latest week's calls vs COUNT(*)",
            shown(digest["calls"], "calls"),
            expect(direct["calls"], direct["callers"]),
        ),
        (
            "latest week's abusive calls vs COUNT(*)",
            shown(digest["calls"], "abusive"),
            expect(direct["abusive"], direct["callers"]),
        ),
        (
            "latest week's check-ins vs COUNT(*)",
            shown(digest["checkins"], "sent"),
            expect(direct["checkins"], direct["checked"]),
        ),
    ]
    periods = [*digest["trend"], digest]
    if not any(p["calls"].get("suppressed") for p in periods):
        checks.append(
            (
                "12 weeks' calls vs the floor's COUNT(*)",
                sum(p["calls"]["calls"] for p in periods),
                twelve_weeks,
            )
        )
    if tally is not None:
        checks.append(
            (
                "latest week's calls vs generated",
                shown(digest["calls"], "calls"),
                expect(tally.latest_week_calls, direct["callers"]),
            )
        )
    ok = True
    for label, got, expected in checks:
        verdict = "ok" if got == expected else "MISMATCH"
        ok = ok and got == expected
        say(f"  {label}: digest {got}, expected {expected}: {verdict}")
    return ok


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def measure(engine: Engine, config: BreatherConfig, runs: int) -> tuple[dict[str, Any], dict[str, Any], int]:
    people = People(Keyring(secrets.token_bytes(32)))  # the bench's rows use made-up pseudonyms
    service = DigestService(settings=config.settings, people=lambda: people)
    team = config.teams[0]
    weeks = complete_weeks(team.zone, NOW)
    say(
        f"team {team.id} ({team.timezone}, {len(team.agents)} agents):"
        f" weeks {weeks[0].start} .. {weeks[-1].end}"
    )

    count_calls(engine, team.id, weeks[0].begins, weeks[-1].ends)  # the first touch pays for the cache
    floors = [
        timed(lambda: count_calls(engine, team.id, weeks[0].begins, weeks[-1].ends)) for _ in range(runs)
    ]
    twelve_weeks = floors[0][1]
    floor = median([seconds for seconds, _ in floors])
    say(f"floor: {twelve_weeks:,} calls in 12 weeks, median {floor * 1000:.1f} ms")

    forget_releases(engine)
    colds: list[float] = []
    first_digest: dict[str, Any] = {}
    for run in range(runs):
        forget_releases(engine, team.id)
        seconds, digest = timed(lambda: digest_once(engine, service, team))
        colds.append(seconds)
        first_digest = first_digest or digest
        say(f"  digest {team.id}, cold run {run + 1}: {seconds * 1000:.1f} ms")
    warms = []
    for run in range(runs):
        seconds, _ = timed(lambda: digest_once(engine, service, team))
        warms.append(seconds)
        say(f"  digest {team.id}, warm run {run + 1}: {seconds * 1000:.1f} ms")

    steps: dict[str, float] = {}
    with read_scope(engine) as session:
        for name, step in (
            ("call_weeks", call_weeks),
            ("checkin_weeks", checkin_weeks),
            ("wellbeing_weeks", wellbeing_weeks),
        ):
            steps[name] = round(
                median([timed(partial(step, session, team.id, weeks))[0] for _ in range(runs)]), 4
            )
    steps["gate_and_rest"] = round(max(0.0, median(colds) - sum(steps.values())), 4)
    say("  steps (median s): " + ", ".join(f"{name} {value:.4f}" for name, value in steps.items()))

    forget_releases(engine)
    per_team = []
    for each in config.teams:
        seconds, _ = timed(partial(digest_once, engine, service, each))
        per_team.append((seconds, each.id))
    all_teams = sum(seconds for seconds, _ in per_team)
    slowest = max(per_team)
    say(
        f"all {len(per_team)} teams, cold: {all_teams:.2f} s; slowest {slowest[1]} {slowest[0] * 1000:.1f} ms"
    )
    all_warm = sum(timed(partial(digest_once, engine, service, each))[0] for each in config.teams)
    say(f"all {len(per_team)} teams, warm: {all_warm:.2f} s")

    cold = median(colds)
    report = {
        "seconds": round(cold, 4),
        "warm_seconds": round(median(warms), 4),
        "floor_seconds": round(floor, 4),
        "ratio": round(cold / floor, 1) if floor else None,
        "all_teams_seconds": round(all_teams, 3),
        "all_teams_warm_seconds": round(all_warm, 3),
        "per_team_max_seconds": round(slowest[0], 4),
        "steps": steps,
    }
    return report, first_digest, twelve_weeks


# --- the run -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    config = build_config(args.teams, args.agents)
    answers_target = args.answers if args.answers is not None else ANSWERS_PER_AGENT * args.agents
    with contextlib.ExitStack() as stack:
        if args.database_url and args.database_url.startswith(("postgresql", "postgres:")):
            database = postgres_database(args.database_url, args.keep)
        elif args.database_url is None or args.database_url.startswith("sqlite:///"):
            database = sqlite_database(args.database_url, args.keep)
        else:
            raise SystemExit("--database-url: a postgresql:// or sqlite:/// URL")
        stack.callback(database.cleanup)
        engine = make_engine(database.url)
        stack.callback(engine.dispose)
        upgrade(engine)
        say(
            f"{server_version(engine)}; {args.teams} teams, {args.agents} agents,"
            f" now {NOW:%Y-%m-%d %H:%M} UTC"
        )

        tally: Tally | None = None
        generate_seconds: float | None = None
        existing = count(engine, "calls")
        if existing:
            say(f"reusing the {existing:,} calls already in the database (no generation)")
        else:
            say(f"generating a year: about {args.calls:,} calls and {answers_target:,} answers ...")
            loader: Loader = (
                SqliteLoader(database.driver_url)
                if database.backend == "sqlite"
                else PostgresLoader(database.driver_url)
            )
            plan = Plan(config, args.calls, answers_target, Stamps(loader.suffix), random.Random(args.seed))
            generate_seconds, _ = timed(lambda: generate(plan, loader))
            tally = plan.tally
            say(f"generated in {generate_seconds:.1f} s")
        if args.keep:
            say(f"re-run on this database with: --database-url '{database.reusable}'")

        report, digest, twelve_weeks = measure(engine, config, args.runs)
        say("checks:")
        verified = verify(
            engine, config.teams[0], config.settings.anonymity_min_group, digest, twelve_weeks, tally
        )
        totals = {table: count(engine, table) for table in ("calls", "survey_answers", "checkins")}

    result: dict[str, Any] = {
        **report,
        "calls": totals["calls"],
        "answers": totals["survey_answers"],
        "checkins": totals["checkins"],
        "teams": args.teams,
        "agents": args.agents,
        "generate_seconds": None if generate_seconds is None else round(generate_seconds, 1),
        "backend": database.backend,
        "verified": verified,
    }
    return result, not verified


def check_goal(report: dict[str, Any]) -> None:
    verdicts = []
    # all_teams_seconds: issue 20 asks for the digests of all 50 teams together in 2 s.
    for key in ("seconds", "warm_seconds", "per_team_max_seconds", "all_teams_seconds"):
        met = report[key] <= GOAL_SECONDS
        verdicts.append(f"{key} {report[key]:g} (goal <= {GOAL_SECONDS:g}) {'met' if met else 'MISSED'}")
    say("goal: " + "; ".join(verdicts))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the team digest over a synthetic year.")
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgresql://... (a fresh schema is created there and dropped; a URL with "
        "options=-csearch_path=... is used as it is) or sqlite:///path; default: SQLite in a temp dir",
    )
    parser.add_argument("--agents", type=int, default=1000, help="agents in the centre (default 1000)")
    parser.add_argument("--teams", type=int, default=50, help="teams (default 50)")
    parser.add_argument("--calls", type=int, default=2_700_000, help="calls in the year (default 2,700,000)")
    parser.add_argument(
        "--answers",
        type=int,
        default=None,
        help=f"survey answers in the year (default {ANSWERS_PER_AGENT} per agent)",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per median (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the database and print how to reuse it")
    args = parser.parse_args(argv)
    if args.teams < 1 or args.agents < args.teams or args.calls < 1 or args.runs < 1:
        parser.error("--teams, --calls and --runs must be positive and --agents at least --teams")
    if args.answers is not None and args.answers < 0:
        parser.error("--answers must not be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # A plain `kill` unwinds like Ctrl-C does: the temp files or the schema are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report, failed = run(args)
    check_goal(report)
    print(json.dumps(report), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
