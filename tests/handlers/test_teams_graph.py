"""`breather teams install`: Breather installed for a team's people through a fake Microsoft Graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.config import Settings
from handlers.teams.graph import CATALOGUE_PERMISSION, INSTALL_PERMISSION, GraphError, Outcome, install_for
from tests.conftest import PSEUDONYM_KEY, ROSTER, FakeApi
from tests.fakes.graph_api import CATALOGUE_ID, FakeGraph
from tests.teams_harness import APP_ID, TENANT, fake_token

PEOPLE = ["ana@example.com", "bob@example.com", "radu@example.com"]


@pytest.fixture
def graph(fake_api: FakeApi) -> FakeGraph:
    server: FakeGraph = fake_api(FakeGraph, app_id=APP_ID)
    return server


def settings(graph: FakeGraph, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'b.db'}",
        "config_path": ROSTER,
        "pseudonym_key": PSEUDONYM_KEY,
        "messenger": "teams",
        "teams_app_id": APP_ID,
        "teams_app_password": "replaced-by-a-token-source",
        "teams_tenant_id": TENANT,
        "teams_graph_url": graph.url,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def test_each_person_gets_breather_installed_and_a_second_run_changes_nothing(
    graph: FakeGraph, tmp_path: Path
) -> None:
    graph.add_user(*PEOPLE)
    first = list(install_for(settings(graph, tmp_path), PEOPLE, token=fake_token))
    assert [(r.person, r.outcome) for r in first] == [(p, Outcome.INSTALLED) for p in PEOPLE]
    assert graph.installed == set(PEOPLE)
    posts = graph.requests("POST")
    assert posts[0].path == "/v1.0/users/ana@example.com/teamwork/installedApps"
    assert posts[0].body == {"teamsApp@odata.bind": f"{graph.url}/appCatalogs/teamsApps/{CATALOGUE_ID}"}
    assert all(r.headers["authorization"].startswith("Bearer ey") for r in graph.requests())
    again = list(install_for(settings(graph, tmp_path), PEOPLE, token=fake_token))
    assert {r.outcome for r in again} == {Outcome.ALREADY}


def test_someone_missing_from_the_directory_is_reported_and_the_rest_go_on(
    graph: FakeGraph, tmp_path: Path
) -> None:
    graph.add_user("ana@example.com", "radu@example.com")
    results = {r.person: r.outcome for r in install_for(settings(graph, tmp_path), PEOPLE, token=fake_token)}
    assert results == {
        "ana@example.com": Outcome.INSTALLED,
        "bob@example.com": Outcome.NOT_FOUND,
        "radu@example.com": Outcome.INSTALLED,
    }


def test_graph_throttling_is_waited_out(graph: FakeGraph, tmp_path: Path) -> None:
    graph.add_user(*PEOPLE)
    graph.fail_next("POST", 429, times=2, retry_after=0.1)
    results = list(install_for(settings(graph, tmp_path), PEOPLE[:1], token=fake_token))
    assert [r.outcome for r in results] == [Outcome.INSTALLED]
    assert len(graph.requests("POST")) == 3


def test_a_missing_permission_stops_with_its_name(graph: FakeGraph, tmp_path: Path) -> None:
    graph.add_user(*PEOPLE)
    graph.refuse_installs()
    with pytest.raises(GraphError, match=INSTALL_PERMISSION):
        list(install_for(settings(graph, tmp_path), PEOPLE, token=fake_token))
    assert len(graph.requests("POST")) == 1  # not one refusal per person


def test_an_app_not_yet_in_the_catalogue_says_to_upload_the_package(graph: FakeGraph, tmp_path: Path) -> None:
    other = settings(graph, tmp_path, teams_app_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(GraphError, match="breather teams package"):
        list(install_for(other, PEOPLE, token=fake_token))
    graph.fail_next("GET", 403)
    with pytest.raises(GraphError, match=CATALOGUE_PERMISSION):
        list(install_for(settings(graph, tmp_path), PEOPLE, token=fake_token))


def test_a_catalogue_id_given_skips_the_look_up(graph: FakeGraph, tmp_path: Path) -> None:
    graph.add_user(*PEOPLE)
    list(install_for(settings(graph, tmp_path), PEOPLE[:1], catalogue_id=CATALOGUE_ID, token=fake_token))
    assert graph.requests("GET") == [] and graph.installed == {"ana@example.com"}


@pytest.mark.parametrize(
    ("missing", "named"), [("TEAMS_TENANT_ID", "TEAMS_TENANT_ID"), ("TEAMS_APP_ID", "TEAMS_APP_ID")]
)
def test_the_command_names_a_missing_setting_in_one_line(graph: FakeGraph, missing: str, named: str) -> None:
    env = {
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_CONFIG": str(ROSTER),
        "BREATHER_MESSENGER": "sandbox",
        "TEAMS_APP_ID": APP_ID,
        "TEAMS_APP_PASSWORD": "secret-value",
        "TEAMS_TENANT_ID": TENANT,
        "TEAMS_GRAPH_URL": graph.url,
    }
    env.pop(missing)
    result = CliRunner().invoke(cli, ["teams", "install", "--team", "billing"], env=env)
    assert result.exit_code == 1
    assert named in result.output and len(result.output.strip().splitlines()) == 1
    assert "secret-value" not in result.output
    assert graph.requests() == []


def test_the_command_refuses_an_unknown_team(graph: FakeGraph) -> None:
    env = {
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_CONFIG": str(ROSTER),
        "BREATHER_MESSENGER": "sandbox",
        "TEAMS_APP_ID": APP_ID,
    }
    result = CliRunner().invoke(cli, ["teams", "install", "--team", "sales"], env=env)
    assert result.exit_code == 1 and "sales" in result.output
