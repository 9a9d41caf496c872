"""Slack-shaped interaction payloads, signed like Slack signs them.

The sandbox console and the demo use these to click buttons, open the App Home and submit
modals: the request then goes through the real `/slack/events` endpoint, Bolt and Breather's
listeners, exactly as from Slack.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from handlers.slack.bolt_app import SANDBOX_TEAM_ID


def signed_headers(signing_secret: str, body: str, content_type: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=timestamp, body=body) or ""
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }


def new_trigger_id() -> str:
    """Slack's trigger ids are opaque; the console keeps the ones it makes up to find modals."""
    return f"sandbox.{uuid.uuid4().hex}"


def _block_actions(
    user_id: str, team_id: str, trigger_id: str | None, action_id: str, value: str, block_id: str
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": team_id},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": "A0BREATHER",
        "token": "sandbox",
        "trigger_id": trigger_id or new_trigger_id(),
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def block_actions_body(
    *,
    user_id: str,
    channel: str,
    ts: str,
    action_id: str,
    value: str,
    block_id: str = "",
    trigger_id: str | None = None,
    team_id: str = SANDBOX_TEAM_ID,
) -> str:
    """A button click on a message in a DM or channel."""
    payload = _block_actions(user_id, team_id, trigger_id, action_id, value, block_id)
    payload["container"] = {"type": "message", "channel_id": channel, "message_ts": ts}
    payload["channel"] = {"id": channel}
    payload["message"] = {"ts": ts, "type": "message"}
    return urlencode({"payload": json.dumps(payload)})


def view_block_actions_body(
    *,
    user_id: str,
    view_id: str,
    action_id: str,
    value: str,
    block_id: str = "",
    view_type: str = "home",
    trigger_id: str | None = None,
    team_id: str = SANDBOX_TEAM_ID,
) -> str:
    """A button click on a view (App Home or a modal): Slack sends the view, not a message."""
    payload = _block_actions(user_id, team_id, trigger_id, action_id, value, block_id)
    payload["container"] = {"type": "view", "view_id": view_id}
    payload["view"] = {"id": view_id, "type": view_type}
    return urlencode({"payload": json.dumps(payload)})


def view_submission_body(
    *,
    user_id: str,
    view: dict[str, Any],
    values: dict[str, dict[str, dict[str, Any]]],
    view_id: str,
    trigger_id: str | None = None,
    team_id: str = SANDBOX_TEAM_ID,
) -> str:
    """A modal's submit button: the view as it was opened plus `state.values` in Slack's shape
    ({block_id: {action_id: {"type": ..., "value" | "selected_option": ...}}})."""
    submitted = {**view, "id": view_id, "team_id": team_id, "state": {"values": values}}
    submitted.setdefault("private_metadata", "")
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": {"id": team_id},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": "A0BREATHER",
        "token": "sandbox",
        "trigger_id": trigger_id or new_trigger_id(),
        "view": submitted,
        "response_urls": [],
    }
    return urlencode({"payload": json.dumps(payload)})


def app_home_opened_body(*, user_id: str, channel: str, team_id: str = SANDBOX_TEAM_ID) -> str:
    """The Events API envelope Slack posts when someone opens the app's Home tab (JSON body)."""
    now = time.time()
    return json.dumps(
        {
            "token": "sandbox",
            "team_id": team_id,
            "api_app_id": "A0BREATHER",
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:16].upper()}",
            "event_time": int(now),
            "event": {
                "type": "app_home_opened",
                "user": user_id,
                "channel": channel,
                "tab": "home",
                "event_ts": f"{now:.6f}",
            },
        }
    )


def slash_command_body(
    *, user_id: str, command: str, text: str, channel: str = "D0SANDBOX", team_id: str = SANDBOX_TEAM_ID
) -> str:
    return urlencode(
        {
            "command": command,
            "text": text,
            "user_id": user_id,
            "team_id": team_id,
            "channel_id": channel,
            "trigger_id": new_trigger_id(),
            "response_url": "",
            "api_app_id": "A0BREATHER",
        }
    )


def choices_submission_body(
    *, user_id: str, callback_id: str, private_metadata: str, values: dict[str, str]
) -> str:
    """A modal of radio-button questions submitted with {field id: chosen option value}."""
    state = {
        field: {field: {"type": "radio_buttons", "selected_option": {"value": value}}}
        for field, value in values.items()
    }
    view = {"type": "modal", "callback_id": callback_id, "private_metadata": private_metadata}
    return view_submission_body(user_id=user_id, view=view, values=state, view_id=f"V{uuid.uuid4().hex[:10]}")
