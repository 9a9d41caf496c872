"""Synthetic calls for the demo and `breather simulate`: mostly ordinary, some of them hard."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

HARD_SHARE = 0.25


def synthetic_call(
    agent_email: str, rng: random.Random, now: datetime | None = None, hard: bool | None = None
) -> dict[str, Any]:
    """One generic `call.ended` event; `hard` forces (or forbids) the tell-tale signals."""
    ended = now or datetime.now(UTC)
    is_hard = rng.random() < HARD_SHARE if hard is None else hard
    duration = rng.lognormvariate(5.5, 0.4)  # about four minutes, rarely over ten
    event: dict[str, Any] = {
        "type": "call.ended",
        "event_id": f"sim-{uuid.uuid4().hex}",
        "call_id": f"sim-call-{uuid.uuid4().hex[:12]}",
        "agent_email": agent_email,
        "started_at": (ended - timedelta(seconds=duration)).isoformat(),
        "ended_at": ended.isoformat(),
        "duration_s": round(duration),
        "direction": "inbound",
        "disconnected_by": "agent",
        "transfers": 0,
        "hold_s": round(rng.uniform(0, 40)),
        "sentiment": round(rng.uniform(-0.2, 0.8), 2),
        "tags": [],
        "queue": "billing",
    }
    if is_hard:
        kind = rng.choice(["abusive", "angry_hangup", "transfers"])
        if kind == "abusive":
            event["tags"] = ["abusive"]
        elif kind == "angry_hangup":
            event["sentiment"], event["disconnected_by"] = round(rng.uniform(-1, -0.6), 2), "customer"
        else:
            event["transfers"], event["hold_s"] = rng.choice([2, 3]), round(rng.uniform(200, 400))
    return event


def synthetic_calls(
    agent_emails: Sequence[str], count: int | None, seed: int | None = None, *, first_hard: bool = False
) -> Iterator[dict[str, Any]]:
    """`count` events (forever when None), spread over the given agents. `first_hard` opens
    with a hard call, so someone watching the demo sees a check-in within seconds."""
    rng = random.Random(seed)
    sent = 0
    while count is None or sent < count:
        yield synthetic_call(
            rng.choice(list(agent_emails)), rng, hard=True if first_hard and sent == 0 else None
        )
        sent += 1
