"""SlackMessenger against the fake Slack Web API, on SQLite and PostgreSQL: the addresses it
learns are written behind, and all of them are written by the time it is closed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from bot.clock import utcnow
from bot.messenger import AgentRef, Message, Text
from handlers.slack.messenger import SlackMessenger, make_web_client
from storage.db import session_scope
from storage.models import ChatAddress
from storage.upsert import upsert_many
from tests.fakes.slack_api import FakeSlack

HELLO = Message(text="hello", parts=(Text(text="hello"),))
PEOPLE = {"agent-ana": "ana@example.com", "agent-bob": "bob@example.com", "agent-cris": "cris@example.com"}


def test_closing_writes_every_address_still_waiting_and_nothing_after(
    engine: Engine, fake_slack: FakeSlack
) -> None:
    messenger = SlackMessenger(make_web_client("xoxb-test", fake_slack.url), engine)
    for agent_id, email in PEOPLE.items():
        messenger.send_direct(AgentRef(agent_id=agent_id, email=email), HELLO)
    messenger.close()
    with session_scope(engine) as session:
        saved = {row.agent_id: (row.user_id, row.dm_channel) for row in session.exec(select(ChatAddress))}
    assert saved == {
        "agent-ana": ("U0ANA", "D0ANA"),
        "agent-bob": ("U0BOB", "D0BOB"),
        "agent-cris": ("U0CRIS", "D0CRIS"),
    }
    # Learnt again after closing (a late send): written behind as before.
    messenger.send_direct(AgentRef(agent_id="agent-new", email="ana@example.com"), HELLO)
    messenger.close()
    with session_scope(engine) as session:
        assert session.exec(select(ChatAddress).where(ChatAddress.agent_id == "agent-new")).one()
    assert [c.method for c in fake_slack.calls("chat.postMessage")] == ["chat.postMessage"] * 4


def test_addresses_learnt_again_update_their_row_and_keep_a_known_dm_channel(engine: Engine) -> None:
    """The writer's one statement for a batch (storage.upsert.upsert_many): a person's row is
    updated in place, and a user id learnt without a DM channel keeps the channel stored."""
    with session_scope(engine) as session:
        session.add(ChatAddress(agent_id="agent-ana", platform="slack", user_id="U0OLD", dm_channel="D0ANA"))
    rows: list[dict[str, Any]] = [
        {
            "agent_id": "agent-ana",
            "platform": "slack",
            "user_id": "U0ANA",
            "dm_channel": None,
            "updated_at": utcnow(),
        },
        {
            "agent_id": "agent-bob",
            "platform": "slack",
            "user_id": "U0BOB",
            "dm_channel": "D0BOB",
            "updated_at": utcnow(),
        },
    ]
    with session_scope(engine) as session:
        upsert_many(session, ChatAddress, rows, ["agent_id", "platform"], keep_when_null=("dm_channel",))
    with session_scope(engine) as session:
        upsert_many(session, ChatAddress, rows[1:], ["agent_id", "platform"], keep_when_null=("dm_channel",))
        saved = {row.agent_id: (row.user_id, row.dm_channel) for row in session.exec(select(ChatAddress))}
    assert saved == {"agent-ana": ("U0ANA", "D0ANA"), "agent-bob": ("U0BOB", "D0BOB")}
