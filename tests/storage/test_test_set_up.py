"""The test set-up itself: every test gets a migrated, empty database and fresh fakes, though
both are built once per run (tests/databases.py, tests/conftest.py). Each check runs twice, so
the second run would see what the first left behind."""

from __future__ import annotations

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func
from sqlmodel import SQLModel, select

from storage.db import MIGRATIONS, alembic_config, session_scope
from storage.models import ChatAddress
from tests.conftest import FakeApi
from tests.fakes.provider_apis import FakeAircall
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_connector import FakeTeamsConnector


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_on_a_migrated_empty_database(engine: Engine, run: int) -> None:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert MIGRATIONS.is_dir() and head
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head
    with session_scope(engine) as session:
        for table in SQLModel.metadata.sorted_tables:
            assert session.exec(select(func.count()).select_from(table)).one() == 0, table.name
        row = ChatAddress(agent_id=f"left-by-run-{run}", platform="slack", user_id="U1")
        session.add(row)
        session.flush()
        assert row.id == 1  # sequences start again too


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_gets_fakes_as_they_were_built(
    fake_slack: FakeSlack, fake_teams: FakeTeamsConnector, fake_api: FakeApi, run: int
) -> None:
    aircall: FakeAircall = fake_api(FakeAircall, api_id="id", api_token="token")
    assert fake_slack.calls() == [] and fake_teams.calls() == [] and aircall.requests() == []
    assert aircall.users == {} and set(fake_slack.state.users) == {"U0ANA", "U0BOB", "U0CRIS"}
    assert fake_slack.clock is aircall.clock  # time.time, whatever the last test set

    # Leave traces for the second run: calls, a pending failure, a user, a stamped clock.
    answer = httpx.post(f"{fake_slack.url}chat.postMessage", data={"channel": "D1", "text": "x"}).json()
    assert answer["ts"].endswith(".000001")  # its message numbers count from 1
    fake_slack.fail_next("chat.postMessage", 500)
    fake_teams.fail_next("send", 500)
    aircall.add_user("1001")
    aircall.clock = lambda: 0.0


def test_two_fakes_of_a_kind_in_one_test_are_two_servers(
    fake_teams: FakeTeamsConnector, fake_api: FakeApi
) -> None:
    second: FakeTeamsConnector = fake_api(FakeTeamsConnector)
    assert second is not fake_teams and second.url != fake_teams.url


def test_a_fake_a_test_stopped_is_replaced_by_a_running_one(fake_api: FakeApi) -> None:
    stopped: FakeAircall = fake_api(FakeAircall, api_id="stopped", api_token="token")
    stopped.stop()
    assert not stopped.running


def test_the_next_test_gets_a_running_fake(fake_api: FakeApi) -> None:
    server: FakeAircall = fake_api(FakeAircall, api_id="stopped", api_token="token")
    assert server.running
    server.add_user("1001", "available")
    assert httpx.get(f"{server.url}/v1/users/1001", auth=("stopped", "token")).status_code == 200
