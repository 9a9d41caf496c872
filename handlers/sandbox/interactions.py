"""Slack-shaped interaction payloads, signed like Slack signs them.

The sandbox console and the demo use these to click buttons: the request then goes through
the real `/slack/events` endpoint, Bolt and Breather's listeners, exactly as from Slack.
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


def block_actions_body(
    *,
    user_id: str,
    channel: str,
    ts: str,
    action_id: str,
    value: str,
    block_id: str = "",
    team_id: str = SANDBOX_TEAM_ID,
) -> str:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team_id},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": "A0BREATHER",
        "token": "sandbox",
        "trigger_id": f"sandbox.{uuid.uuid4().hex}",
        "container": {"type": "message", "channel_id": channel, "message_ts": ts},
        "channel": {"id": channel},
        "message": {"ts": ts, "type": "message"},
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
    return urlencode({"payload": json.dumps(payload)})


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
            "trigger_id": f"sandbox.{uuid.uuid4().hex}",
            "response_url": "",
            "api_app_id": "A0BREATHER",
        }
    )


def view_submission_body(
    *,
    user_id: str,
    callback_id: str,
    private_metadata: str,
    values: dict[str, str],
    view_id: str = "V0SANDBOX",
    team_id: str = SANDBOX_TEAM_ID,
) -> str:
    """A modal submitted with `values` ({field id: chosen option value}), as Slack sends it."""
    state = {
        field: {field: {"type": "static_select", "selected_option": {"value": value}}}
        for field, value in values.items()
    }
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": {"id": team_id},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": "A0BREATHER",
        "token": "sandbox",
        "trigger_id": f"sandbox.{uuid.uuid4().hex}",
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": state},
        },
    }
    return urlencode({"payload": json.dumps(payload)})
