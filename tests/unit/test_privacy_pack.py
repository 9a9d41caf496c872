"""The pack for a works council and a DPO (docs/privacy/) states facts taken from the code:
these tests fail when the code changes and the pack does not."""

from __future__ import annotations

import re
from pathlib import Path

import annotated_types
import pytest

from bot.cli import app as cli
from bot.config import ProductSettings
from bot.data_inventory import INVENTORY, with_dpia_summary
from bot.i18n import catalogue
from bot.retention import ACCESS_LOG_KEEP, DEDUPE_WINDOW, OUTBOX_KEEP

DOCS = Path(__file__).resolve().parents[2] / "docs" / "privacy"
DEFAULTS = ProductSettings()


def floor(field: str) -> int:
    (bound,) = [
        m.ge for m in ProductSettings.model_fields[field].metadata if isinstance(m, annotated_types.Ge)
    ]
    return int(str(bound))


@pytest.mark.parametrize("language", ["en", "ro", "fa"])
def test_the_agents_notice_is_what_breather_privacy_says(language: str) -> None:
    page = (DOCS / "agents-notice.md").read_text()
    block = re.search(
        rf"<!-- notice:{language}:start -->\n```text\n(.*?)\n```\n<!-- notice:{language}:end -->", page, re.S
    )
    assert block is not None
    said = catalogue(language).t(
        "command.privacy",
        min_group=DEFAULTS.anonymity_min_group,
        count=DEFAULTS.retention_days,
        retention_days=DEFAULTS.retention_days,
    )
    assert block[1] == said


def test_the_dpia_lists_every_table_as_the_inventory_does() -> None:
    dpia = (DOCS / "dpia.md").read_text()
    assert dpia == with_dpia_summary(dpia), "run `make inventory`"
    for table in INVENTORY:
        assert f"| `{table}` |" in dpia


def test_the_figures_in_the_dpia_and_the_works_agreement_are_the_codes() -> None:
    dpia = (DOCS / "dpia.md").read_text()
    k = DEFAULTS.anonymity_min_group
    assert f"| `anonymity_min_group` (k) | {k} (never below {floor('anonymity_min_group')}) |" in dpia
    assert f"| `anonymity_min_comments` | {DEFAULTS.anonymity_min_comments} (never below k) |" in dpia
    assert re.search(rf"\| `retention_days` \([^)]*\) \| {DEFAULTS.retention_days} \|", dpia)
    assert f"| digest access log | {ACCESS_LOG_KEEP.days} days |" in dpia
    assert f"| delivered outgoing messages (no recipient, no words) | {OUTBOX_KEEP.days} days |" in dpia
    assert f"| {int(DEDUPE_WINDOW.total_seconds() // 3600)} hours |" in dpia
    agreement = (DOCS / "works-agreement.md").read_text()
    assert f"`anonymity_min_group` = {k} people" in agreement
    assert f"never below {floor('anonymity_min_group')}" in agreement
    assert f"kept {ACCESS_LOG_KEEP.days} days" in agreement
    assert f"`retention_days` = {DEFAULTS.retention_days} days" in agreement
    edge, top = round(100 / k), round(100 - 100 / k)
    assert f"at most {edge} %" in agreement and f"{top} %" in agreement


def test_the_audit_command_the_pack_promises_exists() -> None:
    names = {
        command.name or (command.callback.__name__ if command.callback else "")
        for command in cli.registered_commands
    }
    assert "audit" in names
    for page in ("dpia.md", "works-agreement.md"):
        assert "breather audit" in (DOCS / page).read_text()
