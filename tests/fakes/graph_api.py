"""A fake Microsoft Graph for `breather teams install` and presence, on a real HTTP port.

It knows one Teams app catalogue and a directory of people (`add_user`); installs are kept per
person, so a second install answers 409 like Graph does. `refuse_installs()` answers 403 as
Graph does when the app lacks TeamsAppInstallation.ReadWriteSelfForUser.All; `fail_next`
(from the base class) injects 429/5xx. Every request must carry a bearer token.
Presence: `set_presence` per Entra object id (anyone else is Available); `refuse_presence()`
answers 403 as Graph does without Presence.Read.All. `POST /communications/getPresencesByUserId`
answers for up to 650 ids at once.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from tests.fakes.provider_apis import Answer, FakeProviderApi, Recorded

CATALOGUE_ID = "0f1e2d3c-aaaa-bbbb-cccc-000000000001"
_INSTALLS = re.compile(r"^/users/([^/]+)/teamwork/installedApps$")
_PRESENCE = re.compile(r"^/communications/presences/([^/]+)$")


class FakeGraph(FakeProviderApi):
    prefix = "/v1.0"

    def __init__(self, *, app_id: str) -> None:
        super().__init__()
        self.app_id = app_id

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.users: set[str] = set()
            self.installed: set[str] = set()
            self.refusing = False
            self.presences: dict[str, dict[str, object]] = {}
            self.refusing_presence = False

    def add_user(self, *emails: str) -> None:
        with self._lock:
            self.users.update(e.lower() for e in emails)

    def refuse_installs(self) -> None:
        with self._lock:
            self.refusing = True

    def set_presence(self, aad: str, activity: str, *, out_of_office: bool = False) -> None:
        availability = "Offline" if activity in ("OutOfOffice", "OffWork", "Offline") else activity
        with self._lock:
            self.presences[aad] = {
                "id": aad,
                "availability": availability,
                "activity": activity,
                "outOfOfficeSettings": {"message": None, "isOutOfOffice": out_of_office},
            }

    def refuse_presence(self) -> None:
        with self._lock:
            self.refusing_presence = True

    def authorized(self, header: str) -> bool:
        return header.startswith("Bearer ") and len(header) > len("Bearer ")

    def answer(self, method: str, path: str, request: Recorded) -> Answer:
        if method == "GET" and path == "/appCatalogs/teamsApps":
            wanted = f"externalId eq '{self.app_id}'"
            found = (
                [{"id": CATALOGUE_ID, "externalId": self.app_id}]
                if request.query.get("$filter") == wanted
                else []
            )
            return 200, {"value": found}, {}
        presence = _PRESENCE.match(path)
        if method == "GET" and presence:
            if self.refusing_presence:
                return 403, {"error": {"code": "Forbidden", "message": "Missing role permissions"}}, {}
            aad = unquote(presence.group(1))
            default = {"id": aad, "availability": "Available", "activity": "Available"}
            return 200, self.presences.get(aad, default), {}
        if method == "POST" and path == "/communications/getPresencesByUserId":
            if self.refusing_presence:
                return 403, {"error": {"code": "Forbidden", "message": "Missing role permissions"}}, {}
            ids = [str(i) for i in request.body.get("ids") or []]
            if len(ids) > 650:
                return 400, {"error": {"code": "BadRequest", "message": "too many ids"}}, {}
            answer = [
                self.presences.get(i, {"id": i, "availability": "Available", "activity": "Available"})
                for i in ids
            ]
            return 200, {"value": answer}, {}
        match = _INSTALLS.match(path)
        if method == "POST" and match:
            if self.refusing:
                return 403, {"error": {"code": "Forbidden", "message": "Missing role permissions"}}, {}
            if request.body.get("teamsApp@odata.bind", "").rsplit("/", 1)[-1] != CATALOGUE_ID:
                return 400, {"error": {"code": "BadRequest", "message": "unknown app"}}, {}
            user = unquote(match.group(1)).lower()
            if user not in self.users:
                return 404, {"error": {"code": "NotFound", "message": "user not found"}}, {}
            if user in self.installed:
                return 409, {"error": {"code": "Conflict", "message": "already installed"}}, {}
            self.installed.add(user)
            return 201, {}, {}
        return 404, {"error": {"code": "NotFound", "message": "no such resource"}}, {}
