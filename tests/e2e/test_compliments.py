"""Compliments and kudos end to end: signed webhooks and Slack interactions through the running
app, with every message checked on the fake Slack server."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from bot.app import create_app, make_messenger
from bot.clock import utcnow
from bot.container import Services
from handlers.sandbox.interactions import signed_headers
from handlers.slack.bolt_app import wait_for_listeners
from handlers.telephony.zendesk import sign as zendesk_sign
from handlers.telephony.zendesk import trigger_body
from storage.db import make_engine, session_scope
from storage.models import Compliment, ComplimentStatus, InboundEvent, Kudos, OutboxMessage, OutboxStatus
from tests.conftest import SIGNING_SECRET, ZENDESK_SECRET, Harness, MakeSettings
from tests.fakes.slack_api import ApiCall, FakeSlack
from tests.fakes.zendesk import LEGACY_BODY, RatedTicket, render
from tests.fakes.zendesk import signed_headers as signed
from tests.helpers import Clock, action_ids, button_values, roster_with, settled, wait_until

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "zendesk"
PERSONAL = ("0722", "123 456", "jo.bloggs", "example.com", "Jo Bloggs", "Bloggs")


# --- how Zendesk and Slack send things ------------------------------------------------------


def zendesk_rating(**rating: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "satisfaction_good.json").read_text())
    data["satisfaction_rating"].update(rating)
    return data


def post_zendesk(harness: Harness, data: dict[str, Any], *, secret: str = ZENDESK_SECRET) -> Any:
    body = json.dumps(data).encode()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": zendesk_sign(secret, body, stamp),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }
    return harness.client.post("/webhooks/zendesk", content=body, headers=headers)


def slack_interaction(harness: Harness, payload: dict[str, Any]) -> Any:
    body = urlencode({"payload": json.dumps(payload)})
    return harness.client.post(
        "/slack/events",
        content=body,
        headers=signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded"),
    )


def message_shortcut(
    harness: Harness, *, callback_id: str, user_id: str, channel: str, ts: str, text: str = ""
) -> Any:
    return slack_interaction(
        harness,
        {
            "type": "message_action",
            "callback_id": callback_id,
            "team": {"id": "T0TEST"},
            "user": {"id": user_id},
            "channel": {"id": channel},
            "message": {"type": "message", "ts": ts, "text": text},
            "trigger_id": f"trigger.{uuid.uuid4().hex}",
            "response_url": "",
        },
    )


def submit_view(harness: Harness, *, user_id: str, view: dict[str, Any], values: dict[str, Any]) -> Any:
    state = {"values": {field: {field: element} for field, element in values.items()}}
    return slack_interaction(
        harness,
        {
            "type": "view_submission",
            "team": {"id": "T0TEST"},
            "user": {"id": user_id},
            "trigger_id": f"trigger.{uuid.uuid4().hex}",
            "view": {**view, "id": "V1", "state": state},
        },
    )


def quiet(harness: Harness, timeout: float = 10.0) -> None:
    """Every Slack listener has finished, then every event and message is dealt with, so a test
    that expects "nothing happened" does not look too early."""
    assert wait_for_listeners(harness.client.app.state.bolt, timeout)  # type: ignore[attr-defined]
    settled(harness.services, timeout)


def dm_for_ana(harness: Harness) -> ApiCall:
    (post,) = [c for c in harness.slack.wait_for("chat.postMessage") if c.params["channel"] == "D0ANA"]
    return post


def channel_posts(slack: FakeSlack) -> list[ApiCall]:
    return [c for c in slack.calls("chat.postMessage") if c.params["channel"] == "C0BILLING"]


def compliment_id(post: ApiCall) -> str:
    (value,) = button_values(post.params["blocks"])
    return value


def shared(harness: Harness) -> tuple[ApiCall, str]:
    """A Zendesk compliment for Ana, shared with the team; returns the channel post and its id."""
    post_zendesk(harness, zendesk_rating())
    dm = dm_for_ana(harness)
    cid = compliment_id(dm)
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="compliment.share", value=cid)
    post = harness.slack.wait_for("chat.postMessage", 2)[1]
    quiet(harness)
    return post, cid


# --- the customer's compliment, from Zendesk to the team channel -------------------------


def test_zendesk_good_rating_sends_the_agent_a_private_scrubbed_dm(harness: Harness) -> None:
    response = post_zendesk(harness, zendesk_rating())
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    dm = dm_for_ana(harness)
    assert dm.params["text"] == "A customer said something kind about you"
    assert action_ids(dm.params["blocks"]) == ["compliment.share", "compliment.keep_private"]
    shown = json.dumps(dm.params["blocks"], ensure_ascii=False)
    assert "A customer said this about you" in shown and "Ana was so patient!" in shown
    assert "[phone]" in shown and "[email]" in shown and "[customer]" in shown
    assert not any(fragment in shown for fragment in PERSONAL)
    quiet(harness)
    assert [c.params["channel"] for c in harness.slack.calls("chat.postMessage")] == ["D0ANA"]


@pytest.mark.parametrize("template", ["trigger body", "legacy body"])
def test_a_rating_as_zendesk_renders_it_reaches_the_agent_with_every_quote_and_line(
    harness: Harness, template: str
) -> None:
    """Zendesk pastes the comment unescaped: quotes, line breaks and emoji used to break the JSON
    (400, never retried) or the display-text score was dropped (2xx). Both now arrive."""
    comment = 'She said "no problem at all" twice.\nFixed it in five minutes \U0001f60a\nThank you, Ana!'
    ticket = RatedTicket(comment=comment, requester='Jo "JJ" Bloggs')
    body = render(trigger_body("good") if template == "trigger body" else LEGACY_BODY, ticket)
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)  # what Zendesk sends is not valid JSON

    response = harness.client.post("/webhooks/zendesk", content=body, headers=signed(body, ZENDESK_SECRET))

    assert response.status_code == 200 and response.json()["status"] == "accepted", response.text
    blocks = dm_for_ana(harness).params["blocks"]
    quoted = [b["text"]["text"] for b in blocks if b["type"] == "section" and b["text"].get("verbatim")]
    assert quoted == ["> " + comment.replace("\n", "\n> ")]  # word for word, line for line
    quiet(harness)


def test_a_rating_breather_cannot_read_is_refused_422_not_dropped(harness: Harness) -> None:
    body = render(LEGACY_BODY.replace("{{satisfaction.current_rating}}", "Excelente"), RatedTicket())

    response = harness.client.post("/webhooks/zendesk", content=body, headers=signed(body, ZENDESK_SECRET))

    assert response.status_code == 422
    assert response.json()["error"].startswith("satisfaction_rating.score: ")
    quiet(harness)
    with session_scope(harness.services.engine) as session:
        assert session.exec(select(InboundEvent)).all() == []


def test_the_raw_comment_is_never_stored(harness: Harness) -> None:
    post_zendesk(harness, zendesk_rating())
    dm_for_ana(harness)
    quiet(harness)
    with session_scope(harness.services.engine) as session:
        # The text each row holds (not its hex ids and timestamps, where "0722" can turn up).
        stored = [json.dumps(row.payload, ensure_ascii=False) for row in session.exec(select(InboundEvent))]
        stored += [row.text for row in session.exec(select(Compliment))]
    assert stored and not any(fragment in row for row in stored for fragment in PERSONAL)


def test_sharing_posts_to_the_team_channel_crediting_the_agent_without_personal_data(
    harness: Harness,
) -> None:
    post, cid = shared(harness)
    assert post.params["channel"] == "C0BILLING"
    shown = json.dumps(post.params["blocks"], ensure_ascii=False)
    assert "<@U0ANA>" in shown and "Ana was so patient!" in shown
    assert not any(fragment in shown for fragment in PERSONAL)
    assert action_ids(post.params["blocks"]) == []  # nobody else can click anything on it
    update = harness.slack.wait_for("chat.update")[0]
    assert update.params["channel"] == "D0ANA" and "Shared in your team channel" in update.params["text"]
    assert action_ids(update.params["blocks"]) == ["compliment.remove"]
    with session_scope(harness.services.engine) as session:
        compliment = session.get(Compliment, cid)
        assert compliment is not None and compliment.status == ComplimentStatus.SHARED
        # Where Slack said the post landed, so "Remove it" can find exactly that message.
        assert post.answer is not None and post.answer["ts"]
        assert (compliment.post_channel, compliment.post_ts) == ("C0BILLING", post.answer["ts"])


def test_keeping_it_private_posts_nothing(harness: Harness) -> None:
    post_zendesk(harness, zendesk_rating())
    cid = compliment_id(dm_for_ana(harness))
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="compliment.keep_private", value=cid)
    update = harness.slack.wait_for("chat.update")[0]
    assert "Kept just for you" in update.params["text"]
    assert "Ana was so patient!" in json.dumps(update.params["blocks"])  # still theirs to read
    # Changing their mind afterwards does not share it either.
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="compliment.share", value=cid)
    quiet(harness)
    assert channel_posts(harness.slack) == []


def test_someone_else_cannot_share_an_agents_compliment(harness: Harness) -> None:
    post_zendesk(harness, zendesk_rating())
    cid = compliment_id(dm_for_ana(harness))
    harness.click(user_id="U0CRIS", channel="D0ANA", ts="1.1", action_id="compliment.share", value=cid)
    quiet(harness)
    assert channel_posts(harness.slack) == [] and harness.slack.calls("chat.update") == []


def test_bad_rating_sends_nothing(harness: Harness) -> None:
    data = json.loads((FIXTURES / "satisfaction_bad.json").read_text())
    assert post_zendesk(harness, data).status_code == 200
    quiet(harness)
    assert harness.slack.calls("chat.postMessage") == []
    with session_scope(harness.services.engine) as session:
        assert session.exec(select(Compliment)).all() == []
        (event,) = session.exec(select(InboundEvent)).all()
        assert event.payload.get("comment") is None  # a bad rating's words are not kept at all


def test_good_rating_without_a_comment_sends_nothing(harness: Harness) -> None:
    post_zendesk(harness, zendesk_rating(comment=""))
    quiet(harness)
    assert harness.slack.calls("chat.postMessage") == []


def test_duplicate_deliveries_send_one_dm(harness: Harness) -> None:
    data = zendesk_rating()
    first, second = post_zendesk(harness, data), post_zendesk(harness, data)
    assert first.json()["status"] == "accepted" and second.json()["status"] == "duplicate"
    dm_for_ana(harness)
    quiet(harness)
    assert len(harness.slack.calls("chat.postMessage")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"type": 5},
        {"type": {"name": "satisfaction_rating"}},
        {"type": ["satisfaction_rating"], "ticket": {"id": 1}},
        {"type": "ticket_tags", "ticket": {"id": 1}},
        {"type": "satisfaction_rating", "satisfaction_rating": {"score": "offered", "ticket_id": 1}},
    ],
    ids=["number type", "object type", "list type", "another trigger", "no rating yet"],
)
def test_a_zendesk_body_breather_does_not_use_is_answered_ignored(
    shared_harness: Harness, body: dict[str, Any]
) -> None:
    response = post_zendesk(shared_harness, body)
    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "accepted": 0}
    quiet(shared_harness)
    with session_scope(shared_harness.services.engine) as session:
        assert session.exec(select(InboundEvent)).all() == []
    assert shared_harness.slack.calls("chat.postMessage") == []


def test_zendesk_signature_is_checked(harness: Harness) -> None:
    response = post_zendesk(harness, zendesk_rating(), secret="not-the-secret")
    assert response.status_code == 401 and response.json()["error"]
    unsigned = harness.client.post("/webhooks/zendesk", json=zendesk_rating())
    assert unsigned.status_code == 401
    quiet(harness)
    assert harness.slack.calls("chat.postMessage") == []


def test_a_zendesk_body_in_another_format_is_a_415(harness: Harness) -> None:
    body = b"score=good&ticket_id=77&assignee_id=3001"
    headers = {**signed(body, ZENDESK_SECRET), "Content-Type": "application/x-www-form-urlencoded"}

    response = harness.client.post("/webhooks/zendesk", content=body, headers=headers)

    assert response.status_code == 415 and "application/json" in response.json()["error"]


def test_generic_feedback_event_starts_the_same_flow(harness: Harness) -> None:
    event = {
        "type": "feedback",
        "event_id": "fb-1",
        "agent_email": "ana@example.com",
        "rating": "good",
        "comment": "Ana was patient and kind. Reach me at 0722 123 456.",
        "source": "survey",
        "customer_name": "Jo Bloggs",
    }
    assert harness.post_event(event).status_code == 202
    shown = json.dumps(dm_for_ana(harness).params["blocks"])
    assert "Ana was patient and kind" in shown and "0722" not in shown


def test_no_answer_in_time_means_private(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    # A minute to answer; the clock then moves past it.
    clock = Clock(utcnow())
    settings = make_settings(config_path=roster_with(tmp_path, compliment_consent_hours=1 / 60))
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        harness = Harness(client, app.state.services, fake_slack)
        post_zendesk(harness, zendesk_rating())
        cid = compliment_id(dm_for_ana(harness))
        assert harness.services.compliments.expire() == 0  # not yet
        clock.advance(seconds=61)
        assert harness.services.compliments.expire() == 1
        harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="compliment.share", value=cid)
        update = fake_slack.wait_for("chat.update")[0]
        quiet(harness)
    assert "The time to share this one has passed" in update.params["text"]
    assert channel_posts(fake_slack) == []
    assert len(fake_slack.calls("chat.postMessage")) == 1  # and no reminder, ever


def test_a_team_without_a_channel_is_told_honestly(harness: Harness, tmp_path: Path) -> None:
    # Nora's team has no channel: her compliment cannot be shared, and she is told why.
    event = {
        "type": "feedback",
        "event_id": "fb-n",
        "agent_email": "nora@example.com",
        "rating": "good",
        "comment": "Nora sorted it at 3 am, thank you",
    }
    harness.post_event(event)
    dm = [c for c in harness.slack.wait_for("chat.postMessage") if c.params["channel"] == "D0NORA"][0]
    harness.click(
        user_id="U0NORA", channel="D0NORA", ts="1.1", action_id="compliment.share", value=compliment_id(dm)
    )
    update = harness.slack.wait_for("chat.update")[0]
    assert "no Breather channel yet" in update.params["text"]
    quiet(harness)
    assert len(harness.slack.calls("chat.postMessage")) == 1


# --- taking a shared compliment down again -------------------------------------------------


def test_the_agent_can_remove_a_shared_compliment_from_their_dm(harness: Harness) -> None:
    post, cid = shared(harness)
    with session_scope(harness.services.engine) as session:
        landed = session.get(Compliment, cid)
        assert landed is not None and landed.post_ts
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="compliment.remove", value=cid)
    deleted = harness.slack.wait_for("chat.delete")[0]
    assert (deleted.params["channel"], deleted.params["ts"]) == ("C0BILLING", landed.post_ts)
    update = harness.slack.wait_for("chat.update", 2)[1]
    assert "Removed from the team channel" in update.params["text"]
    quiet(harness)
    with session_scope(harness.services.engine) as session:
        assert session.get(Compliment, cid).status == ComplimentStatus.REMOVED  # type: ignore[union-attr]


def test_the_message_action_on_the_post_removes_it_for_the_agent_only(harness: Harness) -> None:
    _, cid = shared(harness)
    with session_scope(harness.services.engine) as session:
        ts = session.get(Compliment, cid).post_ts  # type: ignore[union-attr]
    assert ts
    cris = message_shortcut(
        harness, callback_id="compliment_remove_post", user_id="U0CRIS", channel="C0BILLING", ts=ts
    )
    assert cris.status_code == 200
    notice = harness.slack.wait_for("views.open")[0]
    assert "Only the person a compliment is about" in json.dumps(notice.params["view"])
    quiet(harness)
    assert harness.slack.calls("chat.delete") == []

    message_shortcut(
        harness, callback_id="compliment_remove_post", user_id="U0ANA", channel="C0BILLING", ts=ts
    )
    deleted = harness.slack.wait_for("chat.delete")[0]
    assert (deleted.params["channel"], deleted.params["ts"]) == ("C0BILLING", ts)
    assert "gone from the channel" in json.dumps(harness.slack.wait_for("views.open", 2)[1].params["view"])


def outbox_row(services: Services, key: str) -> OutboxMessage | None:
    with session_scope(services.engine) as session:
        return services.outbox.find(session, key=key)


def test_removing_before_the_post_is_sent_means_it_is_never_posted(harness: Harness) -> None:
    post_zendesk(harness, zendesk_rating())
    cid = compliment_id(dm_for_ana(harness))
    harness.slack.fail_next("chat.postMessage", 429, retry_after=5)  # hold the channel post back
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="compliment.share", value=cid)
    key = f"compliment:{cid}:post"
    wait_until(lambda: (row := outbox_row(harness.services, key)) is not None and row.last_error is not None)
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="compliment.remove", value=cid)
    quiet(harness)
    assert len(channel_posts(harness.slack)) == 1  # only the attempt Slack refused
    assert harness.slack.calls("chat.delete") == []
    assert outbox_row(harness.services, key).status == OutboxStatus.FAILED  # type: ignore[union-attr]


def test_removing_while_the_post_is_on_its_way_deletes_it_once_it_lands(harness: Harness) -> None:
    post_zendesk(harness, zendesk_rating())
    cid = compliment_id(dm_for_ana(harness))
    harness.slack.state.latency_s = 1.5  # Slack is slow to answer the channel post
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="compliment.share", value=cid)
    harness.slack.wait_for("chat.postMessage", 2)
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="compliment.remove", value=cid)
    harness.slack.state.latency_s = 0.0
    deleted = harness.slack.wait_for("chat.delete", timeout=15)[0]
    quiet(harness)
    with session_scope(harness.services.engine) as session:
        compliment = session.get(Compliment, cid)
        assert compliment is not None and compliment.status == ComplimentStatus.REMOVED
        assert (deleted.params["channel"], deleted.params["ts"]) == ("C0BILLING", compliment.post_ts)


# --- /kudos ------------------------------------------------------------------------------


def test_kudos_are_posted_to_the_team_channel_with_the_author_shown(harness: Harness) -> None:
    reply = harness.command(
        user_id="U0CRIS", command="/kudos", text="<@U0ANA|ana> thanks for covering my queue!"
    )
    assert reply.status_code == 200 and "Kudos posted" in reply.text
    post = harness.slack.wait_for("chat.postMessage")[0]
    assert post.params["channel"] == "C0BILLING"
    shown = json.dumps(post.params["blocks"])
    assert "<@U0CRIS>" in shown and "<@U0ANA>" in shown and "thanks for covering my queue!" in shown
    assert post.params["text"] == "Kudos for Ana Popescu"


def test_kudos_never_ping_the_whole_channel(harness: Harness) -> None:
    harness.command(user_id="U0CRIS", command="/kudos", text="<@U0ANA> you rock <!channel> <@U0BOB|bob>")
    post = harness.slack.wait_for("chat.postMessage")[0]
    shown = json.dumps(post.params["blocks"])
    assert "<!channel>" not in shown and "@channel" in shown and "@bob" in shown


@pytest.mark.parametrize(
    ("user", "text", "reply"),
    [
        ("U0CRIS", "", "Who are the kudos for?"),
        ("U0CRIS", "thanks Ana", "Who are the kudos for?"),
        ("U0CRIS", "<@U0ANA|ana>   ", "Add a few words"),
        ("U0ANA", "<@U0ANA> I am great", "Kudos are for someone else"),
        ("U0CRIS", "<@U0ZED|zed> thanks", "only pass kudos to people on a Breather team"),
        ("U0STRANGER", "<@U0ANA> thanks", "Kudos are for people on a Breather team"),
        ("U0CRIS", "<@U0NORA> thanks for the night cover", "has no Breather channel yet"),
    ],
    ids=["empty", "no mention", "no words", "self", "recipient unknown", "author unknown", "no channel"],
)
def test_kudos_refusals_are_clear_and_post_nothing(
    shared_harness: Harness, user: str, text: str, reply: str
) -> None:
    response = shared_harness.command(user_id=user, command="/kudos", text=text)
    assert response.status_code == 200 and reply in response.text
    quiet(shared_harness)
    assert shared_harness.slack.calls("chat.postMessage") == []


def test_kudos_are_limited_per_author_per_day(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    app = create_app(make_settings(config_path=roster_with(tmp_path, kudos_per_day=2)))
    with TestClient(app) as client:
        harness = Harness(client, app.state.services, fake_slack)
        replies = [
            harness.command(user_id="U0CRIS", command="/kudos", text=f"<@U0ANA> thanks #{n}").text
            for n in range(3)
        ]
        other = harness.command(user_id="U0DANA", command="/kudos", text="<@U0ANA> thanks from me too").text
        fake_slack.wait_for("chat.postMessage", 3)
        quiet(harness)
    assert ["Kudos posted" in r for r in replies] == [True, True, False]
    assert "2 kudos in the last 24 hours" in replies[2]
    assert "Kudos posted" in other  # the limit is per author
    assert len(fake_slack.calls("chat.postMessage")) == 3


def test_simultaneous_kudos_from_one_author_still_stop_at_the_daily_limit(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Ten /kudos from one person at the same moment (a double-tap, a script) on a limit of 3."""
    app = create_app(make_settings(config_path=roster_with(tmp_path, kudos_per_day=3)))
    with TestClient(app) as client:
        harness = Harness(client, app.state.services, fake_slack)
        compliments = harness.services.compliments
        assert "Kudos posted" in compliments.kudos("U0CRIS", "U0ANA", "earlier today")  # 1 of 3
        senders = 10
        start = threading.Barrier(senders)
        replies: list[str] = []

        def send(n: int) -> None:
            start.wait()
            replies.append(compliments.kudos("U0CRIS", "U0ANA", f"thanks #{n}"))

        threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        quiet(harness)
        with session_scope(harness.services.engine) as session:
            stored = len(session.exec(select(Kudos)).all())
    assert len(replies) == senders
    assert sum("Kudos posted" in reply for reply in replies) == 2
    assert sum("3 kudos in the last 24 hours" in reply for reply in replies) == senders - 2
    assert stored == 3
    posts = [c for c in fake_slack.calls("chat.postMessage") if c.params["channel"] == "C0BILLING"]
    assert len(posts) == 3


def test_a_team_lead_off_the_roster_can_send_kudos(harness: Harness) -> None:
    harness.slack.add_user("U0RADU", "radu@example.com")  # a manager of billing in breather.yml
    reply = harness.command(user_id="U0RADU", command="/kudos", text="<@U0ANA> great week!")
    assert "Kudos posted" in reply.text
    assert "<@U0RADU>" in json.dumps(harness.slack.wait_for("chat.postMessage")[0].params["blocks"])


# --- "Share as a compliment" on any message ------------------------------------------------


FORWARDED = (
    "Fwd from customer: Ana solved in five minutes what took weeks. "
    "Jo Bloggs, +40 722 123 456, jo.bloggs@example.com, card 4111 1111 1111 1111"
)


def test_share_as_a_compliment_asks_the_agent_privately(harness: Harness) -> None:
    message_shortcut(
        harness,
        callback_id="compliment_from_message",
        user_id="U0CRIS",
        channel="C0OTHER",
        ts="5.5",
        text=FORWARDED,
    )
    view = harness.slack.wait_for("views.open")[0].params["view"]
    shown = json.dumps(view)
    assert view["callback_id"] == "compliment.recipient"
    assert "Ana solved in five minutes" in shown and "[phone]" in shown and "[card]" in shown
    assert "0722" not in shown and "jo.bloggs" not in shown and "4111" not in shown

    response = submit_view(
        harness,
        user_id="U0CRIS",
        view=view,
        values={"recipient": {"type": "users_select", "selected_user": "U0ANA"}},
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "update" and "Sent privately" in json.dumps(answer["view"])
    dm = dm_for_ana(harness)
    assert action_ids(dm.params["blocks"]) == ["compliment.share", "compliment.keep_private"]
    shown = json.dumps(dm.params["blocks"])
    assert "<@U0CRIS> passed it on" in shown and "Ana solved in five minutes" in shown and "0722" not in shown

    again = submit_view(
        harness,
        user_id="U0CRIS",
        view=view,
        values={"recipient": {"type": "users_select", "selected_user": "U0ANA"}},
    )
    assert "already passed on" in json.dumps(again.json()["view"])
    quiet(harness)
    assert len(harness.slack.calls("chat.postMessage")) == 1


def test_share_as_a_compliment_for_someone_off_the_roster_asks_again(harness: Harness) -> None:
    message_shortcut(
        harness,
        callback_id="compliment_from_message",
        user_id="U0CRIS",
        channel="C0OTHER",
        ts="5.6",
        text=FORWARDED,
    )
    view = harness.slack.wait_for("views.open")[0].params["view"]
    response = submit_view(
        harness,
        user_id="U0CRIS",
        view=view,
        values={"recipient": {"type": "users_select", "selected_user": "U0ZED"}},
    )
    assert response.json() == {
        "response_action": "errors",
        "errors": {"recipient": "I can only pass compliments to people on a Breather team."},
    }
    quiet(harness)
    assert harness.slack.calls("chat.postMessage") == []


def test_share_as_a_compliment_is_for_team_members_only(harness: Harness) -> None:
    message_shortcut(
        harness,
        callback_id="compliment_from_message",
        user_id="U0STRANGER",
        channel="C0OTHER",
        ts="5.7",
        text=FORWARDED,
    )
    view = harness.slack.wait_for("views.open")[0].params["view"]
    assert view["callback_id"] == "compliment.notice" and "Only people on a Breather team" in json.dumps(view)


# --- the weekly roll-up ---------------------------------------------------------------------

MONDAY = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # 09:00 in Bucharest
LAST_WEEK = MONDAY - timedelta(days=3)


@pytest.fixture
def rollup_app(make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Harness]:
    """The app on a clock that starts at Monday 09:00 in Bucharest and then runs normally."""
    settings = make_settings(config_path=roster_with(tmp_path, anonymity_min_group=3))
    engine = make_engine(settings.database_url)
    started = time.monotonic()
    services = Services(
        settings,
        engine,
        make_messenger(settings, engine),
        clock=lambda: MONDAY + timedelta(seconds=time.monotonic() - started),
    )
    app = create_app(settings, services=services)
    with TestClient(app) as client:
        yield Harness(client, services, fake_slack)


def add_compliments(services: Services, *specs: tuple[str, ComplimentStatus, str]) -> None:
    with session_scope(services.engine) as session:
        for n, (email, status, text) in enumerate(specs):
            agent = services.roster.find("email", email)
            assert agent is not None
            session.add(
                Compliment(
                    id=uuid.uuid4().hex,
                    source="test",
                    source_key=f"k{n}",
                    team_id=agent.team.id,
                    pseudonym=agent.pseudonym,
                    kid=agent.kid,
                    text=text,
                    status=status,
                    received_at=LAST_WEEK + timedelta(minutes=n),
                    decided_at=LAST_WEEK + timedelta(minutes=n, seconds=30),
                )
            )


def test_weekly_rollup_counts_the_teams_compliments_and_quotes_shared_ones(rollup_app: Harness) -> None:
    services = rollup_app.services
    add_compliments(
        services,
        ("ana@example.com", ComplimentStatus.SHARED, "Ana was wonderful"),
        ("ana@example.com", ComplimentStatus.PRIVATE, "A private thank-you"),
        ("bob@example.com", ComplimentStatus.SHARED, "Bob fixed my bill"),
        ("cris@example.com", ComplimentStatus.EXPIRED, "Cris was kind"),
        ("dana@example.com", ComplimentStatus.REMOVED, "Dana took this down"),
    )
    with session_scope(services.engine) as session:
        session.add(Kudos(id="kd1", team_id="billing", author_key="x", created_at=LAST_WEEK))
    assert services.compliments.post_rollup("billing") is True
    post = rollup_app.slack.wait_for("chat.postMessage")[0]
    shown = json.dumps(post.params["blocks"])
    assert post.params["channel"] == "C0BILLING"
    # Posted on Monday about the week that just ended, and it says so.
    assert post.params["text"] == "Last week's compliments"
    assert "Last week's compliments" in shown and "this week" not in shown.lower()
    assert "Customers thanked this team 5 times last week." in shown
    assert "Team mates sent each other kudos once." in shown
    assert "Ana was wonderful" in shown and "Bob fixed my bill" in shown
    assert (
        "private thank-you" not in shown
        and "Cris was kind" not in shown
        and "Dana took this down" not in shown
    )
    # Nobody is named, mentioned or counted on their own.
    assert "<@" not in shown and "Ana Popescu" not in shown and "Bob Stan" not in shown

    assert services.compliments.post_rollup("billing") is False  # once per team and week
    quiet(rollup_app)
    assert len(rollup_app.slack.calls("chat.postMessage")) == 1


def test_weekly_rollup_hides_the_count_when_few_people_received_compliments(rollup_app: Harness) -> None:
    services = rollup_app.services
    add_compliments(
        services,
        ("ana@example.com", ComplimentStatus.SHARED, "Ana was wonderful"),
        ("ana@example.com", ComplimentStatus.PRIVATE, "Another one for Ana"),
        ("bob@example.com", ComplimentStatus.PRIVATE, "Bob was quick"),
    )
    services.compliments.post_rollup("billing")
    shown = json.dumps(rollup_app.slack.wait_for("chat.postMessage")[0].params["blocks"])
    assert "Customers thanked people in this team last week." in shown
    assert "3 times" not in shown and "Ana was wonderful" in shown


@pytest.mark.parametrize(("praised", "shown"), [(2, False), (3, True), (4, True)])
def test_weekly_rollup_counts_only_from_k_people_and_agrees_with_the_digest(
    rollup_app: Harness, praised: int, shown: bool
) -> None:
    """k-1, k and k+1 people complimented (k = 3 here), two compliments each."""
    services = rollup_app.services
    emails = ["ana@example.com", "bob@example.com", "cris@example.com", "dana@example.com"][:praised]
    add_compliments(services, *[(email, ComplimentStatus.PRIVATE, "Thank you") for email in emails * 2])
    assert services.compliments.post_rollup("billing") is True
    shown_text = json.dumps(rollup_app.slack.wait_for("chat.postMessage")[0].params["blocks"])
    count = praised * 2
    if shown:
        assert f"Customers thanked this team {count} times last week." in shown_text
    else:
        assert "Customers thanked people in this team last week." in shown_text
        assert str(count) not in shown_text
    # The leads' digest for that week shows the same figure, or the same refusal.
    with session_scope(services.engine) as session:
        digest = services.digests.digest(session, services.config.team("billing"), services.clock()).to_json()
    assert digest["period"]["start"] == "2026-11-23"
    hidden = {"suppressed": True, "reason": "fewer than 3 agents"}
    assert digest["compliments"] == (count if shown else hidden)
    quiet(rollup_app)


def test_a_quiet_week_is_not_announced_and_this_weeks_compliments_wait(rollup_app: Harness) -> None:
    services = rollup_app.services
    with session_scope(services.engine) as session:
        agent = services.roster.find("email", "ana@example.com")
        assert agent is not None
        session.add(
            Compliment(
                id="now1",
                source="test",
                source_key="now",
                team_id="billing",
                pseudonym=agent.pseudonym,
                kid=agent.kid,
                text="Too new",
                status=ComplimentStatus.SHARED,
                received_at=MONDAY,
            )
        )
    assert services.compliments.post_rollup("billing") is False
    quiet(rollup_app)
    assert rollup_app.slack.calls("chat.postMessage") == []


def test_rollup_jobs_run_on_each_teams_local_monday_morning(rollup_app: Harness) -> None:
    jobs = {job.id: job for job in rollup_app.services.jobs()}
    assert "compliment_rollup:nights" not in jobs  # no channel, nothing to post to
    trigger = jobs["compliment_rollup:billing"].trigger
    fire = trigger.get_next_fire_time(None, MONDAY - timedelta(days=2))
    assert fire.isoformat() == "2026-11-30T09:00:00+02:00"
    assert "compliment_expiry" in jobs


# --- privacy: logs --------------------------------------------------------------------------


def test_logs_never_contain_the_comment(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    # Breather's own loggers at every level; libraries at INFO, as `configure_logging` keeps them.
    caplog.set_level(logging.INFO)
    for name in ("bot", "handlers", "storage"):
        caplog.set_level(logging.DEBUG, logger=name)
    post, cid = shared(harness)
    harness.click(user_id="U0CRIS", channel="D0ANA", ts="1.1", action_id="compliment.share", value=cid)
    harness.command(user_id="U0CRIS", command="/kudos", text="<@U0ANA> so patient today")
    harness.slack.wait_for("chat.postMessage", 3)
    quiet(harness)
    assert "warning" in caplog.text.lower()  # the stray click was logged, without its content
    assert "patient" not in caplog.text and "0722" not in caplog.text
