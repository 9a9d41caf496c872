"""AWS Signature Version 4 for Amazon Connect's REST API, as an httpx.Auth.

Signs `host`, `x-amz-date`, `x-amz-content-sha256` (and `x-amz-security-token` with temporary
credentials) over the canonical request: method, the path with each segment URI-encoded once
more (every AWS service but S3), the query sorted by name, the signed headers, and the body's
SHA-256. Checked against AWS's published example (tests/handlers/test_connect.py).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

import httpx

ALGORITHM = "AWS4-HMAC-SHA256"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def canonical_path(raw_path: str) -> str:
    # Each segment as sent (already percent-encoded) is encoded again, as AWS specifies for
    # every service except S3.
    return "/".join(quote(segment, safe="-_.~") for segment in (raw_path or "/").split("/")) or "/"


def canonical_query(raw_query: str) -> str:
    pairs = sorted(
        (quote(name, safe="-_.~"), quote(value, safe="-_.~"))
        for name, value in parse_qsl(raw_query, keep_blank_values=True)
    )
    return "&".join(f"{name}={value}" for name, value in pairs)


def signature(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    payload_hash: str,
    secret: str,
    region: str,
    service: str,
    amz_date: str,
) -> tuple[str, str]:
    """(signed header names, hex signature) for a request whose `headers` (lower-case names)
    are all signed."""
    names = sorted(headers)
    canonical = "\n".join(
        [
            method.upper(),
            canonical_path(raw_path),
            canonical_query(raw_query),
            "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in names),
            ";".join(names),
            payload_hash,
        ]
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = signing_key(secret, amz_date[:8], region, service)
    return ";".join(names), hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class SigV4(httpx.Auth):
    requires_request_body = True

    def __init__(
        self,
        *,
        access_key_id: str,
        secret_access_key: str,
        region: str,
        service: str = "connect",
        session_token: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.access_key_id = access_key_id
        self._secret = secret_access_key
        self.region = region
        self.service = service
        self._session_token = session_token
        self.clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        amz_date = self.clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        payload_hash = hashlib.sha256(request.content).hexdigest()
        signed = {
            "host": request.url.netloc.decode(),
            "x-amz-date": amz_date,
            "x-amz-content-sha256": payload_hash,
        }
        if self._session_token:
            signed["x-amz-security-token"] = self._session_token
        names, sig = signature(
            method=request.method,
            raw_path=request.url.raw_path.decode().split("?", 1)[0],
            raw_query=request.url.query.decode(),
            headers=signed,
            payload_hash=payload_hash,
            secret=self._secret,
            region=self.region,
            service=self.service,
            amz_date=amz_date,
        )
        for name, value in signed.items():
            if name != "host":
                request.headers[name] = value
        scope = f"{amz_date[:8]}/{self.region}/{self.service}/aws4_request"
        request.headers["Authorization"] = (
            f"{ALGORITHM} Credential={self.access_key_id}/{scope}, SignedHeaders={names}, Signature={sig}"
        )
        yield request
