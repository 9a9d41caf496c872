"""Reading the few fields Breather needs from Slack payloads, with clear errors when absent."""

from __future__ import annotations

from typing import Any

from bot.errors import InvalidInput
from bot.messenger import Delivered


def _get(body: dict[str, Any], *path: str) -> Any:
    value: Any = body
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise InvalidInput(f"Slack payload has no {'.'.join(path)}", status=400)
        value = value[key]
    return value


def user_id(body: dict[str, Any]) -> str:
    if "user_id" in body:  # slash commands
        return str(body["user_id"])
    return str(_get(body, "user", "id"))


def action_value(body: dict[str, Any]) -> str:
    actions = _get(body, "actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise InvalidInput("Slack payload has no actions", status=400)
    return str(actions[0].get("value", ""))


def message_location(body: dict[str, Any]) -> Delivered:
    container = body.get("container") or {}
    channel = container.get("channel_id") or _get(body, "channel", "id")
    ts = container.get("message_ts") or _get(body, "message", "ts")
    return Delivered(channel=str(channel), ts=str(ts))


def shortcut_message(body: dict[str, Any]) -> tuple[Delivered, str]:
    """Where the message a message shortcut was used on lives, and its text (with the text of
    any attachments, which is where forwarded e-mails and app messages keep theirs)."""
    channel = _get(body, "channel", "id")
    message = _get(body, "message")
    if not isinstance(message, dict) or "ts" not in message:
        raise InvalidInput("Slack payload has no message.ts", status=400)
    texts = [message.get("text")]
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict):
            texts.append(attachment.get("text") or attachment.get("fallback"))
    text = "\n".join(t for t in texts if isinstance(t, str) and t.strip())
    return Delivered(channel=str(channel), ts=str(message["ts"])), text


def trigger_id(body: dict[str, Any]) -> str | None:
    """The interaction's trigger (valid for 3 s), for opening a modal in answer to it."""
    value = body.get("trigger_id")
    return str(value) if value else None


def view_state(body: dict[str, Any]) -> dict[str, Any]:
    view = _get(body, "view")
    if not isinstance(view, dict):
        raise InvalidInput("Slack payload has no view", status=400)
    return view


def required_trigger_id(body: dict[str, Any]) -> str:
    """For surfaces that always carry a trigger (shortcuts): its absence is a malformed payload."""
    trigger = trigger_id(body)
    if trigger is None:
        raise InvalidInput("Slack payload has no trigger_id", status=400)
    return trigger
