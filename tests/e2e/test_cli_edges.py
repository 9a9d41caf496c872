"""The CLI's edges, as an operator meets them: help, unsupported databases, `.env`, a quiet start."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from bot.cli import app as cli
from tests.conftest import PSEUDONYM_KEY, ROSTER, WEBHOOK_SECRET, MakeSettings
from tests.e2e.test_operations import _free_port
from tests.live import live_server

DEMO_AGENTS = {"ana", "mihai", "darya", "sam", "ioana", "leo"}
ROSTER_AGENTS = {"ana", "bob", "cris", "dana", "emil", "nora"}


def _commands(group: TyperGroup, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_help_shows_help_as_a_flag_on_every_command() -> None:
    root = typer.main.get_command(cli)
    assert isinstance(root, TyperGroup)
    paths = _commands(root)
    assert ("serve",) in paths and ("survey", "send") in paths
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(cli, [*path, "--help"], env={"COLUMNS": "100"})
        assert result.exit_code == 0, (path, result.output)
        (line,) = [row for row in result.output.splitlines() if "--help" in row]
        assert "Show this message and exit." in line and "<" not in line, (path, line)


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("mysql://root:hunter2@127.0.0.1:3306/test", "mysql://"),
        ("mysql+pymysql://root:hunter2@127.0.0.1/test", "mysql+pymysql://"),
        ("postgresql+psycopg2://root:hunter2@127.0.0.1/test", "postgresql+psycopg2://"),
        ("hunter2", None),
    ],
)
@pytest.mark.parametrize("command", [["check-config"], ["serve"], ["db", "upgrade"]])
def test_unsupported_database_urls_are_refused_in_one_line(
    url: str, scheme: str | None, command: list[str]
) -> None:
    env = {"DATABASE_URL": url, "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY, "BREATHER_CONFIG": str(ROSTER)}
    result = CliRunner().invoke(cli, command, env=env)
    assert result.exit_code == 1
    (line,) = result.output.splitlines()
    assert line.startswith("error: settings: DATABASE_URL: ")
    assert (f"{scheme} is not supported" if scheme else "not a database URL") in line
    assert "sqlite:///" in line and "postgresql://" in line  # what is supported
    assert "hunter2" not in result.output


@pytest.mark.parametrize(
    "url", ["sqlite:///breather.db", "postgres://u@127.0.0.1/db", "postgresql+psycopg://u@127.0.0.1/db"]
)
def test_supported_database_urls_pass_check_config(url: str) -> None:
    env = {
        "DATABASE_URL": url,
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_CONFIG": str(ROSTER),
        "BREATHER_MESSENGER": "sandbox",
    }
    result = CliRunner().invoke(cli, ["check-config"], env=env)
    assert result.exit_code == 0 and result.output.startswith("ok: "), result.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # about the CLI, not the database
def test_simulate_reads_the_secret_and_the_roster_from_dot_env(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = make_settings(messenger="sandbox", slack_bot_token=None, slack_signing_secret=None)
    # The autouse fixture made tmp_path the current directory, where `.env` is read from.
    (tmp_path / ".env").write_text(f"BREATHER_WEBHOOK_SECRET={WEBHOOK_SECRET}\nBREATHER_CONFIG={ROSTER}\n")
    with live_server(settings) as live:
        result = CliRunner().invoke(cli, ["simulate", "--url", live.url, "--calls", "8", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "sent 8, accepted 8, refused 0" in result.output
    agents = {line.split()[1].split("@")[0] for line in result.output.splitlines() if "@" in line}
    assert agents <= ROSTER_AGENTS and agents - DEMO_AGENTS  # the .env's teams file, not the demo's


def test_serve_starts_quietly_with_one_line_about_its_scheduled_jobs(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'breather.db'}",
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_CONFIG": str(ROSTER),
        "BREATHER_MESSENGER": "sandbox",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    log: list[str] = []
    try:
        assert server.stderr is not None
        for line in server.stderr:  # ends at EOF should serve fail to start
            log.append(line)
            if "scheduled jobs" in line:
                break
    finally:
        server.send_signal(signal.SIGINT)
        log.append(server.communicate(timeout=30)[1])
    text = "".join(log)
    assert sum("this process runs the scheduled jobs" in line for line in log) == 1, text
    assert "Adding job" not in text and "Added job" not in text and "apscheduler" not in text
    assert "Traceback" not in text
