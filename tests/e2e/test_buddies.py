"""Breather buddies (issue 16, point 1): opt in, "a buddy who's on shift now" under "Talk to
someone", one discreet ask, "can't" tries another buddy once, a daily cap and rotation; in
Slack, Teams and the console, and nothing about it reaches a manager."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from bot.app import create_app
from storage.db import session_scope
from storage.models import AgentPrefs, BuddyAsk, TalkRequest
from tests.conftest import Harness, MakeSettings, hard_call, teams_app
from tests.e2e.test_recovery_talk import options, submit
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.helpers import action_ids, button_values, roster_with, settled
from tests.teams_harness import TeamsHarness, action_values, card_actions, card_text, inputs, verbs

BUDDY = "A buddy who's on shift now"


@pytest.fixture
def buddies(make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Harness]:
    roster = roster_with(tmp_path, checkin_cooldown_minutes=0.001, buddy_asks_per_day=1)
    app = create_app(make_settings(config_path=roster))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Harness(client, app.state.services, fake_slack)


def say(harness: Harness, user_id: str, text: str) -> str:
    return str(harness.command(user_id=user_id, command="/breather", text=text).json()["text"])


def dms(slack: FakeSlack, channel: str) -> list[Any]:
    return [c for c in slack.calls("chat.postMessage") if c.params["channel"] == channel]


def ask_for_talk(harness: Harness, user_id: str, email: str) -> tuple[str, dict[str, Any]]:
    """A hard call for `email`, their tap on "Talk to someone": the check-in id and the modal."""
    harness.post_event(hard_call(agent_email=email))
    settled(harness.services)
    channel = "D" + user_id[1:]
    post = [p for p in dms(harness.slack, channel) if "checkin.talk" in action_ids(p.params["blocks"])][-1]
    (checkin_id,) = button_values(post.params["blocks"])
    opened = len(harness.slack.calls("views.open"))
    harness.click(user_id=user_id, channel=channel, ts="1.1", action_id="checkin.talk", value=checkin_id)
    return checkin_id, harness.slack.wait_for("views.open", opened + 1)[-1].params["view"]


def answer(harness: Harness, user_id: str, ask: Any, action: str) -> Any:
    (ask_id,) = button_values(ask.params["blocks"])
    return harness.click(
        user_id=user_id, channel=ask.params["channel"], ts="2.2", action_id=action, value=ask_id
    )


def test_a_buddy_on_shift_is_asked_discreetly_and_cant_finds_another_once(buddies: Harness) -> None:
    assert say(buddies, "U0CRIS", "buddy on").startswith("Thank you: you're a buddy now.")
    assert say(buddies, "U0DANA", "buddy on").startswith("Thank you: you're a buddy now.")
    assert say(buddies, "U0DANA", "buddy on").startswith("You're already a buddy.")
    checkin_id, view = ask_for_talk(buddies, "U0ANA", "ana@example.com")
    assert list(options(view))[0] == BUDDY  # names nobody in advance
    assert submit(buddies, checkin_id, "buddy:any").text == ""
    first = buddies.slack.wait_for("chat.postMessage", 3)
    settled(buddies.services)
    (asked,) = [c for c in first if c.params["channel"] in ("D0CRIS", "D0DANA")]
    assert asked.params["text"] == "Ana Popescu would appreciate a quick chat with a buddy. Are you free?"
    assert action_ids(asked.params["blocks"]) == ["buddy.free", "buddy.cant"]
    assert (
        "abusive" not in json.dumps(asked.params).lower() and "hard" not in json.dumps(asked.params).lower()
    )
    assert dms(buddies.slack, "D0ANA")[-1].params["text"].startswith("I've asked a buddy who's on shift now.")

    answer(buddies, asked.params["channel"].replace("D", "U", 1), asked, "buddy.cant")
    second = buddies.slack.wait_for("chat.postMessage", 4)[-1]
    assert (
        second.params["channel"] in ("D0CRIS", "D0DANA")
        and second.params["channel"] != asked.params["channel"]
    )
    answer(buddies, second.params["channel"].replace("D", "U", 1), second, "buddy.free")
    heard = buddies.slack.wait_for("chat.postMessage", 5)[-1]
    name = "Cris" if second.params["channel"] == "D0CRIS" else "Dana"
    assert heard.params["channel"] == "D0ANA"
    assert (
        heard.params["text"]
        == f"{name} is free now for a quick chat. Reach out to them whenever you're ready."
    )
    thanks = [u.params["text"] for u in buddies.slack.wait_for("chat.update", 3)]
    assert "No problem, thanks for letting me know." in thanks
    assert "Thank you. Ana Popescu knows you're free now: reach out to them when you can." in thanks
    again = answer(buddies, second.params["channel"].replace("D", "U", 1), second, "buddy.cant")
    assert again.status_code == 200
    notice = buddies.slack.wait_for("views.open", 2)[-1].params["view"]
    assert "already answered" in json.dumps(notice)
    with session_scope(buddies.services.engine) as session:
        (request,) = session.exec(select(TalkRequest)).all()
        assert request.kind == "buddy"
        assert sorted(a.state for a in session.exec(select(BuddyAsk))) == ["cant", "free"]


def test_asks_rotate_keep_the_daily_cap_and_skip_paused_buddies_and_the_asker(buddies: Harness) -> None:
    for user in ("U0ANA", "U0CRIS", "U0DANA"):
        say(buddies, user, "buddy on")
    say(buddies, "U0DANA", "pause for 2 hours")
    checkin_id, _ = ask_for_talk(buddies, "U0ANA", "ana@example.com")
    submit(buddies, checkin_id, "buddy:any")
    buddies.slack.wait_for("chat.postMessage", 3)
    settled(buddies.services)
    assert [c.params["channel"] for c in buddies.slack.calls("chat.postMessage")][1:] in (
        ["D0CRIS", "D0ANA"],
        ["D0ANA", "D0CRIS"],
    )  # not Dana (paused), not Ana herself
    say(buddies, "U0DANA", "resume")
    for _ in range(2):  # Ana and Dana, never asked yet, in turn; Cris has had today's one
        checkin_id, _ = ask_for_talk(buddies, "U0EMIL", "emil@example.com")
        assert submit(buddies, checkin_id, "buddy:any", "U0EMIL").text == ""
        settled(buddies.services)
    assert [len(dms(buddies.slack, c)) for c in ("D0CRIS", "D0DANA")] == [1, 1]
    checkin_id, _ = ask_for_talk(buddies, "U0EMIL", "emil@example.com")
    refused = submit(buddies, checkin_id, "buddy:any", "U0EMIL").json()
    assert refused["response_action"] == "errors"
    assert "No buddy is free on shift right now." in json.dumps(refused)


def test_the_home_tab_offers_being_a_buddy_and_nobody_else_sees_it(buddies: Harness) -> None:
    buddies.click(user_id="U0CRIS", channel="D0CRIS", ts="1.1", action_id="home.buddy_on", value="")
    home = buddies.slack.wait_for("views.publish")[0].params["view"]
    assert "You're a *buddy*" in json.dumps(home) and "home.buddy_off" in action_ids(home["blocks"])
    with session_scope(buddies.services.engine) as session:
        assert [p.buddy for p in session.exec(select(AgentPrefs))] == [True]
    settled(buddies.services)
    assert buddies.slack.calls("chat.postMessage") == []  # nobody, the team lead included, is told
    assert say(buddies, "U0CRIS", "buddy").startswith("Type `/breather buddy on`")
    assert say(buddies, "U0CRIS", "buddy off").startswith("You're no longer a buddy.")


def test_teams_buddies_opt_in_from_the_chat_and_answer_on_the_card(
    make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector
) -> None:
    app = teams_app(make_teams_settings(), fake_teams)
    with TestClient(app, raise_server_exceptions=False) as client:
        teams = TeamsHarness(client, app.state.services, fake_teams)
        ana, cris = "ana@example.com", "cris@example.com"
        teams.install(cris)
        teams.say(cris, "breather buddy on")
        assert "you're a buddy now" in card_text(fake_teams.wait_for("send")[0].card)
        teams.install(ana)
        assert teams.post_event(hard_call()).status_code == 202
        sent = fake_teams.wait_for("send", 2)[1]
        (checkin_id,) = action_values(sent.card)
        teams.click(ana, "checkin.talk", value=checkin_id, reply_to="act-1")
        form = fake_teams.wait_for("send", 3)[2].card
        assert verbs(form) == ["recovery.talk"]
        (choice,) = inputs(form)
        buddy = next(c for c in choice["choices"] if c["title"] == BUDDY)
        data = {**card_actions(form)[0]["data"], choice["id"]: buddy["value"]}
        teams.click(ana, "recovery.talk", reply_to="act-2", data=data)
        asks = fake_teams.wait_for("send", 5)
        to_cris = [c for c in asks if c.conversation == teams.user(cris).conversation][-1]
        assert "would appreciate a quick chat with a buddy" in card_text(to_cris.card)
        (ask_id,) = action_values(to_cris.card)
        answered = teams.click(cris, "buddy.free", value=ask_id, reply_to="act-3")
        assert answered.status_code == 200
        heard = fake_teams.wait_for("send", 6)[-1]
        assert heard.conversation == teams.user(ana).conversation
        assert "Cris is free now" in card_text(heard.card)


def test_the_console_offers_a_buddy_in_talk_to_someone(make_settings: MakeSettings) -> None:
    from tests.e2e.test_console import Console, checkin_buttons, console_client, dm_html, hard_call_for

    settings = make_settings(messenger="sandbox", slack_bot_token=None, slack_signing_secret=None)
    app = create_app(settings)
    ana, cris = "ana@example.com", "cris@example.com"
    with console_client(app) as client:
        console = Console(client, app)
        assert "buddy now" in console.post("command", cris, text="/breather buddy on").json()["html"]
        hard_call_for(console, ana)
        ts, checkin_id = checkin_buttons(console.wait_for(ana, lambda v: "checkin.talk" in dm_html(v)))
        console.post("click", ana, ts=ts, action_id="checkin.talk", value=checkin_id, block_id="checkin")
        modal = console.wait_for(
            ana, lambda v: 'value="buddy:any"' in (v.get("modal") or {}).get("html", "")
        )["modal"]
        sent = console.post("modal/submit", ana, trigger=modal["trigger"], values={"person": "buddy:any"})
        assert sent.json()["closed"] is True
        asked = console.wait_for(cris, lambda v: "buddy.free" in dm_html(v))
        message = dm_html(asked).split('data-action-id="buddy.free" data-value="', 1)[1]
        ask_id = message.split('"', 1)[0]
        (ask_ts,) = [m["ts"] for m in next(p for p in asked["panes"] if p["id"] == "dm")["messages"]]
        console.post("click", cris, ts=ask_ts, action_id="buddy.free", value=ask_id, block_id="buddy")
        console.wait_for(ana, lambda v: "Cris is free now for a quick chat." in dm_html(v))
        assert "buddy" not in json.dumps(console.view("radu@example.com")).lower()  # the lead sees nothing
