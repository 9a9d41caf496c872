"""OAuth access tokens for phone-system REST APIs (Genesys Cloud client credentials, Zoom
server-to-server, Webex refresh tokens), as an httpx.Auth.

The token is fetched on first use, kept until shortly before it expires, and fetched again once
when the API answers 401 (revoked or rotated early). A token endpoint that refuses the
credentials is PhoneRefused (retrying cannot help); one that is down is PhoneUnavailable.
Neither the credentials nor the token ever appear in a message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Mapping

import httpx

from bot.recovery.phone import PhoneRefused, PhoneUnavailable
from handlers.telephony.rest import DEFAULT_TIMEOUT

EARLY_S = 60.0  # renew this long before the token's stated expiry
DEFAULT_LIFETIME_S = 3600.0


class OAuthToken(httpx.Auth):
    def __init__(
        self,
        client: httpx.Client,
        *,
        label: str,
        token_url: str,
        form: Mapping[str, str],
        client_id: str,
        client_secret: str,
        clock: Callable[[], float] = time.monotonic,
        credentials_in_body: bool = False,
    ) -> None:
        self.client = client
        self.label = label
        self.token_url = token_url
        self.form = dict(form)
        # Most token endpoints take the client as Basic credentials; Webex wants them as fields.
        self._basic: httpx.BasicAuth | None = None
        if credentials_in_body:
            self.form.update(client_id=client_id, client_secret=client_secret)
        else:
            self._basic = httpx.BasicAuth(client_id, client_secret)
        self.clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.fetched = 0  # how many tokens were fetched (tests read it)

    def token(self, *, renew: bool = False) -> str:
        with self._lock:
            if renew or self._token is None or self.clock() >= self._expires:
                self._token, lifetime = self._fetch()
                self._expires = self.clock() + max(lifetime - EARLY_S, 1.0)
            return self._token

    def _fetch(self) -> tuple[str, float]:
        what = f"{self.label} token"
        try:
            response = self.client.post(
                self.token_url,
                data=self.form,
                auth=self._basic or httpx.USE_CLIENT_DEFAULT,
                timeout=DEFAULT_TIMEOUT,
            )
        except httpx.TransportError as error:
            raise PhoneUnavailable(f"{what}: connection failed ({type(error).__name__})") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise PhoneUnavailable(f"{what}: HTTP {response.status_code}")
        if response.status_code != 200:
            raise PhoneRefused(f"{what}: HTTP {response.status_code}, check the client id and secret")
        try:
            body = response.json()
            token = body["access_token"]
        except (ValueError, KeyError, TypeError):
            raise PhoneUnavailable(f"{what}: the answer held no access_token") from None
        if not isinstance(token, str) or not token:
            raise PhoneUnavailable(f"{what}: the answer held no access_token")
        lifetime = body.get("expires_in")
        self.fetched += 1
        return token, float(lifetime) if isinstance(lifetime, (int, float)) else DEFAULT_LIFETIME_S

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self.token(renew=True)}"
            yield request
