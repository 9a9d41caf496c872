"""The contact-centre platforms (Genesys Cloud, ...) through the running app: a realistic,
authenticated event stream gives the right agent exactly one check-in, in any order and with
repeats; bad credentials and bad input get a 4xx and change nothing.

Each platform is described once (`Platform`): how to post one of its events as the platform
sends it, and the events of one hard call. The tests run for every platform on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, func, select
from starlette.testclient import TestClient

from bot.app import create_app
from bot.clock import utcnow
from handlers.telephony.webex import sign as webex_sign
from handlers.telephony.zoom import sign as zoom_sign
from storage.db import session_scope
from storage.models import Call, Checkin, InboundEvent
from tests.conftest import CONNECT_SECRET, GENESYS_SECRET, WEBEX_SECRET, ZOOM_SECRET, Harness, MakeSettings
from tests.fakes.slack_api import FakeSlack
from tests.helpers import Clock, action_ids, roster_with, settled

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GENESYS_WRAP_UP = "7c9e1f2a-3b4d-4e5f-8a6b-7c8d9e0f1a2b"  # the wrap-up code operators list as a marker


def load(provider: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / provider / f"{name}.json").read_text())
    return data


@dataclass
class Platform:
    provider: str
    markers: list[str]  # abuse markers the hard call's stream carries
    stream: Callable[[str, datetime], list[dict[str, Any]]]  # one hard call's events, by call id
    post: Callable[[TestClient, dict[str, Any]], Any]  # as the platform sends it
    unauthenticated: Callable[[TestClient, dict[str, Any]], Any]
    broken: list[dict[str, Any]]  # authenticated bodies that must be refused with a 4xx


# --- Genesys Cloud ----------------------------------------------------------------------------


def _genesys_stream(call_id: str, now: datetime) -> list[dict[str, Any]]:
    ms = int(now.timestamp() * 1000)
    events = []
    for name, at in (("user_end", ms), ("acw", ms + 65_000), ("customer_end", ms)):
        event = load("genesys", name)
        event["id"] = str(uuid.uuid4())
        body = event["detail"]["eventBody"]
        body["conversationId"] = call_id
        body["eventTime"] = at
        event["detail"]["topicName"] = event["detail"]["topicName"].replace(
            "9b1e4c7a-2f3d-4e5a-8b6c-0d1e2f3a4b5c", call_id
        )
        events.append(event)
    return events


def _genesys_post(client: TestClient, event: dict[str, Any]) -> Any:
    return client.post("/webhooks/genesys", json=event, headers={"x-breather-key": GENESYS_SECRET})


def _genesys_unauthenticated(client: TestClient, event: dict[str, Any]) -> Any:
    return client.post("/webhooks/genesys", json=event, headers={"x-breather-key": "guess"})


def _genesys_broken() -> list[dict[str, Any]]:
    no_conversation = load("genesys", "user_end")
    del no_conversation["detail"]["eventBody"]["conversationId"]
    negative = load("genesys", "user_end")
    negative["detail"]["eventBody"]["interactingDurationMs"] = -1
    nul = load("genesys", "user_end")
    nul["detail"]["eventBody"]["queueId"] = "q\x00"
    # Issue 20: read as a moment or a length before (a boolean, other scripts' digits).
    hostile = []
    for field, value in (("eventTime", True), ("eventTime", "\u0661\u0662\u0663"), ("heldDurationMs", True)):
        event = load("genesys", "user_end")
        event["detail"]["eventBody"][field] = value
        hostile.append(event)
    return [no_conversation, negative, nul, {"detail-type": "x"}, *hostile]


# --- Amazon Connect ---------------------------------------------------------------------------

CONNECT_CONTACT = "6f5e4d3c-2b1a-4f0e-9d8c-7b6a5f4e3d2c"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _connect_stream(call_id: str, now: datetime) -> list[dict[str, Any]]:
    events = []
    for name in ("disconnected", "completed", "lens_rule"):
        text = json.dumps(load("connect", name)).replace(CONNECT_CONTACT, call_id)
        text = text.replace("2026-03-10T09:13:35.000Z", _iso(now - timedelta(minutes=3)))
        text = text.replace("2026-03-10T09:23:47.000Z", _iso(now))
        event = json.loads(text)
        event["id"] = str(uuid.uuid4())
        events.append(event)
    return events


def _connect_post(client: TestClient, event: dict[str, Any]) -> Any:
    basic = base64.b64encode(f"breather:{CONNECT_SECRET}".encode()).decode()
    return client.post("/webhooks/connect", json=event, headers={"Authorization": f"Basic {basic}"})


def _connect_unauthenticated(client: TestClient, event: dict[str, Any]) -> Any:
    basic = base64.b64encode(b"breather:guess").decode()
    return client.post("/webhooks/connect", json=event, headers={"Authorization": f"Basic {basic}"})


def _connect_broken() -> list[dict[str, Any]]:
    no_contact = load("connect", "disconnected")
    del no_contact["detail"]["contactId"]
    bad_arn = load("connect", "disconnected")
    bad_arn["detail"]["agentInfo"]["agentArn"] = "agent/1"
    bad_time = load("connect", "disconnected")
    bad_time["detail"]["disconnectTimestamp"] = "tomorrow"
    no_rule = load("connect", "lens_rule")
    del no_rule["detail"]["ruleName"]
    past_calendar = load("connect", "disconnected")  # its offset overflows (issue 20)
    past_calendar["detail"]["disconnectTimestamp"] = "9999-12-31T23:59:59-14:00"
    return [
        no_contact,
        bad_arn,
        bad_time,
        no_rule,
        {"detail-type": "Amazon Connect Contact Event"},
        past_calendar,
    ]


# --- Zoom Contact Center ----------------------------------------------------------------------

ZOOM_ENGAGEMENT = "dGhpcy1pcy1hbi1lbmdhZ2VtZW50LWlk"


def _zoom_stream(call_id: str, now: datetime) -> list[dict[str, Any]]:
    events = []
    for offset, name in enumerate(("engagement_user_ended", "engagement_ended")):
        text = json.dumps(load("zoom", name)).replace(ZOOM_ENGAGEMENT, call_id)
        text = text.replace("2026-03-10T09:23:47Z", _iso(now)).replace("2026-03-10T09:24:52Z", _iso(now))
        text = text.replace("2026-03-10T09:13:35Z", _iso(now - timedelta(minutes=3)))
        event = json.loads(text)
        event["event_ts"] = int(now.timestamp() * 1000) + offset
        events.append(event)
    return events


def _zoom_signed(client: TestClient, event: dict[str, Any], secret: str) -> Any:
    body = json.dumps(event).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "x-zm-request-timestamp": timestamp,
        "x-zm-signature": zoom_sign(secret, timestamp, body),
    }
    return client.post("/webhooks/zoom", content=body, headers=headers)


def _zoom_post(client: TestClient, event: dict[str, Any]) -> Any:
    return _zoom_signed(client, event, ZOOM_SECRET)


def _zoom_unauthenticated(client: TestClient, event: dict[str, Any]) -> Any:
    return _zoom_signed(client, event, "not-the-secret-token")


def _zoom_broken() -> list[dict[str, Any]]:
    no_id = load("zoom", "engagement_user_ended")
    del no_id["payload"]["object"]["engagement_id"]
    negative = load("zoom", "engagement_user_ended")
    negative["payload"]["object"]["hold_duration"] = -3
    no_ts = load("zoom", "engagement_user_ended")
    del no_ts["event_ts"]
    no_token = load("zoom", "url_validation")
    del no_token["payload"]["plainToken"]
    # Issue 20: an overflowing offset, a numeric string, a negative time, a token not text.
    hostile = []
    for field, value in (("end_time", "9999-12-31T23:59:59-14:00"), ("talk_duration", "1e5")):
        event = load("zoom", "engagement_user_ended")
        event["payload"]["object"][field] = value
        hostile.append(event)
    hostile.append({**load("zoom", "engagement_user_ended"), "event_ts": -1})
    hostile.append({**load("zoom", "url_validation"), "payload": {"plainToken": 5}})
    return [no_id, negative, no_ts, no_token, {"payload": {}}, *hostile]


# --- Webex Contact Center ---------------------------------------------------------------------

WEBEX_TASK = "7e6d5c4b-3a2f-4e1d-8c0b-9a8f7e6d5c4b"


def _webex_stream(call_id: str, now: datetime) -> list[dict[str, Any]]:
    ms = int(now.timestamp() * 1000)
    events = []
    for name in ("task_ended_rona", "task_ended", "task_wrapup"):
        event = json.loads(json.dumps(load("webex", name)).replace(WEBEX_TASK, call_id))
        event["id"] = str(uuid.uuid4())
        data = event["data"]
        if "endedTime" in data:
            data.update(connectedTime=ms - 612_000, endedTime=ms, createdTime=ms - 612_000)
        events.append(event)
    return events


def _webex_signed(client: TestClient, event: dict[str, Any], secret: str) -> Any:
    body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", "X-Webex-Signature": webex_sign(secret, body)}
    return client.post("/webhooks/webex", content=body, headers=headers)


def _webex_post(client: TestClient, event: dict[str, Any]) -> Any:
    return _webex_signed(client, event, WEBEX_SECRET)


def _webex_unauthenticated(client: TestClient, event: dict[str, Any]) -> Any:
    return _webex_signed(client, event, "not-the-subscription-secret")


def _webex_broken() -> list[dict[str, Any]]:
    no_task = load("webex", "task_ended")
    del no_task["data"]["taskId"]
    negative = load("webex", "task_ended")
    negative["data"]["holdDuration"] = -1
    bad_time = load("webex", "task_ended")
    bad_time["data"]["endedTime"] = "yesterday"
    hostile = []  # issue 20: before 1970; an offset that overflows
    for field, value in (("endedTime", -1), ("connectedTime", "9999-12-31T23:59:59-14:00")):
        event = load("webex", "task_ended")
        event["data"][field] = value
        hostile.append(event)
    return [no_task, negative, bad_time, {"type": "task:ended"}, {"data": {}}, *hostile]


PLATFORMS = {
    "genesys": Platform(
        "genesys",
        [GENESYS_WRAP_UP],
        _genesys_stream,
        _genesys_post,
        _genesys_unauthenticated,
        _genesys_broken(),
    ),
    "connect": Platform(
        "connect",
        ["abusive-language"],
        _connect_stream,
        _connect_post,
        _connect_unauthenticated,
        _connect_broken(),
    ),
    "zoom": Platform(
        "zoom",
        ["abusive caller"],
        _zoom_stream,
        _zoom_post,
        _zoom_unauthenticated,
        _zoom_broken(),
    ),
    "webex": Platform(
        "webex",
        ["abusive caller"],
        _webex_stream,
        _webex_post,
        _webex_unauthenticated,
        _webex_broken(),
    ),
}


# --- the tests --------------------------------------------------------------------------------


@pytest.fixture(params=sorted(PLATFORMS))
def platform(request: pytest.FixtureRequest) -> Platform:
    return PLATFORMS[request.param]


@pytest.fixture
def clock(fake_slack: FakeSlack) -> Clock:
    made = Clock(utcnow())
    fake_slack.clock = made.timestamp
    return made


@pytest.fixture
def app_for(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path, clock: Clock
) -> Iterator[Callable[[Platform], Harness]]:
    clients: list[TestClient] = []

    def start(platform: Platform) -> Harness:
        # Check-ins are not held back by the cooldown or the daily cap: the tests count them.
        roster = roster_with(
            tmp_path,
            abuse_markers=["abusive", *platform.markers],
            checkin_cooldown_minutes=0.5,
            checkins_per_day=1000,
        )
        app = create_app(make_settings(config_path=roster), clock=clock)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return Harness(client, app.state.services, fake_slack)

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def checkins_per_call(harness: Harness) -> list[int]:
    with session_scope(harness.services.engine) as session:
        rows = session.exec(select(col(Checkin.call_id), func.count()).group_by(col(Checkin.call_id))).all()
    return [count for _, count in rows]


def test_a_hard_call_stream_gives_the_agent_one_checkin(
    app_for: Callable[[Platform], Harness], platform: Platform, clock: Clock
) -> None:
    harness = app_for(platform)
    for event in platform.stream(f"call-{uuid.uuid4()}", clock.now):
        response = platform.post(harness.client, event)
        assert response.status_code in (200, 204), response.text

    post = harness.slack.wait_for("chat.postMessage")[0]
    assert post.params["channel"] == "D0ANA"
    assert action_ids(post.params["blocks"]) == ["checkin.ok", "checkin.break", "checkin.talk"]
    settled(harness.services)
    assert len(harness.slack.calls("chat.postMessage")) == 1


def test_every_order_with_every_event_repeated_gives_one_checkin_per_call(
    app_for: Callable[[Platform], Harness], platform: Platform, clock: Clock
) -> None:
    harness = app_for(platform)
    orders = list(itertools.permutations(range(len(platform.stream("probe", clock.now)))))
    for order in orders:
        events = platform.stream(f"call-{uuid.uuid4()}", clock.now)
        # Each event in its turn, then the whole stream again as a retrying sender would.
        for index in [*order, *reversed(order)]:
            response = platform.post(harness.client, copy.deepcopy(events[index]))
            assert response.status_code in (200, 204), response.text
        settled(harness.services)
        clock.advance(minutes=1)  # past the cooldown, so the next call may be checked in on too

    assert checkins_per_call(harness) == [1] * len(orders)
    with session_scope(harness.services.engine) as session:
        calls = session.exec(select(func.count()).select_from(Call)).one()
    assert calls == len(orders)


def test_wrong_credentials_are_refused_and_change_nothing(
    app_for: Callable[[Platform], Harness], platform: Platform, clock: Clock
) -> None:
    harness = app_for(platform)
    for event in platform.stream("call-forged", clock.now):
        assert platform.unauthenticated(harness.client, event).status_code == 401

    settled(harness.services)
    with session_scope(harness.services.engine) as session:
        assert session.exec(select(func.count()).select_from(InboundEvent)).one() == 0
    assert harness.slack.calls("chat.postMessage") == []


def test_bad_input_gets_a_4xx_naming_the_problem_and_changes_nothing(
    app_for: Callable[[Platform], Harness], platform: Platform
) -> None:
    harness = app_for(platform)
    for body in platform.broken:
        response = platform.post(harness.client, body)
        assert 400 <= response.status_code < 500, (body, response.status_code)
        assert response.json()["error"], body

    with session_scope(harness.services.engine) as session:
        assert session.exec(select(func.count()).select_from(InboundEvent)).one() == 0


def test_zoom_url_validation_is_answered_through_the_app_and_stores_nothing(
    app_for: Callable[[Platform], Harness],
) -> None:
    harness = app_for(PLATFORMS["zoom"])
    challenge = load("zoom", "url_validation")

    response = _zoom_post(harness.client, challenge)

    assert response.status_code == 200
    assert response.json() == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": hmac.new(
            ZOOM_SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256
        ).hexdigest(),
    }
    assert _zoom_unauthenticated(harness.client, challenge).status_code == 401
    with session_scope(harness.services.engine) as session:
        assert session.exec(select(func.count()).select_from(InboundEvent)).one() == 0
