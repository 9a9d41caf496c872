"""The real app with the Teams messenger, and activities shaped the way Teams sends them.

Inbound: activities are POSTed to /api/messages like the Bot Framework would (with the SDK's
documented local-only switch that skips JWT validation, or signed by the fake connector's
keys when a test checks validation itself). Outbound: the app's service URL is the fake Bot
Connector, and its token source returns a JWT-shaped string, as the SDK requires.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from starlette.testclient import TestClient

from bot.container import Services
from tests.fakes.teams_connector import FakeTeamsConnector

APP_ID = "6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
TENANT = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
BOT_ID = f"28:{APP_ID}"
TEAM_CHANNEL = "19:billing-general@thread.tacv2"


def fake_token(scope: str | list[str], tenant_id: str | None) -> str:
    """What the SDK's token source must return: a JWT (it decodes it), here signed with a dummy key."""
    claims = {"aud": str(scope), "tid": tenant_id or "", "exp": int(time.time()) + 3600}
    return jwt.encode(claims, "fake-signing-key-for-outbound-tests-0123", algorithm="HS256")


@dataclass(frozen=True)
class TeamsUser:
    email: str
    name: str

    @property
    def local(self) -> str:
        return self.email.split("@", 1)[0]

    @property
    def aad(self) -> str:
        """An Entra object id (a GUID), stable per person."""
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, self.email))

    @property
    def teams_id(self) -> str:
        return f"29:{self.local}-teams-id"

    @property
    def conversation(self) -> str:
        return f"a:1{self.local}-personal-chat"


PEOPLE = {
    user.email: user
    for user in (
        TeamsUser("ana@example.com", "Ana Popescu"),
        TeamsUser("bob@example.com", "Bob Stan"),
        TeamsUser("cris@example.com", "Cris Ionescu"),
        TeamsUser("radu@example.com", "Radu Lead"),
        TeamsUser("stranger@example.com", "Stranger"),
    )
}


@dataclass
class TeamsHarness:
    client: TestClient
    services: Services
    teams: FakeTeamsConnector
    sign: bool = False
    installed: set[str] = field(default_factory=set)

    def user(self, email: str) -> TeamsUser:
        return PEOPLE[email]

    def activity(self, email: str, kind: str, *, channel: str | None = None, **fields: Any) -> dict[str, Any]:
        user = self.user(email)
        conversation: dict[str, Any] = (
            {"id": channel, "conversationType": "channel", "tenantId": TENANT}
            if channel
            else {"id": user.conversation, "conversationType": "personal", "tenantId": TENANT}
        )
        body: dict[str, Any] = {
            "type": kind,
            "id": f"activity-{uuid.uuid4().hex[:12]}",
            "channelId": "msteams",
            "serviceUrl": self.teams.url,
            "timestamp": "2026-11-23T09:00:00.000Z",
            "from": {"id": user.teams_id, "aadObjectId": user.aad, "name": user.name},
            "recipient": {"id": BOT_ID, "name": "Breather"},
            "conversation": conversation,
            "channelData": {"tenant": {"id": TENANT}},
        }
        body.update(fields)
        return body

    def post(self, body: dict[str, Any] | bytes, headers: dict[str, str] | None = None) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {"Content-Type": "application/json"}
        if self.sign:
            token = self.teams.sign_activity(app_id=APP_ID, service_url=self.teams.url)
            sent["Authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        return self.client.post("/api/messages", content=raw, headers=sent)

    def post_event(self, event: dict[str, Any]) -> Any:
        """A signed call or feedback event, as a phone system would send it."""
        from handlers.telephony.generic import sign
        from tests.conftest import WEBHOOK_SECRET

        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/json", "Breather-Signature": sign(WEBHOOK_SECRET, body, None)}
        return self.client.post("/webhooks/calls", content=body, headers=headers)

    # --- what people do in Teams --------------------------------------------------------------

    def install(self, email: str) -> Any:
        """The person adds Breather (or an admin installs it for them through Graph)."""
        user = self.user(email)
        self.teams.add_member(user.teams_id, aad=user.aad, email=user.email, name=user.name)
        self.installed.add(email)
        return self.post(self.activity(email, "installationUpdate", action="add"))

    def uninstall(self, email: str) -> Any:
        self.installed.discard(email)
        return self.post(self.activity(email, "installationUpdate", action="remove"))

    def click(
        self,
        email: str,
        verb: str,
        *,
        reply_to: str | None,
        value: str = "",
        data: dict[str, Any] | None = None,
        conversation: str | None = None,
    ) -> Any:
        """An Action.Execute on a card: Teams sends an adaptiveCard/action invoke."""
        action_data = {"action": verb, "value": value, **(data or {})}
        body = self.activity(
            email,
            "invoke",
            name="adaptiveCard/action",
            value={
                "action": {"type": "Action.Execute", "verb": verb, "data": action_data},
                "trigger": "manual",
            },
        )
        if reply_to is not None:
            body["replyToId"] = reply_to
        if conversation is not None:
            body["conversation"]["id"] = conversation
        return self.post(body)

    def message_action(
        self, email: str, command: str, *, message_id: str, html: str, channel: str | None = None
    ) -> Any:
        """A message action from a message's "…" menu: Teams asks for its dialog (fetchTask)."""
        payload = {"id": message_id, "body": {"contentType": "html", "content": html}}
        value = {"commandId": command, "commandContext": "message", "messagePayload": payload}
        conversation = f"{channel};messageid={message_id}" if channel else None
        body = self.activity(
            email, "invoke", channel=conversation, name="composeExtension/fetchTask", value=value
        )
        return self.post(body)

    def submit_dialog(self, email: str, command: str, data: dict[str, Any]) -> Any:
        """The dialog's Action.Submit: its data merged with the inputs (submitAction)."""
        value = {"commandId": command, "commandContext": "message", "data": data}
        return self.post(self.activity(email, "invoke", name="composeExtension/submitAction", value=value))

    def say(
        self, email: str, text: str, *, mentions: list[str] | None = None, channel: str | None = None
    ) -> Any:
        """A message typed to Breather; `mentions` are e-mails of people written as <at>Name</at>."""
        entities = []
        if channel:
            text = f"<at>Breather</at> {text}"
            entities.append(_mention(BOT_ID, "Breather"))
        for mentioned in mentions or []:
            person = self.user(mentioned)
            entities.append(_mention(person.teams_id, person.name))
        return self.post(self.activity(email, "message", channel=channel, text=text, entities=entities))


def _mention(user_id: str, name: str) -> dict[str, Any]:
    return {"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": user_id, "name": name}}


def mention_tag(user: TeamsUser) -> str:
    return f"<at>{user.name}</at>"


def card_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Execute in a card's body, in order."""
    found: list[dict[str, Any]] = []

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element.get("type") == "ActionSet":
                found.extend(a for a in element["actions"] if a["type"] == "Action.Execute")
            walk(element.get("items", []))

    walk(card.get("body", []))
    return found


def verbs(card: dict[str, Any]) -> list[str]:
    return [action["verb"] for action in card_actions(card)]


def action_values(card: dict[str, Any]) -> set[str]:
    return {action["data"].get("value", "") for action in card_actions(card)}


def card_text(card: dict[str, Any]) -> str:
    """All the words a person sees on a card."""
    words: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key in ("text", "title", "label"):
                if isinstance(value.get(key), str):
                    words.append(value[key])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(card.get("body", []))
    return "\n".join(words)


def inputs(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in card.get("body", []) if str(e.get("type", "")).startswith("Input.")]
