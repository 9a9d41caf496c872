"""Amazon Connect agent status: a protected break is the agent status named by
CONNECT_BREAK_STATUS, set with PutUserStatus.

Requests are signed with AWS Signature Version 4 (handlers/telephony/sigv4.py) for the IAM
user or role whose keys are in CONNECT_ACCESS_KEY_ID / CONNECT_SECRET_ACCESS_KEY (and
CONNECT_SESSION_TOKEN for temporary credentials). It needs `connect:ListAgentStatuses`,
`connect:GetCurrentUserData` and `connect:PutUserStatus` on the instance.

- `GET /agent-status/{InstanceId}` (ListAgentStatuses): the break status's id, looked up once
  by name; a ROUTABLE status would still route contacts and is refused.
- `POST /metrics/userdata/{InstanceId}` (GetCurrentUserData, filtered to the agent): the
  agent's current status, whose ARN ends in the status id.
- `PUT /users/{InstanceId}/{UserId}/status` (PutUserStatus): while the agent is on a contact,
  Connect makes it their *next* status, so it can be called right after DISCONNECTED.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

import httpx

from bot.recovery.phone import PhoneRefused, PhoneStatus, PhoneUnavailable
from handlers.telephony.rest import RestApi
from handlers.telephony.sigv4 import SigV4


class ConnectAgentStatus:
    provider = "connect"
    label = "Amazon Connect"

    def __init__(
        self,
        client: httpx.Client,
        *,
        api_url: str,
        region: str,
        instance_id: str,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None,
        break_status: str,
    ) -> None:
        auth = SigV4(
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            region=region,
            session_token=session_token,
        )
        self.rest = RestApi(client, label=self.label, base_url=api_url, auth=auth)
        self.instance = quote(instance_id, safe="")
        self.break_status = break_status
        self._break_id: str | None = None
        self._lock = threading.Lock()

    def break_status_id(self) -> str:
        with self._lock:
            if self._break_id is None:
                self._break_id = self._find_break()
            return self._break_id

    def _find_break(self) -> str:
        wanted = self.break_status.casefold()
        token: str | None = None
        for _ in range(20):  # pages of up to 100 statuses; an instance has far fewer
            params = {"maxResults": "100", **({"nextToken": token} if token else {})}
            body = self.rest.json("GET", f"/agent-status/{self.instance}", params=params)
            for status in body.get("AgentStatusSummaryList") or []:
                if isinstance(status, dict) and str(status.get("Name", "")).casefold() == wanted:
                    if str(status.get("Type", "")).upper() == "ROUTABLE":
                        raise PhoneRefused(
                            f"Amazon Connect: the agent status {self.break_status!r} is routable; "
                            "set CONNECT_BREAK_STATUS to a custom, not routable status"
                        )
                    if not status.get("Id"):
                        break
                    return str(status["Id"])
            token = body.get("NextToken")
            if not token:
                break
        raise PhoneRefused(
            f"Amazon Connect: no agent status named {self.break_status!r} (CONNECT_BREAK_STATUS)"
        )

    def read_status(self, user_id: str) -> PhoneStatus:
        body = self.rest.json(
            "POST", f"/metrics/userdata/{self.instance}", json={"Filters": {"Agents": [user_id]}}
        )
        users: list[Any] = body.get("UserDataList") or []
        status = users[0].get("Status") if users and isinstance(users[0], dict) else None
        arn = status.get("StatusArn") if isinstance(status, dict) else None
        if not isinstance(arn, str) or "/agent-state/" not in arn:
            raise PhoneUnavailable("Amazon Connect GetCurrentUserData: the agent has no current status")
        return PhoneStatus(arn.rsplit("/agent-state/", 1)[1])

    def _put(self, user_id: str, status_id: str) -> None:
        self.rest.call(
            "PUT",
            f"/users/{self.instance}/{quote(user_id, safe='')}/status",
            json={"AgentStatusId": status_id},
        )

    def set_break(self, user_id: str) -> PhoneStatus:
        status = self.break_status_id()
        self._put(user_id, status)
        return PhoneStatus(status)

    def set_status(self, user_id: str, status: PhoneStatus, *, expected: PhoneStatus | None = None) -> None:
        self._put(user_id, status.value)
