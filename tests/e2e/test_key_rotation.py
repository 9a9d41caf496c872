"""Pseudonym key rotation (issue 13, item 6) while Breather runs, on SQLite and PostgreSQL.

The app runs on the old key; then on the new key with the old one still listed, while
`breather keys rotate` re-keys everything in small batches and agents keep working; then on the
new key alone. Nobody's switches, answers, compliments or kudos are lost or doubled, nothing is
left under the old key, and the digest says the same thing before, during and after.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import col, select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from bot.app import create_app
from bot.cli import app as cli
from bot.config import Settings
from bot.keys import PSEUDONYM_TABLES, Rotation, rotate, usage
from handlers.sandbox.interactions import signed_headers
from storage.db import session_scope
from storage.models import Agent, Call, Compliment, Kudos
from tests.conftest import PSEUDONYM_KEY, SIGNING_SECRET, Harness, MakeSettings, call_event, hard_call
from tests.fakes.slack_api import ApiCall, FakeSlack
from tests.helpers import button_values, roster_with, settled

NEW_KEY = "a-brand-new-pseudonym-key-0123456789-abcdefgh"
AGENTS = ("ana", "bob", "cris", "dana", "emil")
USERS = {"ana": "U0ANA", "cris": "U0CRIS", "dana": "U0DANA", "emil": "U0EMIL"}


@contextmanager
def running(settings: Settings, slack: FakeSlack) -> Iterator[Harness]:
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Harness(client, app.state.services, slack)


def seed_last_week(harness: Harness, people: tuple[str, ...] = AGENTS) -> None:
    """Four calls a day last week for each agent, under the pseudonym the app writes with now."""
    services = harness.services
    last_week = datetime.now(UTC) - timedelta(days=7)
    with session_scope(services.engine) as session:
        for name in people:
            agent = services.roster.find("email", f"{name}@example.com")
            assert agent is not None
            for n in range(4):
                session.add(
                    Call(
                        provider="generic",
                        call_id=services.keyring.token("call", "generic", uuid.uuid4().hex, agent.id),
                        team_id="billing",
                        pseudonym=agent.pseudonym,
                        kid=agent.kid,
                        ended_at=last_week + timedelta(minutes=n),
                        duration_s=240,
                        hard=n == 0,
                        signals=["abuse"] if n == 0 else [],
                        queue="billing",
                    )
                )


def digest(harness: Harness) -> dict[str, Any]:
    _, digest = harness.services.digest_desk.for_operator("billing")
    result = digest.to_json()
    return {"calls": result["calls"], "checkins": result["checkins"], "compliments": result["compliments"]}


def checkins(slack: FakeSlack, channel: str) -> int:
    return sum(
        1
        for c in slack.calls("chat.postMessage")
        if c.params["channel"] == channel and "checkin.ok" in json.dumps(c.params.get("blocks"))
    )


def home_of(harness: Harness, user: str) -> str:
    event = {"type": "app_home_opened", "user": user, "tab": "home", "event_ts": "1.2"}
    body = json.dumps(
        {"type": "event_callback", "team_id": "T0TEST", "event_id": uuid.uuid4().hex, "event": event}
    )

    def theirs(call: ApiCall) -> bool:
        return bool(call.params.get("user_id") == user)

    # Other people's Home tabs are redrawn meanwhile (a pause, a kudos): wait for this user's.
    before = sum(map(theirs, harness.slack.calls("views.publish")))
    harness.client.post(
        "/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body, "application/json")
    )
    published = harness.slack.wait_for("views.publish", before + 1, where=theirs)[-1].params
    return json.dumps(published["view"])


def orphans(engine: Engine, harness: Harness) -> list[str]:
    """Stored pseudonyms that are no agent's current one."""
    with session_scope(engine) as session:
        ids = list(session.exec(select(Agent.id)))
    current = {harness.services.keyring.of(agent_id) for agent_id in ids}
    found = []
    with engine.connect() as connection:
        for table, _ in PSEUDONYM_TABLES:
            for (pseudonym,) in connection.execute(text(f"SELECT DISTINCT pseudonym FROM {table.name}")):
                if pseudonym not in current:
                    found.append(f"{table.name}: {pseudonym}")
    return found


def test_a_rotation_while_breather_runs_loses_and_doubles_nothing(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.add_user("U0DANA", "dana@example.com")
    fake_slack.add_user("U0EMIL", "emil@example.com")
    roster = roster_with(tmp_path, teams={"billing": {"pulse": {"instruments": ["who5"]}}}, kudos_per_day=2)
    replayed = call_event(agent_email="emil@example.com")

    # --- a day on the old key ------------------------------------------------------------
    with running(make_settings(config_path=roster), fake_slack) as h:
        h.services.survey_actions.start_round("billing")
        h.slack.wait_for("chat.postMessage", 5)
        invitation = next(
            value
            for c in h.slack.calls("chat.postMessage")
            if c.params["channel"] == "D0DANA"
            for value in button_values(c.params["blocks"])
        )
        h.click(user_id="U0DANA", channel="D0DANA", ts="1.5", action_id="pulse.open", value=invitation)
        view = h.slack.wait_for("views.open")[0].params["view"]
        answers = {f"who5_{i}": "1" for i in range(1, 6)}
        h.submit_view(
            user_id="U0DANA",
            callback_id="pulse.survey",
            private_metadata=view["private_metadata"],
            values=answers,
        )
        assert "Paused" in h.command(user_id="U0ANA", command="/breather", text="pause").text
        for _ in range(2):
            assert (
                "Kudos posted" in h.command(user_id="U0ANA", command="/kudos", text="<@U0CRIS> thanks").text
            )
        h.post_event(
            {
                "type": "feedback",
                "event_id": "fb-1",
                "agent_email": "emil@example.com",
                "rating": "good",
                "comment": "Emil was great",
            }
        )
        h.post_event(replayed)
        seed_last_week(h)
        settled(h.services)
        before = digest(h)
        old_kid = h.services.keyring.kid
    assert before["calls"]["calls"] == 20 and "suppressed" not in before["calls"]
    dana_home = "*20* out of 100"  # her WHO-5 score: five items at 1, summed, times 4

    # --- the new key, the old one still read with; rotation while agents keep working -----
    rotating = make_settings(config_path=roster, pseudonym_key=NEW_KEY, pseudonym_keys_old=PSEUDONYM_KEY)
    with running(rotating, fake_slack) as h:
        engine, keyring = h.services.engine, h.services.keyring
        assert keyring.old[0].kid == old_kid != keyring.kid
        assert h.post_event(replayed).json()["status"] == "duplicate"  # old-key event ids still match
        assert digest(h) == before
        assert dana_home in home_of(h, "U0DANA")
        results: list[Rotation] = []
        worker = threading.Thread(
            target=lambda: results.extend(rotate(engine, keyring, config=h.services.config, batch=3))
        )
        worker.start()
        h.post_event(hard_call(agent_email="ana@example.com"))  # paused: no check-in
        h.post_event(hard_call(agent_email="cris@example.com"))
        h.post_event(
            {
                "type": "feedback",
                "event_id": "fb-2",
                "agent_email": "dana@example.com",
                "rating": "good",
                "comment": "Dana rocks",
            }
        )
        worker.join(60)
        assert not worker.is_alive()
        h.slack.wait_for("chat.postMessage", 1)
        settled(h.services)
        (result,) = results
        assert result.rekeyed["calls.pseudonym"] >= 20 and result.rekeyed["agent_prefs.pseudonym"] >= 1
        assert result.rekeyed["kudos.author_key"] == 2
        # Nothing but one-way hashes of outside ids is left under the old key, and no row is orphaned.
        left = {use.place for use in usage(engine) if use.kid == old_kid}
        assert left <= {"inbound_events.event_id", "calls.call_id", "outbox.key", "compliments.source_key"}, (
            left
        )
        assert orphans(engine, h) == []
        # The agents notice nothing: Ana is still paused, her kudos limit still counts, Dana's
        # answer is still hers, the digest is unchanged, a replay is still a duplicate.
        assert checkins(h.slack, "D0CRIS") == 1 and checkins(h.slack, "D0ANA") == 0
        assert "Welcome back" in h.command(user_id="U0ANA", command="/breather", text="resume").text
        assert (
            "most there can be" in h.command(user_id="U0ANA", command="/kudos", text="<@U0CRIS> again").text
        )
        assert dana_home in home_of(h, "U0DANA")
        assert digest(h) == before
        assert h.post_event(replayed).json()["status"] == "duplicate"
        # `--now` clears what cannot be re-keyed: the old key protects nothing any more.
        (finished,) = rotate(engine, keyring, config=h.services.config, now=True)
        assert finished.retired, finished.remaining

    # --- the new key alone ---------------------------------------------------------------
    with running(make_settings(config_path=roster, pseudonym_key=NEW_KEY), fake_slack) as h:
        assert {use.kid for use in usage(h.services.engine)} == {h.services.keyring.kid}
        assert digest(h) == before
        assert dana_home in home_of(h, "U0DANA")
        with session_scope(h.services.engine) as session:
            assert len(session.exec(select(Compliment)).all()) == 2
            assert len(session.exec(select(Kudos)).all()) == 2
        h.post_event(hard_call(agent_email="ana@example.com"))  # resumed before the restart
        settled(h.services)
        assert checkins(h.slack, "D0ANA") == 1


def test_while_one_person_has_rows_under_two_keys_they_still_count_once(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    roster = roster_with(tmp_path)
    with running(make_settings(config_path=roster), fake_slack) as h:
        seed_last_week(h, ("ana", "bob", "cris", "dana"))  # four people, under the old key
    rotating = make_settings(config_path=roster, pseudonym_key=NEW_KEY, pseudonym_keys_old=PSEUDONYM_KEY)
    with running(rotating, fake_slack) as h:
        seed_last_week(h, ("ana", "bob", "cris", "dana"))  # the same four, under the new key
        with session_scope(h.services.engine) as session:
            assert len(set(session.exec(select(col(Call.pseudonym))))) == 8
        assert digest(h)["calls"]["suppressed"] is True  # four people, however many pseudonyms
        seed_last_week(h, ("emil",))
        shown = digest(h)["calls"]
        assert shown["calls"] == 36 and "suppressed" not in shown
        assert shown["calls_per_agent_hour"] == round(36 / (5 * 7 * 24), 1)  # five people's hours


def test_the_command_line_rotates_and_says_when_the_old_key_can_go(
    make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path, database_url: str
) -> None:
    roster = roster_with(tmp_path)
    with running(make_settings(config_path=roster), fake_slack) as h:
        assert "Paused" in h.command(user_id="U0ANA", command="/breather", text="pause").text
        h.post_event(call_event(agent_email="bob@example.com"))
        settled(h.services)
        old_kid = h.services.keyring.kid
    env = {
        "DATABASE_URL": database_url,
        "BREATHER_CONFIG": str(roster),
        "BREATHER_PSEUDONYM_KEY": NEW_KEY,
        "BREATHER_MESSENGER": "sandbox",
    }
    refused = CliRunner().invoke(cli, ["keys", "rotate"], env=env)
    assert refused.exit_code == 1 and "BREATHER_PSEUDONYM_KEYS_OLD is empty" in refused.output
    unknown = CliRunner().invoke(cli, ["keys", "status"], env=env)
    assert unknown.exit_code == 1 and f"{old_kid} NOT CONFIGURED" in unknown.output
    env["BREATHER_PSEUDONYM_KEYS_OLD"] = PSEUDONYM_KEY
    rotated = CliRunner().invoke(cli, ["keys", "rotate", "--batch", "2"], env=env)
    assert rotated.exit_code == 0, rotated.output
    assert f"{old_kid} still protects" in rotated.output and "--now" in rotated.output
    assert "agent_prefs.pseudonym 1" in rotated.output
    now = CliRunner().invoke(cli, ["keys", "rotate", "--now"], env=env)
    assert now.exit_code == 0 and f"{old_kid} is retired" in now.output
    status = CliRunner().invoke(cli, ["keys", "status"], env=env)
    assert status.exit_code == 0
    assert f"{old_kid} old (BREATHER_PSEUDONYM_KEYS_OLD): nothing stored" in status.output
    assert "remove it from BREATHER_PSEUDONYM_KEYS_OLD" in status.output
