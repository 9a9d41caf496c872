"""Slack Web API errors translated once into Breather's delivery errors."""

from __future__ import annotations

import urllib.error
from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk.errors import SlackApiError

from bot.errors import DeliveryFailed, RateLimited

# Error codes that will never succeed by retrying the same call.
PERMANENT = frozenset(
    {
        "users_not_found",
        "user_not_found",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "cannot_dm_bot",
        "messages_tab_disabled",
        "restricted_action",
        "invalid_arguments",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "user_disabled",
        "invalid_view",
        "view_too_large",
        "not_allowed_token_type",
    }
)


def _retry_after(error: SlackApiError) -> float:
    headers = {k.lower(): v for k, v in (error.response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(value), 0.0) if value is not None else 1.0
    except ValueError:
        return 1.0


@contextmanager
def slack_errors(method: str) -> Iterator[None]:
    try:
        yield
    except SlackApiError as error:
        status = error.response.status_code
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        if status == 429 or code == "ratelimited":
            raise RateLimited(f"{method}: rate limited", _retry_after(error)) from None
        if code in PERMANENT:
            raise DeliveryFailed(f"{method}: {code}", permanent=True) from None
        raise DeliveryFailed(f"{method}: HTTP {status} {code or ''}".strip()) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
        raise DeliveryFailed(f"{method}: connection failed ({type(error).__name__})") from None
