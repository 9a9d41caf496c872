"""Genesys Cloud presence: a protected break is the presence named by GENESYS_BREAK_PRESENCE.

OAuth client credentials (`POST {GENESYS_LOGIN_URL}/oauth/token`); the OAuth client needs the
`presence` and `users` scopes with the permission "Presence > User Presence > Edit"
(documented in docs/providers/genesys.md). The break presence definition is looked up once by
its label (`GET /api/v2/presence/definitions`) and must not be Available or On Queue, which
would still route calls. Statuses are presence definition ids, read and set on the user's
PURECLOUD presence (`GET`/`PATCH /api/v2/users/{userId}/presences/purecloud`).
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

import httpx

from bot.recovery.phone import PhoneRefused, PhoneStatus, PhoneUnavailable
from handlers.telephony.oauth import OAuthToken
from handlers.telephony.rest import RestApi

ROUTED = frozenset({"available", "on queue"})  # system presences that still take calls


class GenesysPresence:
    provider = "genesys"
    label = "Genesys Cloud"

    def __init__(
        self,
        client: httpx.Client,
        *,
        api_url: str,
        login_url: str,
        client_id: str,
        client_secret: str,
        break_presence: str,
    ) -> None:
        self.token = OAuthToken(
            client,
            label=self.label,
            token_url=login_url.rstrip("/") + "/oauth/token",
            form={"grant_type": "client_credentials"},
            client_id=client_id,
            client_secret=client_secret,
        )
        self.rest = RestApi(client, label=self.label, base_url=api_url, auth=self.token)
        self.break_presence = break_presence
        self._break_id: str | None = None
        self._lock = threading.Lock()

    def break_definition(self) -> str:
        with self._lock:
            if self._break_id is None:
                self._break_id = self._find_break()
            return self._break_id

    def _find_break(self) -> str:
        body = self.rest.json("GET", "/api/v2/presence/definitions", params={"pageSize": "100"})
        wanted = self.break_presence.casefold()
        found: dict[str, Any] | None = None
        for definition in body.get("entities") or []:
            if not isinstance(definition, dict) or definition.get("deactivated"):
                continue
            labels = definition.get("languageLabels") or {}
            names = [str(v).casefold() for v in labels.values()] if isinstance(labels, dict) else []
            if wanted in names:
                found = definition
                break
            if found is None and str(definition.get("systemPresence", "")).casefold() == wanted:
                found = definition
        if found is None or not found.get("id"):
            raise PhoneRefused(
                f"Genesys Cloud: no presence named {self.break_presence!r} (GENESYS_BREAK_PRESENCE)"
            )
        if str(found.get("systemPresence", "")).casefold() in ROUTED:
            raise PhoneRefused(
                f"Genesys Cloud: the presence {self.break_presence!r} still routes calls; "
                "set GENESYS_BREAK_PRESENCE to a Break or Away presence"
            )
        return str(found["id"])

    @staticmethod
    def _presence(user_id: str) -> str:
        return f"/api/v2/users/{quote(user_id, safe='')}/presences/purecloud"

    def read_status(self, user_id: str) -> PhoneStatus:
        definition = self.rest.json("GET", self._presence(user_id)).get("presenceDefinition")
        if not isinstance(definition, dict) or not definition.get("id"):
            raise PhoneUnavailable("Genesys Cloud GET: the user has no presence definition")
        return PhoneStatus(str(definition["id"]))

    def _set(self, user_id: str, definition_id: str) -> None:
        self.rest.call("PATCH", self._presence(user_id), json={"presenceDefinition": {"id": definition_id}})

    def set_break(self, user_id: str) -> PhoneStatus:
        definition = self.break_definition()
        self._set(user_id, definition)
        return PhoneStatus(definition)

    def set_status(self, user_id: str, status: PhoneStatus, *, expected: PhoneStatus | None = None) -> None:
        self._set(user_id, status.value)
