"""The layers, as rules: the composition root alone reaches transports; the domain never reaches it.

- The root is the process's entry points: `bot/app.py` (builds the web app around the domain)
  and `bot/cli.py`. They, and nothing else in `bot/`, import transports and web frameworks.
- The wiring (`bot/container.py`, `bot/jobs.py`, `bot/runtime.py`) builds and runs the domain:
  no transports either, and no feature module imports it back (no call-backs into the container).
- `handlers/` (the transports) never import the root: what they need is passed in.
- `storage/` imports neither the domain nor a transport.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TRANSPORT = ("slack_bolt", "slack_sdk", "httpx", "starlette", "uvicorn", "fastapi", "handlers")
ROOT = ("bot.app", "bot.cli")
WIRING = ("bot.container", "bot.jobs", "bot.runtime")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function (lazy imports count too)."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            # `from bot import app` names the module bot.app
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")


def modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def reaches(names: set[str], targets: tuple[str, ...]) -> set[str]:
    return {name for name in names if any(name == t or name.startswith(f"{t}.") for t in targets)}


def ids(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.mark.parametrize("path", modules("bot"), ids=ids)
def test_only_the_root_imports_transports(path: Path) -> None:
    if module_name(path) in ROOT:
        return
    bad = reaches(imported_modules(path), TRANSPORT)
    assert not bad, f"{ids(path)} imports {sorted(bad)}: only {', '.join(ROOT)} may"


@pytest.mark.parametrize("path", modules("bot"), ids=ids)
def test_the_domain_does_not_reach_back_into_the_wiring(path: Path) -> None:
    if module_name(path) in (*ROOT, *WIRING):
        return
    bad = reaches(imported_modules(path), (*ROOT, *WIRING))
    assert not bad, f"{ids(path)} imports {sorted(bad)}: the wiring depends on features, not back"


@pytest.mark.parametrize("path", modules("handlers"), ids=ids)
def test_transports_do_not_import_the_root(path: Path) -> None:
    bad = reaches(imported_modules(path), ROOT)
    assert not bad, f"{ids(path)} imports {sorted(bad)}: the root passes what a transport needs"


@pytest.mark.parametrize("path", modules("storage"), ids=ids)
def test_storage_imports_neither_domain_nor_transport(path: Path) -> None:
    bad = reaches(imported_modules(path), (*TRANSPORT, "bot"))
    assert not bad, f"{ids(path)} imports {sorted(bad)}"


def test_the_rules_see_a_violation(tmp_path: Path) -> None:
    """The import reader finds both spellings of an import, so a rule cannot pass by accident."""
    sample = tmp_path / "sample.py"
    sample.write_text("from bot import app\n\ndef later() -> None:\n    import starlette.routing\n")
    names = imported_modules(sample)
    assert reaches(names, ROOT) == {"bot.app"}
    assert reaches(names, TRANSPORT) == {"starlette.routing"}
