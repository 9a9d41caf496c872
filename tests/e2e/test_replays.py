"""A signed Slack request replayed inside its signature window has no second effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from handlers.sandbox.interactions import signed_headers, slash_command_body
from storage.db import session_scope
from storage.models import Kudos, SeenRequest
from storage.replays import ReplayGuard
from tests.conftest import SIGNING_SECRET, Harness
from tests.helpers import settled


def test_a_replayed_kudos_posts_once(harness: Harness) -> None:
    body = slash_command_body(user_id="U0CRIS", command="/kudos", text="<@U0ANA|ana> thanks!")
    headers = signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded")
    first = harness.client.post("/slack/events", content=body, headers=headers)
    assert first.status_code == 200 and "Kudos posted" in first.text
    copy = harness.client.post("/slack/events", content=body, headers=headers)
    assert copy.status_code == 200 and "Kudos" not in copy.text
    settled(harness.services)
    assert len(harness.slack.calls("chat.postMessage")) == 1
    with session_scope(harness.services.engine) as session:
        assert len(session.exec(select(Kudos)).all()) == 1
        # What is kept is a keyed hash: neither the signature nor anything from the body.
        stored = session.exec(select(SeenRequest)).all()
        assert stored and all(headers["X-Slack-Signature"][3:] not in row.digest for row in stored)
    # The same words sent again, signed anew (as a person typing them twice), do count.
    again = slash_command_body(user_id="U0CRIS", command="/kudos", text="<@U0ANA|ana> thanks!")
    reply = harness.client.post(
        "/slack/events",
        content=again,
        headers=signed_headers(SIGNING_SECRET, again, "application/x-www-form-urlencoded"),
    )
    assert "Kudos posted" in reply.text


def test_the_guard_forgets_what_is_older_than_its_window(harness: Harness) -> None:
    guard = ReplayGuard(harness.services.engine, timedelta(minutes=5))
    start = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    assert guard.first_time("a" * 64, start)
    assert not guard.first_time("a" * 64, start + timedelta(minutes=1))
    assert guard.first_time("b" * 64, start + timedelta(minutes=30))  # prunes "a"
    with session_scope(harness.services.engine) as session:
        assert [row.digest[0] for row in session.exec(select(SeenRequest))] == ["b"]
