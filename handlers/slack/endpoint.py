"""POST /slack/events: verify Slack's signature, then hand the request to Bolt off the event loop."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.errors import InvalidInput
from handlers.boundary import check_text, load_json
from handlers.limits import read_body
from handlers.signatures import unix_seconds
from storage.replays import ReplayGuard

log = logging.getLogger(__name__)

TIMESTAMP = "x-slack-request-timestamp"
SIGNATURE = "x-slack-signature"
MAX_FIELDS = 100  # a slash command has about a dozen fields, an interaction one
TOLERANCE_S = 300  # Slack's own rule: older requests may be replays


def check_slack_body(body: bytes, content_type: str) -> None:
    """The boundary's rules on what Bolt will read: a JSON body (events), or a form whose
    fields (a slash command's text) and `payload` (interactions, a JSON text) are checked."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        load_json(body)
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("body is not UTF-8", status=400) from None
    try:
        fields = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("body is not a readable form", status=400) from None
    for name, value in fields:
        check_text(name, "a form field")
        if name == "payload":
            load_json(value)
        else:
            check_text(value, name)


class SlackEndpoint:
    def __init__(
        self,
        app: App,
        signing_secret: str,
        clock: Callable[[], float] = time.time,
        replays: ReplayGuard | None = None,
    ) -> None:
        self.app = app
        self._secret = signing_secret.encode()
        self._clock = clock
        self._replays = replays

    def _first_time(self, signature: str) -> bool:
        if self._replays is None:
            return True
        digest = hmac.new(self._secret, b"replay:" + signature.encode(), hashlib.sha256).hexdigest()
        return self._replays.first_time(digest, datetime.fromtimestamp(self._clock(), UTC))

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
        check_slack_body(body, request.headers.get("content-type", ""))
        # A copy of a signed request (its signature still fresh) is answered but not acted on:
        # a replayed /kudos would otherwise post twice. Slack's own retries are signed anew.
        if not await run_in_threadpool(self._first_time, request.headers[SIGNATURE]):
            log.info("a signed Slack request was replayed; ignored")
            return Response(status_code=200)
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
