"""Secrets never reach the logs, even when a message carries one by mistake."""

from __future__ import annotations

import io
import logging

import pytest

from bot.app import create_app
from bot.config import load_settings
from bot.logs import RedactSecrets, secret_values
from tests.conftest import PSEUDONYM_KEY, MakeSettings


def test_a_secret_inside_a_log_message_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(
        _env_file=None,
        pseudonym_key=PSEUDONYM_KEY,
        slack_bot_token="xoxb-very-secret",
        slack_signing_secret="sign-me-secret",
    )
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactSecrets(secret_values(settings)))
    with caplog.at_level(logging.INFO, logger="test.redaction"):
        logger.info("calling Slack with %s and key %s", "xoxb-very-secret", PSEUDONYM_KEY)
    assert "xoxb-very-secret" not in caplog.text and PSEUDONYM_KEY not in caplog.text
    assert "calling Slack with *** and key ***" in caplog.text


def test_a_secret_inside_a_traceback_is_masked() -> None:
    secret = "xoxb-very-secret"
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactSecrets([secret]))
    logger = logging.getLogger("test.redaction.traceback")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise RuntimeError(f"Slack refused token {secret}")
    except RuntimeError:
        logger.exception("calling Slack failed")
    finally:
        logger.removeHandler(handler)
    written = out.getvalue()
    assert secret not in written
    assert "RuntimeError: Slack refused token ***" in written and "Traceback" in written


def test_bolt_does_not_warn_about_the_token_at_every_start(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")  # as in production
    with caplog.at_level(logging.WARNING):
        create_app(make_settings())
    assert "will be unused" not in caplog.text
