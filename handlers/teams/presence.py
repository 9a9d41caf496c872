"""Out of office in Teams: a person's presence read from Microsoft Graph (bot/away.py asks).

`GET /communications/presences/{Entra object id}` with an app-only token needs the application
permission Presence.Read.All (admin consent). A person is out of office when their presence
activity is `OutOfOffice` or `outOfOfficeSettings.isOutOfOffice` is true (an out-of-office
window set in Outlook or Teams, or a calendar event shown as out of office). Graph gives no
end time, so bot/away.py treats it as a status without an end and reads it again later.

Many people at once (a survey batch): `POST /communications/getPresencesByUserId` with up to 650
ids a call, same permission.

One short attempt, no retries: a failure (raised) makes the caller send as usual. Errors name
the permission or the HTTP status, never the person or a token.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from bot.away import PlatformStatus
from bot.errors import RateLimited
from handlers.teams.graph import GraphError
from handlers.telephony.rest import retry_after

PRESENCE_PERMISSION = "Presence.Read.All"
TIMEOUT = httpx.Timeout(2.0)  # it holds a check-in back while it waits
BULK_TIMEOUT = httpx.Timeout(10.0)  # a survey batch waits for it, not a check-in
BULK_IDS = 650  # Graph's most ids in one getPresencesByUserId call
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
        self._check(response)
        return _status(response.json())

    def statuses(self, aad_object_ids: Sequence[str]) -> dict[str, PlatformStatus]:
        """Many people's presences, BULK_IDS a call (`POST /communications/getPresencesByUserId`).
        Someone Graph does not know is left out of the answer."""
        found: dict[str, PlatformStatus] = {}
        ids = list(dict.fromkeys(aad_object_ids))
        for start in range(0, len(ids), BULK_IDS):
            response = self.client.post(
                f"{self.base_url}/communications/getPresencesByUserId",
                json={"ids": ids[start : start + BULK_IDS]},
                headers={"Authorization": f"Bearer {self.token()}"},
                timeout=BULK_TIMEOUT,
            )
            self._check(response)
            for presence in response.json().get("value") or []:
                found[str(presence.get("id"))] = _status(presence)
        return found

    def _check(self, response: httpx.Response) -> None:
        if response.status_code in (401, 403):
            raise GraphError(
                f"Graph refused to read presence (HTTP {response.status_code}): grant the app "
                f"registration the application permission {PRESENCE_PERMISSION} and admin consent"
            )
        if response.status_code == 429:
            raise RateLimited("graph presence: rate limited", retry_after(response) or 5.0)
        if response.status_code != 200:
            raise GraphError(f"Graph could not read presence (HTTP {response.status_code})")

    def close(self) -> None:
        self.client.close()


def _status(presence: dict[str, Any]) -> PlatformStatus:
    activity = str(presence.get("activity") or "")
    settings = presence.get("outOfOfficeSettings") or {}
    away = activity.lower() == "outofoffice" or settings.get("isOutOfOffice") is True
    return PlatformStatus(out_of_office=away)
