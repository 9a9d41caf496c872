"""Small waiting, time and database helpers for tests that drive the running app."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import col, func, select

from bot.container import Services
from storage import outbox
from storage.db import session_scope
from storage.models import InboundEvent
from tests.conftest import ROSTER


class Clock:
    """A clock set to a chosen moment that keeps ticking in real time (the outbox paces by it).

    Give it to the app (`create_app(settings, clock=clock)`) and to the fakes
    (`fake.clock = clock.timestamp`), and a test moves time on with `advance` instead of
    sleeping until a break ends or a deadline passes.
    """

    def __init__(self, start: datetime) -> None:
        self.base, self.started = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.base + timedelta(seconds=time.monotonic() - self.started)

    @property
    def now(self) -> datetime:
        return self()

    @now.setter
    def now(self, moment: datetime) -> None:
        self.base, self.started = moment, time.monotonic()

    def advance(self, **delta: float) -> None:
        self.base += timedelta(**delta)

    def timestamp(self) -> float:
        """Now as seconds since the epoch, as time.time() gives it."""
        return self().timestamp()


def inbound_row(event_id: str, **changes: Any) -> dict[str, Any]:
    """An `inbound_events` row as the intake writes it; by default a call event for billing."""
    values: dict[str, Any] = {
        "provider": "generic",
        "event_id": event_id,
        "kind": "call",
        "team_id": "billing",
        "pseudonym": "p" * 64,
        "kid": "k0000000",
        "payload": {"call_id": event_id},
        "received_at": datetime.now(UTC),
    }
    return {**values, **changes}


def wait_until(check: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll `check` until it holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.02)


def settled(services: Services, timeout: float = 10.0) -> None:
    """Wait until every stored event is processed and the outbox holds nothing due."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(services.engine) as session:
            pending = session.exec(
                select(func.count()).select_from(InboundEvent).where(col(InboundEvent.processed_at).is_(None))
            ).one()
            waiting = outbox.depth(session)
        if not pending and not waiting:
            return
        time.sleep(0.05)
    raise AssertionError(f"app did not settle within {timeout}s")


def roster_with(tmp_path: Path, teams: dict[str, dict[str, Any]] | None = None, **settings: Any) -> Path:
    """The test roster with some product settings (and fields of some teams) changed."""
    data = yaml.load(ROSTER.read_text(), Loader=yaml.CSafeLoader)  # libyaml: 10x the pure-Python parser
    data["settings"] = {**data.get("settings", {}), **settings}
    for team in data["teams"]:
        team.update((teams or {}).get(team["id"], {}))
    path = tmp_path / "roster.yml"
    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper))
    return path


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def button_values(blocks: list[dict[str, Any]]) -> set[str]:
    return {e.get("value", "") for b in blocks if b["type"] == "actions" for e in b["elements"]}


def stored_call_keys(
    harness: Any, call_id: str, email: str = "ana@example.com", provider: str = "generic"
) -> tuple[str, ...]:
    """How a provider's call id is stored for one agent (a keyed hash, under every live key)."""
    services: Services = harness.services
    agent = services.roster.find("email", email)
    assert agent is not None
    return services.keyring.tokens("call", provider, call_id, agent.id)
