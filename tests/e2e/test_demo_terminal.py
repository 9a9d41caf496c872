"""The demo's terminal: people by name, the commands it prints work, and nothing left behind."""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from bot.i18n import catalogue
from handlers.sandbox.demo import Commentary
from handlers.sandbox.text import plain
from storage.models import SandboxMessage
from tests.conftest import Harness
from tests.e2e.test_operations import _free_port

SLACK_ID = re.compile(r"\b[UDCW][0-9A-Z]{4,}\b")  # U0ANA, DPERSON913FC0, C0BILLING


def test_slack_references_read_as_names() -> None:
    names = {"U0ANA": "Ana Popescu", "C0BILLING": "Billing support"}
    text = ":tada: Kudos to <@U0ANA> from <@U0X9|sam> in <#C0BILLING>, see <https://ex.org/a|a note>"
    assert plain(text, names) == (
        "\U0001f389 Kudos to @Ana Popescu from @sam in #Billing support, see a note (https://ex.org/a)"
    )
    assert plain("Q&amp;A &lt;3 <!here>", names) == "Q&A <3 @here"


def test_the_commentary_names_agents_leads_and_channels(harness: Harness) -> None:
    out: list[str] = []
    commentary = Commentary(
        harness.services, "http://127.0.0.1:9", "unused", out.append, autoplay=False, stop=threading.Event()
    )
    text = {"type": "section", "text": {"type": "mrkdwn", "text": "Thanks <@U0ANA>, well handled!"}}
    rows = [
        # A lead is not on the roster: their DM channel is made up from a hash of the e-mail.
        SandboxMessage(
            conversation="DPERSON913FC0",
            ts="1.1",
            kind="message",
            payload={"to": "radu@example.com", "text": "Weekly summary", "blocks": [text]},
        ),
        SandboxMessage(
            conversation="C0BILLING",
            ts="1.2",
            kind="message",
            payload={"text": "A compliment", "blocks": [text]},
        ),
        SandboxMessage(
            conversation="DANA",
            ts="1.3",
            kind="message",
            payload={"to": "ana@example.com", "text": "Hello", "blocks": [text]},
        ),
        SandboxMessage(
            conversation="DANA",
            ts="1.3",
            kind="message",
            payload={"to": "ana@example.com", "text": "Hello", "blocks": [text]},
        ),
    ]
    for row in rows:
        commentary(row)
    said = "\n".join(out)
    assert "DM to Radu: Thanks @Ana Popescu, well handled!" in said
    assert "posted in the Billing support channel: Thanks @Ana Popescu" in said
    assert "DM to Ana Popescu: " in said and "updated Ana Popescu: " in said
    assert not SLACK_ID.findall(said), said


def test_the_demo_prints_its_digest_command_and_removes_its_database_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    scratch = tmp_path / "tmp"
    scratch.mkdir()  # the demo's temporary directory goes here (TMPDIR), so we can look
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONUNBUFFERED": "1", "TMPDIR": str(scratch)}
    demo = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--port", str(port), "--rate", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert demo.stdout is not None
        printed: list[str] = []
        for line in demo.stdout:
            printed.append(line)
            if "Press Ctrl+C to stop." in line:
                break
        start = "".join(printed)
        (digest_line,) = [line for line in printed if "digest --team" in line]
        words = shlex.split(digest_line.split(": ", 1)[1])
        assignments = dict(word.split("=", 1) for word in words if "=" in word and not word.startswith("-"))
        command = [word for word in words if word not in {f"{k}={v}" for k, v in assignments.items()}]
        assert command[0] == "breather" and command[1:] == ["digest", "--team", "billing"]
        assert {"BREATHER_DEMO", "DATABASE_URL", "BREATHER_CONFIG"} <= set(assignments)
        (database,) = list(scratch.glob("breather-demo-*/breather.db"))
        assert assignments["DATABASE_URL"] == f"sqlite:///{database}"
        digest = subprocess.run(
            [sys.executable, "-m", "bot.cli", *command[1:]],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **assignments},
            cwd=tmp_path,  # anywhere: the command carries all it needs
        )
        assert digest.returncode == 0, digest.stderr
        assert digest.stdout.startswith("Billing support: week of ")
        # A few messages of commentary, then the stop a service manager (or `kill`) sends.
        for line in demo.stdout:
            printed.append(line)
            if " taps " in line:
                break
    finally:
        demo.send_signal(signal.SIGTERM)
        rest, errors = demo.communicate(timeout=30)
    said = "".join(printed) + rest
    assert demo.returncode == 0, errors
    assert "Traceback" not in errors
    assert said.rstrip().endswith("Demo stopped; its throwaway database is removed.")
    assert list(scratch.iterdir()) == []
    # Everyone in the commentary by name: no Slack ids such as U0ANA or DPERSON913FC0.
    commentary = said[len(start) :]
    assert " taps " in commentary and not SLACK_ID.findall(commentary), commentary


def test_the_demo_in_persian_speaks_persian_and_its_console_reads_right_to_left(tmp_path: Path) -> None:
    fa = catalogue("fa")
    port = _free_port()
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp_path)}
    demo = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--port", str(port), "--language", "fa", "--rate", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert demo.stdout is not None
        printed: list[str] = []
        for line in demo.stdout:
            printed.append(line)
            if fa.t("demo.stop_hint") in line:
                break
        start = "".join(printed)
        assert "پشتیبانی صورت‌حساب" in start  # the team, by its Persian name
        (console,) = re.findall(r"http://127\.0\.0\.1:\d+/sandbox\?token=\S+", start)
        page = httpx.get(console, timeout=10).text
        assert '<html lang="fa" dir="rtl">' in page
    finally:
        demo.send_signal(signal.SIGTERM)
        rest, errors = demo.communicate(timeout=30)
    assert demo.returncode == 0, errors
    assert rest.rstrip().endswith(fa.t("demo.stopped"))


def test_the_demo_refuses_a_language_it_does_not_speak() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--language", "de"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["error: --language must be one of en, fa, ro, not 'de'"]
