"""Nothing at rest links to a person (issue 13, item 1), on SQLite and PostgreSQL.

An ordinary day is driven through the real app, as the outside world would: signed webhooks
from every phone system, Slack clicks, modals and slash commands through `/slack/events`, the
fake Slack Web API answering, a real protected break in a fake Aircall, the scheduled jobs and
the retention purge. Once everything has settled, every cell of every table is read, and any
value that names a person (an e-mail, an agent's stable id or name, a chat user id, a DM
channel, a provider's user id, a call or event id sent today) fails the test, except in the
columns the data inventory classifies as the directory.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
import yaml
from sqlalchemy import Engine, inspect, text
from sqlmodel import select as orm_select
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.data_inventory import naming_columns
from handlers.sandbox.interactions import signed_headers
from handlers.slack.bolt_app import wait_for_listeners
from handlers.telephony.zendesk import sign as zendesk_sign
from storage.db import READ_ONLY, session_scope
from storage.models import Agent, Break, BreakState
from tests.conftest import (
    AIRCALL_TOKEN,
    DIALPAD_SECRET,
    SIGNING_SECRET,
    TWILIO_TOKEN,
    ZENDESK_SECRET,
    Harness,
    MakeSettings,
    hard_call,
)
from tests.fakes.provider_apis import FakeAircall
from tests.fakes.slack_api import FakeSlack
from tests.helpers import settled

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TWILIO_URL = "https://breather.test/webhooks/twilio"
# Provider ids unlike any number a row could hold by chance.
ANA = {
    "twilio": "WK5f0c1d2e3a4b5c6d7e8f9a0b1c2d3e4f",
    "aircall": "7310042",
    "dialpad": "8820051",
    "zendesk": "9930077",
}
BOB = {
    "twilio": "WK9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
    "aircall": "7310043",
    "dialpad": "8820052",
    "zendesk": "9930078",
}
DANA = {"dialpad": "8820054"}


def roster(path: Path) -> Path:
    agents = [
        {
            "email": "ana@example.com",
            "name": "Ana Popescu",
            "slack_user_id": "U0ANA",
            "twilio_worker_sid": ANA["twilio"],
            "aircall_user_id": ANA["aircall"],
            "dialpad_user_id": ANA["dialpad"],
            "zendesk_user_id": ANA["zendesk"],
        },
        {
            "email": "bob@example.com",
            "name": "Bob Stan",
            "twilio_worker_sid": BOB["twilio"],
            "aircall_user_id": BOB["aircall"],
            "dialpad_user_id": BOB["dialpad"],
            "zendesk_user_id": BOB["zendesk"],
        },
        {"email": "cris@example.com", "slack_user_id": "U0CRIS"},
        {"email": "dana@example.com", "slack_user_id": "U0DANA", "dialpad_user_id": DANA["dialpad"]},
        {"email": "emil@example.com", "slack_user_id": "U0EMIL"},
    ]
    data = {
        "teams": [
            {
                "id": "billing",
                "name": "Billing support",
                "channel": "C0BILLING",
                "timezone": "Europe/Bucharest",
                "shift": {
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "start": "00:00",
                    "end": "00:00",
                },
                "managers": ["radu@example.com"],
                "pulse": {"instruments": ["who5", "burnout_single"]},
                "agents": agents,
            }
        ],
        "settings": {"break_minutes": 0.05, "checkin_cooldown_minutes": 60},
    }
    target = path / "breather.yml"
    target.write_text(yaml.safe_dump(data))
    return target


@dataclass
class Day:
    """The app, and every identifier the outside world used today."""

    harness: Harness
    aircall: FakeAircall
    sent_ids: set[str] = field(default_factory=set)

    @property
    def slack(self) -> FakeSlack:
        return self.harness.slack

    def slack_post(self, body: str, content_type: str) -> Any:
        headers = signed_headers(SIGNING_SECRET, body, content_type)
        return self.harness.client.post("/slack/events", content=body, headers=headers)

    def interaction(self, payload: dict[str, Any]) -> Any:
        return self.slack_post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    def home_opened(self, user_id: str) -> None:
        event = {"type": "app_home_opened", "user": user_id, "tab": "home", "event_ts": "1.2"}
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": "T0TEST",
                "api_app_id": "A1",
                "event_id": f"Ev{uuid.uuid4().hex[:8]}",
                "event": event,
            }
        )
        assert self.slack_post(body, "application/json").status_code == 200

    def dm(self, channel: str, action: str, count: int = 1) -> str:
        """The value of `action`'s button in the latest DM to `channel` that has it."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for call in reversed(self.slack.calls("chat.postMessage")):
                blocks = call.params.get("blocks") or []
                buttons = [e for b in blocks if b.get("type") == "actions" for e in b["elements"]]
                if call.params["channel"] == channel and any(e["action_id"] == action for e in buttons):
                    return str(next(e["value"] for e in buttons if e["action_id"] == action))
            time.sleep(0.05)
        raise AssertionError(f"no DM to {channel} with {action}")

    def click(self, user: str, action: str, value: str) -> None:
        channel = "D" + user[1:]
        response = self.harness.click(
            user_id=user, channel=channel, ts="1700000000.000100", action_id=action, value=value
        )
        assert response.status_code == 200

    def settle(self) -> None:
        assert wait_for_listeners(self.harness.client.app.state.bolt, 15)  # type: ignore[attr-defined]
        settled(self.harness.services, 15)

    # --- the phone systems ---------------------------------------------------------------

    def generic(self, event: dict[str, Any]) -> None:
        self.sent_ids.update({event["event_id"], event.get("call_id") or event["event_id"]})
        assert self.harness.post_event(event).status_code == 202

    def aircall_hard_call(self) -> None:
        now = int(time.time())
        call_id = 5_550_000_000 + int(uuid.uuid4().int % 1_000_000)
        for name, tags in (("call_ended", []), ("call_tagged", [{"id": 1, "name": "Abusive"}])):
            event = json.loads((FIXTURES / "aircall" / f"{name}.json").read_text())
            event["token"] = AIRCALL_TOKEN
            event["data"].update(
                {
                    "id": call_id,
                    "started_at": now - 300,
                    "answered_at": now - 290,
                    "ended_at": now - 5,
                    "tags": tags,
                }
            )
            event["data"]["user"] = {
                "id": int(ANA["aircall"]),
                "name": "Ana Popescu",
                "email": "ana@example.com",
            }
            assert self.harness.client.post("/webhooks/aircall", json=event).status_code == 200
        self.sent_ids.add(str(call_id))

    def twilio_hard_call(self, worker: str) -> None:
        params = json.loads((FIXTURES / "twilio" / "task_wrapup.json").read_text())
        task, event = "WT" + uuid.uuid4().hex, "EV" + uuid.uuid4().hex
        attributes = json.loads(params["TaskAttributes"])
        attributes.update({"tags": ["abusive"], "call_sid": "CA" + uuid.uuid4().hex})
        attributes["conversations"]["conversation_id"] = task
        params.update(
            {
                "TaskAttributes": json.dumps(attributes),
                "WorkerSid": worker,
                "WorkerName": "bob@example.com",
                "WorkerAttributes": json.dumps({"email": "bob@example.com", "full_name": "Bob Stan"}),
                "TaskSid": task,
                "ResourceSid": task,
                "Sid": event,
                "Timestamp": str(int(time.time())),
                "TimestampMs": str(int(time.time() * 1000)),
            }
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, params),
        }
        response = self.harness.client.post("/webhooks/twilio", content=urlencode(params), headers=headers)
        assert response.status_code == 204
        self.sent_ids.update({task, event, attributes["call_sid"]})

    def dialpad_hard_call(self, user: str) -> None:
        event = json.loads((FIXTURES / "dialpad" / "hangup.json").read_text())
        now_ms = int(time.time() * 1000)
        call_id = 6_250_000_000_000_000 + int(uuid.uuid4().int % 10**9)
        event.update(
            {
                "call_id": call_id,
                "date_started": now_ms - 300_000,
                "date_connected": now_ms - 290_000,
                "date_ended": now_ms,
                "event_timestamp": now_ms,
                "iat": int(time.time()),
            }
        )
        event["target"] = {**event["target"], "id": int(user), "name": "Dana", "email": "dana@example.com"}
        token = jwt.encode(event, DIALPAD_SECRET, algorithm="HS256")
        response = self.harness.client.post(
            "/webhooks/dialpad", content=token, headers={"Content-Type": "application/jwt"}
        )
        assert response.status_code in (200, 202)
        self.sent_ids.add(str(call_id))

    def zendesk_compliment(self, assignee: str, comment: str) -> None:
        ticket, rating = str(40_000 + uuid.uuid4().int % 10_000), str(90_000 + uuid.uuid4().int % 10_000)
        data = {
            "type": "satisfaction_rating",
            "satisfaction_rating": {
                "id": rating,
                "score": "Good",
                "comment": comment,
                "assignee_id": assignee,
                "ticket_id": ticket,
            },
            "ticket": {"id": ticket, "requester": {"name": "Jo Bloggs"}, "tags": ["billing"]},
        }
        body = json.dumps(data).encode()
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        headers = {
            "Content-Type": "application/json",
            "X-Zendesk-Webhook-Signature": zendesk_sign(ZENDESK_SECRET, body, stamp),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        }
        assert self.harness.client.post("/webhooks/zendesk", content=body, headers=headers).status_code == 200
        self.sent_ids.update({f"ticket:{ticket}:good:{rating}"})


@pytest.fixture
def day(make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Day]:
    for user, email in (
        ("U0DANA", "dana@example.com"),
        ("U0EMIL", "emil@example.com"),
        ("U0RADU", "radu@example.com"),
    ):
        fake_slack.add_user(user, email)
    aircall = FakeAircall(api_id="aircall-id", api_token="aircall-api-token").start()
    aircall.add_user(ANA["aircall"], "available")
    settings = make_settings(
        config_path=roster(tmp_path),
        aircall_api_id="aircall-id",
        aircall_api_token="aircall-api-token",
        aircall_api_url=aircall.url,
    )
    app = create_app(settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Day(Harness(client, app.state.services, fake_slack), aircall)
    finally:
        aircall.stop()


def an_ordinary_day(day: Day) -> None:
    services = day.harness.services
    h = day.harness

    # A pulse round first: invitations wait an hour after a check-in.
    services.survey_actions.start_round("billing")
    ana_invite = day.dm("D0ANA", "pulse.open")
    bob_invite, cris_invite = day.dm("D0BOB", "pulse.skip"), day.dm("D0CRIS", "pulse.opt_out")
    day.click("U0ANA", "pulse.open", ana_invite)
    view = day.slack.wait_for("views.open")[0].params["view"]
    answers = {f"who5_{i}": "2" for i in range(1, 6)} | {"burnout_single_1": "3"}
    assert (
        h.submit_view(
            user_id="U0ANA",
            callback_id="pulse.survey",
            private_metadata=view["private_metadata"],
            values=answers,
        ).status_code
        == 200
    )
    day.click("U0BOB", "pulse.skip", bob_invite)
    day.click("U0CRIS", "pulse.opt_out", cris_invite)

    # Cris pauses, has a hard call (held back), opens Home, resumes.
    assert "paused" in h.command(user_id="U0CRIS", command="/breather", text="pause").text.lower()
    day.generic(hard_call(agent_email="cris@example.com", call_id=f"CONF-{uuid.uuid4().hex[:8]}"))
    day.home_opened("U0CRIS")

    # Ana: a hard Aircall call; she takes a protected break, which starts and ends.
    day.aircall_hard_call()
    day.click("U0ANA", "checkin.break", day.dm("D0ANA", "checkin.break"))
    # Bob: a hard Twilio call; he asks to talk to his lead.
    day.twilio_hard_call(BOB["twilio"])
    checkin = day.dm("D0BOB", "checkin.talk")
    day.click("U0BOB", "checkin.talk", checkin)
    talk = day.slack.wait_for("views.open", 2)[-1].params["view"]
    (field_,) = [b for b in talk["blocks"] if b["type"] == "input"]
    lead = next(o["value"] for o in field_["element"]["options"] if o["value"].startswith("lead:"))
    assert (
        h.submit_view(
            user_id="U0BOB", callback_id="recovery.talk", private_metadata=checkin, values={"person": lead}
        ).status_code
        == 200
    )
    # Dana: a hard Dialpad call; she is OK. Emil: a hard call on the generic webhook, the same
    # call id as Cris's conference call; he is OK too.
    day.dialpad_hard_call(DANA["dialpad"])
    day.click("U0DANA", "checkin.ok", day.dm("D0DANA", "checkin.ok"))
    day.generic(hard_call(agent_email="emil@example.com", call_id=f"SHARED-{uuid.uuid4().hex[:8]}"))
    day.click("U0EMIL", "checkin.ok", day.dm("D0EMIL", "checkin.ok"))
    assert h.command(user_id="U0CRIS", command="/breather", text="resume").status_code == 200

    # Compliments: Ana shares one, Bob keeps one, Cris passes a message on to Dana.
    day.zendesk_compliment(ANA["zendesk"], "Ana Popescu was so patient! Call me on 0722 123 456.")
    day.click("U0ANA", "compliment.share", day.dm("D0ANA", "compliment.share"))
    day.generic(
        {
            "type": "feedback",
            "event_id": f"FB-{uuid.uuid4().hex[:10]}",
            "agent_email": "bob@example.com",
            "rating": "good",
            "comment": "Bob Stan was kind and quick.",
            "source": "survey",
        }
    )
    day.click("U0BOB", "compliment.keep_private", day.dm("D0BOB", "compliment.keep_private"))
    day.interaction(
        {
            "type": "message_action",
            "callback_id": "compliment_from_message",
            "team": {"id": "T0TEST"},
            "user": {"id": "U0CRIS"},
            "channel": {"id": "C0OTHER"},
            "message": {
                "type": "message",
                "ts": "5.5",
                "text": "Dana fixed my bill in a minute, thank you Dana",
            },
            "trigger_id": f"trigger.{uuid.uuid4().hex}",
            "response_url": "",
        }
    )
    recipient_form = day.slack.wait_for("views.open", 3)[-1].params["view"]
    state = {"values": {"recipient": {"recipient": {"type": "users_select", "selected_user": "U0DANA"}}}}
    day.interaction(
        {
            "type": "view_submission",
            "team": {"id": "T0TEST"},
            "user": {"id": "U0CRIS"},
            "trigger_id": f"trigger.{uuid.uuid4().hex}",
            "view": {**recipient_form, "id": "V1", "state": state},
        }
    )
    day.click("U0DANA", "compliment.keep_private", day.dm("D0DANA", "compliment.keep_private"))

    # Kudos, from an agent and from the lead.
    assert (
        "Kudos posted"
        in h.command(user_id="U0ANA", command="/kudos", text="<@U0BOB|bob> thanks for the cover").text
    )
    assert "Kudos posted" in h.command(user_id="U0RADU", command="/kudos", text="<@U0DANA> great week").text

    # The lead reads the digest three ways; the weekly jobs run.
    h.command(user_id="U0RADU", command="/breather", text="digest")
    day.home_opened("U0RADU")
    services.digest_desk.weekly("billing")
    services.digest_desk.surges()
    services.compliments.post_rollup("billing")

    # Ana's break ends and is restored; then the nightly purge.
    deadline = time.monotonic() + 20
    while True:
        with session_scope(services.engine) as session:
            states = {row.state for row in session.exec(orm_select(Break))}
        if states and states <= {BreakState.RESTORED, BreakState.KEPT}:
            break
        assert time.monotonic() < deadline, f"the break did not end: {states}"
        time.sleep(0.1)
    assert day.aircall.status_of(ANA["aircall"]) == "available"
    day.settle()
    posted = {call.params["channel"] for call in day.slack.calls("chat.postMessage")}
    assert {"D0RADU", "C0BILLING"} <= posted  # Bob's request and the digest reached the lead; shares
    services.retention.purge()
    day.settle()


def identities(day: Day) -> dict[str, str]:
    """Every value that names a person today -> what it is."""
    services = day.harness.services
    found: dict[str, str] = {}
    with session_scope(services.engine) as session:
        agents = list(session.exec(orm_select(Agent)))
    for agent in agents:
        found[agent.id] = f"{agent.email}'s stable id"
        found[agent.email] = "an agent's e-mail"
        found[agent.name] = "an agent's name"
        for word in agent.name.split():
            if len(word) >= 3:
                found[word] = f"a word of {agent.name}'s name"
        for kind, value in agent.provider_ids.items():
            found[str(value)] = f"{agent.email}'s {kind}"
    for user in ("U0ANA", "U0BOB", "U0CRIS", "U0DANA", "U0EMIL", "U0RADU"):
        found[user] = "a Slack user id"
        found["D" + user[1:]] = "a DM channel id"
    for value in (*ANA.values(), *BOB.values(), *DANA.values()):
        found[value] = "a provider's user id"
    found["radu@example.com"] = "a team lead's e-mail"
    for sent in day.sent_ids:
        found[sent] = "a call or event id sent today"
    # Make sure the fake Slack did hand out what we look for.
    opened = {call.params.get("users") for call in day.slack.calls("conversations.open")}
    assert {"U0ANA", "U0BOB"} <= opened
    return found


def stored_cells(engine: Engine) -> Iterator[tuple[str, str, str]]:
    """(table, column, text) for every non-empty cell outside the directory."""
    naming = naming_columns()
    schema = inspect(engine)
    with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
        for table in schema.get_table_names():
            columns = [c["name"] for c in schema.get_columns(table)]
            for row in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():
                for column in columns:
                    value = row[column]
                    if value is None or (table, column) in naming:
                        continue
                    shown = value if isinstance(value, str) else json.dumps(value, default=str)
                    yield table, column, shown


def test_an_ordinary_day_leaves_nothing_at_rest_that_names_a_person(day: Day) -> None:
    an_ordinary_day(day)
    engine = day.harness.services.engine
    wanted = identities(day)
    pattern = re.compile(
        "|".join(
            rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])"
            for value in sorted(wanted, key=len, reverse=True)
        ),
        re.IGNORECASE,
    )
    what = {value.lower(): kind for value, kind in wanted.items()}
    leaks = sorted(
        {
            f"{table}.{column}: {what[match.group().lower()]} ({match.group()!r})"
            for table, column, cell in stored_cells(engine)
            for match in pattern.finditer(cell)
        }
    )
    assert leaks == []
    # The day really happened: there is something under pseudonyms to look through.
    with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
        counted: dict[str, int] = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in (
                "calls",
                "checkins",
                "breaks",
                "talk_requests",
                "survey_answers",
                "compliments",
                "kudos",
                "outbox",
                "agent_prefs",
                "digest_access_log",
            )
        }
    assert all(counted.values()), counted
