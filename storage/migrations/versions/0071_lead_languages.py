"""lead_prefs: the language a team lead who is not an agent chose, and their platform's

Revision ID: 0071
Revises: 0053
Create Date: 2026-12-05 11:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0071"
down_revision: str | None = "0053"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lead_prefs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("platform_language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead_prefs", schema=None) as batch_op:
        batch_op.drop_column("platform_language")
        batch_op.drop_column("language")
