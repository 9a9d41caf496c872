"""Webhook ingestion benchmark: events/s and latency of `POST /webhooks/calls`, and the time
from a hard call's webhook to the agent's Slack DM.

What it does, all on this machine:

1. starts the fake Slack Web API (tests/fakes/slack_api.py) in this process;
2. writes a breather.yml with one round-the-clock team of many agents;
3. starts `breather serve` (SQLite in a temp dir, or a fresh PostgreSQL database) and the
   floor app (bench/floor_app.py: a bare Starlette app under the same uvicorn options);
4. throughput: sends N signed, easy `call.ended` events with `--concurrency` keep-alive
   connections, to the floor and to Breather in turn (`--rounds` times; best of each);
5. DM latency: sends events at 200/s for `--dm-seconds`, one in five hard and each hard one
   for a different agent, and times webhook send -> `chat.postMessage` at the fake Slack.

With `--mix platforms` the measured events are spread one in five each over the generic
webhook, Genesys Cloud and Amazon Connect (EventBridge envelopes with the connection key),
Zoom (`x-zm-signature`) and Webex Contact Center (`X-Webex-Signature`), every agent known to
each platform by its own id: the cost of the contact-centre adapters next to the generic one.
The floor app gets the same bodies on its one path.

Before each run it waits until the server's event processor has worked off the events of
the run before, so one run's after-the-ack work does not slow the next one down.

Progress goes to stderr. The last line on stdout is one JSON object:
events_per_s, floor_events_per_s, ratio, p50_ms, p99_ms, dm_p95_ms, events, concurrency, backend,
peak_rss_mb (breather serve's peak resident memory, /proc VmHWM), mix.
The exit code is 1 when a request was refused or a DM never arrived, else 0 (goals missed or not).

    .venv/bin/python bench/ingest.py [--events N] [--concurrency C] [--database-url URL]
                                     [--dm-seconds S] [--rounds R] [--mix generic|platforms]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import hmac
import importlib
import json
import math
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import Engine, select, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Agent,
    Service,
    breather_command,
    free_port,
    fresh_database,
    make_agents,
    ms,
    percentile,
    say,
    server_env,
)
from bot.simulation import synthetic_call  # noqa: E402
from handlers.telephony.generic import sign  # noqa: E402

WARMUP = 200  # requests before each measured run, not counted
DM_RATE = 200.0  # events per second in the DM phase
HARD_EVERY = 5  # one event in five is a hard call in the DM phase
DM_WAIT_S = 15.0  # how long to wait for the last DMs after the last send
MIN_AGENTS = 3000
DRAIN_TIMEOUT_S = 600.0
RSS_GOAL_MB = 200.0  # breather serve's peak resident memory at 200 events/s (issue 20, item 5)
# DM p95: issue 20, item 10 (was 500).
GOALS = {"ratio": 0.5, "p99_ms": 50.0, "dm_p95_ms": 300.0, "peak_rss_mb": RSS_GOAL_MB}
WEBHOOK_PATH = "/webhooks/calls"

Signed = tuple[bytes, dict[str, str]]
Posted = tuple[str, bytes, dict[str, str]]  # path, body, headers
MIXES = ("generic", "platforms")
PLATFORM_PATHS = (
    "/webhooks/calls",
    "/webhooks/genesys",
    "/webhooks/connect",
    "/webhooks/zoom",
    "/webhooks/webex",
)


# --- the roster ------------------------------------------------------------------------------


def write_teams_file(path: Path, agents: Sequence[Agent]) -> None:
    config = {
        "teams": [
            {
                "id": "bench",
                "name": "Bench",
                "timezone": "UTC",
                # start == end: the shift runs round the clock, every day.
                "shift": {
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "start": "00:00",
                    "end": "00:00",
                },
                "agents": [
                    {
                        "email": a.email,
                        "slack_user_id": a.user_id,
                        # The same person on each contact-centre platform of the mix.
                        "genesys_user_id": f"g-{i}",
                        "connect_user_id": f"c-{i}",
                        "zoom_user_id": f"z-{i}",
                        "webex_agent_id": f"w-{i}",
                    }
                    for i, a in enumerate(agents)
                ],
            }
        ],
        "settings": {"checkin_cooldown_minutes": 0.001, "checkins_per_day": 100000},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


# --- the database ----------------------------------------------------------------------------


def pending_events(engine: Engine) -> int:
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM inbound_events WHERE processed_at IS NULL")).scalar()
    return int(count or 0)


def wait_until_processed(engine: Engine, what: str) -> None:
    """Let the server's event processor finish the backlog, so runs do not overlap with it."""
    started = time.monotonic()
    reported = started
    backlog = left = pending_events(engine)
    while left:
        now = time.monotonic()
        if now - started > DRAIN_TIMEOUT_S:
            say(f"  warning: {left} events still unprocessed after {DRAIN_TIMEOUT_S:.0f} s; going on")
            return
        if now - reported >= 10:
            say(f"  ({what}: {left} events still being processed)")
            reported = now
        time.sleep(0.2)
        left = pending_events(engine)
    waited = time.monotonic() - started
    if backlog and waited > 0.5:
        say(
            f"  ({what}: waited {waited:.1f} s for the event processor to work off {backlog} events,"
            f" {backlog / waited:.0f} events/s)"
        )


def dm_breakdown(engine: Engine, since: datetime) -> None:
    """Where a DM's time went, from the server's own timestamps (all events since `since`)."""
    from sqlmodel import col

    from storage.models import InboundEvent, OutboxMessage

    with engine.connect() as conn:
        events = conn.execute(
            select(col(InboundEvent.received_at), col(InboundEvent.processed_at)).where(
                col(InboundEvent.received_at) >= since
            )
        ).all()
        messages = conn.execute(
            select(col(OutboxMessage.created_at), col(OutboxMessage.sent_at)).where(
                col(OutboxMessage.created_at) >= since, col(OutboxMessage.kind) == "direct"
            )
        ).all()
    processing = [(done - got).total_seconds() for got, done in events if done is not None]
    sending = [(sent - queued).total_seconds() for queued, sent in messages if sent is not None]
    say(
        f"  server side: stored -> processed p50 {ms(percentile(processing, 50))} ms,"
        f" p95 {ms(percentile(processing, 95))} ms ({len(processing)} events);"
        f" outbox row -> sent p50 {ms(percentile(sending, 50))} ms,"
        f" p95 {ms(percentile(sending, 95))} ms ({len(sending)} DMs)"
    )


# --- subprocesses ----------------------------------------------------------------------------


# --- load ------------------------------------------------------------------------------------


@dataclass
class RunResult:
    target: str
    events: int
    wall_s: float
    latencies_s: list[float]
    failures: list[str] = field(default_factory=list)

    @property
    def events_per_s(self) -> float:
        return self.events / self.wall_s if self.wall_s > 0 else 0.0

    def describe(self) -> str:
        p50, p99 = ms(percentile(self.latencies_s, 50)), ms(percentile(self.latencies_s, 99))
        worst = ms(max(self.latencies_s, default=0.0))
        return (
            f"{self.target:<8} {self.events_per_s:8.1f} events/s  p50 {p50} ms  p99 {p99} ms  "
            f"max {worst} ms  ({self.events} in {self.wall_s:.2f} s, {len(self.failures)} failed)"
        )


def call_bodies(agents: Sequence[Agent], count: int, rng: random.Random, *, hard: bool) -> list[bytes]:
    return [
        json.dumps(synthetic_call(rng.choice(agents).email, rng, hard=hard)).encode() for _ in range(count)
    ]


def signed(secret: str, body: bytes) -> Signed:
    return body, {"Content-Type": "application/json", "Breather-Signature": sign(secret, body)}


@contextlib.asynccontextmanager
async def connections(count: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`count` HTTP/1.1 keep-alive connections, one httpx.AsyncClient each.

    One shared client with `max_connections=count` would be the obvious choice, but httpcore's
    pool costs too much once many requests wait in it: at 16 the floor measured about 450
    instead of about 950 requests/s on the 2-core bench machine, with a 180 ms p99. One
    client per connection keeps the client out of the figures it is meant to measure.
    """
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                    timeout=httpx.Timeout(30.0),
                    http1=True,
                    http2=False,
                )
            )
            for _ in range(count)
        ]
        yield clients


@contextlib.contextmanager
def no_gc_pauses() -> Iterator[None]:
    """The client's garbage collector paused (it added ~25 ms to the floor's p99)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def blast(
    clients: Sequence[httpx.AsyncClient], base_url: str, requests: Sequence[Posted]
) -> tuple[float, list[float], list[str]]:
    """Send every request, one worker per connection; wall time, latencies, failures."""
    latencies: list[float] = []
    failures: list[str] = []
    queue: Iterator[tuple[int, Posted]] = iter(enumerate(requests))

    async def worker(client: httpx.AsyncClient) -> None:
        for index, (path, body, headers) in queue:  # one shared iterator: each request is sent once
            started = time.perf_counter()
            try:
                response = await client.post(base_url + path, content=body, headers=headers)
            except httpx.HTTPError as error:
                failures.append(f"request {index}: {type(error).__name__}: {error}")
                continue
            latencies.append(time.perf_counter() - started)
            if not 200 <= response.status_code < 300:
                failures.append(f"request {index}: HTTP {response.status_code}: {response.text[:200]}")

    with no_gc_pauses():
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for client in clients))
        wall = time.perf_counter() - started
    return wall, latencies, failures


async def measure(
    target: str,
    base_url: str,
    secret: str,
    warmup: Sequence[bytes],
    bodies: Sequence[bytes],
    concurrency: int,
    mix: Mix | None = None,
) -> RunResult:
    """Time `bodies` (generic events); with a `mix`, the same number of events spread over the
    contact-centre platforms' webhooks instead (the floor app gets them on its one path)."""

    def requests(batch: Sequence[bytes]) -> list[Posted]:
        if mix is None:
            return [(WEBHOOK_PATH, *signed(secret, b)) for b in batch]
        made = mix.requests(len(batch))
        return made if target != "floor" else [(WEBHOOK_PATH, body, headers) for _, body, headers in made]

    async with connections(concurrency) as clients:
        _, _, warm_failures = await blast(clients, base_url, requests(warmup))
        wall, latencies, failures = await blast(clients, base_url, requests(bodies))  # signed now: fresh
    return RunResult(target, len(bodies), wall, latencies, [f"warm-up {f}" for f in warm_failures] + failures)


@dataclass
class Mix:
    """Easy calls for the bench's agents, one in five on each of: the generic webhook, Genesys
    Cloud and Amazon Connect (EventBridge envelopes), Zoom and Webex Contact Center (signed as
    each platform signs), each agent known to each platform by its own id."""

    agents: Sequence[Agent]
    rng: random.Random
    secrets: dict[str, str]
    sent: int = 0

    def requests(self, count: int) -> list[Posted]:
        made = []
        for _ in range(count):
            path = PLATFORM_PATHS[self.sent % len(PLATFORM_PATHS)]
            index = self.rng.randrange(len(self.agents))
            made.append(self._one(path, index))
            self.sent += 1
        return made

    def _one(self, path: str, index: int) -> Posted:
        agent, call = self.agents[index], uuid.uuid4().hex
        now = datetime.now(UTC)
        talk = round(self.rng.lognormvariate(5.5, 0.4))
        if path == "/webhooks/calls":
            body = json.dumps(synthetic_call(agent.email, self.rng, hard=False)).encode()
            return (path, *signed(self.secrets["generic"], body))
        if path in ("/webhooks/genesys", "/webhooks/connect"):
            if path == "/webhooks/genesys":
                detail_type = "v2.detail.events.conversation.{id}.user.end"
                detail: dict[str, Any] = {
                    "topicName": f"v2.detail.events.conversation.{call}.user.end",
                    "eventBody": {
                        "eventTime": int(now.timestamp() * 1000),
                        "conversationId": call,
                        "sessionId": call,
                        "userId": f"g-{index}",
                        "disconnectType": "client",
                        "direction": "INBOUND",
                        "mediaType": "VOICE",
                        "interactingDurationMs": talk * 1000,
                        "heldDurationMs": 0,
                    },
                }
            else:
                detail_type = "Amazon Connect Contact Event"
                arn = "arn:aws:connect:eu-west-2:111122223333:instance/bench"
                detail = {
                    "eventType": "DISCONNECTED",
                    "contactId": call,
                    "channel": "VOICE",
                    "initiationMethod": "INBOUND",
                    "disconnectTimestamp": now.isoformat(),
                    "disconnectReason": "AGENT_DISCONNECT",
                    "agentInfo": {
                        "agentArn": f"{arn}/agent/c-{index}",
                        "connectedToAgentTimestamp": (now - timedelta(seconds=talk)).isoformat(),
                    },
                }
            envelope = {
                "version": "0",
                "id": call,
                "detail-type": detail_type,
                "source": "bench",
                "detail": detail,
            }
            headers = {"Content-Type": "application/json", "x-breather-key": self.secrets[path]}
            return path, json.dumps(envelope).encode(), headers
        if path == "/webhooks/zoom":
            event = {
                "event": "contact_center.engagement_user_ended",
                "event_ts": int(now.timestamp() * 1000),
                "payload": {
                    "account_id": "bench",
                    "object": {
                        "engagement_id": call,
                        "channel": "voice",
                        "direction": "inbound",
                        "user_id": f"z-{index}",
                        "end_time": now.isoformat(),
                        "talk_duration": talk,
                    },
                },
            }
            body = json.dumps(event).encode()
            stamp = str(int(time.time()))
            message = b"v0:" + stamp.encode() + b":" + body
            digest = hmac.new(self.secrets[path].encode(), message, hashlib.sha256).hexdigest()
            headers = {
                "Content-Type": "application/json",
                "x-zm-request-timestamp": stamp,
                "x-zm-signature": f"v0={digest}",
            }
            return path, body, headers
        event = {
            "id": call,
            "specversion": "1.0",
            "type": "task:ended",
            "source": "bench",
            "data": {
                "taskId": call,
                "channelType": "telephony",
                "direction": "INBOUND",
                "owner": f"w-{index}",
                "terminatingParty": "Agent",
                "endedTime": int(now.timestamp() * 1000),
                "connectedDuration": talk * 1000,
            },
        }
        body = json.dumps(event).encode()
        digest = hmac.new(self.secrets[path].encode(), body, hashlib.sha256).hexdigest()
        return path, body, {"Content-Type": "application/json", "X-Webex-Signature": digest}


@dataclass
class DmResult:
    sent_at: dict[str, float]  # DM channel -> time.time() when its hard call was sent
    received_at: dict[str, float]
    events: int
    failures: list[str]
    wall_s: float

    @property
    def latencies_s(self) -> list[float]:
        return [self.received_at[c] - self.sent_at[c] for c in self.sent_at if c in self.received_at]

    @property
    def missing(self) -> list[str]:
        return sorted(c for c in self.sent_at if c not in self.received_at)


async def paced_calls(
    base_url: str,
    secret: str,
    agents: Sequence[Agent],
    hard_agents: Sequence[Agent],
    total: int,
    concurrency: int,
    rng: random.Random,
) -> tuple[dict[str, float], list[str], float]:
    """Send `total` events at DM_RATE per second (open loop); every HARD_EVERY-th is hard."""
    url = base_url + WEBHOOK_PATH
    sent_at: dict[str, float] = {}
    failures: list[str] = []

    async def send(
        idle: asyncio.Queue[httpx.AsyncClient], index: int, event: dict[str, Any], channel: str | None
    ) -> None:
        body, headers = signed(secret, json.dumps(event).encode())
        if channel is not None:
            sent_at[channel] = time.time()
        client = await idle.get()  # like a pool of `concurrency` connections, minus its overhead
        try:
            response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            failures.append(f"event {index}: {type(error).__name__}: {error}")
            return
        finally:
            idle.put_nowait(client)
        if not 200 <= response.status_code < 300:
            failures.append(f"event {index}: HTTP {response.status_code}: {response.text[:200]}")

    hard = iter(hard_agents)
    tasks: list[asyncio.Task[None]] = []
    loop = asyncio.get_running_loop()
    async with connections(concurrency) as clients:
        idle: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        for client in clients:
            idle.put_nowait(client)
        started = loop.time()
        for index in range(total):
            delay = started + index / DM_RATE - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if index % HARD_EVERY == 0:
                agent = next(hard)
                event, channel = synthetic_call(agent.email, rng, hard=True), agent.dm_channel
            else:
                event, channel = synthetic_call(rng.choice(agents).email, rng, hard=False), None
            tasks.append(asyncio.create_task(send(idle, index, event, channel)))
        await asyncio.gather(*tasks)
        wall = loop.time() - started
    return sent_at, failures, wall


def collect_dms(fake: Any, expected: Sequence[str], timeout: float) -> dict[str, float]:
    """First chat.postMessage per expected channel, as time.time() of receipt at the fake."""
    wanted = set(expected)
    deadline = time.monotonic() + timeout
    while True:
        received: dict[str, float] = {}
        for call in fake.calls("chat.postMessage"):
            channel = str(call.params.get("channel"))
            if channel in wanted and channel not in received:
                received[channel] = float(call.at)
        if len(received) == len(wanted) or time.monotonic() >= deadline:
            return received
        time.sleep(0.1)


def dm_phase(
    base_url: str, secret: str, agents: Sequence[Agent], fake: Any, seconds: float, concurrency: int
) -> DmResult:
    rng = random.Random(7)
    total = max(int(round(seconds * DM_RATE)), 1)
    hard_count = math.ceil(total / HARD_EVERY)
    hard_agents = rng.sample(list(agents), hard_count)
    say(f"DM phase: {total} events at {DM_RATE:.0f}/s for {seconds:g} s, {hard_count} hard (one per agent)")
    sent_at, failures, wall = asyncio.run(
        paced_calls(base_url, secret, agents, hard_agents, total, concurrency, rng)
    )
    say(f"  sent in {wall:.2f} s; waiting up to {DM_WAIT_S:.0f} s for {len(sent_at)} DMs")
    received = collect_dms(fake, list(sent_at), DM_WAIT_S)
    return DmResult(sent_at, received, total, failures, wall)


# --- the run ---------------------------------------------------------------------------------


def show_failures(label: str, failures: Sequence[str]) -> None:
    if failures:
        say(f"{label}: {len(failures)} failed")
        for line in failures[:20]:
            say(f"  {line}")
        if len(failures) > 20:
            say(f"  ... and {len(failures) - 20} more")


def run(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    agents = make_agents(max(MIN_AGENTS, math.ceil(args.dm_seconds * DM_RATE / HARD_EVERY) + 1))
    webhook_secret = secrets.token_hex(32)
    rng = random.Random(1)
    platform_secrets = {path: secrets.token_hex(32) for path in PLATFORM_PATHS[1:]}
    platform_env = {
        "GENESYS_EVENTBRIDGE_SECRET": platform_secrets["/webhooks/genesys"],
        "CONNECT_EVENTBRIDGE_SECRET": platform_secrets["/webhooks/connect"],
        "ZOOM_WEBHOOK_SECRET": platform_secrets["/webhooks/zoom"],
        "WEBEX_WEBHOOK_SECRET": platform_secrets["/webhooks/webex"],
    }
    mix = (
        Mix(agents, random.Random(2), {"generic": webhook_secret, **platform_secrets})
        if args.mix == "platforms"
        else None
    )

    with contextlib.ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="breather-bench-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)

        # Imported by name so that `mypy bench` checks the bench, not the test helpers too.
        slack_api = importlib.import_module("tests.fakes.slack_api")
        fake = slack_api.FakeSlack().start()
        stack.callback(fake.stop)

        config_path = workdir / "breather.yml"
        write_teams_file(config_path, agents)

        database = fresh_database(args.database_url, workdir)
        stack.callback(database.drop)
        engine = database.engine()
        stack.callback(engine.dispose)

        server_port, floor_port = free_port(), free_port()
        server = Service(
            name="breather serve",
            argv=[breather_command(), "serve", "--host", "127.0.0.1", "--port", str(server_port)],
            env={**server_env(database, config_path, webhook_secret, fake.url), **platform_env},
            cwd=workdir,
            log_path=workdir / "server.log",
            port=server_port,
        )
        floor = Service(
            name="floor app",
            argv=[sys.executable, str(ROOT / "bench" / "floor_app.py"), "--port", str(floor_port)],
            env=dict(os.environ),
            cwd=workdir,
            log_path=workdir / "floor.log",
            port=floor_port,
        )

        for service in (server, floor):
            stack.callback(service.stop)
            service.start()
        say(f"starting breather serve ({database.backend}, {len(agents)} agents) and the floor app ...")
        started = time.monotonic()
        for service in (server, floor):
            service.wait_ready()
        say(f"both up in {time.monotonic() - started:.1f} s")

        floors: list[RunResult] = []
        servers: list[RunResult] = []
        for round_no in range(1, args.rounds + 1):
            warmup = call_bodies(agents, WARMUP, rng, hard=False)
            bodies = call_bodies(agents, args.events, rng, hard=False)
            say(f"round {round_no}/{args.rounds}: {args.events} events, concurrency {args.concurrency}")
            for target, service, results in (("floor", floor, floors), ("breather", server, servers)):
                wait_until_processed(engine, f"before {target}")
                result = asyncio.run(
                    measure(target, service.url, webhook_secret, warmup, bodies, args.concurrency, mix)
                )
                results.append(result)
                say("  " + result.describe())
                show_failures(f"  {target}", result.failures)

        wait_until_processed(engine, "before the DM phase")
        dm_started = datetime.now(UTC)
        dms = dm_phase(server.url, webhook_secret, agents, fake, args.dm_seconds, args.concurrency)
        dm_latencies = dms.latencies_s
        show_failures("DM phase requests", dms.failures)
        if dms.missing:
            say(f"DM phase: {len(dms.missing)} of {len(dms.sent_at)} DMs never arrived: {dms.missing[:20]}")
        say(
            f"  DMs: {len(dm_latencies)}/{len(dms.sent_at)} arrived;"
            f" p50 {ms(percentile(dm_latencies, 50))} ms  p95 {ms(percentile(dm_latencies, 95))} ms"
            f"  max {ms(max(dm_latencies, default=0.0))} ms"
        )

        try:
            dm_breakdown(engine, dm_started)
        except Exception as error:  # a diagnostic only; never fail the run for it
            say(f"  (no server-side breakdown: {type(error).__name__}: {error})")

        if server.log_lines():
            say(f"breather serve wrote {server.log_lines()} log line(s); the last ones:\n{server.log_tail()}")
        peak_rss_mb = peak_rss(server)
        say(f"  breather serve's peak RSS: {peak_rss_mb} MB (goal at most {RSS_GOAL_MB} MB)")

    best_floor = max(floors, key=lambda r: r.events_per_s)
    best = max(servers, key=lambda r: r.events_per_s)
    report: dict[str, Any] = {
        "events_per_s": round(best.events_per_s, 1),
        "floor_events_per_s": round(best_floor.events_per_s, 1),
        "ratio": round(best.events_per_s / best_floor.events_per_s, 3) if best_floor.events_per_s else None,
        "p50_ms": ms(percentile(best.latencies_s, 50)),
        "p99_ms": ms(percentile(best.latencies_s, 99)),
        "dm_p95_ms": None if dms.missing else ms(percentile(dm_latencies, 95)),
        "events": args.events,
        "concurrency": args.concurrency,
        "backend": database.backend,
        "peak_rss_mb": peak_rss_mb,
        "mix": args.mix,
    }
    failed = any(r.failures for r in (*floors, *servers)) or bool(dms.failures) or bool(dms.missing)
    return report, failed


def peak_rss(service: Service) -> float | None:
    """The server process's peak resident memory so far (Linux VmHWM), in MB."""
    if service.proc is None:
        return None
    try:
        status = Path(f"/proc/{service.proc.pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def check_goals(report: dict[str, Any]) -> None:
    verdicts = []
    for key, goal in GOALS.items():
        value = report.get(key)
        if value is None:
            verdicts.append(f"{key}: no figure (goal {goal:g}) MISSED")
            continue
        met = value >= goal if key == "ratio" else value <= goal
        sign_ = ">=" if key == "ratio" else "<="
        verdicts.append(f"{key} {value:g} (goal {sign_} {goal:g}) {'met' if met else 'MISSED'}")
    say("goals: " + "; ".join(verdicts))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark Breather's webhook ingestion and hard-call -> Slack DM latency."
    )
    parser.add_argument("--events", type=int, default=3000, help="events per measured run (default 3000)")
    parser.add_argument("--concurrency", type=int, default=16, help="connections/workers (default 16)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgresql://... to bench PostgreSQL (a fresh database is created and dropped); "
        "default: a fresh SQLite file in a temp dir",
    )
    parser.add_argument("--dm-seconds", type=float, default=10.0, help="length of the DM phase (default 10)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="floor/breather rounds; best of each (default 3)"
    )
    parser.add_argument(
        "--mix",
        choices=MIXES,
        default="generic",
        help="generic: every event on /webhooks/calls; platforms: one in five each on the generic, "
        "Genesys, Amazon Connect, Zoom and Webex webhooks (default generic)",
    )
    args = parser.parse_args(argv)
    if args.events < 1 or args.concurrency < 1 or args.rounds < 1 or args.dm_seconds <= 0:
        parser.error("--events, --concurrency, --rounds and --dm-seconds must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # A plain `kill` unwinds like Ctrl-C does: servers stopped, temp files and database removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report, failed = run(args)
    check_goals(report)
    print(json.dumps(report), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
