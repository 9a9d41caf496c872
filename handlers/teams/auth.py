"""Inbound Bot Framework tokens, checked before the Teams SDK sees them, and never on the loop.

The SDK validates each bearer token itself, fetching signing keys with blocking I/O on the
event loop, and fetches them afresh for each new Entra tenant a token names: a few forged
tokens could stall every request. So `/api/messages` first checks, without any I/O, that the
token is an RS256 JWT from the Bot Framework issuer, for this app, for this tenant (when the
token names one), and not expired; only then is the signature checked, against keys that
`SigningKeys` fetches in a thread, with a timeout, cached, one fetch at a time. The SDK's own
check then runs on the same cached keys (`serve_keys_to`), so it does no network I/O either.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from bot.errors import InvalidSignature

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 5.0
KEYS_TTL_S = 24 * 3600  # the Bot Framework rotates keys rarely and announces them ahead
REFETCH_AFTER_S = 300  # an unknown key id refetches at most this often: forged ids cost nothing
LEEWAY_S = 300  # the SDK's clock tolerance


def jwks_uri(openid_metadata_url: str) -> str:
    """Where the keys are, derived as the SDK derives it from the metadata URL."""
    return re.sub(r"/openidconfiguration$", "/keys", openid_metadata_url)


def _fetch_json(url: str) -> dict[str, Any]:
    response = httpx.get(url, timeout=FETCH_TIMEOUT_S)
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError("the key set is not a JSON object")
    return data


class SigningKeys:
    """The signing key set: fetched off the event loop, with a timeout, cached, single-flight."""

    def __init__(
        self,
        url: str,
        *,
        fetch: Callable[[str], dict[str, Any]] = _fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._fetch = fetch
        self._clock = clock
        self._lock = asyncio.Lock()
        self.jwks: dict[str, Any] = {"keys": []}
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # the last attempt, successful or not
        self.fetches = 0

    def _due(self, kid: str) -> bool:
        if self._fetched_at is None:
            return True
        age = self._clock() - self._fetched_at
        return age > KEYS_TTL_S or (kid not in self._keys and age > REFETCH_AFTER_S)

    async def key(self, kid: str) -> jwt.PyJWK | None:
        if self._due(kid):
            async with self._lock:  # whoever waited here finds the keys the first caller fetched
                if self._due(kid):
                    await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        self._fetched_at = self._clock()
        self.fetches += 1
        try:
            data = await asyncio.wait_for(asyncio.to_thread(self._fetch, self.url), FETCH_TIMEOUT_S + 1)
            keys = jwt.PyJWKSet.from_dict(data)
        except Exception as error:  # the old keys stay in use; the next attempt waits its turn
            log.warning("Teams signing keys could not be fetched: %s", type(error).__name__)
            return
        self.jwks = data
        self._keys = {key.key_id: key for key in keys.keys if key.key_id}


class InboundAuth:
    """The checks on a bearer token that need no I/O, then its signature on cached keys."""

    def __init__(self, *, app_id: str, issuer: str, tenant_id: str | None, keys: SigningKeys) -> None:
        self.audiences = [app_id, f"api://{app_id}", f"api://botid-{app_id}"]
        self.issuer = issuer
        self.tenant_id = tenant_id
        self.keys = keys

    async def check(self, authorization: str) -> dict[str, Any]:
        token = authorization.removeprefix("Bearer ").strip()
        try:
            header = jwt.get_unverified_header(token)
            claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise InvalidSignature("Bot Framework token is not a JWT") from None
        if header.get("alg") != "RS256":
            raise InvalidSignature("Bot Framework token must be signed with RS256")
        if claims.get("iss") != self.issuer:
            raise InvalidSignature("Bot Framework token has another issuer")
        audience = claims.get("aud")
        if not isinstance(audience, str) or audience not in self.audiences:
            raise InvalidSignature("Bot Framework token is for another app")
        tenant = claims.get("tid")
        if self.tenant_id and tenant is not None and tenant != self.tenant_id:
            raise InvalidSignature("Bot Framework token is for another tenant")
        expires = claims.get("exp")
        if (
            isinstance(expires, bool)
            or not isinstance(expires, (int, float))
            or expires < time.time() - LEEWAY_S
        ):
            raise InvalidSignature("Bot Framework token has expired")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidSignature("Bot Framework token names no signing key")
        key = await self.keys.key(kid)
        if key is None:
            raise InvalidSignature("Bot Framework token is signed with an unknown key")
        try:
            verified: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.audiences,
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError:
            raise InvalidSignature("Bot Framework token signature does not verify") from None
        return verified


class _CachedJWKClient(jwt.PyJWKClient):
    """PyJWKClient that reads the key set `SigningKeys` holds instead of fetching it."""

    def __init__(self, keys: SigningKeys) -> None:
        super().__init__(keys.url, cache_jwk_set=False, cache_keys=False)
        self._source = keys

    def fetch_data(self) -> Any:
        return self._source.jwks


def serve_keys_to(validator: Any, keys: SigningKeys) -> None:
    """Point the SDK's Bot Framework validator at the cached keys (no I/O on the loop)."""
    service = validator._service_validator
    if not isinstance(getattr(service, "_jwks_client", None), jwt.PyJWKClient):
        raise RuntimeError("the Teams SDK's token validator has changed; see handlers/teams/auth.py")
    service._jwks_client = _CachedJWKClient(keys)
