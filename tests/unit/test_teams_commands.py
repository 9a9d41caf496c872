"""What people type to Breather in Teams, read the way they meant it."""

from __future__ import annotations

import pytest

from handlers.teams.commands import BREATHER, KUDOS, ChatCommand, Mentioned, message_text, parse_command

BOT = "28:breather-bot"
AT_BOT = Mentioned(BOT, "Breather", "<at>Breather</at>")
ANA = Mentioned("29:ana", "Ana Popescu", "<at>Ana Popescu</at>")
BOB = Mentioned("29:bob", "Bob", "<at>Bob</at>")


@pytest.mark.parametrize(
    ("text", "mentions", "expected"),
    [
        ("breather pause", [], ChatCommand(BREATHER, "pause")),
        ("/breather help", [], ChatCommand(BREATHER, "help")),
        ("Breather   digest   billing", [], ChatCommand(BREATHER, "digest billing")),
        ("pause", [], ChatCommand(BREATHER, "pause")),
        ("<at>Breather</at> breather privacy", [AT_BOT], ChatCommand(BREATHER, "privacy")),
        ("<p>breather&nbsp;home</p>", [], ChatCommand(BREATHER, "home")),
        ("", [], ChatCommand(BREATHER, "")),
    ],
    ids=["plain", "slash", "spaces", "bare word", "mentioned bot", "teams markup", "empty"],
)
def test_breather_commands(text: str, mentions: list[Mentioned], expected: ChatCommand) -> None:
    assert parse_command(text, mentions, BOT) == expected


def test_kudos_go_to_the_first_person_mentioned_after_the_command() -> None:
    command = parse_command(
        "<at>Breather</at> kudos <at>Ana Popescu</at>, thanks for covering! <at>Bob</at> too",
        [AT_BOT, ANA, BOB],
        BOT,
    )
    assert command == ChatCommand(KUDOS, "thanks for covering! @Bob too", recipient=ANA)


def test_kudos_to_an_email_address_work_where_nobody_can_be_mentioned() -> None:
    command = parse_command("kudos Ana@Example.com: great call", [], BOT)
    assert command == ChatCommand(KUDOS, "great call", recipient_email="ana@example.com")


def test_kudos_without_anyone_named_have_no_recipient() -> None:
    assert parse_command("/kudos thanks team", [], BOT) == ChatCommand(KUDOS, "thanks team")


def test_mentions_in_the_words_never_stay_as_mention_tags() -> None:
    command = parse_command("kudos <at>Ana Popescu</at> you and <at>Bob</at> rock", [ANA, BOB], BOT)
    assert "<at>" not in command.text and command.text == "you and @Bob rock"


def test_a_message_acted_on_becomes_its_plain_words() -> None:
    html = "<p>Thanks to <at>Ana Popescu</at> &amp; the team!</p><p>Jo&nbsp;B.</p>"
    assert message_text(html) == "Thanks to Ana Popescu & the team! Jo B."
    assert message_text("a <b>literal</b>\n text", is_html=False) == "a <b>literal</b> text"
