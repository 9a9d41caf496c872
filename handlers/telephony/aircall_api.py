"""Aircall users: a protected break is `availability_status: unavailable`.

Basic auth with the API id and token. Aircall has no conditional write, so a change the
agent makes by hand is noticed only when it leaves `unavailable`: an agent who sets
"unavailable" themselves during the break is switched back with everyone else.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from bot.recovery.phone import PhoneStatus, PhoneUnavailable
from handlers.telephony.rest import RestApi

BREAK = "unavailable"


class AircallUsers:
    provider = "aircall"
    label = "Aircall"

    def __init__(self, client: httpx.Client, *, base_url: str, api_id: str, api_token: str) -> None:
        self.rest = RestApi(
            client, label=self.label, base_url=base_url, auth=httpx.BasicAuth(api_id, api_token)
        )

    @staticmethod
    def _user(user_id: str) -> str:
        return f"/v1/users/{quote(user_id, safe='')}"

    def read_status(self, user_id: str) -> PhoneStatus:
        user = self.rest.json("GET", self._user(user_id)).get("user")
        status = user.get("availability_status") if isinstance(user, dict) else None
        if not isinstance(status, str) or not status:
            raise PhoneUnavailable("Aircall GET: the user has no availability_status")
        return PhoneStatus(status)

    def set_break(self, user_id: str) -> PhoneStatus:
        self.rest.call("PUT", self._user(user_id), json={"availability_status": BREAK})
        return PhoneStatus(BREAK)

    def set_status(self, user_id: str, status: PhoneStatus, *, expected: PhoneStatus | None = None) -> None:
        self.rest.call("PUT", self._user(user_id), json={"availability_status": status.value})
