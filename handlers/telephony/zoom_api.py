"""Zoom Contact Center user status: a protected break is the status ZOOM_BREAK_STATUS_ID with
the "not ready" reason ZOOM_BREAK_SUB_STATUS_ID.

Server-to-Server OAuth (`POST {ZOOM_OAUTH_URL}/oauth/token`, grant `account_credentials` with
ZOOM_ACCOUNT_ID); the app needs the scopes `contact_center_user:read:admin` and
`contact_center_user:write:admin`. The status is read from
`GET /v2/contact_center/users/{userId}` (`status_id`, `sub_status_id`) and set with
`PATCH /v2/contact_center/users/{userId}/status`. A status is stored as `status_id` or
`status_id:sub_status_id`.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from bot.recovery.phone import PhoneStatus, PhoneUnavailable
from handlers.telephony.oauth import OAuthToken
from handlers.telephony.rest import RestApi


def _status(status_id: str, sub_status_id: str | None) -> PhoneStatus:
    return PhoneStatus(f"{status_id}:{sub_status_id}" if sub_status_id else status_id)


class ZoomContactCenterUsers:
    provider = "zoom"
    label = "Zoom Contact Center"

    def __init__(
        self,
        client: httpx.Client,
        *,
        api_url: str,
        oauth_url: str,
        account_id: str,
        client_id: str,
        client_secret: str,
        break_status_id: str,
        break_sub_status_id: str | None,
    ) -> None:
        self.token = OAuthToken(
            client,
            label=self.label,
            token_url=oauth_url.rstrip("/") + "/oauth/token",
            form={"grant_type": "account_credentials", "account_id": account_id},
            client_id=client_id,
            client_secret=client_secret,
        )
        self.rest = RestApi(client, label=self.label, base_url=api_url, auth=self.token)
        self.on_break = _status(break_status_id, break_sub_status_id)

    @staticmethod
    def _user(user_id: str) -> str:
        return f"/v2/contact_center/users/{quote(user_id, safe='')}"

    def read_status(self, user_id: str) -> PhoneStatus:
        user = self.rest.json("GET", self._user(user_id))
        status, sub = user.get("status_id"), user.get("sub_status_id")
        if status in (None, ""):
            raise PhoneUnavailable("Zoom Contact Center GET: the user has no status_id")
        return _status(str(status), str(sub) if sub not in (None, "") else None)

    def _set(self, user_id: str, status: PhoneStatus) -> None:
        status_id, _, sub = status.value.partition(":")
        body = {"status_id": status_id, **({"sub_status_id": sub} if sub else {})}
        self.rest.call("PATCH", f"{self._user(user_id)}/status", json=body)

    def set_break(self, user_id: str) -> PhoneStatus:
        self._set(user_id, self.on_break)
        return self.on_break

    def set_status(self, user_id: str, status: PhoneStatus, *, expected: PhoneStatus | None = None) -> None:
        self._set(user_id, status)
