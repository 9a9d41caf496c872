"""uvicorn's options for every way Breather is served (serve, the demo, tests, benchmarks).

Limits that keep a crowd of slow or hostile clients from exhausting the server: a cap on
connections held at once (uvicorn answers 503 beyond it, so memory and tasks stay bounded),
idle keep-alive connections closed after a few seconds, and a request's headers bounded in
size and in time (uvicorn has neither for its httptools parser: a client trickling header
bytes would hold its connection for ever). Bodies have their own limits (handlers/limits.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bot.config import Settings
from bot.logs import uvicorn_logging

KEEP_ALIVE_S = 5
MAX_HEADER_BYTES = 16 * 1024  # a request line plus headers
HEADER_TIMEOUT_S = 10.0  # from connecting, or from the previous answer, to a request's last header
# The server's threads (the event loop, the intake writer, the event processor, the outbox and
# its delivery threads) mostly wait for the database or the chat platform. A thread whose answer
# has arrived waits for the GIL until the running one lets go of it: up to 5 ms with Python's
# default switch interval, on each of the twenty-odd round trips between a webhook and its DM.
# 1 ms cut the hard call -> DM p95 on PostgreSQL in the ingest benchmark (docs/benchmarks.md).
GIL_SWITCH_S = 0.001


class BoundedHeaders(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline and a size cap on each request's headers."""

    _deadline: asyncio.TimerHandle | None = None
    _head_bytes = 0
    _in_head = True

    def _arm(self) -> None:
        self._disarm()
        self._in_head, self._head_bytes = True, 0
        self._deadline = self.loop.call_later(HEADER_TIMEOUT_S, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            # Still no end of headers after this chunk: count it against the cap.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEADER_BYTES:
                self._disarm()
                self.send_400_response("Request headers are too large.")

    def on_headers_complete(self) -> None:
        self._disarm()
        self._in_head = False
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request on this connection gets the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def server_options(settings: Settings, log_level: str | None = None) -> dict[str, Any]:
    return {
        "lifespan": "on",
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": KEEP_ALIVE_S,
        "http": BoundedHeaders,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        **uvicorn_logging(log_level or settings.log_level),
    }
