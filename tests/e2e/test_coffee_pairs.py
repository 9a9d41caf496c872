"""Coffee pairs (issue 16, point 2): weekly pairs of the agents who opted in, avoiding repeats,
with a shared slot inside both shifts, one DM each; skip a week; Slack, Teams and the console."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlmodel import select
from starlette.testclient import TestClient

from bot.app import create_app
from storage.db import session_scope
from storage.models import Pairing
from tests.conftest import ROSTER, Harness, MakeSettings, teams_app
from tests.e2e.test_console import Console, console_client
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.helpers import Clock, settled
from tests.teams_harness import TeamsHarness, card_text

BUCHAREST = ZoneInfo("Europe/Bucharest")
OFFICE = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "17:00"}
MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=BUCHAREST).astimezone(UTC)
USERS = {"U0ANA": "D0ANA", "U0CRIS": "D0CRIS", "U0DANA": "D0DANA", "U0EMIL": "D0EMIL"}


def roster(tmp_path: Path) -> Path:
    data = yaml.safe_load(ROSTER.read_text())
    billing = data["teams"][0]
    billing.update(shift=OFFICE, pairing={"day": "mon", "at": "10:00"})
    billing["agents"][0].update(timezone="America/Toronto", shift=OFFICE)  # Ana works Toronto hours
    path = tmp_path / "roster.yml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def pairs(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> Iterator[tuple[Harness, Clock]]:
    clock = Clock(MONDAY)
    fake_slack.clock = clock.timestamp
    app = create_app(make_settings(config_path=roster(tmp_path)), clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Harness(client, app.state.services, fake_slack), clock


def say(harness: Harness, user_id: str, text: str) -> str:
    return str(harness.command(user_id=user_id, command="/breather", text=text).json()["text"])


def pair_dms(slack: FakeSlack) -> dict[str, str]:
    return {
        c.params["channel"]: c.params["text"]
        for c in slack.calls("chat.postMessage")
        if "are paired this week" in c.params["text"]
    }


def partners(services: Any) -> set[frozenset[str]]:
    with session_scope(services.engine) as session:
        rows = session.exec(select(Pairing)).all()
    groups: dict[str, set[str]] = {}
    for row in rows:
        agent = services.roster.by_pseudonym(row.pseudonym)
        groups.setdefault(row.pair_id, set()).add(agent.name.split()[0])
    return {frozenset(g) for g in groups.values()}


def test_two_opted_in_agents_get_one_friendly_dm_each_with_a_slot_inside_both_shifts(
    pairs: tuple[Harness, Clock],
) -> None:
    harness, _ = pairs
    assert say(harness, "U0ANA", "pairing on").startswith("You're in: once a week")
    say(harness, "U0CRIS", "pairing on")
    assert harness.services.home.pair_team("billing") == 2
    harness.slack.wait_for("chat.postMessage", 2)
    settled(harness.services)
    dms = pair_dms(harness.slack)
    # Ana's shift is 08:00-17:00 in Toronto (15:00-24:00 in Bucharest): both work 15:00-17:00 there.
    slot = "are paired this week: how about 10 minutes on Monday, 7 December at"
    assert dms == {"D0ANA": f"You and Cris {slot} 09:00?", "D0CRIS": f"You and Ana Popescu {slot} 16:00?"}
    assert harness.services.home.pair_team("billing") == 0  # once a week
    posts = harness.slack.calls("chat.postMessage")
    assert {c.params["channel"] for c in posts} == {"D0ANA", "D0CRIS"}  # no channel, no lead


def test_pairs_avoid_repeats_and_a_skipped_week_leaves_one_out(pairs: tuple[Harness, Clock]) -> None:
    harness, clock = pairs
    for user in USERS:
        say(harness, user, "pairing on")
    seen: list[set[frozenset[str]]] = []
    for week in range(3):
        clock.now = MONDAY + timedelta(weeks=week)
        before = partners(harness.services)
        assert harness.services.home.pair_team("billing") == 4
        seen.append(partners(harness.services) - before)
    every_pair = [pair for week in seen for pair in week]
    assert len(every_pair) == len(set(every_pair)) == 6  # three weeks, six different pairs of four
    assert say(harness, "U0DANA", "pairing skip").startswith("Done: no coffee pair for you next time.")
    clock.now = datetime(2026, 12, 28, 10, 0, tzinfo=BUCHAREST).astimezone(UTC)
    before = partners(harness.services)
    assert harness.services.home.pair_team("billing") == 3  # Dana skips; the three make one group
    (trio,) = partners(harness.services) - before
    assert "Dana" not in trio and len(trio) == 3
    settled(harness.services)
    last = [c.params for c in harness.slack.calls("chat.postMessage")][-3:]
    assert all(" and " in p["text"] and "are paired this week" in p["text"] for p in last)


def test_an_agent_joins_and_leaves_from_the_home_tab_and_a_team_without_pairs_says_so(
    pairs: tuple[Harness, Clock],
) -> None:
    harness, _ = pairs
    harness.click(user_id="U0CRIS", channel="D0CRIS", ts="1.1", action_id="home.pairing_on", value="")
    home = harness.slack.wait_for("views.publish")[0].params["view"]
    assert "You're in the weekly *coffee pairs*." in str(home)
    assert say(harness, "U0CRIS", "pairing off").startswith("You've left the coffee pairs.")
    assert say(harness, "U0NORA", "pairing on").startswith("Your team has no coffee pairs.")
    assert say(harness, "U0CRIS", "pairing").startswith("Type `/breather pairing on`")


def test_teams_and_the_console_join_coffee_pairs(
    make_teams_settings: MakeSettings,
    fake_teams: FakeTeamsConnector,
    make_settings: MakeSettings,
    tmp_path: Path,
) -> None:
    app = teams_app(make_teams_settings(config_path=roster(tmp_path)), fake_teams, clock=Clock(MONDAY))
    with TestClient(app, raise_server_exceptions=False) as client:
        teams = TeamsHarness(client, app.state.services, fake_teams)
        for email in ("bob@example.com", "cris@example.com"):
            teams.install(email)
            teams.say(email, "breather pairing on")
        fake_teams.wait_for("send", 2)
        assert app.state.services.home.pair_team("billing") == 2
        cards = [card_text(c.card) for c in fake_teams.wait_for("send", 4)[2:]]
        assert sorted(cards)[0].startswith("You and Bob Stan are paired this week")
    sandbox = make_settings(
        config_path=roster(tmp_path), messenger="sandbox", slack_bot_token=None, slack_signing_secret=None
    )
    console_app = create_app(sandbox, clock=Clock(MONDAY))
    with console_client(console_app) as client:
        console = Console(client, console_app)
        reply = console.post("command", "emil@example.com", text="/breather pairing on").json()["html"]
        assert "once a week I&#x27;ll pair you" in reply or "once a week I'll pair you" in reply


def test_the_demo_team_starts_with_buddies_and_this_weeks_coffee_pairs(
    make_settings: MakeSettings,
) -> None:
    from pathlib import Path as _Path

    import bot
    from handlers.sandbox.demo_history import seed_demo_together
    from storage.models import AgentPrefs

    demo = _Path(bot.__file__).parent / "demo" / "breather.yml"
    settings = make_settings(
        config_path=demo, messenger="sandbox", slack_bot_token=None, slack_signing_secret=None
    )
    app = create_app(settings, clock=Clock(MONDAY))
    with console_client(app) as client:
        services = app.state.services
        assert seed_demo_together(services) == 6
        with session_scope(services.engine) as session:
            assert sum(p.buddy for p in session.exec(select(AgentPrefs))) == 3
        console = Console(client, app)
        from tests.e2e.test_console import dm_html

        console.wait_for("ana@example.com", lambda v: "are paired this week" in dm_html(v))
        radu = console.view("radu@example.com")
        assert "paired" not in str(radu) and "buddy" not in str(radu).lower()  # the lead sees neither
