"""Dialpad users: a protected break is do-not-disturb (`PATCH /v2/users/{id}/togglednd`).

Bearer auth with the API key. The status is read from the user's `do_not_disturb` flag.
Call-centre duty status is left alone: do-not-disturb already stops calls ringing.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from bot.recovery.phone import PhoneStatus, PhoneUnavailable
from handlers.telephony.rest import RestApi

DND = "do_not_disturb"
AVAILABLE = "available"


class DialpadUsers:
    provider = "dialpad"
    label = "Dialpad"

    def __init__(self, client: httpx.Client, *, base_url: str, api_key: str) -> None:
        self.rest = RestApi(
            client, label=self.label, base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}
        )

    @staticmethod
    def _user(user_id: str) -> str:
        return f"/v2/users/{quote(user_id, safe='')}"

    def read_status(self, user_id: str) -> PhoneStatus:
        flag = self.rest.json("GET", self._user(user_id)).get("do_not_disturb")
        if not isinstance(flag, bool):
            raise PhoneUnavailable("Dialpad GET: the user has no do_not_disturb flag")
        return PhoneStatus(DND if flag else AVAILABLE)

    def _dnd(self, user_id: str, on: bool) -> None:
        self.rest.call("PATCH", f"{self._user(user_id)}/togglednd", json={"do_not_disturb": on})

    def set_break(self, user_id: str) -> PhoneStatus:
        self._dnd(user_id, True)
        return PhoneStatus(DND)

    def set_status(self, user_id: str, status: PhoneStatus, *, expected: PhoneStatus | None = None) -> None:
        self._dnd(user_id, status.value == DND)
