"""Logging set-up. Secrets are SecretStr everywhere; as a second line of defence, any secret
value that still reaches a log line is masked. Every line also has its e-mail addresses masked
(`a***@example.com`, also URL-encoded ones in an access log's query string) and control
characters in the values it was given escaped, so an id from outside cannot forge a line."""

from __future__ import annotations

import logging
import re
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


# An address, plain or URL-encoded (`%40`), as an access log prints a query string.
_EMAIL = re.compile(
    r"([A-Za-z0-9_+-])[A-Za-z0-9._%+-]*(@|%40)([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)", re.IGNORECASE
)
# C0 and C1 controls, DEL and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def mask_emails(text: str) -> str:
    return _EMAIL.sub(lambda m: f"{m[1]}***{m[2]}{m[3]}", text)


def escape_controls(text: str) -> str:
    """`\\n`, `\\r`, `\\t`, `\\xNN` or `\\uNNNN` for each control character: one value, one line."""
    return _CONTROL.sub(
        lambda m: _NAMED.get(m[0]) or (f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}"),
        text,
    )


def _safe_arg(value: Any) -> Any:
    if isinstance(value, (str, BaseException)):
        return escape_controls(str(value))
    return value


class RedactSecrets(logging.Filter):
    """Masks secret values and e-mail addresses in what a handler writes: the message, and the
    traceback and stack the formatter would add (formatted here once, so the formatter uses the
    masked text); escapes control characters in the values a message is given (the message's
    own text, written in the code, may span lines; a traceback keeps its lines)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 6]
        self._formatter = logging.Formatter()

    def _masked(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return mask_emails(text)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_safe_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _safe_arg(value) for key, value in record.args.items()}
        elif not record.args and not isinstance(record.msg, str):
            record.msg = escape_controls(str(record.msg))
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
