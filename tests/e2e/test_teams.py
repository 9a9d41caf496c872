"""Breather on Microsoft Teams, end to end: signed webhooks in, Adaptive Cards out to a fake Bot
Connector, and card actions, installs and typed commands posted to /api/messages as Teams would."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from bot.clock import utcnow
from bot.messenger import Message, Text
from storage.db import session_scope
from storage.models import (
    Checkin,
    Compliment,
    ComplimentStatus,
    DigestAccess,
    Kudos,
    OutboxMessage,
    OutboxStatus,
    SurveyAnswer,
    TeamsConversation,
)
from tests.conftest import MakeSettings, hard_call, teams_app
from tests.e2e import test_pulse_surveys as pulse
from tests.fakes.teams_connector import ConnectorCall, FakeTeamsConnector
from tests.helpers import Clock, roster_with, settled
from tests.teams_harness import (
    APP_ID,
    TEAM_CHANNEL,
    TeamsHarness,
    action_values,
    card_actions,
    card_text,
    inputs,
    verbs,
)

ANA, BOB, CRIS, RADU = "ana@example.com", "bob@example.com", "cris@example.com", "radu@example.com"


def checkin_card(harness: TeamsHarness) -> tuple[ConnectorCall, str]:
    """Install Breather for Ana, send a hard call, and return her check-in card and its id."""
    harness.install(ANA)
    assert harness.post_event(hard_call()).status_code == 202
    (sent,) = harness.teams.wait_for("send")
    (checkin_id,) = action_values(sent.card)
    return sent, checkin_id


def sent_activity_id(harness: TeamsHarness, sent: ConnectorCall) -> str:
    """The id the fake connector gave the activity (what Teams echoes as replyToId)."""
    index = harness.teams.calls("send").index(sent)
    return f"act-{index + 1}"


def sends_to(harness: TeamsHarness, conversation: str) -> list[ConnectorCall]:
    return harness.teams.calls("send", conversation=conversation)


# --- install, and where Breather can write ----------------------------------------------------


def test_installing_breather_remembers_where_to_reach_the_person(teams_harness: TeamsHarness) -> None:
    response = teams_harness.install(ANA)
    assert response.status_code == 200
    user = teams_harness.user(ANA)
    with session_scope(teams_harness.services.engine) as session:
        row = session.exec(select(TeamsConversation)).one()
    assert (row.aad_object_id, row.conversation_id) == (user.aad, user.conversation)
    assert (row.email, row.service_url, row.teams_user_id) == (ANA, teams_harness.teams.url, user.teams_id)
    assert [c.kind for c in teams_harness.teams.calls()] == ["member"]  # who they are, asked once
    teams_harness.say(ANA, "breather help")
    assert [c.kind for c in teams_harness.teams.calls()] == ["member", "send"]


def test_an_agent_without_breather_installed_fails_honestly_without_retries(
    teams_harness: TeamsHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    teams_harness.post_event(hard_call())
    settled(teams_harness.services)
    assert teams_harness.teams.calls("send") == []
    with session_scope(teams_harness.services.engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert [(r.status, r.attempts) for r in rows] == [(OutboxStatus.FAILED, 1)]
    assert "not installed for this person in Teams" in str(rows[0].last_error)
    ana = teams_harness.services.roster.find("email", ANA)
    assert ana is not None
    warnings = [r.getMessage() for r in caplog.records if r.name == "handlers.teams.messenger"]
    assert warnings and ana.id in warnings[0] and "not installed" in warnings[0]
    assert ANA not in caplog.text  # the log names the agent id, never the address


def test_uninstalling_forgets_the_conversation(teams_harness: TeamsHarness) -> None:
    teams_harness.install(ANA)
    assert teams_harness.uninstall(ANA).status_code == 200
    with session_scope(teams_harness.services.engine) as session:
        assert session.exec(select(TeamsConversation)).all() == []
    teams_harness.post_event(hard_call())
    settled(teams_harness.services)
    assert teams_harness.teams.calls("send") == []


def test_agents_are_matched_by_their_entra_upn_when_mail_differs(teams_harness: TeamsHarness) -> None:
    user = teams_harness.user(BOB)
    teams_harness.teams.add_member(
        user.teams_id, aad=user.aad, email="bob.stan@mail.example.com", upn=BOB, name=user.name
    )
    teams_harness.post(teams_harness.activity(BOB, "installationUpdate", action="add"))
    teams_harness.post_event(hard_call(agent_email=BOB))
    (sent,) = teams_harness.teams.wait_for("send")
    assert sent.conversation == user.conversation


# --- check-ins ------------------------------------------------------------------------------------


def test_hard_call_sends_a_checkin_card_with_the_three_choices(teams_harness: TeamsHarness) -> None:
    sent, _ = checkin_card(teams_harness)
    assert sent.conversation == teams_harness.user(ANA).conversation
    assert sent.token and sent.token.count(".") == 2  # the bot authenticated with a JWT
    card = sent.card
    assert verbs(card) == ["checkin.ok", "checkin.break", "checkin.talk"]
    assert [a["data"]["action"] for a in card_actions(card)] == verbs(card)
    text = card_text(card)
    assert "I'm OK" in text and "Take a 5-minute breather" in text and "Talk to someone" in text
    assert "marked abusive" in text
    assert card["fallbackText"] == "A quick check-in after that call"
    settled(teams_harness.services)
    assert len(teams_harness.teams.calls("send")) == 1


def test_clicking_a_choice_records_it_and_updates_the_card_in_place(teams_harness: TeamsHarness) -> None:
    sent, checkin_id = checkin_card(teams_harness)
    activity_id = sent_activity_id(teams_harness, sent)
    response = teams_harness.click(ANA, "checkin.ok", value=checkin_id, reply_to=activity_id)
    assert response.status_code == 200
    assert response.json() == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Got it.",
    }
    (update,) = teams_harness.teams.wait_for("update")
    assert (update.conversation, update.activity_id) == (sent.conversation, activity_id)
    assert "Glad to hear it" in card_text(update.card) and verbs(update.card) == []
    with session_scope(teams_harness.services.engine) as session:
        checkin = session.get(Checkin, checkin_id)
        assert checkin is not None and checkin.answer == "ok"


def test_someone_else_clicking_records_nothing(teams_harness: TeamsHarness) -> None:
    sent, checkin_id = checkin_card(teams_harness)
    teams_harness.install(CRIS)
    response = teams_harness.click(CRIS, "checkin.ok", value=checkin_id, reply_to="act-1")
    assert response.status_code == 200
    settled(teams_harness.services)
    assert teams_harness.teams.calls("update") == []
    with session_scope(teams_harness.services.engine) as session:
        assert session.get(Checkin, checkin_id).answer is None  # type: ignore[union-attr]


def test_a_click_that_records_nothing_says_why_under_the_card(teams_harness: TeamsHarness) -> None:
    sent, checkin_id = checkin_card(teams_harness)
    teams_harness.install(CRIS)
    theirs = teams_harness.click(CRIS, "checkin.ok", value=checkin_id, reply_to="act-1")
    assert theirs.json()["value"] == "This check-in was meant for someone else, so nothing was recorded."
    teams_harness.click(ANA, "checkin.ok", value=checkin_id, reply_to="act-1")
    again = teams_harness.click(ANA, "checkin.break", value=checkin_id, reply_to="act-1")
    assert again.json()["value"] == "You've already answered this check-in. Thank you."


def test_talk_to_someone_posts_the_choice_as_a_card_and_sends_the_request(
    teams_harness: TeamsHarness,
) -> None:
    teams_harness.install(BOB)  # a team mate Ana may choose, who has Breather
    sent, checkin_id = checkin_card(teams_harness)
    response = teams_harness.click(ANA, "checkin.talk", value=checkin_id, reply_to="act-1")
    assert response.json()["value"] == "It's in the card just below."
    form_card = sends_to(teams_harness, teams_harness.user(ANA).conversation)[1].card
    assert verbs(form_card) == ["recovery.talk"]
    (choice,) = inputs(form_card)
    bob = next(c for c in choice["choices"] if "Bob Stan" in c["title"])
    submit = card_actions(form_card)[0]
    answer = teams_harness.click(
        ANA, "recovery.talk", reply_to="act-2", data={**submit["data"], choice["id"]: bob["value"]}
    )
    assert answer.json()["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Sent" in card_text(answer.json()["value"])
    asks = teams_harness.teams.wait_for("send", 4)
    to_bob = [c for c in asks if c.conversation == teams_harness.user(BOB).conversation]
    assert to_bob and "would appreciate a quick chat" in card_text(to_bob[0].card)


# --- pulse surveys ----------------------------------------------------------------------------


@pytest.fixture
def survey_teams(
    make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector, tmp_path: Path
) -> Iterator[TeamsHarness]:
    settings = make_teams_settings(config_path=roster_with(tmp_path, teams=pulse.PULSE_TEAMS))
    app = teams_app(settings, fake_teams, clock=Clock(pulse.T0))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield TeamsHarness(client, app.state.services, fake_teams)


def test_a_survey_is_answered_in_a_card_form_and_scored(survey_teams: TeamsHarness) -> None:
    survey_teams.install(ANA)
    survey_teams.services.survey_actions.start_round("billing")
    (invitation,) = survey_teams.teams.wait_for("send")
    assert verbs(invitation.card) == ["pulse.open", "pulse.skip", "pulse.opt_out"]
    (invitation_id,) = action_values(invitation.card)
    opened = survey_teams.click(ANA, "pulse.open", value=invitation_id, reply_to="act-1")
    assert opened.json()["value"] == "It's in the card just below."
    form = survey_teams.teams.wait_for("send", 2)[1].card
    assert [i["id"] for i in inputs(form)] == [
        "who5_1",
        "who5_2",
        "who5_3",
        "who5_4",
        "who5_5",
        "burnout_single_1",
    ]
    assert all(i["isRequired"] and i["errorMessage"] for i in inputs(form))  # Teams checks before sending
    assert "I have felt cheerful and in good spirits" in card_text(form)
    submit = card_actions(form)[0]
    assert submit["verb"] == "pulse.survey" and submit["associatedInputs"] == "auto"

    values = {**pulse.WHO5_LOW, "burnout_single_1": "3"}
    answer = survey_teams.click(ANA, "pulse.survey", reply_to="act-2", data={**submit["data"], **values})
    reply = answer.json()
    assert reply["type"] == "application/vnd.microsoft.card.adaptive"
    assert "shared after the round closes on Sunday, 29 November" in card_text(reply["value"])
    with session_scope(survey_teams.services.engine) as session:
        rows = {a.instrument: a for a in session.exec(select(SurveyAnswer))}
    assert rows["who5"].score == 48 and rows["burnout_single"].score == 3
    (update,) = survey_teams.teams.wait_for("update")
    assert update.activity_id == "act-1" and verbs(update.card) == []  # the invitation says it's done


def test_a_tampered_survey_submission_is_refused_and_stores_nothing(survey_teams: TeamsHarness) -> None:
    survey_teams.install(ANA)
    survey_teams.services.survey_actions.start_round("billing")
    (invitation,) = survey_teams.teams.wait_for("send")
    (invitation_id,) = action_values(invitation.card)
    survey_teams.click(ANA, "pulse.open", value=invitation_id, reply_to="act-1")
    submit = card_actions(survey_teams.teams.wait_for("send", 2)[1].card)[0]
    partial = {k: v for k, v in pulse.WHO5_OK.items() if k != "who5_3"}
    reply = survey_teams.click(ANA, "pulse.survey", reply_to="act-2", data={**submit["data"], **partial})
    assert reply.json()["value"] == "Please choose an answer."
    with session_scope(survey_teams.services.engine) as session:
        assert session.exec(select(SurveyAnswer)).all() == []


# --- compliments and kudos ----------------------------------------------------------------------


def compliment_card(harness: TeamsHarness) -> tuple[ConnectorCall, str]:
    harness.install(ANA)
    event = {
        "type": "feedback",
        "event_id": f"fb-{uuid.uuid4().hex[:8]}",
        "agent_email": ANA,
        "rating": "good",
        "comment": "Ana was so patient! Call me on 0722 123 456 if needed.",
        "source": "survey",
    }
    assert harness.post_event(event).status_code == 202
    (sent,) = harness.teams.wait_for("send")
    (compliment_id,) = action_values(sent.card)
    return sent, compliment_id


def test_sharing_a_compliment_posts_it_to_the_team_channel_with_consent(
    make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector, tmp_path: Path
) -> None:
    config = roster_with(tmp_path, teams={"billing": {"channel": TEAM_CHANNEL}})
    app = teams_app(make_teams_settings(config_path=config), fake_teams)
    with TestClient(app, raise_server_exceptions=False) as client:
        harness = TeamsHarness(client, app.state.services, fake_teams)
        dm, compliment_id = compliment_card(harness)
        assert verbs(dm.card) == ["compliment.share", "compliment.keep_private"]
        assert "Ana was so patient!" in card_text(dm.card) and "0722" not in card_text(dm.card)
        assert fake_teams.calls("send", conversation=TEAM_CHANNEL) == []  # nothing without consent
        harness.click(ANA, "compliment.share", value=compliment_id, reply_to="act-1")
        post = next(c for c in fake_teams.wait_for("send", 2) if c.conversation == TEAM_CHANNEL)
        settled(harness.services)
        with session_scope(harness.services.engine) as session:
            compliment = session.get(Compliment, compliment_id)
    assert compliment is not None and compliment.status == ComplimentStatus.SHARED
    assert (compliment.post_channel, compliment.post_ts) == (TEAM_CHANNEL, "act-2")
    shown = json.dumps(post.card)
    assert "Ana was so patient!" in shown and "0722" not in shown
    # The customer's words are a TextRun: Teams renders no markdown or links from them.
    quotes = [e for e in post.card["body"] if e["type"] == "Container"]
    runs = [run for quote in quotes for block in quote["items"] for run in block["inlines"]]
    assert runs and "Ana was so patient!" in runs[0]["text"]
    ana = {"id": harness.user(ANA).teams_id, "name": "Ana Popescu"}
    assert post.card["msteams"]["entities"] == [
        {"type": "mention", "text": "<at>Ana Popescu</at>", "mentioned": ana}
    ]
    assert "<at>Ana Popescu</at>" in card_text(post.card)
    assert verbs(post.card) == []
    (update,) = fake_teams.calls("update")
    assert "Shared in your team channel" in card_text(update.card)
    assert verbs(update.card) == ["compliment.remove"]


def test_keeping_a_compliment_private_posts_nothing(teams_harness: TeamsHarness) -> None:
    _, compliment_id = compliment_card(teams_harness)
    teams_harness.click(ANA, "compliment.keep_private", value=compliment_id, reply_to="act-1")
    (update,) = teams_harness.teams.wait_for("update")
    assert "Kept just for you" in card_text(update.card)
    settled(teams_harness.services)
    assert len(teams_harness.teams.calls("send")) == 1


def test_removing_a_shared_compliment_deletes_the_channel_post(teams_harness: TeamsHarness) -> None:
    _, compliment_id = compliment_card(teams_harness)
    teams_harness.click(ANA, "compliment.share", value=compliment_id, reply_to="act-1")
    teams_harness.teams.wait_for("send", 2)
    settled(teams_harness.services)
    teams_harness.click(ANA, "compliment.remove", value=compliment_id, reply_to="act-1")
    (deleted,) = teams_harness.teams.wait_for("delete")
    assert (deleted.conversation, deleted.activity_id) == ("C0BILLING", "act-2")


def dialog_card(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    task = response.json()["task"]
    assert task["type"] == "continue"
    return dict(task["value"]["card"]["content"])


def test_share_as_a_compliment_on_a_message_asks_who_then_asks_the_agent(teams_harness: TeamsHarness) -> None:
    teams_harness.install(RADU)
    teams_harness.install(ANA)
    forwarded = "<p>Fwd from a customer: <b>Ana</b> was so patient! Call me on 0722 123 456</p>"
    opened = teams_harness.message_action(
        RADU, "compliment_from_message", message_id="1700000000001", html=forwarded, channel=TEAM_CHANNEL
    )
    form = dialog_card(opened)
    shown = card_text(form)
    assert "Ana was so patient!" in shown and "0722" not in shown and "<b>" not in shown
    (picker,) = inputs(form)
    assert picker["choices.data"]["dataset"] == "graph.microsoft.com/users"
    (submit,) = [a for e in form["body"] if e["type"] == "ActionSet" for a in e["actions"]]
    assert submit["type"] == "Action.Submit"  # dialogs take Action.Submit, not Universal Actions
    assert fake_sends_to(teams_harness, ANA) == []  # nothing reaches Ana before someone is chosen
    data = {**submit["data"], picker["id"]: teams_harness.user(ANA).aad}
    notice = dialog_card(teams_harness.submit_dialog(RADU, "compliment_from_message", data))
    assert "sent" in card_text(notice).lower()
    (dm,) = teams_harness.teams.wait_for("send")
    assert dm.conversation == teams_harness.user(ANA).conversation
    assert verbs(dm.card) == ["compliment.share", "compliment.keep_private"]
    assert "Ana was so patient!" in card_text(dm.card) and "0722" not in card_text(dm.card)
    assert fake_sends_to(teams_harness, TEAM_CHANNEL) == []  # the channel only with Ana's consent


def test_share_as_a_compliment_refuses_someone_not_on_the_roster(teams_harness: TeamsHarness) -> None:
    teams_harness.install(RADU)
    form = dialog_card(
        teams_harness.message_action(RADU, "compliment_from_message", message_id="1", html="<p>Thanks!</p>")
    )
    (picker,) = inputs(form)
    (submit,) = [a for e in form["body"] if e["type"] == "ActionSet" for a in e["actions"]]
    stranger = teams_harness.user("stranger@example.com").aad
    answer = teams_harness.submit_dialog(
        RADU, "compliment_from_message", {**submit["data"], picker["id"]: stranger}
    )
    assert answer.json()["task"]["type"] == "message"  # a short line; nothing is sent to anyone
    settled(teams_harness.services)
    assert teams_harness.teams.calls("send") == []


def test_remove_my_compliment_on_the_channel_post_takes_it_down(teams_harness: TeamsHarness) -> None:
    _, compliment_id = compliment_card(teams_harness)
    teams_harness.click(ANA, "compliment.share", value=compliment_id, reply_to="act-1")
    post = next(c for c in teams_harness.teams.wait_for("send", 2) if c.conversation == "C0BILLING")
    settled(teams_harness.services)
    answer = teams_harness.message_action(
        ANA, "compliment_remove_post", message_id="act-2", html=card_text(post.card), channel="C0BILLING"
    )
    assert "gone from the channel" in card_text(dialog_card(answer))
    (deleted,) = teams_harness.teams.wait_for("delete")
    assert (deleted.conversation, deleted.activity_id) == ("C0BILLING", "act-2")
    closed = teams_harness.submit_dialog(ANA, "compliment_remove_post", {"action": "compliment.notice"})
    assert closed.status_code == 200 and not closed.json().get("task")


def fake_sends_to(harness: TeamsHarness, who: str) -> list[ConnectorCall]:
    """What Breather sent to a person's chat (their e-mail address) or to a channel (its id)."""
    conversation = harness.user(who).conversation if who in (ANA, BOB, CRIS, RADU) else who
    return harness.teams.calls("send", conversation=conversation)


def test_kudos_typed_in_a_channel_are_posted_crediting_both_people(teams_harness: TeamsHarness) -> None:
    teams_harness.install(CRIS)
    teams_harness.install(ANA)
    user = teams_harness.user(ANA)
    teams_harness.say(
        CRIS,
        f"kudos <at>{user.name}</at> thanks for covering my queue!",
        mentions=[ANA],
        channel=TEAM_CHANNEL,
    )
    sent = teams_harness.teams.wait_for("send", 2)
    (post,) = [c for c in sent if c.conversation == "C0BILLING"]
    assert "thanks for covering my queue!" in json.dumps(post.card)
    ids = {e["mentioned"]["id"] for e in post.card["msteams"]["entities"]}
    assert ids == {user.teams_id, teams_harness.user(CRIS).teams_id}
    (reply,) = [c for c in sent if c.conversation == teams_harness.user(CRIS).conversation]
    assert "Kudos posted" in card_text(reply.card)  # answered privately
    assert teams_harness.teams.calls("send", conversation=TEAM_CHANNEL) == []  # no reply in front of all
    with session_scope(teams_harness.services.engine) as session:
        assert len(session.exec(select(Kudos)).all()) == 1


def test_kudos_by_email_address_work_in_a_private_chat(teams_harness: TeamsHarness) -> None:
    teams_harness.install(CRIS)
    teams_harness.say(CRIS, "kudos bob@example.com thanks for the help")
    post = next(c for c in teams_harness.teams.wait_for("send", 2) if c.conversation == "C0BILLING")
    assert "Bob Stan" in card_text(post.card) and "thanks for the help" in json.dumps(post.card)


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("kudos", "Who are the kudos for?"),
        ("kudos cris@example.com well done me", "Kudos are for someone else"),
        ("kudos zed@example.com thanks", "only pass kudos to people on a Breather team"),
    ],
    ids=["nobody", "self", "not on roster"],
)
def test_kudos_refusals_are_answered_privately_and_post_nothing(
    teams_harness: TeamsHarness, text: str, reply: str
) -> None:
    teams_harness.install(CRIS)
    teams_harness.say(CRIS, text)
    (answer,) = teams_harness.teams.wait_for("send")
    assert answer.conversation == teams_harness.user(CRIS).conversation and reply in card_text(answer.card)
    settled(teams_harness.services)
    assert teams_harness.teams.calls("send", conversation="C0BILLING") == []


# --- commands and the home card -------------------------------------------------------------------


def test_breather_commands_in_chat_pause_and_resume_checkins(teams_harness: TeamsHarness) -> None:
    teams_harness.install(ANA)
    assert teams_harness.say(ANA, "breather pause").status_code == 200
    assert "Paused" in card_text(teams_harness.teams.wait_for("send")[0].card)
    teams_harness.post_event(hard_call())
    settled(teams_harness.services)
    assert len(teams_harness.teams.calls("send")) == 1
    teams_harness.say(ANA, "resume")  # in a 1:1 chat the command word may be left out
    assert "Welcome back" in card_text(teams_harness.teams.wait_for("send", 2)[1].card)


def test_a_lead_who_is_not_an_agent_hears_pause_is_for_agents(teams_harness: TeamsHarness) -> None:
    teams_harness.install(RADU)
    teams_harness.say(RADU, "breather pause")
    reply = card_text(teams_harness.teams.wait_for("send")[0].card)
    assert "nothing for you to pause or resume" in reply and "not on a Breather team" not in reply


def test_privacy_and_help_answer_in_the_chat(teams_harness: TeamsHarness) -> None:
    teams_harness.install(ANA)
    teams_harness.say(ANA, "/breather privacy")
    assert "Who can see what" in card_text(teams_harness.teams.wait_for("send")[0].card)


def test_a_command_in_a_channel_from_someone_without_a_private_chat_points_them_there(
    teams_harness: TeamsHarness,
) -> None:
    teams_harness.say(ANA, "breather privacy", channel=TEAM_CHANNEL)
    (answer,) = teams_harness.teams.wait_for("send")
    assert answer.conversation == TEAM_CHANNEL and "private chat" in answer.text
    assert "Who can see what" not in json.dumps(answer.body)


def test_breather_home_posts_the_home_card_and_refreshes_it_in_place(teams_harness: TeamsHarness) -> None:
    teams_harness.install(ANA)
    teams_harness.say(ANA, "breather pause")  # no home card asked for yet: nothing but the reply
    teams_harness.teams.wait_for("send")
    settled(teams_harness.services)
    assert len(teams_harness.teams.calls("send")) == 1
    teams_harness.say(ANA, "breather home")
    home = teams_harness.teams.wait_for("send", 2)[1]
    assert "Check-ins are **paused**" in card_text(home.card)
    assert verbs(home.card) == [
        "home.resume",
        "home.surveys_off",
        "home.buddy_on",
        "home.language.en",
        "home.language.fa",
        "home.language.ro",
    ]
    teams_harness.click(ANA, "home.resume", reply_to="act-2")
    (update,) = teams_harness.teams.wait_for("update")
    assert update.activity_id == "act-2" and "Check-ins are **on**" in card_text(update.card)
    settled(teams_harness.services)
    assert len(teams_harness.teams.calls("send")) == 2


def test_a_lead_gets_the_digest_and_its_chart_in_their_chat(teams_harness: TeamsHarness) -> None:
    teams_harness.install(RADU)
    teams_harness.say(RADU, "breather digest")
    sent = teams_harness.teams.wait_for("send", 2)
    reply = next(
        c for c in sent if "Billing support" in card_text(c.card) and "Image" not in json.dumps(c.card)
    )
    assert "Team-level only" in card_text(reply.card)
    chart = next(c for c in sent if any(e["type"] == "Image" for e in c.card["body"]))
    image = next(e for e in chart.card["body"] if e["type"] == "Image")
    assert image["url"].startswith("data:image/png;base64,") and image["altText"]
    assert base64.b64decode(image["url"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    with session_scope(teams_harness.services.engine) as session:
        reads = session.exec(select(DigestAccess)).all()
    # The works council's audit names the platform the lead read it on (it said "slack command").
    assert [(r.team_id, r.via) for r in reads] == [("billing", "teams command")]


# --- throttling through the outbox -----------------------------------------------------------------


def test_a_429_is_retried_after_retry_after_and_delivered_once(teams_harness: TeamsHarness) -> None:
    teams_harness.install(ANA)
    teams_harness.teams.fail_next("send", 429, retry_after=1)
    teams_harness.post_event(hard_call())
    first, second = teams_harness.teams.wait_for("send", 2, timeout=15)
    assert second.at - first.at >= 0.9
    settled(teams_harness.services)
    assert len(teams_harness.teams.calls("send")) == 2


def test_server_errors_are_retried_and_client_errors_are_not(teams_harness: TeamsHarness) -> None:
    teams_harness.install(ANA)
    teams_harness.teams.fail_next("send", 502)
    teams_harness.post_event(hard_call())
    teams_harness.teams.wait_for("send", 2, timeout=15)
    settled(teams_harness.services)
    teams_harness.install(BOB)
    teams_harness.teams.fail_next("send", 400)
    teams_harness.post_event(hard_call(agent_email=BOB))
    settled(teams_harness.services)
    assert len(teams_harness.teams.calls("send")) == 3
    with session_scope(teams_harness.services.engine) as session:
        statuses = sorted(r.status for r in session.exec(select(OutboxMessage)))
    assert statuses == [OutboxStatus.FAILED, OutboxStatus.SENT]


@pytest.fixture
def teams_paced(make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector) -> Iterator[TeamsHarness]:
    """The Teams app at the platform's own send pace (the other tests run at a faster one)."""
    app = teams_app(make_teams_settings(send_pace_seconds=None), fake_teams)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield TeamsHarness(client, app.state.services, fake_teams)


def test_messages_to_one_conversation_are_paced_within_teams_limits(teams_paced: TeamsHarness) -> None:
    teams_harness = teams_paced
    teams_harness.install(ANA)
    teams_harness.install(BOB)
    services = teams_harness.services
    ana, bob = services.roster.find("email", ANA), services.roster.find("email", BOB)
    assert ana is not None and bob is not None
    note = Message(text="note", parts=(Text(text="note"),))
    with session_scope(services.engine) as session:
        for n in range(3):
            key = f"pace:ana:{n}"
            services.outbox.send_direct(session, key=key, to=ana.ref(), message=note, now=utcnow())
        services.outbox.send_direct(session, key="pace:bob", to=bob.ref(), message=note, now=utcnow())
    teams_harness.teams.wait_for("send", 4)
    chats = {email: teams_harness.user(email).conversation for email in (ANA, BOB)}
    to_ana = [c.at for c in teams_harness.teams.calls("send", conversation=chats[ANA])]
    assert len(to_ana) == 3
    # Two a second per conversation at most (Teams allows 7 a second, 60 in 30 seconds)...
    assert all(later - earlier >= 0.45 for earlier, later in zip(to_ana, to_ana[1:], strict=False))
    # ...while another person's chat is not held up behind them.
    (to_bob,) = teams_harness.teams.calls("send", conversation=chats[BOB])
    assert to_bob.at < to_ana[1]


# --- the endpoint -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"type": "message"}', "application/json", 422),
        (b'{"hello": "world"}', "application/json", 422),
        (b"{}", "text/plain", 415),
        (b"x" * (1024 * 1024 + 1), "application/json", 413),
    ],
    ids=["not json", "not an object", "incomplete activity", "not an activity", "wrong type", "too big"],
)
def test_bad_input_gets_a_clear_4xx(
    shared_teams_harness: TeamsHarness, body: bytes, content_type: str, status: int
) -> None:
    response = shared_teams_harness.post(body, headers={"Content-Type": content_type})
    assert response.status_code == status and response.json()["error"]


def test_unknown_card_actions_are_refused_with_400(teams_harness: TeamsHarness) -> None:
    teams_harness.install(ANA)
    response = teams_harness.click(ANA, "nothing.like.this", reply_to="act-1")
    assert response.status_code == 200  # an invoke answer: the error travels in the body
    assert response.json()["statusCode"] == 400


@pytest.fixture
def signed_teams(make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector) -> Iterator[TeamsHarness]:
    """Inbound JWT validation on, as in production, against the fake connector's signing keys."""
    app = teams_app(make_teams_settings(), fake_teams, sign=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield TeamsHarness(client, app.state.services, fake_teams, sign=True)


def test_activities_signed_by_the_bot_framework_are_accepted(signed_teams: TeamsHarness) -> None:
    assert signed_teams.install(ANA).status_code == 200
    with session_scope(signed_teams.services.engine) as session:
        assert len(session.exec(select(TeamsConversation)).all()) == 1


def test_unsigned_or_forged_activities_are_refused(signed_teams: TeamsHarness) -> None:
    body = signed_teams.activity(ANA, "installationUpdate", action="add")
    signed_teams.sign = False
    assert signed_teams.post(body).status_code == 401
    forged = signed_teams.teams.sign_activity(app_id="another-app", service_url=signed_teams.teams.url)
    assert signed_teams.post(body, headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    stale = signed_teams.teams.sign_activity(
        app_id=APP_ID, service_url=signed_teams.teams.url, lifetime_s=-900
    )
    assert signed_teams.post(body, headers={"Authorization": f"Bearer {stale}"}).status_code == 401
    with session_scope(signed_teams.services.engine) as session:
        assert session.exec(select(TeamsConversation)).all() == []


def test_the_production_wiring_validates_tokens(make_teams_settings: MakeSettings) -> None:
    from bot.app import create_app

    app = create_app(make_teams_settings())
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/api/messages", json={"type": "message", "text": "hi"})
    assert response.status_code == 401


def test_logs_never_contain_what_people_typed(
    make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = teams_app(make_teams_settings(), fake_teams)
    with TestClient(app, raise_server_exceptions=False) as client:
        teams_harness = TeamsHarness(client, app.state.services, fake_teams)
        teams_harness.install(CRIS)
        teams_harness.say(CRIS, "kudos bob@example.com a very secret thank-you 7f3a")
        teams_harness.teams.wait_for("send", 2)
        settled(teams_harness.services)
    # The app has stopped: everything it was still doing has logged by now.
    assert "7f3a" not in caplog.text


def test_the_thank_you_card_offers_support_when_the_persons_own_who5_needs_follow_up(
    make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector, tmp_path: Path
) -> None:
    config = roster_with(tmp_path, teams=pulse.PULSE_TEAMS, support_resources=[pulse.SUPPORT])
    app = teams_app(make_teams_settings(config_path=config), fake_teams, clock=pulse.Clock(pulse.T0))
    with TestClient(app, raise_server_exceptions=False) as client:
        harness = TeamsHarness(client, app.state.services, fake_teams)
        harness.install(ANA)
        harness.services.survey_actions.start_round("billing")
        (invitation,) = harness.teams.wait_for("send")
        (invitation_id,) = action_values(invitation.card)
        harness.click(ANA, "pulse.open", value=invitation_id, reply_to="act-1")
        submit = card_actions(harness.teams.wait_for("send", 2)[1].card)[0]

        values = {**pulse.WHO5_ONE_ITEM_LOW, "burnout_single_1": "1"}  # index 52, one item at 1
        reply = harness.click(ANA, "pulse.survey", reply_to="act-2", data={**submit["data"], **values}).json()

        shown = card_text(reply["value"])
        assert "shared after the round closes" in shown
        assert "Employee assistance line" in shown and "0800 123 456" in shown
        assert "Free and confidential." in shown and "been heavy" in shown
