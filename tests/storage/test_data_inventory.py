"""The data inventory classifies every column of the migrated schema, and its document is the
generator's output."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect

from bot.data_inventory import INVENTORY, render

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "privacy" / "data-inventory.md"


def test_every_column_of_the_migrated_schema_has_a_class_and_nothing_else_is_listed(engine: Engine) -> None:
    schema = inspect(engine)
    stored = {
        (table, column["name"]) for table in schema.get_table_names() for column in schema.get_columns(table)
    }
    listed = {(table, column) for table, spec in INVENTORY.items() for column in spec.columns}
    assert sorted(stored - listed) == [], "columns without a class in bot/data_inventory.py"
    assert sorted(listed - stored) == [], "bot/data_inventory.py lists columns the schema does not have"


def test_the_committed_inventory_is_the_generators_output() -> None:
    assert DOCUMENT.read_text() == render(), "run `make inventory` and commit docs/privacy/data-inventory.md"
