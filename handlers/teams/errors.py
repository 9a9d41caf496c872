"""Bot Connector failures translated once into Breather's delivery errors.

Microsoft asks bots to back off on 429 (honouring Retry-After when given) and to retry 412,
502 and 504; every other 5xx and a dropped connection are retried too. Other 4xx answers
will not change on a retry, so they fail for good.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bot.errors import DeliveryFailed, RateLimited

RETRYABLE = frozenset({408, 412, 502, 503, 504})
DEFAULT_RETRY_AFTER_S = 2.0
_NOT_INSTALLED_CODES = ("BotNotInConversationRoster", "ConversationNotFound", "BotDisabledByAdmin")


def retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else DEFAULT_RETRY_AFTER_S
    except ValueError:
        return DEFAULT_RETRY_AFTER_S  # an HTTP date: rare here, and a short wait is safe


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code) if code else ""


def delivery_error(operation: str, response: httpx.Response) -> DeliveryFailed:
    status = response.status_code
    code = _error_code(response)
    if status == 429:
        return RateLimited(f"teams {operation}: rate limited", retry_after(response))
    if status in RETRYABLE or status >= 500:
        return DeliveryFailed(f"teams {operation}: HTTP {status} {code}".strip())
    if status == 403 or code in _NOT_INSTALLED_CODES:
        return DeliveryFailed(
            f"teams {operation}: HTTP {status} {code}: Breather is not installed in that conversation "
            "(or the person removed it)",
            permanent=True,
        )
    return DeliveryFailed(f"teams {operation}: HTTP {status} {code}".strip(), permanent=True)


@contextmanager
def connector_errors(operation: str) -> Iterator[None]:
    try:
        yield
    except httpx.HTTPStatusError as error:
        raise delivery_error(operation, error.response) from None
    except (httpx.TransportError, TimeoutError, ConnectionError) as error:
        raise DeliveryFailed(f"teams {operation}: connection failed ({type(error).__name__})") from None
