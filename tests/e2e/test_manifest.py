"""manifest.yml declares exactly what the Bolt app handles: every slash command, shortcut and
event subscription Slack is told about reaches a listener, and every one the app listens for
is declared (else Slack never sends it)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from bot.ids import CallbackId, Command, EventType
from handlers.sandbox.interactions import signed_headers, slash_command_body
from tests.conftest import SIGNING_SECRET, Harness

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
FORM = "application/x-www-form-urlencoded"


def _post(harness: Harness, body: str, content_type: str) -> int:
    headers = signed_headers(SIGNING_SECRET, body, content_type)
    status: int = harness.client.post("/slack/events", content=body, headers=headers).status_code
    return status


def handles_command(harness: Harness, command: str) -> bool:
    body = slash_command_body(user_id="U0ANA", command=command, text="help")
    return _post(harness, body, FORM) != 404  # Bolt answers 404 when no listener matches


def handles_shortcut(harness: Harness, callback_id: str) -> bool:
    payload = {
        "type": "message_action",
        "callback_id": callback_id,
        "team": {"id": "T0TEST"},
        "user": {"id": "U0ANA"},
        "channel": {"id": "C0BILLING"},
        "message": {"type": "message", "ts": "1.1", "text": "Thanks, Ana was great"},
        "trigger_id": f"trigger.{uuid.uuid4().hex}",
        "response_url": "",
    }
    return _post(harness, urlencode({"payload": json.dumps(payload)}), FORM) != 404


def handles_event(harness: Harness, event_type: str) -> bool:
    envelope = {
        "type": "event_callback",
        "team_id": "T0TEST",
        "api_app_id": "A1",
        "event_id": f"Ev{uuid.uuid4().hex[:10]}",
        "event": {"type": event_type, "user": "U0ANA", "tab": "home", "event_ts": "1.2"},
    }
    return _post(harness, json.dumps(envelope), "application/json") != 404


@pytest.fixture
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return data


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_manifest_declares_exactly_the_commands_shortcuts_and_events_the_app_handles(
    harness: Harness, manifest: dict[str, Any]
) -> None:
    features, settings = manifest["features"], manifest["settings"]
    declared_commands = {entry["command"] for entry in features["slash_commands"]}
    declared_shortcuts = {entry["callback_id"] for entry in features["shortcuts"]}
    declared_events = set(settings["event_subscriptions"]["bot_events"])
    assert handles_command(harness, "/not-breather") is False  # the probe can tell

    # Every id the code could register, and everything the manifest declares, probed alike.
    commands = {c for c in declared_commands | {c.value for c in Command} if handles_command(harness, c)}
    shortcuts = {
        c for c in declared_shortcuts | {c.value for c in CallbackId} if handles_shortcut(harness, c)
    }
    events = {e for e in declared_events | {e.value for e in EventType} if handles_event(harness, e)}
    assert commands == declared_commands
    assert shortcuts == declared_shortcuts
    assert events == declared_events
    assert {e["type"] for e in features["shortcuts"]} == {"message"}  # the listeners read a message


def test_every_request_url_is_the_slack_endpoint(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    urls = [entry["url"] for entry in manifest["features"]["slash_commands"]]
    urls += [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]]
    assert {url.split("/", 3)[3] for url in urls} == {"slack/events"}
    assert settings["interactivity"]["is_enabled"] is True
