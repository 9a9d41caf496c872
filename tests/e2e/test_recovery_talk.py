"""Talk to someone, through the fake Slack: the click opens the choice, the signed submission
sends one discreet DM to the chosen person, and nothing links the two afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select
from starlette.testclient import TestClient

from bot.app import create_app
from storage.db import session_scope
from storage.models import ChatAddress, OutboxMessage, TalkRequest
from tests.conftest import Harness, MakeSettings, hard_call
from tests.fakes.slack_api import FakeSlack
from tests.helpers import action_ids, button_values, roster_with, settled

RESOURCES = [
    {"name": "Employee assistance line", "contact": "0800 123 456", "note": "Free and confidential, 24/7."},
    {"name": "Peer supporter Mara", "contact": "mara@example.com"},
]


@pytest.fixture
def talk(make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Harness]:
    fake_slack.add_user("U0RADU", "radu@example.com")  # the billing team's lead, not an agent
    roster = roster_with(tmp_path, support_resources=RESOURCES)
    app = create_app(make_settings(config_path=roster))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Harness(client, app.state.services, fake_slack)


def open_talk(harness: Harness) -> tuple[str, dict[str, Any]]:
    """Ana's hard call, her tap on "Talk to someone"; returns the check-in id and the modal."""
    harness.post_event(hard_call())
    post = harness.slack.wait_for("chat.postMessage")[0]
    (checkin_id,) = button_values(post.params["blocks"])
    response = harness.click(
        user_id="U0ANA", channel="D0ANA", ts="1700000000.000001", action_id="checkin.talk", value=checkin_id
    )
    assert response.status_code == 200
    opened = harness.slack.wait_for("views.open")[0]
    assert opened.params["trigger_id"].startswith("sandbox.")  # the click's own trigger
    return checkin_id, opened.params["view"]


def options(view: dict[str, Any]) -> dict[str, str]:
    """{label: value} of the modal's choice of person."""
    (field,) = [b for b in view["blocks"] if b["type"] == "input"]
    return {o["text"]["text"]: o["value"] for o in field["element"]["options"]}


def submit(harness: Harness, checkin_id: str, value: str, user_id: str = "U0ANA") -> Any:
    return harness.submit_view(
        user_id=user_id, callback_id="recovery.talk", private_metadata=checkin_id, values={"person": value}
    )


def dms_to(slack: FakeSlack, channel: str) -> list[str]:
    return [str(c.params["text"]) for c in slack.calls("chat.postMessage") if c.params["channel"] == channel]


def test_talk_opens_the_choice_and_only_the_chosen_team_mate_gets_a_discreet_dm(talk: Harness) -> None:
    checkin_id, view = open_talk(talk)
    assert view["callback_id"] == "recovery.talk"
    choices = options(view)
    assert list(choices) == [
        "Radu (team lead)",
        "Bob Stan (team mate)",
        "Cris (team mate)",
        "Dana (team mate)",
        "Emil (team mate)",
        "Employee assistance line (support)",
        "Peer supporter Mara (support)",
    ]
    assert "0800 123 456" in str(view["blocks"])  # support contacts are shown to Ana herself
    update = talk.slack.wait_for("chat.update")[0]
    assert "Reaching out helps" in update.params["text"]
    assert action_ids(update.params["blocks"]) == ["checkin.talk"]  # a way back to the choice
    settled(talk.services)
    assert len(talk.slack.calls("chat.postMessage")) == 1  # nobody has been contacted yet

    response = submit(talk, checkin_id, choices["Bob Stan (team mate)"])
    assert response.status_code == 200 and response.text == ""  # the modal closes
    talk.slack.wait_for("chat.postMessage", 3)
    settled(talk.services)
    (ask,) = dms_to(talk.slack, "D0BOB")
    assert ask == "Ana Popescu would appreciate a quick chat when you have a moment."
    assert "hard" not in str(talk.slack.calls("chat.postMessage")[-2:]).lower()  # nothing about why
    assert dms_to(talk.slack, "D0ANA")[-1] == "I've let Bob Stan know you'd appreciate a quick chat."
    with session_scope(talk.services.engine) as session:
        (request,) = session.exec(select(TalkRequest)).all()
        assert request.kind == "mate" and request.team_id == "billing"
        bob = talk.services.roster.find("email", "bob@example.com")
        assert bob is not None and bob.id not in request.model_dump_json()
        for row in session.exec(select(OutboxMessage)):
            assert row.target == {} and row.payload == {}  # delivered: who and what are forgotten


def test_the_team_lead_is_found_by_email_and_nothing_is_kept_about_them(talk: Harness) -> None:
    checkin_id, view = open_talk(talk)
    assert submit(talk, checkin_id, options(view)["Radu (team lead)"]).text == ""
    talk.slack.wait_for("chat.postMessage", 3)
    settled(talk.services)
    assert [c.params["email"] for c in talk.slack.calls("users.lookupByEmail")] == ["radu@example.com"]
    assert dms_to(talk.slack, "D0RADU") == [
        "Ana Popescu would appreciate a quick chat when you have a moment."
    ]
    with session_scope(talk.services.engine) as session:
        assert session.exec(select(TalkRequest)).one().kind == "lead"
        assert session.exec(select(ChatAddress).where(ChatAddress.user_id == "U0RADU")).first() is None


def test_choosing_a_support_resource_contacts_nobody_else(talk: Harness) -> None:
    checkin_id, view = open_talk(talk)
    assert submit(talk, checkin_id, options(view)["Employee assistance line (support)"]).text == ""
    talk.slack.wait_for("chat.postMessage", 2)
    settled(talk.services)
    posts = talk.slack.calls("chat.postMessage")
    assert [p.params["channel"] for p in posts] == ["D0ANA", "D0ANA"]
    assert posts[1].params["text"] == "Here's how to reach Employee assistance line: 0800 123 456"
    assert "Free and confidential" in str(posts[1].params["blocks"])


def test_a_forged_choice_is_refused_in_the_modal_and_sends_nothing(talk: Harness) -> None:
    checkin_id, _ = open_talk(talk)
    nora = talk.services.roster.find("email", "nora@example.com")  # on another team
    assert nora is not None
    response = submit(talk, checkin_id, f"mate:{nora.id}")
    assert response.json() == {
        "response_action": "errors",
        "errors": {"person": "Please choose one of the options."},
    }
    settled(talk.services)
    assert len(talk.slack.calls("chat.postMessage")) == 1
    with session_scope(talk.services.engine) as session:
        assert session.exec(select(TalkRequest)).all() == []


def test_a_second_submission_after_the_same_call_is_refused(talk: Harness) -> None:
    checkin_id, view = open_talk(talk)
    choices = options(view)
    submit(talk, checkin_id, choices["Cris (team mate)"])
    # The reopen button brings the choice back, but one call gives one request.
    talk.click(
        user_id="U0ANA", channel="D0ANA", ts="1700000000.000001", action_id="checkin.talk", value=checkin_id
    )
    talk.slack.wait_for("views.open", 2)
    response = submit(talk, checkin_id, choices["Dana (team mate)"])
    assert response.json()["errors"] == {"person": "You've already asked someone after this call."}
    settled(talk.services)
    assert len(dms_to(talk.slack, "D0CRIS")) == 1 and dms_to(talk.slack, "D0DANA") == []


def test_someone_else_cannot_send_a_request_in_the_agents_name(talk: Harness) -> None:
    checkin_id, view = open_talk(talk)
    response = submit(talk, checkin_id, options(view)["Bob Stan (team mate)"], user_id="U0CRIS")
    assert response.json()["errors"] == {"person": "This request is no longer available."}
    settled(talk.services)
    assert dms_to(talk.slack, "D0BOB") == []


def test_without_anyone_to_offer_the_modal_only_explains(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    roster = roster_with(tmp_path)
    data = yaml.safe_load(roster.read_text())
    data["teams"][0]["agents"] = data["teams"][0]["agents"][:1]  # Ana alone, no lead, no resources
    data["teams"][0]["managers"] = []
    roster.write_text(yaml.safe_dump(data))
    app = create_app(make_settings(config_path=roster))
    with TestClient(app) as client:
        harness = Harness(client, app.state.services, fake_slack)
        checkin_id, view = open_talk(harness)
        assert [b["type"] for b in view["blocks"]] == ["section", "context"]
        assert "nobody I can contact" in str(view["blocks"])
        assert (
            harness.submit_view(
                user_id="U0ANA", callback_id="recovery.talk", private_metadata=checkin_id, values={}
            ).text
            == ""
        )
        settled(harness.services)
        assert len(fake_slack.calls("chat.postMessage")) == 1
