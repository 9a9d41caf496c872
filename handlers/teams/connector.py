"""The Bot Connector REST API (the Teams SDK's ApiClient) for synchronous callers.

The outbox worker sends from plain threads, while the SDK's HTTP client is async and tied to
the event loop that first uses it. So the connector runs one private event loop in its own
thread and every call is handed to it; the inbound side (the SDK's App inside the web
server) keeps its own client on the server's loop. No retries happen here: the outbox owns
them, so a 429 comes back at once as RateLimited with its Retry-After.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

from bot.errors import DeliveryFailed
from handlers.teams.cards import Card, attachment
from handlers.teams.errors import connector_errors
from handlers.teams.sdk import (
    ApiClient,
    Attachment,
    Client,
    ClientOptions,
    CloudEnvironment,
    MessageActivityInput,
    TokenProviderProtocol,
)

T = TypeVar("T")

CALL_TIMEOUT_S = 30.0  # token (MSAL) plus the HTTP call itself, which has its own 10 s limit


async def _awaited(value: Awaitable[T]) -> T:
    return await value


def card_activity(content: Card, *, text: str | None = None) -> MessageActivityInput:
    card = attachment(content)
    activity = MessageActivityInput(text=text)
    return activity.add_attachments(Attachment(content_type=card["contentType"], content=card["content"]))


class Connector:
    def __init__(
        self,
        *,
        service_url: str,
        token_provider: TokenProviderProtocol,
        cloud: CloudEnvironment | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.service_url = service_url.rstrip("/")
        self._tokens = token_provider
        self._http = Client(ClientOptions(timeout=timeout_s, headers={"User-Agent": "breather"}))
        self._api = ApiClient(self.service_url, self._http, cloud=cloud, token_provider=token_provider)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="breather-teams", daemon=True)
        self._thread.start()

    def _run(self, operation: str, work: Coroutine[Any, Any, T], timeout_s: float = CALL_TIMEOUT_S) -> T:
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        with connector_errors(operation):
            try:
                return future.result(timeout_s)
            except concurrent.futures.TimeoutError:
                future.cancel()
                raise DeliveryFailed(f"teams {operation}: no answer within {timeout_s:g} s") from None

    def send(self, conversation_id: str, content: Card, *, service_url: str | None = None) -> str:
        """Post a card to a conversation; returns the new activity's id."""
        activity = card_activity(content)
        sent = self._run(
            "send",
            self._api.conversations.create_activity(conversation_id, activity, service_url=service_url),
        )
        return str(sent.id)

    def update(
        self, conversation_id: str, activity_id: str, content: Card, *, service_url: str | None = None
    ) -> None:
        activity = card_activity(content)
        self._run(
            "update",
            self._api.conversations.update_activity(
                conversation_id, activity_id, activity, service_url=service_url
            ),
        )

    def delete(self, conversation_id: str, activity_id: str, *, service_url: str | None = None) -> None:
        self._run(
            "delete",
            self._api.conversations.delete_activity(conversation_id, activity_id, service_url=service_url),
        )

    def app_token(self, scope: str, tenant_id: str | None, timeout_s: float = CALL_TIMEOUT_S) -> str:
        """An app-only token for another API (Microsoft Graph), from the same credentials, on the
        connector's loop (the SDK's token provider is async; it caches tokens)."""
        result = self._tokens.get_app_token(scope, tenant_id)
        found = self._run("token", _awaited(result), timeout_s) if inspect.isawaitable(result) else result
        if found is None:
            raise DeliveryFailed("teams token: the app has no credentials", permanent=True)
        return str(found)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._http.http.aclose(), self._loop).result(CALL_TIMEOUT_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CALL_TIMEOUT_S)
        self._loop.close()
