"""A newcomer's first minutes with `breather demo`, in headless Chromium: the real demo (simulator,
simulated team mates, DemoPhone, the demo's team file and pace) and a person viewing the console
as Ana, who sees every feature reach her without doing more than a few clicks.

The demo runs faster than `make demo` (4 calls a second instead of 0.5) so the simulated world's
compliment and kudos come within seconds; the demo's policies are its own (a 1-minute breather,
half a minute between a check-in and a survey invitation), so the walk takes about a minute.
"""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.app import create_app
from bot.config import Settings
from handlers.sandbox.demo import run_demo
from tests.browser.test_console_browser import DEMO_ROSTER, browser  # noqa: F401 (a fixture)
from tests.databases import SqliteTemplate

pytestmark = pytest.mark.browser

RATE = 4.0
WAIT = 30_000  # ms: what the simulated world may take at this pace, on a busy machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def demo_url(tmp_path: Path, _sqlite_template: SqliteTemplate) -> Iterator[str]:
    settings = Settings(
        _env_file=None,
        demo=True,
        messenger="sandbox",
        database_url=_sqlite_template.copy_to(tmp_path / "demo.db"),
        config_path=DEMO_ROSTER,
        webhook_secret=secrets.token_hex(16),
        log_level="WARNING",
    )
    port, stop = free_port(), threading.Event()
    said: list[str] = []
    thread = threading.Thread(
        target=run_demo,
        kwargs={
            "settings": settings,
            "build_app": create_app,
            "host": "127.0.0.1",
            "port": port,
            "calls": None,
            "rate": RATE,
            "duration": 300,  # a bound only: the test stops it when it is done
            "out": said.append,
            "stop": stop,
        },
        daemon=True,
    )
    thread.start()
    try:
        for _ in range(400):
            printed = [line.rsplit(" ", 1)[1] for line in said if line.startswith("Open the console")]
            if printed:
                break
            stop.wait(0.05)
        yield printed[0]  # the console's URL, with this run's token, as a newcomer copies it
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:  # noqa: F811 (the module's own page)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"script errors: {errors}"


def test_a_newcomer_sees_every_feature_reach_the_agent_they_view_as(page: Page, demo_url: str) -> None:
    page.goto(demo_url)
    page.get_by_label("View as").select_option(label="Ana Popescu (agent)")
    pane, phone, notice = page.locator("#pane"), page.locator("#phone-status"), page.locator("#notice")
    expect(phone).to_have_text("DemoPhone: available", timeout=WAIT)

    # The simulated world: a check-in after a hard call, a customer's compliment, a team mate's kudos.
    expect(pane).to_contain_text("How are you doing?", timeout=WAIT)
    expect(pane).to_contain_text("A customer said this about you", timeout=WAIT)
    expect(pane.locator(".bk-quote")).not_to_have_count(0, timeout=WAIT)  # the customer's words as a quote
    page.get_by_role("button", name="# billing").click()
    expect(pane).to_contain_text("sent kudos to @Ana Popescu", timeout=WAIT)
    page.get_by_role("button", name="Breather", exact=True).click()

    # A breather: DemoPhone shows the break; no calls reach her meanwhile.
    page.get_by_role("button", name="Take a 1-minute breather").first.click()
    expect(phone).to_have_text("DemoPhone: on a break, no calls", timeout=WAIT)
    expect(pane).to_contain_text("No calls will reach you in DemoPhone", timeout=WAIT)

    # A second hard call straight away: no check-in, and the console says why in one line.
    page.get_by_role("button", name="Hard call").click()
    expect(notice).to_contain_text("No check-in for your latest hard call", timeout=WAIT)
    expect(notice).to_contain_text("between check-ins (checkin_cooldown_minutes)", timeout=WAIT)

    # A survey round: the invitation comes once half a minute has passed since her check-in.
    page.get_by_role("button", name="Survey round").click()

    # Within about a minute: the welcome back (her status set back) and the survey invitation.
    expect(pane).to_contain_text("Welcome back", timeout=90_000)
    expect(phone).to_have_text("DemoPhone: available", timeout=WAIT)
    expect(pane).to_contain_text("Got a minute?", timeout=90_000)
    page.get_by_role("button", name="Start").last.click()
    dialog = page.locator("#modal")
    expect(dialog).to_be_visible(timeout=WAIT)

    # The team lead: a Home tab with the team's digest, and the digest with its chart.
    page.get_by_label("View as").select_option(label="Radu (team lead)")
    expect(dialog).to_be_hidden(timeout=WAIT)
    page.get_by_role("button", name="Home").click()
    expect(pane).to_contain_text("Your teams (team-level only)", timeout=WAIT)
    page.get_by_role("button", name="Team digest").click()
    page.get_by_role("button", name="Breather", exact=True).click()
    expect(pane.locator("img")).to_have_count(1, timeout=30_000)

    # Back as Ana, the survey form she left open does not pop up again (the view that shows her
    # messages is the one that would bring it).
    page.get_by_label("View as").select_option(label="Ana Popescu (agent)")
    expect(pane).to_contain_text("Got a minute?", timeout=WAIT)
    expect(dialog).to_be_hidden(timeout=WAIT)

    # Kudos typed with an @name, as Breather's own hint suggests.
    page.get_by_label("View as").select_option(label="Mihai Ionescu (agent)")
    page.get_by_label("Slash command").fill("/kudos @ana thanks for the handover notes")
    page.get_by_role("button", name="Send").click()
    expect(pane).to_contain_text("Kudos posted in the team channel", timeout=WAIT)
    # Private replies stay in the order they came, as in Slack: the newest last.
    page.get_by_label("Slash command").fill("/breather help")
    page.get_by_role("button", name="Send").click()
    replies = pane.locator("article.msg-ephemeral")
    expect(replies).to_have_count(2, timeout=WAIT)
    expect(replies.first).to_contain_text("Kudos posted", timeout=WAIT)
    expect(replies.last).to_contain_text("/kudos @someone", timeout=WAIT)  # help lists /kudos
