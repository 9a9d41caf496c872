"""Database restart benchmark: how many webhooks fail while PostgreSQL restarts.

What it does, all on this machine:

1. initialises a private PostgreSQL cluster in a temporary directory (initdb, its own port),
   so restarting it disturbs nothing else; with `--pgdata DIR --database-url URL` it restarts
   that existing server instead (only a server nobody else is using!);
2. starts the fake Slack Web API and `breather serve` on that database;
3. sends signed `call.ended` webhooks at `--rate` a second for `--seconds`, from
   `--concurrency` keep-alive connections, and half way runs `pg_ctl restart -m fast`
   (`--restarts` times, evenly spread);
4. counts the answers that were not 2xx (or no answer at all), and checks that every
   accepted event is stored once.

The last line on stdout is one JSON object: sent, failed, ratio (2xx answers / sent; the goal is
1.0), p50_ms, p99_ms and max_ms of the webhook answers, restart_s (how long each pg_ctl restart
took, the mean), stored (events in the database), restarts. The exit code is 1 when a webhook
failed or an accepted event is missing.

    .venv/bin/python bench/outage.py [--rate R] [--seconds S] [--concurrency C] [--restarts N]
                                     [--pg-bin DIR] [--pgdata DIR --database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import importlib
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Database,
    Service,
    breather_command,
    free_port,
    make_agents,
    ms,
    percentile,
    say,
    server_env,
)
from bench.ingest import signed, write_teams_file  # noqa: E402
from bot.simulation import synthetic_call  # noqa: E402

WEBHOOK_PATH = "/webhooks/calls"


def pg_bin(given: str | None) -> Path:
    if given:
        return Path(given)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise SystemExit("pg_ctl not found: pass --pg-bin (the directory holding pg_ctl and initdb)")
    return Path(found[-1]).parent


def as_postgres(argv: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PrivateServer:
    """A throwaway PostgreSQL cluster on its own port and socket directory."""

    def __init__(self, binaries: Path, workdir: Path) -> None:
        self.bin = binaries
        self.data = workdir / "pgdata"
        self.port = free_port()
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(workdir, "postgres")
            shutil.chown(self.data, "postgres")
        subprocess.run(
            as_postgres([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data}"
        subprocess.run(
            as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "start"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(
            as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def restart(binaries: Path, data: Path) -> float:
    started = time.monotonic()
    subprocess.run(
        as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "restart"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


async def send_all(
    url: str,
    secret: str,
    bodies: Sequence[bytes],
    rate: float,
    concurrency: int,
    restart_at: Sequence[float],
    do_restart: Any,
) -> tuple[list[float], list[str], list[float]]:
    """Send at `rate`, running `do_restart` (in a thread) at each offset in `restart_at`."""
    latencies: list[float] = []
    failures: list[str] = []
    restarts: list[float] = []
    queue: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()

    async def worker(client: httpx.AsyncClient) -> None:
        while (item := await queue.get()) is not None:
            index, body = item
            payload, headers = signed(secret, body)
            started = time.perf_counter()
            try:
                response = await client.post(url, content=payload, headers=headers)
            except httpx.HTTPError as error:
                failures.append(f"request {index}: {type(error).__name__}")
                continue
            latencies.append(time.perf_counter() - started)
            if not 200 <= response.status_code < 300:
                failures.append(f"request {index}: HTTP {response.status_code}: {response.text[:120]}")

    async def restarter(at: float, began: float) -> None:
        await asyncio.sleep(max(began + at - time.monotonic(), 0.0))
        say(f"  pg_ctl restart -m fast at {at:.1f} s ...")
        took = await asyncio.to_thread(do_restart)
        restarts.append(took)
        say(f"  ... restarted in {took:.2f} s")

    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(timeout=httpx.Timeout(30.0)))
            for _ in range(concurrency)
        ]
        workers = [asyncio.create_task(worker(client)) for client in clients]
        began = time.monotonic()
        restarters = [asyncio.create_task(restarter(at, began)) for at in restart_at]
        for index, body in enumerate(bodies):
            await asyncio.sleep(max(began + index / rate - time.monotonic(), 0.0))
            queue.put_nowait((index, body))
        for _ in workers:
            queue.put_nowait(None)
        await asyncio.gather(*workers, *restarters)
    return latencies, failures, restarts


def run(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    binaries = pg_bin(args.pg_bin)
    agents = make_agents(200)
    secret = secrets.token_hex(32)
    rng = random.Random(7)
    with contextlib.ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="breather-outage-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        if args.pgdata:
            if not args.database_url:
                raise SystemExit("--pgdata needs --database-url (the same server)")
            data, url = Path(args.pgdata), args.database_url
        else:
            say("initialising a private PostgreSQL cluster ...")
            private = PrivateServer(binaries, workdir)
            stack.callback(private.stop)
            data, url = private.data, private.url
        database = Database(url=url, backend="postgresql")
        engine = database.engine()
        stack.callback(engine.dispose)

        slack_api = importlib.import_module("tests.fakes.slack_api")
        fake = slack_api.FakeSlack().start()
        stack.callback(fake.stop)
        config_path = workdir / "breather.yml"
        write_teams_file(config_path, agents)
        port = free_port()
        server = Service(
            name="breather serve",
            argv=[breather_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=server_env(database, config_path, secret, fake.url),
            cwd=workdir,
            log_path=workdir / "server.log",
            port=port,
        )
        stack.callback(server.stop)
        server.start()
        server.wait_ready()
        with engine.connect() as connection:
            before = int(connection.execute(text("SELECT count(*) FROM inbound_events")).scalar() or 0)

        count = int(args.rate * args.seconds)
        bodies = [
            json.dumps(synthetic_call(rng.choice(agents).email, rng, hard=False)).encode()
            for _ in range(count)
        ]
        offsets = [args.seconds * (i + 1) / (args.restarts + 1) for i in range(args.restarts)]
        say(f"sending {count} webhooks at {args.rate:g}/s with {args.restarts} restart(s) ...")
        latencies, failures, restarts = asyncio.run(
            send_all(
                server.url + WEBHOOK_PATH,
                secret,
                bodies,
                args.rate,
                args.concurrency,
                offsets,
                lambda: restart(binaries, data),
            )
        )
        time.sleep(1.0)  # let the last group commit land before counting
        with engine.connect() as connection:
            stored = (
                int(connection.execute(text("SELECT count(*) FROM inbound_events")).scalar() or 0) - before
            )
        for failure in failures[:10]:
            say(f"  {failure}")
        if server.log_lines():
            say(
                f"breather serve wrote {server.log_lines()} log line(s); the last ones:\n{server.log_tail(8)}"
            )
    report = {
        "sent": count,
        "failed": len(failures),
        "ratio": round((count - len(failures)) / count, 4) if count else None,
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(max(latencies, default=0.0)),
        "restart_s": round(sum(restarts) / len(restarts), 2) if restarts else None,
        "restarts": len(restarts),
        "stored": stored,
        "backend": "postgresql",
    }
    return report, bool(failures) or stored < count - len(failures)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=100.0, help="webhooks per second (default 100)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send (default 10)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections (default 32)")
    parser.add_argument("--restarts", type=int, default=1, help="pg_ctl restarts while sending (default 1)")
    parser.add_argument(
        "--pg-bin", help="directory of pg_ctl and initdb (default: the newest in /usr/lib/postgresql)"
    )
    parser.add_argument("--pgdata", help="restart this server's data directory instead of a private one")
    parser.add_argument("--database-url", help="with --pgdata: that server's URL")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    report, failed = run(parse_args(argv))
    print(json.dumps(report), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
