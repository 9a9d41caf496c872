"""Who may use the sandbox console: a browser on this machine that opened the URL Breather
printed. The console shows private check-ins and digests and can act as anyone, so:

- the Host header must name the loopback interface (127.0.0.1, localhost, ::1): a web page
  that rebinds its own domain name to 127.0.0.1 still sends its own name as Host, and is
  refused;
- every request carries the per-run token: the printed URL has it as `?token=`, the page's
  answer turns it into a SameSite=Strict, HttpOnly cookie, and the page's own calls send that
  cookie (a script may send the `X-Breather-Sandbox-Token` header instead).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
COOKIE = "breather_sandbox"
HEADER = "x-breather-sandbox-token"

Endpoint = Callable[[Request], Awaitable[Response]]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def host_name(host: str) -> str:
    """The name part of a Host header: `127.0.0.1:3000` -> 127.0.0.1, `[::1]:3000` -> ::1."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback_host(host: str) -> bool:
    return host_name(host) in LOOPBACK_HOSTS


def guarded(token: str, endpoint: Endpoint) -> Endpoint:
    async def check(request: Request) -> Response:
        if not is_loopback_host(request.headers.get("host", "")):
            return JSONResponse(
                {"error": "the sandbox console answers only on this machine (127.0.0.1 or localhost)"},
                status_code=403,
            )
        in_url = request.query_params.get("token")
        given = in_url or request.headers.get(HEADER) or request.cookies.get(COOKIE) or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            return JSONResponse(
                {"error": "open the console with the URL printed at start: it carries a token"},
                status_code=401,
            )
        response = await endpoint(request)
        if in_url:
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/sandbox")
        return response

    return check
