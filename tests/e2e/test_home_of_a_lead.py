"""An agent who also leads a team keeps the Manager section on their Slack Home tab however it is
redrawn: `views.publish` replaces the whole tab, so every redraw must carry it."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from bot.app import create_app
from tests.conftest import Harness, MakeSettings
from tests.fakes.slack_api import FakeSlack
from tests.helpers import roster_with

MANAGER = "Your teams (team-level only)"


def homes(slack: FakeSlack, user: str) -> list[str]:
    return [json.dumps(c.params["view"]) for c in slack.calls("views.publish") if c.params["user_id"] == user]


def test_every_redraw_of_a_leading_agents_home_keeps_the_manager_section(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    config = roster_with(tmp_path, teams={"billing": {"managers": ["cris@example.com"]}})
    app = create_app(make_settings(config_path=config))
    with TestClient(app, raise_server_exceptions=False) as client:
        h = Harness(client, app.state.services, fake_slack)
        h.open_home(user_id="U0CRIS")
        fake_slack.wait_for("views.publish", 1, where=lambda c: c.params["user_id"] == "U0CRIS")
        for text in ("pause", "resume", "buddy on", "away until tomorrow", "language ro"):
            h.command(user_id="U0CRIS", command="/breather", text=text)
        h.click(user_id="U0CRIS", channel="D0CRIS", ts="1.1", action_id="home.language.en", value="en")
        h.click(user_id="U0CRIS", channel="D0CRIS", ts="1.1", action_id="home.surveys_off", value="")
        published = fake_slack.wait_for("views.publish", 8, where=lambda c: c.params["user_id"] == "U0CRIS")
        assert len(published) == 8
        views = homes(fake_slack, "U0CRIS")
        assert all(MANAGER in view or "Echipele tale" in view for view in views), [
            view[:200] for view in views
        ]
        # An agent who leads nothing never gets one.
        h.command(user_id="U0DANA", command="/breather", text="pause")
        fake_slack.wait_for("views.publish", 1, where=lambda c: c.params["user_id"] == "U0DANA")
        assert not any(MANAGER in view for view in homes(fake_slack, "U0DANA"))
