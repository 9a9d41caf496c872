"""A team lead who is not an agent reads Breather in their own language too (issue 14, point 2):
the one they chose (`/breather language`, the Manager part of the Home tab or home card), else
their chat platform's, else the team's; digests, surge alerts, thanks nudges and requests to talk
all follow it. Slack and Teams, SQLite and PostgreSQL."""

# ruff: noqa: F811 (the shared flows' `chat` fixture, imported, is every test's argument)
from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from bot.i18n import catalogue
from bot.lead_prefs import lead_keys
from storage.db import session_scope
from storage.models import Call, Kudos, LeadPrefs
from tests.conftest import Harness, hard_call
from tests.e2e.test_recovery_talk import dms_to, open_talk, options, submit, talk  # noqa: F401
from tests.e2e.test_shared_flows import CHANNEL, Chat, SlackChat, TeamsChat, chat  # noqa: F401
from tests.helpers import settled
from tests.teams_harness import card_text

RADU = "radu@example.com"  # the billing team's lead in the test roster, not an agent
# The digest's title, as each language says it.
ROMANIAN_DIGEST = "Billing support: săptămâna din"
PERSIAN_DIGEST = "Billing support: هفتهٔ"
ENGLISH_DIGEST = "Billing support: week of"
ISOLATES = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069\u200e\u200f"))  # bidi marks


def lead_joins(chat: Chat, locale: str = "en-US") -> None:
    """Radu meets Breather on the platform (Slack knows his locale; Teams is told per activity)."""
    if isinstance(chat, SlackChat):
        chat.harness.slack.add_user("U0RADU", RADU, locale=locale)
    else:
        assert isinstance(chat, TeamsChat)
        chat.harness.install(RADU)


def lead_says(chat: Chat, text: str, locale: str | None = None) -> str:
    """Radu's private reply to `/breather <text>` (Slack) or `breather <text>` (Teams)."""
    if isinstance(chat, SlackChat):
        reply = json.loads(chat.harness.command(user_id="U0RADU", command="/breather", text=text).text)
        blocks = [b["text"]["text"] for b in reply.get("blocks", []) if isinstance(b.get("text"), dict)]
        shown = "\n".join([str(reply["text"]), *blocks]) if blocks[1:] else str(reply["text"])
    else:
        assert isinstance(chat, TeamsChat)
        settled(chat.services)  # a chart from an earlier digest arrives on its own
        to_radu = chat.harness.user(RADU).conversation
        before = len(chat.teams.calls("send", to_radu))
        extra = {"locale": locale} if locale else {}
        chat.harness.post(
            chat.harness.activity(RADU, "message", text=f"breather {text}", entities=[], **extra)
        )
        shown = card_text(chat.teams.wait_for("send", before + 1, conversation=to_radu)[before].card)
    return shown.translate(ISOLATES).replace("*", "").replace("`", "").strip()


def to_lead(chat: Chat) -> list[str]:
    """Everything delivered to Radu's DM so far, as the words he sees."""
    settled(chat.services)
    if isinstance(chat, SlackChat):
        calls = [c for c in chat.slack.calls("chat.postMessage") if c.params["channel"] == "D0RADU"]
        return [json.dumps(c.params, ensure_ascii=False).translate(ISOLATES) for c in calls]
    assert isinstance(chat, TeamsChat)
    conversation = chat.harness.user(RADU).conversation
    return [
        card_text(c.card).translate(ISOLATES)
        for c in chat.teams.calls("send")
        if c.conversation == conversation
    ]


def weekly_digest(chat: Chat) -> str:
    """The Monday DM (once a week: the outbox key is per lead and week)."""
    before = len(to_lead(chat))
    assert chat.services.digest_desk.weekly("billing") == 1
    return "\n".join(to_lead(chat)[before:])  # the digest and its chart


def asked_digest(chat: Chat) -> str:
    """`/breather digest`: the digest as the private reply (on Teams, with the chart that
    follows it, which may arrive first)."""
    if isinstance(chat, SlackChat):
        return lead_says(chat, "digest")
    assert isinstance(chat, TeamsChat)
    settled(chat.services)
    before = len(chat.teams.calls("send"))
    chat.harness.say(RADU, "breather digest")
    chat.teams.wait_for("send", before + 2)
    settled(chat.services)
    return "\n".join(card_text(c.card).translate(ISOLATES) for c in chat.teams.calls("send")[before:])


def test_a_lead_who_is_not_an_agent_chooses_a_language_and_every_message_to_them_follows(
    chat: Chat,
) -> None:
    lead_joins(chat)
    assert lead_says(chat, "language ro") == "De acum îți scriu în română."
    assert lead_says(chat, "language ro") == "Îți scriu deja în română."
    assert lead_says(chat, "language").startswith("Îți scriu în română.")
    assert lead_says(chat, "help").startswith("Breather te întreabă")
    assert ROMANIAN_DIGEST in weekly_digest(chat)
    # The lead's choice is theirs alone: the team and its agents stay in English.
    assert "Take a 5-minute breather" in lead_says_checkin(chat)

    assert lead_says(chat, "language fa") == "از این به بعد به فارسی برایتان می‌نویسم."
    assert PERSIAN_DIGEST in asked_digest(chat)
    assert lead_says(chat, "language default") == "Back to the default: I'll write to you in English."
    assert ENGLISH_DIGEST in asked_digest(chat)
    assert lead_says(chat, "language klingon").startswith("I can't write in klingon yet.")

    # Stored under a keyed hash of the e-mail, never the address.
    with session_scope(chat.services.engine) as session:
        rows = session.exec(select(LeadPrefs)).all()
        assert [row.person_key for row in rows] == [lead_keys(chat.services.keyring, RADU)[0]]
        assert RADU not in json.dumps([row.model_dump(mode="json") for row in rows])


def lead_says_checkin(chat: Chat) -> str:
    """The check-in Ana (an agent of the lead's team) gets after a hard call."""
    if isinstance(chat, SlackChat):
        before = len(chat.slack.calls("chat.postMessage"))
    else:
        assert isinstance(chat, TeamsChat)
        before = len(chat.teams.calls("send"))
    chat.post_event(hard_call())
    return chat.sent(before + 1)[before].text


def test_the_platform_locale_of_a_lead_is_used_until_they_choose(chat: Chat) -> None:
    if isinstance(chat, SlackChat):
        lead_joins(chat, locale="fa-IR")
        chat.harness.open_home(user_id="U0RADU")  # Slack's locale is read when the Home tab opens
        view = json.dumps(chat.slack.wait_for("views.publish")[-1].params["view"], ensure_ascii=False)
        assert "زبان" in view and "Language" not in view  # the Manager view, in Persian
    else:
        lead_joins(chat)
        assert lead_says(chat, "help", locale="fa-IR").startswith("Breather")  # every activity tells
    assert PERSIAN_DIGEST in weekly_digest(chat)
    assert lead_says(chat, "language ro") == "De acum îți scriu în română."  # a choice beats it
    assert ROMANIAN_DIGEST in asked_digest(chat)
    lead_says(chat, "language default")
    assert PERSIAN_DIGEST in asked_digest(chat)  # back to the platform's


def test_the_managers_home_switches_the_leads_language_with_one_tap(chat: Chat) -> None:
    lead_joins(chat)
    if isinstance(chat, SlackChat):
        chat.harness.open_home(user_id="U0RADU")
        view = chat.slack.wait_for("views.publish")[-1].params["view"]
        buttons = [e for b in view["blocks"] if b.get("block_id") == "home-language" for e in b["elements"]]
        assert [b["action_id"] for b in buttons] == [
            "home.language.en",
            "home.language.fa",
            "home.language.ro",
        ]
        chat.harness.click(
            user_id="U0RADU", channel="D0RADU", ts="", action_id="home.language.ro", value="ro"
        )
        redrawn = json.dumps(chat.slack.wait_for("views.publish", 2)[-1].params["view"], ensure_ascii=False)
        assert "Limba" in redrawn and "Language" not in redrawn
    else:
        assert isinstance(chat, TeamsChat)
        before = len(chat.teams.calls("send"))
        chat.harness.say(RADU, "breather home")
        card = chat.sent(before + 1)[before]
        assert [a for a in card.actions if a.startswith("home.language.")] == [
            "home.language.en",
            "home.language.fa",
            "home.language.ro",
        ]
        answer = chat.click(card, "home.language.ro", "ro", by=RADU)
        assert "De acum îți scriu în română." in answer.json()["value"]
        settled(chat.services)
        (card_now,) = chat.updated()[-1:]
        assert "Limba" in card_now.text
    assert lead_says(chat, "language").startswith("Îți scriu în română.")
    assert ROMANIAN_DIGEST in asked_digest(chat)


def test_a_surge_alert_reaches_the_lead_in_their_language(chat: Chat) -> None:
    lead_joins(chat)
    lead_says(chat, "language ro")
    services = chat.services
    team = [a.pseudonym for a in services.roster.agents() if a.team.id == "billing"]
    recent = services.clock() - timedelta(minutes=20)
    with session_scope(services.engine) as session:
        for i, person in enumerate(team * 3):  # 8 hard calls of 15, spread over the whole team
            session.add(
                Call(
                    provider="generic",
                    call_id=f"surge-{i}",
                    team_id="billing",
                    pseudonym=person,
                    kid="k",
                    ended_at=recent,
                    hard=i < 8,
                )
            )
    before = len(to_lead(chat))
    assert services.digest_desk.surges() == 1
    (alert,) = to_lead(chat)[before:]
    assert "Billing support" in alert and "din apelurile din ultim" in alert


def test_the_thanks_nudge_reaches_the_lead_in_their_language_and_the_channel_stays_the_teams(
    chat: Chat,
) -> None:
    lead_joins(chat)
    lead_says(chat, "language ro")
    services = chat.services
    team = services.config.team("billing")
    yesterday = services.clock().astimezone(team.zone) - timedelta(days=1)
    with session_scope(services.engine) as session:
        session.add(Kudos(id="k1", team_id="billing", author_key="a", created_at=yesterday))
    assert services.thanks_actions.nudge("billing") == 1
    (nudge,) = [text for text in to_lead(chat) if "vorbe bune" in text]
    assert "Ieri, echipa Billing support a primit vorbe bune:" in nudge
    value = f"billing|{yesterday.date().isoformat()}"
    if isinstance(chat, SlackChat):
        chat.harness.click(user_id="U0RADU", channel="D0RADU", ts="3.3", action_id="thanks.say", value=value)
        done = chat.slack.wait_for("chat.update")[-1].params["text"]  # the click is acted on after its ack
        settled(services)
        calls = chat.slack.calls("chat.postMessage")
        posted = [c.params["text"] for c in calls if c.params["channel"] == CHANNEL]
    else:
        assert isinstance(chat, TeamsChat)
        answer = chat.harness.click(RADU, "thanks.say", value=value, reply_to="act-1")
        settled(services)
        posted = [card_text(c.card) for c in chat.teams.calls("send") if c.conversation.startswith(CHANNEL)]
        done = answer.json()["value"]
    assert done.translate(ISOLATES) == "Mulțumirile tale sunt postate în canalul echipei Billing support."
    assert [p.translate(ISOLATES) for p in posted] == [
        "Radu says thank you, team: yesterday's kind words didn't go unnoticed."
    ]


def test_a_request_to_talk_reaches_a_lead_in_their_language(talk: Harness) -> None:
    reply = talk.command(user_id="U0RADU", command="/breather", text="language fa").json()["text"]
    assert reply == "از این به بعد به فارسی برایتان می‌نویسم."
    checkin_id, view = open_talk(talk)  # Ana's own messages stay in English
    assert submit(talk, checkin_id, options(view)["Radu (team lead)"]).text == ""
    talk.slack.wait_for("chat.postMessage", 3)
    settled(talk.services)
    (ask,) = dms_to(talk.slack, "D0RADU")
    assert ask.translate(ISOLATES) == catalogue("fa").t("recovery.talk.ask", name="Ana Popescu").translate(
        ISOLATES
    )
    assert "Ana Popescu" in ask and "appreciate" not in ask
    assert dms_to(talk.slack, "D0ANA")[-1] == "I've let Radu know you'd appreciate a quick chat."


def test_a_leads_kudos_are_answered_in_their_language_and_posted_in_the_teams(chat: Chat) -> None:
    lead_joins(chat)
    lead_says(chat, "language ro")
    if isinstance(chat, SlackChat):
        reply = chat.harness.command(user_id="U0RADU", command="/kudos", text="<@U0ANA> great week!").text
    else:
        assert isinstance(chat, TeamsChat)
        settled(chat.services)
        to_radu = chat.harness.user(RADU).conversation  # the answer, not the post in the channel
        before = len(chat.teams.calls("send", to_radu))
        chat.harness.say(RADU, "kudos ana@example.com great week!")
        reply = card_text(chat.teams.wait_for("send", before + 1, conversation=to_radu)[before].card)
    assert catalogue("ro").t("kudos.sent").split(":")[0] in reply
    settled(chat.services)
    if isinstance(chat, SlackChat):
        calls = chat.slack.calls("chat.postMessage")
        posted = [json.dumps(c.params, ensure_ascii=False) for c in calls if c.params["channel"] == CHANNEL]
    else:
        posted = [card_text(c.card) for c in chat.teams.calls("send") if c.conversation.startswith(CHANNEL)]
    assert any("sent kudos to" in post for post in posted)  # the channel reads the team's language
