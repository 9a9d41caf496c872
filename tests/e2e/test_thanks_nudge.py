"""Thanks reach people (issue 16, point 3): a team lead hears once a day about yesterday's
shared compliments and kudos in their team, says thanks in the channel with one click, and can
switch the nudges off; on Slack and Teams."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from bot.app import create_app
from tests.conftest import Harness, MakeSettings, teams_app
from tests.e2e.test_compliments import post_zendesk, quiet, zendesk_rating
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.helpers import Clock, action_ids, button_values
from tests.teams_harness import TeamsHarness, action_values, card_text

# Tuesday 8 December 2026, 15:00 in Bucharest.
TUESDAY = datetime(2026, 12, 8, 13, 0, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 12, 9, 7, 0, tzinfo=UTC)  # 09:00 on Wednesday in Bucharest


@pytest.fixture
def day(make_settings: MakeSettings, fake_slack: FakeSlack) -> Iterator[tuple[Harness, Clock]]:
    clock = Clock(TUESDAY)
    fake_slack.clock = clock.timestamp
    fake_slack.add_user("U0RADU", "radu@example.com")  # the billing team's lead, not an agent
    app = create_app(make_settings(), clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Harness(client, app.state.services, fake_slack), clock


def kind_words(harness: Harness) -> None:
    """A customer compliment Ana shares, and kudos from Cris, both in the team channel."""
    post_zendesk(harness, zendesk_rating())
    dm = [c for c in harness.slack.wait_for("chat.postMessage") if c.params["channel"] == "D0ANA"][0]
    (cid,) = button_values(dm.params["blocks"])
    harness.click(user_id="U0ANA", channel="D0ANA", ts="1.1", action_id="compliment.share", value=cid)
    harness.command(user_id="U0CRIS", command="/kudos", text="<@U0ANA|ana> thanks for covering my queue!")
    quiet(harness)


def to(slack: FakeSlack, channel: str) -> list[dict[str, object]]:
    return [c.params for c in slack.calls("chat.postMessage") if c.params["channel"] == channel]


def test_the_lead_hears_once_the_next_morning_and_says_thanks_in_the_channel(
    day: tuple[Harness, Clock],
) -> None:
    harness, clock = day
    kind_words(harness)
    assert harness.services.thanks_actions.nudge("billing") == 0  # nothing happened "yesterday" yet
    clock.now = NEXT_MORNING
    assert harness.services.thanks_actions.nudge("billing") == 1
    quiet(harness)
    assert harness.services.thanks_actions.nudge("billing") == 1  # a rerun queues nothing new
    quiet(harness)
    (nudge,) = to(harness.slack, "D0RADU")
    assert nudge["text"] == (
        "Kind words reached Billing support yesterday:\n"
        "• 1 customer compliment was shared in the team channel\n"
        "• 1 kudos was posted there"
    )
    assert action_ids(nudge["blocks"]) == ["thanks.say", "thanks.off"]  # type: ignore[arg-type]
    assert "billing|2026-12-08" in button_values(nudge["blocks"])  # type: ignore[arg-type]
    channel_before = len(to(harness.slack, "C0BILLING"))
    harness.click(
        user_id="U0RADU", channel="D0RADU", ts="3.3", action_id="thanks.say", value="billing|2026-12-08"
    )
    quiet(harness)
    posted = to(harness.slack, "C0BILLING")[channel_before:]
    assert [p["text"] for p in posted] == [
        "Radu says thank you, team: yesterday's kind words didn't go unnoticed."
    ]
    update = harness.slack.calls("chat.update")[-1].params
    assert (
        update["channel"] == "D0RADU"
        and update["text"] == "Your thanks are posted in Billing support's channel."
    )


def test_someone_else_cannot_thank_for_a_team_and_a_lead_can_switch_the_nudges_off(
    day: tuple[Harness, Clock],
) -> None:
    harness, clock = day
    harness.click(
        user_id="U0CRIS", channel="D0CRIS", ts="1.1", action_id="thanks.say", value="billing|2026-12-08"
    )
    quiet(harness)
    assert to(harness.slack, "C0BILLING") == []  # Cris leads no team
    reply = harness.command(user_id="U0RADU", command="/breather", text="thanks off").json()["text"]
    assert reply.startswith("Done: no more daily thanks nudges.")
    kind_words(harness)
    clock.now = NEXT_MORNING
    assert harness.services.thanks_actions.nudge("billing") == 0
    reply = harness.command(user_id="U0RADU", command="/breather", text="thanks on").json()["text"]
    assert reply.startswith("Thanks nudges are on")
    assert harness.services.thanks_actions.nudge("billing") == 1
    agent = harness.command(user_id="U0CRIS", command="/breather", text="thanks off").json()["text"]
    assert agent.startswith("These nudges go to team leads")


def test_a_teams_lead_says_thanks_from_the_card(
    make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector, tmp_path: Path
) -> None:
    clock = Clock(TUESDAY)
    app = teams_app(make_teams_settings(), fake_teams, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        teams = TeamsHarness(client, app.state.services, fake_teams)
        teams.install("radu@example.com")
        teams.install("ana@example.com")
        teams.install("cris@example.com")
        teams.say("cris@example.com", "kudos ana@example.com thanks for the help")
        clock.now = NEXT_MORNING + timedelta(minutes=1)
        assert app.state.services.thanks_actions.nudge("billing") == 1
        sent = fake_teams.wait_for("send", 3)
        nudge = [c for c in sent if "Kind words reached" in card_text(c.card)][-1]
        say, _ = sorted(action_values(nudge.card))
        answer = teams.click("radu@example.com", "thanks.say", value=say, reply_to="act-9")
        assert "Your thanks are posted" in answer.json()["value"]


def test_a_leads_switch_survives_a_pseudonym_key_rotation(engine: Engine) -> None:
    from bot.compliments.thanks import ThanksNudges
    from bot.config import load_config
    from bot.delivery import Outbox
    from bot.keys import rotate
    from bot.pseudonyms import Keyring
    from storage.db import session_scope
    from tests.conftest import PSEUDONYM_KEY, ROSTER

    config = load_config(ROSTER)
    old, new = PSEUDONYM_KEY.encode(), b"a-brand-new-pseudonym-key-0123456789-abcdefgh"

    def nudges(keyring: Keyring) -> ThanksNudges:
        return ThanksNudges(outbox=Outbox(keyring), keyring=keyring, roster=lambda: None)  # type: ignore[arg-type,return-value]

    with session_scope(engine) as session:
        assert nudges(Keyring(old)).set_nudges(session, "radu@example.com", False, TUESDAY)
    rotating = Keyring(new, [old])
    (result,) = rotate(engine, rotating, config=config)
    assert result.rekeyed["lead_prefs.person_key"] == 1
    with session_scope(engine) as session:
        assert not nudges(Keyring(new)).wants_nudges(session, "radu@example.com")  # still off
        assert nudges(Keyring(new)).wants_nudges(session, "someone@example.com")
