"""What `breather demo` shows a newcomer, through the console's API, on SQLite and PostgreSQL.

The app runs on the demo's own teams file (bot/demo/breather.yml: its pace, support contacts and
DemoPhone ids) with DemoPhone plugged in, as `breather demo` does, and a test clock to move time.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from handlers.sandbox.console import SandboxConsole
from handlers.sandbox.phone import DemoPhone
from tests.conftest import MakeSettings
from tests.e2e.test_console import console_client
from tests.helpers import Clock, settled

DEMO_ROSTER = Path(str(resources.files("bot.demo").joinpath("breather.yml")))
ANA, LEAD = "ana@example.com", "radu@example.com"
# A Wednesday at 10:00 in Bucharest: inside the demo's round-the-clock shift, any day would do.
START = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


class Demo:
    def __init__(self, client: TestClient, clock: Clock, phone: DemoPhone) -> None:
        self.client, self.clock, self.phone = client, clock, phone
        self.services = client.app.state.services  # type: ignore[attr-defined]
        self.console: SandboxConsole = client.app.state.sandbox_console  # type: ignore[attr-defined]

    def key(self, email: str) -> str:
        agent = self.services.roster.find("email", email)
        return f"agent:{agent.id}" if agent else f"lead:{email}"

    def view(self, email: str) -> dict[str, Any]:
        response = self.client.get("/sandbox/api/view", params={"as": self.key(email)})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def post(self, path: str, email: str, **body: Any) -> dict[str, Any]:
        response = self.client.post(f"/sandbox/api/{path}", json={"as": self.key(email), **body})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def control(self, email: str, control: str) -> str:
        agent = self.services.roster.find("email", email)
        return str(self.post("control", email, control=control, agent=agent.id)["status"])

    def wait_for(
        self, email: str, check: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            view = self.view(email)
            if check(view):
                return view
            if time.monotonic() > deadline:
                raise AssertionError(f"the console never showed it to {email}: {view}")
            time.sleep(0.05)


def pane(view: dict[str, Any], pane_id: str) -> dict[str, Any]:
    return next(p for p in view["panes"] if p["id"] == pane_id)


def dm_text(view: dict[str, Any]) -> str:
    return html.unescape("".join(m["html"] for m in pane(view, "dm")["messages"]))


@pytest.fixture
def demo(make_settings: MakeSettings) -> Iterator[Demo]:
    settings = make_settings(
        messenger="sandbox", slack_bot_token=None, slack_signing_secret=None, config_path=DEMO_ROSTER
    )
    clock = Clock(START)
    phone = DemoPhone()
    app = create_app(settings, clock=clock, phones={phone.provider: phone})
    with console_client(app) as client:  # on this machine, holding this run's token
        app.state.sandbox_console.phone = phone
        yield Demo(client, clock, phone)


def test_a_second_hard_call_too_soon_says_why_no_check_in_came(demo: Demo) -> None:
    demo.control(ANA, "hard_call")
    demo.wait_for(ANA, lambda view: "How are you doing?" in dm_text(view))
    assert demo.view(ANA)["notice"] is None

    demo.clock.advance(seconds=40)
    demo.control(ANA, "hard_call")

    view = demo.wait_for(ANA, lambda view: view["notice"] is not None)
    assert view["notice"].startswith("No check-in for your latest hard call: your last one was 4")
    assert "Breather waits 2 min between check-ins (checkin_cooldown_minutes)" in view["notice"]
    assert dm_text(view).count("How are you doing?") == 1
    # Only the person it is about is told.
    assert demo.view("mihai@example.com")["notice"] is None


def test_the_survey_waits_a_moment_after_a_check_in_and_the_console_says_until_when(demo: Demo) -> None:
    demo.control(ANA, "hard_call")
    demo.wait_for(ANA, lambda view: "How are you doing?" in dm_text(view))

    assert "started" in demo.control(ANA, "survey_round")
    view = demo.wait_for(ANA, lambda view: view["notice"] is not None)
    assert view["notice"].startswith("Your survey invitation waits: you had a check-in")
    assert "(survey_gap_after_checkin_minutes)" in view["notice"]
    assert "Got a minute?" not in dm_text(view)

    demo.clock.advance(minutes=1)  # the demo waits half a minute
    demo.services.survey_actions.dispatch()
    view = demo.wait_for(ANA, lambda view: "Got a minute?" in dm_text(view))
    assert view["notice"] is None  # news that something arrived since replaces it


def test_a_breather_shows_in_the_agents_phone_status_and_the_welcome_back_restores_it(demo: Demo) -> None:
    assert demo.view(ANA)["phone"] == {"text": "DemoPhone: available", "on_break": False}
    demo.control(ANA, "hard_call")
    view = demo.wait_for(ANA, lambda view: "Take a 1-minute breather" in dm_text(view))
    message = pane(view, "dm")["messages"][0]
    value = message["html"].split('data-action-id="checkin.break" data-value="', 1)[1].split('"', 1)[0]

    demo.post("click", ANA, ts=message["ts"], action_id="checkin.break", value=value, block_id="checkin")

    view = demo.wait_for(ANA, lambda view: view["phone"]["on_break"])
    assert view["phone"]["text"] == "DemoPhone: on a break, no calls"
    view = demo.wait_for(ANA, lambda view: "No calls will reach you in DemoPhone" in dm_text(view))

    demo.clock.advance(minutes=1.5)
    demo.services.breaks_wake.set()
    view = demo.wait_for(ANA, lambda view: "Welcome back" in dm_text(view))
    assert "I've switched your DemoPhone status back" in dm_text(view)
    assert view["phone"] == {"text": "DemoPhone: available", "on_break": False}


def test_talk_to_someone_offers_the_demo_teams_support_contacts(demo: Demo) -> None:
    demo.control(ANA, "hard_call")
    view = demo.wait_for(ANA, lambda view: "Talk to someone" in dm_text(view))
    message = pane(view, "dm")["messages"][0]
    value = message["html"].split('data-action-id="checkin.talk" data-value="', 1)[1].split('"', 1)[0]

    demo.post("click", ANA, ts=message["ts"], action_id="checkin.talk", value=value, block_id="checkin")

    modal = demo.wait_for(ANA, lambda view: view["modal"] is not None)["modal"]
    assert "Employee assistance line" in html.unescape(modal["html"])
    assert "Peer supporter Mara" in html.unescape(modal["html"])


def test_the_team_lead_has_a_home_tab_with_the_teams_digest(demo: Demo) -> None:
    view = demo.view(LEAD)
    assert [p["id"] for p in view["panes"]][:2] == ["home", "dm"]

    demo.post("home", LEAD)

    view = demo.wait_for(LEAD, lambda view: bool(pane(view, "home")["html"]))
    assert "Billing support" in html.unescape(pane(view, "home")["html"])
    assert view["phone"] is None and view["notice"] is None  # a lead has no phone line here


def test_the_consoles_language_switch_turns_the_demo_lead_too(demo: Demo) -> None:
    """Radu leads the demo team without being an agent: the switch reaches his digest as well."""
    demo.services.settings.demo = True  # what `breather demo` runs with
    assert demo.client.get("/sandbox", params={"lang": "ro"}).status_code == 200
    demo.post("home", LEAD)
    view = demo.wait_for(LEAD, lambda view: "Limba" in pane(view, "home")["html"])
    home = html.unescape(pane(view, "home")["html"])
    assert "Echipele tale" in home and "Your teams" not in home


def test_kudos_typed_with_an_at_name_reaches_the_team_channel(demo: Demo) -> None:
    reply = demo.post("command", "mihai@example.com", text="/kudos @ana thanks for covering my queue")
    assert "Kudos posted" in reply["html"]

    settled(demo.services)
    posts = "".join(m["html"] for m in pane(demo.view(ANA), "C0BILLING")["messages"])
    channel = html.unescape(re.sub(r"<[^>]+>", " ", posts))
    channel = re.sub(r"\s+", " ", channel)
    assert "@Mihai Ionescu sent kudos to @Ana Popescu" in channel
    assert "thanks for covering my queue" in channel
