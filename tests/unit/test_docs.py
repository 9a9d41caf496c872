"""The docs an operator reads: every setting documented once with the code's default, links that work.

The configuration reference (docs/configuration.md) is hand-written prose; these tests keep it
honest against `bot/config.py`, so a new setting or a changed default cannot slip past it.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bot.config import (
    AgentConfig,
    BreatherConfig,
    ProductSettings,
    PulseConfig,
    Settings,
    Shift,
    SimulateSettings,
    SupportResource,
    TeamConfig,
    TeamsPackageSettings,
)

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "docs" / "configuration.md"

# The line before each breather.yml table, and the model it documents.
YAML_TABLES: dict[str, type[BaseModel]] = {
    "Top level:": BreatherConfig,
    "Each team:": TeamConfig,
    "Each `pulse` block:": PulseConfig,
    "Each `shift`:": Shift,
    "Each agent:": AgentConfig,
    "`settings` (all optional):": ProductSettings,
    "Each entry of `support_resources`:": SupportResource,
}

# Defaults worked out at run time (None in the code): the reference says how, not a value.
COMPUTED = {
    "BREATHER_MESSENGER": "slack",
    "BREATHER_SEND_PACE_SECONDS": "platform",
    "AgentConfig.name": "e-mail",
    "AgentConfig.slack_user_id": "e-mail",
    "AgentConfig.teams_user_id": "e-mail",
    "AgentConfig.shift": "team",
    "AgentConfig.timezone": "team",
}


def table_after(lines: list[str], caption: str) -> list[list[str]]:
    """The body rows of the first table after the line `caption`, as lists of cells."""
    start = lines.index(caption)
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    assert len(rows) > 2, f"no table after {caption!r}"
    return rows[2:]  # header and separator


def env_table() -> dict[str, list[str]]:
    lines = REFERENCE.read_text().splitlines()
    start = lines.index("| variable | meaning | default |")
    names: dict[str, list[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]):
            names.setdefault(name, []).append(cells[-1])
    return names


def shown(value: Any) -> str:
    """A default as the reference writes it."""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Path):
        return f"`./{value}`"
    if isinstance(value, time):
        return f'`"{value:%H:%M}"`'
    if isinstance(value, list):
        return "`[" + ", ".join(str(item) for item in value) + "]`"
    return f"`{value}`"


def default_of(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return field.default


def check_default(key: str, field: FieldInfo, documented: str) -> None:
    default = default_of(field)
    if default is PydanticUndefined:
        assert documented == "required", f"{key}: required in the code, documented as {documented!r}"
    elif key in COMPUTED:
        assert COMPUTED[key] in documented, f"{key}: the reference should say how its default is found"
    elif default is None:
        assert documented.startswith(("none", "unset")), f"{key}: no default in the code, {documented!r}"
    elif isinstance(default, BaseModel):
        assert documented, f"{key}: its default is not described"
    else:
        assert shown(default) == documented, f"{key}: the code's default is {shown(default)}"


def env_name(field: FieldInfo) -> str:
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    assert choices, "every setting has its environment name as an alias"
    return str(choices[0])


def test_every_environment_setting_appears_once_with_the_code_default() -> None:
    documented = env_table()
    in_code: dict[str, FieldInfo] = {}
    for model in (Settings, SimulateSettings, TeamsPackageSettings):
        for field in model.model_fields.values():
            in_code.setdefault(env_name(field), field)
    assert sorted(documented) == sorted(in_code), "the reference and bot/config.py list different variables"
    for name, field in in_code.items():
        assert len(documented[name]) == 1, f"{name} is documented {len(documented[name])} times"
        check_default(name, field, documented[name][0])


@pytest.mark.parametrize("caption", list(YAML_TABLES))
def test_every_breather_yml_key_appears_once_with_the_code_default(caption: str) -> None:
    model = YAML_TABLES[caption]
    rows = table_after(REFERENCE.read_text().splitlines(), caption)
    keys = [row[0].strip("`") for row in rows]
    assert sorted(keys) == sorted(model.model_fields), f"{caption} lists other keys than {model.__name__}"
    assert len(keys) == len(set(keys)), f"{caption} lists a key twice"
    for row in rows:
        key = row[0].strip("`")
        check_default(f"{model.__name__}.{key}", model.model_fields[key], row[1])


def test_the_example_teams_file_gives_every_setting_once_at_its_default() -> None:
    text = (REPO / "breather.example.yml").read_text()
    settings_keys = re.findall(r"(?m)^  ([a-z_]+):", text.split("\nsettings:\n", 1)[1])
    assert sorted(settings_keys) == sorted(ProductSettings.model_fields), "settings missing or repeated"
    example = yaml.safe_load(text)["settings"]
    defaults = ProductSettings().model_dump()
    assert example == defaults


def test_the_readme_fits_on_a_few_screens_and_every_doc_page_is_one_click_away() -> None:
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    pages = ["configuration", "slack", "teams", "operations", "privacy", "commands", "demo", "features"]
    for page in pages:
        assert f"(docs/{page}.md)" in readme, f"the README does not link docs/{page}.md"
    for provider in ("twilio", "aircall", "dialpad", "zendesk", "webhook"):
        assert f"(docs/phone-systems/{provider}.md)" in readme


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    fenced = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"#+ (.*)", line)):
            found.add(anchor(match.group(1)))
    return found


MARKDOWN = sorted([REPO / "README.md", *(REPO / "docs").rglob("*.md")])


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda path: str(path.relative_to(REPO)))
def test_links_between_the_docs_lead_somewhere(page: Path) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # an outside address
        path_part, _, fragment = target.partition("#")
        path = (page.parent / path_part).resolve() if path_part else page
        if not path.exists() or fragment and path.suffix == ".md" and fragment not in anchors(path):
            broken.append(target)
    assert not broken, f"{page.name}: links that lead nowhere: {broken}"
