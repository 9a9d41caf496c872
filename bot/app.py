"""create_app(settings): the composition root. Everything is built here from one Settings."""

from __future__ import annotations

import gc
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from bot.clock import utcnow
from bot.config import BreatherConfig, Settings
from bot.container import Services
from bot.errors import ConfigError
from bot.keys import legacy_conversion
from bot.messenger import Messenger
from bot.recovery.phone import PhoneSystem
from bot.runtime import Runtime
from handlers.errors import EXCEPTION_HANDLERS
from handlers.http import routes
from handlers.limits import BodyLimits
from handlers.sandbox.console import SandboxConsole
from handlers.sandbox.messenger import SandboxMessenger
from handlers.slack.bolt_app import build_bolt_app, wait_for_listeners
from handlers.slack.endpoint import TOLERANCE_S, SlackEndpoint
from handlers.slack.messenger import SlackMessenger, make_web_client
from handlers.telephony.phone_systems import build_phone_systems
from handlers.telephony.registry import build_adapters
from handlers.telephony.rest import make_http_client
from storage.db import make_engine, upgrade
from storage.replays import ReplayGuard

log = logging.getLogger(__name__)


def _secret(value: Any) -> str:
    return str(value.get_secret_value()) if value is not None else ""


def make_messenger(settings: Settings, engine: Engine) -> Messenger:
    if settings.messenger == "slack":
        client = make_web_client(_secret(settings.slack_bot_token), settings.slack_api_url)
        return SlackMessenger(client, engine)
    if settings.messenger == "sandbox":
        return SandboxMessenger(engine)
    if settings.messenger == "teams":
        # Imported only here: the Teams SDK is large and reads a .env file when imported.
        from handlers.teams.messenger import build_teams_messenger

        return build_teams_messenger(settings, engine)
    raise ConfigError(f"BREATHER_MESSENGER: unknown messenger {settings.messenger!r}")


def teams_parts(services: Services) -> tuple[list[Route], Callable[[], Awaitable[None]], Callable[[], None]]:
    """POST /api/messages and the Teams SDK's start and stop, when the messenger is Teams."""
    if services.messenger.name != "teams":
        return [], _nothing, lambda: None
    from handlers.teams.activities import register
    from handlers.teams.messenger import TeamsMessenger
    from handlers.teams.sdk import MESSAGES_PATH

    messenger = services.messenger
    assert isinstance(messenger, TeamsMessenger)
    register(messenger.app, services, messenger)
    route = Route(MESSAGES_PATH, messenger.endpoint.handle, methods=["POST"])
    return [route], messenger.start, messenger.close


async def _nothing() -> None:
    return None


def create_app(
    settings: Settings,
    *,
    config: BreatherConfig | None = None,
    services: Services | None = None,
    clock: Callable[[], datetime] = utcnow,
    phones: Mapping[str, PhoneSystem] | None = None,
    freeze_start_up: bool = False,
) -> Starlette:
    """The app, built from `settings` (or around ready-made `services`). `clock` is the time every
    part of it goes by: tests pass one they can move on instead of waiting. `phones` adds phone
    systems to those the settings configure (the demo's own DemoPhone). `freeze_start_up` (the
    server process, which holds one app for its life) keeps what start-up built out of the
    garbage collector's full passes."""
    if services is None:
        settings.require_messenger()  # a server without its messenger's token: a config error
    engine = services.engine if services else make_engine(settings.database_url)
    messenger = services.messenger if services else make_messenger(settings, engine)
    phone_client = make_http_client()
    services = services or Services(
        settings,
        engine,
        messenger,
        config,
        clock=clock,
        phones={**build_phone_systems(settings, phone_client), **(phones or {})},
    )
    # In the sandbox nobody outside this process can sign Slack requests: the console and the
    # demo sign their clicks with this per-process secret.
    signing_secret = _secret(settings.slack_signing_secret) or secrets.token_hex(16)
    client = messenger.client if isinstance(messenger, SlackMessenger) else None
    bolt = build_bolt_app(
        settings,
        services,
        client=client,
        signing_secret=signing_secret,
        email_lookup=messenger.email_of,
        locale_lookup=messenger.locale_of if isinstance(messenger, SlackMessenger) else None,
    )
    runtime = Runtime(services)
    teams_routes, start_teams, stop_teams = teams_parts(services)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(partial(upgrade, engine, convert_legacy=legacy_conversion(services.keyring)))
        await run_in_threadpool(services.sync)
        if services.keyring.old:
            log.info(
                "pseudonym keys: writing with %s, still reading with %s until `breather keys rotate` is done",
                services.keyring.kid,
                ", ".join(key.kid for key in services.keyring.old),
            )
        await start_teams()
        if freeze_start_up:
            # What start-up built (modules, the roster, the catalogue) lives as long as the
            # process: out of the collector's full passes, each of which stopped every thread
            # for up to 180 ms under load (bench/ingest.py), now 30-50 ms.
            gc.collect()
            gc.freeze()
        runtime.start()
        socket_mode = None
        if settings.uses_socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            socket_mode = SocketModeHandler(bolt, _secret(settings.slack_app_token))
            socket_mode.connect()  # type: ignore[no-untyped-call]
            log.info("connected to Slack in Socket Mode")
        try:
            yield
        finally:
            if socket_mode is not None:
                socket_mode.close()  # type: ignore[no-untyped-call]
            # Slack listeners still working after their ack finish before the database closes.
            if not await run_in_threadpool(wait_for_listeners, bolt):
                log.warning("some Slack listeners were still running at shutdown")
            runtime.stop()
            services.checkins.close()
            if isinstance(messenger, SlackMessenger):
                messenger.close()  # its address writer must finish before the engine goes
            stop_teams()
            phone_client.close()
            engine.dispose()

    # The web console plays Slack for the sandbox; it must never exist next to a real workspace.
    console = (
        SandboxConsole(services, messenger, signing_secret)
        if isinstance(messenger, SandboxMessenger)
        else None
    )
    app = Starlette(
        routes=[
            *routes(
                services,
                build_adapters(settings),
                SlackEndpoint(
                    bolt, signing_secret, replays=ReplayGuard(engine, timedelta(seconds=TOLERANCE_S))
                ).handle,
            ),
            *(console.routes() if console else []),
            *teams_routes,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.body_limits = BodyLimits(settings.body_timeout_seconds)
    app.state.bolt = bolt
    app.state.slack_signing_secret = signing_secret
    app.state.sandbox_console = console
    return app
