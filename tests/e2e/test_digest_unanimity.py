"""No digest figure reveals one person (issue 13, point 3), through the real digest on SQLite and
PostgreSQL: a team where everyone answered alike reads exactly like one where all but one did,
at both ends of every scale, and the team's leads (on the roster too) never count towards k."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.app import create_app, make_messenger
from bot.container import Services
from bot.digests.messages import checkins_line, digest_text, wellbeing_line
from bot.digests.model import Digest
from bot.i18n import catalogue
from storage.db import make_engine, session_scope
from tests.conftest import Harness, MakeSettings
from tests.digest_seed import NOW, WEEK, add_calls, add_checkins, add_round
from tests.fakes.slack_api import FakeSlack
from tests.helpers import Clock, roster_with

ANA = "ana@example.com"


def app(
    make_settings: MakeSettings, slack: FakeSlack, tmp_path: Path, teams: dict[str, Any]
) -> Iterator[Harness]:
    settings = make_settings(config_path=roster_with(tmp_path, teams=teams))
    engine = make_engine(settings.database_url)
    services = Services(settings, engine, make_messenger(settings, engine), clock=Clock(NOW))
    try:
        with TestClient(create_app(settings, services=services)) as client:
            yield Harness(client, services, slack)
    finally:
        engine.dispose()


@pytest.fixture
def two_teams(make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Harness]:
    yield from app(make_settings, fake_slack, tmp_path, {"nights": {"managers": ["jo@example.com"]}})


def seed(
    harness: Harness, team: str, *, who5: list[int], low_burnout: int, breaks: int, answered: int
) -> None:
    """Six people (pseudonyms of their own), each with one check-in and an invitation."""
    people = [f"{team}-person-{n}" for n in range(6)]
    with session_scope(harness.services.engine) as session:
        add_calls(session, team, people, day=WEEK + timedelta_days(1), hard_people=[])
        add_checkins(
            session,
            team,
            {p: ("break" if i < breaks else "ok") for i, p in enumerate(people)},
            day=WEEK + timedelta_days(2),
        )
        add_round(
            session,
            team,
            dict(zip(people[:answered], who5, strict=False)),
            invited=people,
            closes=WEEK + timedelta_days(4),
            burnout={p: (3 if i < low_burnout else 1) for i, p in enumerate(people[:answered])},
        )


def timedelta_days(days: int) -> Any:
    from datetime import timedelta

    return timedelta(days=days)


def digests_of(harness: Harness) -> tuple[dict[str, Any], dict[str, Any]]:
    with session_scope(harness.services.engine) as session:
        config = harness.services.config
        return tuple(  # type: ignore[return-value]
            harness.services.digests.digest(session, config.team(team), NOW).to_json()
            for team in ("billing", "nights")
        )


def shown(digest: dict[str, Any]) -> tuple[str, str]:
    cat, latest = catalogue("en"), Digest.from_json(digest).latest
    return wellbeing_line(cat, latest), checkins_line(cat, latest.checkins, latest.min_group)


def test_a_unanimous_team_reads_exactly_like_one_where_all_but_one_answered_alike(two_teams: Harness) -> None:
    # Top of every scale: everyone at WHO-5 100 and reporting burnout, everyone took a break,
    # everyone asked answered ... against five of six doing so.
    seed(two_teams, "billing", who5=[25] * 6, low_burnout=6, breaks=6, answered=6)
    seed(two_teams, "nights", who5=[25] * 4 + [20], low_burnout=4, breaks=5, answered=5)
    everyone, all_but_one = digests_of(two_teams)
    assert shown(everyone) == shown(all_but_one)
    assert (
        everyone["metrics"]
        == all_but_one["metrics"]
        == {
            "who5_mean": {"at_least": 80.0},
            "who5_low_share": {"at_most": 0.2},
            "burnout_share": {"at_least": 0.8},
            "response_rate": {"at_least": 0.8},
        }
    )
    assert everyone["checkins"]["break_share"] == all_but_one["checkins"]["break_share"] == {"at_least": 0.8}
    wellbeing, checkins = shown(everyone)
    assert "100%" not in wellbeing + checkins and "100/100" not in wellbeing and "6 people" not in wellbeing
    assert "at least 80%" in checkins and "5 or more people answered" in wellbeing


def test_the_bottom_of_every_scale_is_banded_the_same_way(two_teams: Harness) -> None:
    seed(two_teams, "billing", who5=[0] * 6, low_burnout=0, breaks=0, answered=6)
    seed(two_teams, "nights", who5=[0] * 5 + [5], low_burnout=1, breaks=1, answered=6)
    nobody, one = digests_of(two_teams)
    assert shown(nobody) == shown(one)
    assert nobody["metrics"]["who5_mean"] == {"at_most": 20.0}
    assert nobody["metrics"]["burnout_share"] == {"at_most": 0.2}
    assert nobody["checkins"]["break_share"] == {"at_most": 0.2}
    text = digest_text(catalogue("en"), "Billing", Digest.from_json(nobody))
    feelings = "\n".join(line for line in text.splitlines() if not line.startswith(("Call load", "By queue")))
    assert not re.search(r"(?<![0-9])0%", feelings) and "at most 20%" in feelings
    assert "no figure tells what any one person answered" in text  # the digest says what a band means


@pytest.fixture
def lead_on_roster(make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Harness]:
    # Ana is an agent on billing and one of its leads as well.
    yield from app(make_settings, fake_slack, tmp_path, {"billing": {"managers": ["radu@example.com", ANA]}})


def test_a_lead_on_the_roster_never_counts_towards_k_nor_towards_the_figures(lead_on_roster: Harness) -> None:
    services = lead_on_roster.services
    team = [a.pseudonym for a in services.roster.agents() if a.team.id == "billing"]
    assert len(team) == 5
    with session_scope(services.engine) as session:
        add_calls(session, "billing", team, day=WEEK + timedelta_days(1), hard_people=team)
        add_checkins(session, "billing", dict.fromkeys(team, "ok"), day=WEEK + timedelta_days(2))
        add_round(session, "billing", dict.fromkeys(team, 15), invited=team, closes=WEEK + timedelta_days(4))
    with session_scope(services.engine) as session:
        digest = services.digests.digest(session, services.config.team("billing"), NOW).to_json()
    # Five people did everything, but one of them leads the team: four are left, fewer than 5.
    assert digest["suppressed"] is True and digest["reason"] == "fewer than 5 respondents"
    assert digest["calls"]["suppressed"] is True and digest["checkins"]["suppressed"] is True
    assert "respondents" not in json.dumps(digest).replace('"fewer than 5 respondents"', "")


def test_compliments_a_lead_passes_on_reach_the_agents_but_never_count(
    make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    """Radu leads billing and passes a message on to each of its five agents as a compliment:
    each agent is asked privately as usual, but the team's count stays at nothing, so a lead
    cannot make "compliments received" reach the threshold (and read it) on their own."""
    from bot.clock import utcnow
    from tests.e2e.test_compliments import message_shortcut, quiet, submit_view

    fake_slack.add_user("U0RADU", "radu@example.com")
    fake_slack.add_user("U0BOB", "bob@example.com")
    app_ = create_app(make_settings())
    with TestClient(app_) as client:
        harness = Harness(client, app_.state.services, fake_slack)
        for n, user in enumerate(("U0ANA", "U0BOB", "U0CRIS", "U0DANA", "U0EMIL")):
            message_shortcut(
                harness,
                callback_id="compliment_from_message",
                user_id="U0RADU",
                channel="C0OTHER",
                ts=f"7.{n}",
                text=f"Fwd: thank you, the agent was wonderful ({n})",
            )
            view = harness.slack.wait_for("views.open", n + 1)[n].params["view"]
            values = {"recipient": {"type": "users_select", "selected_user": user}}
            assert submit_view(harness, user_id="U0RADU", view=view, values=values).status_code == 200
        quiet(harness)
        asked = {c.params["channel"] for c in harness.slack.calls("chat.postMessage")}
        assert len(asked) == 5  # every agent got theirs
        services = harness.services
        now = utcnow()
        with session_scope(services.engine) as session:
            week = services.compliments.service.week(
                session,
                team=services.config.team("billing"),
                start=now - timedelta_days(1),
                end=now + timedelta_days(1),
                now=now,
            )
        assert week.count == 0
