"""What the benchmarks share: a roster of synthetic agents, a fresh SQLite or PostgreSQL
database, `breather serve` (or another program) in a subprocess, and the server's
environment. Progress goes to stderr, so that each benchmark's last stdout line is its JSON."""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 180.0
ENV_PREFIXES = ("BREATHER_", "SLACK_", "TWILIO_", "AIRCALL_", "ZENDESK_", "DIALPAD_", "TEAMS_")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 2)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Agent:
    email: str
    user_id: str

    @property
    def dm_channel(self) -> str:
        # What the fake Slack answers to conversations.open for this user.
        return "D" + self.user_id.lstrip("UW")


def make_agents(count: int) -> list[Agent]:
    return [Agent(f"a{i}@bench.example", "U" + str(i).zfill(6)) for i in range(count)]


@dataclass
class Database:
    url: str  # what the server is given as DATABASE_URL
    backend: str
    drop: Callable[[], None] = lambda: None

    def engine(self) -> Engine:
        url = self.url
        if self.backend == "postgresql":
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return create_engine(url, poolclass=NullPool)


def sqlite_database(workdir: Path) -> Database:
    return Database(url=f"sqlite:///{workdir / 'bench.db'}", backend="sqlite")


def fresh_database(url: str | None, workdir: Path) -> Database:
    """What `--database-url` asks for: a fresh PostgreSQL database, or by default SQLite."""
    if url is None:
        return sqlite_database(workdir)
    if not url.startswith(("postgresql", "postgres:")):
        raise SystemExit("--database-url: only postgresql:// URLs are supported (SQLite is the default)")
    return postgres_database(url)


def postgres_database(url: str) -> Database:
    """A fresh database (or, without CREATEDB, a fresh schema) that `drop` removes again."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    admin = urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    name = f"breather_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.InsufficientPrivilege:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
            query = "&".join(q for q in (parts.query, urlencode({"options": f"-csearch_path={name}"})) if q)
            drop_statement = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
            say(f"no CREATEDB privilege: using schema {name} in {parts.path.lstrip('/')}")
            server_url = urlunsplit((scheme, parts.netloc, parts.path, query, ""))
        else:
            drop_statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            say(f"created database {name}")
            server_url = urlunsplit((scheme, parts.netloc, "/" + name, parts.query, ""))

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(drop_statement)
        say(f"dropped {name}")

    return Database(url=server_url, backend="postgresql", drop=drop)


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches only the bench, which stops us cleanly
        )

    def wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(self.url + "/healthz").status_code == 200:
                        return
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} not healthy after {START_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                say(f"{self.name} did not stop on SIGTERM; killing it")
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 20) -> str:
        try:
            content = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(content[-lines:])

    def log_lines(self) -> int:
        try:
            return len(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines())
        except OSError:
            return 0


def server_env(database: Database, config_path: Path, webhook_secret: str, slack_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES) and k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=database.url,
        BREATHER_CONFIG=str(config_path),
        BREATHER_PSEUDONYM_KEY=secrets.token_urlsafe(48),
        BREATHER_WEBHOOK_SECRET=webhook_secret,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET="bench",
        SLACK_API_URL=slack_url,
        BREATHER_LOG_LEVEL="WARNING",
    )
    return env


def breather_command() -> str:
    beside = Path(sys.executable).parent / "breather"
    if beside.exists():
        return str(beside)
    return str(ROOT / ".venv" / "bin" / "breather")
