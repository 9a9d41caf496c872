"""The digest JSON is an external contract (docs/ARCHITECTURE.md): `breather digest --format json`
must print the same bytes for the same data, on SQLite and PostgreSQL, on the first read (figures
released now) and on a later one (figures read back frozen from the release log).

The expected output was recorded from the digest as it stood before the typed model (issue 17,
point 3) and must not change: every kind of part is in it (wellbeing shown, held back for too few
respondents and for no survey; calls and check-ins shown and suppressed; bands at both ends;
queues shown and hidden by secondary suppression; compliments counted and suppressed)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from bot.app import create_app, make_messenger
from bot.cli import app as cli
from bot.container import Services
from bot.digests.messages import digest_text
from bot.digests.model import Digest, Reason, Suppressed
from bot.i18n import catalogue
from storage.db import make_engine, session_scope
from storage.models import Compliment
from tests.conftest import PSEUDONYM_KEY, Harness, MakeSettings
from tests.digest_seed import NOW, WEEK, add_calls, add_checkins, add_round, at
from tests.fakes.slack_api import FakeSlack
from tests.helpers import Clock, roster_with

EXPECTED = Path(__file__).parent / "digest_json"


@pytest.fixture
def seeded(make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Harness]:
    settings = make_settings(
        config_path=roster_with(tmp_path, teams={"nights": {"managers": ["jo@example.com"]}})
    )
    engine = make_engine(settings.database_url)
    services = Services(settings, engine, make_messenger(settings, engine), clock=Clock(NOW))
    try:
        with TestClient(create_app(settings, services=services)) as client:
            harness = Harness(client, services, fake_slack)
            seed(harness)
            yield harness
    finally:
        engine.dispose()


def seed(harness: Harness) -> None:
    """Five weeks of a billing team of seven (own pseudonyms) and one night agent."""
    team = [f"billing-person-{n}" for n in range(7)]
    days = timedelta(days=1)
    with session_scope(harness.services.engine) as session:
        # The digest's week: two queues, one too small (hidden, and the other with it).
        add_calls(session, "billing", team[:5], day=WEEK + days, hard_people=team[:2])
        add_calls(session, "billing", team[5:], day=WEEK + days, hard_people=team[5:6], queue="sales")
        add_checkins(
            session,
            "billing",
            {p: ("break" if i < 3 else "talk" if i == 3 else "ok") for i, p in enumerate(team)},
            day=WEEK + 2 * days,
        )
        add_round(
            session,
            "billing",
            dict(zip(team[:6], [13, 12, 20, 8, 16, 25], strict=True)),
            invited=team,
            closes=WEEK + 4 * days,
            burnout={p: 3 if i < 1 else 1 for i, p in enumerate(team[:6])},
        )
        for i, person in enumerate(team[:5] * 2):
            session.add(
                Compliment(
                    id=f"golden-{i}",
                    source="zendesk",
                    source_key=f"golden-{i}",
                    team_id="billing",
                    pseudonym=person,
                    kid="k",
                    text="[customer] was lovely",
                    received_at=at(WEEK + 2 * days),
                )
            )
        # A week before: calls only (no survey closed), check-ins from too few people.
        before = WEEK - 7 * days
        add_calls(session, "billing", team[:6], day=before + days, hard_people=team[:1], queue=None)
        add_checkins(session, "billing", dict.fromkeys(team[:3], "break"), day=before + 2 * days)
        # Two weeks before: a round with too few answers, calls from too few people.
        add_calls(session, "billing", team[:3], day=before - 6 * days, hard_people=team[:3])
        add_round(session, "billing", dict.fromkeys(team[:3], 10), invited=team, closes=before - 3 * days)
        # Three weeks before: two queues large enough to be shown; everyone at the bottom.
        three = WEEK - 21 * days
        add_calls(session, "billing", team[:5], day=three + days, hard_people=[])
        add_calls(session, "billing", team[2:], day=three + days, hard_people=team, queue="sales")
        add_round(
            session,
            "billing",
            dict.fromkeys(team[:5], 0),
            invited=team[:5],
            closes=three + 4 * days,
            burnout=dict.fromkeys(team[:5], 4),
        )
        add_checkins(session, "billing", dict.fromkeys(team[:5], "talk"), day=three + 2 * days)
        # The night desk: one agent, nothing may be shown.
        add_calls(session, "nights", ["nights-person-0"], day=WEEK + days, hard_people=["nights-person-0"])


def cli_json(harness: Harness, team: str) -> str:
    settings = harness.services.settings
    env = {
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_CONFIG": str(settings.config_path),
        "DATABASE_URL": settings.database_url,
        "BREATHER_MESSENGER": "sandbox",
    }
    result = CliRunner().invoke(
        cli, ["digest", "--team", team, "--format", "json", "--week", WEEK.isoformat()], env=env
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("team", ["billing", "nights"])
def test_the_digest_json_is_byte_for_byte_the_contract(seeded: Harness, team: str) -> None:
    expected = EXPECTED / f"{team}.json"
    first = cli_json(seeded, team)
    if os.environ.get("BREATHER_RECORD_DIGEST_JSON"):  # recorded once, from the untyped digest
        expected.parent.mkdir(exist_ok=True)
        expected.write_text(first)
    assert first == expected.read_text()
    assert cli_json(seeded, team) == first  # read back from the frozen releases


@pytest.mark.parametrize("team", ["billing", "nights"])
def test_the_typed_digest_reads_the_contract_back_unchanged(team: str) -> None:
    """`Digest.from_json` is the inverse of `to_json`: what the release log and tests hold in the
    contract's form becomes the same typed digest the renderers read."""
    raw = json.loads((EXPECTED / f"{team}.json").read_text())
    digest = Digest.from_json(raw)
    assert json.dumps(digest.to_json(), indent=2) + "\n" == (EXPECTED / f"{team}.json").read_text()
    reasons = {p.wellbeing.reason for p in digest.weeks if isinstance(p.wellbeing, Suppressed)}
    expected = {Reason.NO_SURVEY, Reason.FEW_RESPONDENTS} if team == "billing" else {Reason.NO_SURVEY}
    assert reasons == expected


def test_the_message_tells_no_survey_from_too_few_by_the_reason_type() -> None:
    """A week without a survey recalls the latest one shown; a week with too few answers says so
    and recalls nothing (it must not hint at what those few answered)."""
    weeks = Digest.from_json(json.loads((EXPECTED / "billing.json").read_text())).weeks
    by_start = {period.start.isoformat(): i for i, period in enumerate(weeks)}
    cat = catalogue("en")

    def text_of(start: str) -> str:
        i = by_start[start]
        return digest_text(cat, "Billing", Digest(latest=weeks[i], trend=weeks[:i]))

    no_survey = text_of("2026-11-09")
    assert "no pulse survey closed this week" in no_survey
    # The week of 26 October is the latest shown before it: everyone at the bottom, as bands.
    assert "Latest pulse survey (week of 26 October 2026): wellbeing (WHO-5) at most 20/100" in no_survey
    too_few = text_of("2026-11-02")
    assert "not shown, fewer than 5 people answered" in too_few
    assert "Latest pulse survey" not in too_few and "WHO-5" not in too_few
