"""An agent's chat ids are neutral in the domain, yet outbox rows keep the shape they always had."""

from __future__ import annotations

import json

from bot.messenger import AgentRef, ChatPlatform, ChatUser, Credit, Mention, Message

# What an outbox row written by an earlier release holds as its recipient.
STORED = {
    "agent_id": "agent-ana",
    "email": "ana@example.com",
    "slack_user_id": "U0ANA",
    "teams_user_id": None,
    "on_roster": True,
}


def test_a_row_written_before_the_rename_still_names_the_same_person() -> None:
    ref = AgentRef(**STORED)
    assert ref.user_id_on(ChatPlatform.SLACK) == "U0ANA"
    assert ref.user_id_on(ChatPlatform.TEAMS) is None
    assert ref == AgentRef(
        agent_id="agent-ana",
        email="ana@example.com",
        chat_users=(ChatUser(platform=ChatPlatform.SLACK, user_id="U0ANA"),),
    )


def test_what_is_stored_keeps_the_old_shape_byte_for_byte() -> None:
    ref = AgentRef(
        agent_id="agent-ana",
        email="ana@example.com",
        chat_users=(ChatUser(platform=ChatPlatform.SLACK, user_id="U0ANA"),),
    )
    assert json.dumps(ref.model_dump()) == json.dumps(STORED)
    credit = Message(text="x", parts=(Credit(text="{0}", mentions=(Mention(name="Ana", agent=ref),)),))
    stored = credit.model_dump(mode="json")
    assert stored["parts"][0]["mentions"][0]["agent"] == STORED
    assert Message(**stored) == credit
