"""The core flows, run once per chat platform: the same domain behaviour on Slack and on Teams.

Each platform is driven the way its users drive it (signed Slack interactions, Teams invokes
and messages) and observed on its own fake API; the assertions are the same.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from bot.container import Services
from storage.db import session_scope
from storage.models import Checkin, Compliment, ComplimentStatus
from tests.conftest import Harness, MakeSettings, hard_call, teams_app
from tests.fakes.slack_api import ApiCall, FakeSlack
from tests.fakes.teams_connector import ConnectorCall, FakeTeamsConnector
from tests.helpers import action_ids, button_values, settled
from tests.teams_harness import TeamsHarness, action_values, card_text, verbs

ANA, CRIS = "ana@example.com", "cris@example.com"
SLACK_IDS = {ANA: "U0ANA", CRIS: "U0CRIS"}
CHANNEL = "C0BILLING"  # the billing team's channel in the test roster


@dataclass(frozen=True)
class Sent:
    """A message as its reader sees it, whatever the platform."""

    conversation: str
    ref: str  # what a click on it echoes back (Slack ts, Teams activity id)
    text: str
    actions: list[str]
    values: set[str]


class Chat(Protocol):
    services: Services

    def post_event(self, event: dict[str, Any]) -> Any: ...
    def sent(self, count: int = 1) -> list[Sent]: ...
    def updated(self, count: int = 1) -> list[Sent]: ...
    def click(self, message: Sent, action: str, value: str, *, by: str = ANA) -> Any: ...
    def command(self, text: str, *, by: str = ANA) -> str: ...
    def fail_next_send(self, status: int, retry_after: float | None) -> None: ...
    def send_times(self) -> list[float]: ...
    def dm_conversation(self, email: str) -> str: ...


class SlackChat:
    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.services = harness.services
        self.slack: FakeSlack = harness.slack

    @staticmethod
    def _seen(call: ApiCall, ts: str) -> Sent:
        blocks = call.params.get("blocks") or []
        return Sent(
            conversation=str(call.params["channel"]),
            ref=ts,
            text=f"{call.params.get('text', '')}\n{json.dumps(blocks, ensure_ascii=False)}",
            actions=action_ids(blocks),
            values=button_values(blocks),
        )

    def post_event(self, event: dict[str, Any]) -> Any:
        return self.harness.post_event(event)

    def sent(self, count: int = 1) -> list[Sent]:
        calls = self.slack.wait_for("chat.postMessage", count)
        return [self._seen(call, f"1700000000.{n:06d}") for n, call in enumerate(calls, start=1)]

    def updated(self, count: int = 1) -> list[Sent]:
        return [
            self._seen(call, str(call.params["ts"])) for call in self.slack.wait_for("chat.update", count)
        ]

    def click(self, message: Sent, action: str, value: str, *, by: str = ANA) -> Any:
        return self.harness.click(
            user_id=SLACK_IDS[by], channel=message.conversation, ts=message.ref, action_id=action, value=value
        )

    def command(self, text: str, *, by: str = ANA) -> str:
        return str(self.harness.command(user_id=SLACK_IDS[by], command="/breather", text=text).text)

    def fail_next_send(self, status: int, retry_after: float | None) -> None:
        self.slack.fail_next("chat.postMessage", status, retry_after=retry_after)

    def send_times(self) -> list[float]:
        return [call.at for call in self.slack.calls("chat.postMessage")]

    def dm_conversation(self, email: str) -> str:
        return "D" + SLACK_IDS[email][1:]


class TeamsChat:
    def __init__(self, harness: TeamsHarness) -> None:
        self.harness = harness
        self.services = harness.services
        self.teams: FakeTeamsConnector = harness.teams
        for email in (ANA, CRIS):
            harness.install(email)  # Teams only lets a bot write to people who have the app

    def _seen(self, call: ConnectorCall) -> Sent:
        ref = call.activity_id or f"act-{self.teams.calls('send').index(call) + 1}"
        card = call.card
        return Sent(call.conversation, ref, card_text(card), verbs(card), action_values(card))

    def post_event(self, event: dict[str, Any]) -> Any:
        return self.harness.post_event(event)

    def sent(self, count: int = 1) -> list[Sent]:
        return [self._seen(call) for call in self.teams.wait_for("send", count)]

    def updated(self, count: int = 1) -> list[Sent]:
        return [self._seen(call) for call in self.teams.wait_for("update", count)]

    def click(self, message: Sent, action: str, value: str, *, by: str = ANA) -> Any:
        return self.harness.click(
            by, action, value=value, reply_to=message.ref, conversation=message.conversation
        )

    def command(self, text: str, *, by: str = ANA) -> str:
        to = self.harness.user(by).conversation  # the answer, not a post that crosses it
        before = len(self.teams.calls("send", to))
        self.harness.say(by, f"breather {text}")
        return card_text(self.teams.wait_for("send", before + 1, conversation=to)[before].card)

    def fail_next_send(self, status: int, retry_after: float | None) -> None:
        self.teams.fail_next("send", status, retry_after=retry_after)

    def send_times(self) -> list[float]:
        return [call.at for call in self.teams.calls("send")]

    def dm_conversation(self, email: str) -> str:
        return self.harness.user(email).conversation


@pytest.fixture(params=["slack", "teams"])
def chat(
    request: pytest.FixtureRequest, make_settings: MakeSettings, fake_slack: FakeSlack
) -> Iterator[Chat]:
    if request.param == "slack":
        app = create_app(make_settings())
        with TestClient(app, raise_server_exceptions=False) as client:
            yield SlackChat(Harness(client, app.state.services, fake_slack))
        return
    fake: FakeTeamsConnector = request.getfixturevalue("fake_teams")
    settings = request.getfixturevalue("make_teams_settings")()
    app = teams_app(settings, fake)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield TeamsChat(TeamsHarness(client, app.state.services, fake))


def test_a_hard_call_sends_the_agent_one_private_checkin_with_three_choices(chat: Chat) -> None:
    assert chat.post_event(hard_call()).status_code == 202
    (message,) = chat.sent()
    assert message.conversation == chat.dm_conversation(ANA)
    assert message.actions == ["checkin.ok", "checkin.break", "checkin.talk"]
    for label in ("I'm OK", "Take a 5-minute breather", "Talk to someone", "marked abusive"):
        assert label in message.text
    settled(chat.services)
    assert len(chat.sent()) == 1


def test_a_click_is_recorded_and_the_buttons_give_way_to_the_answer(chat: Chat) -> None:
    chat.post_event(hard_call())
    (message,) = chat.sent()
    (checkin_id,) = message.values
    assert chat.click(message, "checkin.ok", checkin_id).status_code == 200
    (update,) = chat.updated()
    assert (update.conversation, update.ref) == (message.conversation, message.ref)
    assert "Glad to hear it" in update.text and update.actions == []
    with session_scope(chat.services.engine) as session:
        checkin = session.get(Checkin, checkin_id)
        assert checkin is not None and checkin.answer == "ok"


def test_someone_else_clicking_changes_nothing(chat: Chat) -> None:
    chat.post_event(hard_call())
    (message,) = chat.sent()
    (checkin_id,) = message.values
    chat.click(message, "checkin.ok", checkin_id, by=CRIS)
    settled(chat.services)
    with session_scope(chat.services.engine) as session:
        assert session.get(Checkin, checkin_id).answer is None  # type: ignore[union-attr]


def test_a_duplicate_delivery_of_one_event_sends_one_checkin(chat: Chat) -> None:
    event = hard_call()
    assert chat.post_event(event).status_code == 202
    assert chat.post_event(event).json()["status"] == "duplicate"
    chat.sent()
    settled(chat.services)
    assert len(chat.send_times()) == 1


def test_a_paused_agent_gets_no_checkin(chat: Chat) -> None:
    assert "Paused" in chat.command("pause")
    before = len(chat.send_times())
    chat.post_event(hard_call())
    settled(chat.services)
    assert len(chat.send_times()) == before


def test_a_rate_limit_is_waited_out_and_nothing_is_sent_twice(chat: Chat) -> None:
    chat.fail_next_send(429, retry_after=1)
    chat.post_event(hard_call())
    first, second = chat.sent(2)
    times = chat.send_times()
    assert times[1] - times[0] >= 0.9  # Retry-After was honoured
    settled(chat.services)
    assert len(chat.send_times()) == 2 and first.conversation == second.conversation


def test_a_compliment_reaches_the_team_channel_only_with_consent(chat: Chat) -> None:
    event = {
        "type": "feedback",
        "event_id": f"fb-{uuid.uuid4().hex[:8]}",
        "agent_email": ANA,
        "rating": "good",
        "comment": "Ana was so patient with me, thank you!",
        "source": "survey",
    }
    chat.post_event(event)
    (message,) = chat.sent()
    assert message.actions == ["compliment.share", "compliment.keep_private"]
    (compliment_id,) = message.values
    settled(chat.services)
    assert [m.conversation for m in chat.sent()] == [chat.dm_conversation(ANA)]
    chat.click(message, "compliment.share", compliment_id)
    post = next(m for m in chat.sent(2) if m.conversation == CHANNEL)
    assert "Ana was so patient with me, thank you!" in post.text and post.actions == []
    settled(chat.services)
    with session_scope(chat.services.engine) as session:
        compliment = session.get(Compliment, compliment_id)
        assert compliment is not None and compliment.status == ComplimentStatus.SHARED
