"""Sends signed generic events to a running Breather (`breather simulate`, the demo)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from handlers.telephony.generic import sign


@dataclass
class SimulationReport:
    sent: int = 0
    accepted: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    errors: int = 0


def post_event(client: httpx.Client, url: str, secret: str, event: dict[str, Any]) -> int:
    body = json.dumps(event).encode()
    response = client.post(
        url,
        content=body,
        headers={"Content-Type": "application/json", "Breather-Signature": sign(secret, body)},
    )
    return response.status_code


def run_simulation(
    url: str,
    secret: str,
    events: Iterable[dict[str, Any]],
    *,
    rate: float,
    stop: threading.Event | None = None,
    on_result: Callable[[dict[str, Any], int], None] | None = None,
) -> SimulationReport:
    """Post events at about `rate` per second until they run out or `stop` is set."""
    report = SimulationReport()
    interval = 1.0 / rate if rate > 0 else 0.0
    next_at = time.monotonic()
    with httpx.Client(timeout=10) as client:
        for event in events:
            if stop is not None and stop.is_set():
                break
            delay = next_at - time.monotonic()
            if delay > 0:
                if stop is None:
                    time.sleep(delay)
                elif stop.wait(delay):
                    break
            next_at += interval
            report.sent += 1
            try:
                status = post_event(client, url, secret, event)
            except httpx.HTTPError:
                report.errors += 1
                continue
            if 200 <= status < 300:
                report.accepted += 1
            else:
                report.refused[status] = report.refused.get(status, 0) + 1
            if on_result is not None:
                on_result(event, status)
    return report
