"""POST /api/messages on Breather's own Starlette app, for the Teams SDK.

The SDK's App owns JWT validation and activity routing, and asks its HTTP adapter to host
its route; this adapter hosts it inside Breather's server (no second web server, no FastAPI
app). Around the SDK's handler it applies the contract: 413 over 1 MiB, 415 for a body that
is not JSON, 400 for JSON that is not an object, 401 without a bearer token, and 422 for an
object that is not a Teams activity, instead of the SDK's 500, which would also log the
validation error and with it parts of the payload.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.errors import InvalidInput, InvalidSignature
from handlers.boundary import load_json_object
from handlers.limits import read_body
from handlers.teams.auth import InboundAuth
from handlers.teams.sdk import MESSAGES_PATH, ActivityTypeAdapter, HttpMethod, HttpRequest, HttpRouteHandler

log = logging.getLogger(__name__)


class TeamsEndpoint:
    """The SDK's HttpServerAdapter protocol, served by Breather's Starlette routes."""

    def __init__(self, *, requires_token: bool = True) -> None:
        self.requires_token = requires_token
        self._handler: HttpRouteHandler | None = None
        # Checks a token before the SDK does, off the event loop (handlers/teams/auth.py).
        self.auth: InboundAuth | None = None

    def register_route(self, method: HttpMethod, path: str, handler: HttpRouteHandler) -> None:
        if method != "POST" or path != MESSAGES_PATH:
            raise ValueError(f"Breather hosts only POST {MESSAGES_PATH} for Teams, not {method} {path}")
        self._handler = handler

    def serve_static(self, path: str, directory: str) -> None:
        raise NotImplementedError("Breather serves no static Teams pages (no tabs)")

    async def start(self, port: int) -> None:
        raise NotImplementedError("Breather's own server hosts the Teams endpoint")

    async def stop(self) -> None:
        return None

    async def handle(self, request: Request) -> Response:
        if self._handler is None:
            return JSONResponse({"error": "Teams endpoint is starting"}, status_code=503)
        if self.requires_token and not request.headers.get("authorization", "").startswith("Bearer "):
            raise InvalidSignature("missing Bot Framework token")
        if self.requires_token:
            if self.auth is None:
                raise InvalidSignature("Bot Framework token checks are not set up")
            await self.auth.check(request.headers["authorization"])
        body = await read_body(request)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise InvalidInput("Content-Type must be application/json", status=415)
        activity = load_json_object(body)
        try:
            ActivityTypeAdapter.validate_python(activity)
        except ValidationError:
            raise InvalidInput("not a Teams activity", status=422) from None
        result = await self._handler(HttpRequest(body=activity, headers=dict(request.headers)))
        if result.get("body") is None:
            return Response(status_code=result["status"])
        return JSONResponse(result["body"], status_code=result["status"])
