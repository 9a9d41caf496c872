"""uvicorn's options for every way Breather is served (serve, the demo, tests, benchmarks).

Limits that keep a crowd of slow or hostile clients from exhausting the server: a cap on
connections held at once (uvicorn answers 503 beyond it, so memory and tasks stay bounded),
idle keep-alive connections closed after a few seconds, and a cap on the size of a request's
headers. Bodies have their own time and concurrency limits (handlers/limits.py).
"""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.logs import uvicorn_logging

KEEP_ALIVE_S = 5
MAX_HEADER_BYTES = 16 * 1024  # h11's limit on a request line plus headers


def server_options(settings: Settings, log_level: str | None = None) -> dict[str, Any]:
    return {
        "lifespan": "on",
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": KEEP_ALIVE_S,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        **uvicorn_logging(log_level or settings.log_level),
    }
