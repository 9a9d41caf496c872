"""From a signed webhook to a private check-in on the fake Slack, and back through a click."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from bot.app import create_app
from bot.clock import utcnow
from storage.db import session_scope
from storage.models import Call, Checkin
from tests.conftest import PSEUDONYM_KEY, Harness, MakeSettings, call_event, hard_call
from tests.fakes.slack_api import FakeSlack
from tests.helpers import Clock, action_ids, button_values, roster_with, settled, stored_call_keys


def test_hard_call_sends_the_agent_a_private_checkin_with_three_choices(harness: Harness) -> None:
    response = harness.post_event(hard_call())
    assert response.status_code == 202
    post = harness.slack.wait_for("chat.postMessage")[0]
    opened = harness.slack.calls("conversations.open")
    assert [c.params["users"] for c in opened] == ["U0ANA"]
    assert post.params["channel"] == "D0ANA"
    assert post.params["text"]  # notification fallback
    assert action_ids(post.params["blocks"]) == ["checkin.ok", "checkin.break", "checkin.talk"]
    labels = [
        e["text"]["text"] for b in post.params["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert labels == ["I'm OK", "Take a 5-minute breather", "Talk to someone"]
    assert "marked abusive" in str(post.params["blocks"])  # the reason, shown to the agent only
    settled(harness.services)
    assert len(harness.slack.calls("chat.postMessage")) == 1


def test_easy_call_sends_nothing(harness: Harness) -> None:
    assert harness.post_event(call_event()).status_code == 202
    settled(harness.services)
    assert harness.slack.calls("chat.postMessage") == []


def test_clicking_a_choice_updates_the_message_and_records_the_answer_under_a_pseudonym(
    harness: Harness,
) -> None:
    harness.post_event(hard_call())
    post = harness.slack.wait_for("chat.postMessage")[0]
    (checkin_id,) = button_values(post.params["blocks"])
    ts = "1700000000.000001"  # what Slack would echo back for the message we posted
    response = harness.click(
        user_id="U0ANA", channel="D0ANA", ts=ts, action_id="checkin.ok", value=checkin_id
    )
    assert response.status_code == 200
    update = harness.slack.wait_for("chat.update")[0]
    assert (update.params["channel"], update.params["ts"]) == ("D0ANA", ts)
    assert "Glad to hear it" in update.params["text"]
    assert action_ids(update.params["blocks"]) == []  # the buttons are gone
    with session_scope(harness.services.engine) as session:
        checkin = session.get(Checkin, checkin_id)
        assert checkin is not None and checkin.answer == "ok"
        agent_id = harness.services.roster.find("email", "ana@example.com").id  # type: ignore[union-attr]
        expected = hmac.new(PSEUDONYM_KEY.encode(), b"breather/v1/agent/" + agent_id.encode(), hashlib.sha256)
        assert checkin.pseudonym == expected.hexdigest()
        assert "ana" not in checkin.model_dump_json().lower()


def test_break_and_talk_answers_say_honestly_what_happens(harness: Harness) -> None:
    harness.post_event(hard_call())
    post = harness.slack.wait_for("chat.postMessage")[0]
    (checkin_id,) = button_values(post.params["blocks"])
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="checkin.break", value=checkin_id)
    update = harness.slack.wait_for("chat.update")[0]
    assert "set your break status in the phone system yourself" in update.params["text"]


def test_a_second_click_changes_nothing(harness: Harness) -> None:
    harness.post_event(hard_call())
    post = harness.slack.wait_for("chat.postMessage")[0]
    (checkin_id,) = button_values(post.params["blocks"])
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="checkin.ok", value=checkin_id)
    harness.slack.wait_for("chat.update")
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="checkin.talk", value=checkin_id)
    settled(harness.services)
    assert len(harness.slack.calls("chat.update")) == 1
    with session_scope(harness.services.engine) as session:
        assert session.get(Checkin, checkin_id).answer == "ok"  # type: ignore[union-attr]


def test_someone_else_clicking_records_nothing(harness: Harness) -> None:
    harness.post_event(hard_call())
    post = harness.slack.wait_for("chat.postMessage")[0]
    (checkin_id,) = button_values(post.params["blocks"])
    harness.click(user_id="U0CRIS", channel="D0ANA", ts="1.1", action_id="checkin.ok", value=checkin_id)
    settled(harness.services)
    assert harness.slack.calls("chat.update") == []
    with session_scope(harness.services.engine) as session:
        assert session.get(Checkin, checkin_id).answer is None  # type: ignore[union-attr]


def test_repeated_delivery_of_one_event_sends_one_checkin(harness: Harness) -> None:
    event = hard_call()
    first = harness.post_event(event)
    second = harness.post_event(event)
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["status"] == "duplicate"
    harness.slack.wait_for("chat.postMessage")
    settled(harness.services)
    assert len(harness.slack.calls("chat.postMessage")) == 1


def test_cooldown_holds_back_a_second_checkin_within_the_hour(harness: Harness) -> None:
    harness.post_event(hard_call())
    harness.slack.wait_for("chat.postMessage")
    harness.post_event(hard_call())
    settled(harness.services)
    assert len(harness.slack.calls("chat.postMessage")) == 1
    metrics = harness.client.get("/metrics").text
    assert "held_back" not in metrics  # a count of held-back check-ins would tell who paused


def test_late_tag_rejudges_the_call_without_a_second_nudge(harness: Harness) -> None:
    harness.post_event(call_event(call_id="c-late", event_id="e1"))
    settled(harness.services)
    assert harness.slack.calls("chat.postMessage") == []
    harness.post_event(call_event(call_id="c-late", event_id="e2", tags=["Aggressive"]))
    harness.slack.wait_for("chat.postMessage")
    harness.post_event(call_event(call_id="c-late", event_id="e3", tags=["threat"], sentiment=-0.9))
    settled(harness.services)
    assert len(harness.slack.calls("chat.postMessage")) == 1
    with session_scope(harness.services.engine) as session:
        call = session.exec(
            select(Call).where(col(Call.call_id).in_(stored_call_keys(harness, "c-late")))
        ).one()
        assert call.hard and sorted(call.tags) == ["Aggressive", "threat"]
        assert "abuse" in call.signals and "sentiment" in call.signals


def test_agent_known_only_by_email_is_looked_up_once(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    clock = Clock(utcnow())
    app = create_app(
        make_settings(config_path=roster_with(tmp_path, checkin_cooldown_minutes=0.001)), clock=clock
    )
    with TestClient(app) as client:
        harness = Harness(client, app.state.services, fake_slack)
        harness.post_event(hard_call(agent_email="bob@example.com"))
        fake_slack.wait_for("chat.postMessage")
        clock.advance(seconds=0.1)  # past the (tiny) cooldown
        harness.post_event(hard_call(agent_email="BOB@example.com"))
        posts = fake_slack.wait_for("chat.postMessage", 2)
    assert [p.params["channel"] for p in posts] == ["D0BOB", "D0BOB"]
    assert len(fake_slack.calls("users.lookupByEmail")) == 1
    assert len(fake_slack.calls("conversations.open")) == 1


def test_unknown_agent_is_acknowledged_and_ignored(harness: Harness) -> None:
    response = harness.post_event(hard_call(agent_email="stranger@example.com"))
    assert response.status_code == 202 and response.json()["status"] == "ignored"
    settled(harness.services)
    assert harness.slack.calls("chat.postMessage") == []


def test_paused_agent_gets_no_checkin_until_resumed(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    app = create_app(make_settings(config_path=roster_with(tmp_path, checkin_cooldown_minutes=0.001)))
    with TestClient(app) as client:
        harness = Harness(client, app.state.services, fake_slack)
        reply = harness.command(user_id="U0ANA", command="/breather", text="pause")
        assert reply.status_code == 200 and "Paused" in reply.text
        harness.post_event(hard_call())
        settled(harness.services)
        assert fake_slack.calls("chat.postMessage") == []
        reply = harness.command(user_id="U0ANA", command="/breather", text="resume")
        assert "Welcome back" in reply.text
        harness.post_event(hard_call())
        fake_slack.wait_for("chat.postMessage")


@pytest.mark.parametrize("status", [429, 500])
def test_outbox_retries_rate_limits_and_server_errors(harness: Harness, status: int) -> None:
    harness.slack.fail_next("chat.postMessage", status, retry_after=1 if status == 429 else None)
    harness.post_event(hard_call())
    posts = harness.slack.wait_for("chat.postMessage", 2, timeout=15)
    assert len(posts) == 2
    if status == 429:
        assert posts[1].at - posts[0].at >= 0.9  # Retry-After was honoured
    settled(harness.services)
    assert len(harness.slack.calls("chat.postMessage")) == 2  # never re-sent once delivered


def _notice(harness: Harness, count: int = 1) -> str:
    """The text of the latest small modal opened for the person who clicked."""
    view = harness.slack.wait_for("views.open", count)[-1].params["view"]
    assert view["callback_id"] == "checkin.notice" and "submit" not in view
    return " ".join(block["text"]["text"] for block in view["blocks"])


def test_a_second_click_tells_the_agent_it_was_already_answered(harness: Harness) -> None:
    harness.post_event(hard_call())
    post = harness.slack.wait_for("chat.postMessage")[0]
    (checkin_id,) = button_values(post.params["blocks"])
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="checkin.ok", value=checkin_id)
    harness.slack.wait_for("chat.update")
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="checkin.break", value=checkin_id)
    assert _notice(harness) == "You've already answered this check-in. Thank you."
    settled(harness.services)
    assert len(harness.slack.calls("chat.update")) == 1  # the answered message stays as it was
    with session_scope(harness.services.engine) as session:
        assert session.get(Checkin, checkin_id).answer == "ok"  # type: ignore[union-attr]


@pytest.mark.parametrize("clicker", ["U0CRIS", "U0STRANGER"], ids=["team mate", "not on the roster"])
def test_someone_else_clicking_is_told_it_was_not_theirs(harness: Harness, clicker: str) -> None:
    harness.post_event(hard_call())
    post = harness.slack.wait_for("chat.postMessage")[0]
    (checkin_id,) = button_values(post.params["blocks"])
    harness.click(user_id=clicker, channel="D0ANA", ts="1.1", action_id="checkin.ok", value=checkin_id)
    assert _notice(harness) == "This check-in was meant for someone else, so nothing was recorded."
    settled(harness.services)
    assert harness.slack.calls("chat.update") == []


def test_a_click_on_a_checkin_deleted_by_retention_says_it_is_no_longer_available(harness: Harness) -> None:
    harness.post_event(hard_call())
    post = harness.slack.wait_for("chat.postMessage")[0]
    (checkin_id,) = button_values(post.params["blocks"])
    with session_scope(harness.services.engine) as session:
        session.delete(session.get(Checkin, checkin_id))
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="checkin.ok", value=checkin_id)
    assert _notice(harness) == "This check-in is no longer available."
    settled(harness.services)
    assert harness.slack.calls("chat.update") == []


def test_a_persian_team_gets_its_checkin_and_answers_in_persian(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    config = roster_with(tmp_path, teams={"billing": {"language": "fa"}})
    app = create_app(make_settings(config_path=config))
    with TestClient(app, raise_server_exceptions=False) as client:
        harness = Harness(client, app.state.services, fake_slack)
        harness.post_event(hard_call())
        post = harness.slack.wait_for("chat.postMessage")[0]
        labels = [
            e["text"]["text"] for b in post.params["blocks"] if b["type"] == "actions" for e in b["elements"]
        ]
        assert labels == ["خوبم", "۵ دقیقه استراحت", "با کسی حرف بزنم"]  # Persian digits
        shown = json.dumps(post.params["blocks"], ensure_ascii=False)
        assert "حالتان چطور است؟" in shown
        assert "تماس توهین\u200cآمیز علامت خورده بود" in shown  # the reason
        (checkin_id,) = button_values(post.params["blocks"])
        harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="checkin.break", value=checkin_id)
        update = harness.slack.wait_for("chat.update")[0]
        assert "سیستم تلفن" in update.params["text"]  # set your break yourself, in Persian
        assert "پاسخ شما: ۵ دقیقه استراحت" in json.dumps(update.params["blocks"], ensure_ascii=False)
