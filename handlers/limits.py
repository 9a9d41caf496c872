"""Request limits shared by every inbound endpoint: size, read time, bodies read at once.

Bodies are read whole before a signature can be checked, so a sender that opens many
connections and sends its body slowly (or never finishes it) would otherwise hold memory and
a task each for as long as it likes. Every endpoint reads through `read_body`, which:

- refuses anything over 1 MiB (413) without reading it;
- gives the whole body `body_timeout_s` to arrive (408 after that, and the connection closes);
- holds at most `budget` bytes of bodies being read across all requests: past it a request is
  answered 503 (retry later) instead of adding to the pile, so memory held by bodies stays
  bounded however many clients are connected, and a request never waits behind slow ones.
  uvicorn's own limits (connections, headers, keep-alive) are in handlers/server.py.
"""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request

from bot.errors import InvalidInput

MAX_BODY = 1024 * 1024  # 1 MiB, from the contract
BODY_TIMEOUT_S = 10.0
BODY_BUDGET = 64 * MAX_BODY  # bytes of unfinished bodies held at once, all requests together


class BodyLimits:
    """Per app: the time a body may take, and the bytes of unfinished bodies held at once."""

    def __init__(self, body_timeout_s: float = BODY_TIMEOUT_S, budget: int = BODY_BUDGET) -> None:
        self.body_timeout_s = body_timeout_s
        self.budget = budget
        self.buffered = 0  # bytes of bodies being read now (one event loop: no lock needed)
        self.reading = 0  # bodies being read now


DEFAULT_LIMITS = BodyLimits()


def _limits(request: Request) -> BodyLimits:
    limits = getattr(request.app.state, "body_limits", None) if "app" in request.scope else None
    return limits if isinstance(limits, BodyLimits) else DEFAULT_LIMITS


async def read_body(request: Request) -> bytes:
    """The raw body, refusing anything over 1 MiB or slower than the body time limit."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > MAX_BODY:
                raise InvalidInput("body is larger than 1 MiB", status=413)
        except ValueError:
            raise InvalidInput("invalid Content-Length", status=400) from None
    limits = _limits(request)
    started = time.monotonic()
    limits.reading += 1
    try:
        async with asyncio.timeout(limits.body_timeout_s):
            return await _read(request, limits)
    except TimeoutError:
        waited = time.monotonic() - started
        raise InvalidInput(f"body did not arrive within {waited:.0f} s", status=408) from None
    finally:
        limits.reading -= 1


async def _read(request: Request, limits: BodyLimits) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            limits.buffered += len(chunk)
            if size > MAX_BODY:
                raise InvalidInput("body is larger than 1 MiB", status=413)
            if limits.buffered > limits.budget:
                raise InvalidInput("too many bodies are being received; retry shortly", status=503)
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        limits.buffered -= size
