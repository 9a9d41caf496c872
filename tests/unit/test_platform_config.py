"""`breather check-config` on the contact-centre platforms' settings: credentials set in part
are named and refused; agents on a platform whose webhook secret is unset are warned about;
a malformed base URL names its setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from tests.conftest import PSEUDONYM_KEY, ROSTER

BASE = {
    "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
    "BREATHER_CONFIG": str(ROSTER),
    "BREATHER_MESSENGER": "sandbox",
}


def check(**env: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check-config"], env={**BASE, **env})
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("env", "missing", "present"),
    [
        ({"GENESYS_CLIENT_ID": "client"}, "GENESYS_CLIENT_SECRET", "GENESYS_CLIENT_ID"),
        ({"GENESYS_CLIENT_SECRET": "s3cret-value"}, "GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET"),
        (
            {"CONNECT_ACCESS_KEY_ID": "AKID", "CONNECT_SECRET_ACCESS_KEY": "s3cret-value"},
            "CONNECT_INSTANCE_ID, CONNECT_REGION",
            "CONNECT_ACCESS_KEY_ID, CONNECT_SECRET_ACCESS_KEY",
        ),
        (
            {"ZOOM_ACCOUNT_ID": "acct", "ZOOM_CLIENT_ID": "cid", "ZOOM_CLIENT_SECRET": "s3cret-value"},
            "ZOOM_BREAK_STATUS_ID",
            "ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET",
        ),
        (
            {"WEBEX_REFRESH_TOKEN": "s3cret-value"},
            "WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET, WEBEX_BREAK_AUX_CODE_ID",
            "WEBEX_REFRESH_TOKEN",
        ),
    ],
)
def test_credentials_set_in_part_are_refused_naming_what_is_missing(
    env: dict[str, str], missing: str, present: str
) -> None:
    code, output = check(**env)

    assert code == 1
    assert output.startswith(f"error: settings: {missing}: required with {present}")
    assert "s3cret-value" not in output and len(output.strip().splitlines()) == 1


def test_agents_on_a_platform_without_its_webhook_secret_are_a_warning_not_an_error() -> None:
    code, output = check()
    assert code == 0
    assert "warning: settings: GENESYS_EVENTBRIDGE_SECRET: not set" in output
    assert "1 agent(s) have genesys_user_id" in output

    code, output = check(GENESYS_EVENTBRIDGE_SECRET="eventbridge-secret")
    assert code == 0 and "GENESYS_EVENTBRIDGE_SECRET" not in output


@pytest.mark.parametrize(
    "name",
    [
        "GENESYS_API_URL",
        "GENESYS_LOGIN_URL",
        "CONNECT_API_URL",
        "ZOOM_API_URL",
        "ZOOM_OAUTH_URL",
        "WEBEX_API_URL",
    ],
)
def test_a_malformed_platform_url_names_its_setting(name: str, tmp_path: Path) -> None:
    code, output = check(**{name: "api.mypurecloud.com"})

    assert code == 1 and name.lower() in output.lower() and "http(s) URL" in output


def test_a_malformed_aws_region_names_the_setting() -> None:
    code, output = check(CONNECT_REGION="Frankfurt")

    assert code == 1 and "connect_region" in output.lower() and "eu-west-2" in output
