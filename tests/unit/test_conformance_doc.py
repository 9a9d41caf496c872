"""docs/providers/conformance.md names the tests that cover each row: every one must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "providers" / "conformance.md"
# `handlers/test_x.py::test_y`; a bare `::test_z` is in the last file named before it in its row,
# or else in the section's adapter tests (the first `handlers/` file the section names).
REFERENCE = re.compile(r"`(?:(?P<file>[\w/]+\.py))?::(?P<test>test_\w+)`")
HANDLER_FILE = re.compile(r"`(handlers/test_\w+\.py)::")


def functions_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_every_test_the_conformance_table_names_exists() -> None:
    named = 0
    for section in DOC.read_text().split("\n## ")[1:]:
        default = HANDLER_FILE.search(section)
        for line in section.splitlines():
            current = default[1] if default else None
            for match in REFERENCE.finditer(line):
                current = match["file"] or current
                assert current is not None, f"{match[0]} names no file in: {line[:80]}"
                path = REPO / "tests" / current
                assert path.exists(), f"{current} does not exist"
                assert match["test"] in functions_in(path), f"{current}::{match['test']} does not exist"
                named += 1
    assert named >= 60  # the table is not empty
