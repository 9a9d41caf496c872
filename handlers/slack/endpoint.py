"""POST /slack/events: verify Slack's signature, then hand the request to Bolt off the event loop."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from handlers.limits import read_body
from handlers.signatures import unix_seconds

log = logging.getLogger(__name__)

TIMESTAMP = "x-slack-request-timestamp"
SIGNATURE = "x-slack-signature"
TOLERANCE_S = 300  # Slack's own rule: older requests may be replays


class SlackEndpoint:
    def __init__(self, app: App, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self._secret = signing_secret.encode()
        self._clock = clock

    def _signed(self, request: Request, body: bytes) -> bool:
        # Checked here, before Bolt: slack_sdk's verifier calls int() on the timestamp, and
        # whatever it raises would reach Bolt's error handler, which answers 200. A repeated
        # header is refused too, since Starlette and Bolt would each read a different copy.
        stamps = request.headers.getlist(TIMESTAMP)
        signatures = request.headers.getlist(SIGNATURE)
        if len(stamps) != 1 or len(signatures) != 1 or not self._secret:
            return False
        sent_at = unix_seconds(stamps[0])
        if sent_at is None or abs(self._clock() - sent_at) > TOLERANCE_S:
            return False
        base = b"v0:" + stamps[0].encode() + b":" + body
        expected = "v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), signatures[0].encode())

    async def handle(self, request: Request) -> Response:
        body = await read_body(request)
        if not self._signed(request, body):
            return JSONResponse({"error": "invalid Slack signature"}, status_code=401)
        try:
            bolt_request = to_bolt_request(request, body)
        except (ValueError, AttributeError, TypeError, KeyError) as error:
            return self._malformed(type(error).__name__)  # not UTF-8, not JSON, not an object
        try:
            # The sync Bolt app waits for the listener's ack (up to 3 s): keep that off the loop.
            response = await run_in_threadpool(self.app.dispatch, bolt_request)
        except Exception as error:
            return self._malformed(type(error).__name__)
        return to_starlette_response(response)

    @staticmethod
    def _malformed(reason: str) -> Response:
        log.warning("signed Slack request could not be handled: %s", reason)
        return JSONResponse({"error": "malformed Slack payload"}, status_code=400)
