"""The floor for bench/ingest.py: the cheapest ASGI app that still reads a webhook body.

It runs under uvicorn exactly as `breather serve` runs Breather (same `uvicorn.run` options,
so the same httptools/uvloop choice), and answers every POST with 202 and an empty JSON
object. Breather's throughput is reported as a ratio of this app's, measured in the same run
with the same client and the same bodies.

    python bench/floor_app.py --port 3999
"""

from __future__ import annotations

import argparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def accept(request: Request) -> Response:
    await request.body()
    return JSONResponse({}, status_code=202)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/webhooks/calls", accept, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()

    import uvicorn

    from handlers.server import KEEP_ALIVE_S, MAX_HEADER_BYTES

    # The same limits as bot/cli.py `serve` (handlers/server.py), at its default connection cap.
    uvicorn.run(
        create_app(),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        lifespan="on",
        limit_concurrency=1000,
        timeout_keep_alive=KEEP_ALIVE_S,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )


if __name__ == "__main__":
    main()
