"""Pulse-survey fan-out benchmark: one round for thousands of agents through the outbox, against
a Slack that refuses `chat.postMessage` beyond a workspace-wide rate.

What it does, all on this machine:

1. starts the fake Slack Web API (tests/fakes/slack_api.py) in this process, limited to
   `--allowed` chat.postMessage calls in any one second (429 with Retry-After beyond that);
2. writes a breather.yml with one round-the-clock team of `--agents` agents and a pulse block;
3. starts `breather serve` (SQLite in a temp dir, or a fresh PostgreSQL database);
4. runs `breather survey send --team fanout`, the operator's command, which opens the round
   and queues every invitation; the server's outbox worker delivers them;
5. waits until the outbox is empty, then counts, at the fake Slack, the invitations each
   agent's DM received.

achieved_per_s is the rate of accepted invitations between the first and the last one; the
floor is the allowed rate, so ratio = achieved / allowed. lost = agents with no invitation,
duplicated = invitations beyond one per agent. Progress goes to stderr; the last stdout line
is one JSON object: allowed_per_s, achieved_per_s, ratio, lost, duplicated, agents, refused,
seconds, backend. Exit code 1 when an invitation was lost or duplicated.

    .venv/bin/python bench/fanout.py [--agents N] [--allowed R] [--database-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Agent,
    Database,
    Service,
    breather_command,
    free_port,
    fresh_database,
    make_agents,
    say,
    server_env,
)

TEAM = "fanout"
DRAIN_TIMEOUT_S = 1800.0
GOALS = {"ratio": 0.9, "lost": 0, "duplicated": 0}


def write_teams_file(path: Path, agents: Sequence[Agent]) -> None:
    config = {
        "teams": [
            {
                "id": TEAM,
                "name": "Fan-out",
                "timezone": "UTC",
                # start == end: round the clock, every day, so no invitation waits for a shift.
                "shift": {
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "start": "00:00",
                    "end": "00:00",
                },
                "pulse": {"instruments": ["who5", "burnout_single"]},
                "agents": [{"email": a.email, "slack_user_id": a.user_id} for a in agents],
            }
        ]
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def outbox_left(database: Database) -> int:
    engine = database.engine()
    try:
        with engine.connect() as conn:
            count = conn.execute(
                text("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")
            ).scalar()
        return int(count or 0)
    finally:
        engine.dispose()


def wait_for_outbox(database: Database, expected: int, fake: Any) -> None:
    started = time.monotonic()
    reported = started
    while True:
        left = outbox_left(database)
        if left == 0:
            return
        now = time.monotonic()
        if now - started > DRAIN_TIMEOUT_S:
            say(f"  warning: {left} messages still queued after {DRAIN_TIMEOUT_S:.0f} s")
            return
        if now - reported >= 10:
            accepted = sum(1 for c in fake.calls("chat.postMessage") if c.status == 200)
            say(f"  {accepted}/{expected} invitations delivered, {left} queued")
            reported = now
        time.sleep(0.5)


@dataclass(frozen=True)
class Stage:
    """A fan-out run's surroundings: its folder, the fake Slack, the database, the server env."""

    workdir: Path
    fake: Any
    database: Database
    env: dict[str, str]

    def serve(self, stack: contextlib.ExitStack, label: str = "") -> Service:
        """Start `breather serve` (stopped with `stack`) and wait until it answers."""
        port = free_port()
        service = Service(
            name=f"breather serve{label}",
            argv=[breather_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=self.env,
            cwd=self.workdir,
            log_path=self.workdir / f"server{label.strip(' #')}.log",
            port=port,
        )
        stack.callback(service.stop)
        service.start()
        service.wait_ready()
        return service


def set_stage(
    stack: contextlib.ExitStack, args: argparse.Namespace, agents: Sequence[Agent], name: str
) -> Stage:
    """A temporary folder with the team's breather.yml, the fake Slack allowing `args.allowed`
    sends a second, and a fresh database; all removed when `stack` closes."""
    workdir = Path(tempfile.mkdtemp(prefix=f"breather-{name}-"))
    stack.callback(shutil.rmtree, workdir, ignore_errors=True)
    # Imported by name so that `mypy bench` checks the bench, not the test helpers too.
    slack_api = importlib.import_module("tests.fakes.slack_api")
    fake = slack_api.FakeSlack().start()
    stack.callback(fake.stop)
    fake.limit_rate("chat.postMessage", args.allowed)
    config_path = workdir / "breather.yml"
    write_teams_file(config_path, agents)
    database = fresh_database(args.database_url, workdir)
    stack.callback(database.drop)
    env = server_env(database, config_path, "unused-webhook-secret", fake.url)
    return Stage(workdir, fake, database, env)


def run(args: argparse.Namespace) -> dict[str, Any]:
    agents = make_agents(args.agents)
    with contextlib.ExitStack() as stack:
        stage = set_stage(stack, args, agents, "fanout")
        workdir, fake, database, env = stage.workdir, stage.fake, stage.database, stage.env
        say(f"starting breather serve ({database.backend}, {len(agents)} agents, {args.allowed}/s allowed)")
        server = stage.serve(stack)

        started = time.monotonic()
        sent = subprocess.run(
            [breather_command(), "survey", "send", "--team", TEAM],
            env=env,
            cwd=workdir,
            capture_output=True,
            text=True,
            check=False,
        )
        if sent.returncode != 0:
            raise SystemExit(f"breather survey send failed: {sent.stderr.strip()}")
        say(f"  {sent.stdout.strip()} ({time.monotonic() - started:.1f} s)")
        wait_for_outbox(database, len(agents), fake)
        seconds = time.monotonic() - started
        if server.log_lines():
            say(f"breather serve wrote {server.log_lines()} log line(s); the last ones:\n{server.log_tail()}")

        posts = fake.calls("chat.postMessage")
        accepted = [c for c in posts if c.status == 200]
        per_dm = Counter(str(c.params.get("channel")) for c in accepted)
        expected = {a.dm_channel for a in agents}
        lost = len(expected - set(per_dm))
        duplicated = sum(n - 1 for channel, n in per_dm.items() if channel in expected and n > 1)
        span = accepted[-1].at - accepted[0].at if len(accepted) > 1 else 0.0
        achieved = (len(accepted) - 1) / span if span > 0 else 0.0
    return {
        "allowed_per_s": args.allowed,
        "achieved_per_s": round(achieved, 1),
        "ratio": round(achieved / args.allowed, 3),
        "lost": lost,
        "duplicated": duplicated,
        "agents": len(agents),
        "refused": len(posts) - len(accepted),
        "seconds": round(seconds, 1),
        "backend": database.backend,
    }


def check_goals(report: dict[str, Any]) -> None:
    verdicts = []
    for key, goal in GOALS.items():
        value = report[key]
        met = value >= goal if key == "ratio" else value <= goal
        verdicts.append(
            f"{key} {value:g} (goal {'>=' if key == 'ratio' else '<='} {goal:g}) {'met' if met else 'MISSED'}"
        )
    say("goals: " + "; ".join(verdicts))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark a pulse-survey round's fan-out through the outbox."
    )
    parser.add_argument("--agents", type=int, default=5000, help="agents in the team (default 5000)")
    parser.add_argument(
        "--allowed",
        type=int,
        default=50,
        help="chat.postMessage calls the fake Slack allows per second (default 50)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgresql://... to bench PostgreSQL (a fresh database is created and dropped); "
        "default: a fresh SQLite file in a temp dir",
    )
    args = parser.parse_args(argv)
    if args.agents < 2 or args.allowed < 1:
        parser.error("--agents must be at least 2 and --allowed at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: server stopped, temp files removed
    report = run(args)
    check_goals(report)
    print(json.dumps(report), flush=True)
    return 1 if report["lost"] or report["duplicated"] else 0


if __name__ == "__main__":
    sys.exit(main())
