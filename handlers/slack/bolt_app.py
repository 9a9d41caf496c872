"""Assemble the Bolt app: one error handler and one register call per surface."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.config import Settings
from bot.logs import bolt_logger
from bot.roster import RosterAgent
from bot.services import Services
from handlers.slack.listeners import actions, commands, compliments, events, surveys, views

log = logging.getLogger(__name__)

LISTENER_THREADS = 5  # Bolt's own default; listeners run here after the ack
SANDBOX_TEAM_ID = "T0SANDBOX"
SANDBOX_BOT_USER_ID = "U0BREATHER"


def _sandbox_authorize(**_: Any) -> AuthorizeResult:
    # The sandbox has no Slack workspace to ask; this is who Breather is there.
    return AuthorizeResult(
        enterprise_id=None,
        team_id=SANDBOX_TEAM_ID,
        bot_token="xoxb-sandbox",
        bot_user_id=SANDBOX_BOT_USER_ID,
        bot_id="B0BREATHER",
    )


def wait_for_listeners(app: App, timeout: float = 10.0) -> bool:
    """Block until every listener started so far has returned (False if `timeout` passed first).

    Bolt runs listeners on its thread pool after the ack. Occupying every worker at once proves
    the earlier ones are done (the pool's queue is first in, first out): at shutdown, before
    the database goes away, and in tests that check nothing happened.
    """
    executor = app.listener_runner.listener_executor
    barrier = threading.Barrier(LISTENER_THREADS + 1, timeout=timeout)
    for _ in range(LISTENER_THREADS):
        executor.submit(_meet, barrier)
    return _meet(barrier)


def _meet(barrier: threading.Barrier) -> bool:
    try:
        barrier.wait()
        return True
    except threading.BrokenBarrierError:
        return False


def build_bolt_app(
    settings: Settings,
    services: Services,
    *,
    client: WebClient | None,
    signing_secret: str,
    email_lookup: Callable[[str], str | None] | None,
    locale_lookup: Callable[[str], str | None] | None = None,
) -> App:
    listeners = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="breather-slack")
    if client is not None:
        app = App(
            client=client,
            signing_secret=signing_secret,
            token_verification_enabled=False,
            request_verification_enabled=not settings.uses_socket_mode or bool(signing_secret),
            process_before_response=False,
            logger=bolt_logger(),
            listener_executor=listeners,
        )
    else:
        app = App(
            signing_secret=signing_secret,
            authorize=_sandbox_authorize,
            process_before_response=False,
            logger=bolt_logger(),
            listener_executor=listeners,
        )

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        # Log what happened and where, never the payload (it may hold what an agent wrote).
        reference = uuid.uuid4().hex[:8]
        kind = body.get("type") or body.get("command") or "request"
        log.error("slack %s failed (reference %s): %s: %s", kind, reference, type(error).__name__, error)
        return BoltResponse(status=200, body="")

    def resolve(user_id: str) -> RosterAgent | None:
        return services.agent_for_chat_user("slack", user_id, email_lookup)

    actions.register(app, services, resolve)
    email_of = email_lookup or (lambda _user_id: None)
    commands.register(app, services, resolve, email_of)
    events.register(app, services, resolve, email_of, locale_lookup)
    surveys.register(app, services, resolve)
    compliments.register(app, services, resolve)
    views.register(app, services, resolve)
    return app
