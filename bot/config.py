"""Settings (environment) and the teams file (breather.yml), both validated up front.

Nothing here reads the environment at import time: `load_settings()` builds a `Settings`
when asked, so tests pass values explicitly.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError
from bot.pseudonyms import Keyring

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MessengerName = Literal["slack", "teams", "sandbox"]
# A fixed key so the credential-less demo works out of the box; never accepted outside it.
DEMO_PSEUDONYM_KEY = "breather-demo-key-not-for-production-use-0000"
DEFAULT_ABUSE_MARKERS = ("abusive", "abuse", "aggressive", "threat")
# Where a customer's phone number may be written in national format (compliment scrubbing).
DEFAULT_PHONE_REGIONS = ("RO", "IR", "US", "GB", "DE", "FR")
# Slack statuses that mean "away": its own "Vacationing" (:palm_tree:) and "Out sick"
# (:face_with_thermometer:) presets, and the emoji people commonly pick for time off.
DEFAULT_AWAY_EMOJI = (
    ":palm_tree:",
    ":desert_island:",
    ":airplane:",
    ":beach_with_umbrella:",
    ":face_with_thermometer:",
)
_EMOJI = re.compile(r"^:?[a-z0-9_+'-]+:?$")
# What DATABASE_URL may be: SQLite, or PostgreSQL through psycopg 3 (installed with Breather).
SUPPORTED_DATABASES = (
    "SQLite (sqlite:///path/to/breather.db) or PostgreSQL (postgresql://user:password@host:5432/name)"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _env(name: str, field: str) -> Any:
    """Accept the contract's environment name and the Python field name."""
    return AliasChoices(name, field)


class Settings(BaseSettings):
    """Every setting from the contract; secrets are SecretStr so they never reach logs."""

    # An empty value (`SLACK_SIGNING_SECRET=` in a copied example file) counts as not set, so a
    # blank secret is reported by name instead of accepted.
    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
        hide_input_in_errors=True,
        env_ignore_empty=True,
    )

    database_url: str = Field(
        "sqlite:///./breather.db", validation_alias=_env("DATABASE_URL", "database_url")
    )
    config_path: Path = Field(Path("./breather.yml"), validation_alias=_env("BREATHER_CONFIG", "config_path"))
    messenger: MessengerName | None = Field(None, validation_alias=_env("BREATHER_MESSENGER", "messenger"))
    _messenger_given: bool = PrivateAttr(False)  # set explicitly, rather than by default
    public_url: str = Field(
        "http://127.0.0.1:3000", validation_alias=_env("BREATHER_PUBLIC_URL", "public_url")
    )
    pseudonym_key: SecretStr | None = Field(
        None, validation_alias=_env("BREATHER_PSEUDONYM_KEY", "pseudonym_key")
    )
    # Previous pseudonym keys, comma-separated: read with until `breather keys rotate` is done.
    pseudonym_keys_old: SecretStr | None = Field(
        None, validation_alias=_env("BREATHER_PSEUDONYM_KEYS_OLD", "pseudonym_keys_old")
    )
    webhook_secret: SecretStr | None = Field(
        None, validation_alias=_env("BREATHER_WEBHOOK_SECRET", "webhook_secret")
    )
    demo: bool = Field(False, validation_alias=_env("BREATHER_DEMO", "demo"))
    log_level: str = Field("INFO", validation_alias=_env("BREATHER_LOG_LEVEL", "log_level"))
    # Least time between two messages to one conversation. Unset: the platform's own (Slack 1 s,
    # Teams 0.5 s). Tests and fake platforms lower it; a real workspace would answer 429s.
    # Hostile or broken clients (handlers/limits.py, handlers/server.py): how long a request body may
    # take to arrive, and how many connections the server holds at once (more are answered 503).
    body_timeout_seconds: float = Field(
        10.0, gt=0, le=300, validation_alias=_env("BREATHER_BODY_TIMEOUT_SECONDS", "body_timeout_seconds")
    )
    max_connections: int = Field(
        1000, ge=10, le=100_000, validation_alias=_env("BREATHER_MAX_CONNECTIONS", "max_connections")
    )
    send_pace_seconds: float | None = Field(
        None, ge=0, le=60, validation_alias=_env("BREATHER_SEND_PACE_SECONDS", "send_pace_seconds")
    )

    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", validation_alias=_env("SLACK_API_URL", "slack_api_url")
    )

    twilio_account_sid: str | None = Field(
        None, validation_alias=_env("TWILIO_ACCOUNT_SID", "twilio_account_sid")
    )
    twilio_auth_token: SecretStr | None = Field(
        None, validation_alias=_env("TWILIO_AUTH_TOKEN", "twilio_auth_token")
    )
    twilio_workspace_sid: str | None = Field(
        None, validation_alias=_env("TWILIO_WORKSPACE_SID", "twilio_workspace_sid")
    )
    twilio_api_url: str = Field(
        "https://taskrouter.twilio.com", validation_alias=_env("TWILIO_API_URL", "twilio_api_url")
    )
    twilio_break_activity: str = Field(
        "Break", validation_alias=_env("TWILIO_BREAK_ACTIVITY", "twilio_break_activity")
    )

    aircall_webhook_token: SecretStr | None = Field(
        None, validation_alias=_env("AIRCALL_WEBHOOK_TOKEN", "aircall_webhook_token")
    )
    aircall_api_id: str | None = Field(None, validation_alias=_env("AIRCALL_API_ID", "aircall_api_id"))
    aircall_api_token: SecretStr | None = Field(
        None, validation_alias=_env("AIRCALL_API_TOKEN", "aircall_api_token")
    )
    aircall_api_url: str = Field(
        "https://api.aircall.io", validation_alias=_env("AIRCALL_API_URL", "aircall_api_url")
    )

    zendesk_webhook_secret: SecretStr | None = Field(
        None, validation_alias=_env("ZENDESK_WEBHOOK_SECRET", "zendesk_webhook_secret")
    )

    dialpad_webhook_secret: SecretStr | None = Field(
        None, validation_alias=_env("DIALPAD_WEBHOOK_SECRET", "dialpad_webhook_secret")
    )
    dialpad_api_key: SecretStr | None = Field(
        None, validation_alias=_env("DIALPAD_API_KEY", "dialpad_api_key")
    )
    dialpad_api_url: str = Field(
        "https://dialpad.com/api", validation_alias=_env("DIALPAD_API_URL", "dialpad_api_url")
    )

    # Genesys Cloud: events through an EventBridge API destination; breaks by presence.
    genesys_eventbridge_secret: SecretStr | None = Field(
        None, validation_alias=_env("GENESYS_EVENTBRIDGE_SECRET", "genesys_eventbridge_secret")
    )
    genesys_client_id: str | None = Field(
        None, validation_alias=_env("GENESYS_CLIENT_ID", "genesys_client_id")
    )
    genesys_client_secret: SecretStr | None = Field(
        None, validation_alias=_env("GENESYS_CLIENT_SECRET", "genesys_client_secret")
    )
    genesys_api_url: str = Field(
        "https://api.mypurecloud.com", validation_alias=_env("GENESYS_API_URL", "genesys_api_url")
    )
    genesys_login_url: str = Field(
        "https://login.mypurecloud.com", validation_alias=_env("GENESYS_LOGIN_URL", "genesys_login_url")
    )
    genesys_break_presence: str = Field(
        "Break", validation_alias=_env("GENESYS_BREAK_PRESENCE", "genesys_break_presence")
    )

    # Amazon Connect: contact events through an EventBridge API destination; breaks by
    # PutUserStatus, signed with the IAM keys below (SigV4).
    connect_eventbridge_secret: SecretStr | None = Field(
        None, validation_alias=_env("CONNECT_EVENTBRIDGE_SECRET", "connect_eventbridge_secret")
    )
    connect_instance_id: str | None = Field(
        None, validation_alias=_env("CONNECT_INSTANCE_ID", "connect_instance_id")
    )
    connect_region: str | None = Field(None, validation_alias=_env("CONNECT_REGION", "connect_region"))
    connect_access_key_id: str | None = Field(
        None, validation_alias=_env("CONNECT_ACCESS_KEY_ID", "connect_access_key_id")
    )
    connect_secret_access_key: SecretStr | None = Field(
        None, validation_alias=_env("CONNECT_SECRET_ACCESS_KEY", "connect_secret_access_key")
    )
    connect_session_token: SecretStr | None = Field(
        None, validation_alias=_env("CONNECT_SESSION_TOKEN", "connect_session_token")
    )
    connect_api_url: str | None = Field(None, validation_alias=_env("CONNECT_API_URL", "connect_api_url"))
    connect_break_status: str = Field(
        "Break", validation_alias=_env("CONNECT_BREAK_STATUS", "connect_break_status")
    )

    # Zoom Contact Center: signed webhooks; breaks by user status (Server-to-Server OAuth).
    zoom_webhook_secret: SecretStr | None = Field(
        None, validation_alias=_env("ZOOM_WEBHOOK_SECRET", "zoom_webhook_secret")
    )
    zoom_account_id: str | None = Field(None, validation_alias=_env("ZOOM_ACCOUNT_ID", "zoom_account_id"))
    zoom_client_id: str | None = Field(None, validation_alias=_env("ZOOM_CLIENT_ID", "zoom_client_id"))
    zoom_client_secret: SecretStr | None = Field(
        None, validation_alias=_env("ZOOM_CLIENT_SECRET", "zoom_client_secret")
    )
    zoom_break_status_id: str | None = Field(
        None, validation_alias=_env("ZOOM_BREAK_STATUS_ID", "zoom_break_status_id")
    )
    zoom_break_sub_status_id: str | None = Field(
        None, validation_alias=_env("ZOOM_BREAK_SUB_STATUS_ID", "zoom_break_sub_status_id")
    )
    zoom_api_url: str = Field("https://api.zoom.us", validation_alias=_env("ZOOM_API_URL", "zoom_api_url"))
    zoom_oauth_url: str = Field("https://zoom.us", validation_alias=_env("ZOOM_OAUTH_URL", "zoom_oauth_url"))

    # Webex Contact Center: signed subscription webhooks; breaks by agent state (OAuth refresh token).
    webex_webhook_secret: SecretStr | None = Field(
        None, validation_alias=_env("WEBEX_WEBHOOK_SECRET", "webex_webhook_secret")
    )
    webex_client_id: str | None = Field(None, validation_alias=_env("WEBEX_CLIENT_ID", "webex_client_id"))
    webex_client_secret: SecretStr | None = Field(
        None, validation_alias=_env("WEBEX_CLIENT_SECRET", "webex_client_secret")
    )
    webex_refresh_token: SecretStr | None = Field(
        None, validation_alias=_env("WEBEX_REFRESH_TOKEN", "webex_refresh_token")
    )
    webex_break_aux_code_id: str | None = Field(
        None, validation_alias=_env("WEBEX_BREAK_AUX_CODE_ID", "webex_break_aux_code_id")
    )
    webex_api_url: str = Field(
        "https://api.wxcc-us1.cisco.com", validation_alias=_env("WEBEX_API_URL", "webex_api_url")
    )
    webex_token_url: str = Field(
        "https://webexapis.com/v1/access_token", validation_alias=_env("WEBEX_TOKEN_URL", "webex_token_url")
    )

    teams_app_id: str | None = Field(None, validation_alias=_env("TEAMS_APP_ID", "teams_app_id"))
    teams_app_password: SecretStr | None = Field(
        None, validation_alias=_env("TEAMS_APP_PASSWORD", "teams_app_password")
    )
    teams_tenant_id: str | None = Field(None, validation_alias=_env("TEAMS_TENANT_ID", "teams_tenant_id"))
    # Where proactive messages go when no person-specific service URL is known yet (channel posts);
    # Teams' global endpoint for the commercial cloud. A fake Bot Connector in tests.
    teams_service_url: str = Field(
        "https://smba.trafficmanager.net/teams",
        validation_alias=_env("TEAMS_SERVICE_URL", "teams_service_url"),
    )
    # Microsoft Graph, for `breather teams install` and presence (a sovereign cloud has its own).
    teams_graph_url: str = Field(
        "https://graph.microsoft.com/v1.0", validation_alias=_env("TEAMS_GRAPH_URL", "teams_graph_url")
    )
    # Read people's presence from Graph before a check-in or invitation: out of office holds it
    # back (needs Presence.Read.All). False when that permission cannot be granted.
    teams_presence: bool = Field(True, validation_alias=_env("TEAMS_PRESENCE", "teams_presence"))

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        # Refused here, by scheme only (never echoing the URL, which may hold a password), so
        # `check-config` catches what `serve` would otherwise fail on with a driver traceback.
        try:
            scheme = make_url(value).drivername
        except ArgumentError:
            raise ValueError(f"not a database URL; use {SUPPORTED_DATABASES}") from None
        if scheme not in ("sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg"):
            raise ValueError(f"{scheme}:// is not supported; use {SUPPORTED_DATABASES}")
        # Relative SQLite paths are pinned to the current directory now, so `serve` and every
        # CLI command started from the same place share one database file.
        prefix = "sqlite:///"
        if value.startswith(prefix) and not value.startswith(prefix + "/") and ":memory:" not in value:
            return prefix + str((Path.cwd() / value[len(prefix) :]).resolve())
        if scheme in ("postgresql", "postgres"):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @field_validator("config_path")
    @classmethod
    def _absolute_config_path(cls, value: Path) -> Path:
        return (Path.cwd() / value).resolve()

    @field_validator("public_url")
    @classmethod
    def _valid_public_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://breather.example.org")
        return value.rstrip("/")

    @field_validator("teams_service_url", "teams_graph_url")
    @classmethod
    def _service_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://smba.trafficmanager.net/teams")
        return value.rstrip("/")

    @field_validator(
        "genesys_api_url",
        "genesys_login_url",
        "connect_api_url",
        "zoom_api_url",
        "zoom_oauth_url",
        "webex_api_url",
        "webex_token_url",
    )
    @classmethod
    def _platform_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL, the platform's documented base URL")
        return value.rstrip("/")

    @field_validator("connect_region")
    @classmethod
    def _aws_region(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[a-z]{2}(-[a-z]+)+-\d$", value):
            raise ValueError("must be an AWS region code such as eu-west-2")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _complete(self) -> Settings:
        self._messenger_given = self.messenger is not None
        if self.messenger is None:
            # The sandbox is only ever chosen on purpose (the demo, or BREATHER_MESSENGER=sandbox):
            # a forgotten token must not quietly turn a real install into an open console.
            self.messenger = "sandbox" if self.demo else "slack"
        if self.demo and self.pseudonym_key is None:
            self.pseudonym_key = SecretStr(DEMO_PSEUDONYM_KEY)
        if self.pseudonym_key is None:
            raise ValueError(
                "BREATHER_PSEUDONYM_KEY: required outside the demo; set 32+ random bytes, "
                "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        if len(self.pseudonym_key.get_secret_value().encode()) < 32:
            raise ValueError("BREATHER_PSEUDONYM_KEY: must be at least 32 bytes long")
        if not self.demo and self.pseudonym_key.get_secret_value() == DEMO_PSEUDONYM_KEY:
            raise ValueError("BREATHER_PSEUDONYM_KEY: the demo key must not be used outside the demo")
        for position, old in enumerate(self.old_pseudonym_keys(), start=1):
            where = f"BREATHER_PSEUDONYM_KEYS_OLD (key {position})"
            if len(old) < 32:
                raise ValueError(f"{where}: must be at least 32 bytes long")
            if old == self.pseudonym_key.get_secret_value().encode():
                raise ValueError(f"{where}: is the current BREATHER_PSEUDONYM_KEY; list only previous keys")
        if self._messenger_given:
            # Chosen explicitly: every command refuses incomplete credentials, as it always did.
            problem = self.messenger_problem()
            if problem:
                raise ValueError(problem)
        return self

    def messenger_problem(self) -> str | None:
        """What the chosen messenger lacks, naming the setting; None when it is complete."""
        if self.messenger == "slack":
            if self.slack_bot_token is None:
                return (
                    "SLACK_BOT_TOKEN: required when BREATHER_MESSENGER is slack (the default); "
                    "to try Breather without Slack, run `breather demo` or set BREATHER_MESSENGER=sandbox"
                )
            if self.slack_signing_secret is None and self.slack_app_token is None:
                return (
                    "SLACK_SIGNING_SECRET: required when BREATHER_MESSENGER is slack "
                    "(or set SLACK_APP_TOKEN for Socket Mode)"
                )
        if self.messenger == "teams" and not (self.teams_app_id and self.teams_app_password):
            return "TEAMS_APP_ID / TEAMS_APP_PASSWORD: required when BREATHER_MESSENGER is teams"
        return None

    def require_messenger(self) -> None:
        """For what talks to people (serve, check-config): the messenger must be complete. Offline
        commands (digest, audit, purge, db upgrade) work without its credentials."""
        problem = self.messenger_problem()
        if problem:
            raise ConfigError(problem)

    def old_pseudonym_keys(self) -> list[bytes]:
        raw = self.pseudonym_keys_old.get_secret_value() if self.pseudonym_keys_old else ""
        return [part.strip().encode() for part in raw.split(",") if part.strip()]

    def keyring(self) -> Keyring:
        """The pseudonym keys: the current one and those still read with during a rotation."""
        assert self.pseudonym_key is not None  # the validator refuses to build Settings without one
        return Keyring(self.pseudonym_key.get_secret_value().encode(), self.old_pseudonym_keys())

    @property
    def uses_socket_mode(self) -> bool:
        return self.messenger == "slack" and self.slack_app_token is not None


class TeamsPackageSettings(BaseSettings):
    """What `breather teams package` reads: no database, no secrets, nothing else required."""

    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
        hide_input_in_errors=True,
        env_ignore_empty=True,
    )

    teams_app_id: str | None = Field(None, validation_alias=_env("TEAMS_APP_ID", "teams_app_id"))
    public_url: str = Field(
        "http://127.0.0.1:3000", validation_alias=_env("BREATHER_PUBLIC_URL", "public_url")
    )


class SimulateSettings(BaseSettings):
    """What `breather simulate` reads, from the environment or `.env` like every other command:
    the webhook secret to sign with and the teams file to take agents from; nothing required."""

    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
        hide_input_in_errors=True,
        env_ignore_empty=True,
    )

    webhook_secret: SecretStr | None = Field(
        None, validation_alias=_env("BREATHER_WEBHOOK_SECRET", "webhook_secret")
    )
    config_path: Path = Field(Path("./breather.yml"), validation_alias=_env("BREATHER_CONFIG", "config_path"))


# --- breather.yml ------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_clock(value: Any) -> Any:
    # YAML reads 08:00 unquoted as the integer 480 (sexagesimal minutes); accept both spellings.
    if isinstance(value, int) and not isinstance(value, bool):
        return time(value // 60, value % 60)
    return value


class Shift(_Strict):
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    start: time = time(8, 0)
    end: time = time(17, 0)

    _clock = field_validator("start", "end", mode="before")(_parse_clock)


DayOff = Callable[[date], bool]


def _holiday_library() -> Any:
    # Imported by name, when a team asks for a country's public holidays: the `holidays`
    # package is large, and only this module touches it.
    return importlib.import_module("holidays")


@functools.lru_cache(maxsize=128)
def public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """A country's (or one of its subdivisions') public holidays in a year, from `holidays`."""
    calendar = _holiday_library().country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(calendar.keys())


class Holidays(_Strict):
    """A team's non-working days: its own dates, plus a country's public holidays."""

    country: str | None = None  # ISO 3166 code, e.g. RO; read through the `holidays` package
    subdivision: str | None = None  # a state or province, where holidays differ within the country
    dates: list[date] = Field(default_factory=list)

    @field_validator("subdivision")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.strip().upper() if value else None

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if not value:
            return None
        code = value.strip().upper()
        if code not in _holiday_library().list_supported_countries():
            raise ValueError(f"no public-holiday calendar for {value!r} (use an ISO 3166 code such as RO)")
        return code

    @model_validator(mode="after")
    def _known_subdivision(self) -> Holidays:
        if self.subdivision is None:
            return self
        if self.country is None:
            raise ValueError("subdivision needs a country")
        known: list[str] = _holiday_library().list_supported_countries()[self.country]
        if self.subdivision not in known:
            listed = ", ".join(known[:30]) or "none"
            raise ValueError(f"subdivision {self.subdivision!r} is not one of {self.country}'s ({listed})")
        return self

    def is_day_off(self, day: date) -> bool:
        if day in self.dates:
            return True
        return self.country is not None and day in public_holidays(self.country, self.subdivision, day.year)


ProviderId = Annotated[str, Field(min_length=1)]
InstrumentName = Literal["who5", "burnout_single", "cbi_client"]


def _default_instruments() -> list[InstrumentName]:
    return ["who5", "burnout_single"]


class PulseConfig(_Strict):
    """When a team is asked its pulse survey. Omitted fields take these defaults."""

    instruments: list[InstrumentName] = Field(default_factory=_default_instruments, min_length=1)
    every_weeks: int = Field(2, ge=1, le=13)
    day: Weekday = "thu"
    at: time = time(14, 0)
    close_after_days: int = Field(3, ge=1, le=28)
    reminder_after_hours: float = Field(24, gt=0)

    _clock = field_validator("at", mode="before")(_parse_clock)

    @field_validator("instruments")
    @classmethod
    def _unique(cls, value: list[InstrumentName]) -> list[InstrumentName]:
        if len(set(value)) != len(value):
            raise ValueError("an instrument is listed twice")
        return value

    @model_validator(mode="after")
    def _sane_cadence(self) -> PulseConfig:
        # WHO-5 asks about the last two weeks: asking more often than that double-counts.
        if "who5" in self.instruments and self.every_weeks < 2:
            raise ValueError(
                "every_weeks must be at least 2 when who5 is asked (its recall period is two weeks)"
            )
        if self.close_after_days > self.every_weeks * 7:
            raise ValueError("close_after_days must not be longer than the period between rounds")
        return self


def _known_zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Bucharest)") from None
    return value


class PairingConfig(_Strict):
    """When a team's weekly coffee pairs are made (issue 16); the pairs' DMs go out then."""

    day: Weekday = "mon"
    at: time = time(10, 0)

    _clock = field_validator("at", mode="before")(_parse_clock)


class AgentConfig(_Strict):
    email: str
    name: str | None = None
    # The agent's own hours and zone when they differ from the team's (issue 16): every
    # quiet-hours rule, survey timing and pairing slot for this person goes by these.
    shift: Shift | None = None
    timezone: str | None = None
    slack_user_id: str | None = Field(None, pattern=r"^[UW][A-Z0-9]+$")
    teams_user_id: str | None = None
    twilio_worker_sid: str | None = Field(None, pattern=r"^WK[0-9a-zA-Z]+$")
    aircall_user_id: ProviderId | None = None
    dialpad_user_id: ProviderId | None = None
    zendesk_user_id: ProviderId | None = None
    genesys_user_id: ProviderId | None = None
    connect_user_id: ProviderId | None = None
    zoom_user_id: ProviderId | None = None
    webex_agent_id: ProviderId | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"not an e-mail address: {value!r}")
        return value.lower()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _known_zone_name(value)

    @field_validator("aircall_user_id", "dialpad_user_id", "zendesk_user_id", mode="before")
    @classmethod
    def _numeric_ids_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@", 1)[0].replace(".", " ").title()

    def provider_ids(self) -> dict[str, str]:
        """The ids phone systems and chat platforms know this agent by."""
        ids = {
            "email": self.email,
            "slack_user_id": self.slack_user_id,
            "teams_user_id": self.teams_user_id,
            "twilio_worker_sid": self.twilio_worker_sid,
            "aircall_user_id": self.aircall_user_id,
            "dialpad_user_id": self.dialpad_user_id,
            "zendesk_user_id": self.zendesk_user_id,
            "genesys_user_id": self.genesys_user_id,
            "connect_user_id": self.connect_user_id,
            "zoom_user_id": self.zoom_user_id,
            "webex_agent_id": self.webex_agent_id,
        }
        return {kind: value for kind, value in ids.items() if value}


class TeamConfig(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$", max_length=64)
    name: str
    channel: str | None = None
    timezone: str = "UTC"
    language: str = "en"
    # Persian dates are Solar Hijri, as people in Iran write them; "gregorian" for teams elsewhere.
    persian_calendar: Literal["solar_hijri", "gregorian"] = "solar_hijri"
    shift: Shift = Field(default_factory=Shift)
    managers: list[str] = Field(default_factory=list)
    agents: list[AgentConfig] = Field(default_factory=list)
    pulse: PulseConfig | None = None
    # Non-working days (issue 16): no check-ins, invitations or reminders on them.
    holidays: Holidays = Field(default_factory=Holidays)
    pairing: PairingConfig | None = None  # weekly coffee pairs for those who opt in

    @field_validator("holidays", mode="before")
    @classmethod
    def _dates_alone(cls, value: Any) -> Any:
        # `holidays: [2026-12-24, 2026-12-31]` is the short form of `holidays: {dates: [...]}`.
        return {"dates": value} if isinstance(value, list) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _known_zone_name(value)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        from bot.i18n import available_languages

        if value not in available_languages():
            raise ValueError(
                f"no message catalogue for {value!r}; available: {', '.join(available_languages())}"
            )
        return value

    @field_validator("managers")
    @classmethod
    def _manager_emails(cls, value: list[str]) -> list[str]:
        for email in value:
            if not _EMAIL.match(email):
                raise ValueError(f"not an e-mail address: {email!r}")
        return [email.lower() for email in value]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @model_validator(mode="after")
    def _pulse_inside_shift(self) -> TeamConfig:
        pulse = self.pulse
        if pulse is None:
            return self
        if pulse.day not in self.shift.days:
            raise ValueError(f"pulse.day {pulse.day!r} is not one of the team's shift days")
        start, end = self.shift.start, self.shift.end
        inside = start <= pulse.at < end if end > start else (pulse.at >= start or pulse.at < end)
        if not inside:
            raise ValueError(
                f"pulse.at {pulse.at:%H:%M} is outside the team's shift ({start:%H:%M}-{end:%H:%M})"
            )
        return self


class SupportResource(_Strict):
    """Somewhere an agent can turn to (an assistance line, a peer supporter), shown to the agent only."""

    name: str = Field(min_length=1, max_length=60)
    contact: str = Field(min_length=1, max_length=300)
    note: str | None = Field(None, max_length=300)


class ProductSettings(_Strict):
    checkin_cooldown_minutes: float = Field(60, gt=0)
    checkins_per_day: int = Field(3, ge=1)
    shift_grace_minutes: float = Field(30, ge=0)
    checkin_max_age_minutes: float = Field(60, gt=0)
    break_minutes: float = Field(5, gt=0)
    breaks_per_day: int = Field(3, ge=1)
    support_resources: list[SupportResource] = Field(default_factory=list, max_length=20)
    survey_gap_after_checkin_minutes: float = Field(60, ge=0)
    anonymity_min_group: int = Field(5, ge=3)
    anonymity_min_comments: int = Field(10, ge=3)
    retention_days: int = Field(90, ge=1)
    abuse_markers: list[str] = Field(default_factory=lambda: list(DEFAULT_ABUSE_MARKERS), min_length=1)
    admins: list[str] = Field(default_factory=list)
    surge_factor: float = Field(2.0, gt=1)
    surge_min_calls: int = Field(10, ge=1)
    surge_window_minutes: float = Field(60, gt=0)
    surge_cooldown_hours: float = Field(3, gt=0)
    surge_baseline_floor: float = Field(0.05, ge=0, le=1)
    compliment_consent_hours: float = Field(24, gt=0)
    kudos_per_day: int = Field(5, ge=1)
    pause_max_days: int = Field(90, ge=1, le=366)  # the furthest a pause or time off may end
    buddy_asks_per_day: int = Field(2, ge=1)  # most chats one buddy is asked for in a local day
    phone_regions: list[str] = Field(default_factory=lambda: list(DEFAULT_PHONE_REGIONS), min_length=1)
    # A Slack status with one of these emoji means away until the status ends; [] turns it off.
    away_status_emoji: list[str] = Field(default_factory=lambda: list(DEFAULT_AWAY_EMOJI), max_length=100)

    @field_validator("away_status_emoji")
    @classmethod
    def _emoji_names(cls, value: list[str]) -> list[str]:
        names = [emoji.strip().lower() for emoji in value]
        bad = [emoji for emoji in names if not _EMOJI.match(emoji)]
        if bad:
            raise ValueError(f"not emoji names such as :palm_tree:: {', '.join(map(repr, bad))}")
        return [f":{emoji.strip(':')}:" for emoji in names]

    @field_validator("phone_regions")
    @classmethod
    def _known_regions(cls, value: list[str]) -> list[str]:
        from phonenumbers import SUPPORTED_REGIONS

        regions = [region.strip().upper() for region in value]
        unknown = [region for region in regions if region not in SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"not ISO 3166 country codes known to libphonenumber: {', '.join(unknown)}")
        return regions

    @field_validator("abuse_markers")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [marker.strip().lower() for marker in value]

    @model_validator(mode="after")
    def _comments_need_more_people(self) -> ProductSettings:
        if self.anonymity_min_comments < self.anonymity_min_group:
            raise ValueError("anonymity_min_comments must not be below anonymity_min_group")
        return self


class BreatherConfig(_Strict):
    teams: list[TeamConfig] = Field(min_length=1)
    settings: ProductSettings = Field(default_factory=ProductSettings)

    @model_validator(mode="after")
    def _unique_ids(self) -> BreatherConfig:
        seen_teams: set[str] = set()
        seen_ids: set[tuple[str, str]] = set()
        for team in self.teams:
            if team.id in seen_teams:
                raise ValueError(f"team id {team.id!r} appears twice")
            seen_teams.add(team.id)
            for agent in team.agents:
                # Each agent lists a kind once, so a repeated (kind, id) means two agents share it.
                for key in agent.provider_ids().items():
                    if key in seen_ids:
                        raise ValueError(f"{key[0]} {key[1]!r} is listed for more than one agent")
                    seen_ids.add(key)
        return self

    def team(self, team_id: str) -> TeamConfig:
        for team in self.teams:
            if team.id == team_id:
                return team
        raise ConfigError(
            f"no team {team_id!r} in breather.yml (teams: {', '.join(t.id for t in self.teams)})"
        )


# Settings that work only together: a platform's REST credentials for protected breaks.
# `breather check-config` names the missing ones when only some are set.
CREDENTIAL_GROUPS: dict[str, tuple[tuple[str, str], ...]] = {
    "Genesys Cloud": (
        ("GENESYS_CLIENT_ID", "genesys_client_id"),
        ("GENESYS_CLIENT_SECRET", "genesys_client_secret"),
    ),
    "Amazon Connect": (
        ("CONNECT_INSTANCE_ID", "connect_instance_id"),
        ("CONNECT_REGION", "connect_region"),
        ("CONNECT_ACCESS_KEY_ID", "connect_access_key_id"),
        ("CONNECT_SECRET_ACCESS_KEY", "connect_secret_access_key"),
    ),
    "Zoom Contact Center": (
        ("ZOOM_ACCOUNT_ID", "zoom_account_id"),
        ("ZOOM_CLIENT_ID", "zoom_client_id"),
        ("ZOOM_CLIENT_SECRET", "zoom_client_secret"),
        ("ZOOM_BREAK_STATUS_ID", "zoom_break_status_id"),
    ),
    "Webex Contact Center": (
        ("WEBEX_CLIENT_ID", "webex_client_id"),
        ("WEBEX_CLIENT_SECRET", "webex_client_secret"),
        ("WEBEX_REFRESH_TOKEN", "webex_refresh_token"),
        ("WEBEX_BREAK_AUX_CODE_ID", "webex_break_aux_code_id"),
    ),
}
# The roster field naming agents on each platform, and the setting its webhook needs.
PLATFORM_WEBHOOKS: dict[str, tuple[str, str, str]] = {
    "Genesys Cloud": ("genesys_user_id", "GENESYS_EVENTBRIDGE_SECRET", "genesys_eventbridge_secret"),
    "Amazon Connect": ("connect_user_id", "CONNECT_EVENTBRIDGE_SECRET", "connect_eventbridge_secret"),
    "Zoom Contact Center": ("zoom_user_id", "ZOOM_WEBHOOK_SECRET", "zoom_webhook_secret"),
    "Webex Contact Center": ("webex_agent_id", "WEBEX_WEBHOOK_SECRET", "webex_webhook_secret"),
}


def platform_problems(settings: Settings, config: BreatherConfig) -> tuple[list[str], list[str]]:
    """(errors, warnings) about the contact-centre platforms' settings: credentials set only in
    part are errors; agents listed for a platform whose webhook has no secret, a warning (every
    event from it is refused until the secret is set)."""
    errors: list[str] = []
    for platform, group in CREDENTIAL_GROUPS.items():
        present = [name for name, field in group if getattr(settings, field)]
        if present and len(present) < len(group):
            missing = [name for name, field in group if not getattr(settings, field)]
            errors.append(
                f"settings: {', '.join(missing)}: required with {', '.join(present)} "
                f"(the {platform} credentials for protected breaks)"
            )
    warnings: list[str] = []
    for platform, (kind, name, field) in PLATFORM_WEBHOOKS.items():
        listed = sum(1 for team in config.teams for agent in team.agents if kind in agent.provider_ids())
        if listed and not getattr(settings, field):
            warnings.append(
                f"settings: {name}: not set, so every {platform} event is refused "
                f"({listed} agent(s) have {kind})"
            )
    return errors, warnings


def describe_validation_error(error: ValidationError, source: str) -> str:
    """One readable line per problem, each naming the field, without echoing secret input."""
    lines = []
    for item in error.errors():
        path = ""
        for part in item["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{source}: {path}: {message}" if path else f"{source}: {message}")
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error, "settings")) from None


class _DuplicateKeyError(Exception):
    def __init__(self, key: object, line: int, first_line: int) -> None:
        super().__init__(key)
        self.key, self.line, self.first_line = key, line, first_line


try:  # libyaml's parser, when PyYAML has it (its wheels do): ten times faster, the same documents
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _UniqueKeyLoader(_SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (YAML keeps the last silently)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise _DuplicateKeyError(key, line, seen[key])
        seen[key] = line
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def load_config(path: Path) -> BreatherConfig:
    if not path.is_file():
        raise ConfigError(
            f"BREATHER_CONFIG: {path} does not exist (copy breather.example.yml to breather.yml, "
            "or point BREATHER_CONFIG at your teams file)"
        )
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except _DuplicateKeyError as error:
        raise ConfigError(
            f"{path.name}: {error.key} is given twice (lines {error.first_line} and {error.line}); "
            "keep one, YAML would silently drop the first"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"{path.name}: not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.name}: must be a mapping with a `teams:` list")
    try:
        return BreatherConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error, path.name)) from None
