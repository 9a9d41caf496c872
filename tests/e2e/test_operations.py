"""What an operator and an agent see around the check-in: health, metrics, commands, App Home."""

from __future__ import annotations

import gc
import json
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from handlers.sandbox.interactions import signed_headers
from storage.db import session_scope
from storage.models import AgentPrefs
from tests.conftest import PSEUDONYM_KEY, ROSTER, SIGNING_SECRET, Harness, MakeSettings, hard_call
from tests.helpers import action_ids, settled


def test_health_reports_the_database(harness: Harness) -> None:
    response = harness.client.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] == "ok"


def test_health_says_unavailable_when_the_database_is_down(make_settings: MakeSettings) -> None:
    app = create_app(make_settings(database_url="postgresql+psycopg://nobody@127.0.0.1:9/none"))
    response = TestClient(app).get("/healthz")  # no lifespan: the database is never reached
    assert response.status_code == 503 and response.json()["database"] == "unreachable"
    app.state.services.engine.dispose()


def test_metrics_count_events_calls_and_the_outbox(harness: Harness) -> None:
    harness.post_event(hard_call())
    harness.post_event(hard_call(agent_email="nobody@example.com"))
    harness.post_event(hard_call(), secret="wrong")
    harness.slack.wait_for("chat.postMessage")
    settled(harness.services)
    text = harness.client.get("/metrics").text
    assert 'breather_events_received_total{provider="generic"} 1.0' in text
    assert 'breather_events_ignored_total{provider="generic"} 1.0' in text
    assert 'breather_events_rejected_total{provider="generic",reason="signature"} 1.0' in text
    assert "breather_hard_calls_total 2.0" not in text and "breather_hard_calls_total 1.0" in text
    assert "breather_outbox_depth 0.0" in text and "breather_delivery_delay_seconds 0.0" in text
    # Nothing counts check-ins sent or held back, nor each delivery (issue 13: no side channels).
    assert "checkins" not in text and "latency" not in text


def test_breather_command_help_privacy_and_unknown(harness: Harness) -> None:
    assert "/breather pause" in harness.command(user_id="U0ANA", command="/breather", text="").text
    privacy = harness.command(user_id="U0ANA", command="/breather", text="privacy").text
    assert "at least 5 people" in privacy and "pseudonym" in privacy
    assert "I don't know `dance`" in harness.command(user_id="U0ANA", command="/breather", text="dance").text
    stranger = harness.command(user_id="U0STRANGER", command="/breather", text="pause").text
    assert "not on a Breather team" in stranger


def test_a_team_lead_who_is_not_an_agent_is_told_pause_is_for_agents(harness: Harness) -> None:
    harness.slack.add_user("U0RADU", "radu@example.com")  # billing's lead in the test roster
    for word in ("pause", "resume"):
        reply = harness.command(user_id="U0RADU", command="/breather", text=word).text
        assert "nothing for you to pause or resume" in reply and "/breather digest" in reply
        assert "not on a Breather team" not in reply
    # An agent still pauses, and someone on no team still hears they are not on one.
    assert "Paused." in harness.command(user_id="U0ANA", command="/breather", text="pause").text
    harness.slack.add_user("U0ZED", "zed@example.com")
    stranger = harness.command(user_id="U0ZED", command="/breather", text="pause").text
    assert "not on a Breather team" in stranger


def test_app_home_shows_the_agents_own_state_and_toggles_pause(harness: Harness) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0TEST",
            "api_app_id": "A1",
            "event_id": "Ev1",
            "event": {"type": "app_home_opened", "user": "U0ANA", "tab": "home", "event_ts": "1.2"},
        }
    )
    response = harness.client.post(
        "/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body, "application/json")
    )
    assert response.status_code == 200
    home = harness.slack.wait_for("views.publish")[0]
    assert home.params["user_id"] == "U0ANA"
    languages = ["home.language.en", "home.language.fa", "home.language.ro"]
    pauses = ["home.pause", "home.pause_2h", "home.pause_tomorrow", "home.pause_monday"]
    assert action_ids(home.params["view"]["blocks"]) == [
        *pauses,
        "home.surveys_off",
        "home.buddy_on",
        *languages,
    ]
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="home.pause", value="")
    updated = harness.slack.wait_for("views.publish", 2)[1]
    resumed = ["home.resume", "home.surveys_off", "home.buddy_on", *languages]
    assert action_ids(updated.params["view"]["blocks"]) == resumed
    assert "*paused*" in json.dumps(updated.params["view"])
    with session_scope(harness.services.engine) as session:
        prefs = session.get(AgentPrefs, harness.services.roster.find("email", "ana@example.com").pseudonym)  # type: ignore[union-attr]
        assert prefs is not None and prefs.paused


# How long a demo started by a test may run: reached only if the test never stops it, so
# generous (a demo's start and the simulator's first calls take far longer on a busy machine).
DEMO_BOUND_S = 180


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_demo_shows_a_checkin_and_a_simulated_answer_without_credentials() -> None:
    started = time.monotonic()
    port = _free_port()
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "demo",
            "--port",
            str(port),
            "--rate",
            "2",
            "--duration",
            str(DEMO_BOUND_S),  # a bound only: the test stops it as soon as it has seen what it came for
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONUNBUFFERED": "1"},
    )
    seen = ""
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            seen += line
            if ' taps "' in seen and "updated " in seen:  # a simulated agent answered
                break
    finally:
        demo.send_signal(signal.SIGINT)  # Ctrl+C, as a person ends the demo
        rest, err = demo.communicate(timeout=30)
    out = seen + rest
    assert demo.returncode == 0, err
    assert "Breather demo is running at http://127.0.0.1:" in out and "Press Ctrl+C to stop." in out
    assert f"Open the console in your browser: http://127.0.0.1:{port}/sandbox" in out
    assert "DM to " in out and "[I'm OK] [Take a 1-minute breather] [Talk to someone]" in out
    assert ' taps "' in out and "updated " in out  # a simulated agent answered through /slack/events
    assert "Demo stopped;" in out
    assert "Traceback" not in err
    assert time.monotonic() - started < DEMO_BOUND_S  # stopped by the Ctrl+C, not by --duration


@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve"], ["purge"]])
def test_commands_say_in_one_line_that_the_database_cannot_be_reached(command: list[str]) -> None:
    port = _free_port()  # nothing listens there any more
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *command],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": "/tmp",
            "DATABASE_URL": f"postgresql://breather:hunter2-secret@127.0.0.1:{port}/breather",
            "BREATHER_CONFIG": str(ROSTER),
            "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
            "BREATHER_MESSENGER": "sandbox",
        },
    )
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: cannot reach the database at 127.0.0.1:{port}/breather: ")
    assert "Connection refused" in line
    assert "hunter2" not in result.stderr + result.stdout


def test_the_demo_prints_a_simulate_command_that_reaches_it(tmp_path: Path) -> None:
    port = _free_port()
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONUNBUFFERED": "1"}
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "demo",
            "--port",
            str(port),
            "--rate",
            "0.01",
            "--duration",
            str(DEMO_BOUND_S),  # stopped by the test once the command has reached it
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert demo.stdout is not None
        printed = next(line for line in demo.stdout if "breather simulate" in line)
        command = shlex.split(printed.split(": ", 1)[1])
        assert command[:3] == ["breather", "simulate", "--url"] and "--secret" in command
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", *command[1:], "--calls", "2", "--rate", "20"],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
            cwd=tmp_path,  # no breather.yml here: the demo's own agents are used
        )
    finally:
        demo.send_signal(signal.SIGINT)
        demo.communicate(timeout=30)
    assert result.returncode == 0, result.stderr
    assert "sent 2, accepted 2, refused 0" in result.stdout


def test_the_server_keeps_what_start_up_built_out_of_the_collectors_full_passes(
    make_settings: MakeSettings,
) -> None:
    # `breather serve` holds one app for its life: the roster, catalogue and modules built at
    # start-up are frozen, so a full collection under load scans only what came after.
    gc.unfreeze()
    try:
        with TestClient(create_app(make_settings(), freeze_start_up=True)) as client:
            assert gc.get_freeze_count() > 0
            assert client.get("/healthz").status_code == 200
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
