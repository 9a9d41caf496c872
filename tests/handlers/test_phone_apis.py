"""The phone-system REST clients against the fake APIs: statuses read and written as each
provider expects, retries bounded and timed as the provider asks, errors sorted once."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from bot.recovery.phone import PhoneRefused, PhoneStatus, PhoneUnavailable, StatusChanged
from handlers.telephony.aircall_api import AircallUsers
from handlers.telephony.dialpad_api import DialpadUsers
from handlers.telephony.rest import RestApi, make_http_client, retry_after
from handlers.telephony.twilio_api import TwilioTaskRouter
from tests.conftest import FakeApi
from tests.fakes.provider_apis import FakeAircall, FakeDialpad, FakeTwilio

TOKEN = "twilio-secret-token"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_http_client() as made:
        yield made


@pytest.fixture
def twilio_api(fake_api: FakeApi) -> FakeTwilio:
    server: FakeTwilio = fake_api(FakeTwilio, account_sid="AC1", auth_token=TOKEN, workspace_sid="WS1")
    server.add_worker("WK0001", "Available")
    return server


@pytest.fixture
def aircall_api(fake_api: FakeApi) -> FakeAircall:
    server: FakeAircall = fake_api(FakeAircall, api_id="id", api_token="aircall-secret")
    server.add_user("1001", "custom")
    return server


def twilio(
    client: httpx.Client, server: FakeTwilio, *, token: str = TOKEN, activity: str = "Break"
) -> TwilioTaskRouter:
    return TwilioTaskRouter(
        client,
        base_url=server.url,
        account_sid="AC1",
        auth_token=token,
        workspace_sid="WS1",
        break_activity=activity,
    )


def test_twilio_break_and_restore_move_the_worker_between_activities(
    client: httpx.Client, twilio_api: FakeTwilio
) -> None:
    api = twilio(client, twilio_api)
    before = api.read_status("WK0001")
    assert before.value == twilio_api.sid_of("Available") and before.version
    on_break = api.set_break("WK0001")
    assert twilio_api.activity_of("WK0001") == "Break"
    current = api.read_status("WK0001")
    assert current.value == on_break.value
    api.set_status("WK0001", before, expected=current)
    assert twilio_api.activity_of("WK0001") == "Available"


def test_twilio_restore_over_a_change_made_meanwhile_fails_instead_of_overwriting(
    client: httpx.Client, twilio_api: FakeTwilio
) -> None:
    api = twilio(client, twilio_api)
    before = api.read_status("WK0001")
    api.set_break("WK0001")
    read = api.read_status("WK0001")
    twilio_api.set_activity("WK0001", "Lunch")  # between our read and our write
    with pytest.raises(StatusChanged):
        api.set_status("WK0001", before, expected=read)
    assert twilio_api.activity_of("WK0001") == "Lunch"


@pytest.mark.parametrize(
    ("activity", "problem"),
    [("Coffee", "no TaskRouter Activity named 'Coffee'"), ("Available", "still routes calls")],
)
def test_twilio_refuses_a_break_activity_that_is_missing_or_routes_calls(
    client: httpx.Client, twilio_api: FakeTwilio, activity: str, problem: str
) -> None:
    with pytest.raises(PhoneRefused, match=problem):
        twilio(client, twilio_api, activity=activity).set_break("WK0001")
    assert twilio_api.writes() == []


def test_wrong_credentials_are_refused_once_without_retries_or_secrets_in_the_message(
    client: httpx.Client, twilio_api: FakeTwilio
) -> None:
    with pytest.raises(PhoneRefused) as caught:
        twilio(client, twilio_api, token="wrong-secret-value").read_status("WK0001")
    assert str(caught.value) == "Twilio GET: HTTP 401"
    assert len(twilio_api.requests()) == 1


def test_aircall_availability_is_read_set_and_set_back(
    client: httpx.Client, aircall_api: FakeAircall
) -> None:
    api = AircallUsers(client, base_url=aircall_api.url, api_id="id", api_token="aircall-secret")
    before = api.read_status("1001")
    assert before == PhoneStatus("custom")
    assert api.set_break("1001") == PhoneStatus("unavailable") == api.read_status("1001")
    api.set_status("1001", before)
    assert aircall_api.status_of("1001") == "custom"
    assert [r.body for r in aircall_api.writes()] == [
        {"availability_status": "unavailable"},
        {"availability_status": "custom"},
    ]


def test_dialpad_break_is_do_not_disturb(client: httpx.Client, fake_api: FakeApi) -> None:
    server: FakeDialpad = fake_api(FakeDialpad, api_key="dialpad-secret")
    server.add_user("2001", dnd=False)
    api = DialpadUsers(client, base_url=server.url, api_key="dialpad-secret")
    before = api.read_status("2001")
    api.set_break("2001")
    assert server.dnd_of("2001") is True
    api.set_status("2001", before)
    assert server.dnd_of("2001") is False
    assert {r.path for r in server.writes()} == {"/api/v2/users/2001/togglednd"}


def test_server_errors_are_retried_with_growing_waits_then_reported_unavailable(
    client: httpx.Client, aircall_api: FakeAircall
) -> None:
    aircall_api.fail_next("GET", 502, times=3)
    api = AircallUsers(client, base_url=aircall_api.url, api_id="id", api_token="aircall-secret")
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the real wait, noted (a busy machine stretches gaps)
        waits.append(seconds)
        time.sleep(seconds)

    api.rest.sleep = sleep
    with pytest.raises(PhoneUnavailable, match="Aircall GET: HTTP 502"):
        api.read_status("1001")
    assert waits == [0.25, 0.5]
    first, second, third = (r.at for r in aircall_api.requests("GET"))
    assert second - first >= 0.25 and third - second >= 0.5  # waited before each retry


def test_rate_limit_waits_for_retry_after_and_then_succeeds(
    client: httpx.Client, aircall_api: FakeAircall
) -> None:
    aircall_api.fail_next("GET", 429, retry_after=1)
    api = AircallUsers(client, base_url=aircall_api.url, api_id="id", api_token="aircall-secret")
    assert api.read_status("1001") == PhoneStatus("custom")
    first, second = (r.at for r in aircall_api.requests("GET"))
    assert second - first >= 0.95


def test_a_long_retry_after_is_handed_to_the_caller_instead_of_blocking(
    client: httpx.Client, aircall_api: FakeAircall
) -> None:
    aircall_api.fail_next("PUT", 429, retry_after=30)
    api = AircallUsers(client, base_url=aircall_api.url, api_id="id", api_token="aircall-secret")
    with pytest.raises(PhoneUnavailable) as caught:
        api.set_break("1001")
    assert caught.value.retry_after == 30
    assert len(aircall_api.requests("PUT")) == 1


def test_connection_failures_and_timeouts_are_retried_and_reported(
    client: httpx.Client, aircall_api: FakeAircall
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(PhoneUnavailable, match="connection failed"):
        RestApi(client, label="Aircall", base_url=closed).call("GET", "/v1/users/1001")
    aircall_api.state.latency_s = 3.0
    slow = RestApi(
        client, label="Aircall", base_url=aircall_api.url, timeout=httpx.Timeout(0.1), backoff_s=0.01
    )
    started = time.monotonic()
    with pytest.raises(PhoneUnavailable, match="timed out"):
        slow.call("GET", "/v1/users/1001")
    # Three short attempts (0.3 s and the backoffs): not even one of them waited for the answer.
    assert time.monotonic() - started < aircall_api.state.latency_s
    assert len(aircall_api.requests("GET")) == 3


def test_retry_after_is_read_in_seconds_and_as_an_http_date() -> None:
    def answer(value: str) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": value})

    assert retry_after(answer("7")) == 7.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 18 <= (retry_after(answer(later)) or 0) <= 20
    assert retry_after(answer("soon")) is None
    assert retry_after(httpx.Response(503)) is None
