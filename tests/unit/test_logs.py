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


def _written(*args: object, message: str = "%s") -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactSecrets([]))
    logger = logging.getLogger("test.log.hygiene")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
    return out.getvalue()


def test_an_access_log_line_never_shows_an_e_mail_address_plain_or_url_encoded() -> None:
    # uvicorn's access line: client, method, path with its query, version, status.
    for path in ("/sandbox?as=lead:radu@example.com", "/sandbox/api/view?as=lead%3Aradu%40example.com"):
        line = _written("127.0.0.1:50312", "GET", path, "1.1", 200, message='%s - "%s %s HTTP/%s" %d')
        assert "radu" not in line and "example.com" in line
        assert "***" in line


def test_control_characters_in_a_logged_value_cannot_forge_a_line() -> None:
    forged = "evt-1\n2026-12-05 06:00:00 ERROR breather: agent ana paused\r\x1b[2J\u2028"
    written = _written(forged, message="event %s skipped")
    assert written.count("\n") == 1  # the line's own end only
    assert "evt-1\\n2026-12-05" in written and "\\r\\x1b[2J\\u2028" in written


def test_a_database_error_never_carries_the_statements_values(engine: object) -> None:
    """hide_parameters: on SQLite and PostgreSQL an error names the statement, not its values;
    what the server itself quotes (PostgreSQL's DETAIL) is masked on the way to the log."""
    import sqlalchemy
    from sqlalchemy.exc import DBAPIError

    assert isinstance(engine, sqlalchemy.Engine)
    statement = sqlalchemy.text(
        "INSERT INTO digest_access_log (reader, team_id, via, at) VALUES (:r, NULL, 'x', :t)"
    )
    try:
        with engine.begin() as connection:
            connection.execute(statement, {"r": "radu@example.com", "t": "2026-12-05 06:00:00"})
    except DBAPIError as error:
        caught = error
    else:
        raise AssertionError("a NULL team_id was accepted")
    assert "SQL parameters hidden" in str(caught)
    assert "radu@example.com" not in _written(caught, message="slack listener failed: %s")
