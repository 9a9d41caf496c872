"""Logging set-up. Secrets are SecretStr everywhere; as a second line of defence, any secret
value that still reaches a log line is masked."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

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
    """Masks secret values in what a handler writes: the message, and the traceback and stack
    the formatter would add (formatted here once, so the formatter uses the masked text)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 6]
        self._formatter = logging.Formatter()

    def _masked(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        masked = self._masked(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._masked(record.exc_text)
        if record.stack_info:
            record.stack_info = self._masked(record.stack_info)
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
    for library in ("slack_sdk", "microsoft_teams"):
        logging.getLogger(library).setLevel(max(root.level, logging.INFO))
    # APScheduler logs each job it adds at INFO (one line per job and team at every start) and
    # each run (several a minute); Breather says itself that it runs the jobs. Its warnings (a
    # missed run) and errors still show, and everything does at DEBUG.
    logging.getLogger("apscheduler").setLevel(
        max(root.level, logging.WARNING) if root.level > logging.DEBUG else root.level
    )
    bolt_logger()


def uvicorn_logging(level: str) -> dict[str, Any]:
    """uvicorn's logging options. Without a config of its own, uvicorn gives its loggers no
    handlers of their own, so they propagate to the root handler and are masked too."""
    return {"log_config": None, "log_level": level.lower()}


def bolt_logger() -> logging.Logger:
    """The logger to give Bolt's App. Bolt logs a request's whole body at INFO when its signature
    fails, and its loggers copy their level from the one they are given (or from the root, at
    the moment the app is built), so a level set on "slack_bolt" alone does not reach them."""
    logger = logging.getLogger("slack_bolt")
    logger.setLevel(max(logger.level, logging.WARNING))
    if not any(isinstance(f, _TokenNotice) for f in logger.filters):
        logger.addFilter(_TokenNotice())
    return logger


class _TokenNotice(logging.Filter):
    """Bolt warns at every start that the token is unused when it is given a client and
    SLACK_BOT_TOKEN is set; Breather always gives it a client built from that token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in str(record.msg)
