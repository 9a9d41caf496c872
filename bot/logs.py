"""Logging set-up. Secrets are SecretStr everywhere; as a second line of defence, any secret
value that still reaches a log line is masked."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.config import Settings

SECRET_FIELDS = (
    "pseudonym_key",
    "webhook_secret",
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "twilio_auth_token",
    "aircall_webhook_token",
    "aircall_api_token",
    "zendesk_webhook_secret",
    "dialpad_webhook_secret",
    "dialpad_api_key",
    "teams_app_password",
)


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True


def secret_values(settings: Settings) -> list[str]:
    values = []
    for name in SECRET_FIELDS:
        value = getattr(settings, name, None)
        if value is not None:
            values.append(value.get_secret_value())
    return values


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secret_values(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # At DEBUG the Slack and Teams SDKs log whole request bodies and activities, i.e. what
    # agents and customers wrote.
    for library in ("slack_sdk", "slack_bolt", "microsoft_teams"):
        logging.getLogger(library).setLevel(max(root.level, logging.INFO))
