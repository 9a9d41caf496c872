"""Starlette routes: webhooks, health and metrics. Thin: read, verify, parse, store, answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.clock import as_utc
from bot.container import Services
from bot.errors import InvalidInput, InvalidSignature
from bot.events import CallEnded
from bot.metrics import OVERDUE_AFTER
from handlers import legal
from handlers.limits import read_body
from handlers.telephony.base import Challenged, RawRequest, TelephonyAdapter, describe, require_media_type
from handlers.telephony.emotion import without_agent_emotion_tags
from storage import outbox
from storage.db import ping, read_scope

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]
UNREADABLE = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
    UnicodeError,
)


def webhook_endpoint(services: Services, adapter: TelephonyAdapter) -> Endpoint:
    rejected = services.metrics.events_rejected

    async def endpoint(request: Request) -> Response:
        try:
            body = await read_body(request)
            raw = RawRequest(
                path=request.url.path,
                public_url=services.settings.public_url
                + request.url.path
                + (f"?{request.url.query}" if request.url.query else ""),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
            )
            require_media_type(raw, adapter.media_types)
            try:
                adapter.verify(raw)
            except UNREADABLE as error:
                log.warning("%s signature could not be read: %s", adapter.provider, type(error).__name__)
                raise InvalidInput("signature or body cannot be read", status=400) from None
            if isinstance(adapter, Challenged) and (answer := adapter.challenge(raw)) is not None:
                return JSONResponse(answer, status_code=200)
            try:
                events = adapter.parse(raw)
            except ValidationError as error:
                # An event the domain refuses (a NUL character, a value out of range) that the
                # adapter did not translate itself: the sender's fault all the same.
                raise InvalidInput(describe(error)) from None
            except UNREADABLE as error:
                # Parsing is pure decoding of a verified body: whatever it trips on is a value
                # the adapter did not foresee, still the sender's to fix, and nothing is stored.
                log.warning("%s body could not be read: %s", adapter.provider, type(error).__name__)
                raise InvalidInput("body has a value that cannot be read") from None
        except InvalidSignature:
            rejected.labels(adapter.provider, "signature").inc()
            raise
        except InvalidInput as error:
            rejected.labels(adapter.provider, str(error.status)).inc()
            raise
        # Whatever an adapter read, a tag naming the agent's emotion is never kept (issue 13, 7).
        events = [
            event.model_copy(update={"tags": without_agent_emotion_tags(event.tags)})
            if isinstance(event, CallEnded)
            else event
            for event in events
        ]
        if not events:
            # A body Breather does not use (another trigger, an event type or a score it does
            # not read): acknowledged, so the provider stops retrying, and reported as ignored.
            services.metrics.events_ignored.labels(adapter.provider).inc()
        result = await services.intake.accept_async(adapter.provider, events)
        if adapter.accepted_status == 204:
            return Response(status_code=204, media_type="application/json")
        status = (
            "duplicate"
            if result.duplicates and not result.accepted
            else ("ignored" if (result.ignored or not events) and not result.accepted else "accepted")
        )
        return JSONResponse(
            {"status": status, "accepted": result.accepted}, status_code=adapter.accepted_status
        )

    return endpoint


def health_endpoint(services: Services) -> Endpoint:
    async def healthz(request: Request) -> Response:
        try:
            await run_in_threadpool(ping, services.engine)
        except Exception as error:
            log.error("health check: database unreachable: %s", type(error).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "messenger": services.settings.messenger})

    return healthz


def metrics_endpoint(services: Services) -> Endpoint:
    def collect() -> bytes:
        now = services.clock()
        with read_scope(services.engine) as session:
            count, earliest = outbox.overdue(session, due_before=now - OVERDUE_AFTER)
        services.metrics.outbox_depth.set(count)
        services.metrics.delivery_delay.set(
            0 if earliest is None else round(max((now - as_utc(earliest)).total_seconds(), 0.0))
        )
        return generate_latest(services.metrics.registry)

    async def metrics(request: Request) -> Response:
        return Response(await run_in_threadpool(collect), media_type=CONTENT_TYPE_LATEST)

    return metrics


def routes(services: Services, adapters: dict[str, TelephonyAdapter], slack: Endpoint) -> list[Route]:
    webhook_paths = {"generic": "/webhooks/calls"}
    table = [
        Route("/healthz", health_endpoint(services), methods=["GET"]),
        Route("/metrics", metrics_endpoint(services), methods=["GET"]),
        Route("/slack/events", slack, methods=["POST"]),
        *legal.routes(services),
    ]
    for name, adapter in adapters.items():
        path = webhook_paths.get(name, f"/webhooks/{name}")
        table.append(Route(path, webhook_endpoint(services, adapter), methods=["POST"]))
    return table
