"""One provider call id, two agents (issue 20, item 6): a conference or a transfer puts the same
call id on two agents' events; each agent gets their own call, under their own pseudonym, and
their own check-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import col, select
from starlette.testclient import TestClient

from bot.app import create_app
from storage.db import session_scope
from storage.models import Call, Checkin
from tests.conftest import AIRCALL_TOKEN, ROSTER, Harness, MakeSettings, call_event, hard_call
from tests.fakes.slack_api import FakeSlack
from tests.helpers import settled, stored_call_keys

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def calls_by_agent(harness: Harness, call_id: str, provider: str = "generic") -> dict[str, Call]:
    found = {}
    with session_scope(harness.services.engine) as session:
        for email in ("ana@example.com", "bob@example.com"):
            keys = stored_call_keys(harness, call_id, email, provider)
            row = session.exec(select(Call).where(col(Call.call_id).in_(keys))).first()
            if row is not None:
                found[email] = row
    return found


def checkin_channels(harness: Harness) -> list[str]:
    return sorted(
        c.params["channel"]
        for c in harness.slack.calls("chat.postMessage")
        if "checkin.ok" in json.dumps(c.params.get("blocks"))
    )


def pseudonym(harness: Harness, email: str) -> str:
    agent = harness.services.roster.find("email", email)
    assert agent is not None
    return agent.pseudonym


def test_a_conference_call_gives_each_agent_their_own_call_and_check_in(harness: Harness) -> None:
    harness.post_event(hard_call(call_id="conf-1", agent_email="ana@example.com"))
    harness.post_event(hard_call(call_id="conf-1", agent_email="bob@example.com"))
    harness.slack.wait_for("chat.postMessage", 2)
    settled(harness.services)
    calls = calls_by_agent(harness, "conf-1")
    assert calls["ana@example.com"].pseudonym == pseudonym(harness, "ana@example.com")
    assert calls["bob@example.com"].pseudonym == pseudonym(harness, "bob@example.com")
    assert calls["ana@example.com"].call_id != calls["bob@example.com"].call_id  # nothing ties them
    assert checkin_channels(harness) == ["D0ANA", "D0BOB"]


def test_a_transfer_keeps_the_first_agents_call_and_checks_in_with_the_second(harness: Harness) -> None:
    harness.post_event(call_event(call_id="xfer-1", agent_email="ana@example.com", duration_s=120))
    settled(harness.services)
    harness.post_event(
        call_event(call_id="xfer-1", agent_email="bob@example.com", tags=["abusive"], duration_s=400)
    )
    harness.slack.wait_for("chat.postMessage")
    settled(harness.services)
    calls = calls_by_agent(harness, "xfer-1")
    ana, bob = calls["ana@example.com"], calls["bob@example.com"]
    assert (ana.hard, ana.duration_s, ana.tags) == (False, 120, [])  # Bob's call did not land on Ana
    assert (bob.hard, bob.duration_s, bob.tags) == (True, 400, ["abusive"])
    assert checkin_channels(harness) == ["D0BOB"]
    # A late tag for Ana's part of the call is hers alone: her call, her one check-in.
    harness.post_event(call_event(call_id="xfer-1", agent_email="ana@example.com", tags=["threat"]))
    harness.slack.wait_for("chat.postMessage", 2)
    settled(harness.services)
    calls = calls_by_agent(harness, "xfer-1")
    assert calls["ana@example.com"].tags == ["threat"] and calls["bob@example.com"].tags == ["abusive"]
    assert checkin_channels(harness) == ["D0ANA", "D0BOB"]
    with session_scope(harness.services.engine) as session:
        assert len(session.exec(select(Checkin)).all()) == 2


def aircall(event: str, call_id: int, user: int, tags: list[dict[str, Any]]) -> dict[str, Any]:
    now = int(time.time())
    data: dict[str, Any] = json.loads((FIXTURES / "aircall" / f"{event}.json").read_text())
    data["token"] = AIRCALL_TOKEN
    data["data"].update(
        {"id": call_id, "started_at": now - 300, "answered_at": now - 290, "ended_at": now - 5, "tags": tags}
    )
    data["data"]["user"] = {**data["data"]["user"], "id": user}
    return data


@pytest.fixture
def with_bob_on_aircall(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> Iterator[Harness]:
    data = yaml.safe_load(ROSTER.read_text())
    bob = next(a for a in data["teams"][0]["agents"] if a["email"] == "bob@example.com")
    bob.update({"aircall_user_id": 1002, "slack_user_id": "U0BOB"})
    path = tmp_path / "roster.yml"
    path.write_text(yaml.safe_dump(data))
    app = create_app(make_settings(config_path=path))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Harness(client, app.state.services, fake_slack)


def test_an_aircall_call_transferred_to_a_second_agent_is_theirs(with_bob_on_aircall: Harness) -> None:
    harness = with_bob_on_aircall
    # Ana answers first; an ordinary call. Aircall then reports the same call for Bob, to whom
    # she transferred it, and it was abusive.
    ana = aircall("call_ended", 99_001, 1001, [])
    assert harness.client.post("/webhooks/aircall", json=ana).status_code == 200
    settled(harness.services)
    bob = aircall("call_tagged", 99_001, 1002, [{"id": 1, "name": "Abusive"}])
    bob["timestamp"] = ana["timestamp"] + 1
    assert harness.client.post("/webhooks/aircall", json=bob).status_code == 200
    harness.slack.wait_for("chat.postMessage")
    settled(harness.services)
    calls = calls_by_agent(harness, "99001", provider="aircall")
    assert calls["ana@example.com"].hard is False and calls["ana@example.com"].tags == []
    assert calls["bob@example.com"].hard is True and calls["bob@example.com"].tags == ["Abusive"]
    assert calls["bob@example.com"].pseudonym == pseudonym(harness, "bob@example.com")
    assert checkin_channels(harness) == ["D0BOB"]
