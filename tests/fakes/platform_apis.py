"""Fake REST APIs of the large contact-centre platforms (Genesys Cloud, Amazon Connect, Zoom
Contact Center, Webex Contact Center), each with its token endpoint, on real HTTP ports.

They build on tests/fakes/provider_apis.py (recorded requests, injected failures, a clock).
Agents' statuses live in the fake, so reads reflect writes, and a test can change a status
"by hand" to play an agent who changed it themselves. Wrong credentials and unknown or revoked
tokens get 401, as the real APIs answer.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from tests.fakes.provider_apis import Answer, FakeProviderApi, Recorded, _not_found


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class FakeOAuthApi(FakeProviderApi):
    """An API whose token endpoint (`token_path`) takes the client id and secret as Basic
    credentials and issues bearer tokens; every other path wants a live bearer token."""

    token_path = "/oauth/token"
    grant_type = "client_credentials"

    def __init__(self, *, client_id: str, client_secret: str) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.tokens: set[str] = set()
            self.tokens_issued = 0

    def revoke_tokens(self) -> None:
        """Every token issued so far stops working (a rotated secret, an admin's revocation)."""
        with self._lock:
            self.tokens.clear()

    def writes(self) -> list[Recorded]:
        """Writes to the API itself: fetching a token changes nothing."""
        return [r for r in super().writes() if r.path.removeprefix(self.prefix) != self.token_path]

    def authorized(self, header: str) -> bool:
        return True  # checked per path in answer(): the token endpoint wants Basic, the rest Bearer

    def answer(self, method: str, path: str, request: Recorded) -> Answer:
        header = request.headers.get("authorization", "")
        if path == self.token_path:
            if method != "POST" or header != _basic(self.client_id, self.client_secret):
                return 401, {"error": "invalid_client"}, {}
            grant = request.body.get("grant_type") or request.query.get("grant_type")
            if grant != self.grant_type:
                return 400, {"error": "unsupported_grant_type"}, {}
            token = secrets.token_urlsafe(16)
            self.tokens.add(token)
            self.tokens_issued += 1
            return 200, {"access_token": token, "token_type": "bearer", "expires_in": 86399}, {}
        if not header.startswith("Bearer ") or header.removeprefix("Bearer ") not in self.tokens:
            return 401, {"message": "Invalid login credentials.", "code": "bad.credentials"}, {}
        return self.api(method, path, request)

    def api(self, method: str, path: str, request: Recorded) -> Answer:
        raise NotImplementedError


class FakeGenesys(FakeOAuthApi):
    """Genesys Cloud: presence definitions, and each user's PURECLOUD presence."""

    DEFINITIONS = {
        "6a3af858-942f-489d-9700-5f9bcdcdae9b": ("Available", "Available"),
        "e08eaf1b-ee47-4fa9-a231-1200e284798f": ("On Queue", "On Queue"),
        "31fe3bac-dea6-44b7-bed7-47f91660a1a0": ("Meal", "Meal"),
        "a3eb0c1a-3c5e-4d2b-9a4f-2b6c8d0e1f2a": ("Break", "Break"),
        "ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5": ("Away", "Away"),
    }

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.presences: dict[str, str] = {}

    def definition_id(self, label: str) -> str:
        return next(i for i, (name, _) in self.DEFINITIONS.items() if name == label)

    def add_user(self, user_id: str, presence: str = "On Queue") -> None:
        with self._lock:
            self.presences[user_id] = self.definition_id(presence)

    def set_presence(self, user_id: str, presence: str) -> None:
        """The agent picks a presence themselves."""
        self.add_user(user_id, presence)

    def presence_of(self, user_id: str) -> str:
        with self._lock:
            return self.DEFINITIONS[self.presences[user_id]][0]

    def _presence_json(self, user_id: str) -> dict[str, Any]:
        definition = self.presences[user_id]
        label, system = self.DEFINITIONS[definition]
        return {
            "id": definition,
            "source": "PURECLOUD",
            "primary": True,
            "presenceDefinition": {"id": definition, "systemPresence": system},
            "message": "",
        }

    def api(self, method: str, path: str, request: Recorded) -> Answer:
        if path == "/api/v2/presence/definitions" and method == "GET":
            entities = [
                {
                    "id": definition,
                    "languageLabels": {"en_US": label},
                    "systemPresence": system,
                    "deactivated": False,
                    "type": "System",
                }
                for definition, (label, system) in self.DEFINITIONS.items()
            ]
            return 200, {"entities": entities, "pageSize": 100, "pageNumber": 1, "total": len(entities)}, {}
        prefix, _, rest = path.partition("/api/v2/users/")
        user_id, _, tail = rest.partition("/")
        if prefix or tail.lower() != "presences/purecloud" or user_id not in self.presences:
            return _not_found()
        if method == "PATCH":
            definition = (request.body.get("presenceDefinition") or {}).get("id")
            if definition not in self.DEFINITIONS:
                return 400, {"message": "Invalid presence definition", "code": "bad.request"}, {}
            self.presences[user_id] = definition
        elif method != "GET":
            return 405, {"message": "Method not allowed"}, {}
        return 200, self._presence_json(user_id), {}


class FakeConnect(FakeProviderApi):
    """Amazon Connect: agent statuses, each user's current status, PutUserStatus. Every request
    must carry a valid AWS Signature Version 4 for the fake's keys (`connect` service)."""

    STATUSES = {
        "8d3fbf2a-1c4e-4b5f-9a6d-7e8f9a0b1c2d": ("Available", "ROUTABLE"),
        "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e": ("Offline", "OFFLINE"),
        "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f": ("Lunch", "CUSTOM"),
        "d3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f60": ("Break", "CUSTOM"),
    }

    def __init__(self, *, access_key_id: str, secret_access_key: str, region: str, instance_id: str) -> None:
        super().__init__()
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.region = region
        self.instance_id = instance_id

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.statuses: dict[str, str] = {}

    def status_id(self, name: str) -> str:
        return next(i for i, (label, _) in self.STATUSES.items() if label == name)

    def add_user(self, user_id: str, status: str = "Available") -> None:
        with self._lock:
            self.statuses[user_id] = self.status_id(status)

    def set_status(self, user_id: str, status: str) -> None:
        """The agent picks a status in the Contact Control Panel."""
        self.add_user(user_id, status)

    def status_of(self, user_id: str) -> str:
        with self._lock:
            return self.STATUSES[self.statuses[user_id]][0]

    def writes(self) -> list[Recorded]:
        """Status changes: GetCurrentUserData is a POST that only reads."""
        return [r for r in super().writes() if not r.path.startswith("/metrics/")]

    def _arn(self, kind: str, ident: str) -> str:
        return f"arn:aws:connect:{self.region}:111122223333:instance/{self.instance_id}/{kind}/{ident}"

    def authorized(self, header: str) -> bool:
        return True  # the whole request is needed to check a signature: see answer()

    def _signed(self, request: Recorded) -> bool:
        import hashlib
        import json as jsonlib

        from handlers.telephony.sigv4 import signature

        header = request.headers.get("authorization", "")
        try:
            _, rest = header.split(" ", 1)
            parts = dict(part.strip().split("=", 1) for part in rest.split(","))
            key_id, date, region, service, _ = parts["Credential"].split("/")
        except ValueError:
            return False
        if key_id != self.access_key_id or region != self.region or service != "connect":
            return False
        names = parts["SignedHeaders"].split(";")
        if not {"host", "x-amz-date", "x-amz-content-sha256"} <= set(names):
            return False
        body = jsonlib.dumps(request.body, separators=(",", ":")).encode() if request.body else b""
        payload_hash = request.headers.get("x-amz-content-sha256", "")
        if request.body and payload_hash != hashlib.sha256(body).hexdigest():
            return False  # the fake re-serialises the body compactly, as httpx sends it
        query = "&".join(f"{k}={v}" for k, v in request.query.items())
        _, expected = signature(
            method=request.method,
            raw_path=request.path,
            raw_query=query,
            headers={name: request.headers.get(name, "") for name in names},
            payload_hash=payload_hash,
            secret=self.secret_access_key,
            region=region,
            service=service,
            amz_date=request.headers.get("x-amz-date", ""),
        )
        return expected == parts["Signature"] and request.headers.get("x-amz-date", "").startswith(date)

    def answer(self, method: str, path: str, request: Recorded) -> Answer:
        if not self._signed(request):
            return (
                403,
                {"message": "The request signature we calculated does not match the signature you provided."},
                {},
            )
        instance = self.instance_id
        if method == "GET" and path == f"/agent-status/{instance}":
            summaries = [
                {"Id": ident, "Arn": self._arn("agent-state", ident), "Name": name, "Type": kind}
                for ident, (name, kind) in self.STATUSES.items()
            ]
            return 200, {"AgentStatusSummaryList": summaries}, {}
        if method == "POST" and path == f"/metrics/userdata/{instance}":
            wanted = ((request.body.get("Filters") or {}).get("Agents")) or []
            users = [
                {
                    "User": {"Id": user, "Arn": self._arn("agent", user)},
                    "Status": {
                        "StatusArn": self._arn("agent-state", self.statuses[user]),
                        "StatusName": self.STATUSES[self.statuses[user]][0],
                    },
                    "AvailableSlotsByChannel": {"VOICE": 1},
                }
                for user in wanted
                if user in self.statuses
            ]
            return 200, {"UserDataList": users, "ApproximateTotalCount": len(users)}, {}
        prefix = f"/users/{instance}/"
        if method == "PUT" and path.startswith(prefix) and path.endswith("/status"):
            user = path.removeprefix(prefix).removesuffix("/status")
            if user not in self.statuses:
                return 404, {"message": "User not found"}, {}
            status = request.body.get("AgentStatusId")
            if status not in self.STATUSES:
                return 400, {"message": "Invalid AgentStatusId"}, {}
            self.statuses[user] = status
            return 200, {}, {}
        return _not_found()


class FakeZoom(FakeOAuthApi):
    """Zoom Contact Center: users with a status and a "not ready" reason; Server-to-Server
    OAuth tokens for one account."""

    grant_type = "account_credentials"
    NOT_READY = "2"
    READY = "3"
    REASONS = {"b7d1c2e3-break": "Break", "c8e2d3f4-lunch": "Lunch"}

    def __init__(self, *, account_id: str, client_id: str, client_secret: str) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret)
        self.account_id = account_id

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.users: dict[str, tuple[str, str | None]] = {}

    def add_user(self, user_id: str, status: str = READY, reason: str | None = None) -> None:
        with self._lock:
            self.users[user_id] = (status, reason)

    def set_status(self, user_id: str, status: str, reason: str | None = None) -> None:
        """The agent changes their status in the Zoom client."""
        self.add_user(user_id, status, reason)

    def status_of(self, user_id: str) -> str:
        with self._lock:
            status, reason = self.users[user_id]
        if status == self.READY:
            return "Ready"
        return f"Not Ready ({self.REASONS.get(reason or '', '?')})" if status == self.NOT_READY else status

    def answer(self, method: str, path: str, request: Recorded) -> Answer:
        if path == self.token_path and (
            request.body.get("account_id") or request.query.get("account_id")
        ) != (self.account_id):
            return 400, {"reason": "Invalid account_id", "error": "invalid_request"}, {}
        return super().answer(method, path, request)

    def api(self, method: str, path: str, request: Recorded) -> Answer:
        prefix = "/v2/contact_center/users/"
        if not path.startswith(prefix):
            return _not_found()
        user_id, _, tail = path.removeprefix(prefix).partition("/")
        if user_id not in self.users:
            return 404, {"code": 1001, "message": "User does not exist."}, {}
        if method == "PATCH" and tail == "status":
            status = str(request.body.get("status_id", ""))
            reason = request.body.get("sub_status_id")
            if status not in (self.NOT_READY, self.READY, "1"):
                return 400, {"code": 300, "message": "Invalid status_id"}, {}
            if status == self.NOT_READY and reason not in self.REASONS:
                return 400, {"code": 300, "message": "Invalid sub_status_id"}, {}
            self.users[user_id] = (status, reason if status == self.NOT_READY else None)
            return 204, {}, {}
        if method == "GET" and tail == "":
            status, reason = self.users[user_id]
            body = {
                "user_id": user_id,
                "display_name": "Ana Popescu",
                "status_id": status,
                "status_name": "Ready" if status == self.READY else "Not Ready",
                "sub_status_id": reason or "",
                "sub_status_name": self.REASONS.get(reason or "", ""),
            }
            return 200, body, {}
        return 405, {"code": 405, "message": "Method not allowed"}, {}


class FakeWebex(FakeOAuthApi):
    """Webex Contact Center: agents' states (Available, or Idle with an idle code), and the
    Webex token endpoint exchanging a refresh token (client id and secret as form fields)."""

    token_path = "/v1/access_token"
    grant_type = "refresh_token"
    IDLE_CODES = {"AXbreak0000000000001": "Break", "AXlunch0000000000002": "Lunch"}

    def __init__(self, *, client_id: str, client_secret: str, refresh_token: str) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret)
        self.refresh_token = refresh_token

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.agents: dict[str, tuple[str, str | None]] = {}

    def add_agent(self, agent_id: str, state: str = "Available", aux: str | None = None) -> None:
        with self._lock:
            self.agents[agent_id] = (state, aux)

    def set_state(self, agent_id: str, state: str, aux: str | None = None) -> None:
        """The agent changes state on the Agent Desktop."""
        self.add_agent(agent_id, state, aux)

    def state_of(self, agent_id: str) -> str:
        with self._lock:
            state, aux = self.agents[agent_id]
        return f"Idle ({self.IDLE_CODES.get(aux or '', '?')})" if state == "Idle" else state

    def answer(self, method: str, path: str, request: Recorded) -> Answer:
        if path == self.token_path:
            form = request.body
            if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
                return 401, {"message": "Invalid client", "errors": [{"description": "invalid_client"}]}, {}
            if form.get("grant_type") != self.grant_type or form.get("refresh_token") != self.refresh_token:
                return (
                    400,
                    {"message": "Invalid refresh token", "errors": [{"description": "invalid_grant"}]},
                    {},
                )
            token = secrets.token_urlsafe(16)
            self.tokens.add(token)
            self.tokens_issued += 1
            return (
                200,
                {"access_token": token, "expires_in": 1209599, "refresh_token": self.refresh_token},
                {},
            )
        return super().answer(method, path, request)

    def api(self, method: str, path: str, request: Recorded) -> Answer:
        if path != "/v1/agents/session/state":
            return _not_found()
        if method == "GET":
            agent = request.query.get("agentId", "")
            if agent not in self.agents:
                return 404, {"error": {"message": ["Agent not logged in"]}}, {}
            state, aux = self.agents[agent]
            return 200, {"agentId": agent, "state": state, "auxCodeId": aux or ""}, {}
        if method == "PUT":
            agent = str(request.body.get("agentId", ""))
            if agent not in self.agents:
                return 404, {"error": {"message": ["Agent not logged in"]}}, {}
            new_state, new_aux = request.body.get("state"), request.body.get("auxCodeId")
            if new_state not in ("Available", "Idle") or (
                new_state == "Idle" and new_aux not in self.IDLE_CODES
            ):
                return 400, {"error": {"message": ["Invalid state or auxCodeId"]}}, {}
            self.agents[agent] = (str(new_state), str(new_aux) if new_state == "Idle" else None)
            return 202, {"data": {"agentId": agent, "state": new_state}}, {}
        return 405, {"error": {"message": ["Method not allowed"]}}, {}
