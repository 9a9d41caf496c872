"""Protected breaks through the running app, against fake Twilio, Aircall and Dialpad APIs:
the click, the status change in the phone system, the honest reply, the restore on time.

The app and the fakes go by one test clock: a break ends when the test moves the clock on by
its length (and the break worker's retries come when it moves on to them), so no test waits
out a break. One test moves it to just before a break's end and lets the worker find the end
by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from bot.app import create_app
from bot.clock import utcnow
from storage import breaks as break_queue
from storage.db import read_scope, session_scope
from storage.models import Break, BreakState, Checkin, OutboxMessage
from tests.conftest import TWILIO_TOKEN, FakeApi, Harness, MakeSettings, hard_call
from tests.fakes.platform_apis import FakeConnect, FakeGenesys, FakeWebex, FakeZoom
from tests.fakes.provider_apis import FakeAircall, FakeDialpad, FakeProviderApi, FakeTwilio
from tests.fakes.slack_api import ApiCall, FakeSlack
from tests.helpers import Clock, action_ids, button_values, roster_with, settled

BREAK_MINUTES = 0.05  # 3 seconds
ZONE = ZoneInfo("Europe/Bucharest")  # the billing team's time zone
GENESYS_ANA = "u-4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
CONNECT_ANA = "a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b7c6d"
ZOOM_ANA = "zU4kLm9pQrS2tUvWxYz0Ab"
WEBEX_ANA = "4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a"


@dataclass
class Phone:
    """One fake phone system with Ana on it, and how to read and change her status."""

    provider: str
    label: str
    server: FakeProviderApi
    settings: dict[str, Any]
    status: Callable[[], str]  # Ana's status, in the provider's words
    before: str  # her status before the break
    on_break: str
    change_by_hand: Callable[[], None]  # Ana changes it herself (to `changed`)
    changed: str
    write: str = "PUT"  # the HTTP method that changes a status


def _twilio(fake_api: FakeApi) -> Phone:
    server = fake_api(FakeTwilio, account_sid="AC0test", auth_token=TWILIO_TOKEN, workspace_sid="WS0test")
    server.add_worker("WK0001", "Available")
    return Phone(
        "twilio",
        "Twilio",
        server,
        {"twilio_account_sid": "AC0test", "twilio_workspace_sid": "WS0test", "twilio_api_url": server.url},
        lambda: server.activity_of("WK0001"),
        "Available",
        "Break",
        lambda: server.set_activity("WK0001", "Lunch"),
        "Lunch",
        "POST",
    )


def _aircall(fake_api: FakeApi) -> Phone:
    server = fake_api(FakeAircall, api_id="aircall-id", api_token="aircall-api-token")
    server.add_user("1001", "available")
    return Phone(
        "aircall",
        "Aircall",
        server,
        {
            "aircall_api_id": "aircall-id",
            "aircall_api_token": "aircall-api-token",
            "aircall_api_url": server.url,
        },
        lambda: server.status_of("1001"),
        "available",
        "unavailable",
        lambda: server.set_status("1001", "custom"),
        "custom",
    )


def _dialpad(fake_api: FakeApi) -> Phone:
    server = fake_api(FakeDialpad, api_key="dialpad-api-key")
    server.add_user("2001", dnd=False)
    return Phone(
        "dialpad",
        "Dialpad",
        server,
        {"dialpad_api_key": "dialpad-api-key", "dialpad_api_url": server.url},
        lambda: "dnd" if server.dnd_of("2001") else "available",
        "available",
        "dnd",
        lambda: server.set_dnd("2001", False),
        "available",
        "PATCH",
    )


def _genesys(fake_api: FakeApi) -> Phone:
    server = fake_api(FakeGenesys, client_id="genesys-client", client_secret="genesys-client-secret")
    server.add_user(GENESYS_ANA, "On Queue")
    return Phone(
        "genesys",
        "Genesys Cloud",
        server,
        {
            "genesys_client_id": "genesys-client",
            "genesys_client_secret": "genesys-client-secret",
            "genesys_api_url": server.url,
            "genesys_login_url": server.url,
        },
        lambda: server.presence_of(GENESYS_ANA),
        "On Queue",
        "Break",
        lambda: server.set_presence(GENESYS_ANA, "Meal"),
        "Meal",
        "PATCH",
    )


def _connect(fake_api: FakeApi) -> Phone:
    instance = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    server = fake_api(
        FakeConnect,
        access_key_id="AKIDCONNECT",
        secret_access_key="connect-secret-key",
        region="eu-west-2",
        instance_id=instance,
    )
    server.add_user(CONNECT_ANA, "Available")
    return Phone(
        "connect",
        "Amazon Connect",
        server,
        {
            "connect_instance_id": instance,
            "connect_region": "eu-west-2",
            "connect_access_key_id": "AKIDCONNECT",
            "connect_secret_access_key": "connect-secret-key",
            "connect_api_url": server.url,
        },
        lambda: server.status_of(CONNECT_ANA),
        "Available",
        "Break",
        lambda: server.set_status(CONNECT_ANA, "Lunch"),
        "Lunch",
        "PUT",
    )


def _zoom(fake_api: FakeApi) -> Phone:
    server = fake_api(
        FakeZoom, account_id="zoom-account", client_id="zoom-client", client_secret="zoom-secret"
    )
    server.add_user(ZOOM_ANA, FakeZoom.READY)
    return Phone(
        "zoom",
        "Zoom Contact Center",
        server,
        {
            "zoom_account_id": "zoom-account",
            "zoom_client_id": "zoom-client",
            "zoom_client_secret": "zoom-secret",
            "zoom_break_status_id": FakeZoom.NOT_READY,
            "zoom_break_sub_status_id": "b7d1c2e3-break",
            "zoom_api_url": server.url,
            "zoom_oauth_url": server.url,
        },
        lambda: server.status_of(ZOOM_ANA),
        "Ready",
        "Not Ready (Break)",
        lambda: server.set_status(ZOOM_ANA, FakeZoom.NOT_READY, "c8e2d3f4-lunch"),
        "Not Ready (Lunch)",
        "PATCH",
    )


def _webex(fake_api: FakeApi) -> Phone:
    server = fake_api(
        FakeWebex, client_id="webex-client", client_secret="webex-secret", refresh_token="webex-refresh"
    )
    server.add_agent(WEBEX_ANA, "Available")
    return Phone(
        "webex",
        "Webex Contact Center",
        server,
        {
            "webex_client_id": "webex-client",
            "webex_client_secret": "webex-secret",
            "webex_refresh_token": "webex-refresh",
            "webex_break_aux_code_id": "AXbreak0000000000001",
            "webex_api_url": server.url,
            "webex_token_url": server.url + "/v1/access_token",
        },
        lambda: server.state_of(WEBEX_ANA),
        "Available",
        "Idle (Break)",
        lambda: server.set_state(WEBEX_ANA, "Idle", "AXlunch0000000000002"),
        "Idle (Lunch)",
        "PUT",
    )


PHONES = {
    "twilio": _twilio,
    "aircall": _aircall,
    "dialpad": _dialpad,
    "genesys": _genesys,
    "connect": _connect,
    "zoom": _zoom,
    "webex": _webex,
}


@pytest.fixture
def clock(fake_slack: FakeSlack) -> Clock:
    """The time the app and the fakes go by: now, ticking, until the test moves it on."""
    made = Clock(utcnow())
    fake_slack.clock = made.timestamp
    return made


def _on(clock: Clock, phone: Phone) -> Phone:
    phone.server.clock = clock.timestamp
    return phone


@pytest.fixture(params=sorted(PHONES))
def phone(request: pytest.FixtureRequest, fake_api: FakeApi, clock: Clock) -> Phone:
    return _on(clock, PHONES[request.param](fake_api))


@pytest.fixture
def aircall(fake_api: FakeApi, clock: Clock) -> Phone:
    return _on(clock, _aircall(fake_api))


@pytest.fixture
def twilio(fake_api: FakeApi, clock: Clock) -> Phone:
    return _on(clock, _twilio(fake_api))


def _app(
    make_settings: MakeSettings, tmp_path: Path, phone: Phone | None, clock: Clock, **product: Any
) -> Any:
    values = {"break_minutes": BREAK_MINUTES, "checkin_cooldown_minutes": 0.001, **product}
    roster = roster_with(tmp_path, **values)
    return create_app(make_settings(config_path=roster, **(phone.settings if phone else {})), clock=clock)


@pytest.fixture
def run(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path, clock: Clock
) -> Iterator[Callable[..., Harness]]:
    """Start the app with a phone system (and product settings); stopped at the end of the test."""
    clients: list[TestClient] = []

    def start(phone: Phone | None, **product: Any) -> Harness:
        app = _app(make_settings, tmp_path, phone, clock, **product)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return Harness(client, app.state.services, fake_slack)

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def take_break(harness: Harness, nth: int = 1) -> str:
    """A hard call, its check-in, and Ana's tap on "Take a breather"; returns the check-in id."""
    harness.post_event(hard_call())
    post = harness.slack.wait_for("chat.postMessage", nth)[nth - 1]
    (checkin_id,) = button_values(post.params["blocks"])
    response = harness.click(
        user_id="U0ANA",
        channel="D0ANA",
        ts=f"1700000000.00000{nth}",
        action_id="checkin.break",
        value=checkin_id,
    )
    assert response.status_code == 200
    return checkin_id


def the_break(harness: Harness, checkin_id: str) -> Break:
    with session_scope(harness.services.engine) as session:
        return session.exec(select(Break).where(col(Break.request_key) == f"checkin:{checkin_id}")).one()


def state_of(harness: Harness, checkin_id: str) -> str | None:
    """The break's state; None while the click's request is not stored yet."""
    with read_scope(harness.services.engine) as session:
        found = session.exec(select(Break).where(col(Break.request_key) == f"checkin:{checkin_id}")).first()
        return found.state if found else None


def end_break(harness: Harness, clock: Clock, minutes: float = BREAK_MINUTES) -> None:
    """The break's time passes: the clock moves on by its length and the break worker looks."""
    clock.advance(minutes=minutes)
    harness.services.breaks_wake.set()


def next_due(harness: Harness) -> Any:
    with read_scope(harness.services.engine) as session:
        return break_queue.next_due_at(session)


def retries_come_now(harness: Harness, clock: Clock, until: Callable[[], bool], timeout: float = 15) -> None:
    """Wait for `until`; whenever the break worker has put a retry off (its backoff), move the
    clock on to it instead of waiting it out."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        due = next_due(harness)
        if due is not None and due > clock():
            clock.now = due
            harness.services.breaks_wake.set()
        time.sleep(0.05)


SETTING = "Setting your break in "


def outcome(slack: FakeSlack, nth: int = 1, timeout: float = 10.0) -> ApiCall:
    """The nth check-in update that says what happened. The "Setting your break…" note comes
    before it when it went out in time (it is withdrawn when the outcome overtakes it)."""
    deadline = time.monotonic() + timeout
    while True:
        said = [c for c in slack.calls("chat.update") if not str(c.params["text"]).startswith(SETTING)]
        if len(said) >= nth:
            return said[nth - 1]
        if time.monotonic() > deadline:
            raise AssertionError(f"no outcome number {nth} within {timeout}s: {slack.calls('chat.update')}")
        time.sleep(0.05)


def welcome_back(slack: FakeSlack) -> str:
    posts = slack.wait_for("chat.postMessage", 2)
    assert posts[1].params["channel"] == "D0ANA"
    return str(posts[1].params["text"])


def test_break_is_set_in_the_phone_system_and_restored_when_it_ends(
    run: Callable[..., Harness], phone: Phone, clock: Clock
) -> None:
    harness = run(phone)
    checkin_id = take_break(harness)
    update = outcome(harness.slack)
    assert phone.status() == phone.on_break
    row = the_break(harness, checkin_id)
    assert row.ends_at is not None
    ends_at = row.ends_at
    until = row.ends_at.astimezone(ZONE).strftime("%H:%M")
    assert update.params["text"].startswith(f"You're on a protected break until {until}.")
    assert phone.label in update.params["text"]
    assert (update.params["channel"], update.params["ts"]) == ("D0ANA", "1700000000.000001")

    end_break(harness, clock)
    ended = clock.timestamp()  # the break's end has come
    assert "Welcome back" in welcome_back(harness.slack)
    assert phone.status() == phone.before
    set_at, restored_at = (r.at for r in phone.server.writes())
    assert set_at + BREAK_MINUTES * 60 <= restored_at  # never before its end
    assert ends_at.timestamp() <= restored_at < ended + 10  # and soon after it (a busy machine is slow)
    settled(harness.services)
    assert len(phone.server.writes()) == 2


def test_the_checkin_says_at_once_that_the_break_is_being_set_then_the_outcome_replaces_it(
    run: Callable[..., Harness], phone: Phone
) -> None:
    latency = 1.5  # a slow phone system: every request takes this long to answer
    phone.server.state.latency_s = latency
    harness = run(phone)
    take_break(harness)
    interim = harness.slack.wait_for("chat.update")[0]
    assert interim.params["text"] == (
        f"Setting your break in {phone.label}… I'll tell you here as soon as it's done."
    )
    assert action_ids(interim.params["blocks"]) == []  # nothing left to tap twice
    assert (interim.params["channel"], interim.params["ts"]) == ("D0ANA", "1700000000.000001")
    said = outcome(harness.slack)
    assert said.params["text"].startswith("You're on a protected break until")
    assert (said.params["channel"], said.params["ts"]) == ("D0ANA", "1700000000.000001")
    write = phone.server.writes()[0]
    assert interim.at < write.at + latency <= said.at  # shown before the phone system answered
    assert [c.params["text"] for c in harness.slack.calls("chat.update")] == [
        interim.params["text"],
        said.params["text"],
    ]


def test_when_the_slow_phone_system_refuses_the_honest_message_replaces_the_note(
    run: Callable[..., Harness], aircall: Phone
) -> None:
    aircall.server.state.latency_s = 1.5
    aircall.server.fail_next("PUT", 403)
    harness = run(aircall)
    take_break(harness)
    assert harness.slack.wait_for("chat.update")[0].params["text"].startswith("Setting your break in Aircall")
    said = outcome(harness.slack)
    assert said.params["text"].startswith("I couldn't change your status in Aircall — please set it yourself")
    assert action_ids(said.params["blocks"]) == []
    assert aircall.status() == "available"


def test_a_note_not_yet_sent_when_the_break_is_set_is_withdrawn_not_shown_afterwards(
    run: Callable[..., Harness], aircall: Phone
) -> None:
    harness = run(aircall)
    harness.slack.fail_next("chat.update", 429, retry_after=2)  # the note must wait its turn
    take_break(harness)
    said = outcome(harness.slack)
    assert said.params["text"].startswith("You're on a protected break until")
    settled(harness.services)
    texts = [str(c.params["text"]) for c in harness.slack.calls("chat.update")]
    assert not texts[-1].startswith(SETTING)  # the check-in ends on what really happened
    with session_scope(harness.services.engine) as session:
        (checkin,) = session.exec(select(Checkin)).all()
        note = harness.services.outbox.find(session, key=f"checkin:{checkin.id}:answer")
        assert note is not None
        assert note.last_error == "withdrawn"


def test_agent_who_changed_their_status_during_the_break_keeps_it(
    run: Callable[..., Harness], phone: Phone, clock: Clock
) -> None:
    harness = run(phone)
    take_break(harness)
    outcome(harness.slack)
    assert phone.status() == phone.on_break
    phone.change_by_hand()
    end_break(harness, clock)
    text = welcome_back(harness.slack)
    assert "you changed your" in text.lower() and "left it as you set it" in text
    assert phone.status() == phone.changed
    assert len(phone.server.writes()) == 1  # only the break itself; no restore over her choice


def test_a_restart_during_the_break_still_restores_it_on_time_or_at_once_when_overdue(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path, aircall: Phone, clock: Clock
) -> None:
    # A minute's break, so that restoring "another break later" could not pass for "at once".
    app = _app(make_settings, tmp_path, aircall, clock, break_minutes=1)
    with TestClient(app) as client:
        harness = Harness(client, app.state.services, fake_slack)
        checkin_id = take_break(harness)
        outcome(fake_slack)
        assert aircall.status() == "unavailable"
        ends_at = the_break(harness, checkin_id).ends_at
    assert ends_at is not None
    clock.advance(seconds=max(ends_at.timestamp() - clock.timestamp(), 0) + 0.5)  # due while nobody runs
    assert aircall.status() == "unavailable"

    again = create_app(make_settings(config_path=tmp_path / "roster.yml", **aircall.settings), clock=clock)
    started = clock.timestamp()
    with TestClient(again):
        restore = aircall.server.wait_for("PUT", 2, timeout=30)[1]
        assert restore.body == {"availability_status": "available"}
        assert restore.at - started < 30  # overdue: at once (start-up included), not a break later
        assert "Welcome back" in welcome_back(fake_slack)
        settled(again.state.services)
    assert aircall.status() == "available"


@pytest.mark.parametrize("provider", ["genesys", "connect", "zoom", "webex"])
def test_a_restart_during_the_break_restores_each_contact_centre_platforms_status(
    make_settings: MakeSettings,
    fake_slack: FakeSlack,
    fake_api: FakeApi,
    tmp_path: Path,
    clock: Clock,
    provider: str,
) -> None:
    phone = _on(clock, PHONES[provider](fake_api))
    app = _app(make_settings, tmp_path, phone, clock)
    with TestClient(app) as client:
        harness = Harness(client, app.state.services, fake_slack)
        checkin_id = take_break(harness)
        outcome(fake_slack)
        assert phone.status() == phone.on_break
        ends_at = the_break(harness, checkin_id).ends_at
    assert ends_at is not None
    clock.advance(seconds=max(ends_at.timestamp() - clock.timestamp(), 0) + 0.5)  # due while nobody runs

    again = create_app(make_settings(config_path=tmp_path / "roster.yml", **phone.settings), clock=clock)
    with TestClient(again):
        phone.server.wait_for(phone.write, 2)
        assert "Welcome back" in welcome_back(fake_slack)
        settled(again.state.services)
    assert phone.status() == phone.before


def test_a_restart_before_the_break_ends_restores_it_at_its_end(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path, aircall: Phone, clock: Clock
) -> None:
    app = _app(make_settings, tmp_path, aircall, clock, break_minutes=0.1)
    with TestClient(app) as client:
        harness = Harness(client, app.state.services, fake_slack)
        checkin_id = take_break(harness)
        outcome(fake_slack)
        ends_at = the_break(harness, checkin_id).ends_at
    assert ends_at is not None

    again = create_app(make_settings(config_path=tmp_path / "roster.yml", **aircall.settings), clock=clock)
    with TestClient(again):
        assert clock.timestamp() < ends_at.timestamp()  # the new process starts mid-break
        # To half a second before the end, and the worker is not told: it must wake by itself.
        clock.advance(seconds=ends_at.timestamp() - clock.timestamp() - 0.5)
        restore = aircall.server.wait_for("PUT", 2, timeout=15)[1]
    # At its end (woken by itself; a busy machine may be a few seconds slow), not a break later.
    assert ends_at.timestamp() <= restore.at < ends_at.timestamp() + 5.0
    assert aircall.status() == "available"


def test_a_passing_server_error_is_retried_and_the_break_still_happens(
    run: Callable[..., Harness], aircall: Phone
) -> None:
    aircall.server.fail_next("PUT", 500)
    harness = run(aircall)
    take_break(harness)
    update = outcome(harness.slack)
    assert "protected break" in update.params["text"]
    assert len(aircall.server.requests("PUT")) == 2
    assert aircall.status() == "unavailable"


def test_rate_limit_on_the_phone_api_is_waited_out_as_it_asks(
    run: Callable[..., Harness], phone: Phone
) -> None:
    write = phone.write
    phone.server.fail_next(write, 429, retry_after=1)
    harness = run(phone)
    take_break(harness)
    outcome(harness.slack)
    first, second = phone.server.requests(write)[:2]
    assert second.at - first.at >= 0.95  # Retry-After: 1 was honoured
    assert phone.status() == phone.on_break


def test_phone_system_that_keeps_failing_gets_an_honest_message_after_bounded_retries(
    run: Callable[..., Harness], aircall: Phone, clock: Clock
) -> None:
    aircall.server.fail_next("PUT", 503, times=50)
    harness = run(aircall, break_minutes=0.2)  # long enough that all retries fall within it
    checkin_id = take_break(harness)
    retries_come_now(harness, clock, lambda: state_of(harness, checkin_id) == BreakState.FAILED)
    update = outcome(harness.slack)
    assert update.params["text"].startswith(
        "I couldn't change your status in Aircall — please set it yourself"
    )
    assert len(aircall.server.requests("PUT")) == 9  # 3 attempts by the worker, 3 tries each
    row = the_break(harness, checkin_id)
    assert row.state == BreakState.FAILED and row.phone_user_id is None
    assert next_due(harness) is None  # nothing left for the break worker to try
    settled(harness.services)
    assert len(aircall.server.requests("PUT")) == 9  # given up: no more calls
    assert len(harness.slack.calls("chat.postMessage")) == 1  # and no welcome back


def test_phone_system_refusing_the_change_gets_an_honest_message_at_once(
    run: Callable[..., Harness], phone: Phone
) -> None:
    write = phone.write
    phone.server.fail_next(write, 403)
    harness = run(phone)
    take_break(harness)
    update = outcome(harness.slack)
    assert f"I couldn't change your status in {phone.label} — please set it yourself" in update.params["text"]
    assert len(phone.server.requests(write)) == 1
    assert phone.status() == phone.before


def test_a_failing_restore_is_retried_until_the_status_is_back(
    run: Callable[..., Harness], aircall: Phone, clock: Clock
) -> None:
    harness = run(aircall)
    take_break(harness)
    outcome(harness.slack)
    aircall.server.fail_next("PUT", 500, times=4)  # more than one attempt's own retries
    end_break(harness, clock)
    retries_come_now(harness, clock, lambda: len(harness.slack.calls("chat.postMessage")) >= 2)
    assert "Welcome back" in welcome_back(harness.slack)
    puts = aircall.server.requests("PUT")
    assert len(puts) == 6 and puts[-1].body == {"availability_status": "available"}
    assert aircall.status() == "available"


def test_agent_without_a_configured_phone_system_is_asked_to_set_the_break_themselves(
    run: Callable[..., Harness], aircall: Phone
) -> None:
    harness = run(None)  # Ana has phone ids, but no phone-system credentials are configured
    checkin_id = take_break(harness)
    update = outcome(harness.slack)
    assert "please set your break status in the phone system yourself" in update.params["text"]
    assert the_break(harness, checkin_id).state == BreakState.SELF_SERVICE
    assert aircall.server.requests() == []


def test_the_daily_cap_stops_further_breaks_in_the_phone_system(
    run: Callable[..., Harness], aircall: Phone, clock: Clock
) -> None:
    harness = run(aircall, breaks_per_day=1)
    take_break(harness)
    outcome(harness.slack)
    end_break(harness, clock)
    welcome_back(harness.slack)  # the first break ran its course
    clock.advance(seconds=0.1)  # past the (tiny) check-in cooldown
    second = take_break(harness, nth=3)  # check-in, welcome back, second check-in
    update = outcome(harness.slack, 2)
    assert update.params["text"].startswith("You've had one breather with me today, so I haven't")
    assert the_break(harness, second).state == BreakState.CAPPED
    assert len(aircall.server.requests("PUT")) == 2  # the first break and its restore only


def test_twilio_break_activity_is_looked_up_once_and_reservations_are_released(
    run: Callable[..., Harness], twilio: Phone, clock: Clock
) -> None:
    phone = twilio
    harness = run(phone)
    take_break(harness)
    outcome(harness.slack)
    end_break(harness, clock)
    welcome_back(harness.slack)
    clock.advance(seconds=0.1)  # past the (tiny) check-in cooldown
    take_break(harness, nth=3)
    outcome(harness.slack, 2)
    assert isinstance(phone.server, FakeTwilio)
    break_write = phone.server.writes()[0]
    assert break_write.body == {
        "ActivitySid": phone.server.sid_of("Break"),
        "RejectPendingReservations": "true",
    }
    assert [r.query for r in phone.server.requests("GET") if r.path.endswith("/Activities")] == [
        {"FriendlyName": "Break"}
    ]
    restore = phone.server.writes()[1]
    assert restore.headers.get("if-match")  # the restore only lands if nothing changed meanwhile


def test_a_second_break_while_one_runs_does_not_stack(
    run: Callable[..., Harness], aircall: Phone, clock: Clock
) -> None:
    harness = run(aircall, break_minutes=0.2)
    take_break(harness)
    outcome(harness.slack)
    clock.advance(seconds=0.1)  # past the (tiny) check-in cooldown
    take_break(harness, nth=2)
    second = outcome(harness.slack, 2)
    assert second.params["text"].startswith("You're already on a protected break until")
    assert len(aircall.server.requests("PUT")) == 1


def test_once_over_a_break_keeps_no_trace_of_who_or_where(
    run: Callable[..., Harness], phone: Phone, clock: Clock
) -> None:
    harness = run(phone)
    checkin_id = take_break(harness)
    outcome(harness.slack)
    end_break(harness, clock)
    welcome_back(harness.slack)
    settled(harness.services)
    row = the_break(harness, checkin_id)
    assert row.state == BreakState.RESTORED and row.finished_at is not None
    kept = {name for name, value in row.model_dump().items() if value is not None}
    assert kept <= {
        "id",
        "request_key",
        "team_id",
        "pseudonym",
        "kid",
        "provider",
        "state",
        "minutes",
        "requested_at",
        "started_at",
        "ends_at",
        "finished_at",
        "next_attempt_at",
        "attempts",
    }
    with session_scope(harness.services.engine) as session:
        for message in session.exec(select(OutboxMessage)):
            assert message.target == {} and message.payload == {}  # delivered, so forgotten
