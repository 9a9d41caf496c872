"""POST /slack/events: hand the signed request to Bolt off the event loop."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from handlers.limits import read_body

log = logging.getLogger(__name__)


class SlackEndpoint:
    def __init__(self, app: App) -> None:
        self.app = app

    async def handle(self, request: Request) -> Response:
        body = await read_body(request)
        try:
            bolt_request = to_bolt_request(request, body)
        except UnicodeDecodeError:
            return JSONResponse({"error": "body is not UTF-8"}, status_code=400)
        try:
            # The sync Bolt app waits for the listener's ack (up to 3 s): keep that off the loop.
            response = await run_in_threadpool(self.app.dispatch, bolt_request)
        except Exception as error:
            # Bolt raises on signed but malformed payloads; that is bad input, not our failure.
            log.warning("slack request could not be parsed: %s", type(error).__name__)
            return JSONResponse({"error": "malformed Slack payload"}, status_code=400)
        return to_starlette_response(response)
