"""The one mapping from exceptions to HTTP answers: short JSON, never a 5xx for bad input."""

from __future__ import annotations

import logging
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.errors import InvalidInput, InvalidSignature, NotAllowed, NotFound

log = logging.getLogger(__name__)


async def on_invalid_input(request: Request, error: Exception) -> Response:
    assert isinstance(error, InvalidInput)
    # A body too slow or too large is left unread: the connection cannot carry on after it.
    headers = {"Connection": "close"} if error.status in (408, 413) else None
    return JSONResponse({"error": str(error)}, status_code=error.status, headers=headers)


async def on_invalid_signature(request: Request, error: Exception) -> Response:
    return JSONResponse({"error": str(error)}, status_code=401)


async def on_not_found(request: Request, error: Exception) -> Response:
    return JSONResponse({"error": str(error) or "not found"}, status_code=404)


async def on_not_allowed(request: Request, error: Exception) -> Response:
    return JSONResponse({"error": str(error) or "not allowed"}, status_code=403)


async def on_unexpected(request: Request, error: Exception) -> Response:
    # Our failure, not the caller's: 503 invites the provider to retry later.
    reference = uuid.uuid4().hex[:8]
    log.error("unexpected error on %s (reference %s)", request.url.path, reference, exc_info=error)
    return JSONResponse({"error": "temporarily unavailable", "reference": reference}, status_code=503)


EXCEPTION_HANDLERS = {
    InvalidInput: on_invalid_input,
    InvalidSignature: on_invalid_signature,
    NotFound: on_not_found,
    NotAllowed: on_not_allowed,
    Exception: on_unexpected,
}
