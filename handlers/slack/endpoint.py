"""POST /slack/events: hand the signed request to Bolt off the event loop."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from handlers.limits import read_body

log = logging.getLogger(__name__)


class SlackEndpoint:
    def __init__(self, app: App, signing_secret: str) -> None:
        self.app = app
        self.verifier = SignatureVerifier(signing_secret)

    def _refuse(self, body: bytes, request: Request, reason: str) -> Response:
        # Bolt parses before it verifies; answer an unsigned request 401, a signed one 400.
        if not self.verifier.is_valid_request(body, dict(request.headers)):
            return JSONResponse({"error": "invalid Slack signature"}, status_code=401)
        log.warning("signed Slack request could not be handled: %s", reason)
        return JSONResponse({"error": "malformed Slack payload"}, status_code=400)

    async def handle(self, request: Request) -> Response:
        body = await read_body(request)
        try:
            bolt_request = to_bolt_request(request, body)
        except (
            ValueError,
            AttributeError,
            TypeError,
            KeyError,
        ) as error:  # not UTF-8, not JSON, not an object
            return self._refuse(body, request, type(error).__name__)
        try:
            # The sync Bolt app waits for the listener's ack (up to 3 s): keep that off the loop.
            response = await run_in_threadpool(self.app.dispatch, bolt_request)
        except Exception as error:
            return self._refuse(body, request, type(error).__name__)
        return to_starlette_response(response)
