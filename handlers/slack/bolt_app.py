"""Assemble the Bolt app: one error handler and one register call per surface."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.config import Settings
from bot.container import Services
from bot.errors import InvalidInput
from bot.logs import bolt_logger
from bot.messenger import ChatPlatform
from bot.roster import RosterAgent
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

    def resolve(user_id: str) -> RosterAgent | None:
        return services.identity.agent(ChatPlatform.SLACK, user_id, email_lookup)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        # Logged once, with the traceback (masked by the log filter), never the payload (it
        # may hold what an agent wrote); the person is told something short, with the reference.
        kind = body.get("type") or body.get("command") or "request"
        if isinstance(error, InvalidInput):
            # A signed payload without what its kind always carries: the sender's, not a bug.
            log.warning("slack %s refused: %s", kind, error)
            headers: dict[str, str | Sequence[str]] = {"content-type": "application/json"}
            return BoltResponse(status=error.status, body=json.dumps({"error": str(error)}), headers=headers)
        reference = uuid.uuid4().hex[:8]
        log.error("slack %s failed (reference %s): %s", kind, reference, type(error).__name__, exc_info=error)
        user_id = _user_id(body)
        try:
            agent = resolve(user_id) if user_id else None
        except Exception:  # whatever failed may fail again here: English, and no DM
            agent = None
        text = services.commands.unexpected_error(agent, reference, error)
        if body.get("command"):
            # A slash command's answer is shown to the person who typed it, and only to them.
            reply = {"response_type": "ephemeral", "text": text}
            return BoltResponse(
                status=200, body=json.dumps(reply), headers={"content-type": "application/json"}
            )
        return BoltResponse(status=200, body="")

    actions.register(app, services, resolve)
    email_of = email_lookup or (lambda _user_id: None)
    commands.register(app, services, resolve, email_of)
    events.register(app, services, resolve, email_of, locale_lookup)
    surveys.register(app, services, resolve)
    compliments.register(app, services, resolve)
    views.register(app, services, resolve)
    return app


def _user_id(body: dict[str, Any]) -> str | None:
    """Who acted, from any kind of payload (a command's user_id, an interaction's user.id)."""
    user = body.get("user")
    found = user.get("id") if isinstance(user, dict) else body.get("user_id")
    return found if isinstance(found, str) and found else None
