"""Alembic environment: runs against the engine handed over by storage.db.upgrade()."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table on the metadata)
from storage.db import make_engine

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line: read the URL from alembic's own config
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///./breather.db")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
