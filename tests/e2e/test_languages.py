"""Each person reads Breather in their own language: the one they chose, else their chat
platform's, else their team's (issue 14, point 2). Slack and Teams, SQLite and PostgreSQL."""

# ruff: noqa: F811 (the shared flows' `chat` fixture, imported, is every test's argument)
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from bot.digests import chart
from bot.languages import language_from_locale
from tests.conftest import Harness, MakeSettings, hard_call
from tests.e2e.test_shared_flows import ANA, Chat, SlackChat, TeamsChat, chat  # noqa: F401
from tests.fakes.slack_api import FakeSlack
from tests.helpers import roster_with, settled


def said(chat: Chat, text: str) -> str:
    """The private reply to `/breather <text>` (Slack) or `breather <text>` (Teams), as text."""
    reply = chat.command(text)
    shown = str(json.loads(reply)["text"]) if isinstance(chat, SlackChat) else reply
    return shown.replace("*", "").replace("`", "").strip()  # the platforms' markup differs


def checkin_after(chat: Chat, **fields: str) -> str:
    """A hard call, and the check-in it sends (on Teams, command replies are sent messages too)."""
    if isinstance(chat, SlackChat):
        before = len(chat.slack.calls("chat.postMessage"))
    else:
        assert isinstance(chat, TeamsChat)
        before = len(chat.teams.calls("send"))
    chat.post_event(hard_call(**fields))
    return chat.sent(before + 1)[before].text


ROMANIAN_BREAK = "Ia-ți un respiro de 5 minute"
PERSIAN_BREAK = "۵ دقیقه استراحت"


def test_an_agent_chooses_their_language_and_every_message_follows(chat: Chat) -> None:
    assert said(chat, "language ro") == "De acum îți scriu în română."
    checkin = checkin_after(chat)
    assert ROMANIAN_BREAK in checkin and "Take a" not in checkin
    assert said(chat, "help").startswith("Breather te întreabă")

    assert said(chat, "language fa") == "از این به بعد به فارسی برایتان می‌نویسم."
    assert said(chat, "language fa") == "همین حالا هم به فارسی برایتان می‌نویسم."
    assert said(chat, "language default") == "Back to the default: I'll write to you in English."
    assert "/breather pause" in said(chat, "help")


def test_an_unknown_language_is_refused_with_the_choices(chat: Chat) -> None:
    reply = said(chat, "language klingon")
    assert reply.startswith("I can't write in klingon yet.")
    for choice in ("en English", "ro Română", "fa فارسی"):
        assert choice in reply
    assert "ro Română" in said(chat, "language")  # no word: which language now, and how to change


def test_a_teammate_keeps_the_teams_language(chat: Chat) -> None:
    said(chat, "language ro")
    assert "Take a 5-minute breather" in checkin_after(chat, agent_email="cris@example.com")


def test_the_teams_locale_is_used_until_the_person_chooses(chat: Chat) -> None:
    if not isinstance(chat, TeamsChat):
        pytest.skip("a Teams activity carries the sender's locale")
    harness = chat.harness
    before = len(chat.teams.calls("send"))
    harness.post(harness.activity(ANA, "message", text="breather help", entities=[], locale="fa-IR"))
    assert "فرمان‌ها" in chat.sent(before + 1)[before].text
    chat.post_event(hard_call())
    assert PERSIAN_BREAK in chat.sent(before + 2)[before + 1].text
    # English from the platform is no signal (its fallback): the team's language again.
    harness.post(harness.activity(ANA, "message", text="breather help", entities=[], locale="en-US"))
    assert "/breather pause" in chat.sent(before + 3)[before + 2].text
    # A choice beats whatever the platform says.
    said(chat, "language ro")
    harness.post(harness.activity(ANA, "message", text="breather help", entities=[], locale="fa-IR"))
    assert "te întreabă discret" in chat.sent(before + 5)[before + 4].text


def _home(slack: FakeSlack, user: str) -> str:
    published = [c for c in slack.calls("views.publish") if c.params["user_id"] == user]
    assert published, f"no Home tab for {user}"
    return json.dumps(published[-1].params["view"], ensure_ascii=False)


def test_slacks_user_locale_is_read_when_the_home_tab_opens(
    make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0ANA", "ana@example.com", locale="ro-RO")
    app = create_app(make_settings())
    with TestClient(app, raise_server_exceptions=False) as client:
        harness = Harness(client, app.state.services, fake_slack)
        harness.open_home(user_id="U0ANA")
        fake_slack.wait_for("views.publish")
        home = _home(fake_slack, "U0ANA")
        assert "Te întreb discret" in home
        harness.post_event(hard_call())
        post = fake_slack.wait_for("chat.postMessage")[0]
        assert ROMANIAN_BREAK in json.dumps(post.params["blocks"], ensure_ascii=False)


def test_an_english_slack_leaves_a_romanian_team_in_romanian(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.add_user("U0ANA", "ana@example.com", locale="en-GB")  # Slack has no Romanian
    config = roster_with(tmp_path, teams={"billing": {"language": "ro"}})
    app = create_app(make_settings(config_path=config))
    with TestClient(app, raise_server_exceptions=False) as client:
        harness = Harness(client, app.state.services, fake_slack)
        harness.open_home(user_id="U0ANA")
        fake_slack.wait_for("views.publish")
        assert "Te întreb discret" in _home(fake_slack, "U0ANA")


def test_the_teams_home_card_switches_language_with_one_tap(chat: Chat) -> None:
    if not isinstance(chat, TeamsChat):
        pytest.skip("Teams has no Home tab: `breather home` posts the page as a card")
    before = len(chat.teams.calls("send"))
    chat.harness.say(ANA, "breather home")
    card = chat.sent(before + 1)[before]
    assert [a for a in card.actions if a.startswith("home.language.")] == [
        "home.language.en",
        "home.language.fa",
        "home.language.ro",
    ]
    assert chat.click(card, "home.language.ro", "ro").status_code == 200
    assert "Îți scriu în română." in said(chat, "language")


def test_the_home_tab_switches_language_with_one_tap(chat: Chat) -> None:
    if not isinstance(chat, SlackChat):
        pytest.skip("the Slack Home tab; Teams' home card uses the same buttons and route")
    slack, harness = chat.slack, chat.harness
    harness.open_home(user_id="U0ANA")
    first = slack.wait_for("views.publish")[0].params["view"]
    buttons = [e for b in first["blocks"] if b.get("block_id") == "home-language" for e in b["elements"]]
    assert [(b["action_id"], b["text"]["text"]) for b in buttons] == [
        ("home.language.en", "English"),
        ("home.language.fa", "فارسی"),
        ("home.language.ro", "Română"),
    ]
    assert [b.get("style") for b in buttons] == ["primary", None, None]  # the one in use
    harness.click(user_id="U0ANA", channel="D0ANA", ts="", action_id="home.language.fa", value="fa")
    view = slack.wait_for("views.publish", 2)[1].params["view"]
    assert "احوال‌پرسی‌ها" in json.dumps(view, ensure_ascii=False)
    settled(chat.services)
    assert said(chat, "language").startswith("به فارسی برایتان می‌نویسم.")


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("ro-RO", "ro"),
        ("fa_IR", "fa"),
        ("FA", "fa"),
        ("en-US", "en"),
        ("de-DE", None),
        ("", None),
        (None, None),
    ],
)
def test_a_platform_locale_names_a_catalogue_or_nothing(locale: str | None, language: str | None) -> None:
    assert language_from_locale(locale) == language


def test_a_lead_who_is_an_agent_reads_the_digest_in_their_own_language(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    config = roster_with(tmp_path, teams={"billing": {"managers": ["cris@example.com"]}})
    app = create_app(make_settings(config_path=config))
    with TestClient(app, raise_server_exceptions=False) as client:
        harness = Harness(client, app.state.services, fake_slack)
        harness.command(user_id="U0CRIS", command="/breather", text="language fa")
        # As a server does soon after it starts: the first chart of a process then does not
        # import matplotlib inside the 3 s ack (seconds on a busy machine).
        chart.preload()
        reply = json.loads(harness.command(user_id="U0CRIS", command="/breather", text="digest").text)
        assert reply["text"].startswith("خلاصهٔ هفتگی تیم")
        # Its week, dated in the Solar Hijri calendar with Persian digits (a year such as ۱۴۰۵).
        assert re.search("[۰-۹]{4}", json.dumps(reply["blocks"], ensure_ascii=False))
