"""agent_prefs.paused_until: a pause (or time off) that ends by itself (issue 16)

Revision ID: 0050
Revises: 0020
Create Date: 2026-12-05 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0050"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_prefs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paused_until", storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_prefs", schema=None) as batch_op:
        batch_op.drop_column("paused_until")
