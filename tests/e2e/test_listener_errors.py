"""A listener that fails tells the person something short and kind with a reference, in
their language, and logs the failure once (masked), never the payload."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import Ack, App
from starlette.testclient import TestClient

from handlers.sandbox.interactions import block_actions_body, signed_headers, slash_command_body
from tests.conftest import SIGNING_SECRET, Harness, MakeSettings, teams_app
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.helpers import roster_with
from tests.teams_harness import TeamsHarness

FORM = "application/x-www-form-urlencoded"


def broken_listeners(harness: Harness) -> None:
    bolt: App = harness.client.app.state.bolt  # type: ignore[attr-defined]

    @bolt.command("/boom")
    def on_boom(ack: Ack, body: dict[str, Any]) -> None:
        raise RuntimeError("listener bug with a secret-ish detail 9f2c")

    @bolt.action("test.boom")
    def on_click(ack: Ack, body: dict[str, Any]) -> None:
        ack()  # acked first, as Breather's listeners do: the answer can no longer carry the news
        raise RuntimeError("listener bug after the ack")


def test_a_failing_command_answers_privately_with_a_reference(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    broken_listeners(harness)
    body = slash_command_body(user_id="U0ANA", command="/boom", text="typed words 7e1d")
    with caplog.at_level(logging.ERROR):
        response = harness.client.post(
            "/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body, FORM)
        )
    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    reference = re.search(r"reference ([0-9a-f]{8})", reply["text"])
    assert reference and "went wrong" in reply["text"]
    logged = [r for r in caplog.records if reference.group(1) in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None  # once, with its traceback
    assert "typed words 7e1d" not in caplog.text
    assert caplog.text.count("Traceback") == 1


def test_a_failing_click_after_its_ack_sends_the_agent_a_dm_with_the_reference(harness: Harness) -> None:
    broken_listeners(harness)
    body = block_actions_body(
        user_id="U0ANA", channel="D0ANA", ts="1.000", action_id="test.boom", value="x", block_id="b"
    )
    response = harness.client.post(
        "/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body, FORM)
    )
    assert response.status_code == 200
    (dm,) = harness.slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == "D0ANA"
    assert re.search(r"reference [0-9a-f]{8}", dm.params["text"])


def test_a_teams_failure_is_told_in_the_persons_language_and_logged_once(
    make_teams_settings: MakeSettings,
    fake_teams: FakeTeamsConnector,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from handlers.teams.activities import TeamsActions
    from handlers.teams.messenger import TeamsMessenger

    config = roster_with(tmp_path, teams={"billing": {"language": "ro"}})
    app = teams_app(make_teams_settings(config_path=config), fake_teams)
    with TestClient(app, raise_server_exceptions=False) as client:
        harness = TeamsHarness(client, app.state.services, fake_teams)
        assert harness.install("ana@example.com").status_code == 200
        messenger = harness.services.messenger
        assert isinstance(messenger, TeamsMessenger)
        actions = TeamsActions(harness.services, messenger)
        with caplog.at_level(logging.ERROR):
            try:
                raise RuntimeError("a listener bug")
            except RuntimeError as error:
                told = actions.unexpected("card action x", error, harness.user("ana@example.com").aad)
    assert re.search(r"referința [0-9a-f]{8}", told)
    assert caplog.text.count("Traceback") == 1


PERSIAN_SORRY = "ببخشید، مشکلی از طرف من پیش آمد"


def test_a_failing_slack_click_is_told_in_the_language_the_agent_chose(harness: Harness) -> None:
    broken_listeners(harness)
    ana = harness.services.roster.find("email", "ana@example.com")
    assert ana is not None
    harness.services.home.set_language(ana, "fa")  # her own choice; her team reads English
    body = block_actions_body(
        user_id="U0ANA", channel="D0ANA", ts="1.000", action_id="test.boom", value="x", block_id="b"
    )
    response = harness.client.post(
        "/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body, FORM)
    )
    assert response.status_code == 200
    (dm,) = harness.slack.wait_for("chat.postMessage")
    assert PERSIAN_SORRY in dm.params["text"] and re.search(r"[0-9a-f]{8}", dm.params["text"])


def test_a_failing_teams_click_is_told_in_the_language_the_agent_chose(
    make_teams_settings: MakeSettings,
    fake_teams: FakeTeamsConnector,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = roster_with(tmp_path, teams={"billing": {"language": "ro"}})
    app = teams_app(make_teams_settings(config_path=config), fake_teams)
    with TestClient(app, raise_server_exceptions=False) as client:
        harness = TeamsHarness(client, app.state.services, fake_teams)
        assert harness.install("ana@example.com").status_code == 200
        services = harness.services
        ana = services.roster.find("email", "ana@example.com")
        assert ana is not None
        services.home.set_language(ana, "fa")  # her own choice; her team reads Romanian

        def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("a bug behind the check-in buttons")

        monkeypatch.setattr(services.checkin_actions, "answer", broken)
        with caplog.at_level(logging.ERROR):
            response = harness.click("ana@example.com", "checkin.ok", value="c1", reply_to="act-1")
    told = response.json()
    assert told["statusCode"] == 500
    assert PERSIAN_SORRY in told["value"]["message"]
    assert re.search(r"[0-9a-f]{8}", told["value"]["message"])
    assert caplog.text.count("Traceback") == 1
