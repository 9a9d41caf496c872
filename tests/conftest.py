"""Shared fixtures: a database per test on SQLite and PostgreSQL, Settings built from values
(never from the shell's environment), the fake Slack Web API, and the running app.

What is costly to build is built once per session and handed to each test as new: the
migrated databases (tests/databases.py) and the fake API servers (`fake_api`).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.app import create_app
from bot.config import Settings
from bot.container import Services
from handlers.sandbox.interactions import (
    block_actions_body,
    choices_submission_body,
    signed_headers,
    slash_command_body,
)
from handlers.telephony.generic import sign
from tests.databases import PostgresSchema, SqliteTemplate, schema_url
from tests.fakes.server import FakeServer
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_connector import ISSUER, FakeTeamsConnector
from tests.teams_harness import APP_ID, TENANT, TeamsHarness, fake_token

FIXTURES = Path(__file__).parent / "fixtures"
ROSTER = FIXTURES / "breather.yml"
PSEUDONYM_KEY = "test-pseudonym-key-0123456789-abcdefghijklmnop"
WEBHOOK_SECRET = "test-webhook-secret"
SIGNING_SECRET = "test-slack-signing-secret"
TWILIO_TOKEN = "test-twilio-auth-token"
AIRCALL_TOKEN = "test-aircall-webhook-token"
DIALPAD_SECRET = "test-dialpad-webhook-secret-0123456789"
ZENDESK_SECRET = "test-zendesk-signing-secret"
GENESYS_SECRET = "test-genesys-eventbridge-secret"
CONNECT_SECRET = "test-connect-eventbridge-secret"
ZOOM_SECRET = "test-zoom-webhook-secret-token"
WEBEX_SECRET = "test-webex-subscription-secret"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

_SETTING_VARS = (
    "DATABASE_URL",
    "BREATHER_CONFIG",
    "BREATHER_MESSENGER",
    "BREATHER_PUBLIC_URL",
    "BREATHER_PSEUDONYM_KEY",
    "BREATHER_PSEUDONYM_KEYS_OLD",
    "BREATHER_WEBHOOK_SECRET",
    "BREATHER_DEMO",
    "BREATHER_LOG_LEVEL",
    "BREATHER_SEND_PACE_SECONDS",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_WORKSPACE_SID",
    "TWILIO_API_URL",
    "TWILIO_BREAK_ACTIVITY",
    "AIRCALL_WEBHOOK_TOKEN",
    "AIRCALL_API_ID",
    "AIRCALL_API_TOKEN",
    "AIRCALL_API_URL",
    "ZENDESK_WEBHOOK_SECRET",
    "DIALPAD_WEBHOOK_SECRET",
    "DIALPAD_API_KEY",
    "DIALPAD_API_URL",
    "TEAMS_APP_ID",
    "TEAMS_APP_PASSWORD",
    "TEAMS_TENANT_ID",
    "TEAMS_SERVICE_URL",
    # What the Teams SDK reads when an option is not passed (Breather passes them all).
    "CLIENT_ID",
    "CLIENT_SECRET",
    "TENANT_ID",
    "SERVICE_URL",
    "CLOUD",
    "MANAGED_IDENTITY_CLIENT_ID",
    "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests pass every setting explicitly; a developer's shell must not leak into them."""
    for name in _SETTING_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env or breather.yml from the working copy


_NO_CERTIFICATES: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Every fake speaks plain HTTP on 127.0.0.1, yet each HTTP client the app builds loads a whole
    CA bundle when SSL_CERT_FILE (or certifi) names one: about 0.1 s of CPU apiece, four times per
    Teams app. An empty certificate directory is read only when a certificate must be checked,
    which no test does; so contexts cost nothing and no test can reach a real TLS server."""
    directory = tempfile.mkdtemp(prefix="breather-tests-no-certificates-")
    _NO_CERTIFICATES.append(directory)
    os.environ.pop("SSL_CERT_FILE", None)
    os.environ["SSL_CERT_DIR"] = directory


def pytest_unconfigure(config: pytest.Config) -> None:
    for directory in _NO_CERTIFICATES:
        os.rmdir(directory)


_pg_reason: list[str] = []


def postgres_unavailable() -> str | None:
    if not _pg_reason:
        try:
            engine = sqlalchemy.create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect():
                pass
            engine.dispose()
            _pg_reason.append("")
        except Exception as error:  # any failure to connect means: skip, and say why
            _pg_reason.append(f"PostgreSQL unreachable at {PG_URL.split('@')[-1]}: {type(error).__name__}")
    return _pg_reason[0] or None


def pytest_report_header(config: pytest.Config) -> str:
    reason = postgres_unavailable()
    return (
        f"postgresql: {reason}; those tests are skipped" if reason else f"postgresql: {PG_URL.split('@')[-1]}"
    )


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema (its own search_path) for one test, dropped afterwards."""
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sqlalchemy.create_engine(PG_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    yield schema_url(PG_URL, schema)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def _pg_schema() -> Iterator[PostgresSchema]:
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    schema = PostgresSchema(PG_URL)
    yield schema
    schema.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test's own database, migrated and empty (copied or emptied, never migrated again)."""
    if request.param == "sqlite":
        template: SqliteTemplate = request.getfixturevalue("_sqlite_template")
        return template.copy_to(tmp_path / "breather.db")
    schema: PostgresSchema = request.getfixturevalue("_pg_schema")
    return schema.fresh()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no schema at all, for tests of migrations themselves."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[sqlalchemy.Engine]:
    """The test's database with the schema migrated; disposed afterwards."""
    from storage.db import make_engine

    made = make_engine(database_url)
    yield made
    made.dispose()


# --- fake APIs -------------------------------------------------------------------------------

Server = TypeVar("Server", bound=FakeServer)


class FakePool:
    """Started fake servers kept for the whole session, by class and constructor arguments."""

    def __init__(self) -> None:
        self.idle: dict[tuple[Any, ...], list[FakeServer]] = {}
        self.every: list[FakeServer] = []

    def take(self, kind: type[Server], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], Server]:
        key = (kind, tuple(sorted(kwargs.items())))
        idle = self.idle.setdefault(key, [])
        while idle and not idle[-1].running:  # a test stopped it (Slack "down"): start another
            idle.pop()
        if idle:
            server = idle.pop()
            server.reset()
        else:
            server = kind(**kwargs).start()
            self.every.append(server)
        assert isinstance(server, kind)
        return key, server

    def give_back(self, key: tuple[Any, ...], server: FakeServer) -> None:
        self.idle[key].append(server)

    def stop(self) -> None:
        for server in self.every:
            server.stop()


@pytest.fixture(scope="session")
def _fake_pool() -> Iterator[FakePool]:
    pool = FakePool()
    yield pool
    pool.stop()


FakeApi = Callable[..., Any]


@pytest.fixture
def fake_api(_fake_pool: FakePool) -> Iterator[FakeApi]:
    """`fake_api(FakeTwilio, account_sid=...)`: a started fake server in the state it was built
    in, shared across tests (reset, not restarted). Two calls in one test give two servers."""
    taken: list[tuple[tuple[Any, ...], FakeServer]] = []

    def take(kind: type[Server], **kwargs: Any) -> Server:
        key, server = _fake_pool.take(kind, kwargs)
        taken.append((key, server))
        return server

    yield take
    for key, server in taken:
        _fake_pool.give_back(key, server)


def with_slack_users(server: FakeSlack) -> FakeSlack:
    """The workspace the roster's Slack users live in."""
    server.add_user("U0ANA", "ana@example.com")
    server.add_user("U0BOB", "bob@example.com")
    server.add_user("U0CRIS", "cris@example.com")
    return server


@pytest.fixture
def fake_slack(fake_api: FakeApi) -> FakeSlack:
    return with_slack_users(fake_api(FakeSlack))


MakeSettings = Callable[..., Settings]
# Messages to one conversation go out this far apart in tests, not a second (Slack's pace):
# a click's answer then lands at once. A test of the pace itself passes send_pace_seconds=None.
TEST_SEND_PACE_S = 0.05


def app_settings(**overrides: Any) -> Settings:
    """Settings for the app under test (pass database_url and slack_api_url): every secret the
    tests sign with, and the tests' send pace."""
    values: dict[str, Any] = {
        "send_pace_seconds": TEST_SEND_PACE_S,
        "config_path": ROSTER,
        "pseudonym_key": PSEUDONYM_KEY,
        "webhook_secret": WEBHOOK_SECRET,
        "messenger": "slack",
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": SIGNING_SECRET,
        "public_url": "https://breather.test",
        "twilio_auth_token": TWILIO_TOKEN,
        "aircall_webhook_token": AIRCALL_TOKEN,
        "dialpad_webhook_secret": DIALPAD_SECRET,
        "zendesk_webhook_secret": ZENDESK_SECRET,
        "genesys_eventbridge_secret": GENESYS_SECRET,
        "connect_eventbridge_secret": CONNECT_SECRET,
        "zoom_webhook_secret": ZOOM_SECRET,
        "webex_webhook_secret": WEBEX_SECRET,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def make_settings(database_url: str, fake_slack: FakeSlack) -> MakeSettings:
    def make(**overrides: Any) -> Settings:
        return app_settings(**{"database_url": database_url, "slack_api_url": fake_slack.url, **overrides})

    return make


def call_event(**fields: Any) -> dict[str, Any]:
    """A generic call.ended event; by default an easy call for Ana."""
    event: dict[str, Any] = {
        "type": "call.ended",
        "event_id": f"evt-{uuid.uuid4().hex[:10]}",
        "call_id": f"c-{uuid.uuid4().hex[:10]}",
        "agent_email": "ana@example.com",
        "ended_at": None,
        "duration_s": 240,
        "direction": "inbound",
        "disconnected_by": "agent",
        "transfers": 0,
        "hold_s": 10,
        "sentiment": 0.3,
        "tags": [],
        "queue": "billing",
    }
    event.update(fields)
    if event["ended_at"] is None:
        event["ended_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return event


def hard_call(**fields: Any) -> dict[str, Any]:
    return call_event(**{"tags": ["abusive"], **fields})


@dataclass
class Harness:
    """The real app, in-process, with its background workers running."""

    client: TestClient
    services: Services
    slack: FakeSlack

    def post_event(
        self,
        event: dict[str, Any] | bytes,
        *,
        secret: str = WEBHOOK_SECRET,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        sent = {"Content-Type": "application/json", "Breather-Signature": sign(secret, body, timestamp)}
        sent.update(headers or {})
        return self.client.post("/webhooks/calls", content=body, headers=sent)

    def open_home(self, *, user_id: str, event_id: str = "Ev1") -> Any:
        """The person opens Breather's Home tab in Slack."""
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": "T0TEST",
                "api_app_id": "A1",
                "event_id": event_id,
                "event": {"type": "app_home_opened", "user": user_id, "tab": "home", "event_ts": "1.2"},
            }
        )
        headers = signed_headers(SIGNING_SECRET, body, "application/json")
        return self.client.post("/slack/events", content=body, headers=headers)

    def click(self, *, user_id: str, channel: str, ts: str, action_id: str, value: str) -> Any:
        body = block_actions_body(
            user_id=user_id, channel=channel, ts=ts, action_id=action_id, value=value, block_id="checkin"
        )
        return self.client.post(
            "/slack/events",
            content=body,
            headers=signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded"),
        )

    def submit_view(
        self, *, user_id: str, callback_id: str, private_metadata: str, values: dict[str, str]
    ) -> Any:
        """Submit a modal as Slack would, signed; `values` maps field ids to chosen option values."""
        body = choices_submission_body(
            user_id=user_id, callback_id=callback_id, private_metadata=private_metadata, values=values
        )
        return self.client.post(
            "/slack/events",
            content=body,
            headers=signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded"),
        )

    def command(self, *, user_id: str, command: str, text: str) -> Any:
        body = slash_command_body(user_id=user_id, command=command, text=text)
        return self.client.post(
            "/slack/events",
            content=body,
            headers=signed_headers(SIGNING_SECRET, body, "application/x-www-form-urlencoded"),
        )


@pytest.fixture
def harness(make_settings: MakeSettings, fake_slack: FakeSlack) -> Iterator[Harness]:
    app = create_app(make_settings())
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Harness(client, app.state.services, fake_slack)


@contextmanager
def module_database(request: pytest.FixtureRequest, kind: str) -> Iterator[str]:
    """A migrated database of `kind` for a module-scoped fixture, its own (the per-test
    PostgreSQL schema is emptied before every test, under anything that outlives one)."""
    if kind == "sqlite":
        template: SqliteTemplate = request.getfixturevalue("_sqlite_template")
        directory = request.getfixturevalue("tmp_path_factory").mktemp("module")
        yield template.copy_to(directory / "breather.db")
        return
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    schema = PostgresSchema(PG_URL)
    try:
        yield schema.url
    finally:
        schema.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def _module_harness(request: pytest.FixtureRequest, _fake_pool: FakePool) -> Iterator[Harness]:
    """One running app for a whole test module, on its own database (of each kind)."""
    with module_database(request, request.param) as url:
        key, slack = _fake_pool.take(FakeSlack, {})
        app = create_app(app_settings(database_url=url, slack_api_url=slack.url))
        try:
            with TestClient(app, raise_server_exceptions=False) as client:
                yield Harness(client, app.state.services, slack)
        finally:
            _fake_pool.give_back(key, slack)


@pytest.fixture
def shared_harness(_module_harness: Harness) -> Harness:
    """The running app shared by a module's tests that only send what it must refuse (and so
    check status codes, error bodies and that nothing was sent): started once per module and
    database instead of once per test. Its fake Slack is reset for every test; anything a test
    stores stays for the next, so a test that changes anything uses `harness`."""
    from handlers.slack.bolt_app import wait_for_listeners
    from tests.helpers import settled

    # Whatever the previous test set off has finished before the fake forgets it.
    assert wait_for_listeners(_module_harness.client.app.state.bolt)  # type: ignore[attr-defined]
    settled(_module_harness.services)
    _module_harness.slack.reset()
    with_slack_users(_module_harness.slack)
    return _module_harness


# --- Microsoft Teams ---------------------------------------------------------------------------

TEAMS_SETTINGS: dict[str, Any] = {
    "messenger": "teams",
    "teams_app_id": APP_ID,
    "teams_app_password": "unused-a-token-source-replaces-it",
    "teams_tenant_id": TENANT,
    "teams_presence": False,  # no Graph here; tests/e2e/test_platform_away.py gives a fake one
}


@pytest.fixture
def fake_teams(fake_api: FakeApi) -> FakeTeamsConnector:
    server: FakeTeamsConnector = fake_api(FakeTeamsConnector)
    return server


@pytest.fixture
def make_teams_settings(make_settings: MakeSettings, fake_teams: FakeTeamsConnector) -> MakeSettings:
    def make(**overrides: Any) -> Settings:
        return make_settings(**{**TEAMS_SETTINGS, "teams_service_url": fake_teams.url, **overrides})

    return make


def teams_app(
    settings: Settings,
    fake: FakeTeamsConnector,
    *,
    sign: bool = False,
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    """The real app on the Teams messenger. Without `sign`, inbound JWT validation is off (the
    SDK's documented local-only switch); with it, the SDK validates tokens against the fake
    connector's signing keys, standing in for the Bot Framework's."""
    from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides

    from handlers.teams.messenger import build_teams_messenger
    from storage.db import make_engine

    cloud = (
        with_overrides(
            PUBLIC, openid_metadata_url=f"{fake.url}/v1/.well-known/openidconfiguration", token_issuer=ISSUER
        )
        if sign
        else None
    )
    engine = make_engine(settings.database_url)
    messenger = build_teams_messenger(
        settings, engine, token=fake_token, cloud=cloud, allow_unauthenticated=not sign
    )
    services = (
        Services(settings, engine, messenger, clock=clock) if clock else Services(settings, engine, messenger)
    )
    return create_app(settings, services=services)


@pytest.fixture
def teams_harness(
    make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector
) -> Iterator[TeamsHarness]:
    app = teams_app(make_teams_settings(), fake_teams)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield TeamsHarness(client, app.state.services, fake_teams)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def _module_teams_harness(request: pytest.FixtureRequest, _fake_pool: FakePool) -> Iterator[TeamsHarness]:
    with module_database(request, request.param) as url:
        key, teams = _fake_pool.take(FakeTeamsConnector, {})
        settings = app_settings(database_url=url, teams_service_url=teams.url, **TEAMS_SETTINGS)
        app = teams_app(settings, teams)
        try:
            with TestClient(app, raise_server_exceptions=False) as client:
                yield TeamsHarness(client, app.state.services, teams)
        finally:
            _fake_pool.give_back(key, teams)


@pytest.fixture
def shared_teams_harness(_module_teams_harness: TeamsHarness) -> TeamsHarness:
    """`shared_harness` on Teams: one running app per module and database for tests that only
    send what it must refuse. Its fake connector is reset for every test."""
    from tests.helpers import settled

    settled(_module_teams_harness.services)
    _module_teams_harness.teams.reset()
    _module_teams_harness.installed.clear()
    return _module_teams_harness
