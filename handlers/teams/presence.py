"""Out of office in Teams: a person's presence read from Microsoft Graph (bot/away.py asks).

`GET /communications/presences/{Entra object id}` with an app-only token needs the application
permission Presence.Read.All (admin consent). A person is out of office when their presence
activity is `OutOfOffice` or `outOfOfficeSettings.isOutOfOffice` is true (an out-of-office
window set in Outlook or Teams, or a calendar event shown as out of office). Graph gives no
end time, so bot/away.py treats it as a status without an end and reads it again later.

One short attempt, no retries: a failure (raised) makes the caller send as usual. Errors name
the permission or the HTTP status, never the person or a token.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import httpx

from bot.away import PlatformStatus
from bot.errors import RateLimited
from handlers.teams.graph import GraphError
from handlers.telephony.rest import retry_after

PRESENCE_PERMISSION = "Presence.Read.All"
TIMEOUT = httpx.Timeout(2.0)  # it holds a check-in back while it waits
TOKEN_TIMEOUT_S = 5.0  # a Graph token, when the SDK has none cached (about once an hour)


class PresenceReader:
    def __init__(self, client: httpx.Client, *, base_url: str, token: Callable[[], str]) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.token = token

    def status(self, aad_object_id: str) -> PlatformStatus | None:
        """The person's out-of-office state; None when Graph does not know them."""
        response = self.client.get(
            f"{self.base_url}/communications/presences/{quote(aad_object_id, safe='')}",
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=TIMEOUT,
        )
        if response.status_code == 404:
            return None
        if response.status_code in (401, 403):
            raise GraphError(
                f"Graph refused to read presence (HTTP {response.status_code}): grant the app "
                f"registration the application permission {PRESENCE_PERMISSION} and admin consent"
            )
        if response.status_code == 429:
            raise RateLimited("graph presence: rate limited", retry_after(response) or 5.0)
        if response.status_code != 200:
            raise GraphError(f"Graph could not read presence (HTTP {response.status_code})")
        body = response.json()
        activity = str(body.get("activity") or "")
        settings = body.get("outOfOfficeSettings") or {}
        away = activity.lower() == "outofoffice" or settings.get("isOutOfOffice") is True
        return PlatformStatus(out_of_office=away)

    def close(self) -> None:
        self.client.close()
