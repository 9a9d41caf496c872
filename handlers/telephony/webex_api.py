"""Webex Contact Center agent state: a protected break is the Idle state with the idle code
WEBEX_BREAK_AUX_CODE_ID.

OAuth refresh token of an integration or service app (`POST {WEBEX_TOKEN_URL}`, grant
`refresh_token`, with the `cjp:user` scope), as Webex issues them. The state is read from
`GET /v1/agents/session/state?agentId=…` and set with `PUT /v1/agents/session/state`
(`{"agentId", "state", "auxCodeId", "lastStateChangeReason"}`); both paths and shapes are
*unconfirmed* against a live tenant (docs/providers/webex.md). A state is stored as `Available`
or `Idle:<auxCodeId>`.
"""

from __future__ import annotations

import httpx

from bot.recovery.phone import PhoneStatus, PhoneUnavailable
from handlers.telephony.oauth import OAuthToken
from handlers.telephony.rest import RestApi

PATH = "/v1/agents/session/state"
REASON = "Breather protected break"


def _status(state: str, aux: str | None) -> PhoneStatus:
    return PhoneStatus(f"{state}:{aux}" if aux and state.lower() == "idle" else state)


class WebexAgentState:
    provider = "webex"
    label = "Webex Contact Center"

    def __init__(
        self,
        client: httpx.Client,
        *,
        api_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        break_aux_code_id: str,
    ) -> None:
        self.token = OAuthToken(
            client,
            label=self.label,
            token_url=token_url,
            form={"grant_type": "refresh_token", "refresh_token": refresh_token},
            client_id=client_id,
            client_secret=client_secret,
            credentials_in_body=True,
        )
        self.rest = RestApi(client, label=self.label, base_url=api_url, auth=self.token)
        self.on_break = _status("Idle", break_aux_code_id)

    def read_status(self, user_id: str) -> PhoneStatus:
        body = self.rest.json("GET", PATH, params={"agentId": user_id})
        state, aux = body.get("state"), body.get("auxCodeId")
        if not isinstance(state, str) or not state:
            raise PhoneUnavailable("Webex Contact Center GET: the agent has no state")
        return _status(state, str(aux) if aux else None)

    def _set(self, user_id: str, status: PhoneStatus) -> None:
        state, _, aux = status.value.partition(":")
        body = {"agentId": user_id, "state": state, "lastStateChangeReason": REASON}
        if aux:
            body["auxCodeId"] = aux
        self.rest.call("PUT", PATH, json=body)

    def set_break(self, user_id: str) -> PhoneStatus:
        self._set(user_id, self.on_break)
        return self.on_break

    def set_status(self, user_id: str, status: PhoneStatus, *, expected: PhoneStatus | None = None) -> None:
        self._set(user_id, status)
