"""agent_prefs: each person's own language and the one their chat platform reports

Revision ID: 0070
Revises: 0052
Create Date: 2026-12-05 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0070"
down_revision: str | None = "0052"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_prefs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("platform_language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent_prefs", schema=None) as batch_op:
        batch_op.drop_column("platform_language")
        batch_op.drop_column("language")
