"""TeamsMessenger against the fake Bot Connector, on SQLite and PostgreSQL: where it writes,
what it does when Teams says no, and the home card that stands in for Slack's Home tab."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.errors import DeliveryFailed
from bot.messenger import AgentRef, Credit, Delivered, HomeView, Mention, Message, Text
from handlers.teams.directory import TeamsPerson
from handlers.teams.messenger import TeamsMessenger, build_teams_messenger
from tests.conftest import FakeApi, MakeSettings
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.teams_harness import fake_token

ANA = AgentRef(agent_id="agent-ana", email="ana@example.com")
HELLO = Message(text="hello", parts=(Text(text="hello"),))


@pytest.fixture
def messenger(make_teams_settings: MakeSettings, engine: Engine) -> Iterator[TeamsMessenger]:
    built = build_teams_messenger(make_teams_settings(), engine, token=fake_token, allow_unauthenticated=True)
    yield built
    built.close()


def installed(messenger: TeamsMessenger, service_url: str, email: str = "ana@example.com") -> TeamsPerson:
    local = email.split("@")[0]
    return messenger.directory.remember(
        TeamsPerson(
            aad_object_id=f"aad-{local}",
            teams_user_id=f"29:{local}",
            email=email,
            name=local.title(),
            conversation_id=f"a:{local}",
            service_url=service_url,
        )
    )


def test_a_person_is_written_to_through_their_own_regional_service_url(
    messenger: TeamsMessenger, fake_teams: FakeTeamsConnector, fake_api: FakeApi
) -> None:
    regional: FakeTeamsConnector = fake_api(FakeTeamsConnector)  # a second connector, not fake_teams
    assert regional is not fake_teams
    installed(messenger, regional.url)
    where = messenger.send_direct(ANA, HELLO)
    assert where == Delivered(channel="a:ana", ts="act-1")
    assert [c.kind for c in regional.calls()] == ["send"] and fake_teams.calls() == []
    messenger.update(where, HELLO)
    assert [c.kind for c in regional.calls()] == ["send", "update"]


def test_channel_posts_use_the_configured_service_url(
    messenger: TeamsMessenger, fake_teams: FakeTeamsConnector
) -> None:
    where = messenger.post_to_channel("19:general@thread.tacv2", HELLO)
    (call,) = fake_teams.calls("send")
    assert call.conversation == "19:general@thread.tacv2" and where.ts == "act-1"


def test_nobody_to_write_to_is_a_permanent_failure(messenger: TeamsMessenger) -> None:
    with pytest.raises(DeliveryFailed) as raised:
        messenger.send_direct(ANA, HELLO)
    assert raised.value.permanent and "not installed" in str(raised.value)


def test_teams_saying_the_bot_was_removed_is_permanent(
    messenger: TeamsMessenger, fake_teams: FakeTeamsConnector
) -> None:
    installed(messenger, fake_teams.url)
    fake_teams.fail_next("send", 403)
    with pytest.raises(DeliveryFailed) as raised:
        messenger.send_direct(ANA, HELLO)
    assert raised.value.permanent and "not installed" in str(raised.value)


def test_deleting_a_message_that_is_already_gone_counts_as_done(
    messenger: TeamsMessenger, fake_teams: FakeTeamsConnector
) -> None:
    where = Delivered(channel="19:general@thread.tacv2", ts="act-9")
    messenger.delete(where)
    messenger.delete(where)  # the fake answers 404 the second time
    assert [c.kind for c in fake_teams.calls()] == ["delete", "delete"]


def test_the_home_card_is_posted_only_when_asked_for_then_refreshed_in_place(
    messenger: TeamsMessenger, fake_teams: FakeTeamsConnector
) -> None:
    person = installed(messenger, fake_teams.url)
    view = HomeView(parts=(Text(text="Check-ins are *on*."),))
    messenger.publish_home(ANA, view)
    assert fake_teams.calls() == []
    messenger.directory.request_home(person.aad_object_id)
    messenger.publish_home(ANA, view)
    messenger.publish_home(ANA, view)
    assert [(c.kind, c.activity_id) for c in fake_teams.calls()] == [("send", None), ("update", "act-1")]


def test_people_teams_knows_are_mentioned_and_others_are_named(
    messenger: TeamsMessenger, fake_teams: FakeTeamsConnector
) -> None:
    installed(messenger, fake_teams.url)
    credit = Credit(
        text="{0} thanked {1}",
        mentions=(Mention(name="Ana", agent=ANA), Mention(name="Zed", user_id="aad-unknown")),
    )
    messenger.post_to_channel("19:general@thread.tacv2", Message(text="kudos", parts=(credit,)))
    card = fake_teams.calls("send")[0].card
    assert card["body"][0]["text"] == "<at>Ana</at> thanked Zed"
    assert [e["mentioned"]["id"] for e in card["msteams"]["entities"]] == ["29:ana"]


def test_email_of_reads_the_directory_and_plain_addresses(
    messenger: TeamsMessenger, fake_teams: FakeTeamsConnector
) -> None:
    installed(messenger, fake_teams.url)
    assert messenger.email_of("aad-ana") == "ana@example.com"
    assert messenger.email_of("29:ana") == "ana@example.com"
    assert messenger.email_of("mailto:Bob@Example.com") == "bob@example.com"
    assert messenger.email_of("aad-nobody") is None
