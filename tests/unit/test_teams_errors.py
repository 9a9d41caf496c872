"""Bot Connector answers become the outbox's retry decisions."""

from __future__ import annotations

import httpx
import pytest

from bot.errors import DeliveryFailed, RateLimited
from handlers.teams.errors import connector_errors, delivery_error


def answer(status: int, *, retry_after: str | None = None, code: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    body = {"error": {"code": code, "message": "x"}} if code else {}
    return httpx.Response(status, headers=headers, json=body)


def test_429_waits_as_long_as_teams_asks() -> None:
    error = delivery_error("send", answer(429, retry_after="7"))
    assert isinstance(error, RateLimited) and error.retry_after == 7.0


def test_429_without_retry_after_waits_a_little() -> None:
    error = delivery_error("send", answer(429))
    assert isinstance(error, RateLimited) and 0 < error.retry_after <= 5


@pytest.mark.parametrize("status", [412, 500, 502, 503, 504])
def test_server_errors_and_412_are_retried(status: int) -> None:
    error = delivery_error("send", answer(status))
    assert not isinstance(error, RateLimited) and not error.permanent


@pytest.mark.parametrize("status", [400, 401, 404, 413])
def test_other_client_errors_fail_for_good(status: int) -> None:
    assert delivery_error("send", answer(status)).permanent


def test_a_bot_no_longer_in_the_conversation_is_reported_as_not_installed() -> None:
    error = delivery_error("send", answer(403, code="BotNotInConversationRoster"))
    assert error.permanent and "not installed" in str(error)


def test_connection_problems_are_retried() -> None:
    with pytest.raises(DeliveryFailed) as raised, connector_errors("send"):
        raise httpx.ConnectError("refused")
    assert not raised.value.permanent and "connection failed" in str(raised.value)
