"""The container's entrypoint, run on this machine against the installed copy (the image's
/opt/breather minus the OS): migrations on start, health, a clean stop, clear failures."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy

from tests.conftest import PSEUDONYM_KEY, ROSTER, SIGNING_SECRET
from tests.e2e.test_operations import _free_port
from tests.fakes.slack_api import FakeSlack
from tests.ops.install import ENTRYPOINT, REPO, ImageInstall


def settings(fake_slack: FakeSlack, database_url: str, port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_CONFIG": str(ROSTER),
        "BREATHER_MESSENGER": "slack",
        "SLACK_BOT_TOKEN": "xoxb-entrypoint-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
        # The image listens on 0.0.0.0; here loopback is enough to reach it.
        "BREATHER_HOST": "127.0.0.1",
        "BREATHER_PORT": str(port),
    }


def healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), "healthcheck"], capture_output=True, text=True, env=env, timeout=30
    )


def wait_until_healthy(process: subprocess.Popen[str], port: int, deadline_s: float = 60) -> httpx.Response:
    deadline = time.monotonic() + deadline_s
    while True:
        assert process.poll() is None, "the entrypoint exited: " + (process.communicate()[1] or "")
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            if answer.status_code == 200:
                return answer
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "no healthy /healthz within the deadline"
        time.sleep(0.1)


@pytest.fixture
def served(
    image_install: ImageInstall, fake_slack: FakeSlack, database_url: str
) -> Iterator[tuple[subprocess.Popen[str], dict[str, str], int]]:
    port = _free_port()
    env = image_install.env(**settings(fake_slack, database_url, port))
    process = subprocess.Popen(
        ["sh", str(ENTRYPOINT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        yield process, env, port
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


def test_the_entrypoint_migrates_serves_reports_health_and_stops_cleanly(
    served: tuple[subprocess.Popen[str], dict[str, str], int], database_url: str
) -> None:
    process, env, port = served
    assert wait_until_healthy(process, port).json()["database"] == "ok"
    assert healthcheck(env).returncode == 0
    engine = sqlalchemy.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        tables = set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"alembic_version", "checkins", "outbox"} <= tables
    # `docker stop` sends SIGTERM to the container's main process: Breather itself, not a shell.
    process.send_signal(signal.SIGTERM)
    out, errors = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then ends by the signal it got (exit 143 to a supervisor,
    # which systemd and container engines count as a clean stop).
    assert process.returncode in (0, -signal.SIGTERM), errors
    assert "Application shutdown complete." in errors
    assert out.splitlines()[0] == "database is up to date"
    started = re.search(r"Started server process \[(\d+)\]", errors)
    assert started and int(started.group(1)) == process.pid, errors  # exec'd, so signals reach it
    assert "Finished server process" in errors and "Traceback" not in errors
    stopped = healthcheck(env)
    assert stopped.returncode == 1 and stopped.stderr.startswith("unhealthy: ")


def test_an_unreachable_database_stops_the_entrypoint_with_one_line(
    image_install: ImageInstall, fake_slack: FakeSlack
) -> None:
    port = _free_port()
    closed = f"postgresql://breather:hunter2@127.0.0.1:{_free_port()}/breather"
    env = image_install.env(**settings(fake_slack, closed, port))
    result = subprocess.run(["sh", str(ENTRYPOINT)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: cannot reach the database at 127.0.0.1:") and "hunter2" not in line


def test_other_commands_pass_through_to_breather(image_install: ImageInstall, fake_slack: FakeSlack) -> None:
    env = image_install.env(**settings(fake_slack, "sqlite:///unused.db", _free_port()))
    env["BREATHER_CONFIG"] = str(REPO / "breather.example.yml")
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "check-config"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0 and result.stdout.startswith("ok: "), result.stderr


def _unprivileged_user_can_run(python: str) -> str | None:
    """Why the entrypoint cannot be tried as `nobody` here, if it cannot."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "needs root and runuser to switch to an unprivileged user"
    probe = subprocess.run(
        ["runuser", "-u", "nobody", "--", python, "-c", "import sqlalchemy"], capture_output=True, timeout=30
    )
    if probe.returncode != 0:
        return f"the test interpreter {python} is not readable by nobody (it lives under a private home)"
    return None


def test_the_entrypoint_needs_no_root(image_install: ImageInstall, fake_slack: FakeSlack) -> None:
    """The image runs as uid 10001; the entrypoint must write nothing outside its database."""
    python = os.path.realpath(shutil.which("python3", path=image_install.env()["PATH"]) or "python3")
    reason = _unprivileged_user_can_run(python)
    if reason:
        pytest.skip(reason)
    nobody = pwd.getpwnam("nobody")
    state = Path(tempfile.mkdtemp(prefix="breather-state-"))
    try:
        os.chown(state, nobody.pw_uid, nobody.pw_gid)
        port = _free_port()
        env = image_install.env(**settings(fake_slack, f"sqlite:///{state / 'breather.db'}", port))
        env["HOME"] = str(state)
        process = subprocess.Popen(
            [
                "runuser",
                "-u",
                "nobody",
                "--",
                "env",
                *(f"{k}={v}" for k, v in env.items()),
                "sh",
                str(ENTRYPOINT),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until_healthy(process, port)
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)
    finally:
        shutil.rmtree(state, ignore_errors=True)
