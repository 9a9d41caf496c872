"""Calling a phone system's REST API: a timeout on every call, bounded retries with backoff.

429, 5xx and connection failures are retried a few times within the call (honouring
Retry-After); what still fails becomes PhoneUnavailable, so the break worker can try again
later without holding a thread. Other 4xx answers become PhoneRefused, 412 StatusChanged.
Error messages name the provider, the method and the HTTP status, never a URL (it holds
agent ids) or a body.
"""

from __future__ import annotations

import email.utils
import functools
import ssl
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.recovery.phone import PhoneRefused, PhoneUnavailable, StatusChanged

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
ATTEMPTS = 3
BACKOFF_S = 0.25  # then 0.5 s: the agent is waiting for the answer
MAX_WAIT_S = 5.0  # a longer Retry-After is left to the break worker's own schedule


@functools.cache
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle takes tens of milliseconds: the process's clients share one context.
    return httpx.create_ssl_context()


def make_http_client() -> httpx.Client:
    """One client for every phone system: pooled connections, no redirects, timeouts everywhere."""
    return httpx.Client(
        timeout=DEFAULT_TIMEOUT, follow_redirects=False, headers={"User-Agent": "breather"}, verify=_tls()
    )


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds, from either of its forms (seconds or an HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


class RestApi:
    def __init__(
        self,
        client: httpx.Client,
        *,
        label: str,
        base_url: str,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        attempts: int = ATTEMPTS,
        backoff_s: float = BACKOFF_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.label = label
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.sleep = sleep

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        what = f"{self.label} {method}"
        for attempt in range(1, self.attempts + 1):
            wait = self.backoff_s * 2 ** (attempt - 1)
            try:
                response = self.client.request(
                    method,
                    self.base_url + path,
                    params=params,
                    data=data,
                    json=json,
                    headers={**self.headers, **(headers or {})},
                    auth=self.auth or httpx.USE_CLIENT_DEFAULT,
                    timeout=self.timeout,
                )
            except httpx.TimeoutException:
                problem = f"{what}: timed out"
            except httpx.TransportError as error:
                problem = f"{what}: connection failed ({type(error).__name__})"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return response
                if status == 412:
                    raise StatusChanged(f"{what}: HTTP 412, the status changed meanwhile")
                if status != 429 and status != 408 and status < 500:
                    raise PhoneRefused(f"{what}: HTTP {status}")
                problem = f"{what}: HTTP {status}"
                wait = max(wait, retry_after(response) or 0.0)
            if attempt == self.attempts or wait > MAX_WAIT_S:
                raise PhoneUnavailable(problem, retry_after=wait)
            self.sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")

    def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.call(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            raise PhoneUnavailable(f"{self.label} {method}: the answer was not JSON") from None
        if not isinstance(body, dict):
            raise PhoneUnavailable(f"{self.label} {method}: the answer was not a JSON object")
        return body
