"""Request size limits shared by every inbound endpoint."""

from __future__ import annotations

from starlette.requests import Request

from bot.errors import InvalidInput

MAX_BODY = 1024 * 1024  # 1 MiB, from the contract


async def read_body(request: Request) -> bytes:
    """The raw body, refusing anything over 1 MiB without reading it all into memory."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > MAX_BODY:
                raise InvalidInput("body is larger than 1 MiB", status=413)
        except ValueError:
            raise InvalidInput("invalid Content-Length", status=400) from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise InvalidInput("body is larger than 1 MiB", status=413)
        chunks.append(chunk)
    return b"".join(chunks)
