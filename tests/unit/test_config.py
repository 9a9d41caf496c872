"""Settings and breather.yml: clear errors that name the field, secrets kept out of sight."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.config import Settings, load_config, load_settings
from bot.errors import ConfigError
from tests.conftest import PSEUDONYM_KEY, ROSTER

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "breather.yml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def team(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "billing",
        "name": "Billing",
        "timezone": "Europe/Bucharest",
        "agents": [{"email": "ana@example.com"}],
    }
    base.update(fields)
    return base


def test_the_shipped_files_are_valid() -> None:
    assert load_config(ROSTER).teams[0].id == "billing"
    assert load_config(REPO / "bot" / "demo" / "breather.yml").teams
    if (REPO / "breather.example.yml").exists():
        assert load_config(REPO / "breather.example.yml").teams


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            {"teams": [team(timezone="Europe/Bucharst")]},
            "teams[0].timezone: unknown time zone 'Europe/Bucharst'",
        ),
        ({"teams": [team(id="Billing Team")]}, "teams[0].id"),
        ({"teams": [team(shfit={"start": "08:00"})]}, "teams[0].shfit: Extra inputs are not permitted"),
        (
            {"teams": [team(agents=[{"email": "not-an-email"}])]},
            "teams[0].agents[0].email: not an e-mail address",
        ),
        ({"teams": [team(language="xx")]}, "teams[0].language: no message catalogue for 'xx'"),
        ({"teams": [team()], "settings": {"anonymity_min_group": 2}}, "settings.anonymity_min_group"),
        ({"teams": [team(), team(id="other")]}, "email 'ana@example.com' is listed for more than one agent"),
        ({"teams": [team(), team()]}, "team id 'billing' appears twice"),
        ({"teams": []}, "teams: List should have at least 1 item"),
    ],
)
def test_a_bad_teams_file_names_the_field(tmp_path: Path, data: object, fragment: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, data))
    assert fragment in str(error.value)


def test_unquoted_times_are_understood(tmp_path: Path) -> None:
    path = write(tmp_path, "teams:\n  - {id: a, name: A, shift: {start: 08:30, end: 17:00}}\n")
    assert load_config(path).teams[0].shift.start == time(8, 30)


def test_invalid_yaml_and_missing_file_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "teams: [\n"))
    with pytest.raises(ConfigError, match="BREATHER_CONFIG: .* does not exist"):
        load_config(tmp_path / "missing.yml")


def test_the_pseudonym_key_is_required_outside_the_demo() -> None:
    with pytest.raises(ConfigError, match="BREATHER_PSEUDONYM_KEY: required outside the demo"):
        load_settings(_env_file=None)
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        load_settings(_env_file=None, pseudonym_key="short")
    assert load_settings(_env_file=None, demo=True).pseudonym_key is not None


def test_slack_credentials_are_required_for_the_slack_messenger() -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        load_settings(
            _env_file=None, pseudonym_key=PSEUDONYM_KEY, slack_bot_token="xoxb-1"
        ).require_messenger()
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):  # chosen explicitly: refused at once
        load_settings(
            _env_file=None, pseudonym_key=PSEUDONYM_KEY, slack_bot_token="xoxb-1", messenger="slack"
        )
    # Without a token Breather does not quietly become the sandbox (issue 20, item 4): what
    # talks to people refuses to start; offline commands (digest, audit, purge) still work.
    unset = load_settings(_env_file=None, pseudonym_key=PSEUDONYM_KEY)
    assert unset.messenger == "slack"
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN: required when BREATHER_MESSENGER is slack"):
        unset.require_messenger()
    chosen = load_settings(_env_file=None, pseudonym_key=PSEUDONYM_KEY, messenger="sandbox")
    assert chosen.messenger == "sandbox"
    assert load_settings(_env_file=None, demo=True).messenger == "sandbox"


def test_environment_variables_use_the_contract_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BREATHER_PSEUDONYM_KEY", PSEUDONYM_KEY)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/breather")
    monkeypatch.setenv("BREATHER_PUBLIC_URL", "https://breather.example.org/")
    monkeypatch.setenv("BREATHER_MESSENGER", "sandbox")
    settings = Settings(_env_file=None)
    assert settings.database_url == "postgresql+psycopg://u@db/breather"
    assert settings.public_url == "https://breather.example.org"


def test_the_send_pace_is_the_platforms_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(_env_file=None, demo=True).send_pace_seconds is None
    monkeypatch.setenv("BREATHER_SEND_PACE_SECONDS", "0.25")
    assert load_settings(_env_file=None, demo=True).send_pace_seconds == 0.25
    monkeypatch.setenv("BREATHER_SEND_PACE_SECONDS", "-1")
    with pytest.raises(
        ConfigError, match="BREATHER_SEND_PACE_SECONDS: Input should be greater than or equal to 0"
    ):
        load_settings(_env_file=None, demo=True)


def test_relative_sqlite_paths_are_pinned_to_the_current_directory(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, pseudonym_key=PSEUDONYM_KEY, messenger="sandbox")
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'breather.db'}"


def test_secrets_never_show_in_repr_or_errors() -> None:
    settings = load_settings(
        _env_file=None,
        pseudonym_key=PSEUDONYM_KEY,
        slack_bot_token="xoxb-secret-token",
        slack_signing_secret="signing-secret-value",
    )
    text = repr(settings) + str(settings.model_dump())
    assert (
        "xoxb-secret-token" not in text and "signing-secret-value" not in text and PSEUDONYM_KEY not in text
    )
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None, pseudonym_key="too-short-secret-value")
    assert "too-short-secret-value" not in str(error.value)


def test_check_config_exits_1_with_one_line_naming_the_field(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY, "BREATHER_MESSENGER": "sandbox"}
    good = runner.invoke(cli, ["check-config"], env={**env, "BREATHER_CONFIG": str(ROSTER)})
    assert good.exit_code == 0 and good.output.startswith("ok: 2 team(s), 6 agent(s)")
    bad_file = write(tmp_path, {"teams": [team(timezone="Mars/Olympus")]})
    bad = runner.invoke(cli, ["check-config"], env={**env, "BREATHER_CONFIG": str(bad_file)})
    assert bad.exit_code == 1
    assert bad.output.strip() == (
        "error: breather.yml: teams[0].timezone: unknown time zone 'Mars/Olympus' "
        "(use an IANA name such as Europe/Bucharest)"
    )
    no_key = runner.invoke(cli, ["check-config"], env={"BREATHER_CONFIG": str(ROSTER)})
    assert no_key.exit_code == 1 and "BREATHER_PSEUDONYM_KEY" in no_key.output


def test_simulate_without_a_secret_or_server_fails_clearly() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["simulate", "--url", "http://127.0.0.1:9", "--calls", "1"])
    assert result.exit_code == 1 and "BREATHER_WEBHOOK_SECRET" in result.output
    result = runner.invoke(cli, ["simulate", "--url", "http://127.0.0.1:9", "--calls", "1", "--secret", "s"])
    assert result.exit_code == 1 and "connection errors 1" in result.output


def test_teams_needs_its_app_credentials_and_a_sane_service_url() -> None:
    with pytest.raises(ConfigError, match="TEAMS_APP_ID / TEAMS_APP_PASSWORD"):
        load_settings(_env_file=None, pseudonym_key=PSEUDONYM_KEY, messenger="teams")
    with pytest.raises(ConfigError, match="teams_service_url: must be an http"):
        load_settings(
            _env_file=None,
            pseudonym_key=PSEUDONYM_KEY,
            messenger="teams",
            teams_app_id="6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f",
            teams_app_password="hunter2-teams-pw",
            teams_service_url="smba.trafficmanager.net/teams",
        )
    settings = load_settings(
        _env_file=None,
        pseudonym_key=PSEUDONYM_KEY,
        messenger="teams",
        teams_app_id="6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f",
        teams_app_password="hunter2-teams-pw",
    )
    assert settings.teams_service_url == "https://smba.trafficmanager.net/teams"
    assert "hunter2-teams-pw" not in repr(settings)


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "teams:\n  - id: billing\n    name: Billing\nsettings:\n"
        "  support_resources: []\n  kudos_per_day: 5\n"
        "  support_resources:\n    - {name: EAP, contact: '0800'}\n",
    )

    with pytest.raises(ConfigError) as refused:
        load_config(path)

    assert str(refused.value) == (
        "breather.yml: support_resources is given twice (lines 5 and 7); "
        "keep one, YAML would silently drop the first"
    )
