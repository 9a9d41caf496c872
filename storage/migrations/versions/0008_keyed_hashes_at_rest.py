"""keyed hashes at rest: digest release fingerprints name their key; identifiers stored in the
clear before this revision (event, call and outbox keys, compliment sources, kudos authors,
lead addresses, release fingerprints) are converted to keyed hashes or cleared

The conversion needs the pseudonym key, which the database must never hold: `breather db
upgrade` and `breather serve` hand it over as `convert_legacy` (bot/keys.py). A database with
rows to convert refuses to be upgraded without it (e.g. by a bare `alembic upgrade`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import context, op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HOLDING = ("inbound_events", "calls", "outbox", "compliments", "kudos", "digest_releases")


def _anything_to_convert(bind: sa.Connection) -> bool:
    for table in _HOLDING:
        if bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None:
            return True
    person = sa.text("SELECT 1 FROM chat_addresses WHERE agent_id LIKE 'person:%' LIMIT 1")
    return bind.execute(person).first() is not None


def upgrade() -> None:
    with op.batch_alter_table("digest_releases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kid", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="")
        )
    bind = op.get_bind()
    convert = context.config.attributes.get("convert_legacy")
    if convert is not None:
        convert(bind)
    elif _anything_to_convert(bind):
        raise RuntimeError(
            "migration 0008 converts stored identifiers to keyed hashes and needs "
            "BREATHER_PSEUDONYM_KEY: run `breather db upgrade` instead of alembic"
        )


def downgrade() -> None:
    with op.batch_alter_table("digest_releases", schema=None) as batch_op:
        batch_op.drop_column("kid")
