"""Compliment and kudos messages are pure: what they say, who they credit, and what Slack sees."""

from __future__ import annotations

import json

import pytest

from bot.compliments.messages import (
    RECIPIENT_FIELD,
    Outcome,
    WeekOfCompliments,
    channel_post,
    consent_answered,
    consent_prompt,
    kudos_post,
    recipient_form,
    weekly_rollup,
)
from bot.i18n import catalogue
from bot.messenger import AgentRef, ChatPlatform, ChatUser, Mention, Quote
from handlers.slack.blocks import form_view, message_blocks, part_block, submitted_values
from handlers.slack.mentions import leading_mention, plain_text

CAT = catalogue("en")
ANA = AgentRef(
    agent_id="a1",
    email="ana@example.com",
    chat_users=(ChatUser(platform=ChatPlatform.SLACK, user_id="U0ANA"),),
)


def test_the_consent_prompt_offers_exactly_share_and_keep() -> None:
    blocks = message_blocks(consent_prompt(CAT, compliment_id="c1", text="Thank you!", consent_hours=24))
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions[0]["elements"]] == [
        ("compliment.share", "c1"),
        ("compliment.keep_private", "c1"),
    ]
    assert "within 24 hours, it stays private" in json.dumps(blocks)


@pytest.mark.parametrize(
    ("outcome", "buttons"),
    [
        (Outcome.SHARED, ["compliment.remove"]),
        (Outcome.KEPT, []),
        (Outcome.EXPIRED, []),
        (Outcome.NO_CHANNEL, []),
    ],
)
def test_an_answered_prompt_keeps_the_words_and_drops_the_choice(outcome: str, buttons: list[str]) -> None:
    blocks = message_blocks(consent_answered(CAT, compliment_id="c1", text="Thank you!", outcome=outcome))
    assert [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]] == buttons
    assert "> Thank you!" in json.dumps(blocks)


def test_customer_words_cannot_ping_link_or_format_anything() -> None:
    block = part_block(Quote(text="Hi <!channel> & <@U0BOSS>\nsee <https://x.test|here>"))
    assert block["text"]["verbatim"] is True
    assert block["text"]["text"] == (
        "> Hi &lt;!channel&gt; &amp; &lt;@U0BOSS&gt;\n> see &lt;https://x.test|here&gt;"
    )


def test_the_channel_post_credits_the_agent_with_a_mention_and_no_count() -> None:
    message = channel_post(CAT, agent=Mention(name="Ana Popescu", agent=ANA), text="So patient")
    shown = json.dumps(message_blocks(message))
    assert "A customer wrote this about <@U0ANA>" in shown and "> So patient" in shown
    assert message.text == "A customer thanked Ana Popescu"
    assert not any(ch.isdigit() for ch in shown.replace("U0ANA", ""))  # no counts of any kind


def test_a_mention_falls_back_to_the_name_where_no_chat_id_is_known() -> None:
    nobody = AgentRef(agent_id="a2", email="bob@example.com")
    shown = json.dumps(
        message_blocks(channel_post(CAT, agent=Mention(name="Bob <Stan>", agent=nobody), text="x"))
    )
    assert "about Bob &lt;Stan&gt;:" in shown


def test_kudos_show_the_author_and_the_recipient() -> None:
    message = kudos_post(
        CAT,
        author=Mention(name="Cris", user_id="U0CRIS"),
        recipient=Mention(name="Ana", user_id="U0ANA"),
        text="ty",
    )
    assert "<@U0CRIS> sent kudos to <@U0ANA>" in json.dumps(message_blocks(message))


@pytest.mark.parametrize(
    ("week", "says", "never"),
    [
        (
            WeekOfCompliments(count=7, kudos=2, quotes=["a", "b", "c", "d"]),
            "thanked this team 7 times",
            "> d",
        ),
        (WeekOfCompliments(count=1, kudos=0, quotes=[]), "thanked this team once", "kudos"),
        (WeekOfCompliments(count=None, kudos=1, quotes=["a"]), "thanked people in this team", "times"),
        (WeekOfCompliments(count=0, kudos=3, quotes=[]), "3 kudos", "Customers thanked"),
    ],
    ids=["counted", "once", "too few people", "only kudos"],
)
def test_the_weekly_rollup(week: WeekOfCompliments, says: str, never: str) -> None:
    shown = json.dumps(message_blocks(weekly_rollup(CAT, week)))
    assert says in shown and never not in shown
    assert "never counts compliments per person" in shown


def test_the_recipient_form_carries_the_scrubbed_words_and_a_person_picker() -> None:
    view = form_view(recipient_form(CAT, text="Kind words " * 400, source="C1:1.2"))
    picker = view["blocks"][-1]
    assert picker["block_id"] == RECIPIENT_FIELD and picker["element"]["type"] == "users_select"
    carried = json.loads(view["private_metadata"])
    assert carried["source"] == "C1:1.2" and len(carried["text"]) == 2000
    assert len(view["private_metadata"]) <= 3000  # Slack's limit
    state = {
        "values": {RECIPIENT_FIELD: {RECIPIENT_FIELD: {"type": "users_select", "selected_user": "U0ANA"}}}
    }
    assert submitted_values({"state": state}) == {RECIPIENT_FIELD: "U0ANA"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U0ANA|ana> thanks!", ("U0ANA", "thanks!")),
        ("<@U0ANA> thanks!", ("U0ANA", "thanks!")),
        ("  <@W0ANA|ana>, you rock", ("W0ANA", "you rock")),
        ("thanks <@U0ANA>", (None, "thanks <@U0ANA>")),
        ("@ana thanks", (None, "@ana thanks")),
    ],
)
def test_the_kudos_recipient_is_the_leading_mention(text: str, expected: tuple[str | None, str]) -> None:
    assert leading_mention(text) == expected


def test_slack_markup_becomes_plain_words() -> None:
    text = "<!here> &amp; <@U1|bob> <@U2> in <#C1|general>, see <https://x.test|docs> &lt;3"
    names = {"U2": "Dana"}
    assert plain_text(text, names.get) == "@here & @bob @Dana in #general, see docs <3"
