"""The domain imports no transport: only the composition root may reach handlers and frameworks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TRANSPORT = ("slack_bolt", "slack_sdk", "httpx", "starlette", "uvicorn", "fastapi", "handlers")
# bot/server.py is part of the root: uvicorn's options and protocol for serve, the demo and tests.
COMPOSITION_ROOT = {"bot/app.py", "bot/cli.py", "bot/server.py"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules("bot"), ids=lambda p: str(p.relative_to(REPO)))
def test_the_domain_imports_no_transport(path: Path) -> None:
    if str(path.relative_to(REPO)) in COMPOSITION_ROOT:
        return
    bad = {name for name in imported_modules(path) if name.split(".")[0] in TRANSPORT}
    assert not bad, f"{path.relative_to(REPO)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", modules("storage"), ids=lambda p: str(p.relative_to(REPO)))
def test_storage_imports_neither_domain_nor_transport(path: Path) -> None:
    bad = {name for name in imported_modules(path) if name.split(".")[0] in (*TRANSPORT, "bot")}
    assert not bad, f"{path.relative_to(REPO)} imports {sorted(bad)}"
