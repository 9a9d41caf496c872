"""Crash benchmark: a pulse-survey round killed with SIGKILL part way, then finished by a new
process. Counts the invitations lost and the ones delivered twice.

What it does, all on this machine:

1. starts the fake Slack Web API (tests/fakes/slack_api.py) in this process, answering each
   call after `--latency-ms` (so sends are under way when the kill comes) and allowing
   `--allowed` chat.postMessage calls a second;
2. writes a breather.yml with one round-the-clock team of `--agents` agents and a pulse block
   (bench/fanout.py), starts `breather serve` and runs `breather survey send`;
3. when `--kill-at` of the invitations have been accepted, kills the server with SIGKILL
   (`--kills` times, evenly spread over the round) and starts a new one at once;
4. waits until the outbox is empty (rows the dead process held are claimed again when their
   60-second lease runs out), then counts the invitations each agent's DM received.

The last line on stdout is one JSON object: agents, lost, duplicated, ratio (agents who got
exactly one invitation / agents; the goal is 1.0), kills, in_doubt_lookups (history reads by
the new process), seconds, backend. Exit code 1 when an invitation was lost or duplicated.

    .venv/bin/python bench/crash.py [--agents N] [--kill-at F] [--kills K] [--allowed R]
                                    [--latency-ms L] [--database-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Service,
    breather_command,
    make_agents,
    say,
)
from bench.fanout import TEAM, outbox_left, set_stage  # noqa: E402

DRAIN_TIMEOUT_S = 900.0


def accepted_invitations(fake: Any) -> int:
    return sum(1 for call in fake.calls("chat.postMessage") if call.status == 200)


def run(args: argparse.Namespace) -> dict[str, Any]:
    agents = make_agents(args.agents)
    with contextlib.ExitStack() as stack:
        stage = set_stage(stack, args, agents, "crash")
        fake, database, env, workdir = stage.fake, stage.database, stage.env, stage.workdir
        fake.state.latency_s = args.latency_ms / 1000.0

        def server(generation: int) -> Service:
            return stage.serve(stack, f" #{generation}")

        current = server(0)
        say(f"breather serve up ({database.backend}, {len(agents)} agents); sending the round ...")
        started = time.monotonic()
        subprocess.run(
            [breather_command(), "survey", "send", "--team", TEAM],
            env=env,
            cwd=workdir,
            check=True,
            capture_output=True,
        )
        marks = [int(len(agents) * args.kill_at * (k + 1) / args.kills) for k in range(args.kills)]
        for generation, mark in enumerate(marks, start=1):
            while accepted_invitations(fake) < mark:
                time.sleep(0.005)
            assert current.proc is not None
            current.proc.kill()  # SIGKILL: no shutdown, no last transaction
            current.proc.wait()
            say(f"  killed at {accepted_invitations(fake)} accepted invitations; starting a new server")
            current = server(generation)
        history_before = len(fake.calls("conversations.history"))
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while outbox_left(database) and time.monotonic() < deadline:
            time.sleep(0.5)
        seconds = time.monotonic() - started
        lookups = len(fake.calls("conversations.history")) - history_before
        per_dm = Counter(
            str(c.params.get("channel")) for c in fake.calls("chat.postMessage") if c.status == 200
        )
        expected = {a.dm_channel for a in agents}
        lost = len(expected - set(per_dm))
        duplicated = sum(n - 1 for channel, n in per_dm.items() if channel in expected and n > 1)
        once = sum(1 for channel in expected if per_dm.get(channel) == 1)
    return {
        "agents": len(agents),
        "lost": lost,
        "duplicated": duplicated,
        "ratio": round(once / len(agents), 4),
        "kills": args.kills,
        "in_doubt_lookups": lookups,
        "seconds": round(seconds, 1),
        "backend": database.backend,
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=2000, help="agents in the team (default 2000)")
    parser.add_argument(
        "--kill-at", type=float, default=1 / 3, help="share of the round at the last kill (default 1/3)"
    )
    parser.add_argument(
        "--kills", type=int, default=1, help="SIGKILLs, spread evenly up to --kill-at (default 1)"
    )
    parser.add_argument(
        "--allowed", type=int, default=50, help="chat.postMessage calls allowed a second (default 50)"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=50.0, help="fake Slack's answer time (default 50)"
    )
    parser.add_argument(
        "--database-url", default=None, help="postgresql://... (default: SQLite in a temp dir)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    report = run(parse_args(argv))
    print(json.dumps(report), flush=True)
    return 1 if report["lost"] or report["duplicated"] else 0


if __name__ == "__main__":
    sys.exit(main())
