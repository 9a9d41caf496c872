"""compose.yaml and the environment file an operator copies: valid, complete, and safe defaults."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from bot.cli import app as cli
from tests.ops.install import REPO

COMPOSE = REPO / "compose.yaml"
ENV_EXAMPLE = REPO / "docs" / "deploy" / "breather.env.example"


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_breather_waits_for_a_healthy_postgres_and_keeps_its_data_in_a_volume() -> None:
    services = compose()["services"]
    postgres, breather = services["postgres"], services["breather"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    (data,) = postgres["volumes"]
    volume, path = data.split(":")[:2]
    assert volume in compose()["volumes"] and path == "/var/lib/postgresql/data"
    assert breather["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert breather["healthcheck"]["test"] == ["CMD", "breather-entrypoint", "healthcheck"]
    database = breather["environment"]["DATABASE_URL"]
    assert database.startswith("postgresql://breather:") and database.endswith("@postgres:5432/breather")
    assert breather["environment"]["BREATHER_CONFIG"] == "/etc/breather/breather.yml"
    assert "./breather.yml:/etc/breather/breather.yml:ro" in breather["volumes"]
    assert breather["env_file"] == ".env"
    # /metrics has no authentication: published on the host's loopback only, for a local proxy.
    assert breather["ports"] == ["127.0.0.1:3000:3000"]
    assert breather["cap_drop"] == ["ALL"] and breather["read_only"] is True
    for service in services.values():
        assert service["restart"] == "unless-stopped"


def test_every_variable_compose_needs_is_in_the_example_and_secrets_stay_out_of_git() -> None:
    needed = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE.read_text()))
    offered = set(re.findall(r"^#?([A-Z_]+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    assert needed and needed <= offered
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert ".env" in ignored and "/breather.yml" in ignored


def test_the_example_environment_copied_as_is_is_refused_naming_what_to_fill_in(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(ENV_EXAMPLE.read_text())  # the current directory (autouse fixture)
    runner = CliRunner()
    result = runner.invoke(cli, ["check-config"], env={"BREATHER_CONFIG": str(REPO / "breather.example.yml")})
    assert result.exit_code == 1 and "BREATHER_PSEUDONYM_KEY: required" in result.output
    text = (
        (tmp_path / ".env")
        .read_text()
        .replace("BREATHER_PSEUDONYM_KEY=\n", f"BREATHER_PSEUDONYM_KEY={'k' * 40}\n")
    )
    (tmp_path / ".env").write_text(text)
    result = runner.invoke(cli, ["check-config"], env={"BREATHER_CONFIG": str(REPO / "breather.example.yml")})
    assert result.exit_code == 1 and "SLACK_BOT_TOKEN: required" in result.output  # blank counts as unset
    filled = text.replace("SLACK_BOT_TOKEN=\n", "SLACK_BOT_TOKEN=xoxb-1\n").replace(
        "SLACK_SIGNING_SECRET=\n", "SLACK_SIGNING_SECRET=s3cret\n"
    )
    (tmp_path / ".env").write_text(filled)
    result = runner.invoke(cli, ["check-config"], env={"BREATHER_CONFIG": str(REPO / "breather.example.yml")})
    assert result.exit_code == 0 and "messenger slack" in result.output, result.output
